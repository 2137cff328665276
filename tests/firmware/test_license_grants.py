"""A license's allocation is bound to its class (issue 9, item 1).

The class follows from the declared workload total (plus lineage), so the
device and the host refuse a license that allocates more than it declares,
and the device keeps, per workload, what it has granted: successive licenses
for one workload cannot add up past the total any of them declares. A
replaced license counts what it consumed (after a reboot: everything it was
charged), so an honest renewal for what is left fits. The table is bounded; the tests try to make it
forget a workload."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openheg import wire
from openheg.errors import DeviceStatus, RecordError
from fwkit import FRONTIER, Authority, Device, power_cuts, provision, signed_unchecked

S = DeviceStatus
C = wire.Command
CHUNK = 1_000_000  # the test policy's allowance chunk
TABLE = 16  # HEG_WORKLOADS


def install(dev: Device, lic: wire.License) -> DeviceStatus:
    return dev.status_of(C.INSTALL_LICENSE, lic.to_bytes())


def provisioned(authority: Authority) -> Device:
    dev = Device()
    provision(dev, authority)
    return dev


def test_the_review_s_oversized_allocation_is_refused_by_device_and_host(authority):
    """The issuer alone signed a STANDARD license declaring a total of 1e9
    sFLOP with an allocation of 2e28 sFLOP (above H)."""
    dev = provisioned(authority)
    oversized = replace(authority.license(dev.device_id, 1), allocation_msflop=2 * 10**28 * 1000,
                        workload_total_msflop=10**9 * 1000)
    raw = signed_unchecked(oversized, (authority.issuer,))
    with pytest.raises(RecordError) as caught:
        wire.License.from_bytes(raw)
    assert caught.value.kind == S.ALLOCATION_EXCEEDS_TOTAL
    before = dev.snapshot()
    assert dev.status_of(C.INSTALL_LICENSE, raw) == S.ALLOCATION_EXCEEDS_TOTAL
    assert dev.snapshot() == before
    assert dev.run(10) == 0


def test_licenses_for_one_workload_cannot_add_up_past_its_total(authority):
    """Two licenses each allocating the whole declared total: run the first
    to its end, and the second would double what the workload ran here. Not
    even one more milli-sFLOP fits (nor does it while the first runs)."""
    dev = provisioned(authority)
    total = 4 * CHUNK
    first = authority.license(dev.device_id, 1, allocation=total, workload_total_msflop=total)
    assert install(dev, first) == S.OK
    second = authority.license(dev.device_id, 2, allocation=total, workload_total_msflop=total)
    # The gate closes at the allocation (ops in flight as it closes may pass it).
    assert dev.run(total // 1000 + 1000) >= total // 1000
    before = dev.attest()
    assert install(dev, second) == S.OVER_GRANTED
    after = dev.attest()
    # Decided on the meter's reading after the signature checks: nothing but
    # the lockout's count of failed attempts moved.
    assert (after.license_sequence, after.consumed_msflop, after.remaining_msflop) == \
        (before.license_sequence, before.consumed_msflop, before.remaining_msflop)
    one_more = authority.license(dev.device_id, 2, allocation=1, workload_total_msflop=total)
    assert install(dev, one_more) == S.OVER_GRANTED
    assert dev.attest().license_sequence == 1


def test_a_standard_workload_cannot_grow_past_the_frontier_in_slices(authority):
    """Below F each, the slices would add up to a Frontier workload run
    without its inspector: once the first slice has run, the second is
    refused."""
    slice_ = FRONTIER - 1
    authority.policy_overrides.update(allowance_chunk_msflop=slice_)  # one grant for a slice
    dev = provisioned(authority)
    assert install(dev, authority.license(dev.device_id, 1, allocation=slice_,
                                          workload_total_msflop=slice_)) == S.OK
    fp8_ops = slice_ // 1000
    assert dev.run(fp8_ops + 1, ops_per_cycle=60_000) >= fp8_ops  # the whole slice ran
    assert install(dev, authority.license(dev.device_id, 2, allocation=slice_,
                                          workload_total_msflop=slice_)) == S.OVER_GRANTED
    # Declaring the true total needs the Frontier class; what is left of it
    # after what ran (ops in flight at the close included) fits.
    left = 2 * slice_ - dev.attest().consumed_msflop
    assert install(dev, authority.license(dev.device_id, 2, allocation=left,
                                          workload_total_msflop=2 * slice_)) == S.CLASS_TOO_LOW
    assert install(dev, authority.frontier_license(
        dev.device_id, 2, allocation=left + 1, workload_total_msflop=2 * slice_)) \
        == S.OVER_GRANTED
    assert install(dev, authority.frontier_license(
        dev.device_id, 2, allocation=left, workload_total_msflop=2 * slice_)) == S.OK


def test_a_renewal_counts_what_the_old_license_consumed(authority):
    """An honest renewal for what is left fits, one milli-sFLOP more does not."""
    dev = provisioned(authority)
    total = 8 * CHUNK
    first = authority.license(dev.device_id, 1, allocation=total, workload_total_msflop=total)
    assert install(dev, first) == S.OK
    assert dev.run(300) == 300  # 300,000 milli-sFLOP (FP8)
    spent = dev.attest().consumed_msflop
    assert spent == 300_000
    too_much = authority.license(dev.device_id, 2, allocation=total - spent + 1,
                                 workload_total_msflop=total)
    assert install(dev, too_much) == S.OVER_GRANTED
    renewal = authority.license(dev.device_id, 2, allocation=total - spent,
                                workload_total_msflop=total)
    assert install(dev, renewal) == S.OK
    assert dev.attest().remaining_msflop == total - spent


def test_after_a_reboot_every_charged_chunk_counts(authority):
    """A power cycle counts the whole charged chunk as consumed (it may have
    run before the cut): a reboot never makes room."""
    dev = provisioned(authority)
    total = 8 * CHUNK
    first = authority.license(dev.device_id, 1, allocation=total, workload_total_msflop=total)
    assert install(dev, first) == S.OK
    assert dev.run(300) == 300  # one chunk (1,000,000) charged ahead
    dev.power_up()
    spent = dev.attest().consumed_msflop
    assert spent == CHUNK
    assert install(dev, authority.license(dev.device_id, 2, allocation=total - spent + 1,
                                          workload_total_msflop=total)) == S.OVER_GRANTED
    assert install(dev, authority.license(dev.device_id, 2, allocation=total - spent,
                                          workload_total_msflop=total)) == S.OK


def test_grants_survive_reboots_and_other_workloads(authority):
    dev = provisioned(authority)
    total = 2 * CHUNK
    assert install(dev, authority.license(dev.device_id, 1, allocation=total,
                                          workload_total_msflop=total)) == S.OK
    assert dev.run(300) == 300
    other = authority.license(dev.device_id, 2, workload_id=b"V" * 16)
    assert install(dev, other) == S.OK
    dev.power_up()
    # W's first license was replaced after 300,000: W keeps that.
    spent = 300_000
    assert install(dev, authority.license(dev.device_id, 3, allocation=total - spent + 1,
                                          workload_total_msflop=total)) == S.OVER_GRANTED
    assert install(dev, authority.license(dev.device_id, 3, allocation=total - spent,
                                          workload_total_msflop=total)) == S.OK


def test_eviction_forgets_the_smallest_grant_never_a_big_one(authority):
    """The attack on a bounded table: flood it with tiny workloads so that W,
    granted a lot, is forgotten and its licenses start from zero. The table
    forgets the smallest grant first, so W survives every tiny newcomer."""
    dev = provisioned(authority)
    total = 8 * CHUNK
    assert install(dev, authority.license(dev.device_id, 1, allocation=total,
                                          workload_total_msflop=total)) == S.OK
    assert dev.run(300) == 300  # W keeps 300,000 when replaced
    sequence = 2
    for i in range(3 * TABLE):
        tiny = authority.license(dev.device_id, sequence, allocation=1, workload_total_msflop=1,
                                 workload_id=b"t%015d" % i)
        assert install(dev, tiny) == S.OK, i
        sequence += 1
    again = authority.license(dev.device_id, sequence, allocation=total,
                              workload_total_msflop=total)
    assert install(dev, again) == S.OVER_GRANTED


def test_the_residual_risk_of_eviction_is_what_the_docs_say(authority):
    """Recorded residual risk: an operator who holds licenses for TABLE other
    workloads, each granted at least what W was, can make the device forget W
    (its next license then starts from zero). This test pins the rule down:
    W (keeping 300,000) is forgotten only by the TABLE-th workload granted
    more, and then W's grant is indeed gone."""
    dev = provisioned(authority)
    w = authority.license(dev.device_id, 1, allocation=CHUNK, workload_total_msflop=CHUNK)
    assert install(dev, w) == S.OK
    assert dev.run(300) == 300  # W keeps 300,000 when replaced
    sequence = 2
    for i in range(TABLE - 1):  # fills the table: W plus 15 others
        big = authority.license(dev.device_id, sequence, allocation=2 * CHUNK,
                                workload_total_msflop=2 * CHUNK, workload_id=b"b%015d" % i)
        assert install(dev, big) == S.OK
        assert dev.run(400) == 400  # each keeps 400,000 when replaced: more than W
        sequence += 1
    w_again = authority.license(dev.device_id, sequence, allocation=CHUNK,
                                workload_total_msflop=CHUNK)
    assert install(dev, w_again) == S.OVER_GRANTED  # W still known
    newcomer = authority.license(dev.device_id, sequence, allocation=2 * CHUNK,
                                 workload_total_msflop=2 * CHUNK, workload_id=b"N" * 16)
    assert install(dev, newcomer) == S.OK  # the table was full: W had the smallest grant
    sequence += 1
    w_again = authority.license(dev.device_id, sequence, allocation=CHUNK,
                                workload_total_msflop=CHUNK)
    assert install(dev, w_again) == S.OK  # forgotten, as documented


