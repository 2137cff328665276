"""The ledger: devices, workloads, licenses, orders, attestations and event logs.

One schema behind SQLAlchemy: an embedded SQLite file by default, or a
PostgreSQL database (``postgresql://`` URLs, through psycopg 3) for a national
registry. Opening a ledger brings its schema to the newest migration
(Alembic); on PostgreSQL the migration holds a transaction-level advisory lock,
so processes opening one fresh ledger at once migrate it once, one after the
other. Writers are safe to run concurrently: on SQLite every write transaction
starts with ``BEGIN IMMEDIATE`` in WAL mode and waits on a busy timeout, so two
writers serialise instead of failing; records are keyed by their content (an
attestation by the hash of its bytes) and written with ``INSERT ... ON CONFLICT
DO NOTHING``, so recording the same thing twice, even from two writers at the
same instant under PostgreSQL's READ COMMITTED, is a no-op rather than a
duplicate or an error.

Per-workload totals are computed from the newest attestation of each
(device, license), never kept as a running sum that two writers could race on.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.sql
from sqlalchemy import (LargeBinary, String, Text, any_, bindparam, create_engine, event, func,
                        literal_column, select, text, update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased, sessionmaker

from ..errors import OpenhegError
from ..series import (Anomaly, LogRead, LogRecord, ReplacedLicense, Report, SeriesResult,
                      SeriesTally, check_series)
from ..verify import VerifiedAttestation, decode_attestation
from ..wire import (ORDER_LIFETIME_S, Attestation, Endorsement, EventType, License, Order,
                    SignerRole)
from .schema import (
    AttestationRow,
    DeviceRow,
    FleetOrderRow,
    IssuedOrderRow,
    LicenseRow,
    LogAnchorRow,
    LogEntryRow,
    NonceRow,
    OrderRow,
    SeriesStateRow,
    WorkloadRow,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0012"
BUSY_TIMEOUT_S = 30
# pg_advisory_xact_lock key of the migration: any fixed 64-bit number, the same
# in every process ("openheg\x00" as a big-endian integer).
MIGRATION_LOCK_KEY = 0x6F70656E68656700
# The signer-role column of a fleet order (wire.FLEET_ORDER_KINDS): a board
# order with its own counter on the device, so its sequences are not the
# board's per-device ones. Issued fleet orders are keyed by the digest of the
# policy they are bound to (in the device-id column): they count per policy.
FLEET_ROLE = "FLEET"
# Rows whose primary key is a surrogate id are known by these unique columns.
NATURAL_KEYS = {AttestationRow: ["record_sha256"],
                OrderRow: ["device_id", "signer_role", "sequence"]}
# How a SeriesStateRow encodes its SeriesTally; a row of another version is no
# state (the full check runs and writes it anew). Raise it whenever the
# encoding or what SeriesTally checks changes.
SERIES_STATE_VERSION = 1


class LedgerError(OpenhegError):
    """The ledger cannot be opened, migrated or written as asked."""


class NonceRefused(LedgerError):
    """An attestation answers a nonce the verifier cannot accept for it."""


class FleetOrderRefused(LedgerError):
    """A fleet order whose sequence is not above every one recorded for its
    policy: a replayed or older order, which no device would take either."""


@dataclass(frozen=True)
class RecordedAnswers:
    """What Ledger.record_answers did: for each attestation, in order, True
    (recorded now), False (recorded before) or the NonceRefused; and the series
    check of each device it recorded for, as its transaction left the ledger."""

    outcomes: list
    series: dict[str, SeriesResult]


def ledger_url(value: str | Path) -> str:
    """A SQLAlchemy URL: a path is an SQLite file; ``postgresql://`` and
    ``postgres://`` use psycopg 3 (the driver openheg installs)."""
    text = str(value)
    if "://" not in text:
        return f"sqlite:///{Path(text).resolve()}"
    scheme, rest = text.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return text


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Take the write lock up front: no deadlock between two readers that
        # both want to upgrade to writers later in the transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True)
class DeviceReports:
    """One device's reports as the ledger holds them: how many, and the newest by
    report counter (the first received of equal counters), or None for a device
    registered but never reported."""

    device_id: str
    reports: int
    newest: AttestationRow | None


@dataclass(frozen=True)
class DeviceUsage:
    device_id: str
    license_id: str
    allocation_msflop: int
    consumed_msflop: int
    last_report_at: int | None
    revoked: bool


