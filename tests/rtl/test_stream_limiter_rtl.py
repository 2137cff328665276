"""Runs the cocotb tests of hdl/rtl/heg_stream_limiter.v under Icarus and Verilator, then
checks that every limiter coverpoint was hit; the model's own properties are pure Python."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cocotb_tools.runner import get_runner

from coverage import LIMITER_COVERPOINTS, merged
from limiter_tb import coverage_dir, runner_args
from openheg_sim.stream_limiter_model import Beat, StreamLimiterModel

SIMULATORS = ["icarus", "verilator"]
TEST_MODULE = "cocotb_stream_limiter"
COCOTB_TESTS = [
    node.name for node in ast.parse((Path(__file__).parent / f"{TEST_MODULE}.py").read_text()).body
    if isinstance(node, ast.AsyncFunctionDef)
    and any("cocotb.test" in ast.unparse(d) for d in node.decorator_list)
]


@pytest.fixture(scope="module", params=SIMULATORS)
def built(request):
    sim = request.param
    for stale in coverage_dir(sim).glob("limiter-*.json"):
        stale.unlink()
    args = runner_args(sim)
    runner = get_runner(sim)
    runner.build(**args["build"])
    return sim, runner, args


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", COCOTB_TESTS)
def test_stream_limiter_rtl(built, testcase: str) -> None:
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
def test_limiter_functional_coverage(built) -> None:
    sim = built[0]
    hits = merged(coverage_dir(sim), "limiter")
    missing = [name for name in LIMITER_COVERPOINTS if not hits[name]]
    assert not missing, f"{sim}: unhit coverpoints {missing} (run the whole module)"


def test_model_window_bound() -> None:
    """Property of the model itself: with a source that always offers full beats, the bytes
    accepted in any window never exceed the tokens at its start plus rate * length."""
    import random
    rng = random.Random(5)
    for _ in range(20):
        rate = rng.randint(1, 12 << 16)
        burst = rng.randint(8, 100)
        m = StreamLimiterModel(rate, burst)
        tokens, accepted = [], []
        for _ in range(600):
            tokens.append(m.tokens)
            ok, _ = m.step(True, Beat(0, 0xFF), rng.random() < 0.8)
            accepted.append(8 if ok else 0)
        for i in range(0, 600, 13):
            for j in range(i + 1, 601, 11):
                assert sum(accepted[i:j]) <= (tokens[i] + (j - i) * rate) >> 16
