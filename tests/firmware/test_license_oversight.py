"""The oversight fraction is reserved on the device (issue 9, item 11).

Before, a license's oversight_ppm was checked against the policy's minimum
and then dropped: the workload could spend its whole allocation. Now that
share of the allocation (rounded up) is held back: the meter's limit never
reaches into it, the attestation shows it, and only the inspector named in
the license releases it, by a signed RELEASE_OVERSIGHT order."""

from __future__ import annotations

import os

import pytest

from openheg import wire
from openheg.errors import DeviceStatus, RecordError, VerificationError
from openheg.verify import verify_attestation
from openheg_sim.meter_model import METERING_LATENCY_EDGES

from fwkit import (HORIZON, NOW, Authority, Device, _key, order_names, power_cuts, provision,
                   pub, signed_unchecked)

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
R = wire.SignerRole
G = wire.GateCause
ALLOCATION = 8_000_000
PPM = 20_000  # fwkit's Frontier license
RESERVE = ALLOCATION * PPM // 1_000_000  # 160,000: 160 FP8 ops
# Ops in flight as the gate closes (the cycle that reaches the limit and the cycles in
# the metering pipeline, one FP8 op each): the meter's overshoot without CHARGE_MAX.
IN_FLIGHT = (1 + METERING_LATENCY_EDGES) * 1000


def licensed(authority: Authority, **overrides) -> tuple[Device, wire.License]:
    authority.policy_overrides.setdefault("allowance_chunk_msflop", ALLOCATION)
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1, allocation=ALLOCATION, **overrides)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    return dev, lic


def release(authority: Authority, dev: Device, lic: wire.License, sequence: int = 1,
            **overrides) -> DeviceStatus:
    order = authority.order(K.RELEASE_OVERSIGHT, dev.device_id, sequence, lic.license_id,
                            license_sequence=lic.sequence, **overrides)
    status = dev.status_of(C.ORDER, order.to_bytes())
    dev.firmware.poll()
    return status


