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
from openheg.ledger import MIGRATIONS, Ledger
from openheg.report import write_report
from openheg.series import CHAIN_START, LogRecord, Report, chain_head, check_series
from openheg.wire import Attestation, EventType, GateCause, GateState, RecordType

DEVICE = SigningKey(b"\x07" * 32)
LICENSE_ID = b"\x05" * 16


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


def attestation(counter, consumed, log_head, resets=1, key=DEVICE) -> bytes:
    body = Attestation(
        device_id=key.public_key, nonce=bytes(32), firmware_measurement=bytes(32),
        policy_version=1, license_id=LICENSE_ID, license_sequence=1,
        lane_ops=(0, consumed // 1000, 0, 0, 0, 0), consumed_msflop=consumed,
        remaining_msflop=max(10**9 - consumed, 0), gate_state=GateState.OPEN,
        gate_causes=GateCause(0), report_counter=counter, reset_count=resets, log_head=log_head)
    return replace(body, signature=key.sign_record(RecordType.ATTESTATION, body.body())).to_bytes()


def reports(*specs):
    return [Report(Attestation.from_bytes(attestation(*spec[:4])), spec[4]) for spec in specs]


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


def test_fork_gap_and_a_log_that_goes_back():
    log = make_log()
    h = heads(log)
    foreign = chain_head(h[2], EventType.TAMPER, b"\x01\x00\x00\x00")
    assert kinds(check_series("d", reports((1, 1, foreign, 1, 10)), log=log)) == ["fork"]
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


# ---------------------------------------------------------------- ledger
def test_ledger_migrates_an_old_schema_and_keeps_its_data(tmp_path):
    db = tmp_path / "l.sqlite"
    ledger = Ledger(db)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert ledger.schema_revision() == "0001"
    assert "log_entries" not in {r[0] for r in sqlite3.connect(db).execute(
        "select name from sqlite_master where type='table'")}
    assert ledger.record_attestation(attestation(1, 5, CHAIN_START)) is True
    ledger.close()
    reopened = Ledger(db)  # opening migrates to head
    assert reopened.schema_revision() == "0002"
    assert len(reopened.attestations()) == 1
    assert reopened.record_attestation(attestation(1, 5, CHAIN_START)) is False  # idempotent
    reopened.record_log(DEVICE.public_key, make_log())
    assert reopened.log(DEVICE.public_key.hex()) == make_log()
    conflict = [replace(make_log()[2], payload=b"x")]
    assert reopened.record_log(DEVICE.public_key, conflict) == [
        "log entry 2 differs from the one stored"]


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
        ledger.record_attestation(attestation(counter, consumed, h[counter]), received_at=at)
    ledger.record_log(DEVICE.public_key, log)
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
