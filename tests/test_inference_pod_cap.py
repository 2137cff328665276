"""The simulator shows the inference cap at work (issue 12): a data-parallel
training run across pods whose licenses declare inference is held by every
chip's locked limiter to the policy's inference cap, while an inference
service under the same cap passes all its traffic; a training license under
such a policy gets the general cap after the operator's reset. Every chip is
the real firmware (examples/inference_pod_cap.toml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openheg.wire import Attestation, link_rate_register
from openheg_sim.scenario import load_scenario, parse_scenario
from openheg_sim.scenario.engine import simulate
from openheg_sim.scenario.schema import ScenarioError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "inference_pod_cap.toml"
SECONDS_PER_DAY = 86_400
CAP_LINES = "inference_link_mb_per_s = 5000\ninference_link_burst_bytes = 65536\n"


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    return simulate(load_scenario(EXAMPLE), tmp_path_factory.mktemp("capped"), workers=1)


def workloads(run) -> dict:
    return {w["name"]: w for w in run.summary["workloads"]}


def all_passed(w: dict) -> bool:
    """Every wire byte the workload wanted went through, but the part-beat at
    the end of a chip-day (the limiter passes whole beats)."""
    return (1 - 1e-9) * w["wire_bytes_wanted"] < w["wire_bytes_passed"] <= w["wire_bytes_wanted"]


def test_the_training_run_is_held_to_the_inference_cap_every_day(capped):
    scenario = capped.fleet.scenario
    policy = scenario.policy
    for result in capped.results:
        reports = [Attestation.from_bytes(raw) for _, raw in result.attestations]
        assert len(reports) == scenario.days
        for a, b in zip(reports, reports[1:]):
            assert b.link_rate == link_rate_register(policy.inference_link_mb_per_s,
                                                     b.link_clock_hz)
            assert b.link_burst == policy.inference_link_burst_bytes
            cycles = SECONDS_PER_DAY * b.link_clock_hz
            assert b.link_wire_bytes - a.link_wire_bytes <= \
                b.link_burst + ((b.link_rate * cycles) >> 16)
    by_name = workloads(capped)
    chip_day_bound = policy.inference_link_mb_per_s * 10**6 * SECONDS_PER_DAY \
        + policy.inference_link_burst_bytes
    for name in ("dp-train-pod-a", "dp-train-pod-b"):
        w = by_name[name]
        assert w["link_cap_mb_per_s"] == 5_000 and w["link_cap_burst_bytes"] == 65_536
        assert w["wire_bytes_passed"] <= w["chips"] * scenario.days * chip_day_bound
        assert w["wire_bytes_passed"] < 0.2 * w["wire_bytes_wanted"]
    serve = by_name["serve-pod-c"]
    assert all_passed(serve)
    report = capped.report.read_text()
    assert re.search(r"\| dp-train-pod-a \| inference \| 5,000, 65,536 B \| .* \| [0-9.]+% \|",
                     report)


def test_without_the_inference_cap_the_same_run_computes_far_more(capped, tmp_path):
    """The adversary's hope: a policy without the inference cap (or a device
    that ignored it) lets the training run through at the general cap."""
    free = simulate(parse_scenario(EXAMPLE.read_text().replace(CAP_LINES, "")), tmp_path,
                    workers=1)
    held, unheld = workloads(capped), workloads(free)
    for name in ("dp-train-pod-a", "dp-train-pod-b"):
        assert all_passed(unheld[name])
        assert held[name]["metered_msflop"] < 0.2 * unheld[name]["metered_msflop"]
    assert held["serve-pod-c"]["metered_msflop"] == unheld["serve-pod-c"]["metered_msflop"]


TRAINING = """
name = "t"
days = 2
[[site]]
name = "s"
chips = 1
peak_ops = { fp16 = 9.9e14 }
[policy]
f_sflop = 1e26
h_sflop = 1e28
inference_link_mb_per_s = 5000
[[workload]]
name = "w"
owner = "o"
lineage = "none"
site = "s"
kind = "pre-training"
planned_sflop = 1e24
precision_mix = { fp16 = 1.0 }
"""


def test_a_training_license_gets_the_general_cap_after_the_operator_s_reset(tmp_path):
    """Before its license the chip held the inference cap (no license declares
    a kind); the training license waits for a reset, which the operator makes
    at once: the chip computes from day 0 at the general cap, gate never
    reported closed."""
    run = simulate(parse_scenario(TRAINING), tmp_path, workers=1)
    (result,) = run.results
    reports = [Attestation.from_bytes(raw) for _, raw in result.attestations]
    assert all(r.link_rate == link_rate_register(900_000, r.link_clock_hz) for r in reports)
    assert reports[0].reset_count == 2  # the boot at the factory, and the operator's reset
    assert result.anomalies == [] and all(result.metered_msflop)
    (w,) = run.summary["workloads"]
    assert w["link_cap_mb_per_s"] == 900_000
    assert all_passed(w)


@pytest.mark.parametrize("key, value", [("inference_link_mb_per_s", 10**8),
                                        ("inference_link_burst_bytes", 1 << 24)])
def test_the_inference_cap_keys_are_bounded(key, value):
    text = TRAINING.replace("inference_link_mb_per_s = 5000", f"{key} = {value}")
    with pytest.raises(ScenarioError, match=re.escape(f"policy.{key}: {value} is out of range")):
        parse_scenario(text)
