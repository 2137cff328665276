"""Runs the cocotb tests of hdl/rtl/heg_counter_frontend.v under Icarus Verilog and
Verilator, and checks the front end's model against the meter model in pure Python."""

from __future__ import annotations

import random

import pytest

from openheg import frontendmap, regmap
from openheg_sim.counter_frontend_model import CounterFrontendModel
from openheg_sim.meter_model import MeterModel
from rtl_runner import SIMULATORS, block_runner_args, build, cocotb_tests, run_cocotb_test

TEST_MODULE = "cocotb_counter_frontend"
COCOTB_TESTS = cocotb_tests(TEST_MODULE)
TOPLEVEL = "heg_counter_frontend"


@pytest.fixture(scope="module", params=SIMULATORS)
def built(request):
    return build(request.param, block_runner_args(request.param, TOPLEVEL, "frontend"))


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", COCOTB_TESTS)
def test_counter_frontend_rtl(built, testcase: str) -> None:
    run_cocotb_test(built, TEST_MODULE, testcase)


def test_peak_registers_follow_the_meter_lanes() -> None:
    names = [n.removeprefix("PEAK_") for n in frontendmap.REGISTER_NAMES.values()
             if n.startswith("PEAK_")]
    assert names == list(regmap.LANES)
    addrs = [getattr(frontendmap, f"REG_PEAK_{n}") for n in regmap.LANES]
    assert addrs == [addrs[0] + 4 * i for i in range(len(addrs))]


def test_front_end_feeds_the_meter_every_reported_op() -> None:
    """Front end model into the meter model: the metered total is exactly the reported
    rises times the weights, and no lane event passes its peak."""
    rng = random.Random(7)
    fe, meter = CounterFrontendModel(), MeterModel()
    peaks = [rng.randint(1, 3000) for _ in regmap.LANES]
    fe.set_peaks(peaks)
    counters = [rng.getrandbits(30) for _ in regmap.LANES]
    base = list(counters)
    fe.step(counters)
    meter.step(fe.events)
    for _ in range(300):
        gap = rng.randint(1, 20)
        for _ in range(gap - 1):
            fe.step()
            meter.step(fe.events)
        counters = [c + rng.randint(0, p * gap) for c, p in zip(counters, peaks)]
        fe.step(counters)
        meter.step(fe.events)
        assert all(e <= p for e, p in zip(fe.events, peaks))
    for _ in range(100):
        fe.step()
        meter.step(fe.events)
    meter.idle(2)
    rises = [c - b for c, b in zip(counters, base)]
    assert meter.counts == rises and not fe.tamper
    assert meter.acc == sum(r * regmap.DEFAULT_WEIGHTS_MILLI[n] for r, n in zip(rises, regmap.LANES))
