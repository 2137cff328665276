"""cocotb tests for hdl/rtl/heg_meter.v (run by test_heg_meter_rtl.py through the runner).

Every test runs with the TB scoreboard on: accel_enable_o is compared with
openheg_sim.meter_model every cycle and every bus read is compared with the model's
value at the edge the RTL samples it. The asserts below add direct checks against the
generated register map, so a bug shared by model and RTL still shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from axil_master import AxiLiteResponse
from meter_tb import TB, wide_words
from openheg import regmap
from openheg_sim.meter_model import ENFORCEMENT_LATENCY_CYCLES, METERING_LATENCY_EDGES, WIDE_MAX

LANE = {name: i for i, name in enumerate(regmap.LANES)}
WEIGHT_REGS = [getattr(regmap, f"REG_WEIGHT_{name}") for name in regmap.LANES]
OPEN = regmap.GATE_ENABLE_OPEN
CLOSED = regmap.GATE_ENABLE_CLOSED
EXHAUSTED = regmap.GATE_CAUSE_EXHAUSTED_MASK
DISARMED = regmap.GATE_CAUSE_DISARMED_MASK
FATAL_CAUSE = regmap.GATE_CAUSE_FATAL_MASK
ST_OPEN = regmap.STATUS_GATE_OPEN_MASK
ST_SAT = regmap.STATUS_SATURATED_MASK
ST_FATAL = regmap.STATUS_FATAL_MASK


async def arm(tb: TB, limit: int) -> None:
    await tb.write_limit(limit)
    await tb.write(regmap.REG_GATE, OPEN)
    await tb.wait_enable(1, max_cycles=4)


def documented_resets() -> dict[int, int]:
    """Register address -> the value its fields' reset values in the SystemRDL map add up
    to (what docs/registers.md documents), for every register whose fields all have one."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import regmap_gen
    _, registers = regmap_gen.load_registers()
    return {r.address: sum(f.reset << f.lsb for f in r.fields) for r in registers
            if all(f.reset is not None for f in r.fields)}


@cocotb.test()
async def test_reset_values(dut):
    """Every register reads, right after reset, exactly the reset value the generated
    register reference documents (issue 10: INTR_STATE read 0x3 where it said 0x0); the
    gate starts closed."""
    tb = TB(dut)
    await tb.reset()
    resets = documented_resets()
    assert set(resets) == set(regmap.REGISTER_NAMES)
    for addr in sorted(resets):
        assert await tb.read(addr) == resets[addr], regmap.REGISTER_NAMES[addr]
    assert resets[regmap.REG_ID] == 0x48454731
    assert resets[regmap.REG_GATE_CAUSE] == EXHAUSTED | DISARMED
    assert int(dut.accel_enable_o.value) == 0
    await tb.finish()


@cocotb.test()
async def test_weights_write_read(dut):
    """Weights read back what was written, byte strobes merge, read-only writes are ignored."""
    tb = TB(dut, seed=2)
    await tb.reset()
    values = [tb.rng.getrandbits(32) for _ in WEIGHT_REGS]
    for reg, value in zip(WEIGHT_REGS, values):
        await tb.write(reg, value)
    for reg, value in zip(WEIGHT_REGS, values):
        assert await tb.read(reg) == value
    # Byte strobes: only byte 1 of WEIGHT_FP16 changes.
    await tb.write(regmap.REG_WEIGHT_FP16, 0xAABBCCDD, strb=0b0010)
    assert await tb.read(regmap.REG_WEIGHT_FP16) == (values[2] & ~0xFF00 & 0xFFFFFFFF) | 0xCC00
    # Read-only registers answer OKAY and keep their value.
    await tb.write(regmap.REG_ID, 0)
    await tb.write(regmap.REG_STATUS, 0xFFFFFFFF)
    await tb.write(regmap.REG_ACC_SNAP_0, 0x1234)
    assert await tb.read(regmap.REG_ID) == regmap.ID_MAGIC_RESET
    assert await tb.read(regmap.REG_STATUS) == 0
    assert await tb.read(regmap.REG_ACC_SNAP_0) == 0
    # GATE keeps only its 4-bit field.
    await tb.write(regmap.REG_GATE, 0xFFFFFFF9)
    assert await tb.read(regmap.REG_GATE) == 0x9
    await tb.finish()


@cocotb.test()
async def test_unmapped_slverr(dut):
    """Unmapped or unaligned addresses answer SLVERR on both channels and change nothing."""
    tb = TB(dut, seed=3)
    await tb.reset()
    holes = [0x078, 0x07C, 0x09C, 0x0A8, 0x0F0, 0x0FC, 0x160, 0x800, 0xFFC,
             0x001, 0x022, 0x04F, 0x019, 0x05E]
    for addr in holes:
        assert addr not in regmap.REGISTER_NAMES
        rsp = await tb.read_resp(addr)
        assert rsp.resp == 2 and rsp.data == 0, (hex(addr), rsp)
        wrsp = await tb.write_resp(addr, 0x6)
        assert wrsp.resp == 2, hex(addr)
    # A mapped access right after an error is OKAY again.
    assert (await tb.read_resp(regmap.REG_ID)).resp == 0
    assert (await tb.write_resp(regmap.REG_GATE, CLOSED)).resp == 0
    await tb.check_all_registers()
    await tb.finish()


@cocotb.test()
async def test_snapshot_coherence(dut):
    """Snapshots are coherent 128-bit copies taken in one cycle while ops keep flowing."""
    tb = TB(dut, seed=4)
    await tb.reset()
    # Put every lane just below a 32-bit word boundary so the live low words roll over
    # while the snapshot words are being read.
    for lane in range(len(regmap.LANES)):
        await tb.poke_count(lane, (1 << 32) - 50 + lane)
    await tb.poke_accumulator((1 << 64) - 1000)
    ops = [1000 + lane for lane in range(len(regmap.LANES))]
    await tb.set_ops(ops)
    for _ in range(4):
        snap = await tb.snapshot()
        again = await tb.snapshot()
        # Snapshots move forward by whole cycles of the constant op pattern.
        delta = again["NF4"] - snap["NF4"]
        assert delta > 0 and delta % ops[0] == 0
        cycles = delta // ops[0]
        for name in regmap.LANES:
            assert again[name] - snap[name] == cycles * ops[LANE[name]], name
        charge = sum(n * regmap.DEFAULT_WEIGHTS_MILLI[name] for n, name in zip(ops, regmap.LANES))
        assert again["ACC"] - snap["ACC"] == cycles * charge
        # The snapshot holds still while it is read.
        assert await tb.read_wide(regmap.REG_ACC_SNAP_0) == again["ACC"]
    assert snap["NF4"] > (1 << 32), "the low word should have rolled over"
    await tb.idle(2)
    await tb.finish()


