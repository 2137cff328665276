"""Scenario file (TOML) -> validated, immutable Scenario.

Every refusal is a ScenarioError naming the file, the key path and what is
wrong, so an operator can fix the file without reading this module. Unknown
keys are refused: a misspelt key silently ignored would run a different
scenario than the one the author wrote.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from openheg import regmap
from openheg.errors import OpenhegError
from openheg.wire import LINK_MAX_BURST_WIRE_BYTES, LINK_MAX_MB_PER_S

from .telemetry import DECLARED_KINDS, DISGUISES, PADDING_LANE

# The meter's precision lanes (regmap.LANES), as a scenario spells them.
PRECISIONS = tuple(lane.lower() for lane in regmap.LANES)
KINDS = ("pre-training", "fine-tuning", "inference")
# What each event's ``value`` means; None: the event takes no value.
EVENT_VALUES = {
    "board-vote": "the new frontier threshold F in sFLOP from that day",
    "horizon-approve": None,
    "inspector-pause": None,
    "due-process-resume": None,
    "site-halt": None,
    "revoke": None,
    "device-silent": "how many days the chips send no attestation (default: to the end)",
    "withhold-beacons": "how many days no time beacon reaches the chips (default: to the end)",
    "replay-license": None,
}
EVENT_KINDS = tuple(EVENT_VALUES)
# Events about a workload's chips, and those about a site's; board-vote is about the policy.
WORKLOAD_EVENTS = ("horizon-approve", "inspector-pause", "due-process-resume", "revoke",
                   "replay-license")
SITE_EVENTS = ("site-halt",)
DEFAULT_START_DATE = "2027-01-01"
# The simulated meter's op bus carries a millisecond of one lane's ops per cycle
# in 48 bits (openheg_sim.scenario.fleet): about 2.8e17 ops/s; 1e17 is the round
# figure below it, a hundred times today's fastest accelerators.
MAX_PEAK_OPS = 1e17


class ScenarioError(OpenhegError, ValueError):
    """A scenario file that cannot be run; str() is one actionable line."""

    def __init__(self, source: str, where: str, what: str) -> None:
        super().__init__(f"{source}: {where}: {what}")
        self.source, self.where, self.what = source, where, what


@dataclass(frozen=True)
class Site:
    name: str
    chips: int
    peak_ops: dict  # precision -> ops/s per chip


@dataclass(frozen=True)
class Workload:
    name: str
    owner: str
    lineage: str
    site: str
    kind: str
    planned_sflop: float
    precision_mix: dict  # precision -> fraction, sums to 1
    start_day: int
    disguise: str = "none"  # telemetry.DISGUISES: what the operator really runs


@dataclass(frozen=True)
class Policy:
    """The thresholds as the signed policy states them (wire.Policy): a base on
    day 0 of the run and a fixed increase per day, F(t) = F + t * dF."""

    f_sflop: float              # frontier threshold F on day 0
    h_sflop: float              # horizon threshold H on day 0
    f_daily_increase_sflop: float
    h_daily_increase_sflop: float
    link_mb_per_s: int | None = None     # the interconnect cap; None: the policy's default
    link_burst_bytes: int | None = None
    # The cap for chips licensed for inference (and chips with no license);
    # None: the policy's default, which sets none beyond the general cap.
    inference_link_mb_per_s: int | None = None
    inference_link_burst_bytes: int | None = None


@dataclass(frozen=True)
class Event:
    day: int
    kind: str
    target: str
    value: float | None


@dataclass(frozen=True)
class Scenario:
    name: str
    days: int
    seed: int
    start_date: dt.date
    attest_every_days: int
    sites: tuple
    workloads: tuple
    policy: Policy
    events: tuple


class _Reader:
    def __init__(self, source: str, table: dict, where: str) -> None:
        self.source, self.table, self.where, self.seen = source, table, where, set()

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, what: str) -> ScenarioError:
        return ScenarioError(self.source, self._path(key), what)

    def get(self, key, types, default=..., check=None, hint=""):
        self.seen.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "missing; it is required")
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, types):
            names = "/".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            raise self.fail(key, f"expected {names}, got {type(value).__name__} {value!r}")
        if check is not None and not check(value):
            raise self.fail(key, f"{value!r} is out of range: {hint}")
        return value

    def done(self) -> None:
        extra = sorted(set(self.table) - self.seen)
        if extra:
            raise self.fail(extra[0], "unknown key; remove it or fix its spelling")


def _link_rate(p: "_Reader", key: str) -> int | None:
    return p.get(key, int, default=None, check=lambda v: 0 <= v <= LINK_MAX_MB_PER_S,
                 hint=f"wire MB/s, 0 to {LINK_MAX_MB_PER_S:,}")


def _link_burst(p: "_Reader", key: str) -> int | None:
    return p.get(key, int, default=None, check=lambda v: 0 <= v <= LINK_MAX_BURST_WIRE_BYTES,
                 hint=f"wire bytes, 0 to {LINK_MAX_BURST_WIRE_BYTES:,}")


def _positive(v) -> bool:
    return math.isfinite(v) and v > 0


def _not_negative(v) -> bool:
    return math.isfinite(v) and v >= 0


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _precisions(r: _Reader, key: str, fractions: bool) -> dict:
    table = r.get(key, dict)
    sub = _Reader(r.source, table, r._path(key))
    out = {}
    for p in table:
        if p not in PRECISIONS:
            raise sub.fail(p, f"unknown precision; use one of {', '.join(PRECISIONS)}")
        check = (lambda v: 0 <= v <= 1) if fractions else \
            (lambda v: _positive(v) and v <= MAX_PEAK_OPS)
        out[p] = float(sub.get(p, (int, float), check=check,
                               hint="a fraction in [0, 1]" if fractions else
                               f"ops/s above 0 and at most {MAX_PEAK_OPS:.0e}"))
    if not out:
        raise r.fail(key, "empty; give at least one precision")
    if fractions and abs(sum(out.values()) - 1.0) > 1e-9:
        raise r.fail(key, f"fractions sum to {sum(out.values())!r}; they must sum to 1")
    return out


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "syntax", str(exc)) from None
    top = _Reader(source, data, "")
    name = top.get("name", str)
    days = top.get("days", int, check=lambda v: 1 <= v <= 3650, hint="1 to 3650 days")
    seed = top.get("seed", int, default=0, check=lambda v: 0 <= v < 2**63, hint="0 to 2**63-1")
    start_text = top.get("start_date", str, default=DEFAULT_START_DATE, check=_iso_date,
                         hint="a date written YYYY-MM-DD")
    attest_every = top.get("attest_every_days", int, default=1, check=lambda v: 1 <= v <= days,
                           hint=f"1 to {days} days")

    sites = []
    for i, t in enumerate(top.get("site", list)):
        r = _Reader(source, t, f"site[{i}]")
        sites.append(Site(r.get("name", str),
                          r.get("chips", int, check=lambda v: 1 <= v <= 1_000_000, hint="1 to 1,000,000"),
                          _precisions(r, "peak_ops", fractions=False)))
        r.done()
    site_names = [s.name for s in sites]
    if len(set(site_names)) != len(site_names):
        raise top.fail("site", "two sites share a name; names must be unique")

    p = _Reader(source, top.get("policy", dict), "policy")
    f_sflop = float(p.get("f_sflop", (int, float), check=_positive, hint="above 0"))
    h_sflop = float(p.get("h_sflop", (int, float), check=_positive, hint="above 0"))
    # The signed policy's default schedule: each threshold rises by 0.01 % of its base a day.
    policy = Policy(f_sflop, h_sflop,
                    float(p.get("f_daily_increase_sflop", (int, float), default=f_sflop / 10_000,
                                check=_not_negative, hint="sFLOP per day, 0 or more")),
                    float(p.get("h_daily_increase_sflop", (int, float), default=h_sflop / 10_000,
                                check=_not_negative, hint="sFLOP per day, 0 or more")),
                    _link_rate(p, "link_mb_per_s"), _link_burst(p, "link_burst_bytes"),
                    _link_rate(p, "inference_link_mb_per_s"),
                    _link_burst(p, "inference_link_burst_bytes"))
    if policy.h_sflop <= policy.f_sflop:
        raise p.fail("h_sflop", "must be above f_sflop (the Horizon threshold lies beyond the frontier)")
    p.done()

    workloads = []
    for i, t in enumerate(top.get("workload", list)):
        r = _Reader(source, t, f"workload[{i}]")
        w = Workload(r.get("name", str), r.get("owner", str), r.get("lineage", str),
                     r.get("site", str, check=lambda v: v in site_names,
                           hint=f"not a site; sites are {', '.join(site_names)}"),
                     r.get("kind", str, check=lambda v: v in KINDS, hint=f"use one of {', '.join(KINDS)}"),
                     float(r.get("planned_sflop", (int, float), check=_positive, hint="above 0")),
                     _precisions(r, "precision_mix", fractions=True),
                     r.get("start_day", int, default=0, check=lambda v: 0 <= v < days,
                           hint=f"a day in [0, {days})"),
                     r.get("disguise", str, default="none", check=lambda v: v in DISGUISES,
                           hint=f"use one of {', '.join(DISGUISES)}"))
        site = sites[site_names.index(w.site)]
        lacking = sorted(set(w.precision_mix) - set(site.peak_ops))
        if lacking:
            raise r.fail("precision_mix", f"site {w.site!r} gives no peak_ops for {lacking[0]}")
        if w.disguise != "none" and w.kind not in DECLARED_KINDS[w.disguise]:
            raise r.fail("disguise", f"{w.disguise} is a disguise for a license declaring "
                         f"{' or '.join(DECLARED_KINDS[w.disguise])}, not {w.kind}")
        if w.disguise == "padded-inference" and PADDING_LANE.lower() not in site.peak_ops:
            raise r.fail("disguise", f"padded-inference pads in {PADDING_LANE.lower()}; site "
                         f"{w.site!r} gives no peak_ops for it")
        r.done()
        workloads.append(w)
    workload_names = [w.name for w in workloads]
    if len(set(workload_names)) != len(workload_names):
        raise top.fail("workload", "two workloads share a name; names must be unique")
    for site in sites:
        running = sum(w.site == site.name for w in workloads)
        if running > site.chips:
            raise top.fail("workload", f"site {site.name!r} has {site.chips} chips for "
                           f"{running} workloads; each workload needs at least one chip")

    events = []
    for i, t in enumerate(top.get("event", list, default=[])):
        r = _Reader(source, t, f"event[{i}]")
        kind = r.get("kind", str, check=lambda v: v in EVENT_KINDS, hint=f"use one of {', '.join(EVENT_KINDS)}")
        day = r.get("day", int, check=lambda v: 0 <= v < days, hint=f"a day in [0, {days})")
        if kind == "board-vote":
            targets, what = ("policy",), "'policy'"
        elif kind in WORKLOAD_EVENTS:
            targets, what = tuple(workload_names), "a workload"
        elif kind in SITE_EVENTS:
            targets, what = tuple(site_names), "a site"
        else:
            targets, what = tuple(workload_names) + tuple(site_names), "a workload or a site"
        target = r.get("target", str, check=lambda v: v in targets,
                       hint=f"a {kind} event names {what}: one of {', '.join(targets)}")
        if kind in WORKLOAD_EVENTS:
            start = workloads[workload_names.index(target)].start_day
            if day < start:
                raise r.fail("day", f"{day} is before workload {target!r} starts (day {start}): "
                             "it has no license to act on yet")
        meaning = EVENT_VALUES[kind]
        if meaning is None:
            value = r.get("value", (int, float), default=None, check=lambda v: False,
                          hint=f"a {kind} event takes no value")
        elif kind == "board-vote":
            value = r.get("value", (int, float), check=_positive, hint=meaning)
        else:
            value = r.get("value", int, default=None, check=lambda v: v >= 1, hint=meaning)
        r.done()
        events.append(Event(day, kind, target, None if value is None else float(value)))
    events.sort(key=lambda e: e.day)  # stable: same-day events keep file order
    top.done()
    return Scenario(name, days, seed, dt.date.fromisoformat(start_text), attest_every,
                    tuple(sites), tuple(workloads), policy, tuple(events))


def load_scenario(path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), "file", f"cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "file", "is not UTF-8 text (TOML is UTF-8)") from None
    return parse_scenario(text, str(path))
