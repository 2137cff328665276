"""cocotb tests for hdl/rtl/heg_counter_frontend.v (run by test_counter_frontend_rtl.py):
every cycle the lane events and tamper are scored against CounterFrontendModel; the
asserts add the guarantees directly (every reported op is emitted, never more than PEAK
per cycle; backwards and too-fast counters tamper)."""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from axil_master import RESP_OKAY, RESP_SLVERR, AxiLiteMaster
from openheg import frontendmap, regmap
from openheg_sim.counter_frontend_model import CounterFrontendModel

LANES = len(regmap.LANES)
CNT_W = 48
COUNT_W = 16
PEAK_REGS = [getattr(frontendmap, f"REG_PEAK_{name}") for name in regmap.LANES]


class FrontendTB:
    def __init__(self, dut, seed: int) -> None:
        self.dut = dut
        self.rng = random.Random(seed)
        dut.rst_ni.value = 0
        dut.sample_valid_i.value = 0
        dut.sample_i.value = 0
        self.bus = AxiLiteMaster(dut, dut.clk_i, rng=random.Random(seed + 1), max_delay=2)
        self.model = CounterFrontendModel(LANES, CNT_W, COUNT_W)
        self.errors: list[str] = []
        self.emitted = [0] * LANES
        self.max_event = [0] * LANES
        self.cycle = 0
        cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())

    async def reset(self) -> None:
        await FallingEdge(self.dut.clk_i)
        await ClockCycles(self.dut.clk_i, 3)
        await FallingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 1
        cocotb.start_soon(self._monitor())

    async def _monitor(self) -> None:
        dut, m = self.dut, self.model
        while True:
            await ReadOnly()
            valid = int(dut.op_valid_o.value)
            counts = int(dut.op_count_o.value)
            got = [((counts >> (COUNT_W * l)) & 0xFFFF) if valid >> l & 1 else 0
                   for l in range(LANES)]
            if got != m.events:
                self.errors.append(f"cycle {self.cycle}: events {got}, model {m.events}")
            if int(dut.tamper_o.value) != m.tamper:
                self.errors.append(f"cycle {self.cycle}: tamper {int(dut.tamper_o.value)}")
            for lane, n in enumerate(got):
                self.emitted[lane] += n
                self.max_event[lane] = max(self.max_event[lane], n)
            # The peaks the RTL holds now apply at the coming edge.
            peaks = int(dut.peak_q.value)
            m.set_peaks([(peaks >> (COUNT_W * l)) & 0xFFFF for l in range(LANES)])
            sample = None
            if int(dut.sample_valid_i.value):
                raw = int(dut.sample_i.value)
                sample = [(raw >> (CNT_W * l)) & ((1 << CNT_W) - 1) for l in range(LANES)]
            m.step(sample)
            self.cycle += 1
            await FallingEdge(dut.clk_i)

    async def write(self, addr: int, value: int) -> None:
        assert (await self.bus.write(addr, value)).resp == RESP_OKAY, hex(addr)

    async def read(self, addr: int) -> int:
        rsp = await self.bus.read(addr)
        assert rsp.resp == RESP_OKAY, hex(addr)
        return rsp.data

    async def sample(self, counters: list[int]) -> None:
        """Present one sample for one cycle (from the next rising edge)."""
        await FallingEdge(self.dut.clk_i)
        self.dut.sample_i.value = sum(c << (CNT_W * l) for l, c in enumerate(counters))
        self.dut.sample_valid_i.value = 1
        await FallingEdge(self.dut.clk_i)
        self.dut.sample_valid_i.value = 0

    def check(self) -> None:
        assert not self.errors, f"{len(self.errors)} mismatches, first: {self.errors[0]}"


async def programmed(dut, seed: int, peaks: list[int]) -> FrontendTB:
    tb = FrontendTB(dut, seed)
    await tb.reset()
    for reg, peak in zip(PEAK_REGS, peaks):
        await tb.write(reg, peak)
    await tb.write(frontendmap.REG_FE_REGWEN, 0)
    return tb