@cocotb.test()
async def test_random_traffic(dut):
    """Constrained-random ops on every lane at full rate, with random bus traffic."""
    tb = TB(dut, seed=5, bus_delay=3)
    await tb.reset()
    await arm(tb, 1 << 45)
    cycles = 4000

    async def bus_traffic() -> None:
        rng = tb.rng
        readable = sorted(regmap.REGISTER_NAMES)
        while not done:
            kind = rng.random()
            if kind < 0.35:
                await tb.read(rng.choice(readable))
            elif kind < 0.5:
                await tb.write(regmap.REG_CTRL, rng.choice([0, 1, 0xFFFFFFFF]))
            elif kind < 0.65:
                reg = rng.choice(WEIGHT_REGS)
                weight = rng.choice([0, 1, 700, 1330, rng.getrandbits(32), 0xFFFFFFFF])
                await tb.write(reg, weight)
            elif kind < 0.75:
                await tb.write(regmap.REG_GATE, rng.choice([OPEN, OPEN, OPEN, CLOSED, rng.getrandbits(4)]))
            elif kind < 0.85:
                # Raise or lower the allowance around the live accumulator.
                acc = tb.model.acc
                await tb.write_limit(max(0, acc + rng.randint(-(1 << 48), 1 << 57)))
            elif kind < 0.9:
                await tb.write(regmap.REG_LIMIT_0 + 4 * rng.randint(0, 2), rng.getrandbits(32))
            elif kind < 0.95:
                await tb.write_resp(rng.choice([0x078, 0x0A0, 0x200, 0xFFC]), rng.getrandbits(32))
            else:
                await tb.read_resp(rng.choice([0x07C, 0x0F0, 0x3FC]))

    done = False
    traffic = cocotb.start_soon(bus_traffic())
    await tb.run_random_ops(cycles)
    done = True
    await traffic
    await tb.check_all_registers()
    assert tb.model.cycle > cycles
    tb.log.info("random traffic: %d cycles, gate open in %d", tb.model.cycle, tb.enable_cycles)
    assert tb.model.cycle // 10 < tb.enable_cycles < tb.model.cycle * 9 // 10, "gate should toggle"
    await tb.finish()


@cocotb.test()
async def test_exhaustion_latency(dut):
    """accel_enable_o drops exactly ENFORCEMENT_LATENCY_CYCLES (1) after the accumulator
    the gate decides from (acc_d: every op through the cycle before the last edge) reaches
    the limit; ops are still counted while closed; a higher limit reopens."""
    tb = TB(dut, seed=6)
    await tb.reset()
    assert ENFORCEMENT_LATENCY_CYCLES == 1
    per_cycle = 5
    charge = per_cycle * regmap.DEFAULT_WEIGHTS_MILLI["FP8"]
    for reach_cycles, extra in ((10, 0), (10, 1), (1, 0)):
        # limit hit exactly after reach_cycles (extra=0) or just past it (extra=1).
        start = tb.model.acc
        limit = start + reach_cycles * charge - (charge - 1 if extra else 0)
        await arm(tb, limit)
        # Watch the accumulator register and the enable output cycle by cycle.
        reached_at = dropped_at = None
        await tb.set_ops({LANE["FP8"]: per_cycle})
        for cycle in range(reach_cycles + 5):
            await FallingEdge(dut.clk_i)
            await ReadOnly()
            if reached_at is None and int(dut.u_core.acc_d.value) >= limit:
                reached_at = cycle
            if dropped_at is None and int(dut.accel_enable_o.value) == 0:
                dropped_at = cycle
        assert reached_at is not None and dropped_at is not None
        assert dropped_at - reached_at == ENFORCEMENT_LATENCY_CYCLES, (reached_at, dropped_at)
        await tb.idle(1)
        assert await tb.read(regmap.REG_GATE_CAUSE) == EXHAUSTED
        assert await tb.read(regmap.REG_STATUS) == 0
    # Accelerator view: an accelerator that stops when enable drops issues exactly the
    # ops of the cycles before the limit plus the two cycles still in the metering
    # pipeline (CHARGE_MAX undeclared), as the model predicts.
    await tb.idle(1)
    acc = tb.model.acc
    limit = acc + 10 * charge
    await arm(tb, limit)
    expect = tb.model.clone().drive(LANE["FP8"], 10_000, per_cycle)
    issued = await tb.drive(LANE["FP8"], 10_000, per_cycle)
    assert issued == expect == (10 + METERING_LATENCY_EDGES) * per_cycle
    # Metering never stops: ops while the gate is closed are counted.
    before = await tb.snapshot()
    await tb.set_ops({LANE["FP8"]: 7, LANE["INT8"]: 3})
    await ClockCycles(dut.clk_i, 20)
    await tb.set_ops({})
    after = await tb.snapshot()
    assert after["FP8"] - before["FP8"] >= 20 * 7
    assert after["INT8"] - before["INT8"] >= 20 * 3
    assert int(dut.accel_enable_o.value) == 0
    # A higher allowance reopens the gate.
    await tb.write_limit(after["ACC"] + 1)
    await tb.wait_enable(1, max_cycles=4)
    assert await tb.read(regmap.REG_GATE_CAUSE) == 0
    assert await tb.read(regmap.REG_STATUS) == ST_OPEN
    await tb.finish()


@cocotb.test()
async def test_limit_staging(dut):
    """LIMIT_0..2 are staged; only the LIMIT_3 write changes the effective limit."""
    tb = TB(dut, seed=7)
    await tb.reset()
    await arm(tb, 1000)
    for i in range(3):
        await tb.write(regmap.REG_LIMIT_0 + 4 * i, 0)
    for i, word in enumerate(wide_words(1000)):
        assert await tb.read(regmap.REG_LIMIT_0 + 4 * i) == word
    await ClockCycles(dut.clk_i, 3)
    assert int(dut.accel_enable_o.value) == 1
    await tb.write(regmap.REG_LIMIT_3, 0)
    await tb.wait_enable(0, max_cycles=4)
    assert await tb.read(regmap.REG_GATE_CAUSE) == EXHAUSTED
    await tb.write_limit(0x0123_4567_89AB_CDEF_0011_2233_4455_6677)
    assert await tb.read_wide(regmap.REG_LIMIT_0) == 0x0123_4567_89AB_CDEF_0011_2233_4455_6677
    await tb.finish()


