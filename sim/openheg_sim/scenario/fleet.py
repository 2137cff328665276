"""The authority's side of a scenario, prepared before any chip runs.

Made once, in the main process, and handed to every worker: the authority
(board, issuer, time authority, inspector, party representatives) and its
genesis policy carrying the scenario's thresholds; every policy a board vote
of the scenario will publish, signed by the board ahead of its day; the vendor;
and which chip runs which workload with which share of its planned compute.
Workers load the keys from the authority's directory, as each office would
hold its own key; nothing here depends on how the chips are split across
workers, so the merged result cannot either.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import Decimal
from dataclasses import dataclass
from pathlib import Path

from openheg import regmap
from openheg.authority import Authority, create_vendor
from openheg.board import Proposal, check_policy_update, combine, sign_proposal, veto_changes
from openheg.licensing import license_class_for, split_allocation
from openheg.policy import SECONDS_PER_DAY, next_draft, unix_day
from openheg.wire import LicenseClass, Policy

from .schema import Policy as ScenarioPolicy
from .schema import Scenario
from .telemetry import PADDING_LANE, TRUE_KIND

MSFLOP_PER_SFLOP = 1000
LEDGER_FILE = "ledger.sqlite"
# One meter cycle of the simulation stands for a millisecond of accelerator time:
# a day is 86.4 million cycles, inside one watchdog period (the policy's maximum,
# 2^30), so the firmware's metering loop needs to run only when an allowance
# chunk is spent. The op-event bus is widened to carry a millisecond's ops.
CYCLES_PER_SECOND = 1000
METER_COUNT_BITS = 48
WATCHDOG_PERIOD_CYCLES = 1 << 30
# Beacons arrive daily: trusted time must last a day (the policy's maximum).
BEACON_MAX_AGE_S = SECONDS_PER_DAY
# Within a simulated day: the beacon first, the attestation near its end (both
# while the beacon is fresh), the next day's beacon before any compute.
BEACON_AT_S = 60
ATTEST_AT_S = SECONDS_PER_DAY - 3600
BOARD_SIZE, BOARD_THRESHOLD, PARTIES = 3, 2, 2
INSPECTOR = "inspector-1"


def sflop_to_msflop(sflop: float) -> int:
    """Exact for what a scenario file writes: 1e26 means 10**26, not the binary
    float nearest to it (repr is the shortest decimal that reads back the same)."""
    return int(Decimal(repr(float(sflop))) * MSFLOP_PER_SFLOP)


@dataclass(frozen=True)
class ChipSpec:
    """One chip: where it sits, what it runs, and its license's share."""

    index: int
    name: str
    site: str
    workload: str
    allocation_msflop: int
    peak_ops: tuple  # ((LANE, ops/s), ...) for the lanes its workload uses (and pads in)
    mix: tuple       # ((LANE, fraction), ...)
    activity: str = ""      # the kind it really runs (its workload's, unless disguised)
    disguise: str = "none"


@dataclass(frozen=True)
class WorkloadSpec:
    name: str
    site: str
    kind: str
    owner: str
    lineage: str
    start_day: int
    planned_msflop: int
    lineage_msflop: int
    license_class: str  # LicenseClass name, from the graph size on its start day
    chips: tuple        # chip indices


@dataclass(frozen=True)
class Fleet:
    scenario: Scenario
    authority_dir: Path
    vendor_dir: Path
    start_unix: int            # midnight UTC of day 0
    policies: tuple            # wire bytes of every policy version, genesis first
    votes: tuple               # ((day, policy version), ...) in day order
    chips: tuple               # ChipSpec by index
    workloads: tuple           # WorkloadSpec in file order
    ledger_path: Path          # where every worker records its chips

    @property
    def days(self) -> int:
        return self.scenario.days

    def day_start(self, day: int) -> int:
        return self.start_unix + day * SECONDS_PER_DAY

    def unix_day(self, day: int) -> int:
        return self.start_unix // SECONDS_PER_DAY + day

    def policy_objects(self) -> list[Policy]:
        return [_parsed_policy(raw) for raw in self.policies]

    def policy_on(self, day: int) -> Policy:
        """The policy in force on ``day`` (a vote takes effect on its day)."""
        return _parsed_policy(self.policies[_version_on(self.votes, day) - 1])

    def workload(self, name: str) -> WorkloadSpec:
        return next(w for w in self.workloads if w.name == name)


def _allowance_chunk_msflop(scenario: Scenario) -> int:
    """The charge-ahead chunk: the most one chip can meter in a day, so that a
    day costs one flash write of allowance (a power cut forfeits at most a day)."""
    heaviest = max(regmap.DEFAULT_WEIGHTS_MILLI.values())
    per_chip = max(sum(site.peak_ops.values()) for site in scenario.sites)
    return max(1, math.ceil(per_chip * SECONDS_PER_DAY * heaviest))


def _link_cap(policy: ScenarioPolicy) -> dict:
    """The scenario's interconnect cap as the signed policy's fields (absent: its defaults)."""
    cap = {"link_wire_mb_per_s": policy.link_mb_per_s,
           "link_burst_wire_bytes": policy.link_burst_bytes,
           "inference_link_wire_mb_per_s": policy.inference_link_mb_per_s,
           "inference_link_burst_wire_bytes": policy.inference_link_burst_bytes}
    return {k: v for k, v in cap.items() if v is not None}


