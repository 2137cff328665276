"""V6: what a replaced license consumed reaches the verifier, once (review finding 6).

INSTALL_LICENSE logs LICENSE_REPLACED (the outgoing license's id, sequence,
workload and final total) in the commit that installs the new license, and adds
the total to the attested retired_msflop; the attestation also reports what the
workload in force consumed under all its licenses (workload_msflop). The ledger
credits a license with the most its reports and its entry show, and the series
check holds the entries against the signed retired total."""

from __future__ import annotations

import pytest

from openheg import wire
from openheg.errors import DeviceStatus
from openheg.series import LogRead, LogRecord, ReplacedLicense, chain_head

from fwkit import Device, power_cuts, provision

S = DeviceStatus
C = wire.Command
ALLOCATION = 8_000_000  # 8000 FP8 ops at 1000 milli-sFLOP each
W, X = b"W" * 16, b"X" * 16


@pytest.fixture
def ledger(tmp_path):
    from openheg.ledger import Ledger

    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.record_workload("w", W, 40 * ALLOCATION, 0, "STANDARD")
    ledger.record_workload("x", X, 40 * ALLOCATION, 0, "STANDARD")
    yield ledger
    ledger.close()


def make_license(authority, dev, sequence: int, workload: bytes = W):
    return authority.license(dev.device_id, sequence, allocation=ALLOCATION,
                             workload_total_msflop=40 * ALLOCATION, workload_id=workload)


def install(dev, ledger, lic) -> None:
    ledger.record_license(lic)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK


def whole_log(dev) -> LogRead:
    page = dev.read_log(0, wire.MAX_LOG_ENTRIES_PER_READ)
    head, entries = bytes(page.head_before), list(page.entries)
    while entries and entries[-1].index + 1 < page.next_index:
        page = dev.read_log(entries[-1].index + 1, wire.MAX_LOG_ENTRIES_PER_READ)
        entries += page.entries
    return LogRead(head, tuple(LogRecord(e.index, int(e.event_type), bytes(e.payload))
                               for e in entries), page.next_index)


def collect(dev, ledger, read_log: bool = True) -> wire.Attestation:
    """What `attest collect` records: the attestation, then the log read after it."""
    raw = dev.ok(C.ATTEST, b"n" * 32)
    read = whole_log(dev) if read_log else None
    ledger.record_attestation(raw, received_at=dev.now)
    if read is not None:
        assert ledger.record_log(dev.device_id, read, after_attestation=raw) == []
    dev.advance(1)
    return wire.Attestation.from_bytes(raw)


def report(ledger, name: str, authority, dev):
    from openheg.report import build_report

    return build_report(ledger, name, authority.policy(), now=dev.now)


def kinds(result) -> set[str]:
    return {a["kind"] for a in result["anomalies"]}


@pytest.fixture
def dev(authority):
    dev = Device()
    provision(dev, authority)
    return dev


def test_the_replacement_is_logged_and_signed_with_what_the_outgoing_license_consumed(
        dev, authority, ledger):
    l1, l2 = make_license(authority, dev, 1), make_license(authority, dev, 2, X)
    install(dev, ledger, l1)
    assert dev.run(4000) == 4000
    install(dev, ledger, l2)
    read = whole_log(dev)
    kinds_logged = [wire.EventType(e.event_type) for e in read.entries]
    assert kinds_logged[-2:] == [wire.EventType.LICENSE_REPLACED,
                                 wire.EventType.LICENSE_INSTALLED]
    assert ReplacedLicense.from_log(read.entries[-2]) == ReplacedLicense(
        l1.license_id.hex(), 1, W.hex(), 4_000_000)
    head = read.head_before
    for entry in read.entries:
        head = chain_head(head, entry.event_type, entry.payload)
    att = dev.attest()
    assert att.log_head == head  # the entry is under the device's signature
    assert (att.retired_msflop, att.consumed_msflop, att.workload_msflop) == (4_000_000, 0, 0)


def test_another_workload_s_license_replaced_between_collects_is_credited_to_it(
        dev, authority, ledger):
    """L1 (W) runs between two collects and L2 (X) replaces it: no report names
    L1, and W's report has its compute from the signed log."""
    install(dev, ledger, make_license(authority, dev, 1))
    collect(dev, ledger)
    assert dev.run(4000) == 4000
    install(dev, ledger, make_license(authority, dev, 2, X))
    assert dev.run(1000) == 1000
    collect(dev, ledger)
    w, x = report(ledger, "w", authority, dev), report(ledger, "x", authority, dev)
    assert (w["metered_msflop"], x["metered_msflop"]) == (4_000_000, 1_000_000)
    assert w["trusted"] and x["trusted"]


def test_collecting_again_and_rereading_the_log_never_counts_twice(dev, authority, ledger):
    install(dev, ledger, make_license(authority, dev, 1))
    assert dev.run(3000) == 3000
    install(dev, ledger, make_license(authority, dev, 2))
    assert dev.run(1000) == 1000
    for _ in range(3):
        collect(dev, ledger)
        assert ledger.record_log(dev.device_id, whole_log(dev)) == []  # read once more
        result = report(ledger, "w", authority, dev)
        assert result["metered_msflop"] == 4_000_000 and result["trusted"]
    # The same W's renewal is in the signed workload total too: still once.
    assert dev.attest().workload_msflop == 4_000_000


