"""A later order of the same role cannot void an undelivered restricting one
(review finding 2, G11).

Each signer role's orders count on one sequence. An order that grants
(RESUME, LIFT_HALT, RELEASE_OVERSIGHT) needs a sequence above the role's
highest accepted one, as before: a later order of its role supersedes it. An
order that only restricts (PAUSE, HALT, REVOKE) is also taken below the
highest, once, when it is one of the wire.ORDER_REPLAY_WINDOW (64) sequences
just below it and was not taken before; further below it is refused as
OUTSIDE_REPLAY_WINDOW. The window is persisted with the order's effect. The
operator's moves: hold an order back and deliver the role's next one first,
replay an order taken late, reorder a restricting and a granting pair, cut
power between the check and the commit."""

from __future__ import annotations

import pytest

from openheg import wire
from openheg.errors import DeviceStatus

from fwkit import NOW, Authority, Device, licensed, power_cuts

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
R = wire.SignerRole
G = wire.GateCause
WINDOW = wire.ORDER_REPLAY_WINDOW


def send(dev: Device, record: wire.Order) -> DeviceStatus:
    return dev.status_of(C.ORDER, record.to_bytes())


def stopped_by(dev: Device, cause: wire.GateCause) -> bool:
    return not dev.computes() and cause in dev.attest().gate_causes


def restricting(authority: Authority, dev: Device, lic: wire.License, kind: wire.OrderKind,
                sequence: int) -> wire.Order:
    """The restricting order of ``kind`` held back by the operator."""
    if kind == K.REVOKE:
        return authority.order(K.REVOKE, dev.device_id, sequence, lic.license_id,
                               role=R.ISSUER)
    return authority.order(kind, dev.device_id, sequence,
                           lic.workload_id if kind == K.PAUSE else bytes(16))


def next_of_the_role(authority: Authority, dev: Device, kind: wire.OrderKind,
                     sequence: int) -> wire.Order:
    """The same role's next order, which the operator delivers first."""
    if kind == K.PAUSE:  # the inspector pauses another workload
        return authority.order(K.PAUSE, dev.device_id, sequence, b"V" * 16)
    if kind == K.HALT:  # the board's next order: a lift-halt (nothing to lift yet)
        return authority.order(K.LIFT_HALT, dev.device_id, sequence, issued_at=NOW - 30)
    return authority.order(K.REVOKE, dev.device_id, sequence, b"an old license..",
                           role=R.ISSUER)


CAUSE = {K.PAUSE: G.PAUSED, K.HALT: G.HALTED, K.REVOKE: G.LICENSE_REVOKED}


@pytest.mark.parametrize("kind", [K.PAUSE, K.HALT, K.REVOKE], ids=lambda k: k.name)
def test_a_restricting_order_held_back_applies_late_and_once(authority, kind):
    dev, lic = licensed(authority)
    held = restricting(authority, dev, lic, kind, 1)
    assert send(dev, next_of_the_role(authority, dev, kind, 2)) == S.OK
    assert dev.computes()
    assert send(dev, held) == S.OK
    assert stopped_by(dev, CAUSE[kind])
    # The role's highest stays where it was; the late order is taken once,
    # also after a power cycle (the window is in the record).
    assert send(dev, held) == S.REPLAYED
    dev.power_up()
    assert send(dev, held) == S.REPLAYED
    assert stopped_by(dev, CAUSE[kind])


def test_an_order_that_grants_is_not_taken_below_the_highest(authority):
    """Held back, a resume, a lift-halt and a release are superseded by the
    role's next order: REPLAYED, and the pause, halt and reserve hold."""
    dev, lic = licensed(authority)
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id)) == S.OK
    resume = authority.order(K.RESUME, dev.device_id, 2, lic.workload_id, issued_at=NOW - 30)
    release = authority.order(K.RELEASE_OVERSIGHT, dev.device_id, 3, lic.license_id,
                              license_sequence=lic.sequence, issued_at=NOW - 30)
    assert send(dev, authority.order(K.PAUSE, dev.device_id, 4, b"V" * 16)) == S.OK
    reserve = dev.attest().oversight_reserved_msflop
    assert send(dev, resume) == S.REPLAYED
    assert send(dev, release) == S.REPLAYED
    assert stopped_by(dev, G.PAUSED)
    assert dev.attest().oversight_reserved_msflop == reserve > 0
    lift = authority.order(K.LIFT_HALT, dev.device_id, 1, issued_at=NOW - 30)
    assert send(dev, authority.order(K.HALT, dev.device_id, 2)) == S.OK
    assert send(dev, lift) == S.REPLAYED
    assert stopped_by(dev, G.HALTED)