class Ledger:
    def __init__(self, url: str | Path, *, create_folder: bool = False,
                 must_exist: bool = False):
        """``create_folder``: make an SQLite file's folder when it does not exist
        (the default ledger under $OPENHEG_HOME); otherwise a missing folder is a
        mistyped path, refused rather than made. ``must_exist``: refuse an SQLite
        file that does not exist (a command that only reads must not make an
        empty ledger and report that nothing was recorded)."""
        self.url = ledger_url(url)
        try:
            if self.url.startswith("sqlite"):
                path = self.url.split("///", 1)[-1]
                if path and path != ":memory:":
                    if create_folder:
                        Path(path).parent.mkdir(parents=True, exist_ok=True)
                    elif not Path(path).parent.is_dir():
                        raise LedgerError(f"cannot open ledger {self.url}: there is no folder "
                                          f"{Path(path).parent} (a mistyped --ledger path?)")
                    if must_exist and not Path(path).is_file():
                        raise LedgerError(f"cannot open ledger {self.url}: there is no ledger "
                                          f"at {path} (a mistyped --ledger path? "
                                          "`openheg ledger migrate` makes a new one)")
                self.engine = _sqlite_engine(self.url)
            elif self.url.split("+", 1)[0].split(":", 1)[0] == "postgresql":
                self.engine = create_engine(self.url, pool_pre_ping=True)
            else:
                raise LedgerError(f"cannot open ledger {self.url}: the ledger runs on "
                                  "SQLite (a file path or sqlite:///PATH) or PostgreSQL "
                                  "(postgresql://USER@HOST:PORT/DB)")
            self.migrate()
        except BaseException as error:
            # A ledger refused at start holds no connection: a service that retries
            # must not leak one open file or socket per attempt.
            engine = getattr(self, "engine", None)
            if engine is not None:
                engine.dispose()
            if isinstance(error, (SQLAlchemyError, OSError)):
                raise LedgerError(f"cannot open ledger {self.url}: {_one_line(error)}") from None
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self, revision: str = "head", *, downgrade: bool = False) -> None:
        """Bring the schema up to ``revision`` (or, with ``downgrade``, back down
        to it: for tests of the migrations and for a rollback by hand)."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.util.exc import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held to the end of this transaction: a second process opening the
                # same fresh ledger waits here, then finds it migrated.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK_KEY})
            config.attributes["connection"] = connection
            try:
                (command.downgrade if downgrade else command.upgrade)(config, revision)
            except CommandError as error:
                found = MigrationContext.configure(connection).get_current_revision()
                if found not in _known_revisions():
                    raise LedgerError(f"cannot migrate ledger {self.url}: it is at revision "
                                      f"{found}, newer than this openheg knows (its newest "
                                      f"is {HEAD_REVISION}): use the openheg that wrote it, "
                                      "or a newer one") from None
                raise LedgerError(f"cannot migrate ledger {self.url}: {error}") from None

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except IntegrityError as error:
            raise LedgerError(f"ledger refused the write: {_one_line(error)}") from None
        except OperationalError as error:
            raise LedgerError(f"ledger {self.url} failed: {_one_line(error)}") from None
        finally:
            session.close()

    # ---------------------------------------------------------------- writes
    # Every write inserts with ON CONFLICT DO NOTHING and reports whether its row
    # is new: a select-then-insert raced under READ COMMITTED (two writers both
    # saw no row, the second insert failed with "duplicate key").
    def _insert_new(self, s: Session, row_type, **values) -> bool:
        return self._insert_new_rows(s, row_type, [values])[0]

    def _insert_new_rows(self, s: Session, row_type, rows: list[dict]) -> list[bool]:
        """Insert rows of one table in one statement; for each, whether it is new
        (False: stored before, or an earlier row of this call has its key)."""
        table = row_type.__table__
        key = NATURAL_KEYS.get(row_type) or [c.name for c in table.primary_key.columns]
        dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
        # RETURNING the keys of the rows inserted, not rowcount: with an implicit
        # RETURNING of the row id, psycopg reports no row count.
        statement = (dialect.insert(table).on_conflict_do_nothing()
                     .returning(*(table.c[name] for name in key)))
        inserted = {tuple(row) for row in s.execute(statement, rows)}
        new = []
        for values in rows:
            row_key = tuple(values[name] for name in key)  # hex strings and ints
            new.append(row_key in inserted)
            inserted.discard(row_key)
        return new

    def record_device(self, endorsement: Endorsement, url: str | None = None) -> None:
        self.record_devices([(endorsement, url)])

    def record_devices(self, devices: Sequence[tuple[Endorsement, str | None]]) -> None:
        """(endorsement, url) of each device, in one transaction: a fleet's
        devices cost one commit, not one each (a commit waits for the disk)."""
        with self.session() as s:
            for endorsement, url in devices:
                new = self._insert_new(s, DeviceRow, device_id=endorsement.device_id.hex(),
                                       url=url, vendor_key=endorsement.vendor_key.hex(),
                                       endorsement=endorsement.to_bytes(), recorded_at=_now())
                if not new and url:
                    s.get(DeviceRow, endorsement.device_id.hex()).url = url

    def record_workload(self, name: str, workload_id: bytes, planned_msflop: int,
                        lineage_msflop: int, license_class: str) -> None:
        with self.session() as s:
            self._insert_new(s, WorkloadRow, workload_id=workload_id.hex(), name=name,
                             planned_msflop=planned_msflop, lineage_msflop=lineage_msflop,
                             license_class=license_class, recorded_at=_now())
            row = s.get(WorkloadRow, workload_id.hex())
            if row is None:
                raise LedgerError(f"workload name {name!r} is already recorded for another "
                                  "workload id")
            if (row.planned_msflop, row.lineage_msflop) != (planned_msflop, lineage_msflop):
                raise LedgerError(f"workload {name} is already recorded with other totals")

    def record_license(self, license_: License) -> None:
        self.record_licenses([license_])

    def record_licenses(self, licenses: Sequence[License]) -> None:
        """Licenses in one transaction (as record_devices)."""
        with self.session() as s:
            for license_ in licenses:
                self._insert_new(
                    s, LicenseRow, license_id=license_.license_id.hex(),
                    device_id=license_.device_id.hex(), workload_id=license_.workload_id.hex(),
                    sequence=license_.sequence, license_class=license_.license_class.name,
                    allocation_msflop=license_.allocation_msflop,
                    not_before=license_.not_before, not_after=license_.not_after,
                    record=license_.to_bytes())

    def revoke_license(self, license_id: bytes, reason: str) -> LicenseRow:
        with self.session() as s:
            row = s.get(LicenseRow, license_id.hex())
            if row is None:
                raise LedgerError(f"license {license_id.hex()} is not in the ledger")
            if row.revoked_at is None:
                row.revoked_at, row.revoked_reason = _now(), reason
            return row

    def record_order(self, order: Order, device_id: bytes | None = None) -> None:
        """Note an order as delivered to its device; a fleet order names none,
        so ``device_id`` says which device it was delivered to."""
        self.record_orders([(order, device_id)])

    def record_orders(self, orders: Sequence[tuple[Order, bytes | None]]) -> None:
        """(order, device it was delivered to) of each, in one transaction (as
        record_devices): a site's halt is one order per chip."""
        for order, device_id in orders:
            if order.fleet == (device_id is None):
                raise LedgerError("a fleet order is recorded for the device it was delivered "
                                  "to (give its id); a per-device order names its own")
        with self.session() as s:
            self._clear_series(s, ((device_id or order.device_id).hex()
                                   for order, device_id in orders))
            for order, device_id in orders:
                self._insert_new(s, OrderRow, device_id=(device_id or order.device_id).hex(),
                                 order_kind=order.order_kind.name,
                                 signer_role=(FLEET_ROLE if order.fleet
                                              else SignerRole(order.signer_role).name),
                                 sequence=order.sequence, license_id=order.license_id.hex(),
                                 license_sequence=order.license_sequence,
                                 workload_id=order.workload_id.hex(),
                                 issued_at=order.issued_at, record=order.to_bytes())

    def record_attestation(self, data: bytes, received_at: int | None = None) -> bool:
        """Store a verified attestation's exact bytes; False if already stored."""
        return self.record_attestations([data], received_at) == [True]

    def record_attestations(self, records: list[bytes],
                            received_at: int | None = None) -> list[bool]:
        """Store verified attestations' exact bytes in one transaction: all of
        them or, if the write fails or the writer dies, none. For each, False if
        it was stored already (by an earlier call, another writer, or earlier in
        this batch)."""
        parsed = [(bytes(data), decode_attestation(data)) for data in records]
        if not parsed:
            return []
        with self.session() as s:
            self._clear_series(s, (att.device_id.hex() for _, att in parsed))
            return self._insert_new_rows(s, AttestationRow, _attestation_rows(
                parsed, _now() if received_at is None else received_at))

    def record_answers(self, answers: Sequence[tuple[bytes, VerifiedAttestation]],
                       now: int) -> RecordedAnswers:
        """Record verified attestations, each answering the nonce it carries, in
        one transaction: a nonce is consumed exactly when its attestation is
        recorded, and if the write fails or the writer dies, none of the batch
        is (nor any nonce of it). ``answers``: each attestation's exact bytes
        and what openheg.verify.verify_attestation made of them (the decoded
        report and its device's endorsement).

        For each, in order: True if recorded now, False if it was recorded
        before (a resent attestation over its live nonce), or the NonceRefused
        that says why its nonce cannot be answered by it (answer_nonce's rules;
        an earlier attestation of the batch counts as answering first).

        Nonce rows are locked (FOR UPDATE on PostgreSQL, in nonce order so two
        batches never wait on each other in a cycle; SQLite's BEGIN IMMEDIATE
        locks the whole file): of two writers answering one nonce at once, the
        second waits, then sees the first one's answer. Then each device's
        series lock, in device order: the series check of each device
        (``series``) is made in this transaction, from the device's series
        state and the reports recorded now (_advance_series), and the state
        it leaves is written here too, so it never runs ahead of the rows."""
        parsed = [(bytes(data), verified.attestation, verified.endorsement)
                  for data, verified in answers]
        if not parsed:
            return RecordedAnswers([], {})
        digests = [hashlib.sha256(data).hexdigest() for data, _, _ in parsed]
        with self.session() as s:
            nonces = sorted({att.nonce.hex() for _, att, _ in parsed})
            table = NonceRow.__table__
            rows = {row.nonce: row for row in s.execute(
                select(table.c.nonce, table.c.device_id, table.c.expires_at,
                       table.c.answered_by).where(_among(s, table.c.nonce, nonces))
                .order_by(table.c.nonce).with_for_update())}
            answered_now: dict[str, str] = {}  # nonce -> digest, earlier in this batch
            outcomes: list[bool | NonceRefused] = []
            accepted = []
            for (data, att, endorsement), digest in zip(parsed, digests):
                nonce = att.nonce.hex()
                row = rows.get(nonce)
                refusal = _nonce_refusal(row, att.device_id.hex(), digest, now,
                                         answered_now.get(nonce))
                if refusal is not None:
                    outcomes.append(NonceRefused(refusal))
                    continue
                if row.answered_by is None and nonce not in answered_now:
                    answered_now[nonce] = digest
                outcomes.append(True)
                accepted.append((data, att, endorsement))
            if answered_now:
                _set_many(s, table.c.nonce, list(answered_now),
                          {table.c.answered_by: list(answered_now.values())})
            if accepted:
                devices = {e.device_id.hex(): e for _, _, e in accepted}
                # Devices already recorded are not encoded and sent again; one
                # first recorded at this instant by another writer is a no-op.
                known = set(s.scalars(select(DeviceRow.device_id).where(
                    _among(s, DeviceRow.device_id, sorted(devices)))))
                fresh = [dict(device_id=device, url=None, vendor_key=e.vendor_key.hex(),
                              endorsement=e.to_bytes(), recorded_at=now)
                         for device, e in sorted(devices.items()) if device not in known]
                if fresh:
                    self._insert_new_rows(s, DeviceRow, fresh)
                states = self._lock_series(s, sorted(devices))
                rows = _attestation_rows([(data, att) for data, att, _ in accepted], now)
                inserted = self._insert_attestations(s, rows)
                new_reports: dict[str, list[tuple[int, Report, bytes]]] = {}
                new = []
                for row, (data, att, _) in zip(rows, accepted):
                    row_id = inserted.pop(row["record_sha256"], None)
                    new.append(row_id is not None)
                    if row_id is not None:
                        new_reports.setdefault(row["device_id"], []).append(
                            (row_id, Report(att, now), data))
                series = self._advance_series(s, states, new_reports, now)
                answered = iter(new)
                outcomes = [next(answered) if outcome is True else outcome
                            for outcome in outcomes]
                return RecordedAnswers(outcomes, series)
        return RecordedAnswers(outcomes, {})

    def _insert_attestations(self, s: Session, rows: list[dict]) -> dict[str, int]:
        """Insert the attestation rows not stored yet, of devices whose series
        locks this transaction holds; the row id of each inserted, by digest.

        Under those locks nobody else writes these devices' attestations, so
        what is stored is read first and the rest inserted without a conflict
        clause: on PostgreSQL as one COPY (_copy_rows), on SQLite with an
        executemany. An INSERT ... RETURNING of the batch is one statement of
        thousands of parameters, which psycopg parses anew on every batch; an
        executemany, even prepared and pipelined, is an INSERT per row for the
        server."""
        table = AttestationRow.__table__
        digests = [row["record_sha256"] for row in rows]
        stored = set(s.scalars(select(table.c.record_sha256)
                               .where(_among(s, table.c.record_sha256, digests))))
        fresh: dict[str, dict] = {}
        for row in rows:
            if row["record_sha256"] not in stored:
                fresh.setdefault(row["record_sha256"], row)
        if not fresh:
            return {}
        if s.get_bind().dialect.name == "postgresql":
            _copy_rows(s, table, list(fresh.values()))
        else:
            s.execute(sqlite.insert(table).on_conflict_do_nothing(), list(fresh.values()))
        return dict(s.execute(select(table.c.record_sha256, table.c.id)
                              .where(_among(s, table.c.record_sha256, list(fresh)))).all())

    # ---------------------------------------------------------- series state
    def _lock_series(self, s: Session, devices: list[str]) -> dict[str, object]:
        """Take each device's series lock (its SeriesStateRow FOR UPDATE, made
        empty first where missing), in device order; the rows' columns. Of two
        writers of one device's series, the second waits here until the first
        commits, then reads what it left."""
        table = SeriesStateRow.__table__
        if s.get_bind().dialect.name == "postgresql":
            # One statement over the devices as an array, not one per device.
            s.execute(postgresql.insert(table).from_select(
                ["device_id"], select(func.unnest(_text_array(devices))))
                .on_conflict_do_nothing())
        else:
            s.execute(sqlite.insert(table).on_conflict_do_nothing(),
                      [{"device_id": device} for device in devices])
        return {row.device_id: row for row in s.execute(
            select(table).where(_among(s, table.c.device_id, devices))
            .order_by(table.c.device_id).with_for_update())}

    def _clear_series(self, s: Session, devices: Iterable[str]) -> None:
        """Drop the series state of each device (under its lock), in a
        transaction that writes what the series check reads other than by
        record_answers: the next batch runs the full check."""
        devices = sorted(set(devices))
        if not devices:
            return
        self._lock_series(s, devices)
        table = SeriesStateRow.__table__
        s.execute(update(table).where(_among(s, table.c.device_id, devices)).values(
            check_version=None, reports=None, last_id=None, last_received_at=None,
            last_record=None, anomalies=None))

    def _advance_series(self, s: Session, states: dict, new_reports: dict[str, list],
                        now: int) -> dict[str, SeriesResult]:
        """Each locked device's series check. Where its state is usable (of this
        SERIES_STATE_VERSION, and every report recorded now sorts after the last
        it covers, as check_series orders them: by arrival time, then row id),
        only the new reports are checked against it; otherwise the device's whole
        history is read and checked (check_series, the reference). A device with
        no log read and no order recorded then keeps a state; any other is
        checked in full each time."""
        results: dict[str, SeriesResult] = {}
        # Per device kept: the tally, then the highest row id and arrival time it
        # covers and the bytes of its last report.
        kept: dict[str, tuple[SeriesTally, int, int, bytes]] = {}
        full = []
        for device, state in states.items():
            tally = _tally_of(state)
            fresh = sorted(new_reports.get(device, []), key=lambda item: item[0])
            if tally is None or (fresh and (now < state.last_received_at
                                            or fresh[0][0] <= state.last_id)):
                full.append(device)
                continue
            for _, report, _ in fresh:
                tally.add(report)
            kept[device] = ((tally, fresh[-1][0], now, fresh[-1][2]) if fresh else
                            (tally, state.last_id, state.last_received_at, state.last_record))
        for device, inputs in self._series_inputs(s, full).items():
            # A fleet order owed is checked against the log alone (reports attest
            # no fleet counter: series._check_fleet_order), so without a log it
            # changes nothing and the device may keep a state.
            if inputs.log or any(not order.fleet for order in inputs.orders):
                results[device] = inputs.check()
                continue
            tally = SeriesTally(device)
            # check_series's order: by arrival time, stable over the rows' order.
            ordered = sorted(range(len(inputs.reports)),
                             key=lambda i: inputs.reports[i].received_at)
            for i in ordered:
                tally.add(inputs.reports[i])
            if ordered:
                kept[device] = (tally, max(inputs.row_ids), inputs.reports[ordered[-1]].received_at,
                                inputs.records[ordered[-1]])
            else:
                results[device] = tally.unlogged_result()
        table = SeriesStateRow.__table__
        if kept:
            devices = sorted(kept)
            states = [kept[device] for device in devices]
            _set_many(s, table.c.device_id, devices, {
                table.c.check_version: [SERIES_STATE_VERSION] * len(devices),
                table.c.reports: [tally.reports for tally, _, _, _ in states],
                table.c.last_id: [last_id for _, last_id, _, _ in states],
                table.c.last_received_at: [last_at for _, _, last_at, _ in states],
                table.c.last_record: [record for _, _, _, record in states],
                table.c.anomalies: [_tally_json(tally) for tally, _, _, _ in states]})
        results.update((device, tally.unlogged_result())
                       for device, (tally, _, _, _) in kept.items())
        return results

    def record_log(self, device_id: bytes, read: LogRead,
                   after_attestation: bytes | None = None) -> list[str]:
        """Store what one read of the device's log gave: its entries and the head
        before the first of them. ``after_attestation``: the attestation (its
        exact bytes, already recorded) the log was read right after.

        Returns conflicts: an index stored before with other content, or another
        head before the same index than one stored before."""
        conflicts = []
        device = device_id.hex()
        with self.session() as s:
            self._clear_series(s, [device])
            for entry in read.entries:
                if self._insert_new(s, LogEntryRow, device_id=device, entry_index=entry.index,
                                    event_type=entry.event_type, payload=entry.payload):
                    continue
                row = s.get(LogEntryRow, (device, entry.index))
                if (row.event_type, row.payload) != (entry.event_type, entry.payload):
                    conflicts.append(f"log entry {entry.index} differs from the one stored")
            if read.anchor is not None:
                index, head = read.anchor
                heads = set(s.scalars(select(LogAnchorRow.head_before).where(
                    LogAnchorRow.device_id == device, LogAnchorRow.entry_index == index)))
                if heads - {head.hex()}:
                    conflicts.append(f"the head before log entry {index} differs from the "
                                     "one stored")
                self._insert_new(s, LogAnchorRow, device_id=device, entry_index=index,
                                 head_before=head.hex())
            if after_attestation is not None:
                digest = hashlib.sha256(after_attestation).hexdigest()
                row = s.scalar(select(AttestationRow).where(
                    AttestationRow.record_sha256 == digest))
                if row is None:
                    raise LedgerError("record the attestation before the log read after it")
                row.log_length_after = read.next_index
        return conflicts

    def record_issued_order(self, device_id: bytes, role: SignerRole | str, sequence: int,
                            order_kind: str) -> bool:
        """Note an order sequence as issued for (device, role); False if it was
        issued before (an order numbered twice by hand). A fleet order: role
        FLEET_ROLE, ``device_id`` the digest of the policy it is bound to."""
        with self.session() as s:
            return self._insert_new(s, IssuedOrderRow, device_id=device_id.hex(),
                                    signer_role=getattr(role, "name", role), sequence=sequence,
                                    order_kind=order_kind, issued_at=_now())

    def highest_issued_order(self, device_id: bytes, role: SignerRole | str) -> int:
        """The highest order sequence issued or recorded for (device, role); 0:
        none. A fleet order: role FLEET_ROLE, ``device_id`` its policy's digest
        (what was issued under that policy)."""
        name = getattr(role, "name", role)
        with self.session() as s:
            issued = [r for r in s.scalars(select(IssuedOrderRow.sequence).where(
                IssuedOrderRow.device_id == device_id.hex(),
                IssuedOrderRow.signer_role == name))]
            sent = [r for r in s.scalars(select(OrderRow.sequence).where(
                OrderRow.device_id == device_id.hex(), OrderRow.signer_role == name))]
        return max(issued + sent, default=0)

    def record_fleet_order(self, order: Order, signers: Iterable[bytes], now: int) -> bool:
        """Record a fleet order the caller verified against its policy, with the
        board keys whose signatures it bears; False if these exact bytes are the
        newest recorded for its policy (a resent request). FleetOrderRefused if
        its sequence is not above every one recorded for its policy otherwise (a
        replay of an order since superseded, or an order older than the newest):
        the check and the insert are one transaction, serialised per policy
        (SQLite's write lock; on PostgreSQL an advisory lock on the digest), so
        two orders posted at once cannot both pass it."""
        if not order.fleet:
            raise LedgerError("a per-device order is recorded as delivered to its device "
                              "(record_order), not as a fleet order")
        digest, data = order.policy_digest.hex(), order.to_bytes()
        with self.session() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                          {"key": int.from_bytes(order.policy_digest[:8], "big", signed=True)})
            highest = s.scalar(select(func.max(FleetOrderRow.sequence))
                               .where(FleetOrderRow.policy_digest == digest))
            if highest is not None and int(highest) == order.sequence and data == s.scalar(
                    select(FleetOrderRow.record).where(FleetOrderRow.policy_digest == digest,
                                                       FleetOrderRow.sequence == highest)):
                return False
            if highest is not None and int(highest) >= order.sequence:
                raise FleetOrderRefused(
                    f"fleet order sequence {order.sequence} of policy {digest[:16]}... is not "
                    f"above the highest recorded for that policy ({int(highest)}): a replayed "
                    "or older order, which every device refuses too; the board signs the next "
                    f"with sequence {int(highest) + 1} or more")
            self._insert_new(s, FleetOrderRow, policy_digest=digest, sequence=order.sequence,
                             order_kind=order.order_kind.name, issued_at=order.issued_at,
                             signers=",".join(sorted(k.hex() for k in signers)), record=data,
                             recorded_at=now)
        return True

    def issue_nonce(self, device_id: bytes, nonce: bytes, now: int, lifetime_s: int) -> int:
        """Record a fresh nonce for one device; returns its expiry."""
        with self.session() as s:
            s.add(NonceRow(nonce=nonce.hex(), device_id=device_id.hex(), issued_at=now,
                           expires_at=now + lifetime_s))
        return now + lifetime_s

    def answer_nonce(self, nonce: bytes, device_id: bytes, record_sha256: str,
                     now: int) -> None:
        """Mark a nonce answered by one attestation, or raise NonceRefused: a
        nonce this verifier never issued, issued for another device, expired
        (at ``now``), or already answered by another attestation. Answering it
        again with the same attestation, while the nonce is live, is a no-op (a
        resent request); after it expired it is refused like any stale report,
        or a report kept from long ago would be affirmed again as of now."""
        with self.session() as s:
            row = s.get(NonceRow, nonce.hex(), with_for_update=True)
            refusal = _nonce_refusal(row, device_id.hex(), record_sha256, now)
            if refusal is not None:
                raise NonceRefused(refusal)
            row.answered_by = record_sha256

    # ----------------------------------------------------------------- reads
    def devices(self) -> list[DeviceRow]:
        with self.session() as s:
            return list(s.scalars(select(DeviceRow).order_by(DeviceRow.device_id)))

    def workloads(self) -> list[WorkloadRow]:
        with self.session() as s:
            return list(s.scalars(select(WorkloadRow).order_by(WorkloadRow.name)))

    def workload(self, name: str) -> WorkloadRow:
        with self.session() as s:
            row = s.scalar(select(WorkloadRow).where(WorkloadRow.name == name))
        if row is None:
            raise LedgerError(f"workload {name!r} is not in the ledger")
        return row

    def licenses(self, workload_id: str | None = None) -> list[LicenseRow]:
        with self.session() as s:
            query = select(LicenseRow).order_by(LicenseRow.device_id, LicenseRow.sequence)
            if workload_id is not None:
                query = query.where(LicenseRow.workload_id == workload_id)
            return list(s.scalars(query))

    def license(self, license_id: str) -> LicenseRow:
        with self.session() as s:
            row = s.get(LicenseRow, license_id)
        if row is None:
            raise LedgerError(f"license {license_id} is not in the ledger")
        return row

    def orders(self, device_id: str | None = None) -> list[OrderRow]:
        with self.session() as s:
            query = select(OrderRow).order_by(OrderRow.device_id, OrderRow.signer_role,
                                              OrderRow.sequence)
            if device_id is not None:
                query = query.where(OrderRow.device_id == device_id)
            return list(s.scalars(query))

    def fleet_orders(self, policy_digest: str | None = None) -> list[FleetOrderRow]:
        """The recorded fleet orders (of one policy, by its digest in hex), by
        policy then sequence."""
        with self.session() as s:
            query = select(FleetOrderRow).order_by(FleetOrderRow.policy_digest,
                                                   FleetOrderRow.sequence)
            if policy_digest is not None:
                query = query.where(FleetOrderRow.policy_digest == policy_digest)
            return list(s.scalars(query))

    def attestations(self, device_id: str | None = None,
                     license_id: str | None = None) -> list[AttestationRow]:
        with self.session() as s:
            query = select(AttestationRow).order_by(AttestationRow.received_at,
                                                    AttestationRow.id)
            if device_id is not None:
                query = query.where(AttestationRow.device_id == device_id)
            if license_id is not None:
                query = query.where(AttestationRow.license_id == license_id)
            return list(s.scalars(query))

    def device_reports(self) -> list[DeviceReports]:
        """Every device, by id, with its report count and newest report, in one query:
        the database ranks each device's attestations, so a listing or a /metrics
        scrape reads one row per device instead of every attestation the fleet sent."""
        ranked = select(
            AttestationRow,
            func.count().over(partition_by=AttestationRow.device_id).label("reports"),
            func.row_number().over(
                partition_by=AttestationRow.device_id,
                order_by=(AttestationRow.report_counter.desc(), AttestationRow.received_at,
                          AttestationRow.id)).label("rank")).subquery()
        newest = aliased(AttestationRow, ranked)
        query = (select(DeviceRow.device_id, ranked.c.reports, newest)
                 .outerjoin(ranked, (ranked.c.device_id == DeviceRow.device_id)
                            & (ranked.c.rank == 1))
                 .order_by(DeviceRow.device_id))
        with self.session() as s:
            return [DeviceReports(device_id, reports or 0, row)
                    for device_id, reports, row in s.execute(query)]

    def reports(self, device_id: str) -> list[Report]:
        return [Report(decode_attestation(row.record), row.received_at,
                       row.log_length_after)
                for row in self.attestations(device_id)]

    def log(self, device_id: str) -> list[LogRecord]:
        with self.session() as s:
            rows = s.scalars(select(LogEntryRow).where(LogEntryRow.device_id == device_id)
                             .order_by(LogEntryRow.entry_index))
            return [LogRecord(r.entry_index, r.event_type, r.payload) for r in rows]

    def log_anchors(self, device_id: str) -> list[tuple[int, bytes]]:
        with self.session() as s:
            rows = s.scalars(select(LogAnchorRow).where(LogAnchorRow.device_id == device_id)
                             .order_by(LogAnchorRow.entry_index, LogAnchorRow.head_before))
            return [(r.entry_index, bytes.fromhex(r.head_before)) for r in rows]

    def series(self, device_id: str, *, now: int | None = None,
               deadline_s: int | None = None) -> SeriesResult:
        """The series check of everything the ledger holds about one device."""
        return self.series_of([device_id], now=now, deadline_s=deadline_s)[device_id]

    def series_of(self, device_ids: Iterable[str], *, now: int | None = None,
                  deadline_s: int | None = None) -> dict[str, SeriesResult]:
        """series() of each device, read in one session with one query per table
        for all of them (a batch of a thousand devices is four queries, not four
        thousand)."""
        with self.session() as s:
            inputs = self._series_inputs(s, device_ids)
        return {device: found.check(now=now, deadline_s=deadline_s)
                for device, found in inputs.items()}

    @staticmethod
    def _fleet_order_records(s: Session) -> list[Order]:
        """Every fleet order the service recorded, by policy then sequence."""
        return [Order.from_bytes(record) for record in s.scalars(
            select(FleetOrderRow.record).order_by(FleetOrderRow.policy_digest,
                                                  FleetOrderRow.sequence))]

    def _series_inputs(self, s: Session, device_ids: Iterable[str]) -> dict[str, "SeriesInputs"]:
        """What check_series reads of each device, one query per table for all
        of them, each table in the order its own reader gives."""
        wanted = sorted(set(device_ids))
        if not wanted:
            return {}
        # Columns, not ORM objects: building an object per row of every
        # device's history was most of a batch's time.
        attestations = _by_device(s.execute(
            select(AttestationRow.device_id, AttestationRow.id, AttestationRow.record,
                   AttestationRow.received_at, AttestationRow.log_length_after)
            .where(_among(s, AttestationRow.device_id, wanted))
            .order_by(AttestationRow.received_at, AttestationRow.id)))
        logs = _by_device(s.execute(
            select(LogEntryRow.device_id, LogEntryRow.entry_index, LogEntryRow.event_type,
                   LogEntryRow.payload).where(_among(s, LogEntryRow.device_id, wanted))
            .order_by(LogEntryRow.entry_index)))
        anchors = _by_device(s.execute(
            select(LogAnchorRow.device_id, LogAnchorRow.entry_index,
                   LogAnchorRow.head_before).where(_among(s, LogAnchorRow.device_id, wanted))
            .order_by(LogAnchorRow.entry_index, LogAnchorRow.head_before)))
        orders = _by_device(s.execute(
            select(OrderRow.device_id, OrderRow.record).where(_among(s, OrderRow.device_id, wanted))
            .order_by(OrderRow.device_id, OrderRow.signer_role, OrderRow.sequence)))
        fleet = self._fleet_order_records(s)
        out = {}
        for device in wanted:
            rows = attestations.get(device, [])
            reports = [Report(decode_attestation(row.record), row.received_at,
                              row.log_length_after) for row in rows]
            delivered = [Order.from_bytes(row.record) for row in orders.get(device, [])]
            out[device] = SeriesInputs(
                device,
                reports, [row.id for row in rows], [row.record for row in rows],
                [LogRecord(r.entry_index, r.event_type, r.payload) for r in logs.get(device, [])],
                [(r.entry_index, bytes.fromhex(r.head_before)) for r in anchors.get(device, [])],
                delivered + _fleet_orders_owed(reports, fleet, delivered))
        return out

    def counts(self) -> dict[str, int]:
        with self.session() as s:
            return {table.__tablename__: s.scalar(select(func.count()).select_from(table))
                    for table in (DeviceRow, WorkloadRow, LicenseRow, OrderRow, AttestationRow,
                                  LogEntryRow, LogAnchorRow, NonceRow, IssuedOrderRow,
                                  FleetOrderRow)}

    def replaced(self, device_id: str) -> dict[tuple[str, int], ReplacedLicense]:
        """The device's LICENSE_REPLACED entries the ledger holds, by (license id,
        sequence): what each license consumed in all when it was replaced."""
        return _replaced(self.log(device_id))

    def usage(self, workload_id: str) -> list[DeviceUsage]:
        """Per device and license: the allocation and what the license consumed,
        the most its newest report and its LICENSE_REPLACED entry show (both
        count the same compute from zero: taking the larger never counts it
        twice, however often the log is read or the device collected)."""
        with self.session() as s:
            licenses, by_id = self._usages(s, LicenseRow.workload_id == workload_id)
        return [by_id[lic.license_id] for lic in licenses]

    def license_usage(self, license_id: str) -> DeviceUsage | None:
        """One license's usage, or None when the ledger does not hold the license."""
        return self.license_usages([license_id])[license_id]

    def license_usages(self, license_ids: Iterable[str]) -> dict[str, DeviceUsage | None]:
        """license_usage() of each, read in one session for all of them."""
        wanted = sorted(set(license_ids))
        out: dict[str, DeviceUsage | None] = dict.fromkeys(wanted)
        with self.session() as s:
            out.update(self._usages(s, _among(s, LicenseRow.license_id, wanted))[1])
        return out

    def _usages(self, s: Session, which) -> tuple[list[LicenseRow], dict[str, DeviceUsage]]:
        """The licenses ``which`` (a condition on LicenseRow) selects, by device
        and sequence, and each one's usage: three queries however many there
        are, the attestations and log entries selected by the same condition
        in SQL (no list of ids sent, so no limit on parameters)."""
        chosen = select(LicenseRow).where(which)
        licenses = list(s.scalars(chosen.order_by(LicenseRow.device_id, LicenseRow.sequence)))
        attestations = _by_device(s.execute(
            select(AttestationRow.device_id, AttestationRow.license_id,
                   AttestationRow.report_counter, AttestationRow.consumed_msflop,
                   AttestationRow.received_at)
            .where(AttestationRow.license_id.in_(
                select(LicenseRow.license_id).where(which).scalar_subquery()))
            .order_by(AttestationRow.received_at, AttestationRow.id)))
        # Only LICENSE_REPLACED entries count (ReplacedLicense.from_log reads no other).
        logs = _by_device(s.execute(
            select(LogEntryRow.device_id, LogEntryRow.entry_index, LogEntryRow.event_type,
                   LogEntryRow.payload)
            .where(LogEntryRow.device_id.in_(
                select(LicenseRow.device_id).where(which).scalar_subquery()))
            .where(LogEntryRow.event_type == int(EventType.LICENSE_REPLACED))
            .order_by(LogEntryRow.entry_index)))
        replaced = {device: _replaced([LogRecord(r.entry_index, r.event_type, r.payload)
                                       for r in rows]) for device, rows in logs.items()}
        return licenses, {lic.license_id: self._usage(lic, replaced.get(lic.device_id, {}), [
            a for a in attestations.get(lic.device_id, []) if a.license_id == lic.license_id])
            for lic in licenses}

    @staticmethod
    def _usage(lic: LicenseRow, replaced: dict[tuple[str, int], ReplacedLicense],
               atts: list) -> DeviceUsage:
        """``atts``: the license's attestations on its device (rows with their
        report_counter, consumed_msflop and received_at), in the order received."""
        newest = max(atts, key=lambda a: a.report_counter) if atts else None
        final = replaced.get((lic.license_id, lic.sequence))
        return DeviceUsage(lic.device_id, lic.license_id, lic.allocation_msflop,
                           max(newest.consumed_msflop if newest else 0,
                               final.consumed_msflop if final else 0),
                           newest.received_at if newest else None, lic.revoked_at is not None)

    def metered(self, workload_id: str, usage: list[DeviceUsage] | None = None
                ) -> dict[str, int]:
        """What the workload consumed on each device, each milli-sFLOP once: the
        larger of its licenses' totals (usage) and the most a report of the
        workload attested for it as a whole (Attestation.workload_msflop: all
        its licenses the device remembers, replaced ones included)."""
        usage = self.usage(workload_id) if usage is None else usage
        per_device: dict[str, int] = {}
        for u in usage:
            per_device[u.device_id] = per_device.get(u.device_id, 0) + u.consumed_msflop
        # The widest report per device, in SQL: the u128 strings are fixed-width,
        # so MAX orders them as the numbers they hold (and the rows stay there).
        with self.session() as s:
            attested = s.execute(
                select(AttestationRow.device_id, func.max(AttestationRow.workload_msflop))
                .where(AttestationRow.license_id.in_(
                    select(LicenseRow.license_id).where(LicenseRow.workload_id == workload_id)
                    .scalar_subquery()))
                .where(AttestationRow.workload_msflop.is_not(None))
                .group_by(AttestationRow.device_id))
            for device_id, workload_msflop in attested:
                per_device[device_id] = max(per_device.get(device_id, 0), workload_msflop)
        return per_device

    def workload_total(self, workload_id: str) -> int:
        return sum(self.metered(workload_id).values())