def test_rapid_swaps_between_collects_are_each_credited(dev, authority, ledger):
    """The operator swaps licenses of W and X six times between two collects,
    running each a little: every license's compute is in its workload's report."""
    ran = {W: 0, X: 0}
    for sequence in range(1, 7):
        workload = W if sequence % 2 else X
        install(dev, ledger, make_license(authority, dev, sequence, workload))
        assert dev.run(100 * sequence) == 100 * sequence
        ran[workload] += 100_000 * sequence
    collect(dev, ledger)
    w, x = report(ledger, "w", authority, dev), report(ledger, "x", authority, dev)
    assert (w["metered_msflop"], x["metered_msflop"]) == (ran[W], ran[X])
    assert w["trusted"] and x["trusted"]


def test_a_power_cut_at_every_flash_operation_of_the_replacement_loses_nothing(
        dev, authority, tmp_path):
    """Cut at each flash operation of installing L2 (X) over L1 (W): the rebooted
    device has L1 in force, or L2 with L1's total logged and signed, never
    neither; the ledger credits W exactly what the device says L1 consumed."""
    from openheg.ledger import Ledger

    l1, l2 = make_license(authority, dev, 1), make_license(authority, dev, 2, X)
    assert dev.status_of(C.INSTALL_LICENSE, l1.to_bytes()) == S.OK
    assert dev.run(4000) == 4000
    outcomes = set()
    for cut, after, _ in power_cuts(dev, lambda d: d.ok(C.INSTALL_LICENSE, l2.to_bytes())):
        ledger = Ledger(tmp_path / f"cut{cut}.sqlite")
        ledger.record_workload("w", W, 40 * ALLOCATION, 0, "STANDARD")
        for lic in (l1, l2):
            ledger.record_license(lic)
        att = collect(after, ledger)
        result = report(ledger, "w", authority, after)
        if att.license_id == l1.license_id:
            outcomes.add("old")
            assert att.retired_msflop == 0
            assert result["metered_msflop"] == att.consumed_msflop >= 4_000_000
        else:
            outcomes.add("new")
            assert att.license_id == l2.license_id
            assert result["metered_msflop"] == att.retired_msflop >= 4_000_000
        assert result["trusted"], result["anomalies"]
        ledger.close()
    assert outcomes == {"old", "new"}


def test_withholding_collects_until_the_ring_wraps_is_not_trusted(dev, authority, ledger):
    """What holds when the operator withholds collects until the 32-entry ring
    overwrites the LICENSE_REPLACED entry: the signed retired total still shows
    the compute, and the verifier says it could not credit it (severe)."""
    install(dev, ledger, make_license(authority, dev, 1))
    collect(dev, ledger)
    assert dev.run(4000) == 4000
    install(dev, ledger, make_license(authority, dev, 2, X))
    for _ in range(20):  # each boot logs RESET and TIME_SET
        dev.power_up()
    att = collect(dev, ledger)
    assert att.retired_msflop == 4_000_000
    w = report(ledger, "w", authority, dev)
    assert "unattributed" in kinds(w) and not w["trusted"]
    assert any("4000000 milli-sFLOP" in a["detail"] for a in w["anomalies"])


def test_a_renewal_of_the_same_workload_is_credited_even_after_the_ring_wraps(
        dev, authority, ledger):
    """For the workload in force the attestation itself carries the whole total:
    the wrap hides which license ran it, not how much the workload ran."""
    install(dev, ledger, make_license(authority, dev, 1))
    assert dev.run(4000) == 4000
    install(dev, ledger, make_license(authority, dev, 2))
    assert dev.run(1000) == 1000
    for _ in range(20):
        dev.power_up()
    collect(dev, ledger)
    assert report(ledger, "w", authority, dev)["metered_msflop"] >= 5_000_000


def test_a_log_that_leaves_out_a_replacement_is_caught(dev, authority, ledger):
    """An entry altered on the link no longer chains to the signed head (a
    fork); and a stretch of the log whose entries do not add up to the signed
    retired total is flagged, whatever the log says."""
    from openheg.series import check_series, Report

    install(dev, ledger, make_license(authority, dev, 1))
    assert dev.run(4000) == 4000
    install(dev, ledger, make_license(authority, dev, 2, X))
    att = dev.attest()
    read = whole_log(dev)
    lowered = tuple(
        LogRecord(e.index, e.event_type, e.payload[:40] + (1).to_bytes(16, "little"))
        if e.event_type == wire.EventType.LICENSE_REPLACED else e for e in read.entries)
    result = check_series(dev.device_id.hex(), [Report(att, dev.now, read.next_index)],
                          log=lowered, anchors=[read.anchor])
    assert not result.trusted
    assert {a.kind for a in result.anomalies} >= {"fork", "unattributed"}


def test_the_workload_total_leaves_the_oversight_reserve_out(dev, authority, ledger):
    """A Frontier license holds its oversight share back: the workload's attested
    total is what ran, not what was granted, before and after a renewal."""
    l1 = authority.frontier_license(dev.device_id, 1)
    install(dev, ledger, l1)
    att = dev.attest()
    assert att.oversight_reserved_msflop > 0 and att.workload_msflop == 0
    assert dev.run(3000) == 3000
    assert dev.attest().workload_msflop == 3_000_000
    install(dev, ledger, authority.frontier_license(dev.device_id, 2,
                                                    license_id=b"F2" * 8))
    assert dev.run(500) == 500
    att = dev.attest()
    assert (att.workload_msflop, att.retired_msflop, att.consumed_msflop) == (
        3_500_000, 3_000_000, 500_000)
