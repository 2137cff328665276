"""Runs the cocotb tests of hdl/rtl/heg_link.v (cocotb_heg_link.py) under Icarus Verilog
and Verilator: one build per simulator, one pytest item per cocotb test."""

from __future__ import annotations

import pytest

from blocks import INCLUDES
from limiter_tb import DATA_W, USER_W
from rtl_runner import SIMULATORS, block_runner_args, build, cocotb_tests, run_cocotb_test

TEST_MODULE = "cocotb_heg_link"
COCOTB_TESTS = cocotb_tests(TEST_MODULE)
TOPLEVEL = "heg_link"
assert INCLUDES[TOPLEVEL]


@pytest.fixture(scope="module", params=SIMULATORS)
def built(request):
    return build(request.param, block_runner_args(request.param, TOPLEVEL, "link",
                                                  {"DATA_W": DATA_W, "USER_W": USER_W}))


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", COCOTB_TESTS)
def test_heg_link_rtl(built, testcase: str) -> None:
    run_cocotb_test(built, TEST_MODULE, testcase)