@cocotb.test()
async def test_lane_saturation(dut):
    """A lane counter saturates at 2^128-1, never wraps, and sets STATUS.saturated."""
    tb = TB(dut, seed=8)
    await tb.reset()
    await tb.poke_count(LANE["NF4"], WIDE_MAX - 100)
    assert await tb.read(regmap.REG_STATUS) & ST_SAT == 0
    await tb.set_ops({LANE["NF4"]: 60, LANE["FP32"]: 1})
    await ClockCycles(dut.clk_i, 1)
    await tb.set_ops({})
    snap = await tb.snapshot()
    assert snap["NF4"] == WIDE_MAX - 40
    assert await tb.read(regmap.REG_STATUS) & ST_SAT == 0
    await tb.set_ops({LANE["NF4"]: 60, LANE["FP32"]: 1})
    await ClockCycles(dut.clk_i, 5)
    await tb.set_ops({})
    snap = await tb.snapshot()
    assert snap["NF4"] == WIDE_MAX
    assert snap["FP32"] < 100
    assert await tb.read(regmap.REG_STATUS) & ST_SAT
    for i in range(4):
        assert await tb.read(regmap.REG_COUNT_SNAP_NF4_0 + 4 * i) == 0xFFFFFFFF
    await tb.finish()


@cocotb.test()
async def test_accumulator_saturation(dut):
    """The accumulator saturates at 2^128-1 with the largest per-cycle charge, closes the
    gate even at the largest limit, and sets STATUS.saturated."""
    tb = TB(dut, seed=9)
    await tb.reset()
    for reg in WEIGHT_REGS:
        await tb.write(reg, 0xFFFFFFFF)
    await arm(tb, WIDE_MAX)
    max_charge = 6 * 0xFFFF * 0xFFFFFFFF
    await tb.poke_accumulator(WIDE_MAX - 2 * max_charge - 5)
    await tb.set_ops([0xFFFF] * 6)
    await ClockCycles(dut.clk_i, 1)
    await tb.set_ops({})
    snap = await tb.snapshot()
    assert snap["ACC"] == WIDE_MAX - max_charge - 5
    assert snap["NF4"] == 0xFFFF
    assert int(dut.accel_enable_o.value) == 1
    await tb.set_ops([0xFFFF] * 6)
    await tb.wait_enable(0, max_cycles=5)
    await tb.set_ops({})
    snap = await tb.snapshot()
    assert snap["ACC"] == WIDE_MAX
    assert await tb.read(regmap.REG_STATUS) == ST_SAT
    assert await tb.read(regmap.REG_GATE_CAUSE) == EXHAUSTED
    await tb.finish()


@cocotb.test()
async def test_disarm(dut):
    """Writing the closed code to GATE closes the gate one cycle after the write; metering
    continues; writing the open code again reopens it."""
    tb = TB(dut, seed=10)
    await tb.reset()
    await arm(tb, 1 << 100)
    await tb.set_ops({LANE["FP16"]: 3})
    await tb.write(regmap.REG_GATE, CLOSED)
    await tb.wait_enable(0, max_cycles=3)
    assert await tb.read(regmap.REG_GATE_CAUSE) == DISARMED
    assert await tb.read(regmap.REG_STATUS) == 0
    before = await tb.snapshot()
    await ClockCycles(dut.clk_i, 10)
    after = await tb.snapshot()
    assert after["FP16"] - before["FP16"] >= 30
    await tb.write(regmap.REG_GATE, OPEN)
    await tb.wait_enable(1, max_cycles=3)
    assert await tb.read(regmap.REG_GATE_CAUSE) == 0
    await tb.set_ops({})
    await tb.finish()


@cocotb.test()
async def test_invalid_gate_values(dut):
    """Only 4'h6 in GATE.enable opens the gate; every other value holds it closed."""
    tb = TB(dut, seed=11)
    await tb.reset()
    await tb.write_limit(1 << 64)
    for value in range(16):
        await tb.write(regmap.REG_GATE, value)
        await ClockCycles(dut.clk_i, 3)
        opened = int(dut.accel_enable_o.value)
        assert opened == (value == OPEN), hex(value)
        cause = await tb.read(regmap.REG_GATE_CAUSE)
        assert cause == (0 if value == OPEN else DISARMED), (hex(value), cause)
        assert await tb.read(regmap.REG_STATUS) & ST_FATAL == 0
    await tb.finish()


@cocotb.test()
async def test_gate_state_fault(dut):
    """A corrupted internal gate code (every single-bit flip of open and of closed, and
    'open' while a close cause is set) latches fatal and keeps the gate closed until reset."""
    tb = TB(dut, seed=12)
    faults = [(OPEN, OPEN ^ (1 << b)) for b in range(4)]
    faults += [(CLOSED, CLOSED ^ (1 << b)) for b in range(4)]
    faults += [(CLOSED, OPEN), (OPEN, CLOSED), (OPEN, 0x0), (OPEN, 0xF)]
    for armed_code, bad in faults:
        await tb.reset()
        await tb.write_limit(1 << 64)
        await tb.write(regmap.REG_GATE, armed_code)
        await tb.wait_enable(int(armed_code == OPEN), max_cycles=4)
        await tb.poke_gate_state(bad)
        await ReadOnly()
        assert int(dut.accel_enable_o.value) == 0, f"{armed_code:x}->{bad:x}"
        await ClockCycles(dut.clk_i, 2)
        assert int(dut.u_core.fatal_q.value) == 1
        assert await tb.read(regmap.REG_STATUS) == ST_FATAL
        cause = await tb.read(regmap.REG_GATE_CAUSE)
        assert cause & FATAL_CAUSE
        # Re-arming cannot clear it.
        await tb.write(regmap.REG_GATE, CLOSED)
        await tb.write(regmap.REG_GATE, OPEN)
        await ClockCycles(dut.clk_i, 5)
        assert int(dut.accel_enable_o.value) == 0
        assert await tb.read(regmap.REG_STATUS) == ST_FATAL
    await tb.reset()
    await arm(tb, 1 << 64)
    assert await tb.read(regmap.REG_STATUS) == ST_OPEN
    await tb.finish()


