"""What each kind of workload asks of a chip in a day: its ops per precision
lane (the workload's precision mix at a duty cycle) and the interconnect
traffic it offers the limiter.

- pre-training: data-parallel, an all-reduce of the gradients every step, so
  heavy traffic per op, and the accelerator busy nearly all day;
- fine-tuning: smaller models and batches: medium duty, medium traffic;
- inference: requests come and go (a bursty, low duty that varies from day to
  day) and a served model exchanges little but activations.

Disguises: the operator runs one kind under a license declaring another.
``plain-training`` (declared inference): pre-training as it is, at its own
duty and traffic, with nothing but the license's kind to hide it (what an
inference pod's interconnect cap holds back: docs/security.md G19).
``throttled-training`` (declared inference): pre-training slowed to an
inference-like duty, with gradient accumulation cutting its all-reduce bytes
per op (by how much, drawn each day: THROTTLE, ACCUMULATION_STEPS).
``padded-inference`` (declared pre-training or fine-tuning): inference
padded with dummy ops in FP16, the training precision, up to a training duty,
and dummy all-reduce traffic up to training's bytes per op; the padding is
metered like any op, so the disguise spends the license.

Each chip-day's figures vary around its kind's means, drawn from a generator
seeded by the scenario's seed, the chip and the day: reproducible, and the
same whichever worker runs the chip.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from openheg import regmap
from openheg.policy import SECONDS_PER_DAY

DISGUISES = ("none", "plain-training", "throttled-training", "padded-inference")
# The kind a disguise's workload really runs, and the kinds it may declare.
TRUE_KIND = {"plain-training": "pre-training", "throttled-training": "pre-training",
             "padded-inference": "inference"}
DECLARED_KINDS = {"plain-training": ("inference",), "throttled-training": ("inference",),
                  "padded-inference": ("pre-training", "fine-tuning")}
PADDING_LANE = "FP16"


@dataclass(frozen=True)
class KindModel:
    duty: float           # mean share of the day at peak
    duty_spread: float    # its day-to-day standard deviation
    wire_bytes_per_op: float
    traffic_spread: float  # standard deviation of log(bytes per op), day to day


KIND_MODELS = {
    "pre-training": KindModel(0.90, 0.04, 2e-4, 0.3),
    "fine-tuning": KindModel(0.65, 0.10, 4e-5, 0.4),
    "inference": KindModel(0.35, 0.12, 2e-6, 0.6),
}
# A typical precision mix per kind (scenario precisions), for generated fleets
# (bench/sim/bench_classifier.py): training in BF16/FP16 with FP32 master
# weights and some FP8; fine-tuning adds NF4 (quantised bases, LoRA);
# inference mostly FP8 and INT8.
TYPICAL_MIX = {
    "pre-training": {"fp16": 0.6, "fp32": 0.15, "fp8": 0.25},
    "fine-tuning": {"fp16": 0.55, "fp32": 0.1, "nf4": 0.25, "fp8": 0.1},
    "inference": {"fp8": 0.55, "int8": 0.3, "fp16": 0.15},
}
# How hard the operator disguises, drawn each chip-day within these ranges (an
# operator varies them, so that no one setting becomes a signature):
THROTTLE = (0.2, 0.6)           # training slowed to this share of its duty
ACCUMULATION_STEPS = (2, 16)    # gradient accumulation: one all-reduce per N micro-batches
PADDED_DUTY = (0.75, 0.95)      # inference padded up to this duty


@dataclass(frozen=True)
class DayDemand:
    lane_ops: tuple     # ((LANE, ops), ...): what the accelerator runs if nothing holds it
    wire_bytes: int     # interconnect traffic offered with those ops


def day_demand(kind: str, disguise: str, peak_ops: tuple, mix: tuple, seed: int,
               index: int, day: int) -> DayDemand:
    """Chip ``index``'s demand on ``day``; ``kind`` is what it really runs
    (TRUE_KIND for a disguise), ``peak_ops``/``mix`` its lanes' peak ops/s and
    the workload's fractions, as ChipSpec holds them."""
    rng = random.Random(hashlib.sha256(f"activity {seed} {index} {day}".encode()).digest())
    model = KIND_MODELS[kind]
    duty = min(1.0, max(0.02, rng.gauss(model.duty, model.duty_spread)))
    bytes_per_op = model.wire_bytes_per_op * rng.lognormvariate(0.0, model.traffic_spread)
    if disguise == "throttled-training":
        duty *= rng.uniform(*THROTTLE)
        bytes_per_op /= rng.randint(*ACCUMULATION_STEPS)
    peaks = dict(peak_ops)
    # The mix is a share of the ops; each op takes 1/peak of a second on its lane.
    seconds_per_op = sum(fraction / peaks[lane] for lane, fraction in mix)
    ops = duty * SECONDS_PER_DAY / seconds_per_op
    lane_ops = {lane: ops * fraction for lane, fraction in mix}
    wire_bytes = ops * bytes_per_op
    if disguise == "padded-inference":
        idle_s = max(0.0, rng.uniform(*PADDED_DUTY) - duty) * SECONDS_PER_DAY
        padding = idle_s * peaks[PADDING_LANE]
        lane_ops[PADDING_LANE] = lane_ops.get(PADDING_LANE, 0.0) + padding
        wire_bytes = (ops + padding) * KIND_MODELS["pre-training"].wire_bytes_per_op \
            * rng.lognormvariate(0.0, KIND_MODELS["pre-training"].traffic_spread)
    return DayDemand(tuple((lane, int(lane_ops.get(lane, 0.0))) for lane, _ in peak_ops),
                     int(wire_bytes))


