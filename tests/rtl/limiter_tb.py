"""Reusable cocotb testbench for hdl/rtl/heg_stream_limiter.v.

cocotbext-axi 0.1.28's AxiStreamSource/AxiStreamSink (they work under cocotb 2.1) drive
the slave side and take the master side, bound to the ``_i``/``_o`` port names through
a cocotb_bus signal map. A per-cycle monitor scores the RTL against
``openheg_sim.stream_limiter_model.StreamLimiterModel``: s_axis_tready_o, m_axis_tvalid_o
and the delivered beat are compared in every cycle, and every beat's data, keep, last and
user are checked end to end (no loss, corruption or reordering).
"""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.handle import SimHandleBase
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly
from cocotbext.axi import AxiStreamBus, AxiStreamSink, AxiStreamSource

from coverage import LIMITER_COVERPOINTS, Coverage
from openheg_sim.stream_limiter_model import POLICY_LATENCY, Beat, StreamLimiterModel, beat_cost

REPO = Path(__file__).resolve().parents[2]
RTL_DIR = REPO / "hdl" / "rtl"
TESTS_DIR = Path(__file__).resolve().parent
TOPLEVEL = "heg_stream_limiter"
DATA_W = 64
USER_W = 1
FRAC_W = 16
# Wire bytes every beat costs (data, tkeep, tlast and tuser bits, rounded up).
BEAT_COST = beat_cost(DATA_W, USER_W)
CLOCK_PERIOD_NS = 10


def coverage_dir(sim: str) -> Path:
    return REPO / "build" / "rtl" / f"limiter-{sim}" / "coverage"


def runner_args(sim: str) -> dict:
    build_dir = REPO / "build" / "rtl" / f"limiter-{sim}"
    pythonpath = os.pathsep.join(p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "build": {
            "sources": [RTL_DIR / "heg_stream_limiter.v"],
            "hdl_toplevel": TOPLEVEL,
            "build_dir": build_dir,
            "build_args": ["-g2005"] if sim == "icarus" else [],
            "parameters": {"DATA_W": DATA_W, "USER_W": USER_W, "FRAC_W": FRAC_W},
            "timescale": ("1ns", "1ps"),
        },
        "test": {
            "hdl_toplevel": TOPLEVEL,
            "build_dir": build_dir,
            "test_dir": build_dir,
            "extra_env": {"PYTHONPATH": pythonpath, "HEG_COVERAGE_DIR": str(coverage_dir(sim))},
            "timescale": ("1ns", "1ps"),
        },
    }


def bus(dut: SimHandleBase, prefix: str, slave_side: bool) -> AxiStreamBus:
    """cocotbext-axi's AXI4-Stream bus bound to this project's _i/_o port names."""
    into, out = ("_i", "_o") if slave_side else ("_o", "_i")
    names = {sig: sig + into for sig in ("tdata", "tkeep", "tlast", "tuser", "tvalid")}
    names["tready"] = "tready" + out

    class Bound(AxiStreamBus):
        _signals = {"tdata": names["tdata"]}
        _optional_signals = {k: v for k, v in names.items() if k != "tdata"}

    return Bound(dut, prefix)


def deposit_byte_count(limiter: SimHandleBase, value: int, bytes_bits: int = 64) -> None:
    """Set heg_stream_limiter's split wire-byte counter (instance ``limiter``) to ``value``
    with no carry pending: the low half, the high half and its kept increment. Call at a
    falling edge."""
    half = bytes_bits // 2
    hi = value >> half
    limiter.bytes_lo_q.value = value & ((1 << half) - 1)
    limiter.bytes_hi_q.value = hi
    limiter.bytes_hi_inc_q.value = (hi + 1) & ((1 << (bytes_bits - half)) - 1)
    limiter.bytes_carry_q.value = 0