@cocotb.test()
async def test_bus_backpressure(dut):
    """Driven pin by pin: while R (or B) is held by the master, ARREADY (or AWREADY/WREADY
    once the holding registers are full) stays low, the held response does not change, the
    queued access is not performed, and it completes as soon as the response is taken."""
    tb = TB(dut, seed=13)
    await tb.reset()
    clk = dut.clk_i

    async def edge_then_sample():
        await RisingEdge(clk)
        await ReadOnly()

    # Reads: first AR taken, R held; a second AR waits.
    await RisingEdge(clk)
    dut.s_axil_rready_i.value = 0
    dut.s_axil_araddr_i.value = regmap.REG_ID
    dut.s_axil_arvalid_i.value = 1
    await ReadOnly()
    assert int(dut.s_axil_arready_o.value) == 1
    await RisingEdge(clk)
    dut.s_axil_araddr_i.value = regmap.REG_WEIGHT_FP64
    for _ in range(5):
        await ReadOnly()
        assert int(dut.s_axil_rvalid_o.value) == 1
        assert int(dut.s_axil_rdata_o.value) == regmap.ID_MAGIC_RESET
        assert int(dut.s_axil_arready_o.value) == 0
        await RisingEdge(clk)
    dut.s_axil_rready_i.value = 1
    tb.score_read(AxiLiteResponse(regmap.REG_ID, 0, regmap.ID_MAGIC_RESET))
    await edge_then_sample()  # R(ID) taken at this edge
    assert int(dut.s_axil_rvalid_o.value) == 0 and int(dut.s_axil_arready_o.value) == 1
    await edge_then_sample()  # AR(FP64) taken at this edge
    assert int(dut.s_axil_rvalid_o.value) == 1
    assert int(dut.s_axil_rdata_o.value) == regmap.DEFAULT_WEIGHTS_MILLI["FP64"]
    tb.score_read(AxiLiteResponse(regmap.REG_WEIGHT_FP64, 0, int(dut.s_axil_rdata_o.value)))
    await RisingEdge(clk)
    dut.s_axil_arvalid_i.value = 0
    await RisingEdge(clk)
    dut.s_axil_rready_i.value = 0

    # Writes: B held; the second write fills the holding registers and waits.
    dut.s_axil_bready_i.value = 0
    dut.s_axil_awaddr_i.value = regmap.REG_WEIGHT_NF4
    dut.s_axil_awvalid_i.value = 1
    await RisingEdge(clk)  # AW taken; W arrives later, on its own
    dut.s_axil_awvalid_i.value = 0
    await RisingEdge(clk)
    dut.s_axil_wdata_i.value = 111
    dut.s_axil_wstrb_i.value = 0xF
    dut.s_axil_wvalid_i.value = 1
    await RisingEdge(clk)  # W taken
    dut.s_axil_wvalid_i.value = 0
    await ReadOnly()
    await RisingEdge(clk)  # write performed
    dut.s_axil_awaddr_i.value = regmap.REG_WEIGHT_FP8
    dut.s_axil_awvalid_i.value = 1
    dut.s_axil_wdata_i.value = 222
    dut.s_axil_wvalid_i.value = 1
    await ReadOnly()
    assert int(dut.s_axil_bvalid_o.value) == 1
    assert int(dut.s_axil_awready_o.value) == 1 and int(dut.s_axil_wready_o.value) == 1
    await RisingEdge(clk)  # second AW and W taken into the holding registers
    dut.s_axil_awvalid_i.value = 0
    dut.s_axil_wvalid_i.value = 0
    for _ in range(5):
        await ReadOnly()
        assert int(dut.s_axil_bvalid_o.value) == 1
        assert int(dut.s_axil_awready_o.value) == 0 and int(dut.s_axil_wready_o.value) == 0
        assert int(dut.reg_we.value) == 0
        await RisingEdge(clk)
    dut.s_axil_bready_i.value = 1
    await ReadOnly()
    assert int(dut.reg_we.value) == 1  # performed at the edge that takes the first B
    await edge_then_sample()
    assert int(dut.s_axil_bvalid_o.value) == 1  # the second write's response
    await edge_then_sample()
    assert int(dut.s_axil_bvalid_o.value) == 0
    await RisingEdge(clk)
    dut.s_axil_bready_i.value = 0
    assert await tb.read(regmap.REG_WEIGHT_NF4) == 111
    assert await tb.read(regmap.REG_WEIGHT_FP8) == 222
    await tb.finish()


@cocotb.test()
async def test_cocotbext_axi_master(dut):
    """A second, independent AXI4-Lite master (cocotbext-axi 0.1.28) sees the same
    registers, responses and gate behaviour."""
    tb = TB(dut, seed=14, master="cocotbext")
    await tb.reset()
    assert await tb.read(regmap.REG_ID) == regmap.ID_MAGIC_RESET
    for reg in WEIGHT_REGS:
        await tb.write(reg, tb.rng.getrandbits(32))
    for addr in (0x078, 0x0A8, 0xFFC):
        assert (await tb.read_resp(addr)).resp == 2
        assert (await tb.write_resp(addr, 0)).resp == 2
    await arm(tb, 1 << 40)
    await tb.run_random_ops(200, max_ops=0xFF)
    await tb.check_all_registers()
    await tb.finish()


# ------------------------------------------------------------------ issue 3 features
KEY = regmap.WDOG_KICK_KEY_MAGIC
ARMED = regmap.WDOG_CTRL_ARM_ARMED
PAUSED = regmap.GATE_CAUSE_PAUSED_MASK
WATCHDOG = regmap.GATE_CAUSE_WATCHDOG_MASK
TAMPER = regmap.GATE_CAUSE_TAMPER_MASK
THROTTLED = regmap.GATE_CAUSE_THROTTLED_MASK
INTR_LOW = regmap.INTR_STATE_LOW_WATER_MASK
INTR_EXH = regmap.INTR_STATE_EXHAUSTED_MASK
INTR_FAULT = regmap.INTR_STATE_FAULT_MASK


async def falling_cycles(dut, n: int) -> None:
    for _ in range(n):
        await FallingEdge(dut.clk_i)


