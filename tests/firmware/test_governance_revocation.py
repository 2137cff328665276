"""Revocation reaches the license in force (issue 9, item 8).

Before, after policy N+1 revoked its inspector or issuer the installed
license kept getting chunks (and could no longer be paused by anyone but a
halt), and `license revoke` reached only the ledger. Now a policy that revokes
the license's issuer or inspector stops it (gate cause LICENSE_REVOKED,
logged), and a REVOKE order signed by the issuer or a board quorum stops the
license it names and raises the device's license-sequence floor, so that
renewals signed in advance are refused too. A stopped license never runs
again."""

from __future__ import annotations

import pytest

from openheg import wire
from openheg.board import check_order_signatures
from openheg.errors import DeviceStatus, RecordError
from openheg.licensing import issue_revocation, sign_order
from openheg_sim.flash import Flash

from fwkit import (NOW, Authority, Device, _key, licensed, order_names, power_cuts, pub,
                   signed_unchecked)

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
R = wire.SignerRole
G = wire.GateCause
E = wire.EventType
NEW_ISSUER = _key("new issuer")
SECOND_INSPECTOR = _key("second inspector")


def stopped_for_good(dev: Device) -> bool:
    """Closed by LICENSE_REVOKED, and still after a reboot with fresh time."""
    if dev.computes() or G.LICENSE_REVOKED not in dev.attest().gate_causes:
        return False
    dev.power_up()
    return not dev.computes() and G.LICENSE_REVOKED in dev.attest().gate_causes


def log_types(dev: Device) -> list[int]:
    return [entry.event_type for entry in dev.read_log(dev.read_log(0, 0).next_index - 4, 4)
            .entries]


def revocation(authority: Authority, lic: wire.License, sequence: int, floor: int | None = None,
               role: R = R.ISSUER, signers=None) -> wire.Order:
    order = issue_revocation(lic, sequence=sequence, license_sequence_floor=floor,
                             signer_role=role, now=NOW - 60)
    keys = signers if signers is not None else (
        (authority.issuer,) if role == R.ISSUER else authority.board_members[:2])
    return wire.Order.from_bytes(signed_unchecked(order, keys))


# ------------------------------------------------------------------ by policy
def test_a_policy_revoking_the_inspector_stops_the_license(authority):
    dev, lic = licensed(authority)
    still_listed = tuple(sorted((pub(authority.inspector), pub(SECOND_INSPECTOR))))
    revokes = authority.policy(2, revoked_keys=(pub(authority.inspector),),
                               inspector_keys=still_listed)
    assert dev.status_of(C.INSTALL_POLICY, revokes.to_bytes()) == S.OK
    assert E.LICENSE_REVOKED in log_types(dev)
    assert stopped_for_good(dev)
    # Its renewal, signed by the revoked inspector, cannot bring it back.
    renewal = authority.frontier_license(dev.device_id, 2, license_id=lic.license_id)
    assert dev.status_of(C.INSTALL_LICENSE, renewal.to_bytes()) == S.KEY_REVOKED
    # A license under the new inspector runs.
    fresh = authority.frontier_license(dev.device_id, 2, inspector_key=pub(SECOND_INSPECTOR),
                                       signers=(authority.issuer, SECOND_INSPECTOR))
    assert dev.status_of(C.INSTALL_LICENSE, fresh.to_bytes()) == S.OK
    assert dev.computes()


def test_a_policy_revoking_the_issuer_stops_the_license(authority):
    dev, lic = licensed(authority)
    revokes = authority.policy(2, issuer_key=pub(NEW_ISSUER), revoked_keys=(authority.issuer_key,))
    assert dev.status_of(C.INSTALL_POLICY, revokes.to_bytes()) == S.OK
    assert stopped_for_good(dev)


def test_the_issuer_is_remembered_across_an_issuer_rotation(authority):
    """Policy 2 rotates the issuer without revoking the old one (the license
    runs on); policy 3 revokes the old issuer: the license it signed stops."""
    dev, lic = licensed(authority)
    rotated = authority.policy(2, issuer_key=pub(NEW_ISSUER))
    assert dev.status_of(C.INSTALL_POLICY, rotated.to_bytes()) == S.OK
    assert dev.computes()
    revokes = authority.policy(3, issuer_key=pub(NEW_ISSUER),
                               revoked_keys=(authority.issuer_key,))
    assert dev.status_of(C.INSTALL_POLICY, revokes.to_bytes()) == S.OK
    assert stopped_for_good(dev)


def test_revoking_someone_else_leaves_the_license_running(authority):
    dev, lic = licensed(authority)
    other = authority.policy(2, revoked_keys=(pub(_key("somebody else")),))
    assert dev.status_of(C.INSTALL_POLICY, other.to_bytes()) == S.OK
    assert dev.computes()
    assert G.LICENSE_REVOKED not in dev.attest().gate_causes


