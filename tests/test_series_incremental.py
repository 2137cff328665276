"""The verifier's incremental series check (Ledger.record_answers with the
per-device series state) against the full check (Ledger.series_of, which
re-reads and re-checks the whole history): the same verdicts and anomalies,
on SQLite and PostgreSQL.

Adversary: the operator sends its reports so that a check of only the new
ones, against a kept state, would miss what the whole history shows:
replayed and reordered reports, a rolled-back counter, a duplicate within a
batch, tamper, a forked or gapped log, an order; reports reaching two
workers at once, or reaching the second worker's transaction with an earlier
arrival time than the first's; the writer killed mid-batch
(tests/test_verifier_batch.py) and a state row gone stale. Each is fed to
both checks and they must agree.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, update

from openheg.crypto import SigningKey
from openheg.ledger import SERIES_STATE_VERSION, Ledger
from openheg.ledger.schema import AttestationRow, SeriesStateRow
from openheg.licensing import sign_order
from openheg.roles import Role, endorse_device
from openheg.series import CHAIN_START, LogRead, LogRecord
from openheg.verify import VerifiedAttestation, decode_attestation
from openheg.wire import (Attestation, EventType, GateCause, GateState, Order, OrderKind,
                          RecordType, SignerRole)

VENDOR = Role(".", SigningKey(b"\x41" * 32))
LICENSES = [b"\x51" * 16, b"\x52" * 16]
LIFETIME_S = 10**6


class Device:
    """A test device: its key, its endorsement, and the fields of its next
    report, which each step may move any way (honestly or not)."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.key = SigningKey(os.urandom(32))
        self.endorsement = endorse_device(VENDOR, self.key.public_key)
        self.id = self.key.public_key.hex()
        self.fields = dict(report_counter=1, consumed_msflop=1000, reset_count=1,
                           store_reverts=0, inspector_order_sequence=0, license=0)
        self.sent: list[bytes] = []

    def report(self, now: int, tamper: bool = False, log_head: bytes = bytes(32)) -> bytes:
        nonce = os.urandom(32)
        self.ledger.issue_nonce(self.key.public_key, nonce, now, LIFETIME_S)
        f = self.fields
        body = Attestation(
            device_id=self.key.public_key, nonce=nonce, firmware_measurement=bytes(32),
            policy_version=1, license_id=LICENSES[f["license"]], license_sequence=1,
            lane_ops=(0, 1, 0, 0, 0, 0), consumed_msflop=f["consumed_msflop"],
            remaining_msflop=10**15, gate_state=GateState.CLOSED if tamper else GateState.OPEN,
            gate_causes=GateCause.TAMPER if tamper else GateCause(0),
            report_counter=f["report_counter"], reset_count=f["reset_count"],
            log_head=log_head, store_reverts=f["store_reverts"],
            inspector_order_sequence=f["inspector_order_sequence"])
        data = replace(body, signature=self.key.sign_record(RecordType.ATTESTATION,
                                                             body.body())).to_bytes()
        self.sent.append(data)
        return data

    def answer(self, batch: list[bytes], now: int):
        return self.ledger.record_answers([self.verified(data) for data in batch], now)

    def verified(self, data: bytes) -> tuple[bytes, VerifiedAttestation]:
        return data, VerifiedAttestation(decode_attestation(data), self.endorsement, None)


def assert_same_as_full(ledger: Ledger, answers, device: Device) -> None:
    """The batch's series verdict is the full check's of the ledger it left,
    and a state kept covers exactly the device's rows."""
    full = ledger.series_of([device.id])[device.id]
    assert answers.series[device.id] == full
    with ledger.session() as s:
        state = s.get(SeriesStateRow, device.id)
        ids = list(s.scalars(select(AttestationRow.id)
                             .where(AttestationRow.device_id == device.id)))
    if state is not None and state.check_version == SERIES_STATE_VERSION:
        assert (state.reports, state.last_id) == (len(ids), max(ids))