@cocotb.test()
async def test_config_lock(dut):
    """CFG_REGWEN is write-zero-to-clear: after it, WEIGHT_* and THROTTLE ignore writes
    (full or partial strobes), each attempt is counted in ERR_STATUS, writing 1 cannot
    unlock, and operational registers (GATE, LIMIT, PAUSE, LOWWATER) stay writable."""
    tb = TB(dut, seed=20)
    await tb.reset()
    await tb.write(regmap.REG_WEIGHT_FP8, 1234)
    await tb.write(regmap.REG_CFG_REGWEN, 0xFFFFFFFF)  # writing 1 changes nothing
    assert await tb.read(regmap.REG_CFG_REGWEN) == 1
    await tb.write(regmap.REG_CFG_REGWEN, 0, strb=0b1110)  # byte 0 not written: no lock
    assert await tb.read(regmap.REG_CFG_REGWEN) == 1
    await tb.write(regmap.REG_CFG_REGWEN, 0xFFFFFFFE)
    assert await tb.read(regmap.REG_CFG_REGWEN) == 0
    assert await tb.read(regmap.REG_STATUS) & regmap.STATUS_CFG_LOCKED_MASK
    before = [await tb.read(r) for r in WEIGHT_REGS]
    attempts = 0
    for reg in WEIGHT_REGS:
        await tb.write(reg, tb.rng.getrandbits(32))
        await tb.write(reg, 0xFFFFFFFF, strb=0b0100)
        attempts += 2
    await tb.write(regmap.REG_THROTTLE, 0x00020001)
    await tb.write(regmap.REG_CFG_REGWEN, 1)
    attempts += 1
    assert [await tb.read(r) for r in WEIGHT_REGS] == before
    assert await tb.read(regmap.REG_THROTTLE) == 0x00010001
    assert await tb.read(regmap.REG_CFG_REGWEN) == 0
    assert await tb.read(regmap.REG_ERR_STATUS) == attempts
    # Operational registers are not security configuration.
    await arm(tb, 1 << 40)
    await tb.write(regmap.REG_PAUSE, regmap.PAUSE_REQUEST_PAUSE)
    await tb.wait_enable(0, max_cycles=4)
    await tb.write(regmap.REG_PAUSE, regmap.PAUSE_REQUEST_RUN)
    await tb.wait_enable(1, max_cycles=4)
    await tb.write_lowwater(77)
    assert await tb.read(regmap.REG_LOWWATER_0) == 77
    await tb.finish()


@cocotb.test()
async def test_error_count_saturates(dut):
    """ERR_STATUS.locked_writes saturates at 0xFFFF (a deposit brings it near the top)."""
    tb = TB(dut, seed=21, bus_delay=0)
    await tb.reset()
    await tb.write(regmap.REG_CFG_REGWEN, 0)
    await FallingEdge(dut.clk_i)
    dut.locked_writes_q.value = 0xFFFD
    tb.model.locked_writes = 0xFFFD
    for _ in range(4):
        await tb.write(regmap.REG_WEIGHT_NF4, 1)
    assert await tb.read(regmap.REG_ERR_STATUS) == 0xFFFF
    await tb.finish()


@cocotb.test()
async def test_low_water_interrupt(dut):
    """INTR_STATE.low_water rises when the remaining allowance drops to LOWWATER; irq_o
    follows INTR_STATE & INTR_ENABLE; a W1C clear while the condition holds does not
    stick; a new grant lets it clear; INTR_TEST sets bits; the scoreboard checks irq_o
    against the model in every cycle."""
    tb = TB(dut, seed=22)
    await tb.reset()
    # Out of reset the limit is 0: low water and exhausted hold.
    assert await tb.read(regmap.REG_INTR_STATE) == INTR_LOW | INTR_EXH
    assert int(dut.irq_o.value) == 0  # nothing enabled
    charge = 4 * regmap.DEFAULT_WEIGHTS_MILLI["FP32"]
    await tb.write_limit(100 * charge)
    await tb.write_lowwater(30 * charge)
    await tb.write(regmap.REG_GATE, OPEN)
    await tb.write(regmap.REG_INTR_STATE, 0x7)
    assert await tb.read(regmap.REG_INTR_STATE) == 0
    await tb.write(regmap.REG_INTR_ENABLE, INTR_LOW)
    issued = await tb.drive(LANE["FP32"], 60 * 4, 4)
    assert issued == 240 and int(dut.irq_o.value) == 0
    assert await tb.read(regmap.REG_INTR_STATE) == 0
    issued = await tb.drive(LANE["FP32"], 12 * 4, 4)  # 72 cycles: remaining 28 <= 30
    await tb.idle(2)
    assert await tb.read(regmap.REG_INTR_STATE) == INTR_LOW
    assert int(dut.irq_o.value) == 1
    await tb.write(regmap.REG_INTR_STATE, INTR_LOW)  # condition still holds: set wins
    assert await tb.read(regmap.REG_INTR_STATE) == INTR_LOW
    # Grant more: remaining now above the threshold, the clear sticks.
    await tb.write_limit(tb.model.acc + 200 * charge)
    await tb.write(regmap.REG_INTR_STATE, INTR_LOW)
    assert await tb.read(regmap.REG_INTR_STATE) == 0
    assert int(dut.irq_o.value) == 0
    # INTR_TEST raises a bit, and only enabled bits drive irq_o.
    await tb.write(regmap.REG_INTR_TEST, INTR_FAULT)
    assert await tb.read(regmap.REG_INTR_STATE) == INTR_FAULT
    assert int(dut.irq_o.value) == 0
    await tb.write(regmap.REG_INTR_ENABLE, INTR_FAULT | INTR_EXH)
    await tb.idle(1)
    assert int(dut.irq_o.value) == 1
    await tb.write(regmap.REG_INTR_STATE, INTR_FAULT)
    # Exhaustion raises its own interrupt.
    await tb.drive(LANE["FP32"], 10**6, 4)
    await tb.idle(2)
    assert await tb.read(regmap.REG_INTR_STATE) & INTR_EXH
    assert int(dut.irq_o.value) == 1
    await tb.finish()


@cocotb.test()
async def test_pause(dut):
    """PAUSE holds the gate closed with cause paused; every code except run (0x9) pauses."""
    tb = TB(dut, seed=23)
    await tb.reset()
    await arm(tb, 1 << 80)
    for code in range(16):
        await tb.write(regmap.REG_PAUSE, code)
        await ClockCycles(dut.clk_i, 3)
        assert int(dut.accel_enable_o.value) == (code == regmap.PAUSE_REQUEST_RUN), hex(code)
        cause = await tb.read(regmap.REG_GATE_CAUSE)
        assert cause == (0 if code == regmap.PAUSE_REQUEST_RUN else PAUSED), (hex(code), cause)
    await tb.write(regmap.REG_PAUSE, regmap.PAUSE_REQUEST_RUN)
    await tb.wait_enable(1, max_cycles=4)
    await tb.finish()


