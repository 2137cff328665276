"""Licensing a workload across a fleet; orders and time beacons.

A workload's planned total is split into per-device allocations that add up
exactly; its class follows from its compute graph size (planned compute plus
lineage) against the Frontier and Horizon thresholds of the policy in force
on its start date. Each device gets its own license record: the issuer signs
it at once, and the co-signatures its class needs (the named inspector; above
Horizon a board supermajority and every party representative) are collected
with the offline vote workflow of openheg.board.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from . import wire
from .board import Proposal, check_license_signatures, combine, sign_proposal
from .crypto import SigningKey
from .errors import OpenhegError
from .policy import SECONDS_PER_DAY
from .wire import (
    License,
    LicenseClass,
    Order,
    OrderKind,
    Policy,
    RecordType,
    SignatureEntry,
    SignerRole,
    TimeBeacon,
    WorkloadKind,
)


class LicensingError(OpenhegError):
    """A workload that cannot be licensed as asked; the message says what to change."""


# A device judges a license's window on its trusted time, an interval that
# widens with clock drift since the last beacon; a license meant to start "now"
# must already be valid at the earliest time the device can believe it is.
# Five minutes is far above the drift a policy allows between beacons
# (parts per million over at most a day).
VALIDITY_BACKDATE_S = 300


# The longest validity a license may be issued for, in days (a century): far
# past any planned workload, and far inside the wire's u64 seconds.
MAX_VALID_DAYS = 36525


def validity_window(start: int, valid_days: float) -> tuple[int, int]:
    """not_before and not_after of a license issued at ``start`` (unix seconds)."""
    if not 0 < valid_days <= MAX_VALID_DAYS:  # false for nan too
        raise LicensingError(f"a license is valid for more than 0 and at most {MAX_VALID_DAYS} "
                             f"days (a century), not {valid_days}")
    return max(start - VALIDITY_BACKDATE_S, 0), start + int(valid_days * SECONDS_PER_DAY)


def workload_id_for(name: str) -> bytes:
    """A workload's 16-byte id: a hash of its registered name."""
    if not name.strip():
        raise LicensingError("a workload needs a name: an empty one names nothing a report, "
                             "pause or ledger can find again")
    return hashlib.sha256(b"openheg workload: " + name.encode()).digest()[:wire.ID_SIZE]


def issue_license(issuer: SigningKey, *, device_id: bytes, workload: str, sequence: int,
                  allocation_msflop: int, valid_days: float = 30.0,
                  workload_total_msflop: int | None = None, lineage_msflop: int = 0,
                  now: int | None = None,
                  workload_kind: WorkloadKind = WorkloadKind.PRE_TRAINING) -> License:
    """A standard-class license for one device, signed by the issuer alone.
    ``workload_kind``: what the workload is (an inference license holds the
    device's interconnect to the policy's inference cap).

    The one-device path for test benches and scripts; plan_workload and
    sign_licenses handle fleets and the Frontier and Horizon classes.
    """
    not_before, not_after = validity_window(int(time.time()) if now is None else now,
                                            valid_days)
    body = License(
        license_id=os.urandom(wire.ID_SIZE), device_id=device_id,
        workload_id=workload_id_for(workload), sequence=sequence,
        allocation_msflop=allocation_msflop,
        workload_total_msflop=allocation_msflop if workload_total_msflop is None
        else workload_total_msflop,
        lineage_msflop=lineage_msflop, not_before=not_before, not_after=not_after,
        license_class=LicenseClass.STANDARD, oversight_ppm=0, inspector_key=bytes(wire.KEY_SIZE),
        workload_kind=workload_kind, signatures=())
    signature = issuer.sign_record(RecordType.LICENSE, body.body())
    return replace(body, signatures=(SignatureEntry(issuer.public_key, signature),))