@dataclass(frozen=True)
class SeriesInputs:
    """What the ledger holds of one device's series: its reports in the rows'
    order (arrival time, then row id) with their row ids and bytes, the log
    entries and anchors read from it, and the orders delivered to it."""

    device_id: str
    reports: list[Report]
    row_ids: list[int]
    records: list[bytes]
    log: list[LogRecord]
    anchors: list[tuple[int, bytes]]
    orders: list[Order]

    def check(self, now: int | None = None, deadline_s: int | None = None) -> SeriesResult:
        return check_series(self.device_id, self.reports, log=self.log or None,
                            anchors=self.anchors, now=now, deadline_s=deadline_s,
                            orders=self.orders)


def _tally_json(tally: SeriesTally) -> str:
    return json.dumps({"pairs": [a.to_json() for a in tally.pairs],
                       "tamper": tally.tamper.to_json() if tally.tamper else None})


def _tally_of(state) -> SeriesTally | None:
    """The SeriesTally a SeriesStateRow's columns hold; None when they hold none
    (cleared, never written, or of another SERIES_STATE_VERSION)."""
    if state.check_version != SERIES_STATE_VERSION:
        return None
    kept = json.loads(state.anomalies)
    return SeriesTally(state.device_id, state.reports,
                       Report(decode_attestation(state.last_record), state.last_received_at),
                       [Anomaly(**a) for a in kept["pairs"]],
                       Anomaly(**kept["tamper"]) if kept["tamper"] else None)


