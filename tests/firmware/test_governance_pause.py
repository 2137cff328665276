"""A pause holds the workload until its due-process resume (issue 9, item 3).

Before, every license install cleared the pause: a renewal pre-signed before
the pause, a license naming another inspector, or another license for the
same workload ran again with no resume. Now a pause binds the workload (the
device's workload table), whatever license runs it, until a resume by the
inspector who paused or by a board quorum, issued no earlier than the pause.
A license for another workload runs while W is paused; W's pause applies again
when W returns."""

from __future__ import annotations

import pytest

from openheg import wire
from openheg.errors import DeviceStatus
from fwkit import NOW, Authority, Device, _key, power_cuts, provision, pub

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
R = wire.SignerRole
G = wire.GateCause
SECOND_INSPECTOR = _key("second inspector")
TABLE = 16  # HEG_WORKLOADS: the device's workload table


def two_inspectors() -> Authority:
    authority = Authority()
    authority.policy_overrides.update(inspector_keys=tuple(sorted(
        (pub(authority.inspector), pub(SECOND_INSPECTOR)))))
    return authority


def install(dev: Device, lic: wire.License) -> DeviceStatus:
    return dev.status_of(C.INSTALL_LICENSE, lic.to_bytes())


def order(dev: Device, record: wire.Order) -> DeviceStatus:
    return dev.status_of(C.ORDER, record.to_bytes())


def paused(dev: Device) -> bool:
    return not dev.computes() and G.PAUSED in dev.attest().gate_causes


def licensed_and_paused(authority: Authority) -> tuple[Device, wire.License]:
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1)
    assert install(dev, lic) == S.OK and dev.computes()
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id)) == S.OK
    assert paused(dev)
    return dev, lic


def test_a_renewal_signed_before_the_pause_does_not_lift_it(authority):
    """Same license id, next sequence, signed in advance: installed after the
    pause, it stays paused."""
    dev, lic = licensed_and_paused(authority)
    renewal = authority.frontier_license(dev.device_id, 2, license_id=lic.license_id)
    assert install(dev, renewal) == S.OK
    assert paused(dev)
    dev.power_up()
    assert paused(dev)


def test_a_license_naming_another_inspector_does_not_lift_it():
    """The new license's inspector cannot resume a pause it did not give; the
    inspector who paused (or the board) can."""
    authority = two_inspectors()
    dev, lic = licensed_and_paused(authority)
    other = authority.frontier_license(dev.device_id, 2, inspector_key=pub(SECOND_INSPECTOR),
                                       signers=(authority.issuer, SECOND_INSPECTOR))
    assert install(dev, other) == S.OK
    assert paused(dev)
    by_new = authority.order(K.RESUME, dev.device_id, 2, other.workload_id,
                             signers=(SECOND_INSPECTOR,), issued_at=NOW - 30)
    assert order(dev, by_new) == S.SIGNER_UNTRUSTED
    assert paused(dev)
    by_pauser = authority.order(K.RESUME, dev.device_id, 2, other.workload_id,
                                issued_at=NOW - 30)
    assert order(dev, by_pauser) == S.OK
    assert dev.computes()


def test_another_license_for_the_same_workload_does_not_lift_it(authority):
    dev, lic = licensed_and_paused(authority)
    fresh = authority.frontier_license(dev.device_id, 2, license_id=b"another license!")
    assert install(dev, fresh) == S.OK
    assert paused(dev)
    board_resume = authority.order(K.RESUME, dev.device_id, 1, fresh.workload_id,
                                   role=R.BOARD, issued_at=NOW - 30)
    assert order(dev, board_resume) == S.OK
    assert dev.computes()


def test_another_workload_runs_and_the_pause_waits_for_w(authority):
    """Recorded decision: a license for another workload runs while W is
    paused; W's pause stays recorded and holds W again when W returns."""
    dev, lic = licensed_and_paused(authority)
    other = authority.frontier_license(dev.device_id, 2, workload_id=b"V" * 16)
    assert install(dev, other) == S.OK
    assert dev.computes()
    dev.power_up()
    assert dev.computes()
    back = authority.frontier_license(dev.device_id, 3)  # workload W again
    assert install(dev, back) == S.OK
    assert paused(dev)
    assert order(dev, authority.order(K.RESUME, dev.device_id, 2, back.workload_id,
                                      issued_at=NOW - 30)) == S.OK
    assert dev.computes()


def test_an_old_resume_held_back_cannot_lift_a_newer_pause(authority):
    """The board signed a resume (for an earlier pause) that the operator held
    back; the inspector pauses again later: the old resume must not lift it."""
    dev, lic = licensed_and_paused(authority)  # pause issued at NOW - 60
    old_resume = authority.order(K.RESUME, dev.device_id, 1, lic.workload_id, role=R.BOARD,
                                 issued_at=NOW - 600)
    before = dev.snapshot()
    assert order(dev, old_resume) == S.PAUSE_IS_NEWER
    # Refused after its signatures were checked: only the lockout's count moved.
    assert dev.snapshot()[2:] == before[2:]
    assert paused(dev)
    current = authority.order(K.RESUME, dev.device_id, 1, lic.workload_id, role=R.BOARD,
                              issued_at=NOW - 30)
    assert order(dev, current) == S.OK
    assert dev.computes()


