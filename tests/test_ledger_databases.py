"""The ledger on both databases it supports, tested for real: an SQLite file and
a throwaway PostgreSQL server (tools/postgres_server.py: initdb in a temporary
folder, loopback only, stopped by the process id the test started).

Each test here ran against PostgreSQL 15 before this file's fixes and failed:
concurrent writers got "duplicate key" (select-then-insert under READ
COMMITTED), processes opening one fresh ledger at once raced the migration, and
a u64 wire field of 2**63 or more gave a raw database error."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from test_series import CHAIN_START, DEVICE, LICENSE_ID, attestation

from openheg.board import Proposal, combine, sign_proposal
from openheg.crypto import SigningKey
from openheg.ledger import (HEAD_REVISION, Ledger, LedgerError, _attestation_rows, _copy_rows,
                            _set_many, _text_array, ledger_url)
from openheg.ledger.schema import AttestationRow, NonceRow, SeriesStateRow
from openheg.licensing import sign_order
from openheg.roles import Role, endorse_device
from openheg.series import LogRead, LogRecord
from openheg.verify import VerifiedAttestation, decode_attestation
from openheg.wire import (Attestation, EventType, GateCause, GateState, License, LicenseClass,
                          Order, OrderKind, RecordType, SignerRole)

U64_MAX = (1 << 64) - 1


def _license(sequence: int, not_after: int) -> License:
    draft = License(license_id=hashlib.sha256(b"%d" % sequence).digest()[:16],
                    device_id=DEVICE.public_key, workload_id=b"\x01" * 16, sequence=sequence,
                    allocation_msflop=10**9, workload_total_msflop=10**9, lineage_msflop=0,
                    not_before=0, not_after=not_after, license_class=LicenseClass.STANDARD,
                    oversight_ppm=0, inspector_key=bytes(32), lineage_digest=bytes(32))
    proposal = Proposal(draft)
    return combine(proposal, [sign_proposal(proposal, SigningKey(b"\x02" * 32))])


def test_u64_wire_fields_are_stored_exactly(database_url):
    """Sequences, times and report counters are u64 on the wire: the ledger keeps
    the largest one exactly (signed BIGINT refused 2**63 and above)."""
    ledger = Ledger(database_url)
    ledger.record_license(_license(U64_MAX, U64_MAX))
    ledger.record_license(_license(1, 2))
    order = sign_order(Order(order_kind=OrderKind.PAUSE, signer_role=SignerRole.INSPECTOR,
                             device_id=DEVICE.public_key, license_id=bytes(16),
                             license_sequence=0, workload_id=b"\x01" * 16, sequence=U64_MAX,
                             issued_at=U64_MAX), [SigningKey(b"\x09" * 32)])
    ledger.record_order(order)
    data = attestation(U64_MAX, 5, CHAIN_START)
    assert ledger.record_attestation(data)
    # Ordered as numbers, not as text of varying length.
    assert [row.sequence for row in ledger.licenses()] == [1, U64_MAX]
    assert ledger.license(_license(U64_MAX, 0).license_id.hex()).not_after == U64_MAX
    assert [(row.sequence, row.issued_at, row.workload_id) for row in ledger.orders()] == [
        (U64_MAX, U64_MAX, "01" * 16)]
    assert ledger.reports(DEVICE.public_key.hex())[0].attestation.report_counter == U64_MAX
    ledger.close()


def test_a_batch_of_devices_licenses_or_orders_is_one_transaction(database_url):
    """record_devices, record_licenses and record_orders (the simulator records
    a worker's fleet with them) keep the rules of record_device, record_license
    and record_order, and a batch that fails part-way, as a writer dying
    mid-batch does, leaves nothing of itself behind."""
    from openheg.errors import RecordError
    from openheg.wire import Endorsement

    ledger = Ledger(database_url)
    first = Endorsement(device_id=DEVICE.public_key, vendor_key=b"\x05" * 32, issued_at=1)
    second = Endorsement(device_id=b"\x07" * 32, vendor_key=b"\x05" * 32, issued_at=1)
    ledger.record_device(first)
    # A device recorded before gets the URL it is reached at now; one new is added.
    ledger.record_devices([(first, "sim://a"), (second, "sim://b")])
    assert [(row.device_id, row.url) for row in ledger.devices()] == sorted(
        [(DEVICE.public_key.hex(), "sim://a"), (second.device_id.hex(), "sim://b")])
    unsigned = replace(_license(3, 9), signatures=())  # cannot be encoded: no signer
    with pytest.raises(RecordError):
        ledger.record_licenses([_license(1, 9), _license(2, 9), unsigned])
    assert ledger.licenses() == []
    ledger.record_licenses([_license(1, 9), _license(2, 9), _license(1, 9)])  # a replay
    assert [row.sequence for row in ledger.licenses()] == [1, 2]

    def pause(sequence: int) -> Order:
        return sign_order(Order(order_kind=OrderKind.PAUSE, signer_role=SignerRole.INSPECTOR,
                                device_id=DEVICE.public_key, license_id=bytes(16),
                                license_sequence=0, workload_id=b"\x01" * 16,
                                sequence=sequence, issued_at=5), [SigningKey(b"\x09" * 32)])
    # A board's halt for every device under a policy: which one was it delivered to?
    fleet_order = sign_order(Order(order_kind=OrderKind.HALT, signer_role=SignerRole.BOARD,
                                   device_id=bytes(32), license_id=bytes(16), license_sequence=0,
                                   workload_id=bytes(16), sequence=3, issued_at=5,
                                   policy_digest=b"\x0c" * 32), [SigningKey(b"\x09" * 32)])
    with pytest.raises(LedgerError, match="give its id"):
        ledger.record_orders([(pause(1), None), (fleet_order, None)])
    assert ledger.orders() == []
    ledger.record_orders([(pause(1), None), (pause(2), None), (pause(1), None)])
    assert [row.sequence for row in ledger.orders()] == [1, 2]
    ledger.close()


def _write_same_records(url: str, seed: int) -> None:
    """One of several writers recording the same attestations, log entries and
    orders, in a different order each, all at once."""
    ledger = Ledger(url)
    records = [attestation(i + 1, i, CHAIN_START) for i in range(40)]
    if seed % 2:
        records.reverse()
    for data in records:
        ledger.record_attestation(data)
    log = [LogRecord(i, EventType.TIME_SET, i.to_bytes(8, "little")) for i in range(40)]
    for i in range(0, 40, 8):
        assert ledger.record_log(DEVICE.public_key, LogRead(CHAIN_START, tuple(log[i:i + 8]),
                                                            i + 8)) == []
    ledger.close()


def _run_all_at_once(target, args_per_process: list[tuple], timeout_s: int = 120) -> list[int]:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=args) for args in args_per_process]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout_s)
    return [process.exitcode for process in processes]


def test_concurrent_writers_of_the_same_records_store_each_once(database_url):
    Ledger(database_url).close()  # migrated first: this test is about the writes
    writers = [(database_url, seed) for seed in range(4)]
    assert _run_all_at_once(_write_same_records, writers) == [0] * 4
    ledger = Ledger(database_url)
    counts = ledger.counts()
    assert (counts["attestations"], counts["log_entries"]) == (40, 40)
    assert sorted(r.attestation.report_counter for r in ledger.reports(DEVICE.public_key.hex())) \
        == list(range(1, 41))


def _open(url: str, start) -> None:
    start.wait(60)  # every process imported and ready: they open it together
    Ledger(url).close()


def test_processes_opening_one_fresh_ledger_at_once_migrate_it_once(database_url):
    start = multiprocessing.get_context("spawn").Barrier(6)
    assert _run_all_at_once(_open, [(database_url, start)] * 6) == [0] * 6
    ledger = Ledger(database_url)
    assert ledger.schema_revision() == HEAD_REVISION
    assert sum(ledger.counts().values()) == 0


BATCH = 25
TOTAL = 400


def _batch_writer(url: str, progress_path: str) -> None:
    """Records TOTAL attestations in batches of BATCH, noting after each commit
    how many are committed; the test kills it mid-way with SIGKILL."""
    ledger = Ledger(url)
    key = SigningKey(b"\x0b" * 32)
    records = [attestation(i + 1, i, CHAIN_START, key=key) for i in range(TOTAL)]
    for start in range(0, TOTAL, BATCH):
        ledger.record_attestations(records[start:start + BATCH])
        with open(progress_path, "a") as progress:
            progress.write(f"{start + BATCH}\n")


def test_a_writer_killed_mid_batch_loses_nothing_and_duplicates_nothing(database_url, tmp_path):
    Ledger(database_url).close()
    progress = tmp_path / "committed"
    progress.touch()
    context = multiprocessing.get_context("spawn")
    writer = context.Process(target=_batch_writer, args=(database_url, str(progress)))
    writer.start()
    deadline = time.monotonic() + 120
    while len(progress.read_text().split()) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(writer.pid, signal.SIGKILL)
    writer.join(30)
    assert writer.exitcode == -signal.SIGKILL
    committed = int(progress.read_text().split()[-1])
    assert committed < TOTAL, "the writer finished before it was killed: nothing was tested"
    stored = Ledger(database_url).counts()["attestations"]
    # What was committed is there; the batch cut short is wholly absent or wholly
    # there (its commit can land just before the kill, its note not).
    assert stored in (committed, committed + BATCH)
    # The writer run again from the start stores the rest, nothing twice.
    _batch_writer(database_url, str(progress))
    ledger = Ledger(database_url)
    atts = ledger.attestations()
    assert len(atts) == TOTAL == len({a.record_sha256 for a in atts})
    assert ledger.record_attestations([attestation(1, 0, CHAIN_START,
                                                   key=SigningKey(b"\x0b" * 32))]) == [False]


def test_a_batch_reports_which_records_are_new(database_url):
    ledger = Ledger(database_url)
    first, second = attestation(1, 1, CHAIN_START), attestation(2, 2, CHAIN_START)
    assert ledger.record_attestations([first]) == [True]
    assert ledger.record_attestations([first, second, second]) == [False, True, False]
    assert ledger.counts()["attestations"] == 2


def test_a_bad_record_in_a_batch_records_none_of_it(database_url):
    ledger = Ledger(database_url)
    good = attestation(1, 1, CHAIN_START)
    with pytest.raises(Exception):  # noqa: B017 - the parser's own error type
        ledger.record_attestations([good, b"not an attestation"])
    assert ledger.counts()["attestations"] == 0


def test_the_u64_migration_keeps_old_rows_exact(database_url):
    """A ledger at revision 0004 (BIGINT u64 columns) with rows in it migrates to
    fixed-width strings that read back as the same numbers."""
    ledger = Ledger(database_url)
    ledger.migrate("0004", downgrade=True)
    big = (1 << 63) - 1  # the largest a 0004 ledger could hold
    data = attestation(big, 7, CHAIN_START)
    att = Attestation.from_bytes(data)
    with ledger.engine.begin() as connection:
        # A row as revision 0004 wrote it: integers in the u64 columns.
        connection.execute(text(
            "INSERT INTO licenses (license_id, device_id, workload_id, sequence, license_class,"
            " allocation_msflop, not_before, not_after, record) VALUES (:license_id,"
            " :device_id, :workload_id, 12, 'STANDARD', :allocation, 3, :not_after, :record)"),
            {"license_id": "ab" * 16, "device_id": "cd" * 32, "workload_id": "01" * 16,
             "allocation": "0" * 39, "not_after": big, "record": b"r"})
    ledger.close()
    reopened = Ledger(database_url)
    assert reopened.schema_revision() == HEAD_REVISION
    (row,) = reopened.licenses()
    assert (row.sequence, row.not_before, row.not_after) == (12, 3, big)
    assert reopened.record_attestation(data)
    assert reopened.reports(att.device_id.hex())[0].attestation == att
    reopened.record_license(replace(_license(13, 5), license_id=b"\x02" * 16))
    assert [r.sequence for r in reopened.licenses()] == [12, 13]


def test_a_database_the_ledger_does_not_run_on_is_refused_with_the_ones_it_does():
    with pytest.raises(LedgerError, match="SQLite .* or PostgreSQL"):
        Ledger("mysql://user@127.0.0.1/ledger")


def test_postgres_urls_use_the_installed_driver():
    assert ledger_url("postgresql://u@127.0.0.1:5/db") == "postgresql+psycopg://u@127.0.0.1:5/db"
    assert ledger_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert ledger_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_a_ledger_from_a_newer_openheg_is_refused_by_name(database_url):
    """Regression (issue 11's sweep): a ledger migrated by a newer openheg gave
    Alembic's own error, not a ledger error (the CLI printed an internal error)."""
    Ledger(database_url).close()
    ledger = Ledger(database_url)
    with ledger.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    ledger.close()
    with pytest.raises(LedgerError, match="revision 9999.*newer than this openheg"):
        Ledger(database_url)


def test_a_ledger_path_in_a_folder_that_does_not_exist_is_refused(tmp_path):
    """Regression (issue 11's sweep): --ledger /nonexistent/dir/x.sqlite made the
    folders and reported an empty ledger; a mistyped path must be an error."""
    with pytest.raises(LedgerError, match="no folder"):
        Ledger(tmp_path / "missing" / "x.sqlite")
    assert not (tmp_path / "missing").exists()


def _open_files(path):
    fds = Path("/proc/self/fd")
    return [fd for fd in fds.iterdir() if _target(fd) == str(path)]


def _target(fd):
    try:
        return os.readlink(fd)
    except OSError:  # the fd listing itself, closed by the time it is read
        return None


def test_a_ledger_that_fails_to_open_leaves_no_connection_open(tmp_path):
    """Regression: a Ledger refused at start (here: a schema newer than this
    openheg) kept its engine's pooled connection, one open file per attempt in a
    long-lived service that retries."""
    path = tmp_path / "newer.sqlite"
    ledger = Ledger(path)
    with ledger.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    ledger.close()
    assert _open_files(path) == []
    for _ in range(3):
        with pytest.raises(LedgerError, match="newer than this openheg"):
            Ledger(path)
    assert _open_files(path) == []


def _attesting(counter: int, consumed: int, workload_msflop: int) -> bytes:
    body = replace(Attestation.from_bytes(attestation(counter, consumed, CHAIN_START)),
                   workload_msflop=workload_msflop)
    return replace(body, signature=DEVICE.sign_record(RecordType.ATTESTATION,
                                                      body.body())).to_bytes()


def test_metered_credits_the_most_a_device_attested_whatever_came_after(database_url):
    """The operator sends, after a report attesting a large workload total, newer
    ones attesting less (a count rolled back, a smaller figure under a higher
    counter): the ledger still credits the most any report attested, and the
    usage of the newest report. The totals are compared in SQL, as the
    fixed-width strings they are stored as: 9 is not more than 10**30 there."""
    ledger = Ledger(database_url)
    license_ = replace(_license(1, 2), license_id=LICENSE_ID)
    ledger.record_license(license_)
    workload = license_.workload_id.hex()
    ledger.record_attestations([_attesting(1, 10**6, 10**30)], received_at=100)
    ledger.record_attestations([_attesting(2, 10**5, 9), _attesting(3, 7, 10**3)],
                               received_at=200)
    device = DEVICE.public_key.hex()
    [usage] = ledger.usage(workload)
    assert (usage.device_id, usage.consumed_msflop) == (device, 7)  # the newest report's
    assert ledger.metered(workload) == {device: 10**30}
    assert ledger.metered("00" * 16) == {}  # another workload's licenses: nothing of this one
    ledger.close()


def _extreme_report(key: SigningKey, nonce: bytes) -> bytes:
    """A report whose every wide field is at or near its limit (u128 and u64
    maxima, a closed gate with causes, digests of every byte value)."""
    body = Attestation(
        device_id=key.public_key, nonce=nonce, firmware_measurement=bytes(range(32)),
        policy_version=(1 << 32) - 1, license_id=bytes(range(200, 216)),
        license_sequence=U64_MAX, lane_ops=(0, 1, (1 << 64), (1 << 128) - 1, 5, 6),
        consumed_msflop=(1 << 128) - 1, remaining_msflop=(1 << 64),
        gate_state=GateState.CLOSED, gate_causes=GateCause.TAMPER | GateCause.EXHAUSTED,
        report_counter=U64_MAX, reset_count=(1 << 32) - 1, log_head=bytes(range(255, 223, -1)),
        policy_digest=b"\xff" * 32, workload_msflop=(1 << 128) - 2, retired_msflop=1 << 127)
    return replace(body, signature=key.sign_record(RecordType.ATTESTATION, body.body())
                   ).to_bytes()


def test_the_batch_path_stores_what_the_single_insert_stores(database_url):
    """record_answers (on PostgreSQL one COPY) and record_attestations (an
    INSERT) store a report's every column alike, wide values exactly."""
    ledger = Ledger(database_url)
    key = SigningKey(b"\x31" * 32)
    endorsement = endorse_device(Role(Path("."), SigningKey(b"\x32" * 32)), key.public_key)
    batch_nonce, single_nonce = b"\x01" * 32, b"\x02" * 32
    ledger.issue_nonce(key.public_key, batch_nonce, 1000, 3600)
    batched, single = _extreme_report(key, batch_nonce), _extreme_report(key, single_nonce)
    answers = ledger.record_answers([(batched, VerifiedAttestation(
        decode_attestation(batched), endorsement, None))], 1000)
    assert answers.outcomes == [True]
    assert ledger.record_attestations([single], received_at=1000) == [True]
    rows = {row.record: row for row in ledger.attestations()}
    assert set(rows) == {batched, single}
    columns = [c.name for c in AttestationRow.__table__.columns
               if c.name not in ("id", "record_sha256", "record", "nonce")]
    assert ({c: getattr(rows[batched], c) for c in columns}
            == {c: getattr(rows[single], c) for c in columns})
    for data, nonce in ((batched, batch_nonce), (single, single_nonce)):
        row, report = rows[data], Attestation.from_bytes(data)
        assert row.record_sha256 == hashlib.sha256(data).hexdigest()
        assert row.nonce == nonce.hex()
        assert (row.consumed_msflop, row.remaining_msflop, row.workload_msflop,
                row.retired_msflop, row.report_counter) == (
            report.consumed_msflop, report.remaining_msflop, report.workload_msflop,
            report.retired_msflop, report.report_counter)


def test_a_copy_that_meets_a_stored_row_records_nothing(postgres):
    """COPY has no ON CONFLICT: a row already stored fails the whole
    transaction, as a LedgerError, with nothing of it written."""
    ledger = Ledger(postgres.create_database("copy_conflict"))
    first, second = attestation(1, 1000, CHAIN_START), attestation(2, 2000, CHAIN_START)
    assert ledger.record_attestations([first]) == [True]
    rows = _attestation_rows([(second, Attestation.from_bytes(second)),
                              (first, Attestation.from_bytes(first))], 5)
    with pytest.raises(LedgerError, match="refused the write"):
        with ledger.session() as s:
            _copy_rows(s, AttestationRow.__table__, rows)
    assert [row.record for row in ledger.attestations()] == [first]


def test_set_many_writes_each_rows_own_values_and_no_other_row(database_url):
    """_set_many (one UPDATE joined to arrays on PostgreSQL): each key's row gets
    exactly its own values, whatever they hold (bytes with commas, zeros or none,
    text with commas and quotes, ints past 32 bits), in any key order; a row not
    named keeps its values."""
    ledger = Ledger(database_url)
    table = SeriesStateRow.__table__
    devices = [f"{i:064x}" for i in range(4)]
    with ledger.session() as s:
        s.execute(table.insert(), [{"device_id": d, "reports": 7, "last_record": b"keep",
                                    "anomalies": "keep"} for d in devices])
    named = [devices[2], devices[0], devices[3]]
    records = [b"a,b\x00", b"", bytes(range(256))]
    texts = ['{"a": [1, 2], "b": "x,y"}', "", 'back\\slash "q" NULL']
    counts = [2**40, 0, 1]
    with ledger.session() as s:
        _set_many(s, table.c.device_id, named, {table.c.last_record: records,
                                                table.c.anomalies: texts,
                                                table.c.reports: counts})
    with ledger.session() as s:
        rows = {row.device_id: (row.last_record, row.anomalies, row.reports)
                for row in s.execute(select(table))}
    assert rows == {**{d: (r, t, c) for d, r, t, c in zip(named, records, texts, counts)},
                    devices[1]: (b"keep", "keep", 7)}


def test_a_batchs_nonces_are_answered_in_place(postgres):
    """On PostgreSQL the nonces a batch answers are updated in their pages
    (heap-only tuples: no index touched), every row of a page answered, the
    room for it left by migration 0012; on full pages each answer also wrote
    every index of the table. Counted in the answering transaction itself
    (pg_stat_get_xact_*), in two batches, as the service answers them."""
    ledger = Ledger(postgres.create_database("update_room"))
    nonces = [os.urandom(32).hex() for _ in range(600)]
    for nonce in nonces:
        ledger.issue_nonce(DEVICE.public_key, bytes.fromhex(nonce), 0, 60)
    table = NonceRow.__table__

    def updates(s) -> list[int]:  # all of them, and those in place
        return [s.scalar(text(f"SELECT pg_stat_get_xact_tuples_{what}('nonces'::regclass)"))
                for what in ("updated", "hot_updated")]

    for batch in (nonces[:300], nonces[300:]):
        with ledger.session() as s:
            before = updates(s)
            _set_many(s, table.c.nonce, batch,
                      {table.c.answered_by: [hashlib.sha256(n.encode()).hexdigest()
                                             for n in batch]})
            assert [after - was for after, was in zip(updates(s), before)] == [300, 300]


def test_a_text_array_parameter_is_exactly_its_values(postgres):
    """_text_array sends hex keys as one comma-joined string split by the
    server, anything else as psycopg's array: either way the server sees
    exactly the values given, in order (no value split, dropped or made NULL)."""
    ledger = Ledger(postgres.create_database("text_array"))
    for values in ([], ["ab" * 32], [os.urandom(32).hex() for _ in range(500)], ["a,b", "c"],
                   ["", "x"], [""], ["x", ""], ["{}", '"q"', "NULL", "back\\slash", "sp ace"]):
        with ledger.session() as s:
            assert list(s.scalars(select(func.unnest(_text_array(values))))) == values, values
