"""The universal cut-off (issue 11, G18): one HALT a board quorum signs for every
device under its policy. It names no device but the policy's digest, has its
own anti-replay per policy, and only a fleet LIFT_HALT of the board ends it.
The operator's moves: replay it after its lift, send it under another policy,
send a per-device LIFT_HALT (signed by the board earlier, held back) to end it,
send it under-signed, cut power while the device commits it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openheg import wire
from openheg.errors import DeviceStatus, RecordError

from fwkit import deliver_order as send
from fwkit import Authority, Device, _key, licensed, power_cuts, signed_unchecked

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
R = wire.SignerRole
G = wire.GateCause


def refused(dev: Device, record) -> DeviceStatus:
    """The device's answer to an order it must refuse; asserts it changed nothing."""
    raw = record if isinstance(record, bytes) else record.to_bytes()
    before = dev.snapshot()
    status = dev.status_of(C.ORDER, raw)
    assert status != S.OK and dev.snapshot() == before
    return status


def halted(dev: Device) -> bool:
    return G.HALTED in dev.attest().gate_causes


def test_one_fleet_halt_halts_every_device_under_the_policy(authority):
    devices = [licensed(authority)[0] for _ in range(3)]
    halt = authority.fleet_order(K.HALT, 1)
    for dev in devices:
        assert send(dev, halt) == S.OK
        assert not dev.computes() and halted(dev)
    # Logged with the policy it is bound to as its subject.
    entries, first = [], 0
    while page := devices[0].read_log(first).entries:
        entries += page
        first = page[-1].index + 1
    entry = entries[-1]
    assert entry.event_type == wire.EventType.ORDER_APPLIED
    assert entry.payload[0] == K.HALT and entry.payload[1] == R.BOARD
    assert bytes(entry.payload[10:26]) == halt.subject_id == authority.policy().digest[:16]
    lift = authority.fleet_order(K.LIFT_HALT, 2)
    for dev in devices:
        assert send(dev, lift) == S.OK
        assert dev.computes() and not halted(dev)


def test_a_fleet_halt_for_another_policy_is_refused():
    """Bound to its policy: a halt the board of another policy signed (or one
    for this board's other policy version) is no order here."""
    home = Authority()
    other = Authority(board_members=tuple(_key(f"other board member {i}") for i in range(3)))
    dev, _ = licensed(home)
    for halt in (other.fleet_order(K.HALT, 1), home.fleet_order(K.HALT, 1, policy=home.policy(2))):
        assert refused(dev, halt) == S.WRONG_POLICY
    assert dev.computes()


def test_a_fleet_halt_replayed_after_its_lift_is_refused(authority):
    dev, _ = licensed(authority)
    halt = authority.fleet_order(K.HALT, 1)
    assert send(dev, halt) == S.OK
    assert send(dev, authority.fleet_order(K.LIFT_HALT, 2)) == S.OK
    assert refused(dev, halt) == S.REPLAYED
    assert dev.computes()
    # Also after a reboot: the sequence is persisted with the effect.
    rebooted = Device(dev.flash.__class__(image=dev.flash.image()), seed=dev.seed)
    rebooted.authority, rebooted.device_id = dev.authority, dev.device_id
    rebooted.sync_time()
    assert send(rebooted, halt) == S.REPLAYED
    assert rebooted.computes()


def test_fleet_sequences_are_their_own(authority):
    """The fleet counter and the board's per-device counter do not void each
    other: a per-device board order numbered high leaves fleet sequence 1
    valid, and the reverse."""
    dev, _ = licensed(authority)
    assert send(dev, authority.order(K.HALT, dev.device_id, 9)) == S.OK
    assert send(dev, authority.fleet_order(K.HALT, 1)) == S.OK
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, 10)) == S.OK
    assert dev.info().board_order_sequence == 10
    assert not dev.computes()  # the fleet halt holds
    assert send(dev, authority.fleet_order(K.LIFT_HALT, 2)) == S.OK
    assert dev.computes()


def test_an_under_signed_fleet_halt_is_refused(authority):
    dev, _ = licensed(authority)
    one = authority.fleet_order(K.HALT, 1, signers=authority.board_members[:1])
    assert refused(dev, one) == S.QUORUM_NOT_MET
    strangers = authority.fleet_order(K.HALT, 1, signers=(authority.inspector, authority.issuer))
    assert refused(dev, strangers) == S.QUORUM_NOT_MET
    assert dev.computes()


