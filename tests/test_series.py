"""Series of attestations per device: counters, the event-log chain, resets,
silence; the ledger that stores them (migrations, concurrent writers); the
report with its plot. Attestations here are signed in Python with test keys."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import struct
from dataclasses import replace

import pytest

from openheg.crypto import SigningKey
from openheg.licensing import sign_order
from openheg.ledger import HEAD_REVISION, Ledger, LedgerError
from openheg.report import write_report
from openheg.series import (
    CHAIN_START,
    LogRead,
    LogRecord,
    Report,
    build_chain,
    chain_head,
    check_series,
)
from openheg.wire import (
    Attestation,
    EventType,
    GateCause,
    GateState,
    Order,
    OrderKind,
    RecordType,
    SignerRole,
)

DEVICE = SigningKey(b"\x07" * 32)
LICENSE_ID = b"\x05" * 16
WORKLOAD_ID = b"\x06" * 16


def make_log(n_resets_at=(0,), length=6) -> list[LogRecord]:
    entries = []
    for i in range(length):
        if i in n_resets_at:
            entries.append(LogRecord(i, EventType.RESET, struct.pack("<I", i + 1)))
        else:
            entries.append(LogRecord(i, EventType.TIME_SET, struct.pack("<Q", 1000 + i)))
    return entries


def heads(log):
    out, head = [CHAIN_START], CHAIN_START
    for e in log:
        head = chain_head(head, e.event_type, e.payload)
        out.append(head)
    return out


def attestation(counter, consumed, log_head, resets=1, key=DEVICE,
                policy_digest=bytes(32)) -> bytes:
    body = Attestation(
        device_id=key.public_key, nonce=bytes(32), firmware_measurement=bytes(32),
        policy_version=1, license_id=LICENSE_ID, license_sequence=1,
        lane_ops=(0, consumed // 1000, 0, 0, 0, 0), consumed_msflop=consumed,
        remaining_msflop=max(10**9 - consumed, 0), gate_state=GateState.OPEN,
        gate_causes=GateCause(0), report_counter=counter, reset_count=resets, log_head=log_head,
        policy_digest=policy_digest)
    return replace(body, signature=key.sign_record(RecordType.ATTESTATION, body.body())).to_bytes()


def reports(*specs, log_length_after=None):
    """Reports from (counter, consumed, log head, resets, received at) specs;
    ``log_length_after``: the log was read (that long) right after each."""
    return [Report(Attestation.from_bytes(attestation(*spec[:4])), spec[4], log_length_after)
            for spec in specs]


def kinds(result):
    return sorted(a.kind for a in result.anomalies)


def test_chain_head_is_the_documented_digest():
    # wire.EventType: head' = SHA-512(head || type || payload)[0:32], the digest the
    # firmware computes with the hash Ed25519 already needs.
    previous, payload = bytes(range(32)), b"\x07\x00\x00\x00"
    expected = hashlib.sha512(previous + bytes([EventType.RESET]) + payload).digest()[:32]
    assert chain_head(previous, EventType.RESET, payload) == expected
    assert chain_head(previous, EventType.TAMPER, payload) != expected


def test_a_consistent_series_has_no_anomaly():
    log = make_log()
    h = heads(log)
    result = check_series("d", reports((1, 100, h[1], 1, 10), (2, 200, h[4], 1, 20),
                                       (3, 300, h[6], 1, 30)), log=log)
    assert result.trusted and result.anomalies == []


def test_replay_rollback_and_refund_are_flagged():
    log = make_log()
    h = heads(log)
    result = check_series("d", reports((2, 100, h[1], 1, 10), (2, 200, h[2], 1, 20),
                                       (1, 150, h[3], 1, 30)), log=log)
    assert kinds(result) == ["refund", "replay", "rollback"] and not result.trusted


def test_reports_received_in_the_same_second_keep_their_arrival_order():
    """A storage restored by the operator reports a lower counter after a higher
    one. Received in the same second, the two must stay in arrival order: the
    device's own counter must not decide which came first (it hid the rollback)."""
    log = make_log()
    h = heads(log)
    result = check_series("d", reports((5, 100, h[1], 1, 10), (9, 200, h[2], 1, 10),
                                       (6, 200, h[2], 1, 10)), log=log)
    assert "rollback" in kinds(result) and not result.trusted


