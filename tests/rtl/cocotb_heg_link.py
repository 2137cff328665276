"""cocotb tests for hdl/rtl/heg_link.v, the AXI4-Lite register top around the stream
limiter (run by test_heg_link_rtl.py). Expected values come from the generated register
map (openheg.linkmap) and from the limiter's cost rule, not from the RTL."""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly
from cocotbext.axi import AxiStreamFrame, AxiStreamSink, AxiStreamSource

from axil_master import RESP_OKAY, RESP_SLVERR, AxiLiteMaster
from limiter_tb import (BEAT_COST, DATA_W, FRAC_W, USER_W, bus, deposit_byte_count,
                        window_violations)
from openheg import linkmap

KEEP_BYTES = DATA_W // 8
RESETS = {
    linkmap.REG_ID: linkmap.ID_MAGIC_RESET,
    linkmap.REG_VERSION: linkmap.VERSION_MAJOR_RESET << linkmap.VERSION_MAJOR_SHIFT,
    linkmap.REG_LINK_REGWEN: linkmap.LINK_REGWEN_EN_RESET,
    linkmap.REG_RATE: linkmap.RATE_BYTES_PER_CYCLE_RESET,
    linkmap.REG_BURST: linkmap.BURST_BYTES_RESET,
    linkmap.REG_BYTES_LO: linkmap.BYTES_LO_VALUE_RESET,
    linkmap.REG_BYTES_HI: linkmap.BYTES_HI_VALUE_RESET,
    linkmap.REG_ERR_STATUS: linkmap.ERR_STATUS_LOCKED_WRITES_RESET,
}


class LinkTB:
    def __init__(self, dut, seed: int = 1) -> None:
        self.dut = dut
        self.rng = random.Random(seed)
        dut.rst_ni.value = 0
        self.bus = AxiLiteMaster(dut, dut.clk_i, rng=random.Random(seed + 1), max_delay=2)
        self.source = AxiStreamSource(bus(dut, "s_axis", True), dut.clk_i, dut.rst_ni,
                                      reset_active_level=False)
        self.sink = AxiStreamSink(bus(dut, "m_axis", False), dut.clk_i, dut.rst_ni,
                                  reset_active_level=False)
        self.deliveries: list[int] = []
        self.cycle = 0
        cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())

    async def reset(self) -> None:
        await FallingEdge(self.dut.clk_i)
        await ClockCycles(self.dut.clk_i, 3)
        await FallingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 1
        cocotb.start_soon(self._watch())

    async def _watch(self) -> None:
        """Record every cycle in which a beat leaves on the master side."""
        while True:
            await ReadOnly()
            if int(self.dut.m_axis_tvalid_o.value) and int(self.dut.m_axis_tready_i.value):
                self.deliveries.append(self.cycle)
            self.cycle += 1
            await FallingEdge(self.dut.clk_i)

    async def read(self, addr: int) -> int:
        rsp = await self.bus.read(addr)
        assert rsp.resp == RESP_OKAY, hex(addr)
        return rsp.data

    async def write(self, addr: int, value: int, strb: int = 0xF) -> None:
        rsp = await self.bus.write(addr, value, strb)
        assert rsp.resp == RESP_OKAY, hex(addr)

    async def program(self, rate: float, burst: int) -> None:
        await self.write(linkmap.REG_RATE, int(rate * (1 << FRAC_W)))
        await self.write(linkmap.REG_BURST, burst)


def frame(rng, beats: int) -> AxiStreamFrame:
    return AxiStreamFrame(bytes(rng.getrandbits(8) for _ in range(beats * KEEP_BYTES)))


@cocotb.test()
async def test_link_reset_fails_closed(dut):
    """Every register reads its generated reset value; with RATE and BURST at reset (0)
    nothing passes, null beats included, until firmware programs them."""
    tb = LinkTB(dut, seed=1)
    await tb.reset()
    for addr, value in RESETS.items():
        assert await tb.read(addr) == value, linkmap.REGISTER_NAMES[addr]
    assert await tb.read(linkmap.REG_BEAT_COST) == BEAT_COST
    await tb.source.send(frame(tb.rng, 8))
    await tb.source.send(AxiStreamFrame(bytes(4 * KEEP_BYTES), tkeep=[0] * (4 * KEEP_BYTES)))
    for _ in range(150):
        await FallingEdge(dut.clk_i)
        await ReadOnly()
        assert int(dut.s_axis_tready_o.value) == 0
    assert not tb.deliveries
    await tb.program(rate=BEAT_COST / 2, burst=2 * BEAT_COST)
    await tb.sink.recv()
    await tb.sink.recv()
    assert len(tb.deliveries) == 12


