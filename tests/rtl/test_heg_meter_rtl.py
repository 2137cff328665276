"""Runs the cocotb tests of hdl/rtl/heg_meter.v (cocotb_heg_meter.py) under Icarus Verilog
and Verilator: one build per simulator (build/rtl/<sim>/), one pytest item per cocotb test."""

from __future__ import annotations

import pytest

from coverage import METER_COVERPOINTS, merged
from meter_tb import coverage_dir, runner_args
from rtl_runner import SIMULATORS, build, cocotb_tests, run_cocotb_test

TEST_MODULE = "cocotb_heg_meter"
COCOTB_TESTS = cocotb_tests(TEST_MODULE)


@pytest.fixture(scope="module", params=SIMULATORS)
def built(request):
    sim = request.param
    return build(sim, runner_args(sim), list(coverage_dir(sim).glob("meter-*.json")))


def test_every_cocotb_test_is_collected() -> None:
    assert len(COCOTB_TESTS) >= 14, COCOTB_TESTS


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", COCOTB_TESTS)
def test_heg_meter_rtl(built, testcase: str) -> None:
    run_cocotb_test(built, TEST_MODULE, testcase)


@pytest.mark.rtl
def test_functional_coverage(built) -> None:
    """Every meter coverpoint was hit by the cocotb tests above on this simulator (pytest
    runs this after them: same module-scoped build fixture, later in the file)."""
    sim = built[0]
    hits = merged(coverage_dir(sim), "meter")
    missing = [name for name in METER_COVERPOINTS if not hits[name]]
    assert not missing, f"{sim}: unhit coverpoints {missing} (run the whole module)"
