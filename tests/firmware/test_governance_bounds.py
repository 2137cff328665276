"""Baselines no vote can cross (issue 9, item 5): every policy bound in
openheg.wire.POLICY_BOUNDS holds on the device and on the host alike, for the
genesis policy and for every update, whatever the board signs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openheg import regmap, wire
from openheg.errors import DeviceStatus, RecordError

from fwkit import Authority, Device, provision, provision_request, signed_unchecked

S = DeviceStatus
C = wire.Command


def _policy_fields(authority: Authority, version: int, **overrides) -> wire.Policy:
    """An unsigned policy with the test defaults and ``overrides`` (not checked)."""
    good = authority.policy(version)
    return replace(good, **overrides)


def _crossings() -> list[tuple[str, dict]]:
    """One policy edit per side of every bound: just outside it."""
    cases = []
    for bound in wire.POLICY_BOUNDS:
        if bound.minimum > 0:  # an unsigned field has nothing below 0
            cases.append((f"{bound.field} below {bound.minimum}",
                          {bound.field: bound.minimum - 1}))
        if bound.maximum < bound.encoding_max:
            cases.append((f"{bound.field} above {bound.maximum}",
                          {bound.field: bound.maximum + 1}))
    defaults = [regmap.DEFAULT_WEIGHTS_MILLI[lane] for lane in regmap.LANES]
    for lane, name in enumerate(regmap.LANES):
        low, high = wire.weight_bounds(name)
        for label, value in (("below", low - 1), ("above", high + 1)):
            weights = list(defaults)
            weights[lane] = value
            cases.append((f"weight {name} {label} its bounds", {"weights_milli": tuple(weights)}))
    return cases


CROSSINGS = _crossings()


def test_the_review_s_removable_baselines_are_among_the_crossings():
    """The review's attack policies: watchdog 0, lockout 0, weights of 1."""
    names = {name for name, _ in CROSSINGS}
    assert "watchdog_period_cycles below 1024" in names
    assert "lockout_threshold below 1" in names
    assert all(low > 1 for low, _ in map(wire.weight_bounds, regmap.LANES))


@pytest.mark.parametrize("name,edit", CROSSINGS, ids=[n for n, _ in CROSSINGS])
def test_no_vote_crosses_a_bound(authority, name, edit):
    """Refused by the device as genesis and as an update signed by the whole
    board, and by the host's parser, with the same verdict."""
    genesis = _policy_fields(authority, 1, **edit)
    raw = signed_unchecked(genesis, authority.board_members)
    with pytest.raises(RecordError) as caught:
        wire.Policy.from_bytes(raw)
    assert caught.value.kind == S.RECORD_FIELD
    fresh = Device()
    assert fresh.status_of(C.PROVISION, authority.vendor_key + raw) == S.RECORD_FIELD
    assert fresh.info().state == wire.DeviceState.UNPROVISIONED

    dev = Device()
    provision(dev, authority)
    update = signed_unchecked(_policy_fields(authority, 2, **edit), authority.board_members)
    before = dev.snapshot()
    assert dev.status_of(C.INSTALL_POLICY, update) == S.RECORD_FIELD
    assert dev.snapshot() == before


def test_every_bound_is_reachable_from_inside(authority):
    """The bounds themselves are allowed (a bound that refused its own edge
    would be a different bound than the one documented)."""
    dev = Device()
    provision(dev, authority)
    version = 2
    for bound in wire.POLICY_BOUNDS:
        for value in (bound.minimum, bound.maximum):
            policy = authority.policy(version, **{bound.field: value})
            assert dev.status_of(C.INSTALL_POLICY, policy.to_bytes()) == S.OK, bound.field
            version += 1
    for name in regmap.LANES:
        for value in wire.weight_bounds(name):
            weights = tuple(value if lane == name else regmap.DEFAULT_WEIGHTS_MILLI[lane]
                            for lane in regmap.LANES)
            policy = authority.policy(version, weights_milli=weights)
            assert dev.status_of(C.INSTALL_POLICY, policy.to_bytes()) == S.OK, name
            version += 1
    assert dev.info().policy_version == version - 1


def test_every_bound_says_why(authority):
    for bound in wire.POLICY_BOUNDS:
        assert len(bound.reason) > 40 and bound.minimum <= bound.maximum
        with pytest.raises(RecordError) as caught:
            _policy_fields(authority, 1, **{bound.field: bound.minimum - 1}).to_bytes()
        assert bound.field in str(caught.value) and bound.reason in str(caught.value)


def test_the_host_defaults_are_inside_the_bounds():
    """The CLI's and the demo's genesis policy (policy.genesis_draft) passes."""
    from openheg.policy import genesis_draft
    keys = [bytes([i]) * 32 for i in range(1, 4)]
    genesis_draft(board_keys=keys, board_threshold=2, issuer_key=b"\x09" * 32,
                  time_authority_key=b"\x0a" * 32).check()