def test_a_late_restriction_restricts_again_and_grants_nothing(authority):
    """Reordered pairs: the board's lift-halt delivered before the halt it
    follows, the inspector's resume before its pause. The late halt and pause
    then stop the license again; the granting order already spent cannot be
    replayed, and only a new one lifts them."""
    dev, lic = licensed(authority)
    halt = authority.order(K.HALT, dev.device_id, 1)
    lift = authority.order(K.LIFT_HALT, dev.device_id, 2, issued_at=NOW - 30)
    pause = authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id, issued_at=NOW - 60)
    resume = authority.order(K.RESUME, dev.device_id, 2, lic.workload_id, issued_at=NOW - 30)
    assert send(dev, lift) == S.OK and send(dev, resume) == S.OK
    assert send(dev, halt) == S.OK and send(dev, pause) == S.OK
    assert stopped_by(dev, G.HALTED) and G.PAUSED in dev.attest().gate_causes
    assert send(dev, lift) == S.REPLAYED and send(dev, resume) == S.REPLAYED
    assert not dev.computes()
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, 3, issued_at=NOW - 10)) == S.OK
    assert send(dev, authority.order(K.RESUME, dev.device_id, 3, lic.workload_id,
                                     issued_at=NOW - 10)) == S.OK
    assert dev.computes()


def test_a_restricting_order_older_than_the_window_is_refused_as_such(authority):
    dev, lic = licensed(authority)
    highest = WINDOW + 2
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, highest,
                                     issued_at=NOW - 30)) == S.OK
    oldest = authority.order(K.HALT, dev.device_id, highest - WINDOW)  # 64 below: taken
    too_old = authority.order(K.HALT, dev.device_id, highest - WINDOW - 1)
    before = dev.snapshot()
    assert send(dev, too_old) == S.OUTSIDE_REPLAY_WINDOW
    assert dev.snapshot() == before
    assert dev.computes()
    assert send(dev, oldest) == S.OK
    assert stopped_by(dev, G.HALTED)
    assert send(dev, oldest) == S.REPLAYED


def test_the_window_moves_with_the_highest(authority):
    """Sequences taken late stay taken, those never taken stay open, as the
    highest moves up; past the window's reach every older one is refused."""
    dev, lic = licensed(authority)
    issuer = {"role": R.ISSUER}
    old = [authority.order(K.REVOKE, dev.device_id, s, b"old license %04d" % s, **issuer)
           for s in range(1, 4)]
    assert send(dev, old[2]) == S.OK  # highest 3
    assert send(dev, old[0]) == S.OK  # 1 taken late
    assert send(dev, authority.order(K.REVOKE, dev.device_id, 4, b"old license 0004",
                                     **issuer)) == S.OK  # highest 4
    assert send(dev, old[0]) == S.REPLAYED
    assert send(dev, old[2]) == S.REPLAYED
    assert send(dev, old[1]) == S.OK
    assert send(dev, old[1]) == S.REPLAYED
    assert send(dev, authority.order(K.REVOKE, dev.device_id, 4 + WINDOW + 1,
                                     b"old license 0069", **issuer)) == S.OK
    assert send(dev, authority.order(K.REVOKE, dev.device_id, 5, b"old license 0005",
                                     **issuer)) == S.OK  # 64 below 69
    for taken in old + [authority.order(K.REVOKE, dev.device_id, 4, b"old license 0004",
                                        **issuer)]:
        assert send(dev, taken) == S.OUTSIDE_REPLAY_WINDOW
    assert dev.computes()  # none of them named the license in force


def test_power_cut_never_takes_a_late_order_without_its_effect(authority):
    """Cut at every flash operation of a late halt: after each cut the halt is
    in force exactly when its sequence is taken, so it is never voided (taken
    but not applied) nor applied twice."""
    base, lic = licensed(authority)
    assert send(base, authority.order(K.LIFT_HALT, base.device_id, 2,
                                      issued_at=NOW - 30)) == S.OK
    raw = authority.order(K.HALT, base.device_id, 1).to_bytes()
    for cut, after, _ in power_cuts(base, lambda d: d.request(C.ORDER, raw)):
        halted = stopped_by(after, G.HALTED)
        assert after.status_of(C.ORDER, raw) == (S.REPLAYED if halted else S.OK), f"cut {cut}"
        assert stopped_by(after, G.HALTED), f"cut {cut}"
        assert after.info().board_order_sequence == 2, f"cut {cut}"