def test_fork_gap_and_a_log_that_goes_back():
    log = make_log()
    h = heads(log)
    foreign = chain_head(h[2], EventType.TAMPER, b"\x01\x00\x00\x00")
    assert kinds(check_series("d", reports((1, 1, foreign, 1, 10), log_length_after=len(log)),
                              log=log)) == ["fork"]
    assert kinds(check_series("d", reports((1, 1, h[4], 1, 10), (2, 2, h[2], 1, 20)),
                              log=log)) == ["fork"]
    gapped = log[:2] + log[3:]
    assert "gap" in kinds(check_series("d", reports((1, 1, h[1], 1, 10)), log=gapped))


def test_resets_must_match_the_log():
    log = make_log(n_resets_at=(0, 3))
    h = heads(log)
    explained = check_series("d", reports((1, 1, h[2], 1, 10), (2, 2, h[5], 2, 20)), log=log)
    assert kinds(explained) == ["reset"] and explained.trusted  # noted, not severe
    hidden = check_series("d", reports((1, 1, h[4], 2, 10), (2, 2, h[5], 3, 20)), log=log)
    assert kinds(hidden) == ["reset"] and not hidden.trusted


def test_silent_devices_after_the_deadline():
    h = heads(make_log())
    assert kinds(check_series("d", reports((1, 1, h[1], 1, 100)), log=make_log(), now=150,
                              deadline_s=60)) == []
    assert kinds(check_series("d", reports((1, 1, h[1], 1, 100)), log=make_log(), now=200,
                              deadline_s=60)) == ["silent"]
    assert kinds(check_series("d", [], now=200, deadline_s=60)) == ["silent"]


# ------------------------------------------- the ring: what the device proves
def test_a_log_read_after_the_ring_wrapped_is_checked_from_its_anchor():
    log = make_log(length=40)
    h = heads(log)
    kept = log[8:]  # the oldest 8 entries were overwritten before any read
    honest = reports((1, 1, h[20], 1, 10), (2, 2, h[40], 1, 20), log_length_after=40)
    assert kinds(check_series("d", honest, log=kept, anchors=[(8, h[8])])) == []
    # Without the head the device reported, the chain cannot start there.
    assert kinds(check_series("d", honest, log=kept)) == ["fork", "fork", "gap"]
    # A head before entry 8 that is not the device's: nothing lands on the chain.
    assert kinds(check_series("d", honest, log=kept, anchors=[(8, h[9])])) == ["fork", "fork"]


def test_stretches_read_at_different_times_extend_the_checked_chain():
    log = make_log(length=60)
    h = heads(log)
    held = log[:10] + log[30:]  # entries 10..29 were overwritten between two reads
    anchors = [(0, CHAIN_START), (30, h[30])]
    series = reports((1, 1, h[6], 1, 10), (2, 2, h[45], 1, 20), (3, 3, h[60], 1, 30),
                     log_length_after=60)
    assert kinds(check_series("d", series, log=held, anchors=anchors)) == []
    chain = build_chain(held, anchors)
    assert chain.stretches == [(0, 10), (30, 60)] and chain.problems == []
    assert chain.unread_between(5, 35) and not chain.unread_between(31, 59)
    # A report whose log was never read may lie in the unread stretch: noted.
    after = reports((3, 3, h[45], 1, 20), (4, 4, h[60], 1, 30), log_length_after=60)
    unread = reports((1, 1, h[6], 1, 10), (2, 2, h[20], 1, 15)) + after
    result = check_series("d", unread, log=held, anchors=anchors)
    assert kinds(result) == ["log-unverified"] and result.trusted
    # The same head for a report collected with its log read: that read must hold it.
    collected = reports((1, 1, h[6], 1, 10), (2, 2, h[20], 1, 15), log_length_after=20)
    assert kinds(check_series("d", collected + after, log=held, anchors=anchors)) == ["fork"]
    # Between two reports whose places are both read, there is nowhere to hide.
    foreign = chain_head(h[40], EventType.TAMPER, b"\x01\x00\x00\x00")
    boxed = reports((1, 1, h[35], 1, 10), (2, 2, foreign, 1, 15), (3, 3, h[50], 1, 20))
    assert kinds(check_series("d", boxed, log=held, anchors=anchors)) == ["fork"]


