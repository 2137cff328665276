"""What a chip did between two of its signed attestations, and what kind of
activity that looks like.

An attestation carries cumulative counters: ops per precision lane, metered
milli-sFLOP and the wire bytes the interconnect limiter let through since the
part's last reset. The difference of two consecutive attestations of one
device is therefore a signed summary of the interval between them; its length
comes from the verifier's own clock (when it issued each nonce), never from
the operator. From an interval come features (precision mix, duty cycle,
interconnect bytes per op and per second, how much of the link cap was used),
and from features a classifier trained on labelled approved activity names the
kind: pre-training, fine-tuning or inference.

Its input is attestations openheg.verify has verified (signature, endorsed
device key, nonce): what is here trusts their signatures and checks only how
they follow one another. A series that cannot give an interval is refused: two
devices, a report that does not come after the one before it (a replayed or
reordered attestation), a reset in between (the link counter restarts at 0
with the part, so the difference would under-count), counters that go back
without a reset, or a saturated link counter.

The model file is the regulator's own: ActivityClassifier.load unpickles it
(joblib), which runs code, so it checks the file's SHA-256 against the digest
``save`` returned before it reads a byte of it. Never load a model file that
someone else handed over.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from .errors import OpenhegError
from .regmap import LANES
from .wire import LINK_RATE_FRACTION_BITS, Attestation

KINDS = ("pre-training", "fine-tuning", "inference")
# The link counter is a saturating u64 (firmware/src/link.c): at its top it no longer counts.
LINK_BYTES_SATURATED = (1 << 64) - 1
# Interconnect features span ten decades between inference and data-parallel
# training; on a log scale a tree splits them as evenly as any other feature.
_LOG_FLOOR = 1e-12
FEATURE_NAMES = tuple(f"mix_{lane.lower()}" for lane in LANES) + (
    "busy_fraction", "sflop_duty", "log10_wire_bytes_per_op", "log10_wire_bytes_per_s",
    "link_cap_used")


class TelemetryError(OpenhegError, ValueError):
    """Telemetry that cannot be used as given; str() says why, in one line."""


class SeriesError(TelemetryError):
    """Two attestations that are not one device's reports in order: a replayed,
    reordered or foreign attestation. Nothing of the series is used."""


class UnmeasurableInterval(TelemetryError):
    """Two reports of one device, in order, whose difference does not measure
    the interval between them (a reset, a saturated counter)."""


@dataclass(frozen=True)
class Interval:
    """The difference of two consecutive attestations of one device."""

    device_id: bytes
    first_report: int
    last_report: int
    seconds: float             # on the verifier's clock
    lane_ops: tuple            # ops per lane (regmap.LANES order)
    msflop: int                # metered milli-sFLOP
    wire_bytes: int            # what the interconnect limiter let through
    link_clock_hz: int
    link_rate: int             # RATE register: wire bytes per cycle x 2^16
    link_burst: int            # BURST register: wire bytes

    @property
    def ops(self) -> int:
        return sum(self.lane_ops)

    @property
    def link_cap_bytes(self) -> int:
        """The most the locked limiter can let through in this interval: BURST + RATE x cycles."""
        cycles = int(self.seconds * self.link_clock_hz)
        return self.link_burst + ((self.link_rate * cycles) >> LINK_RATE_FRACTION_BITS)


def interval(earlier: Attestation, earlier_at: float, later: Attestation,
             later_at: float) -> Interval:
    """The interval between two verified attestations of one device; ``*_at``:
    when the verifier issued each one's nonce, in seconds on its own clock."""
    first, last = earlier.report_counter, later.report_counter
    if earlier.device_id != later.device_id:
        raise SeriesError(f"attestations of two devices ({earlier.device_id.hex()[:16]} and "
                          f"{later.device_id.hex()[:16]}): an interval is one device's")
    if last <= first:
        raise SeriesError(f"report {last} does not come after report {first}: a replayed or "
                          "reordered attestation")
    if later_at <= earlier_at:
        raise SeriesError(f"report {last}'s nonce was issued at {later_at}, not after report "
                          f"{first}'s at {earlier_at}")
    resets = later.reset_count - earlier.reset_count
    if resets:
        raise UnmeasurableInterval(f"the device reset {resets} time(s) between reports {first} "
                                   f"and {last}: its link counter restarted, so the interval "
                                   "cannot be measured")
    if later.link_wire_bytes >= LINK_BYTES_SATURATED:
        raise UnmeasurableInterval(f"report {last}'s link counter is saturated: it no longer "
                                   "counts")
    lane_ops = tuple(b - a for a, b in zip(earlier.lane_ops, later.lane_ops))
    deltas = lane_ops + (later.consumed_msflop - earlier.consumed_msflop,
                         later.link_wire_bytes - earlier.link_wire_bytes)
    if min(deltas) < 0:
        raise UnmeasurableInterval(f"counters go back between reports {first} and {last} "
                                   "without a reset")
    link = (later.link_clock_hz, later.link_rate, later.link_burst)
    if link != (earlier.link_clock_hz, earlier.link_rate, earlier.link_burst):
        raise UnmeasurableInterval(f"the link cap changed between reports {first} and {last} "
                                   "without a reset")
    return Interval(later.device_id, earlier.report_counter, later.report_counter,
                    later_at - earlier_at, lane_ops, deltas[-2], deltas[-1], *link)


def intervals(series: Sequence[tuple[float, Attestation]]) -> tuple[list, list]:
    """(intervals, refused) from one device's series of (nonce issued at,
    attestation) in the order the verifier received them: every pair of
    consecutive reports gives an Interval, or an UnmeasurableInterval in
    ``refused``. A SeriesError (another device, a report out of order) refuses
    the whole series: raised."""
    out, refused = [], []
    for (t0, a0), (t1, a1) in zip(series, series[1:]):
        try:
            out.append(interval(a0, t0, a1, t1))
        except UnmeasurableInterval as error:
            refused.append(error)
    return out, refused