@cocotb.test()
async def test_link_policy_lock(dut):
    """Programmed RATE and BURST shape the stream within burst + rate * t; once
    LINK_REGWEN is cleared they cannot change (writes answer OKAY, are counted) and
    LINK_REGWEN cannot be set again; byte strobes are honoured before the lock."""
    tb = LinkTB(dut, seed=2)
    await tb.reset()
    await tb.write(linkmap.REG_RATE, 0x0003_8000)
    await tb.write(linkmap.REG_RATE, 0x0000_0004, strb=0x1)  # low byte only
    assert await tb.read(linkmap.REG_RATE) == 0x0003_8004
    rate_fixed, burst = (3 << FRAC_W) | 0x8000, 3 * BEAT_COST
    await tb.write(linkmap.REG_RATE, rate_fixed)
    await tb.write(linkmap.REG_BURST, burst)
    await tb.write(linkmap.REG_LINK_REGWEN, 0)
    await tb.write(linkmap.REG_LINK_REGWEN, 1)
    await tb.write(linkmap.REG_RATE, 0xFFFF_FFFF)
    await tb.write(linkmap.REG_BURST, 0xFF_FFFF)
    assert await tb.read(linkmap.REG_LINK_REGWEN) == 0
    assert await tb.read(linkmap.REG_RATE) == rate_fixed
    assert await tb.read(linkmap.REG_BURST) == burst
    assert await tb.read(linkmap.REG_ERR_STATUS) == 2
    for _ in range(6):
        await tb.source.send(frame(tb.rng, 10))
    for _ in range(6):
        await tb.sink.recv()
    assert not window_violations(tb.deliveries, rate_fixed, burst)
    lo = await tb.read(linkmap.REG_BYTES_LO)
    hi = await tb.read(linkmap.REG_BYTES_HI)
    assert (hi << 32) | lo == 60 * BEAT_COST


@cocotb.test()
async def test_link_wide_counter_reads_coherently(dut):
    """BYTES_LO latches the high word, so LO then HI is the 64-bit value the counter held
    at the LO read, whichever side of the read the carry into the high word falls."""
    tb = LinkTB(dut, seed=3)
    await tb.reset()
    await tb.program(rate=BEAT_COST, burst=2 * BEAT_COST)
    counter = dut.u_limiter.byte_count_o
    carry = 0x2_0000_0000
    # Carry after the LO read: one beat short of it, the beat passes between the reads
    # (a reader without the latch would pair the old low word with the new high word).
    # Carry before the LO read: the beat passes first, both words are the new value.
    for start, beat_between in ((carry - BEAT_COST, True), (carry - BEAT_COST, False)):
        await FallingEdge(dut.clk_i)
        deposit_byte_count(dut.u_limiter, start)
        if not beat_between:
            await tb.source.send(frame(tb.rng, 1))
            await tb.sink.recv()
            await ClockCycles(dut.clk_i, 2)
        at_lo_read = start if beat_between else carry
        await FallingEdge(dut.clk_i)
        assert int(counter.value) == at_lo_read
        lo = await tb.read(linkmap.REG_BYTES_LO)
        if beat_between:
            await tb.source.send(frame(tb.rng, 1))
            await tb.sink.recv()
            await ClockCycles(dut.clk_i, 2)
            assert int(counter.value) == carry
        hi = await tb.read(linkmap.REG_BYTES_HI)
        assert (hi << 32) | lo == at_lo_read, (hex(hi), hex(lo), hex(at_lo_read))
    # A fresh LO read brings the new high word.
    lo = await tb.read(linkmap.REG_BYTES_LO)
    assert (await tb.read(linkmap.REG_BYTES_HI) << 32) | lo == carry


@cocotb.test()
async def test_link_unmapped_slverr(dut):
    """Unmapped or unaligned addresses answer SLVERR and change nothing."""
    tb = LinkTB(dut, seed=4)
    await tb.reset()
    for addr in (0x024, 0x028, 0x0FC, 0x001, 0x00E):
        assert addr not in linkmap.REGISTER_NAMES
        rsp = await tb.bus.read(addr)
        assert rsp.resp == RESP_SLVERR and rsp.data == 0, hex(addr)
        assert (await tb.bus.write(addr, 0xFFFF_FFFF)).resp == RESP_SLVERR
    for addr, value in RESETS.items():
        assert await tb.read(addr) == value
    assert USER_W == 1