@cocotb.test()
async def test_frontend_registers(dut):
    """Reset values from the generated map (PEAK 0); the lock freezes the peaks."""
    tb = FrontendTB(dut, 1)
    await tb.reset()
    assert await tb.read(frontendmap.REG_ID) == frontendmap.ID_MAGIC_RESET
    assert await tb.read(frontendmap.REG_FE_REGWEN) == frontendmap.FE_REGWEN_EN_RESET
    assert await tb.read(frontendmap.REG_STATUS) == 0
    for reg in PEAK_REGS:
        assert await tb.read(reg) == frontendmap.PEAK_NF4_OPS_RESET
    await tb.write(PEAK_REGS[1], 1234)
    await tb.write(frontendmap.REG_FE_REGWEN, 0)
    await tb.write(PEAK_REGS[1], 99)
    await tb.write(frontendmap.REG_FE_REGWEN, 1)
    assert await tb.read(PEAK_REGS[1]) == 1234
    assert await tb.read(frontendmap.REG_FE_REGWEN) == 0
    for addr in (0x028, 0x0FC, 0x002):
        assert (await tb.bus.read(addr)).resp == RESP_SLVERR
    tb.check()


@cocotb.test()
async def test_frontend_meters_every_reported_op(dut):
    """Random sample gaps and rises within PEAK x gap on every lane: every reported op
    reaches the meter, no event carries more than PEAK, and nothing tampers."""
    peaks = [500, 1000, 7, 65535, 1, 300]
    tb = await programmed(dut, 2, peaks)
    counters = [tb.rng.getrandbits(40) for _ in range(LANES)]
    base = list(counters)
    await tb.sample(counters)
    for _ in range(40):
        gap = tb.rng.randint(1, 12)
        await ClockCycles(dut.clk_i, gap - 1)
        # A sample performed `gap` edges after the previous one allows PEAK x gap.
        counters = [c + tb.rng.randint(0, p * gap) for c, p in zip(counters, peaks)]
        await tb.sample(counters)
    await ClockCycles(dut.clk_i, 200)
    tb.check()
    assert tb.emitted == [c - b for c, b in zip(counters, base)]
    assert all(m <= p for m, p in zip(tb.max_event, peaks))
    assert int(dut.tamper_o.value) == 0


@cocotb.test()
async def test_frontend_backwards_counter_tampers(dut):
    """A counter below its previous sample latches STATUS.backwards and tamper_o."""
    tb = await programmed(dut, 3, [100] * LANES)
    await tb.sample([1000] * LANES)
    await ClockCycles(dut.clk_i, 5)
    await tb.sample([1000, 1000, 999, 1000, 1000, 1000])
    await ClockCycles(dut.clk_i, 3)
    assert int(dut.tamper_o.value) == 1
    assert await tb.read(frontendmap.REG_STATUS) == frontendmap.STATUS_BACKWARDS_MASK
    await ClockCycles(dut.clk_i, 20)
    assert int(dut.tamper_o.value) == 1  # latched
    tb.check()


@cocotb.test()
async def test_frontend_too_fast_counter_tampers(dut):
    """A rise of exactly PEAK x gap passes; one more op latches STATUS.too_fast (and the
    rise is still metered)."""
    peak = 50
    tb = await programmed(dut, 4, [peak] * LANES)
    start = [0] * LANES
    await tb.sample(start)
    await ClockCycles(dut.clk_i, 9)
    edge_gap = 10  # the sample edges are 10 edges apart
    at_limit = [peak * edge_gap] * LANES
    await tb.sample(at_limit)
    await ClockCycles(dut.clk_i, 9)
    assert int(dut.tamper_o.value) == 0
    over = [a + peak * edge_gap for a in at_limit]
    over[4] += 1
    await tb.sample(over)
    await ClockCycles(dut.clk_i, 40)
    assert int(dut.tamper_o.value) == 1
    assert await tb.read(frontendmap.REG_STATUS) == frontendmap.STATUS_TOO_FAST_MASK
    assert tb.emitted == over
    tb.check()