def _among(s: Session, column, values: list[str]):
    """``column IN values``; on PostgreSQL as ``= ANY(array)``, one parameter
    however many values: psycopg parses a statement's text for its parameters on
    every run, and a batch's IN list of a thousand was a good part of its time."""
    if s.get_bind().dialect.name == "postgresql":
        return column == any_(_text_array(values))
    return column.in_(values)


def _text_array(values: list[str]):
    """An array of strings as one SQL parameter on PostgreSQL. Joined by commas
    and split by the server (string_to_array) when no value is empty or holds
    a comma, as the ledger's hex keys never do: psycopg writes a list as an
    array literal, quoting element by element through a regular expression,
    about 2 µs per element (a millisecond for a batch's 500 nonces, several
    times a batch)."""
    joined = ",".join(values)
    if values and joined.count(",") == len(values) - 1 and "" not in values:
        return func.string_to_array(bindparam(None, joined, type_=Text), ",")
    return bindparam(None, values, type_=postgresql.ARRAY(String))


def _fleet_orders_owed(reports: list[Report], fleet: list[Order],
                       delivered: list[Order]) -> list[Order]:
    """The recorded fleet orders a device must show applied, beside those
    recorded as delivered to it: each order of a policy one of its reports ran,
    received before the order's lifetime ended (the device was under that
    policy while the order could still be applied, whoever was to deliver it).
    A device first heard of after that is not held to it: no device takes an
    order past its lifetime."""
    return [order for order in fleet if order not in delivered and any(
        r.attestation.policy_digest == order.policy_digest
        and r.received_at < order.issued_at + ORDER_LIFETIME_S for r in reports)]