def chip_intervals(fleet, result) -> tuple[list, list, int]:
    """(feature rows, refused intervals' reasons, idle intervals) of one chip's
    verified attestations (ChipResult), in the order the verifier received
    them, each timed by when the verifier issued its nonce (fleet.ATTEST_AT_S
    of its day). An interval without a single op (paused, halted, done) shows
    no kind of activity: it is counted, not classified. Peak rates: the chip
    model's, every lane its site states. A different device or a report out
    of order raises telemetry.SeriesError."""
    from openheg import telemetry  # noqa: PLC0415 - fleet imports this module first
    from openheg.verify import decode_attestation  # noqa: PLC0415

    from .fleet import ATTEST_AT_S  # noqa: PLC0415

    spec = fleet.chips[result.index]
    site = next(s for s in fleet.scenario.sites if s.name == spec.site)
    peak_ops = {lane.upper(): ops for lane, ops in site.peak_ops.items()}
    series = [(fleet.day_start(day) + ATTEST_AT_S, decode_attestation(raw))
              for day, raw in result.attestations]
    spans, refused = telemetry.intervals(series)
    # A scenario's board votes move only the thresholds: the weights are the genesis policy's.
    weights = dict(zip(regmap.LANES, fleet.policy_on(0).weights_milli))
    active = [span for span in spans if span.ops]
    return ([telemetry.features(span, peak_ops, weights) for span in active],
            [str(e) for e in refused], len(spans) - len(active))


# ------------------------------------------------------------ generated fleets
# Two chip models, so that the classifier cannot learn one part's peak rates.
CHIP_MODELS = ({"fp16": 9.9e14, "fp8": 1.98e15, "fp32": 6.7e13, "nf4": 1.98e15, "int8": 1.98e15},
               {"fp16": 3.1e14, "fp8": 6.2e14, "fp32": 2.0e13, "nf4": 6.2e14, "int8": 6.2e14})


