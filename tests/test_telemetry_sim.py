"""The simulator's telemetry: a data-parallel run held to the policy's link
cap by every chip's locked limiter, as its attestations show; a classifier
trained on one seed's approved activity beats the majority-class baseline on
another seed's, disguises included, and their effect is published; the
summary flags a chip whose activity does not match its license."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from openheg.cli import main
from openheg.cli._common import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE
from openheg.telemetry import ActivityClassifier
from openheg.wire import Attestation
from openheg_sim.scenario import load_scenario, parse_scenario
from openheg_sim.scenario.engine import simulate
from openheg_sim.scenario.fleet import ATTEST_AT_S
from openheg_sim.scenario.schema import ScenarioError
from openheg_sim.scenario.telemetry import (
    evaluate, generated_scenario, labelled_rows, training_set)
from openheg_sim.stream_limiter_model import EMULATED_LINK_CLOCK_HZ

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECONDS_PER_DAY = 86_400


def test_a_data_parallel_run_is_held_to_the_link_cap(tmp_path):
    scenario = load_scenario(EXAMPLES / "interconnect_cap.toml")
    run = simulate(scenario, tmp_path / "out", workers=1)
    cap_bytes_per_s = scenario.policy.link_mb_per_s * 10**6
    for result in run.results:
        reports = [Attestation.from_bytes(raw) for _, raw in result.attestations]
        assert len(reports) == scenario.days
        for a, b in zip(reports, reports[1:]):
            cycles = SECONDS_PER_DAY * b.link_clock_hz
            assert b.link_clock_hz == EMULATED_LINK_CLOCK_HZ
            assert b.link_burst == scenario.policy.link_burst_bytes
            sent = b.link_wire_bytes - a.link_wire_bytes
            # Never past BURST + RATE x cycles, and the demand (about three
            # times the cap) keeps it at the cap.
            assert sent <= b.link_burst + ((b.link_rate * cycles) >> 16)
            assert sent >= 0.99 * cap_bytes_per_s * SECONDS_PER_DAY
    # Held: the run computes less than its unlimited duty would (about a third).
    free = simulate(parse_scenario((EXAMPLES / "interconnect_cap.toml").read_text()
                                   .replace("link_mb_per_s = 20000", "link_mb_per_s = 900000")),
                    tmp_path / "free", workers=1)
    for held, unheld in zip(run.summary["workloads"], free.summary["workloads"]):
        assert held["metered_msflop"] < 0.5 * unheld["metered_msflop"]


DISGUISED = """
name = "d"
days = 2
[[site]]
name = "s"
chips = 1
peak_ops = { fp8 = 1.98e15 }
[policy]
f_sflop = 1e26
h_sflop = 1e28
[[workload]]
name = "w"
owner = "o"
lineage = "none"
site = "s"
kind = "KIND"
planned_sflop = 1e24
precision_mix = { fp8 = 1.0 }
disguise = "DISGUISE"
"""


@pytest.mark.parametrize("kind, disguise, message", [
    ("fine-tuning", "throttled-training",
     "workload[0].disguise: throttled-training is a disguise for a license declaring "
     "inference, not fine-tuning"),
    ("inference", "padded-inference", "workload[0].disguise: padded-inference is a disguise "
     "for a license declaring pre-training or fine-tuning, not inference"),
    ("pre-training", "padded-inference", "workload[0].disguise: padded-inference pads in fp16; "
     "site 's' gives no peak_ops for it"),
    ("inference", "masked", "workload[0].disguise: 'masked' is out of range"),
])
def test_a_disguise_must_fit_the_declared_kind(kind, disguise, message):
    text = DISGUISED.replace("KIND", kind).replace("DISGUISE", disguise)
    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_scenario(text, "d.toml")


def test_the_link_cap_keys_are_bounded():
    base = DISGUISED.replace("KIND", "inference").replace('disguise = "DISGUISE"\n', "")
    for key, value in (("link_mb_per_s", 10**8), ("link_burst_bytes", 1 << 24)):
        message = f"policy.{key}: {value} is out of range"
        with pytest.raises(ScenarioError, match=re.escape(message)):
            parse_scenario(base.replace("h_sflop = 1e28", f"h_sflop = 1e28\n{key} = {value}"))


@pytest.fixture(scope="module")
def trained_and_evaluated(tmp_path_factory):
    out = tmp_path_factory.mktemp("telemetry")
    approved = simulate(parse_scenario(generated_scenario(
        1, chips_per_workload=2, days=5, disguised=False)), out / "approved", workers=2)
    model = ActivityClassifier.train(*training_set(labelled_rows(approved)))
    held_out = simulate(parse_scenario(generated_scenario(
        2, chips_per_workload=2, days=5, disguised=True)), out / "held-out", workers=2,
        classifier=model)
    return model, held_out


def test_the_classifier_beats_the_majority_baseline_on_held_out_data(trained_and_evaluated):
    model, held_out = trained_and_evaluated
    result = evaluate(model, labelled_rows(held_out))
    assert result["accuracy"] > result["majority_accuracy"]
    # On the approved kinds it learned, well past the third a guess gets.
    assert result["disguises"]["none"]["recall"] >= 0.9
    for kind, figures in result["classes"].items():
        assert figures["chips"] > 0 and 0.0 <= figures["precision"] <= 1.0, kind
    # Each disguise's effect is measured and reported, whatever it is.
    assert set(result["disguises"]) == {"none", "throttled-training", "padded-inference"}
    assert result["disguises"]["none"]["recall"] > result["disguises"]["padded-inference"][
        "recall"]


def test_the_summary_flags_activity_that_does_not_match_the_license(trained_and_evaluated):
    _, held_out = trained_and_evaluated
    activity = held_out.summary["chip_activity"]
    assert held_out.summary["classified"] and len(activity) == len(labelled_rows(held_out))
    for entry in activity:
        assert entry["class"] in ("pre-training", "fine-tuning", "inference")
        assert 0 < entry["confidence"] <= 1
        assert entry["mismatch"] == (entry["class"] != entry["declared"])
    # Honest chips are not flagged; some disguised ones are (how many is the
    # published figure, bench/sim/bench_classifier.py).
    honest = [e for e in activity if "-none-" in e["workload"]]
    disguised = [e for e in activity if "-none-" not in e["workload"]]
    assert honest and not any(e["mismatch"] for e in honest)
    assert any(e["mismatch"] for e in disguised)
    report = held_out.report.read_text()
    assert "## Activity from telemetry" in report and "FLAGGED" in report
    for w in held_out.summary["workloads"]:
        assert w["activity_mismatch_chips"] == sum(
            e["mismatch"] for e in activity if e["workload"] == w["name"])


def test_a_paused_chip_s_idle_intervals_are_not_classified(tmp_path):
    """Paused from day 5 to the resume on day 9: the intervals ending on days
    5 to 8 carry no op, so they show no kind of activity and are counted
    apart; without a classifier nothing is flagged."""
    run = simulate(load_scenario(EXAMPLES / "frontier_finetune_pause_resume.toml"),
                   tmp_path / "out", workers=2)
    assert not run.summary["classified"]
    for entry in run.summary["chip_activity"]:
        paused = entry["workload"] == "chat-ft"
        assert entry["idle_intervals"] == (4 if paused else 0), entry["chip"]
        assert entry["intervals"] == 20 - entry["idle_intervals"]
        assert entry["unmeasured"] == [] and entry["mismatch"] is None


def test_the_bench_rewrites_only_its_section_of_the_docs(tmp_path):
    path = Path(__file__).resolve().parent.parent / "bench" / "sim" / "bench_classifier.py"
    spec = importlib.util.spec_from_file_location("bench_classifier", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    page = bench.DOC.read_text()
    assert page.count(bench.BEGIN) == 1 and page.count(bench.END) == 1
    copy = tmp_path / "simulate.md"
    copy.write_text(page)
    bench.write_doc("new figures", copy)
    head, rest = page.split(bench.BEGIN)
    tail = rest.split(bench.END)[1]
    assert copy.read_text() == f"{head}{bench.BEGIN}\n\nnew figures\n\n{bench.END}{tail}"


def test_openheg_simulate_classifies_with_the_regulator_s_model(trained_and_evaluated, tmp_path,
                                                               capsys):
    model, _ = trained_and_evaluated
    digest = model.save(tmp_path / "model.joblib")
    example = str(EXAMPLES / "interconnect_cap.toml")
    args = ["simulate", example, "--workers", "1", "--classifier", str(tmp_path / "model.joblib")]
    assert main(args + ["--out", str(tmp_path / "o"), "--classifier-sha256", digest]) == EXIT_OK
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["classified"]
    assert all(e["class"] is not None for e in summary["chip_activity"])
    capsys.readouterr()
    # Another file under the same name, or the digest left out: refused, nothing run.
    (tmp_path / "model.joblib").write_bytes(b"not the regulator's model")
    assert main(args + ["--out", str(tmp_path / "p"), "--classifier-sha256", digest]) \
        == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "not the model file saved with digest" in err and err.count("\n") == 1
    assert main(args + ["--out", str(tmp_path / "q")]) == EXIT_USAGE
    assert "--classifier and --classifier-sha256 go together" in capsys.readouterr().err
    assert not (tmp_path / "p").exists() and not (tmp_path / "q").exists()
