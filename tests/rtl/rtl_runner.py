"""Running cocotb test modules from pytest through cocotb's runner.

One build per simulator and test bench, one pytest item per cocotb test, and
a check that exactly that cocotb test ran and passed (a cocotb failure,
error or skip fails the pytest item).
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from cocotb_tools.runner import Runner, get_runner

SIMULATORS = ["icarus", "verilator"]
TESTS_DIR = Path(__file__).resolve().parent


def cocotb_tests(test_module: str) -> list[str]:
    """Names of the @cocotb.test functions in a test module, in file order."""
    tree = ast.parse((TESTS_DIR / f"{test_module}.py").read_text())
    return [
        node.name for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef)
        and any("cocotb.test" in ast.unparse(d) for d in node.decorator_list)
    ]


def build(sim: str, args: dict[str, Any], stale: list[Path] = ()) -> tuple[str, Runner, dict]:
    """Build the bench for ``sim`` from ``runner_args(sim)``, removing ``stale`` files first."""
    for path in stale:
        path.unlink()
    runner = get_runner(sim)
    runner.build(**args["build"])
    return sim, runner, args


def run_cocotb_test(built: tuple[str, Runner, dict], test_module: str, testcase: str) -> None:
    sim, runner, args = built
    results = runner.test(test_module=test_module, testcase=testcase,
                          results_xml=str(Path(args["test"]["test_dir"]) / f"{testcase}.xml"),
                          **args["test"])
    cases = ET.parse(results).getroot().findall(".//testcase")
    assert [c.get("name") for c in cases] == [testcase], f"{sim}: ran {cases}"
    for case in cases:
        for bad in ("failure", "error", "skipped"):
            assert case.find(bad) is None, f"{sim} {testcase}: {bad}"
