"""Running cocotb test modules from pytest through cocotb's runner.

One build per simulator and test bench, one pytest item per cocotb test, and
a check that exactly that cocotb test ran and passed (a cocotb failure,
error or skip fails the pytest item).
"""

from __future__ import annotations

import ast
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from cocotb_tools.runner import Runner, get_runner

SIMULATORS = ["icarus", "verilator"]
TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parents[1]


def block_runner_args(sim: str, block: str, tag: str, parameters: dict | None = None) -> dict:
    """cocotb runner ``build``/``test`` kwargs for a block of tools/hdl/blocks.py, built in
    build/rtl/<tag>-<sim>/ with tests/rtl and tools/hdl on the test's PYTHONPATH."""
    from blocks import sources
    build_dir = REPO / "build" / "rtl" / f"{tag}-{sim}"
    pythonpath = os.pathsep.join(p for p in (str(TESTS_DIR), str(REPO / "tools" / "hdl"),
                                             os.environ.get("PYTHONPATH", "")) if p)
    common = {"hdl_toplevel": block, "build_dir": build_dir, "timescale": ("1ns", "1ps")}
    return {
        "build": {**common, "sources": sources(block), "includes": [REPO / "hdl" / "rtl"],
                  "build_args": ["-g2005"] if sim == "icarus" else [],
                  "parameters": dict(parameters or {})},
        "test": {**common, "test_dir": build_dir, "extra_env": {"PYTHONPATH": pythonpath}},
    }


def mutant(tmp_path: Path, name: str, edits: list[tuple[str, str]]) -> Path:
    """A copy of hdl/rtl with ``edits`` (old, new) applied to ``name``; each must apply."""
    for source in (REPO / "hdl" / "rtl").iterdir():
        (tmp_path / source.name).write_text(source.read_text())
    text = (tmp_path / name).read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    (tmp_path / name).write_text(text)
    return tmp_path


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