def test_the_workload_cannot_spend_the_oversight_reserve(authority):
    dev, lic = licensed(authority)
    dev.run(ALLOCATION // 1000, ops_per_cycle=1)
    attestation = dev.attest()
    assert attestation.oversight_reserved_msflop == RESERVE
    assert ALLOCATION - RESERVE <= attestation.consumed_msflop <= \
        ALLOCATION - RESERVE + IN_FLIGHT
    assert attestation.remaining_msflop == 0
    assert not dev.computes()
    dev.power_up()  # the reserve is persisted
    assert dev.attest().oversight_reserved_msflop == RESERVE
    assert not dev.computes()


def test_the_named_inspector_releases_it(authority):
    dev, lic = licensed(authority)
    held = dev.run(ALLOCATION // 1000, ops_per_cycle=1)
    assert held * 1000 <= ALLOCATION - RESERVE + IN_FLIGHT
    assert release(authority, dev, lic) == S.OK
    dev.run(ALLOCATION // 1000, ops_per_cycle=1)
    attestation = dev.attest()
    assert attestation.oversight_reserved_msflop == 0
    assert ALLOCATION <= attestation.consumed_msflop <= ALLOCATION + IN_FLIGHT
    assert attestation.inspector_order_sequence == 1
    exhausted = [e for e in dev.read_log(dev.read_log(0, 0).next_index - 4, 4).entries
                 if e.event_type == wire.EventType.EXHAUSTED]
    assert exhausted, "the true end of the allocation is logged once the reserve is released"


def test_nobody_else_releases_it(authority):
    authority.policy_overrides.update(inspector_keys=tuple(sorted(
        (pub(authority.inspector), pub(_key("other inspector"))))))
    dev, lic = licensed(authority)
    assert release(authority, dev, lic, signers=(_key("other inspector"),)) \
        == S.SIGNER_UNTRUSTED
    assert release(authority, dev, lic, signers=(authority.issuer,)) == S.SIGNER_UNTRUSTED
    for role, signers in ((R.BOARD, authority.board_members), (R.ISSUER, (authority.issuer,))):
        order = wire.Order(order_kind=K.RELEASE_OVERSIGHT, signer_role=role,
                           device_id=dev.device_id, **order_names(K.RELEASE_OVERSIGHT, lic),
                           sequence=1, issued_at=NOW - 60)
        raw = signed_unchecked(order, signers)
        with pytest.raises(RecordError):
            wire.Order.from_bytes(raw)
        assert dev.status_of(C.ORDER, raw) == S.RECORD_FIELD
    assert dev.attest().oversight_reserved_msflop == RESERVE


def test_a_release_needs_trusted_time_and_names_the_license_in_force(authority):
    dev, lic = licensed(authority)
    dev.power_up(sync_time=False)
    assert release(authority, dev, lic) == S.TIME_UNTRUSTED
    dev.sync_time()
    other = authority.order(K.RELEASE_OVERSIGHT, dev.device_id, 1, b"another license!")
    assert dev.status_of(C.ORDER, other.to_bytes()) == S.WRONG_STATE
    assert release(authority, dev, lic) == S.OK


def test_a_standard_license_reserves_nothing(authority):
    dev = Device()
    provision(dev, authority)
    assert dev.status_of(C.INSTALL_LICENSE, authority.license(dev.device_id, 1).to_bytes()) \
        == S.OK
    attestation = dev.attest()
    assert attestation.oversight_reserved_msflop == 0
    assert attestation.remaining_msflop == 8_000_000


@pytest.mark.parametrize("allocation,ppm", [
    (8_000_000, 10_000), (8_000_001, 333_333), (1, 1_000), (999_999, 999_999),
    ((1 << 100) + 7, 1_000_000), ((1 << 127) + 12345, 654_321), (wire.MAX_U128, 1_000)])
def test_host_and_device_compute_the_same_reserve(authority, allocation, ppm):
    """Rounded up, to the milli-sFLOP, over the whole u128 range."""
    authority.policy_overrides.update(oversight_min_ppm=1_000)  # its lowest bound
    horizon = allocation >= HORIZON
    dev = Device()
    provision(dev, authority)
    everyone = (authority.issuer, authority.inspector, authority.party) + \
        authority.board_members
    lic = authority.frontier_license(
        dev.device_id, 1, allocation=allocation,
        workload_total_msflop=max(allocation, 10**12), oversight_ppm=ppm,
        license_class=wire.LicenseClass.HORIZON if horizon else wire.LicenseClass.FRONTIER,
        signers=everyone if horizon else (authority.issuer, authority.inspector))
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    attestation = dev.attest()
    expected = wire.oversight_reserve_msflop(allocation, ppm)
    assert expected == -(-allocation * ppm // 1_000_000)
    assert attestation.oversight_reserved_msflop == expected
    assert attestation.remaining_msflop == allocation - expected


def test_the_verifier_accounts_for_the_reserve(authority):
    dev, lic = licensed(authority)
    dev.run(1000)
    challenge = os.urandom(32)
    raw = dev.ok(C.ATTEST, challenge)
    endorsement = wire.Endorsement.from_bytes(authority.endorsement(dev.device_id))
    verified = verify_attestation(raw, nonce=challenge, endorsement=endorsement,
                                  vendor_keys={authority.vendor_key}, license=lic)
    assert verified.attestation.oversight_reserved_msflop == RESERVE
    # A license (same id and sequence) whose reserve differs from what the
    # device holds back is not the one the device runs.
    other = authority.frontier_license(dev.device_id, 1, allocation=ALLOCATION,
                                       oversight_ppm=PPM + 1)
    with pytest.raises(VerificationError, match="oversight reserve"):
        verify_attestation(raw, nonce=challenge, endorsement=endorsement,
                           vendor_keys={authority.vendor_key}, license=other)
    assert release(authority, dev, lic) == S.OK
    challenge = os.urandom(32)
    raw = dev.ok(C.ATTEST, challenge)
    verify_attestation(raw, nonce=challenge, endorsement=endorsement,
                       vendor_keys={authority.vendor_key}, license=lic)


def test_power_cut_during_a_release(authority):
    base, lic = licensed(authority)
    raw = authority.order(K.RELEASE_OVERSIGHT, base.device_id, 1, lic.license_id).to_bytes()
    for cut, after, _ in power_cuts(base, lambda d: d.request(C.ORDER, raw)):
        attestation = after.attest()
        released = attestation.inspector_order_sequence == 1
        assert attestation.oversight_reserved_msflop == (0 if released else RESERVE), \
            f"cut {cut}"


def test_a_release_held_back_does_not_release_a_renewal_s_reserve(authority):
    dev, lic = licensed(authority)
    release = authority.order(K.RELEASE_OVERSIGHT, dev.device_id, 1, lic.license_id)  # held
    renewal = authority.frontier_license(dev.device_id, 2, allocation=ALLOCATION,
                                         license_id=lic.license_id)
    assert dev.status_of(C.INSTALL_LICENSE, renewal.to_bytes()) == S.OK
    assert dev.attest().oversight_reserved_msflop == RESERVE
    dev.status_of(C.ORDER, release.to_bytes())
    assert dev.attest().oversight_reserved_msflop == RESERVE


def test_the_renewal_s_reserve_is_released_by_an_order_naming_its_sequence(authority):
    """The release names the license by id and sequence: the held-back release
    of L1 is refused for L2 (same id) and changes nothing; the inspector's
    release naming L2 releases it."""
    dev, lic = licensed(authority)
    renewal = authority.frontier_license(dev.device_id, 2, allocation=ALLOCATION,
                                         license_id=lic.license_id)
    assert dev.status_of(C.INSTALL_LICENSE, renewal.to_bytes()) == S.OK
    before = dev.snapshot()
    for sequence in (1, 2):  # L1's release, under the inspector's next sequence too
        held = authority.order(K.RELEASE_OVERSIGHT, dev.device_id, sequence, lic.license_id,
                               license_sequence=lic.sequence)
        assert dev.status_of(C.ORDER, held.to_bytes()) == S.WRONG_STATE
    assert dev.snapshot() == before  # refused before the lockout counts
    assert release(authority, dev, renewal, sequence=2) == S.OK
    assert dev.attest().oversight_reserved_msflop == 0


def test_a_release_names_a_sequence_and_nothing_else_does(authority):
    dev, lic = licensed(authority)
    for kind, license_sequence in ((K.RELEASE_OVERSIGHT, 0), (K.REVOKE, 1)):
        fields = dict(order_names(kind, lic), license_sequence=license_sequence)
        role = R.INSPECTOR if kind == K.RELEASE_OVERSIGHT else R.ISSUER
        signer = authority.inspector if kind == K.RELEASE_OVERSIGHT else authority.issuer
        raw = signed_unchecked(wire.Order(order_kind=kind, signer_role=role,
                                          device_id=dev.device_id, **fields, sequence=1,
                                          issued_at=NOW - 60,
                                          license_sequence_floor=int(kind == K.REVOKE)),
                               (signer,))
        with pytest.raises(RecordError, match="sequence"):
            wire.Order.from_bytes(raw)
        assert dev.status_of(C.ORDER, raw) == S.RECORD_FIELD
    assert dev.attest().oversight_reserved_msflop == RESERVE
