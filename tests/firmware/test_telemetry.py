"""Interval summaries from a device's signed attestations, and the series
checks an operator meets when it replays, reorders or resets to fake an
interval (openheg.telemetry). The device is the real firmware (fwkit)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fwkit import Authority, licensed

from openheg import telemetry
from openheg.regmap import DEFAULT_WEIGHTS_MILLI, LANES
from openheg.telemetry import (
    ActivityClassifier, SeriesError, TelemetryError, UnmeasurableInterval)

CYCLES = 10**6
PEAKS = {lane: 1e6 for lane in LANES}


def _reports(dev, traffic: int) -> tuple:
    """Two attestations with ops and link traffic between them."""
    first = dev.attest(b"a" * 32)
    dev.run(100)
    dev.hal.link.carry(traffic, CYCLES)
    second = dev.attest(b"b" * 32)
    return first, second


def test_an_interval_is_the_difference_of_two_signed_reports():
    dev, _ = licensed(Authority())
    first, second = _reports(dev, 10_000)
    span = telemetry.interval(first, 100.0, second, 160.0)
    assert span.seconds == 60.0 and span.ops == 100
    assert span.lane_ops[LANES.index("FP8")] == 100
    assert span.msflop == second.consumed_msflop - first.consumed_msflop > 0
    assert 0 < span.wire_bytes == second.link_wire_bytes - first.link_wire_bytes <= 10_000
    row = telemetry.features(span, PEAKS, DEFAULT_WEIGHTS_MILLI)
    assert len(row) == len(telemetry.FEATURE_NAMES)
    assert row[LANES.index("FP8")] == 1.0
    assert row[telemetry.FEATURE_NAMES.index("busy_fraction")] == pytest.approx(100 / 1e6 / 60)
    assert row[telemetry.FEATURE_NAMES.index("link_cap_used")] == pytest.approx(
        span.wire_bytes / span.link_cap_bytes)
    with pytest.raises(TelemetryError, match="no peak rate for lane FP8"):
        telemetry.features(span, {"FP16": 1e6}, DEFAULT_WEIGHTS_MILLI)


def test_a_replayed_or_reordered_report_refuses_the_series():
    """The operator replays an old attestation as the end of an interval, or
    sends two reports in the wrong order: no interval, and no series."""
    dev, _ = licensed(Authority())
    first, second = _reports(dev, 10_000)
    with pytest.raises(SeriesError, match="replayed or reordered"):
        telemetry.interval(second, 100.0, first, 160.0)
    with pytest.raises(SeriesError, match="replayed or reordered"):
        telemetry.interval(first, 100.0, first, 160.0)
    with pytest.raises(SeriesError, match="replayed or reordered"):
        telemetry.intervals([(100.0, first), (160.0, second), (220.0, first)])
    with pytest.raises(SeriesError, match="not after"):
        telemetry.interval(first, 160.0, second, 160.0)


def test_reports_of_two_devices_give_no_interval():
    authority = Authority()
    dev, _ = licensed(authority)
    other = replace(dev.attest(b"c" * 32), device_id=bytes(32))
    with pytest.raises(SeriesError, match="two devices"):
        telemetry.interval(dev.attest(b"d" * 32), 1.0, other, 2.0)


def test_a_reset_between_reports_makes_the_interval_unmeasurable():
    """The operator cuts power mid-interval so the link counter restarts at 0
    and the interval's traffic would read as nothing: refused, and the rest
    of the series still measures."""
    dev, _ = licensed(Authority())
    first, second = _reports(dev, 50_000)
    dev.power_up()
    dev.run(100)
    dev.hal.link.carry(10_000, CYCLES)
    third = dev.attest(b"e" * 32)
    assert third.reset_count == second.reset_count + 1
    assert third.link_wire_bytes < second.link_wire_bytes
    with pytest.raises(UnmeasurableInterval, match="reset 1 time"):
        telemetry.interval(second, 160.0, third, 220.0)
    spans, refused = telemetry.intervals([(100.0, first), (160.0, second), (220.0, third)])
    assert [s.last_report for s in spans] == [second.report_counter]
    assert len(refused) == 1 and "reset" in str(refused[0])


def test_counters_that_go_back_or_saturate_are_not_measured():
    dev, _ = licensed(Authority())
    first, second = _reports(dev, 10_000)
    with pytest.raises(UnmeasurableInterval, match="go back"):
        telemetry.interval(replace(first, link_wire_bytes=10**9), 1.0, second, 2.0)
    with pytest.raises(UnmeasurableInterval, match="saturated"):
        telemetry.interval(first, 1.0, replace(second, link_wire_bytes=(1 << 64) - 1), 2.0)


def test_the_model_file_is_loaded_only_with_its_digest(tmp_path):
    rows = [[0.0] * len(telemetry.FEATURE_NAMES), [1.0] * len(telemetry.FEATURE_NAMES)] * 3
    labels = ["inference", "pre-training"] * 3
    model = ActivityClassifier.train(rows, labels)
    digest = model.save(tmp_path / "model.joblib")
    again = ActivityClassifier.load(tmp_path / "model.joblib", digest)
    assert again.predict_rows(rows) == model.predict_rows(rows) == labels
    (tmp_path / "other.joblib").write_bytes(b"x" + (tmp_path / "model.joblib").read_bytes())
    with pytest.raises(TelemetryError, match="not the model file saved"):
        ActivityClassifier.load(tmp_path / "other.joblib", digest)
    with pytest.raises(TelemetryError, match="unknown activity label"):
        ActivityClassifier.train(rows, ["serving"] * len(rows))
    with pytest.raises(TelemetryError, match="no measurable interval"):
        model.predict_chip([])
    # A fleet in one pass gives what each chip alone gives.
    chips = [rows[:1], rows[1:2], rows]
    assert model.predict_chips(chips) == [model.predict_chip(c) for c in chips]
