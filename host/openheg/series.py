"""Verify a device's attestations as a series, not one at a time.

Each attestation was verified on its own when it came in (openheg.verify).
Taken together, a device's reports must tell one consistent story:

* report counters strictly increase (an equal or lower one is a replay or a
  rolled-back device);
* compute consumed under one license never decreases (nothing is refunded);
* the event log is one chain: head_i = SHA-256(head_{i-1} || type || payload),
  read from the device with READ_LOG; every attestation's log head must be a
  head of that chain, at a position no earlier than the previous report's
  (otherwise the log forked or was rewritten); entries must be contiguous (a
  missing index is a gap);
* a change of reset count must match the RESET entries the log recorded
  between the two reports (a reset the log does not show is flagged);
* a device that has not reported within the deadline is flagged as silent;
* a rise of the store revert count means the device booted from its older
  state record because the newest failed its check (a power cut during a
  commit does this honestly; corruption would undo the last charge, license
  or order): flagged, not severe; a fall is a rollback.

Nothing here raises on a bad series: it returns anomalies, each with the
device, the kind and a sentence, so a report can list them all. A series with
any anomaly of a severe kind is not trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .wire import Attestation, EventType

CHAIN_START = bytes(32)


@dataclass(frozen=True)
class LogRecord:
    index: int
    event_type: int
    payload: bytes


@dataclass(frozen=True)
class Anomaly:
    device_id: str
    kind: str  # replay, rollback, refund, fork, gap, reset, revert, silent, log-unverified
    detail: str
    severe: bool = True

    def to_json(self) -> dict:
        return {"device_id": self.device_id, "kind": self.kind, "detail": self.detail,
                "severe": self.severe}


@dataclass(frozen=True)
class Report:
    """One verified attestation with the time the verifier received it."""

    attestation: Attestation
    received_at: int


@dataclass
class SeriesResult:
    device_id: str
    reports: int
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        return not any(a.severe for a in self.anomalies)


def chain_head(previous: bytes, event_type: int, payload: bytes) -> bytes:
    """The event log head after one more entry (wire.EventType)."""
    return hashlib.sha512(previous + bytes([event_type]) + payload).digest()[:32]


def chain_heads(entries: Sequence[LogRecord], head_before: bytes = CHAIN_START,
                first_index: int = 0) -> tuple[dict[bytes, int], list[str]]:
    """Map every head of the chain to the number of entries it covers; list gaps."""
    heads = {head_before: first_index}
    problems = []
    head, expected = head_before, first_index
    for entry in entries:
        if entry.index != expected:
            problems.append(f"log entry {expected} is missing (next given is {entry.index})"
                            if entry.index > expected else
                            f"log entry {entry.index} is repeated or out of order")
            break
        head = chain_head(head, entry.event_type, entry.payload)
        expected += 1
        heads[head] = expected
    return heads, problems


def check_series(device_id: str, reports: Iterable[Report], *,
                 log: Sequence[LogRecord] | None = None, log_head_before: bytes = CHAIN_START,
                 now: int | None = None, deadline_s: int | None = None) -> SeriesResult:
    ordered = sorted(reports, key=lambda r: (r.received_at, r.attestation.report_counter))
    result = SeriesResult(device_id, len(ordered))
    flag = result.anomalies.append
    if now is not None and deadline_s is not None:
        last = ordered[-1].received_at if ordered else None
        if last is None or now - last > deadline_s:
            flag(Anomaly(device_id, "silent",
                         "no report ever received" if last is None else
                         f"last report {now - last} s ago, deadline {deadline_s} s"))
    heads: dict[bytes, int] | None = None
    entries_by_index: dict[int, LogRecord] = {}
    if log is not None:
        heads, problems = chain_heads(log, log_head_before, log[0].index if log else 0)
        for problem in problems:
            flag(Anomaly(device_id, "gap", problem))
        entries_by_index = {e.index: e for e in log}
    previous: Report | None = None
    previous_position: int | None = None
    for report in ordered:
        att = report.attestation
        position = None
        if heads is not None:
            position = heads.get(att.log_head)
            if position is None:
                flag(Anomaly(device_id, "fork",
                             f"report {att.report_counter}: log head {att.log_head.hex()[:16]}... "
                             "is not on the device's event-log chain (forked or rewritten log)"))
            elif previous_position is not None and position < previous_position:
                flag(Anomaly(device_id, "fork",
                             f"report {att.report_counter}: log went back from entry "
                             f"{previous_position} to {position}"))
        if previous is not None:
            prev = previous.attestation
            if att.report_counter <= prev.report_counter:
                flag(Anomaly(device_id, "replay" if att.report_counter == prev.report_counter
                             else "rollback",
                             f"report counter {att.report_counter} after {prev.report_counter}"))
            if att.license_id == prev.license_id and att.consumed_msflop < prev.consumed_msflop:
                flag(Anomaly(device_id, "refund",
                             f"consumed compute fell from {prev.consumed_msflop} to "
                             f"{att.consumed_msflop} under one license"))
            if att.store_reverts > prev.store_reverts:
                flag(Anomaly(device_id, "revert",
                             f"device booted {att.store_reverts - prev.store_reverts} time(s) "
                             f"from its older state record between reports "
                             f"{prev.report_counter} and {att.report_counter} (its newest "
                             "failed its check: a power cut during a commit, or corruption "
                             "that undid the last charge, license or order; see the log's "
                             "STORE_REVERTED entries)", severe=False))
            elif att.store_reverts < prev.store_reverts:
                flag(Anomaly(device_id, "rollback",
                             f"store revert count fell from {prev.store_reverts} to "
                             f"{att.store_reverts}"))
            if att.reset_count < prev.reset_count:
                flag(Anomaly(device_id, "rollback",
                             f"reset count fell from {prev.reset_count} to {att.reset_count}"))
            elif att.reset_count > prev.reset_count:
                resets = att.reset_count - prev.reset_count
                logged = None
                if position is not None and previous_position is not None:
                    logged = sum(1 for i in range(previous_position, position)
                                 if i in entries_by_index
                                 and entries_by_index[i].event_type == EventType.RESET)
                if logged is not None and logged != resets:
                    flag(Anomaly(device_id, "reset",
                                 f"{resets} resets between reports {prev.report_counter} and "
                                 f"{att.report_counter}, the log shows {logged}"))
                else:
                    flag(Anomaly(device_id, "reset",
                                 f"device reset {resets} time(s) between reports "
                                 f"{prev.report_counter} and {att.report_counter}", severe=False))
        previous = report
        if position is not None:
            previous_position = position
    if log is None and ordered:
        flag(Anomaly(device_id, "log-unverified",
                     "no event log was read, so chain continuity is unchecked", severe=False))
    return result