def test_an_anchor_that_disagrees_with_the_held_chain_is_a_fork():
    log = make_log(length=20)
    h = heads(log)
    foreign = chain_head(h[4], EventType.TAMPER, b"\x01\x00\x00\x00")
    result = check_series("d", reports((1, 1, h[20], 1, 10), log_length_after=20), log=log,
                          anchors=[(5, foreign)])
    assert kinds(result) == ["fork"] and "before log entry 5" in result.anomalies[0].detail
    two = check_series("d", reports((1, 1, h[20], 1, 10)), log=log[5:],
                       anchors=[(5, h[5]), (5, foreign)])
    assert "fork" in kinds(two) and not two.trusted


def test_a_report_after_the_last_read_is_noted_not_failed():
    log = make_log(length=10)
    h = heads(log)
    later = chain_head(h[10], EventType.RESET, b"\x02\x00\x00\x00")
    result = check_series("d", reports((1, 1, h[10], 1, 10), log_length_after=10)
                          + reports((2, 2, later, 1, 20)), log=log)
    assert kinds(result) == ["log-unverified"] and result.trusted


def test_resets_across_an_unread_stretch_are_noted_not_counted():
    log = make_log(n_resets_at=(0, 12, 25), length=30)
    h = heads(log)
    held = log[:10] + log[20:]
    result = check_series("d", reports((1, 1, h[5], 1, 10), (2, 2, h[28], 3, 20),
                                       log_length_after=30), log=held,
                          anchors=[(20, h[20])])
    assert kinds(result) == ["reset"] and result.trusted


# ---------------------------------------------------------------- ledger
def test_ledger_migrates_an_old_schema_and_keeps_its_data(tmp_path):
    db = tmp_path / "l.sqlite"
    ledger = Ledger(db)
    ledger.migrate("0001", downgrade=True)
    ledger.close()
    old = sqlite3.connect(db)
    tables = {r[0] for r in old.execute("select name from sqlite_master where type='table'")}
    assert not {"log_entries", "log_anchors"} & tables
    data = attestation(1, 5, CHAIN_START)
    att = Attestation.from_bytes(data)
    # A row as revision 0001 wrote it.
    old.execute("insert into attestations (record_sha256, device_id, received_at, report_counter,"
                " reset_count, policy_version, license_id, consumed_msflop, remaining_msflop,"
                " gate_state, gate_causes, log_head, nonce, record) values"
                " (?, ?, 1, 1, 1, 1, ?, ?, ?, 'OPEN', 0, ?, ?, ?)",
                (hashlib.sha256(data).hexdigest(), att.device_id.hex(), att.license_id.hex(),
                 str(att.consumed_msflop).rjust(39, "0"), str(att.remaining_msflop).rjust(39, "0"),
                 att.log_head.hex(), att.nonce.hex(), data))
    old.commit()
    old.close()
    reopened = Ledger(db)  # opening migrates to head
    assert reopened.schema_revision() == HEAD_REVISION
    assert [r.attestation for r in reopened.reports(att.device_id.hex())] == [att]
    assert reopened.reports(att.device_id.hex())[0].log_length_after is None
    # Migration 0008's columns: the row from before them carries none.
    (row,) = reopened.attestations(att.device_id.hex())
    assert (row.policy_digest, row.workload_msflop, row.retired_msflop) == (None, None, None)
    assert reopened.record_attestation(data) is False  # idempotent
    read = LogRead(CHAIN_START, tuple(make_log()), 6)
    assert reopened.record_log(DEVICE.public_key, read, after_attestation=data) == []
    assert reopened.log(DEVICE.public_key.hex()) == make_log()
    assert reopened.log_anchors(DEVICE.public_key.hex()) == [(0, CHAIN_START)]
    assert reopened.reports(att.device_id.hex())[0].log_length_after == 6
    conflict = LogRead(heads(make_log())[2], (replace(make_log()[2], payload=b"x"),), 6)
    assert reopened.record_log(DEVICE.public_key, conflict) == [
        "log entry 2 differs from the one stored"]
    other_head = LogRead(bytes(32), tuple(make_log()[2:]), 6)
    assert reopened.record_log(DEVICE.public_key, other_head) == [
        "the head before log entry 2 differs from the one stored"]
    # Both heads reported before entry 2 are kept: the series sees the fork.
    assert len(reopened.log_anchors(DEVICE.public_key.hex())) == 3
    assert "fork" in kinds(reopened.series(DEVICE.public_key.hex()))
    unrecorded = attestation(9, 5, CHAIN_START)
    with pytest.raises(LedgerError, match="record the attestation before"):
        reopened.record_log(DEVICE.public_key, read, after_attestation=unrecorded)