class LimiterTB:
    def __init__(self, dut: SimHandleBase, rate: float, burst: int, seed: int = 1) -> None:
        self.dut = dut
        self.log = dut._log
        self.rng = random.Random(seed)
        dut.rst_ni.value = 0
        self.set_policy(rate, burst, now=True)
        self.source = AxiStreamSource(bus(dut, "s_axis", True), dut.clk_i, dut.rst_ni,
                                      reset_active_level=False)
        self.sink = AxiStreamSink(bus(dut, "m_axis", False), dut.clk_i, dut.rst_ni,
                                  reset_active_level=False)
        self.model = StreamLimiterModel(self.rate_fixed, self.burst, FRAC_W)
        self.cov = Coverage(LIMITER_COVERPOINTS)
        self.errors: list[str] = []
        self.accepted: list[Beat] = []
        self.delivered: list[Beat] = []
        self.accept_cycles: list[int] = []
        self.deliver_cycles: list[int] = []
        # rate_i in each cycle since reset (the edge ending cycle k applies the rate of
        # cycle k - POLICY_LATENCY).
        self.rate_inputs: list[int] = []
        # The credit the RTL shows in each cycle since reset: tokens_o plus the cost of the
        # beat in the output register (token units).
        self.credits: list[int] = []
        self.cycle = 0
        self.checked_cycles = 0
        self._last_accept = -2
        cocotb.start_soon(Clock(dut.clk_i, CLOCK_PERIOD_NS, unit="ns").start())
        self._monitor_task = None

    def set_policy(self, rate: float, burst: int, now: bool = False) -> None:
        """rate in wire bytes per cycle (fixed point FRAC_W), burst in wire bytes; takes
        effect at the next edge (call at a falling edge, or before reset)."""
        self.rate_fixed = int(round(rate * (1 << FRAC_W)))
        self.burst = burst
        self.dut.rate_i.value = self.rate_fixed
        self.dut.burst_i.value = burst

    def preset_byte_count(self, value: int) -> None:
        """Start the wire-byte counter (RTL and model) at ``value``; at a falling edge."""
        deposit_byte_count(self.dut, value)
        self.model.byte_count = value

    def budget_violations(self) -> list[str]:
        """The budget checked edge by edge on what the RTL shows (the proof's two per-edge
        facts, here in simulation): the credit never exceeds the burst, and at every edge
        wire bytes delivered + credit after <= credit before + the rate the edge applied.
        Summed over a window they give burst + the rates applied, however the policy moved."""
        applied, delivered = self.applied_rates(), set(self.deliver_cycles)
        cost = BEAT_COST << FRAC_W
        bad = [f"cycle {k}: credit {c} over the burst" for k, c in enumerate(self.credits)
               if c > self.burst << FRAC_W]
        for k in range(len(self.credits) - 1):
            spent = (cost if k in delivered else 0) + self.credits[k + 1]
            if spent > self.credits[k] + applied[k]:
                bad.append(f"edge {k}: delivered + credit' = {spent} over credit + rate "
                           f"{self.credits[k] + applied[k]}")
        return bad

    def applied_rates(self) -> list[int]:
        """The rate each edge since reset applied: cycle k's edge applies the rate_i of
        cycle k - POLICY_LATENCY (0, the reset policy, before that)."""
        return [0] * POLICY_LATENCY + self.rate_inputs[:max(0, self.cycle - POLICY_LATENCY)]

    async def reset(self) -> None:
        await FallingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 0
        await ClockCycles(self.dut.clk_i, 3)
        await FallingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 1
        self.model = StreamLimiterModel(self.rate_fixed, self.burst, FRAC_W)
        # A reset drops the beat in the output register and what the source still held
        # (cocotbext-axi flushes its queues on reset): the records start again with it.
        for record in (self.rate_inputs, self.credits, self.accepted, self.delivered,
                       self.accept_cycles, self.deliver_cycles):
            record.clear()
        self.cycle = 0
        self._last_accept = -2
        if self._monitor_task is None:
            self._monitor_task = cocotb.start_soon(self._monitor())

    def _fail(self, msg: str) -> None:
        self.errors.append(f"cycle {self.cycle}: {msg}")
        self.log.error("cycle %d: %s", self.cycle, msg)

    async def _monitor(self) -> None:
        dut, m = self.dut, self.model
        # Started at the falling edge that releases reset: the first edge out of reset is
        # modelled too.
        while True:
            await ReadOnly()
            if int(dut.rst_ni.value) == 0:
                await FallingEdge(dut.clk_i)
                continue
            m = self.model
            m.rate, m.burst = int(dut.rate_i.value), int(dut.burst_i.value)
            self.rate_inputs.append(m.rate)
            self.credits.append(int(dut.tokens_o.value) +
                                (BEAT_COST << FRAC_W) * int(dut.m_axis_tvalid_o.value))
            s_valid = int(dut.s_axis_tvalid_i.value)
            beat = Beat(int(dut.s_axis_tdata_i.value), int(dut.s_axis_tkeep_i.value),
                        int(dut.s_axis_tlast_i.value), int(dut.s_axis_tuser_i.value))
            m_ready = int(dut.m_axis_tready_i.value)
            s_ready, m_valid = m.outputs(bool(s_valid), bool(m_ready))
            self.checked_cycles += 1
            if int(dut.s_axis_tready_o.value) != s_ready:
                self._fail(f"s_axis_tready_o={int(dut.s_axis_tready_o.value)}, model {s_ready}")
            if int(dut.m_axis_tvalid_o.value) != m_valid:
                self._fail(f"m_axis_tvalid_o={int(dut.m_axis_tvalid_o.value)}, model {m_valid}")
            if m_valid and m.out is not None:
                got = (int(dut.m_axis_tdata_o.value), int(dut.m_axis_tkeep_o.value),
                       int(dut.m_axis_tlast_o.value), int(dut.m_axis_tuser_o.value))
                want = (m.out.data, m.out.keep, m.out.last, m.out.user)
                if got != want:
                    self._fail(f"m_axis beat {got}, model {want}")
            if int(dut.tokens_o.value) != m.tokens:
                self._fail(f"tokens {int(dut.tokens_o.value)}, model {m.tokens}")
            if int(dut.byte_count_o.value) != m.byte_count:
                self._fail(f"byte_count {int(dut.byte_count_o.value)}, model {m.byte_count}")
            hit = self.cov.hit
            hit("token_starved", s_valid and not s_ready and (m.out is None or m_ready))
            hit("backpressure_held", m_valid and not m_ready)
            hit("bucket_full", m.tokens >= m.cap)
            accepted, delivered = m.step(bool(s_valid), beat, bool(m_ready))
            if accepted:
                self.accepted.append(beat)
                self.accept_cycles.append(self.cycle)
                hit("beat_passed")
                hit("back_to_back", self._last_accept == self.cycle - 1)
                hit("partial_keep", 0 < beat.keep < (1 << (DATA_W // 8)) - 1)
                hit("null_beat", beat.keep == 0)
                hit("tlast", beat.last)
                self._last_accept = self.cycle
            if delivered is not None:
                self.delivered.append(delivered)
                self.deliver_cycles.append(self.cycle)
            self.cycle += 1
            await FallingEdge(dut.clk_i)

    async def finish(self) -> None:
        await ClockCycles(self.dut.clk_i, 2)
        n = len(self.delivered)
        if [(b.data, b.keep, b.last, b.user) for b in self.delivered] != \
                [(b.data, b.keep, b.last, b.user) for b in self.accepted[:n]]:
            self._fail("delivered beats differ from accepted beats (loss/corruption/reorder)")
        if self.errors:
            raise AssertionError(f"{len(self.errors)} mismatches, first: {self.errors[0]}")
        assert self.checked_cycles > 0
        self.cov.dump("limiter")
        self.log.info("limiter scoreboard: %d cycles, %d beats", self.checked_cycles, n)


def window_violations(cycles: list[int], rate_fixed: int, burst: int, cost: int = BEAT_COST,
                      frac_bits: int = FRAC_W) -> list[tuple[int, int]]:
    """Windows (first, last cycle) in which the beats delivered at ``cycles`` carry more wire
    bytes than burst + rate * length; the tightest windows start and end on a delivery."""
    bad = []
    for i, first in enumerate(cycles):
        for j in range(i, len(cycles)):
            length = cycles[j] - first + 1
            if ((j - i + 1) * cost) << frac_bits > (burst << frac_bits) + rate_fixed * length:
                bad.append((first, cycles[j]))
    return bad


def applied_window_violations(cycles: list[int], applied: list[int], burst: int,
                              cost: int = BEAT_COST, frac_bits: int = FRAC_W,
                              start_credit: int | None = None) -> list[tuple[int, int]]:
    """Windows (first, last cycle) in which the beats delivered at ``cycles`` carry more wire
    bytes than burst + the rates the window's edges applied (``applied[k]``, the rate of
    edge k, fixed point): the bound with the policy latency in it. With ``start_credit``
    (wire-byte units x 2^frac_bits), also every window from cycle 0 is held to
    start_credit + its rates in place of burst (the credit the bucket started with)."""
    prefix = [0]
    for rate in applied:
        prefix.append(prefix[-1] + rate)
    bad = []
    for i, first in enumerate(cycles):
        for j in range(i, len(cycles)):
            earned = prefix[cycles[j] + 1] - prefix[first]
            if ((j - i + 1) * cost) << frac_bits > (burst << frac_bits) + earned:
                bad.append((first, cycles[j]))
    if start_credit is not None:
        for j, last in enumerate(cycles):
            if ((j + 1) * cost) << frac_bits > start_credit + prefix[last + 1]:
                bad.append((0, last))
    return bad


def random_pause(rng: random.Random, p_pause: float):
    """A pause generator for cocotbext-axi (True = stall this cycle)."""
    return (rng.random() < p_pause for _ in itertools.count())
