"""Runs the C firmware against the real RTL under each simulator (see cocotb_firmware_on_rtl)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from cocotb_tools.runner import get_runner

from meter_tb import runner_args

TEST_MODULE = "cocotb_firmware_on_rtl"


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_firmware_on_rtl(sim: str) -> None:
    args = runner_args(sim)
    runner = get_runner(sim)
    runner.build(**args["build"])
    results = runner.test(test_module=TEST_MODULE, **args["test"])
    cases = ET.parse(results).getroot().findall(".//testcase")
    assert [c.get("name") for c in cases] == ["firmware_license_to_exhaustion_on_rtl"]
    problems = [c.get("name") for c in cases
                if c.find("failure") is not None or c.find("error") is not None
                or c.find("skipped") is not None]
    assert not problems, f"{sim}: {problems}"