async def kick_at(tb: TB, count: int, lag: int) -> None:
    """Perform a kick at the edge where WDOG_COUNT (before the edge) equals ``count``;
    ``lag`` is the measured number of edges from starting a write to performing it."""
    while tb.model.wdog_count + lag - 1 < count:
        await FallingEdge(tb.dut.clk_i)
    assert tb.model.wdog_count + lag - 1 == count, "asked for a count already passed"
    await tb.write(regmap.REG_WDOG_KICK, KEY)
    assert tb.kick_counts[-1] == count


@cocotb.test()
async def test_watchdog_edges(dut):
    """Windowed watchdog: kicks at WDOG_COUNT == WINDOW and == PERIOD-1 are accepted; at
    WINDOW-1 (early) or without a kick (late, at the edge where the count reaches PERIOD)
    the gate closes and stays closed until reset; config is locked once armed."""
    period, window = 200, 60
    tb = TB(dut, seed=24, bus_delay=0)
    for case in ("ok", "early", "late"):
        await tb.reset()
        await arm(tb, 1 << 80)
        await tb.write(regmap.REG_WDOG_PERIOD, period)
        await tb.write(regmap.REG_WDOG_WINDOW, window)
        assert await tb.read(regmap.REG_STATUS) & regmap.STATUS_WDOG_ARMED_MASK == 0
        await FallingEdge(dut.clk_i)
        await tb.write(regmap.REG_WDOG_CTRL, ARMED)
        assert await tb.read(regmap.REG_STATUS) & regmap.STATUS_WDOG_ARMED_MASK
        # Calibrate the bus latency with one in-window kick.
        await ClockCycles(dut.clk_i, window + 2)
        await FallingEdge(dut.clk_i)
        start = tb.model.wdog_count
        await tb.write(regmap.REG_WDOG_KICK, KEY)
        lag = tb.kick_counts[-1] - start + 1
        assert tb.model.watchdog is False
        # Locked once armed: no disarm, no new period.
        await tb.write(regmap.REG_WDOG_CTRL, regmap.WDOG_CTRL_ARM_DISARMED)
        await tb.write(regmap.REG_WDOG_PERIOD, 0xFFFFFFFF)
        await tb.write(regmap.REG_WDOG_WINDOW, 0)
        assert await tb.read(regmap.REG_ERR_STATUS) == 3
        assert await tb.read(regmap.REG_WDOG_CTRL) == ARMED
        assert await tb.read(regmap.REG_WDOG_PERIOD) == period
        if case == "ok":
            for _ in range(2):
                await kick_at(tb, window, lag)
                await kick_at(tb, period - 1, lag)
            await ClockCycles(dut.clk_i, period // 2)
            assert int(dut.accel_enable_o.value) == 1
            assert await tb.read(regmap.REG_GATE_CAUSE) == 0
        elif case == "early":
            await kick_at(tb, window - 1, lag)
            await tb.wait_enable(0, max_cycles=4)
            assert await tb.read(regmap.REG_GATE_CAUSE) == WATCHDOG
        else:
            # Count the cycles from the last kick to the enable dropping.
            await kick_at(tb, window, lag)
            kick_edge = tb.write_log[-1][0]
            while True:
                await FallingEdge(dut.clk_i)
                edge = tb.cycle - 1  # the enable seen now follows this edge
                await ReadOnly()
                if not int(dut.accel_enable_o.value):
                    break
            # Kick at edge K: the decisions at K+1..K+PERIOD stay open, K+PERIOD+1 closes.
            assert edge == kick_edge + period + 1, (edge, kick_edge)
            assert await tb.read(regmap.REG_GATE_CAUSE) == WATCHDOG
        if case != "ok":
            # Latched: a kick, re-arming the gate and a new allowance do not reopen it.
            await tb.write(regmap.REG_WDOG_KICK, KEY)
            await tb.write(regmap.REG_GATE, CLOSED)
            await tb.write(regmap.REG_GATE, OPEN)
            await tb.write_limit(1 << 90)
            await ClockCycles(dut.clk_i, 5)
            assert int(dut.accel_enable_o.value) == 0
            assert await tb.read(regmap.REG_GATE_CAUSE) & WATCHDOG
            assert await tb.read(regmap.REG_INTR_STATE) & INTR_FAULT
        tb.check()
    # Reset clears the latch and disarms.
    await tb.reset()
    await arm(tb, 1 << 80)
    assert await tb.read(regmap.REG_WDOG_CTRL) == regmap.WDOG_CTRL_ARM_DISARMED
    await tb.finish()


@cocotb.test()
async def test_tamper(dut):
    """tamper_i high for one cycle closes the gate from the edge that samples it (enable
    low in the next cycle), latches cause tamper and the fault interrupt until reset."""
    tb = TB(dut, seed=25)
    await tb.reset()
    await arm(tb, 1 << 80)
    await tb.write(regmap.REG_INTR_ENABLE, INTR_FAULT)
    await FallingEdge(dut.clk_i)
    dut.tamper_i.value = 1
    await FallingEdge(dut.clk_i)
    assert int(dut.accel_enable_o.value) == 0  # closed from the sampling edge
    dut.tamper_i.value = 0
    await ClockCycles(dut.clk_i, 5)
    assert int(dut.accel_enable_o.value) == 0
    assert await tb.read(regmap.REG_GATE_CAUSE) == TAMPER
    assert await tb.read(regmap.REG_INTR_STATE) & INTR_FAULT
    assert int(dut.irq_o.value) == 1
    await tb.write(regmap.REG_GATE, OPEN)
    await tb.write_limit(1 << 90)
    await ClockCycles(dut.clk_i, 3)
    assert int(dut.accel_enable_o.value) == 0
    await tb.reset()
    await arm(tb, 1 << 80)
    await tb.finish()


@cocotb.test()
async def test_throttle_windows(dut):
    """THROTTLE num/den: the enable pattern is open in throttle cycle n iff
    floor((n+1)num/den) > floor(n*num/den), checked cycle by cycle on the pin; every
    window of W cycles holds floor(W*num/den) or that plus one open cycles; an
    accelerator issues ops only in open cycles."""
    tb = TB(dut, seed=26, bus_delay=0)
    await tb.reset()
    await arm(tb, 1 << 100)
    for num, den in ((3, 7), (1, 2), (5, 5), (0, 4), (9, 0), (11, 13), (1, 16)):
        await tb.write(regmap.REG_THROTTLE, (den << 16) | num)
        write_edge = tb.write_log[-1][0]
        # Throttle cycle n = 0 follows edge write_edge + 1; the enable sampled at a falling
        # edge follows edge tb.cycle - 1.
        pattern = []
        await FallingEdge(dut.clk_i)
        while len(pattern) < 3 * max(den, 1) + 20:
            n = tb.cycle - 1 - (write_edge + 1)
            await ReadOnly()
            if n >= 0:
                assert n == len(pattern)
                pattern.append(int(dut.accel_enable_o.value))
            await FallingEdge(dut.clk_i)
        eff = min(num, den)
        for n, level in enumerate(pattern):
            expect = int(den != 0 and (n + 1) * eff // den > n * eff // den)
            assert level == expect, (num, den, n, pattern[:20])
        for width in range(1, len(pattern)):
            for start in range(len(pattern) - width + 1):
                got = sum(pattern[start:start + width])
                low = width * eff // den if den else 0
                assert low <= got <= low + 1, (num, den, start, width)
        if 0 < num < den:
            assert await tb.read(regmap.REG_GATE_CAUSE) in (0, THROTTLED)
    # An accelerator on a 1/3 duty cycle: ops only in open cycles, scored by the model.
    await tb.write(regmap.REG_THROTTLE, (3 << 16) | 1)
    await tb.set_ops({})
    before = await tb.snapshot()
    issued = 0
    for _ in range(60):
        await FallingEdge(dut.clk_i)
        n = 5 if int(dut.accel_enable_o.value) else 0
        tb._set_ops([0, n, 0, 0, 0, 0])
        issued += n
    await tb.set_ops({})
    after = await tb.snapshot()
    assert after["FP8"] - before["FP8"] == issued
    assert 19 * 5 <= issued <= 21 * 5
    await tb.finish()


@cocotb.test()
async def test_countermeasures(dut):
    """Corrupting the accumulator, its shadow, the committed limit or its shadow shows
    STATUS.fatal at once, closes the gate at the next edge and latches until reset."""
    tb = TB(dut, seed=27)
    for target in ("acc", "acc_n", "limit", "limit_n", "acc_consistent_above_limit"):
        await tb.reset()
        await arm(tb, 1 << 64)
        await tb.set_ops({LANE["FP8"]: 3})
        await ClockCycles(dut.clk_i, 5)
        if target == "acc":
            await tb.corrupt_accumulator(tb.model.acc ^ (1 << 77))
        elif target == "acc_n":
            await FallingEdge(dut.clk_i)
            dut.u_core.acc_n_q.value = int(dut.u_core.acc_n_q.value) ^ 1
            tb.model.acc_n ^= 1
        elif target == "limit":
            await tb.corrupt_limit(tb.model.limit ^ (1 << 3))
        elif target == "limit_n":
            await FallingEdge(dut.clk_i)
            dut.limit_n_q.value = int(dut.limit_n_q.value) ^ (1 << 127)
            tb.model.limit_n ^= 1 << 127
        else:
            # A consistent deposit above the limit is not a fault: exhaustion closes it.
            await tb.poke_accumulator((1 << 64) + 5)
        await ReadOnly()
        fatal_now = int(dut.u_core.fatal_o.value)
        await FallingEdge(dut.clk_i)
        await ReadOnly()
        assert int(dut.accel_enable_o.value) == 0, target
        await tb.set_ops({})
        status = await tb.read(regmap.REG_STATUS)
        cause = await tb.read(regmap.REG_GATE_CAUSE)
        if target == "acc_consistent_above_limit":
            assert not fatal_now and status & ST_FATAL == 0 and cause == EXHAUSTED
            continue
        assert fatal_now, target
        assert status & ST_FATAL and cause & FATAL_CAUSE, (target, status, cause)
        await tb.write_limit(1 << 100)
        await tb.write(regmap.REG_GATE, OPEN)
        await ClockCycles(dut.clk_i, 4)
        assert int(dut.accel_enable_o.value) == 0, target
        assert int(dut.u_core.fatal_q.value) == 1
    await tb.reset()
    await arm(tb, 1 << 64)
    await tb.finish()


@cocotb.test()
async def test_saturation_register(dut):
    """SATURATION shows which counter saturated (sticky), each lane and the accumulator."""
    tb = TB(dut, seed=28)
    await tb.reset()
    for lane in (LANE["FP16"], LANE["INT8"]):
        await tb.poke_count(lane, WIDE_MAX - 3)
    await tb.poke_accumulator(WIDE_MAX - 10)
    await tb.set_ops({LANE["FP16"]: 4, LANE["NF4"]: 1})
    await ClockCycles(dut.clk_i, 2)
    await tb.set_ops({})
    sat = await tb.read(regmap.REG_SATURATION)
    assert sat == regmap.SATURATION_FP16_MASK | regmap.SATURATION_ACC_MASK, hex(sat)
    await tb.set_ops({LANE["INT8"]: 9})
    await ClockCycles(dut.clk_i, 1)
    await tb.set_ops({})
    await ClockCycles(dut.clk_i, METERING_LATENCY_EDGES - 1)  # the ops reach the counter
    assert await tb.read(regmap.REG_SATURATION) == (regmap.SATURATION_FP16_MASK
                                                     | regmap.SATURATION_INT8_MASK
                                                     | regmap.SATURATION_ACC_MASK)
    assert await tb.read(regmap.REG_STATUS) & ST_SAT
    await tb.finish()


@cocotb.test()
async def test_random_all_features(dut):
    """Constrained random: every lane at full rate (new random counts every cycle, bursts
    of the largest count), bus traffic over every register with random AXI handshake
    delays and response backpressure, pause/throttle/lock/low-water/interrupt writes,
    a watchdog kicked in its window, and tamper near the end. Scored every cycle."""
    tb = TB(dut, seed=29, bus_delay=4)
    await tb.reset()
    await arm(tb, 1 << 50)
    await tb.write(regmap.REG_WDOG_PERIOD, 400)
    await tb.write(regmap.REG_WDOG_WINDOW, 20)
    await tb.write(regmap.REG_WDOG_CTRL, ARMED)
    await tb.write(regmap.REG_INTR_ENABLE, 0x7)
    done = False

    async def kicker() -> None:
        while not done:
            while tb.model.wdog_count < 60 and not done:
                await FallingEdge(dut.clk_i)
            if done:
                break  # stopping is no reason to kick early
            kicks = len(tb.kick_counts)
            await tb.write(regmap.REG_WDOG_KICK, KEY)
            # The B response can return before the monitor has scored the kick's edge:
            # wait for it, or the next loop reads the count from before the kick.
            while len(tb.kick_counts) == kicks:
                await FallingEdge(dut.clk_i)

    async def bus_traffic() -> None:
        rng = tb.rng
        readable = sorted(regmap.REGISTER_NAMES)
        while not done:
            kind = rng.random()
            if kind < 0.3:
                await tb.read(rng.choice(readable))
            elif kind < 0.4:
                await tb.write(regmap.REG_CTRL, 1)
            elif kind < 0.5:
                await tb.write(rng.choice(WEIGHT_REGS), rng.choice([0, 700, 1330, rng.getrandbits(32)]))
            elif kind < 0.58:
                await tb.write(regmap.REG_PAUSE, rng.choice([regmap.PAUSE_REQUEST_RUN] * 3
                                                            + [regmap.PAUSE_REQUEST_PAUSE]))
            elif kind < 0.66:
                den = rng.randint(1, 9)
                await tb.write(regmap.REG_THROTTLE, rng.choice([0x00010001, (den << 16) | rng.randint(0, den)]))
            elif kind < 0.76:
                acc = tb.model.acc
                await tb.write_limit(max(0, acc + rng.randint(-(1 << 40), 1 << 52)))
            elif kind < 0.82:
                await tb.write_lowwater(rng.getrandbits(rng.choice([20, 40, 52])))
            elif kind < 0.9:
                await tb.write(regmap.REG_INTR_STATE, rng.getrandbits(3))
            elif kind < 0.93:
                await tb.write(regmap.REG_INTR_TEST, rng.getrandbits(3) & rng.getrandbits(3))
            elif kind < 0.95 and tb.model.cycle > 2500:
                await tb.write(regmap.REG_CFG_REGWEN, 0)
            else:
                await tb.write(regmap.REG_GATE, rng.choice([OPEN, OPEN, CLOSED]))

    kick = cocotb.start_soon(kicker())
    traffic = cocotb.start_soon(bus_traffic())
    await tb.run_random_ops(1500)
    await tb.set_ops([0xFFFF] * 6)
    await ClockCycles(dut.clk_i, 50)
    await tb.run_random_ops(1500, p_valid=1.0)
    await tb.set_tamper(1)
    await tb.run_random_ops(100)
    await tb.set_tamper(0)
    done = True
    await traffic
    await kick
    await tb.check_all_registers()
    assert tb.model.watchdog is False, f"kicker kept the watchdog fed: {tb.kick_counts}"
    assert tb.model.tamper
    tb.log.info("all features: %d cycles, open %d, irq %d", tb.model.cycle, tb.enable_cycles,
                tb.irq_cycles)
    # Random limits a few cycles' charge ahead keep the gate mostly exhausted; it must
    # still have opened for a good number of cycles for the scoreboard to mean much.
    assert tb.enable_cycles > 50
    await tb.finish()


# ------------------------------------------------------------ no overshoot (issue 10)
@cocotb.test()
async def test_no_overshoot_with_charge_max(dut):
    """Issue 10: a 1e6-sFLOP license at 65,535 FP64 ops per cycle overshot by 13%. With
    CHARGE_MAX declared and locked, an accelerator at full rate stops within the limit."""
    tb = TB(dut, seed=31)
    await tb.reset()
    weight = regmap.DEFAULT_WEIGHTS_MILLI["FP64"]
    allowance = 10**9
    for i, word in enumerate(wide_words(0xFFFF * weight)[:2]):
        await tb.write(regmap.REG_CHARGE_MAX_0 + 4 * i, word)
    await tb.write(regmap.REG_CFG_REGWEN, 0)
    await tb.write(regmap.REG_CHARGE_MAX_1, 0)  # locked: ignored and counted
    await tb.write_limit(allowance)
    await tb.write(regmap.REG_GATE, OPEN)
    await tb.wait_enable(1, max_cycles=4)
    issued = await tb.drive(LANE["FP64"], 10**9, 0xFFFF)
    await tb.idle(3)
    snap = await tb.snapshot()
    assert snap["ACC"] == issued * weight <= allowance
    assert allowance - snap["ACC"] < 2 * 0xFFFF * weight
    assert snap["FP64"] == issued
    assert await tb.read(regmap.REG_GATE_CAUSE) == EXHAUSTED
    assert await tb.read(regmap.REG_ERR_STATUS) == 1
    await tb.finish()


@cocotb.test()
async def test_overrate_latches(dut):
    """A cycle that charges more than the declared CHARGE_MAX latches GATE_CAUSE.overrate
    (and the fault interrupt) until reset; the excess is metered."""
    tb = TB(dut, seed=32)
    await tb.reset()
    await tb.write(regmap.REG_CHARGE_MAX_0, 5 * 1000)
    await tb.write(regmap.REG_CHARGE_MAX_1, 0)
    await tb.write(regmap.REG_INTR_ENABLE, INTR_FAULT)
    await arm(tb, 1 << 40)
    await tb.set_ops({LANE["FP8"]: 5})
    await ClockCycles(dut.clk_i, 10)
    assert int(dut.accel_enable_o.value) == 1
    await tb.set_ops({LANE["FP8"]: 6})
    await tb.set_ops({})
    await tb.wait_enable(0, max_cycles=4)
    assert await tb.read(regmap.REG_GATE_CAUSE) == regmap.GATE_CAUSE_OVERRATE_MASK
    assert int(dut.irq_o.value) == 1
    await tb.write(regmap.REG_INTR_STATE, INTR_FAULT)
    await ClockCycles(dut.clk_i, 20)
    assert int(dut.accel_enable_o.value) == 0
    snap = await tb.snapshot()
    # Every op is metered, the excess cycle's too: cycles of 5 and the one of 6.
    assert snap["FP8"] % 5 == 1 and snap["ACC"] == snap["FP8"] * 1000
    await tb.finish()