def features(span: Interval, peak_ops: Mapping[str, float],
             weights_milli: Mapping[str, int]) -> list[float]:
    """The interval's feature vector (FEATURE_NAMES). ``peak_ops``: the chip
    model's peak ops/s per lane (regmap.LANES names), as its vendor states them;
    ``weights_milli``: the policy's sFLOP weights.

    busy_fraction is the share of the interval the chip needed at its peak
    rates to do these ops (an FP8 op takes half an FP16 op's time on most
    parts); sflop_duty is metered sFLOP over the chip's peak sFLOP rate (its
    fastest lane) times the interval: the figure verification proposals name."""
    missing = [lane for lane, ops in zip(LANES, span.lane_ops)
               if ops and not peak_ops.get(lane, 0) > 0]
    if missing:
        raise TelemetryError(f"no peak rate for lane {missing[0]}, which ran ops in the "
                             "interval: give the chip model's peak ops/s for every lane it uses")
    total = span.ops
    mix = [ops / total if total else 0.0 for ops in span.lane_ops]
    busy = sum(ops / peak_ops[lane] for lane, ops in zip(LANES, span.lane_ops) if ops)
    peak_msflop = max(peak_ops[lane] * weights_milli[lane] for lane in peak_ops)
    cap = span.link_cap_bytes
    return mix + [busy / span.seconds, span.msflop / (peak_msflop * span.seconds),
                  math.log10(max(span.wire_bytes / total if total else 0.0, _LOG_FLOOR)),
                  math.log10(max(span.wire_bytes / span.seconds, _LOG_FLOOR)),
                  span.wire_bytes / cap if cap else 0.0]


@dataclass(frozen=True)
class Prediction:
    kind: str
    confidence: float   # the model's mean probability for ``kind`` over the chip's intervals
    intervals: int


class ActivityClassifier:
    """A random forest (fixed seed: the same data gives the same model) over
    interval features, labelled with KINDS."""

    def __init__(self, model=None) -> None:
        self.model = model

    @classmethod
    def train(cls, rows: Sequence[Sequence[float]], labels: Sequence[str],
              random_state: int = 0) -> "ActivityClassifier":
        from sklearn.ensemble import RandomForestClassifier  # noqa: PLC0415 - heavy import

        unknown = sorted(set(labels) - set(KINDS))
        if unknown:
            raise TelemetryError(f"unknown activity label {unknown[0]!r}; use one of "
                                 f"{', '.join(KINDS)}")
        if len(rows) != len(labels) or not rows:
            raise TelemetryError(f"{len(rows)} feature rows for {len(labels)} labels: give "
                                 "one label per row, and at least one row")
        model = RandomForestClassifier(n_estimators=100, min_samples_leaf=2,
                                       random_state=random_state, n_jobs=1)
        model.fit([list(r) for r in rows], list(labels))
        return cls(model)

    def classes(self) -> list[str]:
        return [str(c) for c in self.model.classes_]

    def predict_rows(self, rows: Sequence[Sequence[float]]) -> list[str]:
        return [str(k) for k in self.model.predict([list(r) for r in rows])]

    def predict_chip(self, rows: Sequence[Sequence[float]]) -> Prediction:
        """One chip's activity from all its intervals: the class of the highest
        mean probability."""
        return self.predict_chips([rows])[0]

    def predict_chips(self, chips: Sequence[Sequence[Sequence[float]]]) -> list[Prediction]:
        """predict_chip for many chips in one pass of the model (a fleet's
        thousands of chips would otherwise cost a pass each)."""
        if not all(chips):
            raise TelemetryError("no measurable interval for a chip: nothing to classify")
        probabilities = self.model.predict_proba([list(r) for rows in chips for r in rows])
        classes, out, at = self.classes(), [], 0
        for rows in chips:
            chip = probabilities[at:at + len(rows)]
            at += len(rows)
            means = [float(sum(p[i] for p in chip)) / len(rows) for i in range(len(classes))]
            best = max(range(len(means)), key=means.__getitem__)
            out.append(Prediction(classes[best], means[best], len(rows)))
        return out

    def save(self, path: Path) -> str:
        """Write the model; returns the file's SHA-256 (hex), which ``load`` needs."""
        import joblib  # noqa: PLC0415

        buffer = io.BytesIO()
        joblib.dump({"feature_names": FEATURE_NAMES, "model": self.model}, buffer)
        data = buffer.getvalue()
        Path(path).write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    @classmethod
    def load(cls, path: Path, sha256: str) -> "ActivityClassifier":
        """Read a model this regulator saved; refused, before unpickling, unless
        the file's SHA-256 is ``sha256``."""
        import joblib  # noqa: PLC0415

        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise TelemetryError(f"{path}: cannot read the model file ({exc.strerror})") from None
        if hashlib.sha256(data).hexdigest() != sha256.lower():
            raise TelemetryError(f"{path}: not the model file saved with digest {sha256}: "
                                 "a model file unpickles code, so only your own is loaded")
        saved = joblib.load(io.BytesIO(data))
        if tuple(saved["feature_names"]) != FEATURE_NAMES:
            raise TelemetryError(f"{path}: the model was trained on other features; train it "
                                 "again with this version")
        return cls(saved["model"])


__all__ = ["KINDS", "FEATURE_NAMES", "TelemetryError", "SeriesError", "UnmeasurableInterval",
           "Interval", "interval", "intervals", "features", "Prediction", "ActivityClassifier"]
