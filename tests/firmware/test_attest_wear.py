"""ATTEST costs no flash erase (issue 9, item 13).

Before the fix every ATTEST persisted the report counter and the lane totals:
one whole-slot erase and program per attestation, so a host could wear the
flash out just by asking (1,000 attestations: 3,000 page erases). Report
counters are now reserved a block at a time (wire.REPORT_COUNTER_BLOCK; boot
reserves the next block in the commit it makes anyway) and lane totals are
reported live. The adversary: a host that asks for attestations without end,
and one that cuts power at every flash operation while it does, trying to get
one report counter signed twice or going back."""

from __future__ import annotations

from openheg import wire
from openheg.errors import DeviceStatus
from openheg_sim.flash import PowerCut

from fwkit import Authority, Device, provision

S = DeviceStatus
C = wire.Command
BLOCK = wire.REPORT_COUNTER_BLOCK


def _erases(dev: Device) -> int:
    return sum(dev.flash.erase_counts)


def _pages_per_commit(dev: Device) -> int:
    before = _erases(dev)
    dev.power_up(sync_time=False)  # one commit: the boot's
    return _erases(dev) - before


def test_attestations_do_not_erase_flash_each_time(provisioned):
    """Failed before the fix: 1,000 attestations erased 3,000 pages."""
    per_commit = _pages_per_commit(provisioned)
    before = _erases(provisioned)
    counters = [provisioned.attest().report_counter for _ in range(1000)]
    # One commit per block of counters at most (here: 1000 // 64 + 1 blocks,
    # the first of them reserved by the boot already).
    assert _erases(provisioned) - before <= per_commit * (1000 // BLOCK + 1)
    assert counters == sorted(set(counters))  # strictly increasing, no repeat


def test_attest_reports_live_lane_totals_without_persisting_them(authority):
    dev = Device()
    provision(dev, authority)
    lic = authority.license(dev.device_id, 1, allocation=8_000_000)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    dev.run(300)
    image = dev.flash.image()
    first = dev.attest()
    dev.run(200)
    second = dev.attest()
    assert dev.flash.image() == image  # two attestations, not one flash write
    assert sum(second.lane_ops) - sum(first.lane_ops) == 200
    assert second.consumed_msflop - first.consumed_msflop == 200_000


def _attest(dev: Device, nonce: bytes) -> int:
    response = dev.request(C.ATTEST, nonce)
    assert DeviceStatus(response.status) == S.OK
    return wire.Attestation.from_bytes(response.payload).report_counter


def test_power_cut_at_every_flash_operation_never_repeats_a_report_counter(authority):
    """A run of attestations across a block boundary, then a reboot, with the
    power cut at the 1st, 2nd, ... flash operation (of the reservation commit,
    then of the boot's): every counter signed, before and after the cut, is
    new and above every earlier one."""
    base = Device()
    provision(base, authority, sync_time=False)
    # Just short of the first block's end.
    for _ in range(BLOCK - 3):
        _attest(base, b"b" * 32)
    signed_before = _attest(base, b"c" * 32)
    completed = False
    for cut in range(1, 64):
        dev = Device(base.flash.clone(), seed=base.seed)  # rebooted: a new block
        signed = [signed_before, *(_attest(dev, bytes([i]) * 32) for i in range(2))]
        dev.flash.cut_after(cut)
        try:
            for i in range(2 * BLOCK):  # past a block boundary: one reservation commit
                signed.append(_attest(dev, bytes([i]) * 32))
            dev.power_up(sync_time=False)
            signed.append(_attest(dev, b"z" * 32))
        except PowerCut:
            pass
        else:
            dev.flash.cancel_cut()
            completed = True
        for reboot in range(2):  # the reboot after the cut, then another
            dev = Device(dev.flash.clone(), seed=base.seed)
            signed.append(_attest(dev, b"r" * 32))
        assert signed == sorted(set(signed)), f"cut {cut}: a report counter repeated or fell"
        if completed:
            break
    assert completed