# One report's change to the device's fields: mostly honest (counter up,
# consumed up), sometimes a replayed or rolled-back counter, a refund, a
# revert, a reset, an order counter that falls, another license, tamper.
moves = st.fixed_dictionaries({
    "report_counter": st.sampled_from([1, 1, 1, 2, 0, -1, -3]),
    "consumed_msflop": st.sampled_from([0, 500, 500, 2000, -300]),
    "reset_count": st.sampled_from([0, 0, 0, 0, 1, -1]),
    "store_reverts": st.sampled_from([0, 0, 0, 0, 1, -1]),
    "inspector_order_sequence": st.sampled_from([0, 0, 0, 1, -1]),
    "license": st.sampled_from([0, 0, 0, 1]),
    "tamper": st.sampled_from([False] * 9 + [True]),
})
# A batch: its reports, a resent earlier one or a duplicate, and how far the
# verifier's clock moved since the last batch (back: a second worker whose
# clock read earlier commits after the first).
batches = st.fixed_dictionaries({
    "reports": st.lists(moves, min_size=0, max_size=4),
    "resend": st.sampled_from([None, None, None, 0, -1]),
    "duplicate": st.booleans(),
    "clock": st.sampled_from([1, 1, 0, 0, 5, -1, -3]),
    "other": st.sampled_from([None] * 6 + ["plain", "log", "order"]),
})


def apply(device: Device, move: dict) -> None:
    f = device.fields
    for name in ("report_counter", "consumed_msflop", "reset_count", "store_reverts",
                 "inspector_order_sequence"):
        f[name] = max(0, f[name] + move[name])
    f["license"] = move["license"]


def other_write(device: Device, kind: str, now: int) -> None:
    """A write of what the series check reads other than by a batch: a report
    collected through the library (record_attestations), a log read, an
    order delivered."""
    ledger = device.ledger
    if kind == "plain":
        device.fields["report_counter"] += 1
        ledger.record_attestations([device.report(now)], now)
    elif kind == "log":
        entry = LogRecord(0, EventType.RESET, (1).to_bytes(4, "little"))
        ledger.record_log(device.key.public_key, LogRead(CHAIN_START, (entry,), 1))
    else:
        ledger.record_order(sign_order(Order(
            order_kind=OrderKind.PAUSE, signer_role=SignerRole.INSPECTOR,
            device_id=device.key.public_key, license_id=bytes(16), license_sequence=0,
            workload_id=b"\x06" * 16, sequence=1, issued_at=0), [SigningKey(b"\x09" * 32)]))


@pytest.fixture
def ledger(database_url):
    opened = Ledger(database_url)
    yield opened
    opened.close()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(batches, min_size=1, max_size=7))
def test_the_incremental_check_gives_the_full_checks_verdicts(ledger, steps):
    device = Device(ledger)  # a fresh device per example: examples share the ledger
    now = 10_000
    for step in steps:
        now += step["clock"]
        batch = []
        for move in step["reports"]:
            apply(device, move)
            batch.append(device.report(now, tamper=move["tamper"]))
        if step["resend"] is not None and device.sent:
            batch.append(device.sent[step["resend"]])
        if step["duplicate"] and batch:
            batch.append(batch[0])
        if batch:
            assert_same_as_full(ledger, device.answer(batch, now), device)
        if step["other"] is not None:
            other_write(device, step["other"], now)


def test_a_report_arriving_with_an_earlier_time_is_checked_in_arrival_order(ledger):
    """Two workers read the clock at 101 and 100; the one at 101 commits first.
    The full check orders by arrival time, so the counter-4 report (at 100)
    comes before counter 5 (at 101): no rollback. A state advanced in commit
    order would flag one; the state is not used for it."""
    device = Device(ledger)
    device.answer([device.report(99)], 99)
    device.fields["report_counter"] = 5
    first = device.answer([device.report(101)], 101)
    assert first.series[device.id].anomalies[1:] == []
    device.fields["report_counter"] = 4
    late = device.answer([device.report(100)], 100)
    assert_same_as_full(ledger, late, device)
    assert [a.kind for a in late.series[device.id].anomalies] == ["log-unverified"]