def _vote_policies(authority: Authority, scenario: Scenario, start_unix: int) -> list[tuple]:
    """Each board vote lowers (or raises) F from its day on; H keeps its schedule.

    The vote restarts the schedule on its day, so F(t) = value + dF * (t - day)
    and H(t) is what it would have been. A vote that moves the Horizon veto is
    also signed by the board's Horizon quorum and every party representative."""
    board = [authority.key(n) for n in authority.board_member_names()]
    parties = [authority.key(f"party-{i + 1}") for i in range(PARTIES)]
    votes = []
    current = authority.policy_in_force()
    for event in scenario.events:
        if event.kind != "board-vote":
            continue
        day_unix = start_unix // SECONDS_PER_DAY + event.day
        draft = next_draft(current, now=start_unix + event.day * SECONDS_PER_DAY,
                           frontier_base_msflop=sflop_to_msflop(event.value),
                           horizon_base_msflop=current.horizon_msflop(day_unix),
                           schedule_epoch_day=day_unix)
        signers = board[:current.board_threshold]
        if veto_changes(current, draft):
            signers = board[:current.horizon_board_threshold] + parties
        proposal = Proposal(draft, f"board vote on day {event.day}")
        signed = combine(proposal, [sign_proposal(proposal, k) for k in signers],
                         allowed=set(current.board_keys) | set(current.party_keys))
        check_policy_update(current, signed)
        authority.publish(signed)
        votes.append((event.day, signed.policy_version))
        current = signed
    return votes


def _lineage_msflop(scenario: Scenario, workload) -> int:
    """A workload whose lineage names another workload of the scenario carries
    that one's planned compute (and its history) in its graph size."""
    by_name = {w.name: w for w in scenario.workloads}
    total, seen, name = 0, {workload.name}, workload.lineage
    while name in by_name and name not in seen:
        seen.add(name)
        total += sflop_to_msflop(by_name[name].planned_sflop)
        name = by_name[name].lineage
    return total


def prepare_fleet(scenario: Scenario, out: Path) -> Fleet:
    """Create the authority and the vendor under ``out`` and plan every chip."""
    start_unix = int(dt.datetime.combine(scenario.start_date, dt.time(),
                                         tzinfo=dt.UTC).timestamp())
    p = scenario.policy
    authority = Authority.create(
        out / "authority", board_size=BOARD_SIZE, board_threshold=BOARD_THRESHOLD,
        inspectors=1, parties=PARTIES, now=start_unix,
        frontier_base_msflop=sflop_to_msflop(p.f_sflop),
        frontier_daily_increase_msflop=sflop_to_msflop(p.f_daily_increase_sflop),
        horizon_base_msflop=sflop_to_msflop(p.h_sflop),
        horizon_daily_increase_msflop=sflop_to_msflop(p.h_daily_increase_sflop),
        allowance_chunk_msflop=_allowance_chunk_msflop(scenario),
        watchdog_period_cycles=WATCHDOG_PERIOD_CYCLES, beacon_max_age_s=BEACON_MAX_AGE_S,
        **_link_cap(p))
    create_vendor(out / "vendor")
    votes = _vote_policies(authority, scenario, start_unix)
    policies = authority.policies()
    genesis_day = unix_day(scenario.start_date)

    chips, workloads = [], []
    index = 0
    for site in scenario.sites:
        running = [w for w in scenario.workloads if w.site == site.name]
        # A site's chips are shared out among its workloads in file order, evenly.
        counts = [site.chips // len(running) + (i < site.chips % len(running))
                  for i in range(len(running))] if running else []
        for number in range(site.chips - sum(counts)):  # a site with no workload idles
            chips.append(ChipSpec(index, f"{site.name}-{number:05d}", site.name, "", 0, (), ()))
            index += 1
        offset = site.chips - sum(counts)
        for workload, count in zip(running, counts):
            planned = sflop_to_msflop(workload.planned_sflop)
            lineage = _lineage_msflop(scenario, workload)
            day = genesis_day + workload.start_day
            policy = policies[_version_on(votes, workload.start_day) - 1]
            license_class = license_class_for(policy, planned + lineage, day)
            shares = split_allocation(planned, [1] * count)
            lanes = sorted(workload.precision_mix)
            if workload.disguise == "padded-inference":
                lanes = sorted(set(lanes) | {PADDING_LANE.lower()})
            activity = TRUE_KIND.get(workload.disguise, workload.kind)
            indices = []
            for share in shares:
                chips.append(ChipSpec(
                    index, f"{site.name}-{offset:05d}", site.name, workload.name, share,
                    tuple((lane.upper(), site.peak_ops[lane]) for lane in lanes),
                    tuple((lane.upper(), workload.precision_mix.get(lane, 0.0))
                          for lane in lanes),
                    activity, workload.disguise))
                indices.append(index)
                index += 1
                offset += 1
            workloads.append(WorkloadSpec(workload.name, site.name, workload.kind, workload.owner,
                                          workload.lineage, workload.start_day, planned, lineage,
                                          license_class.name, tuple(indices)))
    order = {w.name: i for i, w in enumerate(scenario.workloads)}
    workloads.sort(key=lambda w: order[w.name])
    return Fleet(scenario, out / "authority", out / "vendor", start_unix,
                 tuple(pol.to_bytes() for pol in policies), tuple(votes), tuple(chips),
                 tuple(workloads), out / LEDGER_FILE)


@functools.lru_cache(maxsize=64)
def _parsed_policy(raw: bytes) -> Policy:
    """Policy.from_bytes, parsed once per worker: every chip provisions under the
    genesis policy and reads its weights, and parsing one costs milliseconds
    (the record is frozen, so the chips can share it)."""
    return Policy.from_bytes(raw)


def _version_on(votes: list[tuple], day: int) -> int:
    version = 1
    for vote_day, vote_version in votes:
        if vote_day <= day:
            version = vote_version
    return version


def needs_inspector(license_class: str) -> bool:
    return LicenseClass[license_class] != LicenseClass.STANDARD