def test_a_per_device_lift_does_not_end_a_fleet_halt(authority):
    """The operator holds a per-device LIFT_HALT the board signed before (its
    sequence still above the device's): delivered after the fleet halt, it is
    applied to the per-device halt only, and the fleet halt holds."""
    dev, _ = licensed(authority)
    held_back = authority.order(K.LIFT_HALT, dev.device_id, 1)
    assert send(dev, authority.fleet_order(K.HALT, 1)) == S.OK
    assert send(dev, held_back) == S.OK
    assert not dev.computes() and halted(dev)
    # Nor does a fleet order of a per-device halt's sequence lift it: the
    # per-device halt holds against a fleet lift.
    assert send(dev, authority.order(K.HALT, dev.device_id, 2)) == S.OK
    assert send(dev, authority.fleet_order(K.LIFT_HALT, 2)) == S.OK
    assert not dev.computes()
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, 3)) == S.OK
    assert dev.computes()


def test_a_fleet_halt_needs_no_trusted_time(authority):
    """It only restricts: like a per-device halt it is taken with no beacon,
    and a lift (which grants) is not."""
    dev, _ = licensed(authority)
    dev.power_up(sync_time=False)
    assert send(dev, authority.fleet_order(K.HALT, 1)) == S.OK
    assert send(dev, authority.fleet_order(K.LIFT_HALT, 2)) == S.TIME_UNTRUSTED


def test_a_new_policy_starts_fleet_sequences_again_and_keeps_the_halt(authority):
    dev, _ = licensed(authority)
    assert send(dev, authority.fleet_order(K.HALT, 5)) == S.OK
    v2 = authority.policy(2)
    assert dev.status_of(C.INSTALL_POLICY, v2.to_bytes()) == S.OK
    assert not dev.computes()  # the halt stays in force
    # The old policy's orders are refused; the new one's count from 1.
    assert send(dev, authority.fleet_order(K.LIFT_HALT, 6)) == S.WRONG_POLICY
    assert send(dev, authority.fleet_order(K.LIFT_HALT, 1, policy=v2)) == S.OK
    assert dev.computes()


@pytest.mark.parametrize("change", [
    dict(device_id=b"\x01" * 32),              # names a device too
    dict(order_kind=K.PAUSE, workload_id=b"w" * 16, signer_role=R.INSPECTOR),
    dict(signer_role=R.ISSUER),
])
def test_a_malformed_fleet_order_is_refused(authority, change):
    """Only the board's halt or lift-halt may be a fleet order, naming no
    device; the host refuses to encode anything else, the device to parse it."""
    dev, _ = licensed(authority)
    good = authority.fleet_order(K.HALT, 1)
    bad = replace(good, **change)
    with pytest.raises(RecordError):
        bad.check()
    raw = signed_unchecked(bad, authority.board_members[:2])
    assert refused(dev, raw) == S.RECORD_FIELD


def test_a_power_cut_leaves_the_fleet_halt_applied_or_not(authority):
    """Cut at each flash operation of the halt: after reboot the device is
    halted with the fleet sequence taken, or neither (then the same halt is
    still accepted)."""
    base, _ = licensed(authority)
    halt = authority.fleet_order(K.HALT, 1)
    outcomes = set()
    for _, after, _ in power_cuts(base, lambda d: d.ok(C.ORDER, halt.to_bytes())):
        if halted(after):
            outcomes.add("applied")
            assert send(after, halt) == S.REPLAYED
        else:
            outcomes.add("not")
            assert after.computes()
            assert send(after, halt) == S.OK
        assert not after.computes()
    assert outcomes == {"applied", "not"}


def test_a_power_cut_leaves_the_fleet_lift_applied_or_not(authority):
    base, _ = licensed(authority)
    assert send(base, authority.fleet_order(K.HALT, 1)) == S.OK
    lift = authority.fleet_order(K.LIFT_HALT, 2)
    outcomes = set()
    for _, after, _ in power_cuts(base, lambda d: d.ok(C.ORDER, lift.to_bytes())):
        if after.computes():
            outcomes.add("applied")
            assert send(after, lift) == S.REPLAYED
        else:
            outcomes.add("not")
            assert send(after, lift) == S.OK
            assert after.computes()
    assert outcomes == {"applied", "not"}
