"""Authoring and inspecting policies, and the Frontier and Horizon schedule.

A policy is the authority's rules (openheg.wire.Policy). This module makes
unsigned drafts (the genesis draft, or the next version of a policy in force
with some fields changed), reads dates as unix days, and answers "what are F
and H on this date". Signing a draft is a board vote (openheg.board).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, fields, replace
from typing import Any

from . import regmap, wire
from .errors import OpenhegError
from .wire import ALL_BASELINES, Policy

SECONDS_PER_DAY = 86_400
# Default sFLOP weights, milli-sFLOP per op, in regmap.LANES order (DESIGN.md).
DEFAULT_WEIGHTS = {"NF4": 700, "FP8": 1000, "FP16": 1200, "BF16": 1200, "FP32": 1300,
                   "FP64": 1330}
# Illustrative defaults in sFLOP: 1e26 and 1e28, rising by 0.01 % a day.
DEFAULT_FRONTIER_MSFLOP = 10**26 * 1000
DEFAULT_HORIZON_MSFLOP = 10**28 * 1000


class PolicyError(OpenhegError):
    """A policy draft or a policy field that cannot be used as asked."""


def unix_day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def parse_date(text: str) -> int:
    """'2027-03-01' or 'today' -> unix day."""
    if text == "today":
        return int(time.time()) // SECONDS_PER_DAY
    try:
        return unix_day(dt.date.fromisoformat(text))
    except ValueError:
        raise PolicyError(f"{text!r} is not a date: write YYYY-MM-DD or 'today'") from None


def day_to_iso(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def default_weights() -> tuple[int, ...]:
    return tuple(DEFAULT_WEIGHTS.get(lane, 1000) for lane in regmap.LANES)


@dataclass(frozen=True)
class Thresholds:
    day: int
    frontier_msflop: int
    horizon_msflop: int

    def to_json(self) -> dict[str, Any]:
        return {"date": day_to_iso(self.day), "unix_day": self.day,
                "frontier_msflop": self.frontier_msflop, "horizon_msflop": self.horizon_msflop}


def thresholds_on(policy: Policy, day: int) -> Thresholds:
    return Thresholds(day, policy.frontier_msflop(day), policy.horizon_msflop(day))


def genesis_draft(*, board_keys: list[bytes], board_threshold: int,
                  horizon_board_threshold: int | None = None, issuer_key: bytes,
                  time_authority_key: bytes, inspector_keys: list[bytes] = (),
                  party_keys: list[bytes] = (), now: int | None = None, **overrides: Any
                  ) -> Policy:
    """An unsigned version-1 policy with the reference defaults."""
    issued_at = int(time.time()) if now is None else now
    values: dict[str, Any] = dict(
        policy_version=1, issued_at=issued_at, board_threshold=board_threshold,
        horizon_board_threshold=(horizon_board_threshold if horizon_board_threshold is not None
                                 else len(board_keys)),
        issuer_key=issuer_key, time_authority_key=time_authority_key,
        weights_milli=default_weights(),
        frontier_base_msflop=DEFAULT_FRONTIER_MSFLOP,
        frontier_daily_increase_msflop=DEFAULT_FRONTIER_MSFLOP // 10_000,
        horizon_base_msflop=DEFAULT_HORIZON_MSFLOP,
        horizon_daily_increase_msflop=DEFAULT_HORIZON_MSFLOP // 10_000,
        schedule_epoch_day=issued_at // SECONDS_PER_DAY, oversight_min_ppm=10_000,
        allowance_chunk_msflop=10**9, watchdog_period_cycles=1 << 16, beacon_max_age_s=3600,
        clock_drift_ppm=500, lockout_threshold=8, lockout_duration_s=600,
        baselines=int(ALL_BASELINES), board_keys=tuple(sorted(set(board_keys))),
        inspector_keys=tuple(sorted(set(inspector_keys))),
        party_keys=tuple(sorted(set(party_keys))), revoked_keys=(), signatures=())
    # Growth follows the base unless given: 0.01 % of it a day.
    for name in ("frontier", "horizon"):
        if f"{name}_base_msflop" in overrides and f"{name}_daily_increase_msflop" not in overrides:
            values[f"{name}_daily_increase_msflop"] = overrides[f"{name}_base_msflop"] // 10_000
    values.update(overrides)
    return _checked(Policy(**values))


def next_draft(current: Policy, now: int | None = None, **changes: Any) -> Policy:
    """The unsigned version N+1 of ``current`` with ``changes`` applied."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise PolicyError(f"not a policy field that a vote can change: {', '.join(sorted(unknown))}")
    for name in ("board_keys", "inspector_keys", "party_keys", "revoked_keys"):
        if name in changes:
            changes[name] = tuple(sorted(set(changes[name])))
    draft = replace(current, policy_version=current.policy_version + 1,
                    issued_at=int(time.time()) if now is None else now, signatures=(), **changes)
    return _checked(draft)


EDITABLE_FIELDS = {f.name for f in fields(Policy)} - {"policy_version", "issued_at", "signatures"}
INTEGER_FIELDS = {f.name for f in fields(Policy)} - {
    "issuer_key", "time_authority_key", "weights_milli", "board_keys", "inspector_keys",
    "party_keys", "revoked_keys", "signatures"}


def parse_assignment(text: str) -> tuple[str, Any]:
    """'frontier_base_msflop=1e29' style edits for the CLI (integers and weights)."""
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep:
        raise PolicyError(f"{text!r}: write FIELD=VALUE")
    if name == "weights_milli":
        parts = value.split(",")
        if len(parts) != len(regmap.LANES):
            raise PolicyError(f"weights_milli takes {len(regmap.LANES)} comma-separated integers "
                              f"({', '.join(regmap.LANES)})")
        return name, tuple(_integer(p, name) for p in parts)
    if name not in INTEGER_FIELDS:
        raise PolicyError(f"{name!r} is not an integer policy field; keys are changed with "
                          "--board/--inspector/--party/--revoke/--issuer/--time-authority")
    return name, _integer(value, name)


# Every integer policy field fits 128 bits (39 digits): a larger exponent is refused
# before it is computed (1e999999 would build a million-digit number).
MAX_EXPONENT = 39


def _integer(text: str, name: str) -> int:
    text = text.strip().replace("_", "")
    try:
        if "e" in text.lower():
            mantissa, _, exponent = text.lower().partition("e")
            if int(exponent) > MAX_EXPONENT:
                raise PolicyError(f"{name}: {text!r} does not fit the field (at most "
                                  f"{MAX_EXPONENT} digits)")
        value = int(text) if not any(c in text for c in ".eE") else int(float(text))
        if "e" in text.lower() and "." not in mantissa:
            value = int(mantissa) * 10 ** int(exponent)  # exact, as 1e29 should be
    except (ValueError, OverflowError):  # "x", "nan"; "inf", 1e400 as a float
        raise PolicyError(f"{name}: {text!r} is not an integer") from None
    if value < 0:
        raise PolicyError(f"{name}: must not be negative")
    return value


def _checked(policy: Policy) -> Policy:
    try:
        policy.check()
    except wire.RecordError as error:
        raise PolicyError(str(error)) from None
    return policy


def describe(policy: Policy, day: int | None = None) -> dict[str, Any]:
    """A policy as JSON, with its thresholds on ``day`` (default today)."""
    data = wire.to_jsonable(policy)
    data["weights"] = dict(zip(regmap.LANES, policy.weights_milli))
    today = parse_date("today") if day is None else day
    data["thresholds"] = thresholds_on(policy, today).to_json()
    data["schedule_epoch_date"] = day_to_iso(policy.schedule_epoch_day)
    return data
