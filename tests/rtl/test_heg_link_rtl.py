"""Runs the cocotb tests of hdl/rtl/heg_link.v (cocotb_heg_link.py) under Icarus Verilog
and Verilator: one build per simulator, one pytest item per cocotb test."""

from __future__ import annotations

import os

import pytest

from blocks import INCLUDES, sources
from limiter_tb import DATA_W, REPO, TESTS_DIR, USER_W
from rtl_runner import SIMULATORS, build, cocotb_tests, run_cocotb_test

TEST_MODULE = "cocotb_heg_link"
COCOTB_TESTS = cocotb_tests(TEST_MODULE)
TOPLEVEL = "heg_link"
assert INCLUDES[TOPLEVEL]


def runner_args(sim: str) -> dict:
    build_dir = REPO / "build" / "rtl" / f"link-{sim}"
    pythonpath = os.pathsep.join(
        p for p in (str(TESTS_DIR), str(REPO / "tools" / "hdl"), os.environ.get("PYTHONPATH", ""))
        if p)
    return {
        "build": {
            "sources": sources(TOPLEVEL),
            "includes": [REPO / "hdl" / "rtl"],
            "hdl_toplevel": TOPLEVEL,
            "build_dir": build_dir,
            "build_args": ["-g2005"] if sim == "icarus" else [],
            "parameters": {"DATA_W": DATA_W, "USER_W": USER_W},
            "timescale": ("1ns", "1ps"),
        },
        "test": {
            "hdl_toplevel": TOPLEVEL,
            "build_dir": build_dir,
            "test_dir": build_dir,
            "extra_env": {"PYTHONPATH": pythonpath},
            "timescale": ("1ns", "1ps"),
        },
    }


@pytest.fixture(scope="module", params=SIMULATORS)
def built(request):
    return build(request.param, runner_args(request.param))


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", COCOTB_TESTS)
def test_heg_link_rtl(built, testcase: str) -> None:
    run_cocotb_test(built, TEST_MODULE, testcase)