def generated_scenario(seed: int, *, chips_per_workload: int, days: int,
                       disguised: bool) -> str:
    """A scenario with a workload of each kind on each chip model, its
    precision mix drawn around its kind's TYPICAL_MIX; ``disguised`` adds a
    throttled-training and a padded-inference workload on each model."""
    rng = random.Random(f"fleet {seed}")
    runs = [(kind, "none", kind) for kind in KIND_MODELS]
    if disguised:
        runs += [("inference", "throttled-training", "pre-training"),
                 ("pre-training", "padded-inference", "inference")]
    lines = [f'name = "labelled activity, seed {seed}"', f"days = {days}", f"seed = {seed}",
             "[policy]", "f_sflop = 1e26", "h_sflop = 1e28"]
    for m, peaks in enumerate(CHIP_MODELS):
        site = f"model-{m}"
        peak_text = ", ".join(f"{lane} = {ops:.3g}" for lane, ops in peaks.items())
        lines += ["[[site]]", f'name = "{site}"', f"chips = {chips_per_workload * len(runs)}",
                  f"peak_ops = {{ {peak_text} }}"]
        for declared, disguise, true_kind in runs:
            weights = {p: f * rng.uniform(0.6, 1.4) for p, f in TYPICAL_MIX[true_kind].items()}
            total = sum(weights.values())
            fractions = {p: round(w / total, 6) for p, w in weights.items()}
            last = sorted(fractions)[-1]
            fractions[last] = round(1 - sum(v for p, v in fractions.items() if p != last), 6)
            mix = ", ".join(f"{p} = {v!r}" for p, v in sorted(fractions.items()))
            lines += ["[[workload]]", f'name = "{declared}-{disguise}-{site}"', 'owner = "lab"',
                      'lineage = "none"', f'site = "{site}"', f'kind = "{declared}"',
                      "planned_sflop = 1e25", f"precision_mix = {{ {mix} }}",
                      f'disguise = "{disguise}"']
    return "\n".join(lines) + "\n"


def labelled_rows(run) -> list[tuple]:
    """(declared kind, true kind, disguise, feature rows) per chip of a finished
    run (engine.Run) with a workload: the labels a regulator holds for its
    approved activity, and the ground truth for an evaluation."""
    out = []
    for result in run.results:
        spec = run.fleet.chips[result.index]
        if spec.workload:
            rows, _, _ = chip_intervals(run.fleet, result)
            out.append((run.fleet.workload(spec.workload).kind, spec.activity, spec.disguise,
                        rows))
    return out


def training_set(labelled, red_team: bool = False) -> tuple[list, list]:
    """Every interval of the honest chips, labelled with its kind: approved
    activity. ``red_team``: the disguised chips too, labelled with what they
    really run (an authority that stages the disguises itself to learn them)."""
    chips = [(kind, rows) for _, kind, disguise, rows in labelled
             if red_team or disguise == "none"]
    return [r for _, rows in chips for r in rows], [k for k, rows in chips for _ in rows]


def evaluate(classifier, labelled) -> dict:
    """Chip by chip (ActivityClassifier.predict_chips, each over all its intervals):
    precision and recall per true kind over every chip; per disguise, the
    share of its chips classified as what they really run (recall) and the
    share flagged (classified as other than their license declares); and the
    accuracy of always answering the majority kind, the trivial baseline."""
    measured = [chip for chip in labelled if chip[3]]
    predictions = classifier.predict_chips([rows for *_, rows in measured])
    outcomes = [(declared, kind, disguise, prediction.kind)
                for (declared, kind, disguise, _), prediction in zip(measured, predictions)]
    classes = {}
    for k in KIND_MODELS:
        predicted = [o for o in outcomes if o[3] == k]
        actual = [o for o in outcomes if o[1] == k]
        hits = sum(o[1] == k for o in predicted)
        classes[k] = {"chips": len(actual),
                      "precision": hits / len(predicted) if predicted else 0.0,
                      "recall": hits / len(actual) if actual else 0.0}
    disguises = {}
    for d in DISGUISES:
        chosen = [o for o in outcomes if o[2] == d]
        if chosen:
            disguises[d] = {"chips": len(chosen),
                            "recall": sum(o[1] == o[3] for o in chosen) / len(chosen),
                            "flagged": sum(o[0] != o[3] for o in chosen) / len(chosen)}
    majority = max(KIND_MODELS, key=lambda k: sum(o[1] == k for o in outcomes))
    return {"classes": classes, "disguises": disguises,
            "accuracy": sum(o[1] == o[3] for o in outcomes) / len(outcomes),
            "majority_accuracy": sum(o[1] == majority for o in outcomes) / len(outcomes)}