def _copy_rows(s: Session, table, rows: list[dict]) -> None:
    """INSERT the rows (dicts of the same columns) on PostgreSQL as one COPY
    in the session's transaction, each value passed through its column type's
    bind processor (the U128 and U64 strings) as an INSERT would send it. A
    row whose key is stored already fails the whole transaction (COPY has no
    ON CONFLICT): callers insert only rows they found missing under a lock."""
    dialect = s.get_bind().dialect
    names = list(rows[0])
    processors = [table.c[name].type.bind_processor(dialect) for name in names]
    statement = psycopg.sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg.sql.Identifier(table.name),
        psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, names)))
    try:
        with s.connection().connection.driver_connection.cursor() as cursor, \
                cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[name] if process is None else process(row[name])
                                for name, process in zip(names, processors)])
    except psycopg.Error as error:
        raise LedgerError(f"ledger refused the write: {_one_line(error)}") from None


def _set_many(s: Session, key, keys: list, columns: dict) -> None:
    """``UPDATE table SET column = values[i] WHERE key = keys[i]`` for each i,
    ``columns`` mapping each column to its list of values (one per key). On
    PostgreSQL one statement joined to the lists as arrays (one unnest of them
    all): an executemany is one statement per row for the server, and a
    batch's thousand were a good part of its transaction."""
    if s.get_bind().dialect.name != "postgresql":
        names = [f"set_{i}" for i in range(len(columns))]
        s.execute(update(key.table).where(key == bindparam("set_key"))
                  .values({column.name: bindparam(name) for column, name in zip(columns, names)}),
                  [{"set_key": k, **dict(zip(names, row))}
                   for k, *row in zip(keys, *columns.values())])
        return
    given = func.unnest(_array(key, keys), *(_array(column, values)
                                            for column, values in columns.items())
                        ).table_valued("key", *(column.name for column in columns)).render_derived()
    s.execute(update(key.table).where(key == given.c.key).values(
        {column.name: func.decode(given.c[column.name], "hex")
         if isinstance(column.type, LargeBinary) else given.c[column.name]
         for column in columns}))