def test_an_older_pause_delivered_late_keeps_the_newer_one(authority):
    """Two pauses, delivered in reverse: a resume issued between them lifts
    neither, the record keeps the newer pause."""
    dev, lic = licensed_and_paused(authority)  # pause issued at NOW - 60
    late_old_pause = authority.order(K.PAUSE, dev.device_id, 2, lic.workload_id,
                                     issued_at=NOW - 300)
    assert order(dev, late_old_pause) == S.OK
    between = authority.order(K.RESUME, dev.device_id, 1, lic.workload_id, role=R.BOARD,
                              issued_at=NOW - 100)
    assert order(dev, between) == S.PAUSE_IS_NEWER
    assert paused(dev)


def test_a_paused_workload_is_never_forgotten(authority):
    """The workload table is bounded: when it is full, the smallest unpaused
    grant is forgotten, never a pause. With every slot paused, a new workload
    is refused."""
    dev, lic = licensed_and_paused(authority)
    sequence = 2
    for i in range(40):  # many more workloads than the table holds
        other = authority.frontier_license(dev.device_id, sequence,
                                           workload_id=b"x%015d" % i)
        assert install(dev, other) == S.OK, i
        sequence += 1
    back = authority.frontier_license(dev.device_id, sequence)
    assert install(dev, back) == S.OK
    assert paused(dev)
    sequence += 1
    # Fill every slot with a paused workload: the next new one has no room.
    inspector_sequence = 2
    for i in range(TABLE - 1):
        lic_i = authority.frontier_license(dev.device_id, sequence, workload_id=b"p%015d" % i)
        assert install(dev, lic_i) == S.OK
        assert order(dev, authority.order(K.PAUSE, dev.device_id, inspector_sequence,
                                          lic_i.workload_id)) == S.OK
        sequence += 1
        inspector_sequence += 1
    full = authority.frontier_license(dev.device_id, sequence, workload_id=b"N" * 16)
    before = dev.snapshot()
    assert install(dev, full) == S.WORKLOADS_FULL
    assert dev.snapshot() == before



@pytest.mark.parametrize("step", ["pause", "install_of_the_paused_workload"])
def test_power_cut_never_loses_a_pause(authority, step):
    """Cut at every flash operation of the pause order (an entry of the table
    changes) and of a license install for the paused workload (two entries
    change): after each cut and reboot, a pause once applied still holds."""
    base = Device()
    provision(base, authority)
    lic = authority.frontier_license(base.device_id, 1)
    assert install(base, lic) == S.OK
    if step == "install_of_the_paused_workload":
        assert order(base, authority.order(K.PAUSE, base.device_id, 1, lic.workload_id)) == S.OK
        action = lambda d: d.request(  # noqa: E731
            C.INSTALL_LICENSE, authority.frontier_license(d.device_id, 2).to_bytes())
    else:
        action = lambda d: d.request(  # noqa: E731
            C.ORDER, authority.order(K.PAUSE, d.device_id, 1, lic.workload_id).to_bytes())
    for cut, after, _ in power_cuts(base, action):
        info = after.info()
        applied = info.inspector_order_sequence == 1
        assert paused(after) == applied, f"cut {cut}"
        if step == "install_of_the_paused_workload":
            assert info.license_sequence in (1, 2), f"cut {cut}"


def test_an_undelivered_pause_is_not_voided_by_a_renewal(authority):
    """The inspector pauses W's license L1; the operator withholds the order and
    installs L2, W's renewal (same workload, its own license id, signed before
    the pause). Delivered now, the pause must hold W: G10 says the pause binds
    the workload whatever license runs it."""
    dev = Device()
    provision(dev, authority)
    l1 = authority.frontier_license(dev.device_id, 1)
    assert install(dev, l1) == S.OK and dev.computes()
    pause = authority.order(K.PAUSE, dev.device_id, 1, l1.workload_id)  # held back
    renewal = authority.frontier_license(dev.device_id, 2, license_id=b"renewal of W....")
    assert install(dev, renewal) == S.OK and dev.computes()
    assert order(dev, pause) == S.OK
    assert paused(dev)


def test_a_pause_delivered_while_another_workload_runs_still_binds_w(authority):
    dev = Device()
    provision(dev, authority)
    l1 = authority.frontier_license(dev.device_id, 1)
    assert install(dev, l1) == S.OK and dev.computes()
    pause = authority.order(K.PAUSE, dev.device_id, 1, l1.workload_id)  # held back
    other = authority.frontier_license(dev.device_id, 2, workload_id=b"V" * 16)
    assert install(dev, other) == S.OK
    delivered = order(dev, pause)
    back = authority.frontier_license(dev.device_id, 3, license_id=b"W back again....")
    assert install(dev, back) == S.OK
    assert delivered == S.OK
    assert paused(dev)


