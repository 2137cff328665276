"""What each kind of workload asks of a chip in a day: its ops per precision
lane (the workload's precision mix at a duty cycle) and the interconnect
traffic it offers the limiter.

- pre-training: data-parallel, an all-reduce of the gradients every step, so
  heavy traffic per op, and the accelerator busy nearly all day;
- fine-tuning: smaller models and batches: medium duty, medium traffic;
- inference: requests come and go (a bursty, low duty that varies from day to
  day) and a served model exchanges little but activations.

Disguises: the operator runs one kind under a license declaring another.
``throttled-training`` (declared inference): pre-training slowed to an
inference-like duty, with gradient accumulation cutting its all-reduce bytes
per op. ``padded-inference`` (declared pre-training or fine-tuning): inference
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

from openheg.policy import SECONDS_PER_DAY

DISGUISES = ("none", "throttled-training", "padded-inference")
# The kind a disguise's workload really runs, and the kinds it may declare.
TRUE_KIND = {"throttled-training": "pre-training", "padded-inference": "inference"}
DECLARED_KINDS = {"throttled-training": ("inference",),
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
THROTTLE = 0.35            # training slowed to about a third of its duty
ACCUMULATION_STEPS = 8     # gradient accumulation: one all-reduce per 8 micro-batches
PADDED_DUTY = 0.9


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
        duty *= THROTTLE
        bytes_per_op /= ACCUMULATION_STEPS
    peaks = dict(peak_ops)
    # The mix is a share of the ops; each op takes 1/peak of a second on its lane.
    seconds_per_op = sum(fraction / peaks[lane] for lane, fraction in mix)
    ops = duty * SECONDS_PER_DAY / seconds_per_op
    lane_ops = {lane: ops * fraction for lane, fraction in mix}
    wire_bytes = ops * bytes_per_op
    if disguise == "padded-inference":
        idle_s = max(0.0, PADDED_DUTY - duty) * SECONDS_PER_DAY
        padding = idle_s * peaks[PADDING_LANE]
        lane_ops[PADDING_LANE] = lane_ops.get(PADDING_LANE, 0.0) + padding
        wire_bytes = (ops + padding) * KIND_MODELS["pre-training"].wire_bytes_per_op \
            * rng.lognormvariate(0.0, KIND_MODELS["pre-training"].traffic_spread)
    return DayDemand(tuple((lane, int(lane_ops.get(lane, 0.0))) for lane, _ in peak_ops),
                     int(wire_bytes))
