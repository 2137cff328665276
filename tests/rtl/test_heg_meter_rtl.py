"""Runs the cocotb tests of hdl/rtl/heg_meter.v (cocotb_heg_meter.py) under Icarus Verilog
and Verilator: one build per simulator (build/rtl/<sim>/), one pytest item per cocotb test."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cocotb_tools.runner import get_runner

from coverage import METER_COVERPOINTS, merged
from meter_tb import coverage_dir, runner_args

SIMULATORS = ["icarus", "verilator"]
TEST_MODULE = "cocotb_heg_meter"


def cocotb_tests() -> list[str]:
    """Names of the @cocotb.test functions in the test module, in file order."""
    tree = ast.parse((Path(__file__).parent / f"{TEST_MODULE}.py").read_text())
    return [
        node.name for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef)
        and any("cocotb.test" in ast.unparse(d) for d in node.decorator_list)
    ]


COCOTB_TESTS = cocotb_tests()


@pytest.fixture(scope="module", params=SIMULATORS)
def built(request):
    sim = request.param
    for stale in coverage_dir(sim).glob("meter-*.json"):
        stale.unlink()
    args = runner_args(sim)
    runner = get_runner(sim)
    runner.build(**args["build"])
    return sim, runner, args


def test_every_cocotb_test_is_collected() -> None:
    assert len(COCOTB_TESTS) >= 14, COCOTB_TESTS


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", COCOTB_TESTS)
def test_heg_meter_rtl(built, testcase: str) -> None:
    sim, runner, args = built
    results = runner.test(test_module=TEST_MODULE, testcase=testcase,
                          results_xml=str(Path(args["test"]["test_dir"]) / f"{testcase}.xml"),
                          **args["test"])
    cases = ET.parse(results).getroot().findall(".//testcase")
    assert [c.get("name") for c in cases] == [testcase], f"{sim}: ran {cases}"
    for case in cases:
        for bad in ("failure", "error", "skipped"):
            assert case.find(bad) is None, f"{sim} {testcase}: {bad}"


@pytest.mark.rtl
def test_functional_coverage(built) -> None:
    """Every meter coverpoint was hit by the cocotb tests above on this simulator (pytest
    runs this after them: same module-scoped build fixture, later in the file)."""
    sim = built[0]
    hits = merged(coverage_dir(sim), "meter")
    missing = [name for name in METER_COVERPOINTS if not hits[name]]
    assert not missing, f"{sim}: unhit coverpoints {missing} (run the whole module)"