# ------------------------------------------- the pause names the workload
def test_a_pause_of_a_workload_never_licensed_holds_its_first_license(authority):
    """Delivered before W was ever licensed on the device, the pause is recorded
    (a free slot of the table) and W's first license installs paused."""
    dev = Device()
    provision(dev, authority)
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, b"W" * 16)) == S.OK
    lic = authority.frontier_license(dev.device_id, 1)
    assert install(dev, lic) == S.OK
    assert paused(dev)
    dev.power_up()
    assert paused(dev)
    assert order(dev, authority.order(K.RESUME, dev.device_id, 2, lic.workload_id,
                                      issued_at=NOW - 30)) == S.OK
    assert dev.computes()


def test_a_pause_of_another_workload_leaves_the_one_in_force_running(authority):
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1)
    assert install(dev, lic) == S.OK
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, b"V" * 16)) == S.OK
    assert dev.computes()
    v = authority.frontier_license(dev.device_id, 2, workload_id=b"V" * 16)
    assert install(dev, v) == S.OK
    assert paused(dev)


def test_any_listed_inspector_pauses_and_only_the_pauser_or_the_board_resumes():
    """A pause only restricts: any inspector the policy lists may give it, for
    any workload, so that a license naming another inspector cannot void an
    undelivered one. The resume is due process: the inspector who paused, or
    a board quorum; W's own inspector cannot lift another's pause."""
    authority = two_inspectors()
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1)  # W's inspector: the first
    assert install(dev, lic) == S.OK
    by_second = authority.order(K.PAUSE, dev.device_id, 1, lic.workload_id,
                                signers=(SECOND_INSPECTOR,))
    assert order(dev, by_second) == S.OK
    assert paused(dev)
    by_w_s_own = authority.order(K.RESUME, dev.device_id, 2, lic.workload_id,
                                 issued_at=NOW - 30)
    assert order(dev, by_w_s_own) == S.SIGNER_UNTRUSTED
    assert paused(dev)
    assert order(dev, authority.order(K.RESUME, dev.device_id, 2, lic.workload_id,
                                      signers=(SECOND_INSPECTOR,), issued_at=NOW - 30)) == S.OK
    assert dev.computes()


def test_a_pause_by_a_key_the_policy_does_not_list_is_refused(authority):
    dev, lic = licensed_and_paused(authority)
    before = dev.snapshot()
    stranger = authority.order(K.PAUSE, dev.device_id, 2, b"V" * 16,
                               signers=(SECOND_INSPECTOR,))
    assert order(dev, stranger) == S.SIGNER_UNTRUSTED
    assert dev.snapshot() == before  # a restricting order: not even the lockout counts


def test_a_resume_of_a_workload_the_device_does_not_hold_changes_nothing(authority):
    dev, lic = licensed_and_paused(authority)
    before = dev.snapshot()
    resume = authority.order(K.RESUME, dev.device_id, 2, b"V" * 16, issued_at=NOW - 30)
    assert order(dev, resume) == S.WRONG_STATE
    assert dev.snapshot()[2:] == before[2:]  # only the lockout's count moved
    assert paused(dev)


def test_a_pause_never_makes_the_table_forget_a_grant(authority):
    """With the table full of unpaused workloads, a pause of one more is
    refused (WORKLOADS_FULL) rather than evict a grant: an order that only
    restricts must not let a forgotten workload start from zero."""
    dev = Device()
    provision(dev, authority)
    for i in range(TABLE):
        lic = authority.frontier_license(dev.device_id, i + 1, workload_id=b"g%015d" % i)
        assert install(dev, lic) == S.OK
    before = dev.snapshot()
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, b"N" * 16)) \
        == S.WORKLOADS_FULL
    assert dev.snapshot() == before
    # A workload the table holds is paused as ever.
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, b"g%015d" % 0)) == S.OK


def test_power_cut_never_loses_a_pause_of_a_workload_not_in_force(authority):
    """The pause of W arrives while V runs; cut at every flash operation: W's
    entry holds the pause exactly when the inspector's sequence was taken, and
    W's next license then installs paused."""
    base = Device()
    provision(base, authority)
    assert install(base, authority.frontier_license(base.device_id, 1)) == S.OK
    assert install(base, authority.frontier_license(base.device_id, 2,
                                                    workload_id=b"V" * 16)) == S.OK
    raw = authority.order(K.PAUSE, base.device_id, 1, b"W" * 16).to_bytes()
    for cut, after, _ in power_cuts(base, lambda d: d.request(C.ORDER, raw)):
        applied = after.info().inspector_order_sequence == 1
        assert after.computes(), f"cut {cut}"  # V runs either way
        assert install(after, authority.frontier_license(after.device_id, 3)) == S.OK
        assert paused(after) == applied, f"cut {cut}"