def split_allocation(total_msflop: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (e.g. device capacities),
    exactly: largest remainder, every device at least 1 milli-sFLOP, the sum
    equal to the total. Ties go to the earlier device, so the split is
    deterministic."""
    n = len(weights)
    if n == 0:
        raise LicensingError("no devices to allocate to")
    if any(w <= 0 for w in weights):
        raise LicensingError("device weights must be positive")
    if total_msflop < n:
        raise LicensingError(f"a total of {total_msflop} milli-sFLOP cannot give each of "
                             f"{n} devices a positive allocation")
    # Give each device 1 first so none is left at zero, then split the rest.
    rest = total_msflop - n
    weight_sum = sum(weights)
    shares = [rest * w // weight_sum for w in weights]
    remainders = sorted(range(n), key=lambda i: (-(rest * weights[i] % weight_sum), i))
    for i in remainders[:rest - sum(shares)]:
        shares[i] += 1
    return [s + 1 for s in shares]


def license_class_for(policy: Policy, graph_size_msflop: int, day: int) -> LicenseClass:
    """At or above H: Horizon; at or above F: Frontier; otherwise standard
    (the firmware's rule, to the milli-sFLOP)."""
    if graph_size_msflop >= policy.horizon_msflop(day):
        return LicenseClass.HORIZON
    if graph_size_msflop >= policy.frontier_msflop(day):
        return LicenseClass.FRONTIER
    return LicenseClass.STANDARD


@dataclass(frozen=True)
class DeviceSlot:
    device_id: bytes
    sequence: int  # the license sequence this device will accept next
    weight: int = 1


@dataclass(frozen=True)
class WorkloadPlan:
    workload: str
    workload_id: bytes
    planned_msflop: int
    lineage_msflop: int
    license_class: LicenseClass
    licenses: tuple[License, ...]  # unsigned drafts, one per device

    @property
    def graph_size_msflop(self) -> int:
        return self.planned_msflop + self.lineage_msflop


def plan_workload(policy: Policy, *, workload: str, planned_msflop: int, lineage_msflop: int,
                  devices: Sequence[DeviceSlot], start: int | None = None,
                  valid_days: float = 30.0, inspector_key: bytes | None = None,
                  oversight_ppm: int | None = None,
                  lineage_digest: bytes = bytes(wire.DIGEST_SIZE),
                  workload_kind: WorkloadKind = WorkloadKind.PRE_TRAINING) -> WorkloadPlan:
    """Unsigned license drafts for every device, with the class the thresholds
    demand and the kind the workload declares (``workload_kind``).

    ``lineage_digest``: openheg.lineage.Lineage.digest of the registered lineage
    that ``lineage_msflop`` comes from (zero: the workload cites no registry)."""
    start = int(time.time()) if start is None else start
    day = start // SECONDS_PER_DAY
    license_class = license_class_for(policy, planned_msflop + lineage_msflop, day)
    if license_class == LicenseClass.STANDARD:
        inspector, ppm = bytes(wire.KEY_SIZE), 0
    else:
        if inspector_key is None:
            raise LicensingError(f"a {license_class.name.lower()} workload needs an inspector: "
                                 "name one of the policy's inspectors")
        if inspector_key not in policy.inspector_keys:
            raise LicensingError("the named inspector is not one of the policy's inspectors")
        inspector = inspector_key
        ppm = policy.oversight_min_ppm if oversight_ppm is None else oversight_ppm
        if ppm < policy.oversight_min_ppm:
            raise LicensingError(f"oversight must be at least {policy.oversight_min_ppm} ppm")
    if len({d.device_id for d in devices}) != len(devices):
        raise LicensingError("a device is listed twice")
    allocations = split_allocation(planned_msflop, [d.weight for d in devices])
    workload_id = workload_id_for(workload)
    not_before, not_after = validity_window(start, valid_days)
    drafts = tuple(License(
        license_id=os.urandom(wire.ID_SIZE), device_id=d.device_id, workload_id=workload_id,
        sequence=d.sequence, allocation_msflop=allocation, workload_total_msflop=planned_msflop,
        lineage_msflop=lineage_msflop, not_before=not_before, not_after=not_after,
        license_class=license_class,
        oversight_ppm=ppm, inspector_key=inspector, lineage_digest=lineage_digest,
        workload_kind=workload_kind)
        for d, allocation in zip(devices, allocations))
    return WorkloadPlan(workload, workload_id, planned_msflop, lineage_msflop, license_class,
                        drafts)


def sign_licenses(policy: Policy, drafts: Sequence[License],
                  signers: Sequence[SigningKey]) -> list[License]:
    """Sign each draft with every key in ``signers`` (all on one machine: the
    demo and tests) and check the result against the class's rule."""
    signed = []
    for draft in drafts:
        proposal = Proposal(draft)
        record = combine(proposal, [sign_proposal(proposal, key) for key in signers])
        check_license_signatures(policy, record)
        signed.append(record)
    return signed


# The role that gives each kind of order unless the caller names another one
# allowed for it (wire.ORDER_SIGNER_ROLES): a resume by the board says so.
DEFAULT_SIGNER_ROLES = {
    OrderKind.PAUSE: SignerRole.INSPECTOR,
    OrderKind.RESUME: SignerRole.INSPECTOR,
    OrderKind.HALT: SignerRole.BOARD,
    OrderKind.LIFT_HALT: SignerRole.BOARD,
    OrderKind.REVOKE: SignerRole.ISSUER,
    OrderKind.RELEASE_OVERSIGHT: SignerRole.INSPECTOR,
}


def issue_order(kind: OrderKind, *, device_id: bytes, sequence: int,
                license_: License | None = None, workload_id: bytes | None = None,
                signer_role: SignerRole | None = None, now: int | None = None) -> Order:
    """An unsigned order. PAUSE and RESUME name a workload (``workload_id``, or
    ``license_``'s workload): the pause binds it whatever license runs it.
    RELEASE_OVERSIGHT names ``license_`` by id and sequence; REVOKE is made by
    issue_revocation, which also sets its floor; HALT and LIFT_HALT name
    nothing. ``sequence`` is the next one of ``signer_role``'s counter on the
    device (DeviceInfo.next_order_sequence); the order must be delivered within
    wire.ORDER_LIFETIME_S of ``now``."""
    role = DEFAULT_SIGNER_ROLES[kind] if signer_role is None else signer_role
    what = kind.name.lower().replace("_", "-")
    names_license = kind in wire.ORDERS_NAMING_A_LICENSE
    names_workload = kind in wire.ORDERS_NAMING_A_WORKLOAD
    if names_workload and (license_ is None) == (workload_id is None):
        raise LicensingError(f"a {what} order names its workload: give its id or a license "
                             "for it, one of the two")
    if not names_workload and workload_id is not None:
        raise LicensingError(f"a {what} order names no workload")
    if names_license and license_ is None:
        raise LicensingError(f"a {what} order names a license: give it")
    if not names_license and not names_workload and license_ is not None:
        raise LicensingError(f"a {what} order names no license")
    if names_workload:
        workload = workload_id if workload_id is not None else license_.workload_id
    else:
        workload = bytes(wire.ID_SIZE)
    return Order(order_kind=kind, signer_role=role, device_id=device_id,
                 license_id=license_.license_id if names_license else bytes(wire.ID_SIZE),
                 license_sequence=(license_.sequence if kind == OrderKind.RELEASE_OVERSIGHT
                                   else 0),
                 workload_id=workload,
                 sequence=sequence, issued_at=int(time.time()) if now is None else now)


def issue_fleet_order(kind: OrderKind, *, policy: Policy, sequence: int,
                      now: int | None = None) -> Order:
    """An unsigned fleet order (the universal cut-off): a HALT or LIFT_HALT of
    the board for every device under ``policy``, bound to its digest (a device
    under another policy refuses it). ``sequence`` counts fleet orders under
    that policy (wire.FLEET_ORDER_KINDS); a board quorum of it signs."""
    if kind not in wire.FLEET_ORDER_KINDS:
        raise LicensingError(f"a fleet order is a halt or lift-halt, not a "
                             f"{kind.name.lower().replace('_', '-')}")
    return Order(order_kind=kind, signer_role=SignerRole.BOARD, device_id=bytes(wire.KEY_SIZE),
                 license_id=bytes(wire.ID_SIZE), license_sequence=0,
                 workload_id=bytes(wire.ID_SIZE), sequence=sequence,
                 issued_at=int(time.time()) if now is None else now,
                 policy_digest=policy.digest)


def issue_revocation(license_: License, *, sequence: int, license_sequence_floor: int | None = None,
                     signer_role: SignerRole = SignerRole.ISSUER, now: int | None = None) -> Order:
    """An unsigned REVOKE order for ``license_``'s device (to be signed by the
    issuer, or by a board quorum with ``signer_role`` BOARD): the device stops
    the license if it is in force, for good, and refuses every license whose
    sequence is at most ``license_sequence_floor`` (default: the license's own
    sequence). To cover renewals signed in advance, give the highest sequence
    issued for the device; it may lie at most wire.MAX_SEQUENCE_JUMP above the
    device's current floor. ``sequence`` counts on the signer role's order counter."""
    floor = license_.sequence if license_sequence_floor is None else license_sequence_floor
    if floor < license_.sequence:
        raise LicensingError(f"the floor {floor} is below the revoked license's own sequence "
                             f"{license_.sequence}: renewals of it up to the floor would still "
                             "install")
    order = issue_order(OrderKind.REVOKE, device_id=license_.device_id, sequence=sequence,
                        license_=license_, signer_role=signer_role, now=now)
    return replace(order, license_sequence_floor=floor)


def sign_order(order: Order, signers: Sequence[SigningKey]) -> Order:
    proposal = Proposal(order)
    return combine(proposal, [sign_proposal(proposal, key) for key in signers])


def time_beacon(time_authority: SigningKey, *, device_id: bytes, device_nonce: bytes,
                unix_time: int | None = None) -> TimeBeacon:
    body = TimeBeacon(device_id=device_id, device_nonce=device_nonce,
                      unix_time=int(time.time()) if unix_time is None else unix_time)
    return replace(body, signature=time_authority.sign_record(RecordType.TIME_BEACON, body.body()))
