"""Runs the C firmware against the real RTL under each simulator (see cocotb_firmware_on_rtl)."""

from __future__ import annotations

import pytest

from meter_tb import runner_args
from rtl_runner import SIMULATORS, build, run_cocotb_test

TEST_MODULE = "cocotb_firmware_on_rtl"


@pytest.mark.rtl
@pytest.mark.parametrize("sim", SIMULATORS)
def test_firmware_on_rtl(sim: str) -> None:
    run_cocotb_test(build(sim, runner_args(sim)), TEST_MODULE,
                    "firmware_license_to_exhaustion_on_rtl")
