"""Verify a device's attestations as a series, not one at a time.

Each attestation was verified on its own when it came in (openheg.verify).
Taken together, a device's reports must tell one consistent story:

* report counters strictly increase (an equal or lower one is a replay or a
  rolled-back device);
* compute consumed under one license never decreases (nothing is refunded);
* the event log is one chain: head_i = SHA-512(head_{i-1} || type || payload)
  truncated to 32 bytes, read from the device with READ_LOG; every
  attestation's log head must be a head of that chain, at a position no
  earlier than the previous report's (otherwise the log forked or was
  rewritten);
* a change of reset count must match the RESET entries the log recorded
  between the two reports (a reset the log does not show is flagged);
* a device that has not reported within the deadline is flagged as silent;
* each signer role's order counter never goes back (a fall is a rollback);
* an order the verifier recorded as delivered (``orders``) is applied: a
  report received after the order's lifetime that shows its role's counter
  below it means the device never took it (its link said it had), and a log
  that holds every entry where it would be, without it, means it was skipped
  (voided by a later order of its role delivered first);
* a report that shows TAMPER latched is an attack on the metering, severe;
* what the device's replaced licenses consumed in all (``retired_msflop``)
  rises between two reports by exactly what the LICENSE_REPLACED entries
  between their log heads add up to: where those entries were overwritten
  before anyone read them, that compute ran under licenses the verifier cannot
  name, and the fleet totals of their workloads cannot be vouched for
  (``unattributed``, severe);
* a rise of the store revert count means the device booted from its older
  state record because the newest failed its check (a power cut during a
  commit does this honestly; corruption would undo the last charge, license
  or order): flagged, not severe; a fall is a rollback.

The device keeps only its newest entries (a ring), so the chain is checked
from what the device proves, not from genesis: each READ_LOG gives the head
just before the oldest entry it still keeps (an *anchor*: index and head),
and the entries after it. Genesis is the anchor (0, all zeros). Entries the
verifier kept from earlier reads extend the chain it can check; a stretch of
entries the ring overwrote before anyone read it is not a gap when the next
stretch starts at an anchor, and is a gap when nothing the device reported
restarts the chain there. An anchor that disagrees with the chain the
verifier already holds is a fork.

An attestation collected together with a log read (``Report.log_length_after``)
must sit on that chain: the log was read right after it. One whose log was
never read may fall into a stretch nobody read; it is then noted as
unverified (not severe), and flagged as a fork when every place it could be
was read.

Nothing here raises on a bad series: it returns anomalies, each with the
device, the kind and a sentence, so a report can list them all. A series with
any anomaly of a severe kind is not trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from construct import ConstructError

from .wire import (
    FLEET_ORDER_KINDS,
    ORDER_LIFETIME_S,
    Attestation,
    EventType,
    GateCause,
    LicenseReplacedPayloadFormat,
    Order,
    SignerRole,
)

CHAIN_START = bytes(32)

# The attestation field that carries each signer role's last accepted order.
ORDER_SEQUENCE_FIELDS = {SignerRole.INSPECTOR: "inspector_order_sequence",
                         SignerRole.BOARD: "board_order_sequence",
                         SignerRole.ISSUER: "issuer_order_sequence"}


@dataclass(frozen=True)
class LogRecord:
    index: int
    event_type: int
    payload: bytes


@dataclass(frozen=True)
class Anomaly:
    device_id: str
    # replay, rollback, refund, fork, gap, reset, revert, silent, log-unverified, tamper,
    # order-not-applied, order-voided, unattributed; with the policy (report.py):
    # policy-fork, link-cap-loose, link-cap-pending, link-cap-unjudged
    kind: str
    detail: str
    severe: bool = True

    def to_json(self) -> dict:
        return {"device_id": self.device_id, "kind": self.kind, "detail": self.detail,
                "severe": self.severe}


@dataclass(frozen=True)
class ReplacedLicense:
    """A LICENSE_REPLACED entry: the license the device stopped, and what it had
    consumed in all (it never consumes more)."""

    license_id: str  # hex
    sequence: int
    workload_id: str  # hex
    consumed_msflop: int

    @classmethod
    def from_log(cls, entry: LogRecord) -> "ReplacedLicense | None":
        """The entry's fields; None for another kind of entry, or a malformed one
        (which the chain check then shows as not the device's)."""
        if entry.event_type != EventType.LICENSE_REPLACED:
            return None
        try:
            fields = LicenseReplacedPayloadFormat.parse(bytes(entry.payload))
        except ConstructError:
            return None
        return cls(fields.license_id.hex(), fields.license_sequence, fields.workload_id.hex(),
                   fields.consumed_msflop)


@dataclass(frozen=True)
class Report:
    """One verified attestation with the time the verifier received it and, when
    the device's log was read right after it, how many entries the device had
    logged by then (READ_LOG's next_index)."""

    attestation: Attestation
    received_at: int
    log_length_after: int | None = None


@dataclass(frozen=True)
class LogRead:
    """One read of a device's whole event log: the entries it still keeps, the
    chain head just before the first of them, and how many it has logged in all."""

    head_before: bytes
    entries: tuple[LogRecord, ...]
    next_index: int

    @property
    def anchor(self) -> tuple[int, bytes] | None:
        """(index of the first entry, head before it): what the device proves."""
        return (self.entries[0].index, self.head_before) if self.entries else None

    @classmethod
    def from_page(cls, page: Any) -> "LogRead":
        """From openheg.device.LogPage (Device.read_whole_log)."""
        return cls(page.head_before,
                   tuple(LogRecord(e.index, int(e.event_type), e.payload) for e in page.entries),
                   page.next_index)


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




@dataclass
class Chain:
    """What a verifier can check of a device's event log: every head it can
    compute, with its position (the number of entries it covers), and the
    entries on those checked stretches."""

    heads: dict[bytes, int] = field(default_factory=dict)
    entries: dict[int, LogRecord] = field(default_factory=dict)
    stretches: list[tuple[int, int]] = field(default_factory=list)  # first, last position
    problems: list[tuple[str, str]] = field(default_factory=list)  # kind, sentence

    def unread_between(self, low: int, high: int | None) -> bool:
        """Is any position in [low, high] (high None: no bound) one whose head is
        unknown, so that a report there could not be placed?"""
        position = low
        for first, last in sorted(self.stretches):
            if last < position:
                continue
            if first > position:
                return True
            position = last + 1
            if high is not None and position > high:
                return False
        return high is None or position <= high

    def all_entries_between(self, low: int, high: int) -> bool:
        return all(i in self.entries for i in range(low, high))


def build_chain(entries: Sequence[LogRecord], anchors: Iterable[tuple[int, bytes]] = ()) -> Chain:
    """Chain ``entries`` (in index order) from the heads the device proved.

    ``anchors``: (index, head before that entry) pairs, as READ_LOG reported
    them; genesis (0, zeros) is always one. A stretch of entries starts only at
    an anchor; an anchor inside a stretch must equal the head computed there.
    """
    proven: dict[int, set[bytes]] = {0: {CHAIN_START}}
    for index, head in anchors:
        proven.setdefault(index, set()).add(bytes(head))
    chain = Chain()
    head: bytes | None = None
    first_position = expected = 0
    started = False
    for entry in entries:
        if started and entry.index < expected:
            chain.problems.append(("gap", f"log entry {entry.index} is repeated or out of order"))
            break
        claimed = proven.get(entry.index, set())
        if head is not None and entry.index == expected:
            for other in sorted(claimed - {head}):
                chain.problems.append(("fork", f"the device reported head {other.hex()[:16]}... "
                                       f"before log entry {entry.index}, but the chain read "
                                       f"before gives {head.hex()[:16]}... (log rewritten)"))
        else:
            if head is not None:
                chain.stretches.append((first_position, expected))
            if len(claimed) > 1:
                chain.problems.append(("fork", f"the device reported {len(claimed)} different "
                                       f"heads before log entry {entry.index}"))
            if not claimed:
                if head is not None or not started:
                    missing = (f"log entries {expected} to {entry.index - 1} are"
                               if entry.index - 1 > expected else f"log entry {expected} is")
                    chain.problems.append(("gap", f"{missing} missing and no head the device "
                                           f"reported restarts the chain at entry {entry.index}"))
                head, started, expected = None, True, entry.index + 1
                continue
            head, first_position = min(claimed), entry.index
            chain.heads.setdefault(head, entry.index)
        head = chain_head(head, entry.event_type, entry.payload)
        started, expected = True, entry.index + 1
        chain.heads.setdefault(head, expected)
        chain.entries[entry.index] = entry
    if head is not None:
        chain.stretches.append((first_position, expected))
    return chain


def _log_unread(device_id: str) -> Anomaly:
    return Anomaly(device_id, "log-unverified",
                   "no event log was read, so chain continuity is unchecked", severe=False)


@dataclass
class SeriesTally:
    """The part of the series check that goes report by report, in arrival
    order: each report against the one before it (_check_pair) and the first
    that latched tamper. check_series runs it over the whole series; the
    ledger keeps it per device (Ledger.record_answers) and adds only the new
    reports, which gives the same anomalies as check_series whenever the
    rest of the check has nothing to say: no log read and no order recorded
    (``unlogged_result``)."""

    device_id: str
    reports: int = 0
    last: Report | None = None
    pairs: list[Anomaly] = field(default_factory=list)
    tamper: Anomaly | None = None

    def add(self, report: Report, chain: Chain | None = None) -> None:
        if self.last is not None:
            _check_pair(self.device_id, self.last, report, chain, self.pairs.append)
        if self.tamper is None and GateCause.TAMPER in report.attestation.gate_causes:
            self.tamper = Anomaly(
                self.device_id, "tamper",
                f"report {report.attestation.report_counter}: the device latched tamper "
                "(its meter was reset alone or its tamper input raised): up to one "
                "metering step of compute may have run unmetered")
        self.last = report
        self.reports += 1

    def anomalies(self) -> list[Anomaly]:
        return self.pairs + ([self.tamper] if self.tamper is not None else [])

    def unlogged_result(self) -> SeriesResult:
        """check_series of these reports with no log, no orders and no deadline."""
        return SeriesResult(self.device_id, self.reports,
                            ([_log_unread(self.device_id)] if self.reports else [])
                            + self.anomalies())


def check_series(device_id: str, reports: Iterable[Report], *,
                 log: Sequence[LogRecord] | None = None,
                 anchors: Iterable[tuple[int, bytes]] = (),
                 now: int | None = None, deadline_s: int | None = None,
                 orders: Iterable[Order] = ()) -> SeriesResult:
    """``log``: the device's event-log entries the verifier holds, in index
    order (None: never read); ``anchors``: the (index, head before) pairs its
    log reads proved; ``orders``: the orders for this device the verifier
    recorded as delivered."""
    # Arrival order, as given (the ledger's insertion order): a stable sort on the
    # verifier's clock alone. Breaking ties by the report counter would let the
    # device's own claim reorder reports received in the same second, and hide a
    # rollback (a restored storage reporting a lower counter after a higher one).
    ordered = sorted(reports, key=lambda r: r.received_at)
    result = SeriesResult(device_id, len(ordered))
    flag = result.anomalies.append
    if now is not None and deadline_s is not None:
        last = ordered[-1].received_at if ordered else None
        if last is None or now - last > deadline_s:
            flag(Anomaly(device_id, "silent",
                         "no report ever received" if last is None else
                         f"last report {now - last} s ago, deadline {deadline_s} s"))
    chain = None
    if log is not None:
        chain = build_chain(log, anchors)
        for kind, problem in chain.problems:
            flag(Anomaly(device_id, kind, problem))
        _check_log_positions(device_id, ordered, chain, flag)
    elif ordered:
        flag(_log_unread(device_id))
    tally = SeriesTally(device_id)
    for report in ordered:
        tally.add(report, chain)
    result.anomalies.extend(tally.anomalies())
    for order in orders:
        _check_order(device_id, order, ordered, chain, flag)
    if chain is not None:
        _check_retired(device_id, ordered, chain, flag)
    return result


def _check_retired(device_id: str, ordered: Sequence[Report], chain: Chain, flag) -> None:
    """Each rise of retired_msflop is credited by the LICENSE_REPLACED entries
    between the two reports' log heads (from genesis for the first report)."""
    start: int | None = 0
    retired_before = 0
    since = "the device's start"
    for report in ordered:
        att = report.attestation
        end = chain.heads.get(att.log_head)
        rise = att.retired_msflop - retired_before
        if rise < 0:
            flag(Anomaly(device_id, "rollback",
                         f"what the replaced licenses consumed fell from {retired_before} to "
                         f"{att.retired_msflop} milli-sFLOP at report {att.report_counter}"))
        elif start is not None and end is not None and start <= end \
                and chain.all_entries_between(start, end):
            logged = sum(r.consumed_msflop for r in
                         (ReplacedLicense.from_log(chain.entries[i]) for i in range(start, end))
                         if r is not None)
            if logged != rise:
                flag(Anomaly(device_id, "unattributed",
                             f"the licenses replaced between {since} and report "
                             f"{att.report_counter} consumed {rise} milli-sFLOP by the signed "
                             f"total, and the log's LICENSE_REPLACED entries there show {logged}"))
        elif rise > 0:
            flag(Anomaly(device_id, "unattributed",
                         f"{rise} milli-sFLOP ran under licenses replaced between {since} and "
                         f"report {att.report_counter} whose LICENSE_REPLACED entries this "
                         "verifier never read (the device's log ring overwrote them first): "
                         "the workloads they belong to are unknown"))
        start, retired_before = end, att.retired_msflop
        since = f"report {att.report_counter}"


def _is_fleet_entry(payload: bytes) -> bool:
    """An ORDER_APPLIED entry of a fleet order: a halt or lift-halt whose subject
    is its policy (a per-device halt or lift names none)."""
    return payload[0] in FLEET_ORDER_KINDS and any(payload[10:26])


def _applied_orders(chain: Chain, role: int, fleet: bool = False) -> list[tuple[int, int, bytes]]:
    """(log index, sequence, payload) of the ORDER_APPLIED entries of ``role``
    (with ``fleet``: of the fleet orders, which count apart) among the entries
    the verifier checked."""
    out = []
    for index in sorted(chain.entries):
        entry = chain.entries[index]
        if entry.event_type == EventType.ORDER_APPLIED and len(entry.payload) >= 26 \
                and entry.payload[1] == role and _is_fleet_entry(entry.payload) == fleet:
            out.append((index, int.from_bytes(entry.payload[2:10], "little"), entry.payload))
    return out


def _check_fleet_order(device_id: str, order: Order, ordered: Sequence[Report],
                       chain: Chain | None, flag) -> None:
    """A fleet order delivered to the device: its entry in the log is this
    order, and a log read through a report received past the order's lifetime
    holds it. (Reports attest no fleet counter: without the log nothing is
    checked.)"""
    if chain is None:
        return
    name = (f"fleet {order.order_kind.name.lower().replace('_', '-')} order {order.sequence} "
            f"of policy {order.policy_digest.hex()[:16]}...")
    mine = [payload for _, sequence, payload in _applied_orders(chain, SignerRole.BOARD, True)
            if sequence == order.sequence and bytes(payload[10:26]) == order.subject_id]
    if mine:
        if mine[0][0] != order.order_kind:
            flag(Anomaly(device_id, "order-not-applied",
                         f"{name}: the device applied another order under its sequence"))
        return
    late = [chain.heads.get(r.attestation.log_head) for r in ordered
            if r.received_at >= order.issued_at + ORDER_LIFETIME_S]
    high = min((p for p in late if p is not None), default=None)
    if high is not None and chain.all_entries_between(0, high):
        flag(Anomaly(device_id, "order-not-applied",
                     f"{name}, recorded as delivered, was never applied: the device's whole "
                     f"log up to a report received after the order's lifetime (entries 0 to "
                     f"{high - 1}) does not hold it"))


def _check_order(device_id: str, order: Order, ordered: Sequence[Report], chain: Chain | None,
                 flag) -> None:
    if order.fleet:
        _check_fleet_order(device_id, order, ordered, chain, flag)
        return
    role = SignerRole(order.signer_role)
    field_name = ORDER_SEQUENCE_FIELDS[role]
    name = (f"{order.order_kind.name.lower().replace('_', '-')} order {order.sequence} of the "
            f"{role.name.lower()}")
    # Past its lifetime an order can no longer apply (a device that computes has
    # trusted time): a report then still below it means it never will.
    late = next((r for r in ordered if r.received_at >= order.issued_at + ORDER_LIFETIME_S
                 and getattr(r.attestation, field_name) < order.sequence), None)
    if late is not None:
        flag(Anomaly(device_id, "order-not-applied",
                     f"{name}, recorded as delivered, was never applied: report "
                     f"{late.attestation.report_counter}, received after the order's lifetime, "
                     f"shows the {role.name.lower()}'s last accepted order is "
                     f"{getattr(late.attestation, field_name)}"))
        return
    if chain is None:
        return
    applied = _applied_orders(chain, int(role))
    mine = [payload for _, sequence, payload in applied if sequence == order.sequence]
    if mine:
        if mine[0][0] != order.order_kind or mine[0][10:26] != order.subject_id:
            flag(Anomaly(device_id, "order-not-applied",
                         f"{name}: the device applied another order under its sequence"))
        return
    # Where its ORDER_APPLIED entry would be: after the role's order before it,
    # before the role's order after it (or the first report past it).
    low = max((i + 1 for i, sequence, _ in applied if sequence < order.sequence), default=0)
    high = min((i for i, sequence, _ in applied if sequence > order.sequence), default=None)
    if high is None:
        past = [chain.heads.get(r.attestation.log_head) for r in ordered
                if getattr(r.attestation, field_name) >= order.sequence]
        high = min((p for p in past if p is not None), default=None)
    if high is not None and low <= high and chain.all_entries_between(low, high):
        flag(Anomaly(device_id, "order-voided",
                     f"{name}, recorded as delivered, is not in the device's log where it "
                     f"would be (entries {low} to {high - 1} are all known): a later order of "
                     "its role was applied first, and the device refuses it as a replay"))


def _check_log_positions(device_id: str, ordered: Sequence[Report], chain: Chain, flag) -> None:
    positions = [chain.heads.get(r.attestation.log_head) for r in ordered]
    previous_position: int | None = None
    for i, (report, position) in enumerate(zip(ordered, positions)):
        att = report.attestation
        if position is None:
            # Where it could be: no earlier than the report before it, no later
            # than any report after it (by the order they were received), nor
            # than the log length read right after any of those.
            low = previous_position or 0
            bounds = [p for p in positions[i + 1:] if p is not None] + [
                r.log_length_after for r in ordered[i + 1:] if r.log_length_after is not None]
            high = min(bounds, default=None)
            if report.log_length_after is None and chain.unread_between(low, high):
                flag(Anomaly(device_id, "log-unverified",
                             f"report {att.report_counter}: log head "
                             f"{att.log_head.hex()[:16]}... falls in a part of the event log "
                             "this verifier never read (the device's ring overwrote it first)",
                             severe=False))
            else:
                flag(Anomaly(device_id, "fork",
                             f"report {att.report_counter}: log head {att.log_head.hex()[:16]}... "
                             "is not on the device's event-log chain (forked or rewritten log)"))
            continue
        if report.log_length_after is not None and position > report.log_length_after:
            flag(Anomaly(device_id, "fork",
                         f"report {att.report_counter}: log head is at entry {position}, but "
                         f"the log read right after it had {report.log_length_after} entries"))
        if previous_position is not None and position < previous_position:
            flag(Anomaly(device_id, "fork",
                         f"report {att.report_counter}: log went back from entry "
                         f"{previous_position} to {position}"))
        previous_position = position


def _check_pair(device_id: str, previous: Report, report: Report, chain: Chain | None,
                flag) -> None:
    prev, att = previous.attestation, report.attestation
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
    for role, field_name in ORDER_SEQUENCE_FIELDS.items():
        before, after = getattr(prev, field_name), getattr(att, field_name)
        if after < before:
            flag(Anomaly(device_id, "rollback",
                         f"the {role.name.lower()}'s order counter fell from {before} to "
                         f"{after} between reports {prev.report_counter} and "
                         f"{att.report_counter}"))
    if att.reset_count < prev.reset_count:
        flag(Anomaly(device_id, "rollback",
                     f"reset count fell from {prev.reset_count} to {att.reset_count}"))
    elif att.reset_count > prev.reset_count:
        resets = att.reset_count - prev.reset_count
        logged = None
        if chain is not None:
            start, end = chain.heads.get(prev.log_head), chain.heads.get(att.log_head)
            if start is not None and end is not None and chain.all_entries_between(start, end):
                logged = sum(1 for i in range(start, end)
                             if chain.entries[i].event_type == EventType.RESET)
        if logged is not None and logged != resets:
            flag(Anomaly(device_id, "reset",
                         f"{resets} resets between reports {prev.report_counter} and "
                         f"{att.report_counter}, the log shows {logged}"))
        else:
            flag(Anomaly(device_id, "reset",
                         f"device reset {resets} time(s) between reports "
                         f"{prev.report_counter} and {att.report_counter}", severe=False))
