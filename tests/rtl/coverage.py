"""Functional coverage for the RTL testbenches: named coverpoints, hit counts per test,
merged across tests by tests/rtl/test_coverage.py (which fails on any unhit point).

cocotb-coverage 2.0 installs beside cocotb 2.1, but a coverpoint here is a plain
predicate on the scored model state, sampled once per cycle by the TB monitor; a dict
of counters is all that needs, and it dumps to JSON for merging across the separate
simulator runs of each cocotb test.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

# name -> what it means. Every name must be hit by the suite on every simulator.
METER_COVERPOINTS: dict[str, str] = {
    "ops_all_lanes_one_cycle": "every lane has a valid event in the same cycle",
    "ops_max_count": "a lane carries the largest per-cycle count (2^COUNT_W - 1)",
    "gate_open": "accel_enable_o high",
    "cause_exhausted": "gate closed with GATE_CAUSE.exhausted",
    "cause_disarmed": "gate closed with GATE_CAUSE.disarmed",
    "cause_paused": "gate closed with GATE_CAUSE.paused",
    "cause_watchdog": "gate closed with GATE_CAUSE.watchdog",
    "cause_tamper": "gate closed with GATE_CAUSE.tamper",
    "cause_throttled": "gate closed with GATE_CAUSE.throttled",
    "cause_fatal": "gate closed with GATE_CAUSE.fatal",
    "cause_overrate": "gate closed with GATE_CAUSE.overrate",
    "headroom_closed": "a declared CHARGE_MAX closes the gate before the limit is reached",
    "exhausted_while_open": "the accumulator reaches the limit while the gate is open",
    "throttle_open_slot": "gate open in a throttle pattern below 100%",
    "intr_low_water": "INTR_STATE.low_water set",
    "intr_exhausted": "INTR_STATE.exhausted set",
    "intr_fault": "INTR_STATE.fault set",
    "irq_high": "irq_o high",
    "intr_w1c_clear": "a W1C write clears an INTR_STATE bit",
    "intr_test_write": "INTR_TEST sets a bit",
    "cfg_locked": "CFG_REGWEN cleared",
    "locked_write_ignored": "a write to a locked register is ignored and counted",
    "wdog_armed": "watchdog armed",
    "wdog_kick_ok": "a kick inside the window",
    "wdog_trip_late": "the watchdog expires (no kick by PERIOD)",
    "wdog_trip_early": "a kick before WINDOW trips the watchdog",
    "saturated_lane": "a lane counter saturates",
    "saturated_acc": "the accumulator saturates",
    "fatal_gate_code": "fatal from an inconsistent gate code",
    "fatal_acc_shadow": "fatal from the accumulator and its shadow disagreeing",
    "fatal_limit_shadow": "fatal from the limit and its shadow disagreeing",
    "snapshot": "a snapshot command",
    "limit_commit": "LIMIT_3 commits a new allowance",
    "lowwater_commit": "LOWWATER_3 commits a new threshold",
    "bus_slverr": "an access to an unmapped address",
}

LIMITER_COVERPOINTS: dict[str, str] = {
    "beat_passed": "a beat passes the limiter",
    "back_to_back": "beats pass in consecutive cycles",
    "token_starved": "a valid beat waits for tokens",
    "backpressure_held": "m_axis_tvalid held while m_axis_tready is low",
    "bucket_full": "the bucket is full (burst credit available)",
    "partial_keep": "a beat with some tkeep bits clear passes",
    "null_beat": "a beat with tkeep = 0 passes",
    "tlast": "a frame ends",
}


class Coverage:
    """Hit counters for one test run."""

    _dumps = 0

    def __init__(self, points: dict[str, str]) -> None:
        self.points = points
        self.hits: Counter[str] = Counter()

    def hit(self, name: str, cond: bool = True) -> None:
        if cond:
            if name not in self.points:
                raise KeyError(f"unknown coverpoint {name}")
            self.hits[name] += 1

    def dump(self, tag: str) -> Path | None:
        """Write the hits to $HEG_COVERAGE_DIR/<tag>-<pid>.json (no-op if unset)."""
        directory = os.environ.get("HEG_COVERAGE_DIR")
        if not directory:
            return None
        Coverage._dumps += 1
        path = Path(directory) / f"{tag}-{os.getpid()}-{Coverage._dumps}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(self.hits), sort_keys=True))
        return path


def merged(directory: Path, prefix: str) -> Counter[str]:
    total: Counter[str] = Counter()
    for path in sorted(directory.glob(f"{prefix}-*.json")):
        total.update(json.loads(path.read_text()))
    return total