def test_a_stale_or_foreign_state_row_is_never_used(ledger):
    """A state row of another encoding version, or one whose rows were
    written around it, falls back to the full check: here the kept state
    would say the series is clean, and the history shows a replay."""
    device = Device(ledger)
    device.answer([device.report(10)], 10)
    device.answer([device.report(11)], 11)  # the same counter: a replay
    with ledger.session() as s:
        s.execute(update(SeriesStateRow).where(SeriesStateRow.device_id == device.id)
                  .values(check_version=SERIES_STATE_VERSION + 1, anomalies='{"pairs": [], '
                          '"tamper": null}'))
    device.fields["report_counter"] = 2
    answers = device.answer([device.report(12)], 12)
    assert_same_as_full(ledger, answers, device)
    assert "replay" in [a.kind for a in answers.series[device.id].anomalies]


def test_a_write_around_the_batch_path_clears_the_state(ledger):
    """A report recorded through record_attestations (the CLI's collect)
    between two batches: the next batch sees it, by the full check."""
    device = Device(ledger)
    device.answer([device.report(10)], 10)
    device.fields["report_counter"] = 3
    ledger.record_attestations([device.report(11)], 11)
    with ledger.session() as s:
        assert s.get(SeriesStateRow, device.id).check_version is None
    device.fields["report_counter"] = 2  # after 3: a rollback the state alone never saw
    answers = device.answer([device.report(12)], 12)
    assert_same_as_full(ledger, answers, device)
    assert "rollback" in [a.kind for a in answers.series[device.id].anomalies]


def test_two_writers_on_one_device_advance_its_state_one_after_the_other(
        database_url, request):
    """Two workers record one device's reports at once (PostgreSQL: two
    connections and the state row's FOR UPDATE; SQLite: the file lock). The
    second waits on the device's series lock until the first commits, then
    builds on what it left: both reports are in the series, and its verdict
    is the full check's (read before the first wrote its state, it would
    miss the replay)."""
    first, second = Ledger(database_url), Ledger(database_url)
    request.addfinalizer(first.close)
    request.addfinalizer(second.close)
    device = Device(first)
    device.answer([device.report(10)], 10)
    device.fields["report_counter"] = 2
    one = device.report(20)
    two = device.report(20)  # the same counter again: a replay
    held, release = threading.Event(), threading.Event()

    # The first writer stops once it holds the device's series lock, before it
    # inserts its report (and long before it writes the state): at its read
    # of which of its reports are stored, the last statement before the insert
    # (on PostgreSQL a COPY, which SQLAlchemy does not see).
    @event.listens_for(first.engine, "before_cursor_execute")
    def _hold(connection, cursor, statement, *_):
        if (statement.startswith("SELECT attestations.record_sha256 ")
                and "attestations.id" not in statement and not held.is_set()):
            held.set()
            release.wait(60)

    outcome = {}

    def record(name, ledger, data):
        try:
            outcome[name] = ledger.record_answers([device.verified(data)], 20)
        except Exception as error:  # noqa: BLE001 - shown by the assertion below
            outcome[name] = error

    writer = threading.Thread(target=record, args=("first", first, one))
    writer.start()
    assert held.wait(60)
    rival = threading.Thread(target=record, args=("second", second, two))
    rival.start()
    time.sleep(1.0)
    assert rival.is_alive(), outcome  # waiting on the lock the first writer holds
    release.set()
    writer.join(60)
    rival.join(60)
    full = first.series_of([device.id])[device.id]
    assert outcome["first"].series[device.id].reports == 2
    assert outcome["second"].series[device.id] == full
    assert full.reports == 3
    assert [a.kind for a in full.anomalies] == ["log-unverified", "replay"]
