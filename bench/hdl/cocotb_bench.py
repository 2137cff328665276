"""cocotb side of bench/hdl/bench.py: writes one JSON result to $HEG_BENCH_OUT."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

CYCLES = int(os.environ.get("HEG_BENCH_CYCLES", "200000"))


async def _reset(dut):
    dut.rst_ni.value = 0
    cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())
    await ClockCycles(dut.clk_i, 3)
    await FallingEdge(dut.clk_i)
    dut.rst_ni.value = 1


@cocotb.test()
async def bench_bare_counter(dut):
    dut.inc_i.value = 3
    await _reset(dut)
    start = time.perf_counter()
    await ClockCycles(dut.clk_i, CYCLES)
    wall = time.perf_counter() - start
    await ReadOnly()
    assert int(dut.count_o.value) in (3 * CYCLES, 3 * (CYCLES + 1))
    _emit({"baseline_cycles_per_s": CYCLES / wall})


@cocotb.test()
async def bench_heg_meter(dut):
    from axil_master import AxiLiteMaster
    from openheg import regmap
    bus = AxiLiteMaster(dut, dut.clk_i)
    dut.op_valid_i.value = 0
    dut.op_count_i.value = 0
    dut.tamper_i.value = 0
    await _reset(dut)
    # Enforcement latency: grant exactly 10 cycles of 1 FP8 op, count cycles from the edge
    # where the accumulator reaches the limit to the enable dropping.
    limit = 10 * regmap.DEFAULT_WEIGHTS_MILLI["FP8"]
    for i in range(4):
        await bus.write(regmap.REG_LIMIT_0 + 4 * i, (limit >> (32 * i)) & 0xFFFFFFFF)
    await bus.write(regmap.REG_GATE, regmap.GATE_ENABLE_OPEN)
    await FallingEdge(dut.clk_i)
    dut.op_valid_i.value = 1 << 1
    dut.op_count_i.value = 1 << 16
    reached = dropped = None
    for cycle in range(40):
        await FallingEdge(dut.clk_i)
        await ReadOnly()
        if reached is None and int(dut.u_core.acc_d.value) >= limit:  # the metered total
            reached = cycle
        if reached is not None and dropped is None and not int(dut.accel_enable_o.value):
            dropped = cycle
    latency = dropped - reached
    # Throughput: every lane valid every cycle, count 1..6; events accepted per cycle per
    # lane = counter increase / (cycles * ops per event).
    await FallingEdge(dut.clk_i)
    await bus.write(regmap.REG_CTRL, 1)
    before = [int(dut.u_core.count_q.value) >> (128 * l) & ((1 << 128) - 1) for l in range(6)]
    await FallingEdge(dut.clk_i)
    dut.op_valid_i.value = 0x3F
    dut.op_count_i.value = sum((l + 1) << (16 * l) for l in range(6))
    start = time.perf_counter()
    await ClockCycles(dut.clk_i, CYCLES)
    wall = time.perf_counter() - start
    await FallingEdge(dut.clk_i)
    dut.op_valid_i.value = 0
    await ReadOnly()
    after = [int(dut.u_core.count_q.value) >> (128 * l) & ((1 << 128) - 1) for l in range(6)]
    # ClockCycles(N) then one falling edge: N edges with ops.
    per_lane = [(a - b) / ((l + 1) * CYCLES) for l, (a, b) in enumerate(zip(after, before))]
    _emit({"events_per_cycle_per_lane": min(per_lane), "enforcement_latency_cycles": latency,
           "block_cycles_per_s": CYCLES / wall})


def _emit(values: dict) -> None:
    path = Path(os.environ["HEG_BENCH_OUT"])
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(values)
    path.write_text(json.dumps(data))