def test_ledger_keeps_orders_of_each_signer_role_with_the_same_sequence(tmp_path):
    """Each signer role counts its own orders on the device, so the inspector's
    pause 1 and the board's halt 1 are two orders: the ledger keyed them by
    (device, sequence) alone and kept only the first, hiding the other."""
    ledger = Ledger(tmp_path / "o.sqlite")
    device_id = DEVICE.public_key
    signer = SigningKey(b"\x09" * 32)
    pause = sign_order(Order(order_kind=OrderKind.PAUSE, signer_role=SignerRole.INSPECTOR,
                             device_id=device_id, license_id=bytes(16), license_sequence=0,
                             workload_id=WORKLOAD_ID, sequence=1, issued_at=100), [signer])
    halt = sign_order(Order(order_kind=OrderKind.HALT, signer_role=SignerRole.BOARD,
                            device_id=device_id, license_id=bytes(16), license_sequence=0,
                            workload_id=bytes(16), sequence=1, issued_at=101), [signer])
    ledger.record_order(pause)
    ledger.record_order(halt)
    ledger.record_order(pause)  # the same order twice is recorded once
    rows = ledger.orders(device_id.hex())
    assert sorted((r.signer_role, r.order_kind, r.sequence) for r in rows) == [
        ("BOARD", "HALT", 1), ("INSPECTOR", "PAUSE", 1)]


def _writer(db: str, worker: int, count: int) -> None:
    ledger = Ledger(db)
    key = SigningKey(bytes([worker + 1]) * 32)
    for i in range(count):
        ledger.record_attestation(attestation(i + 1, i, CHAIN_START, key=key))
    ledger.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    db = str(tmp_path / "c.sqlite")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(db, w, 25)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0] * 4
    ledger = Ledger(db)
    assert ledger.counts()["attestations"] == 100
    assert len({a.device_id for a in ledger.attestations()}) == 4


def test_u128_amounts_are_exact(tmp_path):
    ledger = Ledger(tmp_path / "u.sqlite")
    big = (1 << 128) - 1
    ledger.record_workload("w", b"\x01" * 16, big, big - 1, "HORIZON")
    row = ledger.workload("w")
    assert (row.planned_msflop, row.lineage_msflop) == (big, big - 1)


