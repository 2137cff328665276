"""Runs the cocotb tests of hdl/rtl/heg_stream_limiter.v under Icarus and Verilator, then
checks that every limiter coverpoint was hit; the model's own properties are pure Python."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from coverage import LIMITER_COVERPOINTS, merged
from limiter_tb import BEAT_COST, coverage_dir, runner_args, window_violations
from openheg_sim.stream_limiter_model import Beat, StreamLimiterModel
from rtl_runner import SIMULATORS, build, cocotb_tests, mutant, run_cocotb_test
from test_formal import LIMITER_MUTANTS

TEST_MODULE = "cocotb_stream_limiter"
COCOTB_TESTS = cocotb_tests(TEST_MODULE)


@pytest.fixture(scope="module", params=SIMULATORS)
def built(request):
    sim = request.param
    return build(sim, runner_args(sim), list(coverage_dir(sim).glob("limiter-*.json")))


@pytest.mark.rtl
@pytest.mark.parametrize("testcase", COCOTB_TESTS)
def test_stream_limiter_rtl(built, testcase: str) -> None:
    run_cocotb_test(built, TEST_MODULE, testcase)


@pytest.mark.rtl
def test_limiter_functional_coverage(built) -> None:
    sim = built[0]
    hits = merged(coverage_dir(sim), "limiter")
    missing = [name for name in LIMITER_COVERPOINTS if not hits[name]]
    assert not missing, f"{sim}: unhit coverpoints {missing} (run the whole module)"


@pytest.mark.rtl
def test_policy_latency_window_catches_a_stale_look_ahead(tmp_path) -> None:
    """The policy-latency test is live: on a limiter whose look-ahead flags lag a stage
    (the policy pipeline broken alone; the formal mutant of the same name),
    lowering the rate refills the bucket once more, and test_lowered_rate_binds_from_the_
    third_edge fails on the budget itself (not only on the cycle-exact scoreboard)."""
    (tmp_path / "rtl").mkdir()
    rtl = mutant(tmp_path / "rtl", "heg_stream_limiter.v", LIMITER_MUTANTS["stale-look-ahead"])
    args = runner_args("icarus")
    args["build"]["sources"] = [rtl / "heg_stream_limiter.v"]
    for stage in ("build", "test"):
        args[stage]["build_dir"] = tmp_path / "build"
    args["test"]["test_dir"] = tmp_path / "build"
    args["test"]["extra_env"]["HEG_COVERAGE_DIR"] = str(tmp_path / "coverage")
    sim, runner, args = build("icarus", args)
    testcase = "test_lowered_rate_binds_from_the_third_edge"
    results = tmp_path / "build" / "results.xml"
    with pytest.raises(SystemExit):  # how cocotb's runner reports a failed test under pytest
        runner.test(test_module=TEST_MODULE, testcase=testcase, results_xml=str(results),
                    **args["test"])
    failures = ET.parse(results).getroot().findall(".//testcase/failure")
    assert failures, "a limiter that refills past the budget must fail the test"
    assert "passed past the budget" in str(failures[0].attrib), failures[0].attrib


def test_model_window_bound() -> None:
    """Property of the model itself: with a source that always offers beats (null, partial
    and full alike) and a random sink, the wire bytes delivered in every window of t cycles
    are at most burst + rate * t, and each delivered beat is charged BEAT_COST."""
    import random
    rng = random.Random(5)
    for _ in range(20):
        rate = rng.randint(1, BEAT_COST << 16)
        burst = rng.randint(BEAT_COST, 100)
        m = StreamLimiterModel(rate, burst)
        delivered = []
        for cycle in range(600):
            _, out = m.step(True, Beat(0, rng.choice([0, 0x01, 0xFF])), rng.random() < 0.8)
            if out is not None:
                delivered.append(cycle)
        assert m.byte_count == len(delivered) * BEAT_COST
        assert not window_violations(delivered, rate, burst)
