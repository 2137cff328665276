"""Host rules and device verdicts agree: licenses of every class, policy rotation
and orders, built by the host library and judged by the real C firmware."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openheg.authority import Authority
from openheg.board import (
    Proposal,
    VoteError,
    check_license_signatures,
    check_order_signatures,
    check_policy_update,
    combine,
    sign_proposal,
)
from openheg.crypto import SigningKey
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus
from openheg.licensing import (
    DeviceSlot,
    issue_order,
    plan_workload,
    sign_order,
    time_beacon,
)
from openheg.policy import next_draft
from openheg.roles import Role, endorse_device
from openheg.wire import GateCause, LicenseClass, OrderKind
from openheg_sim.emulator import ChipLink, EmulatedChip



@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return Authority.create(tmp_path_factory.mktemp("gov") / "auth", board_size=3,
                            board_threshold=2, horizon_threshold=3, inspectors=1, parties=2,
                            frontier_base_msflop=1_000_000, horizon_base_msflop=1_000_000_000)


@pytest.fixture
def chip(authority, tmp_path):
    vendor = Role(tmp_path, SigningKey.generate())
    emulated = EmulatedChip.open("gov", tmp_path)
    device = Device(ChipLink(emulated))
    device_id = device.provision(vendor.public_key, authority.genesis())
    device.endorse(endorse_device(vendor, device_id))
    device.time_beacon(time_beacon(authority.key("time"), device_id=device_id,
                                   device_nonce=device.time_nonce()))
    return emulated, device, device_id


def keys(authority, *names):
    return [authority.key(name) for name in names]


def signed(record, signers):
    proposal = Proposal(record)
    return combine(proposal, [sign_proposal(proposal, k) for k in signers])


def both_refuse(host_check, device_call, status):
    with pytest.raises(VoteError):
        host_check()
    with pytest.raises(DeviceError) as refused:
        device_call()
    assert refused.value.status == status


@pytest.mark.parametrize("planned,cls,full,missing_one", [
    (500_000, LicenseClass.STANDARD, ("issuer",), None),
    (5_000_000, LicenseClass.FRONTIER, ("issuer", "inspector-1"), "inspector-1"),
    (2_000_000_000, LicenseClass.HORIZON,
     ("issuer", "inspector-1", "board-1", "board-2", "board-3", "party-1", "party-2"), "party-2"),
])
def test_license_classes_agree(authority, chip, planned, cls, full, missing_one):
    _, device, device_id = chip
    policy = authority.policy_in_force()
    (draft,) = plan_workload(policy, workload=f"w{cls}", planned_msflop=planned,
                             lineage_msflop=0, devices=[DeviceSlot(device_id, 1)],
                             inspector_key=authority.public_key("inspector-1")).licenses
    assert draft.license_class == cls
    if missing_one is not None:
        short = signed(draft, keys(authority, *[n for n in full if n != missing_one]))
        both_refuse(lambda: check_license_signatures(policy, short),
                    lambda: device.install_license(short),
                    DeviceStatus.SIGNER_UNTRUSTED if cls == LicenseClass.FRONTIER
                    else DeviceStatus.QUORUM_NOT_MET)
    good = signed(draft, keys(authority, *full))
    check_license_signatures(policy, good)
    device.install_license(good)
    assert device.info().license_sequence == 1
    if cls != LicenseClass.STANDARD:  # declaring a lower class is refused on the device
        lower = replace(draft, license_class=LicenseClass.STANDARD,
                        inspector_key=bytes(32), oversight_ppm=0, sequence=2)
        with pytest.raises(DeviceError) as refused:
            device.install_license(signed(lower, keys(authority, "issuer")))
        assert refused.value.status == DeviceStatus.CLASS_TOO_LOW


def test_board_rotation_agrees(authority, chip):
    _, device, _ = chip
    current = authority.policy_in_force()
    new_members = [SigningKey.generate() for _ in range(2)]
    draft = next_draft(current, board_keys=[k.public_key for k in new_members]
                       + [authority.public_key("board-1")], board_threshold=2,
                       horizon_board_threshold=3)
    old_quorum_only = signed(draft, keys(authority, "board-1", "board-2"))
    # board-1 is on both boards: 2 of the old, only 1 of the new.
    both_refuse(lambda: check_policy_update(current, old_quorum_only),
                lambda: device.install_policy(old_quorum_only), DeviceStatus.QUORUM_NOT_MET)
    # Both quorums, but a new board moves the Horizon veto: its holders (every
    # party and the old board's Horizon quorum) must assent too.
    no_veto = signed(draft, keys(authority, "board-1", "board-2") + new_members[:1])
    both_refuse(lambda: check_policy_update(current, no_veto),
                lambda: device.install_policy(no_veto), DeviceStatus.PARTY_VETO)
    both = signed(draft, keys(authority, "board-1", "board-2", "board-3", "party-1", "party-2")
                  + new_members[:1])
    check_policy_update(current, both)
    device.install_policy(both)
    assert device.info().policy_version == 2
    with pytest.raises(DeviceError) as refused:
        device.install_policy(both)
    assert refused.value.status == DeviceStatus.REPLAYED


def test_orders_agree_and_close_the_gate(authority, chip):
    emulated, device, device_id = chip
    policy = authority.policy_in_force()
    (draft,) = plan_workload(policy, workload="orders", planned_msflop=5_000_000,
                             lineage_msflop=0, devices=[DeviceSlot(device_id, 1)],
                             inspector_key=authority.public_key("inspector-1")).licenses
    license_ = signed(draft, keys(authority, "issuer", "inspector-1"))
    device.install_license(license_)
    inspector = license_.inspector_key
    halt = issue_order(OrderKind.HALT, device_id=device_id, sequence=1)
    weak = sign_order(halt, keys(authority, "board-1"))
    both_refuse(lambda: check_order_signatures(policy, weak, inspector),
                lambda: device.order(weak), DeviceStatus.QUORUM_NOT_MET)
    halted = sign_order(halt, keys(authority, "board-1", "board-3"))
    check_order_signatures(policy, halted, inspector)
    device.order(halted)
    emulated.meter.idle(1)
    assert emulated.run("FP8", 1000, 100).issued_ops == 0
    nonce = bytes(32)
    from openheg.wire import Attestation

    att = Attestation.from_bytes(device.attest(nonce))
    assert att.gate_causes & GateCause.HALTED
    lift = sign_order(issue_order(OrderKind.LIFT_HALT, device_id=device_id, sequence=2),
                      keys(authority, "board-2", "board-3"))
    device.order(lift)
    assert emulated.run("FP8", 1000, 100).issued_ops == 1000
    pause_by_board = sign_order(issue_order(OrderKind.PAUSE, device_id=device_id, sequence=3,
                                            license_=license_),
                                keys(authority, "board-1", "board-2"))
    both_refuse(lambda: check_order_signatures(policy, pause_by_board, inspector),
                lambda: device.order(pause_by_board), DeviceStatus.SIGNER_UNTRUSTED)