def _array(column, values: list):
    """``values`` as one PostgreSQL array parameter for ``column``: strings
    through _text_array, bytes as their hex through _text_array too (decoded by
    the server: psycopg writes a bytea array element by element, tens of
    milliseconds for a batch's series states), anything else as a typed array."""
    if isinstance(column.type, LargeBinary):
        return _text_array([value.hex() for value in values])
    if isinstance(column.type, String):
        return _text_array(values)
    return bindparam(None, values, type_=postgresql.ARRAY(column.type))


def _by_device(rows) -> dict[str, list]:
    """Rows grouped by their device_id, each group in the order given."""
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row.device_id, []).append(row)
    return out


def _replaced(log: list[LogRecord]) -> dict[tuple[str, int], ReplacedLicense]:
    out = {}
    for entry in log:
        replaced = ReplacedLicense.from_log(entry)
        if replaced is not None:
            out[(replaced.license_id, replaced.sequence)] = replaced
    return out


def _nonce_refusal(row, device_id: str, record_sha256: str, now: int,
                   answered_since: str | None = None) -> str | None:
    """Why the attestation of digest ``record_sha256`` by ``device_id`` cannot
    answer the nonce of ``row`` (a NonceRow, or a row of its columns; None: not
    issued) at ``now``; None when it can, or already did. ``answered_since``:
    the digest of the attestation that answered it since the row was read."""
    if row is None:
        return ("the attestation answers a nonce this verifier did not issue: ask "
                "POST /v1/nonces for one first")
    if row.device_id != device_id:
        return "the nonce was issued for another device"
    if now > row.expires_at:
        return (f"the nonce expired {now - row.expires_at} s before the attestation came "
                "(a report held back, or a slow link)")
    answered_by = row.answered_by or answered_since
    if answered_by is not None and answered_by != record_sha256:
        return "the nonce was already answered by another attestation"
    return None


def _attestation_rows(parsed: list[tuple[bytes, Attestation]], received_at: int) -> list[dict]:
    return [dict(record_sha256=hashlib.sha256(data).hexdigest(),
                 device_id=att.device_id.hex(), received_at=received_at,
                 report_counter=att.report_counter, reset_count=att.reset_count,
                 policy_version=att.policy_version, license_id=att.license_id.hex(),
                 consumed_msflop=att.consumed_msflop, remaining_msflop=att.remaining_msflop,
                 gate_state=att.gate_state.name, gate_causes=int(att.gate_causes),
                 log_head=att.log_head.hex(), nonce=att.nonce.hex(), record=data,
                 policy_digest=att.policy_digest.hex(), workload_msflop=att.workload_msflop,
                 retired_msflop=att.retired_msflop)
            for data, att in parsed]


def _known_revisions() -> set[str]:
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def _now() -> int:
    return int(time.time())


def _one_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.splitlines()[0] if text else type(error).__name__