# ------------------------------------------------------------------ by order
@pytest.mark.parametrize("role", [R.ISSUER, R.BOARD], ids=lambda role: role.name)
def test_a_revocation_order_stops_the_license_and_its_renewals(authority, role):
    """The issuer signed renewals in advance (sequences 2 and 3); the
    revocation with floor 3 stops the license and refuses both renewals."""
    dev, lic = licensed(authority)
    renewals = [authority.frontier_license(dev.device_id, seq, license_id=lic.license_id)
                for seq in (2, 3)]
    revoke = revocation(authority, lic, 1, floor=3, role=role)
    check_order_signatures(wire.Policy.from_bytes(authority.policy().to_bytes()), revoke,
                           lic.inspector_key)
    assert dev.status_of(C.ORDER, revoke.to_bytes()) == S.OK
    assert stopped_for_good(dev)
    for renewal in renewals:
        assert dev.status_of(C.INSTALL_LICENSE, renewal.to_bytes()) == S.REPLAYED
    assert dev.info().license_sequence == 3
    later = authority.frontier_license(dev.device_id, 4)
    assert dev.status_of(C.INSTALL_LICENSE, later.to_bytes()) == S.OK
    assert dev.computes()


def test_a_revocation_of_a_license_not_in_force_raises_the_floor_only(authority):
    dev, lic = licensed(authority)
    other = authority.frontier_license(dev.device_id, 5, license_id=b"other license id")
    assert dev.status_of(C.ORDER, revocation(authority, other, 1, floor=5).to_bytes()) == S.OK
    assert dev.computes()
    assert dev.status_of(C.INSTALL_LICENSE, other.to_bytes()) == S.REPLAYED
    # INFO shows the floor (the next license needs sequence 6); the attestation
    # still reports the license in force as it is.
    assert dev.info().license_sequence == 5
    attestation = dev.attest()
    assert (attestation.license_id, attestation.license_sequence) == (lic.license_id, 1)


def test_who_may_revoke(authority):
    dev, lic = licensed(authority)
    by_inspector = wire.Order(order_kind=K.REVOKE, signer_role=R.INSPECTOR,
                              device_id=dev.device_id, **order_names(K.REVOKE, lic), sequence=1,
                              issued_at=NOW - 60, license_sequence_floor=1)
    raw = signed_unchecked(by_inspector, (authority.inspector,))
    with pytest.raises(RecordError):
        wire.Order.from_bytes(raw)
    assert dev.status_of(C.ORDER, raw) == S.RECORD_FIELD
    assert dev.status_of(C.ORDER, revocation(
        authority, lic, 1, signers=(authority.inspector,)).to_bytes()) == S.SIGNER_UNTRUSTED
    assert dev.status_of(C.ORDER, revocation(
        authority, lic, 1, role=R.BOARD, signers=authority.board_members[:1]).to_bytes()) \
        == S.QUORUM_NOT_MET
    assert dev.computes()


def test_only_a_revocation_carries_a_floor(authority):
    dev, lic = licensed(authority)
    pause = wire.Order(order_kind=K.PAUSE, signer_role=R.INSPECTOR, device_id=dev.device_id,
                       **order_names(K.PAUSE, lic), sequence=1, issued_at=NOW - 60,
                       license_sequence_floor=7)
    raw = signed_unchecked(pause, (authority.inspector,))
    with pytest.raises(RecordError, match="floor"):
        wire.Order.from_bytes(raw)
    assert dev.status_of(C.ORDER, raw) == S.RECORD_FIELD


def test_a_revocation_cannot_jump_the_floor_out_of_reach(authority):
    dev, lic = licensed(authority)
    jump = revocation(authority, lic, 1, floor=1 + wire.MAX_SEQUENCE_JUMP + 1)
    assert dev.status_of(C.ORDER, jump.to_bytes()) == S.SEQUENCE_JUMP
    assert dev.computes()


def test_a_revocation_needs_no_trusted_time_and_ignores_the_lockout(authority):
    """A revocation only restricts: the operator cannot keep it out by
    withholding beacons or by locking the device out with bad records."""
    authority.policy_overrides.update(lockout_threshold=1)
    dev, lic = licensed(authority)
    assert dev.status_of(C.INSTALL_LICENSE, authority.license(
        dev.device_id, 2, signers=(_key("rogue"),)).to_bytes()) == S.SIGNER_UNTRUSTED
    assert dev.status_of(C.INSTALL_LICENSE, authority.license(dev.device_id, 2).to_bytes()) \
        == S.LOCKED_OUT
    dev.power_up(sync_time=False)  # a reboot restarts the lockout's wait
    assert dev.status_of(C.ORDER, revocation(authority, lic, 1).to_bytes()) == S.OK
    dev.sync_time()
    assert not dev.computes() and G.LICENSE_REVOKED in dev.attest().gate_causes


