"""Allocations across a fleet, class determination, thresholds by date."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg.crypto import SigningKey
from openheg.licensing import (
    DeviceSlot,
    LicensingError,
    license_class_for,
    plan_workload,
    split_allocation,
)
from openheg.policy import PolicyError, genesis_draft, parse_assignment, parse_date, thresholds_on
from openheg.wire import MAX_U128, LicenseClass

KEYS = [SigningKey(bytes([i + 1]) * 32) for i in range(4)]


def policy(**overrides):
    return genesis_draft(board_keys=[KEYS[0].public_key], board_threshold=1,
                         issuer_key=KEYS[1].public_key, time_authority_key=KEYS[2].public_key,
                         inspector_keys=[KEYS[3].public_key], now=0, **overrides)


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(st.integers(1, 10**6), min_size=1, max_size=64), data=st.data())
def test_property_split_is_exact_positive_and_proportional(weights, data):
    total = data.draw(st.integers(len(weights), MAX_U128))
    shares = split_allocation(total, weights)
    assert sum(shares) == total and all(s >= 1 for s in shares)
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights):
        ideal = (total - len(weights)) * weight / weight_sum + 1
        assert abs(share - ideal) <= 1 + ideal * 1e-12  # within one milli-sFLOP of exact


def test_split_refuses_what_cannot_be_split():
    with pytest.raises(LicensingError, match="cannot give each"):
        split_allocation(2, [1, 1, 1])
    with pytest.raises(LicensingError, match="no devices"):
        split_allocation(5, [])
    with pytest.raises(LicensingError, match="positive"):
        split_allocation(5, [1, 0])
    assert split_allocation(10, [1, 1, 1]) == [4, 3, 3]


@settings(max_examples=200, deadline=None)
@given(f=st.integers(0, 10**30), gap=st.integers(0, 10**30), growth=st.integers(0, 10**25),
       day=st.integers(0, 50_000), size=st.integers(0, 10**31))
def test_property_class_is_monotone_in_size_and_thresholds_only_rise(f, gap, growth, day, size):
    p = policy(frontier_base_msflop=f, frontier_daily_increase_msflop=growth,
               horizon_base_msflop=f + gap, horizon_daily_increase_msflop=growth,
               schedule_epoch_day=10_000)
    cls = license_class_for(p, size, day)
    assert license_class_for(p, size + 1, day) >= cls
    assert license_class_for(p, size, day + 1) <= cls
    assert thresholds_on(p, day + 1).frontier_msflop >= thresholds_on(p, day).frontier_msflop
    expected = (LicenseClass.HORIZON if size >= p.horizon_msflop(day) else
                LicenseClass.FRONTIER if size >= p.frontier_msflop(day) else LicenseClass.STANDARD)
    assert cls == expected


def test_thresholds_on_dates():
    p = policy(frontier_base_msflop=1000, frontier_daily_increase_msflop=10,
               horizon_base_msflop=5000, horizon_daily_increase_msflop=100,
               schedule_epoch_day=parse_date("2027-01-01"))
    assert thresholds_on(p, parse_date("2026-06-01")).frontier_msflop == 1000
    on = thresholds_on(p, parse_date("2027-01-11"))
    assert (on.frontier_msflop, on.horizon_msflop) == (1100, 6000)
    with pytest.raises(PolicyError, match="not a date"):
        parse_date("01/02/2027")
    assert parse_assignment("frontier_base_msflop=1e29") == ("frontier_base_msflop", 10**29)
    with pytest.raises(PolicyError, match="not an integer policy field"):
        parse_assignment("issuer_key=00")


def test_plan_uses_lineage_and_needs_an_inspector_above_frontier():
    p = policy(frontier_base_msflop=1000, frontier_daily_increase_msflop=0,
               horizon_base_msflop=10**6, horizon_daily_increase_msflop=0)
    slots = [DeviceSlot(bytes([i]) * 32, 1) for i in range(3)]
    small = plan_workload(p, workload="w", planned_msflop=600, lineage_msflop=399,
                          devices=slots, start=0)
    assert small.license_class == LicenseClass.STANDARD
    assert [l.allocation_msflop for l in small.licenses] == [200, 200, 200]
    assert all(l.workload_total_msflop == 600 and l.lineage_msflop == 399 for l in small.licenses)
    with pytest.raises(LicensingError, match="needs an inspector"):
        plan_workload(p, workload="w", planned_msflop=600, lineage_msflop=400, devices=slots,
                      start=0)
    big = plan_workload(p, workload="w", planned_msflop=600, lineage_msflop=400, devices=slots,
                        start=0, inspector_key=KEYS[3].public_key)
    assert big.license_class == LicenseClass.FRONTIER
    assert all(l.inspector_key == KEYS[3].public_key and l.oversight_ppm >= p.oversight_min_ppm
               for l in big.licenses)
    with pytest.raises(LicensingError, match="not one of the policy's inspectors"):
        plan_workload(p, workload="w", planned_msflop=2000, lineage_msflop=0, devices=slots,
                      start=0, inspector_key=KEYS[0].public_key)
    with pytest.raises(LicensingError, match="listed twice"):
        plan_workload(p, workload="w", planned_msflop=600, lineage_msflop=0,
                      devices=slots + slots[:1], start=0)