def test_report_files_and_plot(tmp_path):
    from openheg.licensing import DeviceSlot, plan_workload, sign_licenses
    from openheg.policy import genesis_draft

    issuer = SigningKey(b"\x02" * 32)
    policy = genesis_draft(board_keys=[SigningKey(b"\x01" * 32).public_key], board_threshold=1,
                           issuer_key=issuer.public_key, time_authority_key=b"\x03" * 32, now=0,
                           frontier_base_msflop=10**20, horizon_base_msflop=10**21)
    plan = plan_workload(policy, workload="w", planned_msflop=10**9, lineage_msflop=0,
                         devices=[DeviceSlot(DEVICE.public_key, 1)], start=0)
    (license_,) = sign_licenses(policy, plan.licenses, [issuer])
    license_ = replace(license_, license_id=LICENSE_ID)
    ledger = Ledger(tmp_path / "r.sqlite")
    ledger.record_workload("w", plan.workload_id, plan.planned_msflop, 0, "STANDARD")
    ledger.record_license(license_)
    log = make_log()
    h = heads(log)
    for counter, consumed, at in ((1, 10**6, 100_000), (2, 5 * 10**8, 200_000)):
        ledger.record_attestation(attestation(counter, consumed, h[counter],
                                              policy_digest=policy.digest), received_at=at)
    ledger.record_log(DEVICE.public_key, LogRead(CHAIN_START, tuple(log), len(log)))
    written = write_report(ledger, "w", policy, tmp_path / "out", now=300_000)
    assert written["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import json

    report = json.loads(written["json"].read_text())
    assert report["metered_msflop"] == 5 * 10**8 and report["trusted"]
    assert [p["metered_msflop"] for p in report["cumulative"]] == [10**6, 5 * 10**8]
    assert "Frontier" in written["md"].read_text() and "<table>" in written["html"].read_text()
    ledger.record_attestation(attestation(1, 6 * 10**8, h[3]), received_at=250_000)
    # A replayed counter with other numbers: the report says not trusted.
    written = write_report(ledger, "w", policy, tmp_path / "out2", now=300_000)
    assert not json.loads(written["json"].read_text())["trusted"]


@pytest.mark.parametrize("bad", ["nope://x", "sqlite:////proc/forbidden/x.sqlite"])
def test_a_ledger_that_cannot_open_is_one_clear_error(bad):
    from openheg.ledger import LedgerError

    with pytest.raises(LedgerError, match="cannot open ledger"):
        Ledger(bad)


# ------------------------------------------------ review findings 4 and 5 (issue 9)
def _signed(counter, log_head, **fields) -> bytes:
    body = replace(Attestation.from_bytes(attestation(counter, 1000, log_head)), **fields)
    return replace(body, signature=DEVICE.sign_record(RecordType.ATTESTATION,
                                                      body.body())).to_bytes()


def _applied(index, kind, role, sequence, subject_id=WORKLOAD_ID) -> LogRecord:
    return LogRecord(index, EventType.ORDER_APPLIED,
                     bytes([kind, role]) + struct.pack("<Q", sequence) + subject_id)


def _pause(sequence, issued_at=100) -> Order:
    return sign_order(Order(order_kind=OrderKind.PAUSE, signer_role=SignerRole.INSPECTOR,
                            device_id=DEVICE.public_key, license_id=bytes(16),
                            license_sequence=0, workload_id=WORKLOAD_ID, sequence=sequence,
                            issued_at=issued_at), [SigningKey(b"\x09" * 32)])


def test_a_device_that_latched_tamper_is_not_trusted():
    """Regression (review finding 5): TAMPER in a report passed as trusted."""
    head = heads(make_log(length=1))[1]
    tampered = [Report(Attestation.from_bytes(_signed(1, head)), 10),
                Report(Attestation.from_bytes(_signed(
                    2, head, gate_state=GateState.CLOSED, gate_causes=GateCause.TAMPER)), 20)]
    result = check_series("d", tampered)
    assert not result.trusted
    assert "tamper" in kinds(result)


def test_an_order_recorded_as_delivered_that_the_device_never_applied_is_flagged(tmp_path):
    """Regression (review finding 4): the operator's link answered OK to a pause the
    device never took; every later signed report showed the inspector's counter
    below it, and the series stayed trusted."""
    from openheg.wire import ORDER_LIFETIME_S

    ledger = Ledger(tmp_path / "o.sqlite")
    log = make_log(length=2)
    ledger.record_order(_pause(1, issued_at=100))
    data = _signed(1, heads(log)[2], inspector_order_sequence=0)
    ledger.record_attestation(data, received_at=100 + ORDER_LIFETIME_S + 1)
    ledger.record_log(DEVICE.public_key, LogRead(CHAIN_START, tuple(log), 2),
                      after_attestation=data)
    result = ledger.series(DEVICE.public_key.hex())
    assert not result.trusted
    assert "order-not-applied" in kinds(result)


def test_an_order_the_log_shows_was_skipped_is_flagged(tmp_path):
    """Regression (review finding 4): a pause voided on the device (the inspector's
    next order delivered first: finding 2) while the ledger records it as
    delivered; the log shows every entry where it would be, without it."""
    ledger = Ledger(tmp_path / "v.sqlite")
    log = make_log(length=2) + [_applied(2, OrderKind.RELEASE_OVERSIGHT, SignerRole.INSPECTOR, 2)]
    ledger.record_order(_pause(1))
    data = _signed(1, heads(log)[3], inspector_order_sequence=2)
    ledger.record_attestation(data, received_at=200)
    ledger.record_log(DEVICE.public_key, LogRead(CHAIN_START, tuple(log), 3),
                      after_attestation=data)
    result = ledger.series(DEVICE.public_key.hex())
    assert not result.trusted
    assert "order-voided" in kinds(result)


def test_an_order_counter_that_goes_back_is_a_rollback():
    """Regression (review finding 4): an order counter that fell between reports
    (storage restored from before an order) was not flagged."""
    head = heads(make_log(length=1))[1]
    series = [Report(Attestation.from_bytes(_signed(1, head, board_order_sequence=3)), 10),
              Report(Attestation.from_bytes(_signed(2, head, board_order_sequence=2)), 20)]
    result = check_series("d", series)
    assert not result.trusted
    assert "rollback" in kinds(result)


def test_an_order_applied_as_recorded_is_not_flagged(tmp_path):
    """The honest case the checks above must leave alone."""
    from openheg.wire import ORDER_LIFETIME_S

    ledger = Ledger(tmp_path / "h.sqlite")
    log = make_log(length=2) + [_applied(2, OrderKind.PAUSE, SignerRole.INSPECTOR, 1)]
    ledger.record_order(_pause(1))
    data = _signed(1, heads(log)[3], inspector_order_sequence=1,
                   gate_state=GateState.CLOSED, gate_causes=GateCause.PAUSED)
    ledger.record_attestation(data, received_at=100 + ORDER_LIFETIME_S + 1)
    ledger.record_log(DEVICE.public_key, LogRead(CHAIN_START, tuple(log), 3),
                      after_attestation=data)
    result = ledger.series(DEVICE.public_key.hex())
    assert result.trusted, result.anomalies


POLICY_DIGEST = b"\x0c" * 32


def _fleet_halt(sequence, kind=OrderKind.HALT, issued_at=100) -> Order:
    return sign_order(Order(order_kind=kind, signer_role=SignerRole.BOARD,
                            device_id=bytes(32), license_id=bytes(16), license_sequence=0,
                            workload_id=bytes(16), sequence=sequence, issued_at=issued_at,
                            policy_digest=POLICY_DIGEST), [SigningKey(b"\x0a" * 32)])


def _fleet_series(tmp_path, log, order, received_at, **fields):
    ledger = Ledger(tmp_path / "f.sqlite")
    ledger.record_order(order, DEVICE.public_key)
    data = _signed(1, heads(log)[len(log)], **fields)
    ledger.record_attestation(data, received_at=received_at)
    ledger.record_log(DEVICE.public_key, LogRead(CHAIN_START, tuple(log), len(log)),
                      after_attestation=data)
    return ledger.series(DEVICE.public_key.hex())


def test_a_fleet_halt_applied_as_recorded_is_not_flagged(tmp_path):
    """Its entry names the policy; the board's per-device counter (still 0 in
    the report) is not its counter, so nothing is missing past its lifetime."""
    from openheg.wire import ORDER_LIFETIME_S

    order = _fleet_halt(1)
    log = make_log(length=2) + [_applied(2, OrderKind.HALT, SignerRole.BOARD, 1,
                                         order.subject_id)]
    result = _fleet_series(tmp_path, log, order, 100 + ORDER_LIFETIME_S + 1,
                           board_order_sequence=0)
    assert result.trusted, result.anomalies
    assert "order-not-applied" not in kinds(result)


def test_a_fleet_halt_the_whole_log_lacks_past_its_lifetime_is_flagged(tmp_path):
    """The operator's link answered OK to a fleet halt the device never took:
    the log read through a report received after the halt's lifetime lacks
    it (a per-device halt of the same sequence is not it)."""
    from openheg.wire import ORDER_LIFETIME_S

    log = make_log(length=2) + [_applied(2, OrderKind.HALT, SignerRole.BOARD, 1, bytes(16))]
    result = _fleet_series(tmp_path, log, _fleet_halt(1), 100 + ORDER_LIFETIME_S + 1,
                           board_order_sequence=1)
    assert not result.trusted
    assert "order-not-applied" in kinds(result)


def test_another_fleet_order_under_the_halts_sequence_is_flagged(tmp_path):
    order = _fleet_halt(1)
    log = make_log(length=2) + [_applied(2, OrderKind.LIFT_HALT, SignerRole.BOARD, 1,
                                         order.subject_id)]
    result = _fleet_series(tmp_path, log, order, 200)
    assert not result.trusted
    assert "order-not-applied" in kinds(result)