def test_the_host_builds_and_signs_a_revocation_the_device_takes(authority):
    dev, lic = licensed(authority)
    from openheg.crypto import SigningKey
    issuer = SigningKey(bytes(authority.issuer))
    order = sign_order(issue_revocation(lic, sequence=1, now=NOW - 60), [issuer])
    assert order.order_kind == K.REVOKE and order.license_sequence_floor == lic.sequence
    assert dev.status_of(C.ORDER, order.to_bytes()) == S.OK
    assert stopped_for_good(dev)


@pytest.mark.parametrize("by", ["order", "policy"])
def test_power_cut_never_unrevokes(authority, by):
    base, lic = licensed(authority)
    if by == "order":
        raw = revocation(authority, lic, 1, floor=3).to_bytes()
        action = lambda d: d.request(C.ORDER, raw)  # noqa: E731
    else:
        raw = authority.policy(2, revoked_keys=(pub(authority.inspector),),
                               inspector_keys=(pub(SECOND_INSPECTOR),)).to_bytes()
        action = lambda d: d.request(C.INSTALL_POLICY, raw)  # noqa: E731
    for cut, after, _ in power_cuts(base, action):
        applied = (after.info().issuer_order_sequence == 1 if by == "order"
                   else after.info().policy_version == 2)
        assert after.computes() != applied, f"cut {cut}"
        if applied:
            assert G.LICENSE_REVOKED in after.attest().gate_causes, f"cut {cut}"
            assert Device(Flash(image=after.flash.image()), seed=after.seed).info() \
                .license_sequence == (3 if by == "order" else 1)


def test_a_later_order_of_the_same_role_does_not_void_an_undelivered_revocation(authority):
    dev, lic = licensed(authority)
    renewal = authority.frontier_license(dev.device_id, 2, license_id=lic.license_id)
    revoke = revocation(authority, lic, 1, floor=2)  # held back by the operator
    old = authority.frontier_license(dev.device_id, 1, license_id=b"an old license..")
    later = revocation(authority, old, 2, floor=1)  # the issuer's next order
    assert dev.status_of(C.ORDER, later.to_bytes()) == S.OK
    assert dev.status_of(C.ORDER, revoke.to_bytes()) == S.OK
    assert stopped_for_good(dev)
    assert dev.status_of(C.INSTALL_LICENSE, renewal.to_bytes()) == S.REPLAYED


def test_a_later_order_of_the_same_role_does_not_void_an_undelivered_halt(authority):
    dev, lic = licensed(authority)
    halt = authority.order(K.HALT, dev.device_id, 1)  # held back by the operator
    resume = authority.order(K.RESUME, dev.device_id, 2, lic.workload_id, role=R.BOARD,
                             issued_at=NOW - 30)
    assert dev.status_of(C.ORDER, resume.to_bytes()) == S.OK
    assert dev.status_of(C.ORDER, halt.to_bytes()) == S.OK
    assert not dev.computes() and G.HALTED in dev.attest().gate_causes


def test_a_lockout_cannot_keep_a_revoking_policy_out(authority):
    dev, lic = licensed(authority)
    forged = authority.license(dev.device_id, 2, signers=(authority.vendor,))
    for _ in range(40):
        dev.status_of(C.INSTALL_LICENSE, forged.to_bytes())
    revokes = authority.policy(2, revoked_keys=(pub(authority.inspector),),
                               inspector_keys=(pub(authority.inspector),))
    assert dev.status_of(C.INSTALL_POLICY, revokes.to_bytes()) == S.OK
    assert stopped_for_good(dev)


def test_forged_policies_still_lock_out_policies_and_nothing_else(authority):
    """Finding 8's fix keeps the lockout's bound on retries: one count per kind
    of record, so an operator retrying a forged policy (to glitch one check)
    gets lockout_threshold tries per lockout period, a reboot restarting the
    wait; the forged policies keep out neither licenses nor orders, and the
    forged licenses kept no policy out (above)."""
    authority.policy_overrides.update(lockout_threshold=3, lockout_duration_s=600)
    dev, lic = licensed(authority)
    short = authority.policy(2, signers=authority.board_members[:1])
    for _ in range(3):
        assert dev.status_of(C.INSTALL_POLICY, short.to_bytes()) == S.QUORUM_NOT_MET
    genuine = authority.policy(2)
    assert dev.status_of(C.INSTALL_POLICY, genuine.to_bytes()) == S.LOCKED_OUT
    dev.power_up()
    assert dev.status_of(C.INSTALL_POLICY, genuine.to_bytes()) == S.LOCKED_OUT
    renewal = authority.frontier_license(dev.device_id, 2, license_id=lic.license_id)
    assert dev.status_of(C.INSTALL_LICENSE, renewal.to_bytes()) == S.OK
    assert dev.status_of(C.ORDER, authority.order(K.LIFT_HALT, dev.device_id, 1,
                                                  issued_at=NOW - 30).to_bytes()) == S.OK
    assert dev.info().policy_version == 1
    dev.advance(601)
    dev.sync_time()
    assert dev.status_of(C.INSTALL_POLICY, genuine.to_bytes()) == S.OK

