"""Orders against an operator who holds them back, replays them, reorders them
and sends bad records (issue 9, item 12): orders expire on trusted time, each
signer role has its own anti-replay counter named in the order, and an order
that only restricts is not kept out by missing time or by a lockout."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openheg import wire
from openheg.board import VoteError, check_order_signatures
from openheg.errors import DeviceStatus, RecordError

from fwkit import deliver_order as send
from fwkit import NOW, Authority, Device, _key, order_names, provision, signed_unchecked

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
R = wire.SignerRole
G = wire.GateCause
DAY = 86_400


def licensed(authority: Authority) -> tuple[Device, wire.License]:
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    return dev, lic


def test_an_order_held_back_past_its_lifetime_is_refused(authority):
    """A resume signed long ago and delivered now must not lift a pause."""
    dev, lic = licensed(authority)
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id)) == S.OK
    old_resume = authority.order(K.RESUME, dev.device_id, 2, lic.workload_id,
                                 issued_at=NOW - wire.ORDER_LIFETIME_S - 2)
    before = dev.snapshot()
    assert dev.status_of(C.ORDER, old_resume.to_bytes()) == S.EXPIRED
    assert dev.snapshot() == before
    assert dev.run(10) == 0 and G.PAUSED in dev.attest().gate_causes


def test_an_order_from_the_future_is_refused(authority):
    dev, lic = licensed(authority)
    early = authority.order(K.HALT, dev.device_id, 1, issued_at=NOW + DAY)
    before = dev.snapshot()
    assert dev.status_of(C.ORDER, early.to_bytes()) == S.NOT_YET_VALID
    assert dev.snapshot() == before


def test_one_role_cannot_void_another_roles_undelivered_order(authority):
    """The review's attack: the board's halt (sequence 6) used to raise the one
    shared counter past the inspector's undelivered pause (sequence 5)."""
    dev, lic = licensed(authority)
    assert send(dev, authority.order(K.HALT, dev.device_id, 6)) == S.OK
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 5, lic.workload_id)) == S.OK
    info = dev.info()
    assert (info.inspector_order_sequence, info.board_order_sequence,
            info.issuer_order_sequence) == (5, 6, 0)
    causes = dev.attest().gate_causes
    assert G.PAUSED in causes and G.HALTED in causes
    # Each counter still refuses its own replays.
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 5, lic.workload_id)) == S.REPLAYED
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, 6)) == S.REPLAYED


def test_the_role_is_named_not_guessed(authority):
    """Signers that are not the role the order names count for nothing: a
    board-signed order claiming the inspector's role is refused, and so is a
    board resume signed by the inspector."""
    dev, lic = licensed(authority)
    board_as_inspector = authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id,
                                         signers=authority.board_members)
    assert send(dev, board_as_inspector) == S.SIGNER_UNTRUSTED
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id)) == S.OK
    inspector_as_board = authority.order(K.RESUME, dev.device_id, 1, lic.workload_id,
                                         role=R.BOARD, signers=(authority.inspector,),
                                         issued_at=NOW - 30)
    assert send(dev, inspector_as_board) == S.QUORUM_NOT_MET
    assert dev.info().board_order_sequence == 0


KIND_ROLE_PAIRS = [(kind, role) for kind in K for role in R]


@pytest.mark.parametrize("kind,role", KIND_ROLE_PAIRS,
                         ids=[f"{k.name}-{r.name}" for k, r in KIND_ROLE_PAIRS])
def test_host_and_device_agree_on_which_role_gives_which_order(authority, kind, role):
    dev, lic = licensed(authority)
    order = wire.Order(order_kind=kind, signer_role=role, device_id=dev.device_id,
                       **order_names(kind, lic), sequence=1, issued_at=NOW - 30)
    signers = {R.INSPECTOR: (authority.inspector,), R.BOARD: authority.board_members[:2],
               R.ISSUER: (authority.issuer,)}[role]
    raw = signed_unchecked(order, signers)
    allowed = role in wire.ORDER_SIGNER_ROLES[kind]
    if not allowed:
        with pytest.raises(RecordError):
            wire.Order.from_bytes(raw)
        assert send(dev, raw) == S.RECORD_FIELD
        return
    check_order_signatures(authority_policy(authority), wire.Order.from_bytes(raw),
                           lic.inspector_key)
    assert send(dev, raw) == S.OK


NAMING = [(kind, license_id, license_sequence, workload_id) for kind in K
          for license_id in (False, True) for license_sequence in (False, True)
          for workload_id in (False, True)]


@pytest.mark.parametrize("kind,license_id,license_sequence,workload_id", NAMING,
                         ids=[f"{k.name}-{int(a)}{int(b)}{int(c)}" for k, a, b, c in NAMING])