def test_power_cut_never_refunds_a_grant(authority):
    """Cut at every flash operation of a license install that replaces W's
    license by V's (two table entries change in one commit): after each cut,
    W has kept its charge, and V's license is in force or not at all."""
    base = provisioned(authority)
    total = 8 * CHUNK
    assert install(base, authority.license(base.device_id, 1, allocation=total,
                                           workload_total_msflop=total)) == S.OK
    assert base.run(300) == 300
    spent = 300_000  # at least: a reboot before the switch counts the whole chunk
    v = authority.license(base.device_id, 2, workload_id=b"V" * 16).to_bytes()
    for cut, after, _ in power_cuts(base, lambda d: d.request(C.INSTALL_LICENSE, v)):
        assert after.info().license_sequence in (1, 2), f"cut {cut}"
        w_probe = authority.license(after.device_id, 3, allocation=total - spent + 1,
                                    workload_total_msflop=total)
        assert install(after, w_probe) == S.OVER_GRANTED, f"cut {cut}"


def test_paused_entries_do_not_make_the_biggest_grant_the_one_forgotten(authority):
    """The operator runs W to its whole declared total, then fills the table with
    workloads an inspector paused (each granted nothing: paused before it ran).
    A newcomer needs a slot. The table forgot the smallest grant *no pause
    held*, W being the only such entry, so W was forgotten though every other
    grant was smaller, and W's next license (a renewal signed in advance for
    the same total) was granted from zero: the workload ran twice its total
    (review finding 3; this test failed before). Now the smallest grant of all
    is the one forgotten, and a paused one is never: the newcomer is refused."""
    dev = provisioned(authority)
    w = authority.license(dev.device_id, 1, allocation=CHUNK, workload_total_msflop=CHUNK)
    assert install(dev, w) == S.OK
    assert dev.run(10_000) < 10_000  # W runs until its whole total is spent
    sequence = 2
    for i in range(TABLE - 1):  # W plus 15 paused workloads: the table is full
        held = authority.frontier_license(dev.device_id, sequence, workload_id=b"p%015d" % i)
        assert install(dev, held) == S.OK
        pause = authority.order(wire.OrderKind.PAUSE, dev.device_id, i + 1, held.workload_id)
        assert dev.status_of(C.ORDER, pause.to_bytes()) == S.OK
        sequence += 1
    newcomer = authority.license(dev.device_id, sequence, allocation=1, workload_total_msflop=1,
                                 workload_id=b"N" * 16)
    sequence += 1
    assert install(dev, newcomer) == S.WORKLOADS_FULL  # W is kept
    w_again = authority.license(dev.device_id, sequence, allocation=CHUNK,
                                workload_total_msflop=CHUNK)
    assert install(dev, w_again) == S.OVER_GRANTED  # W's total is spent: nothing more