def test_host_and_device_agree_on_what_each_order_names(authority, kind, license_id,
                                                        license_sequence, workload_id):
    """Exactly what the kind acts on is named, nothing else: a workload for a
    pause or resume, a license for a revocation, a license and its sequence
    for a release; the host's parser and the device's refuse the same."""
    dev, lic = licensed(authority)
    role = next(iter(wire.ORDER_SIGNER_ROLES[kind]))
    order = wire.Order(order_kind=kind, signer_role=role, device_id=dev.device_id,
                       license_id=lic.license_id if license_id else bytes(16),
                       license_sequence=lic.sequence if license_sequence else 0,
                       workload_id=lic.workload_id if workload_id else bytes(16),
                       sequence=1, issued_at=NOW - 30)
    raw = signed_unchecked(order, (authority.inspector,))
    expected = (license_id == (kind in wire.ORDERS_NAMING_A_LICENSE)
                and workload_id == (kind in wire.ORDERS_NAMING_A_WORKLOAD)
                and license_sequence == (kind == K.RELEASE_OVERSIGHT))
    if expected:
        wire.Order.from_bytes(raw)
        assert dev.status_of(C.ORDER, raw) != S.RECORD_FIELD
    else:
        with pytest.raises(RecordError):
            wire.Order.from_bytes(raw)
        before = dev.snapshot()
        assert dev.status_of(C.ORDER, raw) == S.RECORD_FIELD
        assert dev.snapshot() == before


def authority_policy(authority: Authority) -> wire.Policy:
    return wire.Policy.from_bytes(authority.policy().to_bytes())


def test_host_refuses_what_the_device_refuses_for_wrong_signers(authority):
    dev, lic = licensed(authority)
    policy = authority_policy(authority)
    stranger = _key("stranger")
    for order, status in (
            (authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id, signers=(stranger,)),
             S.SIGNER_UNTRUSTED),
            (authority.order(K.HALT, dev.device_id, 1, signers=authority.board_members[:1]),
             S.QUORUM_NOT_MET)):
        with pytest.raises(VoteError):
            check_order_signatures(policy, order, lic.inspector_key)
        assert send(dev, order) == status


# ------------------------------------------------------------------ restricting orders
def test_without_trusted_time_only_restricting_orders_apply(authority):
    dev, lic = licensed(authority)
    dev.power_up(sync_time=False)
    wid = lic.workload_id
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 1, wid)) == S.OK
    assert send(dev, authority.order(K.HALT, dev.device_id, 1)) == S.OK
    before = dev.snapshot()
    for held in (authority.order(K.RESUME, dev.device_id, 2, wid, issued_at=NOW - 30),
                 authority.order(K.LIFT_HALT, dev.device_id, 2, issued_at=NOW - 30)):
        assert dev.status_of(C.ORDER, held.to_bytes()) == S.TIME_UNTRUSTED
    assert dev.snapshot() == before
    dev.sync_time()
    assert send(dev, authority.order(K.RESUME, dev.device_id, 2, wid, issued_at=NOW - 30)) \
        == S.OK
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, 2, issued_at=NOW - 30)) == S.OK
    assert dev.run(10) == 10


def test_a_lockout_cannot_keep_a_pause_out(authority):
    """The operator sends bad licenses until the device locks out: the
    inspector's pause and the board's halt still apply. Bad orders that grant
    lock out the orders that grant (each kind of record counts apart: review
    finding 8): a lift-halt then waits."""
    authority.policy_overrides.update(lockout_threshold=3)
    dev, lic = licensed(authority)
    bad = authority.license(dev.device_id, 2, signers=(_key("rogue"),))
    for _ in range(3):
        assert dev.status_of(C.INSTALL_LICENSE, bad.to_bytes()) == S.SIGNER_UNTRUSTED
    assert dev.status_of(C.INSTALL_LICENSE, bad.to_bytes()) == S.LOCKED_OUT
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id)) == S.OK
    assert send(dev, authority.order(K.HALT, dev.device_id, 1)) == S.OK
    assert dev.run(10) == 0
    rogues = (_key("rogue"), _key("rogue 2"))
    for _ in range(3):
        assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, 2, signers=rogues,
                                         issued_at=NOW - 30)) == S.QUORUM_NOT_MET
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, 2, issued_at=NOW - 30)) \
        == S.LOCKED_OUT
    assert dev.run(10) == 0


def test_a_refused_restricting_order_writes_nothing(authority):
    """Not counted by the lockout, a forged pause leaves the flash alone (no
    wear for the operator to cause)."""
    dev, lic = licensed(authority)
    forged = authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id)
    forged = replace(forged, signatures=(replace(forged.signatures[0],
                                                 signature=bytes(64)),))
    before = dev.snapshot()
    assert dev.status_of(C.ORDER, forged.to_bytes()) == S.SIGNATURE_INVALID
    assert dev.snapshot() == before
