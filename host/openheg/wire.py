"""Wire formats v1: the canonical definition of every signed record and device message.

This module is the specification. The firmware's C header of offsets, sizes
and codes is generated from it (tools/wire_gen.py), and the golden vectors in
tests/vectors/ hold the C parser to the same bytes.

Rules every record follows:

* A 6-byte header: magic ``OHEG``, a record type, a version.
* Integers are little-endian; compute amounts are u128 in milli-sFLOP, so
  Python, C and Verilog agree to the bit.
* What is signed is a domain string (one per record type, NUL-terminated)
  followed by the exact body bytes. A signature made for one record type can
  never verify as another.
* Exactly one encoding is valid: fixed sizes, no trailing bytes, enums and
  ranges checked, signature sets sorted strictly by signer key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from enum import IntEnum, IntFlag
from typing import Any, ClassVar

from construct import (
    Bytes,
    BytesInteger,
    Const,
    ConstError,
    Construct,
    ConstructError,
    Container,
    GreedyBytes,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    PrefixedArray,
    StreamError,
    Struct,
    Terminated,
    TerminatedError,
)

from . import regmap
from .errors import DeviceStatus, RecordError

MAGIC = b"OHEG"
VERSION = 1
KEY_SIZE = 32
SIGNATURE_SIZE = 64
NONCE_SIZE = 32
ID_SIZE = 16
DIGEST_SIZE = 32
MAX_LICENSE_SIGNATURES = 8
MAX_U128 = (1 << 128) - 1
MAX_U64 = (1 << 64) - 1
MAX_U32 = (1 << 32) - 1
OVERSIGHT_PPM_MAX = 1_000_000
# A license may skip ahead by at most this many sequence numbers. Larger jumps
# are refused so that one leaked far-future license cannot lock a device out.
MAX_SEQUENCE_JUMP = 1 << 20
# Largest request or response payload a device must accept, header included.
MAX_MESSAGE_SIZE = 1024
# Attestation report counters are reserved this many at a time (one flash
# commit per block, not per ATTEST). After a power cut or reboot the device
# resumes past the whole reserved block, so a report counter is never signed
# twice, and between two reports it jumps by at most this much per reboot.
REPORT_COUNTER_BLOCK = 64
# A time beacon must answer a nonce at most this old (device uptime): an operator
# who holds a prompt answer back cannot make the device believe an old time.
NONCE_LIFETIME_S = 300
# The clock monitor (firmware/src/timekeeping.c, docs/security.md G9): the board
# feeds the device's clock, and the operator owns the board, so uptime is
# checked against a reference oscillator inside the package (heg_hal.h). The
# true time elapsed is within REFERENCE_TOLERANCE_PPM of the reference's reading
# (plus REFERENCE_RESOLUTION_MS, its coarsest tick on any port): a trimmed RC
# oscillator, coarse next to a crystal, which is why trusted time takes the wider
# of the two clocks' bounds. Fixed in the firmware: no policy can loosen it.
REFERENCE_TOLERANCE_PPM = 20_000
REFERENCE_RESOLUTION_MS = 10
# The two clocks are compared over windows of at least this long on either:
# their disagreeing by more than both tolerances allow, over a window and over it
# and the window before together, latches tamper (MeterEvidence.CLOCK_DISAGREES).
CLOCK_MONITOR_WINDOW_MS = 10_000


class RecordType(IntEnum):
    LICENSE = 0x01
    ATTESTATION = 0x02
    ENDORSEMENT = 0x03
    POLICY = 0x04
    TIME_BEACON = 0x05
    ORDER = 0x06
    RECOVERY = 0x08


DOMAINS: dict[RecordType, bytes] = {
    record_type: f"openheg/{record_type.name.lower().replace('_', '-')}/v{VERSION}\x00".encode()
    for record_type in RecordType
}


class LicenseClass(IntEnum):
    """Oversight class of a workload (DESIGN.md: Frontier and Horizon thresholds)."""

    STANDARD = 0x01  # below the Frontier threshold: the issuer signs
    FRONTIER = 0x02  # oversight during execution: the issuer and the named inspector sign
    HORIZON = 0x03  # the board's Horizon quorum and every party representative sign too


class WorkloadKind(IntEnum):
    """What a license declares its workload to be. The firmware acts on one
    distinction: a license of kind INFERENCE holds the interconnect to the
    policy's inference cap (link_cap_for)."""

    PRE_TRAINING = 0x01
    FINE_TUNING = 0x02
    INFERENCE = 0x03


# The kinds by the names scenarios, the CLI and the telemetry use.
WORKLOAD_KINDS: dict[str, WorkloadKind] = {
    kind.name.lower().replace("_", "-"): kind for kind in WorkloadKind}


class GateState(IntEnum):
    OPEN = 0x01
    CLOSED = 0x02


class GateCause(IntFlag):
    """Why the gate is closed. Bits 0-7 are the meter's GATE_CAUSE register as
    read; bits 8 and up are decided by the firmware."""

    EXHAUSTED = regmap.GATE_CAUSE_EXHAUSTED_MASK
    DISARMED = regmap.GATE_CAUSE_DISARMED_MASK
    FATAL = regmap.GATE_CAUSE_FATAL_MASK
    WATCHDOG = regmap.GATE_CAUSE_WATCHDOG_MASK  # the meter's watchdog expired (until reset)
    TAMPER = regmap.GATE_CAUSE_TAMPER_MASK  # tamper was raised: closed for good
    NO_LICENSE = 1 << 8
    PAUSED = 1 << 9  # an inspector's pause order is in force
    HALTED = 1 << 10  # a board emergency halt is in force
    TIME_UNTRUSTED = 1 << 11  # no fresh enough time beacon for a time-bound grant
    # Reserved, never set by the firmware: a lockout refuses signed commands,
    # but must not let a stranger's failed attempts stop a licensed workload.
    LOCKED_OUT = 1 << 12
    LICENSE_WINDOW = 1 << 13  # trusted time is outside the license's validity window
    # The policy in force has sFLOP weights the meter has not loaded: they load
    # (and lock) at reset, and nothing is metered with stale weights until then.
    WEIGHTS_PENDING = 1 << 14
    # The license in force was revoked (a REVOKE order, or a policy that revokes
    # its issuer or inspector): it never runs again.
    LICENSE_REVOKED = 1 << 15
    # The policy in force caps the interconnect link differently from what the
    # limiter holds: its RATE and BURST load (and lock) once a policy is in
    # force, and change only at reset, so nothing computes until then.
    LINK_PENDING = 1 << 16


class DeviceState(IntEnum):
    UNPROVISIONED = 0x01  # factory fresh: no key yet
    KEYED = 0x02  # device key made, vendor endorsement not yet stored
    PROVISIONED = 0x03  # endorsed and locked: provisioning can never run again
    # Its OTP anchor says it was provisioned, but its store is lost: gate
    # closed, only INFO, READ_LOG and a RECOVER its anchored vendor signed.
    RECOVERY_REQUIRED = 0x04


class EventType(IntEnum):
    """Entries of the device's hash-chained event log.

    Each entry extends the head as head' = SHA-512(head || type || payload)[0:32]
    (the first 32 bytes: SHA-512 because Ed25519 already needs it, so the device
    carries one hash function); payload integers are little-endian.
    """

    RESET = 0x01  # payload: reset count (u32)
    PROVISIONED = 0x02  # payload: device public key (32 bytes), logged at ENDORSE
    LICENSE_INSTALLED = 0x03  # payload: license id (16 bytes), sequence (u64)
    EXHAUSTED = 0x04  # payload: license id (16 bytes), consumed milli-sFLOP (u128)
    # payload: policy version (u32), the policy's digest (Policy.digest, 32 bytes):
    # two quorum-signed policies of one version are told apart in the log
    POLICY_INSTALLED = 0x05
    # payload: order kind (u8), signer role (u8), order sequence (u64), what the
    # order acts on (16: Order.subject_id, a workload id, a license id, or for a
    # fleet order the first 16 bytes of the policy digest it is bound to)
    ORDER_APPLIED = 0x06
    # Tamper latched for good: the meter's TAMPER cause, or what the firmware
    # read as a reset of the meter alone or as a tampered clock. Payload: GATE_CAUSE bits as read
    # (u32), MeterEvidence bits (u32; 0: the meter's own tamper input), STATUS
    # as read (u32).
    TAMPER = 0x07
    TIME_SET = 0x08  # payload: trusted unix time (u64)
    # A policy revoked the issuer or inspector of the license in force, which
    # stops for good. payload: license id (16 bytes), policy version (u32)
    LICENSE_REVOKED = 0x09
    # At boot the slot not in force held what looks like a newer record (magic,
    # layout, a counter above the one in force) that failed its digest: the
    # state of its commit is lost. A power cut during a commit tears a record
    # just so, honestly; so would corruption. Both are counted the same way
    # (Attestation.store_reverts). Payload: the lost record's counter (u64),
    # the counter of the record in force (u64).
    STORE_REVERTED = 0x10
    # RECOVER re-provisioned a device that had lost its store (a new device key,
    # the genesis policy its vendor named). Payload: the device id its OTP
    # anchor recorded at its first provisioning (32 bytes).
    RECOVERED = 0x11
    # INSTALL_LICENSE replaced the license in force, which stops here (whatever
    # its state: running, exhausted, revoked, out of its window); logged in the
    # commit that installs the new one. Payload: the outgoing license's id (16
    # bytes), sequence (u64), workload id (16 bytes) and what it consumed in
    # all (u128 milli-sFLOP; it never consumes more). The verifier credits it
    # to the workload (openheg.ledger: a license's total is the most its
    # reports and this entry show, so re-reading it never counts twice).
    LICENSE_REPLACED = 0x12


class MeterEvidence(IntFlag):
    """What the firmware reads in the metering block as a reset or rewrite of it
    that the MCU did not share, or in its two clocks as a tampered clock input (in
    the payload of EventType.TAMPER). The block's reset must be the MCU's reset
    and the board's clock must run within its drift; then none of these ever
    shows, and any of them latches tamper for good."""

    CONFIG_UNLOCKED = 1 << 0  # STATUS.cfg_locked clear: boot locked it, only a reset unlocks
    WATCHDOG_DISARMED = 1 << 1  # STATUS.wdog_armed clear although the firmware armed it
    ACCUMULATOR_BACKWARDS = 1 << 2  # below the firmware's last reading
    LANE_BACKWARDS = 1 << 3  # a lane counter below the lane totals last persisted
    LIMIT_CHANGED = 1 << 4  # LIMIT reads back other than what the firmware last wrote
    # Not the meter's: the clock monitor saw uptime (the board's clock) and the
    # reference oscillator inside the package disagree beyond both tolerances
    # over a window and over it and the one before together
    # (CLOCK_MONITOR_WINDOW_MS): a slowed, stopped or sped-up clock input, or a
    # stopped reference.
    CLOCK_DISAGREES = 1 << 5


class OrderKind(IntEnum):
    # An inspector the policy lists stops a workload, whatever license runs it
    # (the device records it in its workload table even while another runs).
    PAUSE = 0x01
    RESUME = 0x02  # the inspector who paused, or a board quorum (due process), lets it go on
    HALT = 0x03  # a board quorum stops every license on the device
    LIFT_HALT = 0x04  # a board quorum ends a halt
    # The issuer or a board quorum revokes a license: the license it names stops
    # for good if it is in force, and the device's license-sequence floor rises to
    # license_sequence_floor, so that renewals signed in advance are refused too.
    REVOKE = 0x05
    # The inspector named in the license in force releases its oversight reserve
    # (the order names that license's id and sequence): the workload may then
    # use the whole allocation.
    RELEASE_OVERSIGHT = 0x06


class SignerRole(IntEnum):
    """Who gives an order, written in its body: each role has its own anti-replay
    counter on the device, so no role's order can void another's undelivered one."""

    INSPECTOR = 0x01
    BOARD = 0x02
    ISSUER = 0x03


# The roles that may give each kind of order.
ORDER_SIGNER_ROLES: dict[OrderKind, frozenset[SignerRole]] = {
    OrderKind.PAUSE: frozenset({SignerRole.INSPECTOR}),
    OrderKind.RESUME: frozenset({SignerRole.INSPECTOR, SignerRole.BOARD}),
    OrderKind.HALT: frozenset({SignerRole.BOARD}),
    OrderKind.LIFT_HALT: frozenset({SignerRole.BOARD}),
    OrderKind.REVOKE: frozenset({SignerRole.ISSUER, SignerRole.BOARD}),
    OrderKind.RELEASE_OVERSIGHT: frozenset({SignerRole.INSPECTOR}),
}
# Orders that only take compute away. The device accepts them without trusted
# time and during a lockout: refusing them would let an operator block a pause
# by withholding beacons or by sending bad records.
RESTRICTIVE_ORDERS = frozenset({OrderKind.PAUSE, OrderKind.HALT, OrderKind.REVOKE})
# What each kind acts on (OrderBodyFormat): HALT and LIFT_HALT act on the device.
ORDERS_NAMING_A_LICENSE = frozenset({OrderKind.REVOKE, OrderKind.RELEASE_OVERSIGHT})
ORDERS_NAMING_A_WORKLOAD = frozenset({OrderKind.PAUSE, OrderKind.RESUME})
# Anti-replay (G11): an order that grants (RESUME, LIFT_HALT, RELEASE_OVERSIGHT)
# needs a sequence above its role's highest accepted one. An order that only
# restricts is also accepted below it, once, if it is among the
# ORDER_REPLAY_WINDOW sequences just below the highest (a bitmap per role,
# persisted), so a later order of the role cannot void an undelivered one;
# an older one is refused (OUTSIDE_REPLAY_WINDOW).
ORDER_REPLAY_WINDOW = 64
# The kinds a fleet order may have (device_id zeros, bound to a policy
# digest), given by a board quorum of that policy. A fleet halt is lifted only
# by a fleet LIFT_HALT: no per-device order (one the board signed in advance,
# held back by the operator) lifts it. Fleet orders have their own
# anti-replay: a sequence above the highest accepted under the policy in
# force (no window: the board's latest fleet order is the one that counts),
# starting again from zero under each new policy.
FLEET_ORDER_KINDS = frozenset({OrderKind.HALT, OrderKind.LIFT_HALT})
# With trusted time, an order issued longer ago than this (or after the
# device's latest possible time) is refused.
ORDER_LIFETIME_S = 86_400


class Command(IntEnum):
    INFO = 0x01
    PROVISION = 0x02
    ENDORSE = 0x03
    INSTALL_LICENSE = 0x04
    ATTEST = 0x05
    READ_ENDORSEMENT = 0x06
    INSTALL_POLICY = 0x07
    TIME_NONCE = 0x08
    TIME_BEACON = 0x09
    ORDER = 0x0A
    READ_LOG = 0x0B
    RECOVER = 0x0C
    # ATTEST's report as an EAT (RFC 9711): a COSE_Sign1 CWT over CBOR claims,
    # docs/eat.md. Same request, counter and rules as ATTEST.
    ATTEST_EAT = 0x0D


class Baseline(IntFlag):
    """Protections no vote can remove: a policy must set every one of these bits."""

    METERING = 1 << 0
    FAIL_CLOSED = 1 << 1
    ATTESTATION = 1 << 2


ALL_BASELINES = Baseline.METERING | Baseline.FAIL_CLOSED | Baseline.ATTESTATION


@dataclass(frozen=True)
class PolicyBound:
    """A range no policy may leave, whatever the board signs (a baseline)."""

    field: str
    minimum: int
    maximum: int
    reason: str

    @property
    def encoding_max(self) -> int:
        """The largest value the field's encoding can carry."""
        return (1 << (8 * PolicyFixedFormat.subcons[_POLICY_FIELD_INDEX[self.field]].sizeof())) - 1


# The interconnect cap's encodable range (heg_link's RATE and BURST registers).
LINK_MAX_MB_PER_S = 10_000_000
LINK_MAX_BURST_WIRE_BYTES = (1 << 24) - 1
LINK_RATE_FRACTION_BITS = 16
LINK_RATE_REGISTER_MAX = (1 << 32) - 1


def link_rate_register(wire_mb_per_s: int, clock_hz: int) -> int:
    """The limiter's RATE (wire bytes per cycle x 2^16) the firmware loads for a
    policy's ``link_wire_mb_per_s`` on a limiter clocked at ``clock_hz``
    (firmware/src/link.c): rounded down, so never looser than the policy, and
    at most the register's maximum, which is past any beat a cycle carries."""
    if clock_hz <= 0:
        return 0
    rate = (wire_mb_per_s * 10**6 << LINK_RATE_FRACTION_BITS) // clock_hz
    return min(rate, LINK_RATE_REGISTER_MAX)

POLICY_BOUNDS: tuple[PolicyBound, ...] = (
    PolicyBound("watchdog_period_cycles", 1 << 10, 1 << 30,
                "0 never arms the meter's watchdog, so a hung firmware would leave the gate "
                "open; below 1,024 meter cycles a healthy firmware cannot kick it in time; a "
                "hung firmware keeps the gate open for at most this many cycles (2^30 is about "
                "10 s at 100 MHz)"),
    PolicyBound("lockout_threshold", 1, 32,
                "0 turns the failed-attempt lockout off; above 32 a guesser gets too many "
                "tries per lockout period"),
    PolicyBound("lockout_duration_s", 60, 86_400,
                "under a minute a lockout barely slows a guesser; over a day, anyone who can "
                "send bad records could stall the authority's licenses and permissive orders "
                "that long"),
    PolicyBound("beacon_max_age_s", 60, 86_400,
                "a beacon needs time to arrive (a minute); trusted time older than a day lets "
                "the clock's drift, which the operator may push to its worst case, stretch "
                "every validity window"),
    PolicyBound("clock_drift_ppm", 20, 100_000,
                "no oscillator holds better than 20 ppm over temperature and age, and a smaller "
                "figure would make the device's time interval narrower than its clock can "
                "vouch for; beyond 10 % the interval outgrows any beacon schedule"),
    PolicyBound("oversight_min_ppm", 1_000, OVERSIGHT_PPM_MAX,
                "a Frontier or Horizon license must hold back at least 0.1 % of its compute "
                "for oversight (DESIGN: a fixed fraction is reserved); more than all of it "
                "means nothing"),
    PolicyBound("link_wire_mb_per_s", 0, LINK_MAX_MB_PER_S,
                "0 closes the interconnect; 10 TB/s is past any accelerator link today, and "
                "keeps the firmware's conversion to the limiter's RATE inside 64 bits"),
    PolicyBound("link_burst_wire_bytes", 0, LINK_MAX_BURST_WIRE_BYTES,
                "the limiter's BURST register holds 24 bits; 0 (or less than one beat's cost) "
                "lets nothing through"),
    PolicyBound("inference_link_wire_mb_per_s", 0, LINK_MAX_MB_PER_S,
                "as link_wire_mb_per_s; the maximum sets no cap beyond the general one"),
    PolicyBound("inference_link_burst_wire_bytes", 0, LINK_MAX_BURST_WIRE_BYTES,
                "as link_burst_wire_bytes; the maximum sets no cap beyond the general one"),
)
# sFLOP weights: each lane between half and four times its DESIGN default.
WEIGHT_FLOOR_DIVISOR = 2
WEIGHT_CEILING_FACTOR = 4
WEIGHT_BOUND_REASON = ("metering is a baseline: a weight below half its DESIGN default "
                       "under-counts the format's compute (1 milli-sFLOP would make metering "
                       "meaningless), and one above four times it exhausts licenses for nothing")


def weight_bounds(lane: str) -> tuple[int, int]:
    """The range of the sFLOP weight of ``lane`` (milli-sFLOP per op)."""
    default = regmap.DEFAULT_WEIGHTS_MILLI[lane]
    return default // WEIGHT_FLOOR_DIVISOR, default * WEIGHT_CEILING_FACTOR
MAX_KEY_LIST = 16  # board members, inspectors, party representatives per policy
MAX_REVOKED_KEYS = 32
MAX_RECORD_SIGNATURES = 16  # policies and orders (licenses: MAX_LICENSE_SIGNATURES)
MAX_LOG_PAYLOAD = 64
MAX_LOG_ENTRIES_PER_READ = 8

u128 = BytesInteger(16, signed=False, swapped=True)
Key = Bytes(KEY_SIZE)


def _header(record_type: RecordType) -> list[Construct]:
    return [
        "magic" / Const(MAGIC),
        "record_type" / Const(int(record_type), Int8ul),
        "version" / Const(VERSION, Int8ul),
    ]


SignatureEntryFormat = Struct(
    "signer" / Bytes(KEY_SIZE),
    "signature" / Bytes(SIGNATURE_SIZE),
)
SignatureSetFormat = PrefixedArray(Int8ul, SignatureEntryFormat)
KeyListFormat = PrefixedArray(Int8ul, Key)

LicenseBodyFormat = Struct(
    *_header(RecordType.LICENSE),
    "license_id" / Bytes(ID_SIZE),
    "device_id" / Key,
    "workload_id" / Bytes(ID_SIZE),
    "sequence" / Int64ul,
    "allocation_msflop" / u128,
    "workload_total_msflop" / u128,
    "lineage_msflop" / u128,
    "not_before" / Int64ul,
    "not_after" / Int64ul,
    "license_class" / Int8ul,
    "oversight_ppm" / Int32ul,
    "inspector_key" / Key,
    # SHA-256 over the workload's lineage in the signed registry it cites
    # (openheg.lineage.Lineage.digest); zero when it cites none. The firmware
    # only carries it: verifiers check the declared lineage against it.
    "lineage_digest" / Bytes(DIGEST_SIZE),
    # What the workload is (WorkloadKind): an inference license runs under the
    # policy's inference interconnect cap (link_cap_for).
    "workload_kind" / Int8ul,
)

AttestationBodyFormat = Struct(
    *_header(RecordType.ATTESTATION),
    "device_id" / Key,
    "nonce" / Bytes(NONCE_SIZE),
    "firmware_measurement" / Bytes(DIGEST_SIZE),
    "policy_version" / Int32ul,
    "license_id" / Bytes(ID_SIZE),
    "license_sequence" / Int64ul,
    "lane_ops" / u128[len(regmap.LANES)],
    "consumed_msflop" / u128,
    "remaining_msflop" / u128,  # what the workload may still run (the reserve not counted)
    "gate_state" / Int8ul,
    "gate_causes" / Int32ul,
    "report_counter" / Int64ul,
    "reset_count" / Int32ul,
    "log_head" / Bytes(DIGEST_SIZE),
    "oversight_reserved_msflop" / u128,  # held back for oversight until the inspector releases it
    "inspector_order_sequence" / Int64ul,  # each signer role's last accepted order
    "board_order_sequence" / Int64ul,
    "issuer_order_sequence" / Int64ul,
    "store_reverts" / Int32ul,  # boots that found their newest record lost (STORE_REVERTED)
    # The policy in force: its digest (Policy.digest), so that of two
    # quorum-signed policies with one version the verifier knows which one runs.
    "policy_digest" / Bytes(DIGEST_SIZE),
    # What the workload of the license in force has consumed on this device
    # under all its licenses the device remembers (its grant table entry: the
    # replaced ones' final totals, plus consumed_msflop); 0 when no license.
    "workload_msflop" / u128,
    # What every license replaced on this device consumed, summed (never
    # decreases): what the LICENSE_REPLACED entries of the log add up to, so a
    # verifier sees compute it could not credit to a workload (entries the
    # ring overwrote before anyone read them).
    "retired_msflop" / u128,
    # The interconnect limiter as the firmware reads it back: its clock (the
    # port's), RATE (wire bytes per cycle x 65536) and BURST, and the wire
    # bytes it has let through since reset (the limiter restarts at 0 with the
    # rest of the part; saturating).
    "link_clock_hz" / Int32ul,
    "link_rate" / Int32ul,
    "link_burst" / Int32ul,
    "link_wire_bytes" / Int64ul,
)

EndorsementBodyFormat = Struct(
    *_header(RecordType.ENDORSEMENT),
    "device_id" / Key,
    "vendor_key" / Key,
    "issued_at" / Int64ul,
)

# A policy's fixed-size fields come first so the firmware reads them at fixed
# offsets; the four key lists follow, each a u8 count and that many keys,
# sorted strictly ascending.
PolicyFixedFormat = Struct(
    *_header(RecordType.POLICY),
    "policy_version" / Int32ul,
    "issued_at" / Int64ul,
    "board_threshold" / Int8ul,
    "horizon_board_threshold" / Int8ul,
    "issuer_key" / Key,
    "time_authority_key" / Key,
    "weights_milli" / Int32ul[len(regmap.LANES)],
    "frontier_base_msflop" / u128,
    "frontier_daily_increase_msflop" / u128,
    "horizon_base_msflop" / u128,
    "horizon_daily_increase_msflop" / u128,
    "schedule_epoch_day" / Int32ul,
    "oversight_min_ppm" / Int32ul,
    "allowance_chunk_msflop" / u128,
    "watchdog_period_cycles" / Int32ul,
    "beacon_max_age_s" / Int32ul,
    "clock_drift_ppm" / Int32ul,
    "lockout_threshold" / Int8ul,
    "lockout_duration_s" / Int32ul,
    "baselines" / Int32ul,
    # The interconnect cap (heg_link: the stream limiter's token bucket), in
    # wire bytes (docs/registers_link.md): the firmware turns the rate, in
    # millions of wire bytes a second, into the limiter's RATE at the link's
    # clock, rounding down (heg_link_rate), and loads BURST as is.
    "link_wire_mb_per_s" / Int32ul,
    "link_burst_wire_bytes" / Int32ul,
    # The cap while the license in force is of kind inference, or no license
    # is in force; each only ever tightens the one above (link_cap_for).
    "inference_link_wire_mb_per_s" / Int32ul,
    "inference_link_burst_wire_bytes" / Int32ul,
)
_POLICY_FIELD_INDEX = {sub.name: i for i, sub in enumerate(PolicyFixedFormat.subcons)}
PolicyBodyFormat = Struct(
    *PolicyFixedFormat.subcons,
    "board_keys" / KeyListFormat,
    "inspector_keys" / KeyListFormat,
    "party_keys" / KeyListFormat,
    "revoked_keys" / KeyListFormat,
)

# The anchored vendor's authorization to re-provision a device whose store is
# lost (DeviceState.RECOVERY_REQUIRED): bound to the identity the device's OTP
# anchor recorded, to the fresh nonce the device shows in INFO (a new one at
# every boot, so an authorization is never good twice), and to the exact
# genesis policy the device must take (Recovery.policy_digest).
RecoveryBodyFormat = Struct(
    *_header(RecordType.RECOVERY),
    "first_device_id" / Key,
    "device_nonce" / Bytes(NONCE_SIZE),
    "genesis_policy_digest" / Bytes(DIGEST_SIZE),
)

TimeBeaconBodyFormat = Struct(
    *_header(RecordType.TIME_BEACON),
    "device_id" / Key,
    "device_nonce" / Bytes(NONCE_SIZE),
    "unix_time" / Int64ul,
)

# What an order acts on (the rest zeros): PAUSE and RESUME name a workload
# (a pause binds the workload, whatever license runs it); REVOKE names a
# license by id; RELEASE_OVERSIGHT names the license by id and sequence (a
# renewal that keeps the id is another license, its reserve not released);
# HALT and LIFT_HALT name nothing.
# A fleet order (a board's HALT or LIFT_HALT for every device under one
# policy, the universal cut-off) names no device (device_id zeros) and the
# digest of the policy it is bound to (Policy.digest): a device under another
# policy refuses it, so it cannot be replayed there. Its sequence counts per
# policy (FLEET_ORDER_KINDS); a per-device order's policy_digest is zeros.
OrderBodyFormat = Struct(
    *_header(RecordType.ORDER),
    "order_kind" / Int8ul,
    "signer_role" / Int8ul,
    "device_id" / Key,
    "license_id" / Bytes(ID_SIZE),  # REVOKE, RELEASE_OVERSIGHT
    "license_sequence" / Int64ul,  # RELEASE_OVERSIGHT
    "workload_id" / Bytes(ID_SIZE),  # PAUSE, RESUME
    "sequence" / Int64ul,
    "issued_at" / Int64ul,
    "license_sequence_floor" / Int64ul,  # REVOKE only (else 0)
    "policy_digest" / Bytes(DIGEST_SIZE),  # a fleet order only (else zeros)
)

# Device messages. A request is a command byte, a request id the response
# echoes, and a command-specific payload; a response adds a status code.
RequestFormat = Struct("command" / Int8ul, "request_id" / Int16ul, "payload" / GreedyBytes)
ResponseFormat = Struct(
    "command" / Int8ul, "request_id" / Int16ul, "status" / Int16ul, "payload" / GreedyBytes
)
InfoResponseFormat = Struct(
    "state" / Int8ul,
    "device_id" / Key,
    "firmware_measurement" / Bytes(DIGEST_SIZE),
    "policy_version" / Int32ul,
    "license_sequence" / Int64ul,  # the replay floor: the next license needs a higher one
    "inspector_order_sequence" / Int64ul,  # each signer role's last accepted order
    "reset_count" / Int32ul,
    "issuer_key" / Key,
    "vendor_key" / Key,
    # The device id its OTP anchor recorded when it was first provisioned
    # (zeros: never provisioned, or the anchor is torn).
    "first_device_id" / Key,
    # RECOVERY_REQUIRED only (zeros otherwise): the nonce a Recovery must name.
    "recovery_nonce" / Bytes(NONCE_SIZE),
    "board_order_sequence" / Int64ul,
    "issuer_order_sequence" / Int64ul,
    Terminated,
)
# The genesis policy (version 1, signed by its own board quorum) becomes the
# device's root of trust; the vendor key is the one whose endorsement it takes.
ProvisionRequestFormat = Struct("vendor_key" / Key, "genesis_policy" / GreedyBytes)
ProvisionResponseFormat = Struct("device_id" / Key, Terminated)
# RECOVER: the vendor's Recovery record, then the genesis policy it names.
# The response is a ProvisionResponseFormat: the device's new id.
RecoverRequestFormat = Struct("recovery" / Bytes(RecoveryBodyFormat.sizeof() + SIGNATURE_SIZE),
                              "genesis_policy" / GreedyBytes)
AttestRequestFormat = Struct("nonce" / Bytes(NONCE_SIZE), Terminated)
TimeNonceResponseFormat = Struct("device_nonce" / Bytes(NONCE_SIZE), Terminated)
ReadLogRequestFormat = Struct("first_index" / Int32ul, "max_entries" / Int8ul, Terminated)
LogEntryFormat = Struct(
    "index" / Int32ul,
    "event_type" / Int8ul,
    "payload" / PrefixedArray(Int8ul, Int8ul),
)
# Payloads of the log entries a verifier reads field by field (EventType).
PolicyInstalledPayloadFormat = Struct(
    "policy_version" / Int32ul,
    "policy_digest" / Bytes(DIGEST_SIZE),
    Terminated,
)
LicenseReplacedPayloadFormat = Struct(
    "license_id" / Bytes(ID_SIZE),
    "license_sequence" / Int64ul,
    "workload_id" / Bytes(ID_SIZE),
    "consumed_msflop" / u128,
    Terminated,
)
ReadLogResponseFormat = Struct(
    "next_index" / Int32ul,  # the index the next entry will get: entries so far
    "head_before" / Bytes(DIGEST_SIZE),  # chain head before the first entry returned
    "entries" / PrefixedArray(Int8ul, LogEntryFormat),
    Terminated,
)

LICENSE_BODY_SIZE = LicenseBodyFormat.sizeof()
ATTESTATION_SIZE = AttestationBodyFormat.sizeof() + SIGNATURE_SIZE
ENDORSEMENT_SIZE = EndorsementBodyFormat.sizeof() + SIGNATURE_SIZE
TIME_BEACON_SIZE = TimeBeaconBodyFormat.sizeof() + SIGNATURE_SIZE
RECOVERY_SIZE = RecoveryBodyFormat.sizeof() + SIGNATURE_SIZE


def oversight_reserve_msflop(allocation_msflop: int, oversight_ppm: int) -> int:
    """The part of a license's allocation the device holds back for oversight:
    oversight_ppm of it, rounded up, until the named inspector releases it."""
    return -(-allocation_msflop * oversight_ppm // OVERSIGHT_PPM_MAX)


def license_size(signature_count: int) -> int:
    return LICENSE_BODY_SIZE + 1 + signature_count * SignatureEntryFormat.sizeof()


def signing_message(record_type: RecordType, body: bytes) -> bytes:
    """The exact bytes an Ed25519 signature covers: domain string, then body."""
    return DOMAINS[record_type] + body


@dataclass(frozen=True)
class SignatureEntry:
    signer: bytes
    signature: bytes


class SignedRecord:
    """A record body signed by one key (``signature``) or by a set of keys
    (``signatures``: sorted by signer, each signer once).

    Subclasses are frozen dataclasses whose fields are the body's fields in
    order, then the signature field; they name their body format and record
    type, map enum fields, and add field rules in ``check``. Encoding and
    parsing both run ``check``, so nothing invalid can be built or accepted.
    """

    RECORD_TYPE: ClassVar[RecordType]
    BODY_FORMAT: ClassVar[Struct]
    ENUMS: ClassVar[dict[str, type]] = {}
    MAX_SIGNATURES: ClassVar[int] = 1  # 1: a single ``signature`` field

    @classmethod
    def what(cls) -> str:
        return cls.RECORD_TYPE.name.lower().replace("_", " ")

    @classmethod
    def _signature_format(cls) -> Construct:
        return Bytes(SIGNATURE_SIZE) if cls.MAX_SIGNATURES == 1 else SignatureSetFormat

    def check(self) -> None:
        """Field rules beyond the encoding; raise RecordError(RECORD_FIELD)."""

    @classmethod
    def _enum_member(cls, name: str, value: int) -> Any:
        """The member of field ``name``'s enum with this value; RecordError for a
        value the enum lacks: the parser refuses it, and so does the builder, so
        no record is ever written (or signed) that no reader accepts."""
        try:
            return cls.ENUMS[name](value)
        except ValueError:
            raise RecordError(f"{cls.what()}: unknown {name.replace('_', ' ')} "
                              f"0x{int(value):02x}") from None

    def _check_all(self) -> None:
        if self.MAX_SIGNATURES > 1:
            _check_signature_set(self.what(), self.signatures, self.MAX_SIGNATURES)
        self.check()

    def body(self) -> bytes:
        # Built once per record: the record is frozen, and a body is built to
        # sign, to check each signature and to send (a time beacon twice, a
        # license once per signer and again to send). replace() makes a new
        # record, which builds its own.
        cached = self.__dict__.get("_body")
        if cached is not None:
            return cached
        for name in self.ENUMS:
            self._enum_member(name, getattr(self, name))
        self.check()
        values = {}
        for item in fields(self):
            if item.name in ("signature", "signatures"):
                continue
            value = getattr(self, item.name)
            values[item.name] = int(value) if isinstance(value, IntEnum | IntFlag) else value
        cached = _build(self.BODY_FORMAT, values, self.what())
        object.__setattr__(self, "_body", cached)
        return cached

    def signing_message(self) -> bytes:
        return signing_message(self.RECORD_TYPE, self.body())

    def to_bytes(self) -> bytes:
        self._check_all()
        if self.MAX_SIGNATURES == 1:
            signature: Any = self.signature
        else:
            signature = [{"signer": s.signer, "signature": s.signature} for s in self.signatures]
        return self.body() + _build(self._signature_format(), signature, self.what())

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        signature_name = "signature" if cls.MAX_SIGNATURES == 1 else "signatures"
        full = Struct("body" / cls.BODY_FORMAT, signature_name / cls._signature_format(),
                      Terminated)
        parsed = _parse(full, data, cls.what())
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name == signature_name:
                continue
            value = parsed.body[item.name]
            if isinstance(value, list):
                value = tuple(value)
            if item.name in cls.ENUMS:
                value = cls._enum_member(item.name, value)
            values[item.name] = value
        if cls.MAX_SIGNATURES == 1:
            values["signature"] = parsed.signature
        else:
            values["signatures"] = tuple(SignatureEntry(e.signer, e.signature)
                                         for e in parsed.signatures)
        record = cls(**values)
        record._check_all()
        return record


@dataclass(frozen=True)
class License(SignedRecord):
    RECORD_TYPE: ClassVar[RecordType] = RecordType.LICENSE
    BODY_FORMAT: ClassVar[Struct] = LicenseBodyFormat
    ENUMS: ClassVar[dict[str, type]] = {"license_class": LicenseClass,
                                        "workload_kind": WorkloadKind}
    MAX_SIGNATURES: ClassVar[int] = MAX_LICENSE_SIGNATURES

    license_id: bytes
    device_id: bytes
    workload_id: bytes
    sequence: int
    allocation_msflop: int
    workload_total_msflop: int
    lineage_msflop: int
    not_before: int
    not_after: int
    license_class: LicenseClass
    oversight_ppm: int
    inspector_key: bytes
    lineage_digest: bytes = bytes(DIGEST_SIZE)
    workload_kind: WorkloadKind = WorkloadKind.PRE_TRAINING
    signatures: tuple[SignatureEntry, ...] = ()

    def check(self) -> None:
        if not 0 <= self.oversight_ppm <= OVERSIGHT_PPM_MAX:
            raise RecordError(f"license: oversight_ppm {self.oversight_ppm} is above "
                              f"{OVERSIGHT_PPM_MAX}")
        if self.not_before > self.not_after:
            raise RecordError("license: not_before is after not_after")
        if self.allocation_msflop == 0:
            raise RecordError("license: allocation_msflop must be positive")
        if self.allocation_msflop > self.workload_total_msflop:
            raise RecordError(f"license: allocation_msflop {self.allocation_msflop} exceeds the "
                              f"declared workload total {self.workload_total_msflop}: the class "
                              "follows from the total, so the grant may not exceed it",
                              DeviceStatus.ALLOCATION_EXCEEDS_TOTAL)
        has_inspector = any(self.inspector_key)
        if (self.license_class != LicenseClass.STANDARD) != has_inspector:
            raise RecordError("license: a Frontier or Horizon license names an inspector; "
                              "a standard license must not")


@dataclass(frozen=True)
class Attestation(SignedRecord):
    RECORD_TYPE: ClassVar[RecordType] = RecordType.ATTESTATION
    BODY_FORMAT: ClassVar[Struct] = AttestationBodyFormat
    ENUMS: ClassVar[dict[str, type]] = {"gate_state": GateState}

    device_id: bytes
    nonce: bytes
    firmware_measurement: bytes
    policy_version: int
    license_id: bytes
    license_sequence: int
    lane_ops: tuple[int, ...]
    consumed_msflop: int
    remaining_msflop: int
    gate_state: GateState
    gate_causes: GateCause
    report_counter: int
    reset_count: int
    log_head: bytes
    oversight_reserved_msflop: int = 0
    inspector_order_sequence: int = 0
    board_order_sequence: int = 0
    issuer_order_sequence: int = 0
    store_reverts: int = 0
    policy_digest: bytes = bytes(DIGEST_SIZE)
    workload_msflop: int = 0
    retired_msflop: int = 0
    link_clock_hz: int = 0
    link_rate: int = 0
    link_burst: int = 0
    link_wire_bytes: int = 0
    signature: bytes = bytes(SIGNATURE_SIZE)

    def check(self) -> None:
        # On plain ints: every attestation a verifier reads runs this, and the
        # enum and flag operators cost more than the rest of the check.
        causes = int(self.gate_causes)
        if causes & _RESERVED_GATE_CAUSE_BITS:
            raise RecordError("attestation: reserved gate cause bits set: "
                              f"0x{causes & _RESERVED_GATE_CAUSE_BITS:08x}")
        if (int(self.gate_state) == _GATE_OPEN) != (causes == 0):
            raise RecordError("attestation: gate state and gate causes disagree")

    @classmethod
    def from_bytes(cls, data: bytes) -> "Attestation":
        record = super().from_bytes(data)
        return replace(record, gate_causes=GateCause(int(record.gate_causes)))


@dataclass(frozen=True)
class Endorsement(SignedRecord):
    RECORD_TYPE: ClassVar[RecordType] = RecordType.ENDORSEMENT
    BODY_FORMAT: ClassVar[Struct] = EndorsementBodyFormat

    device_id: bytes
    vendor_key: bytes
    issued_at: int
    signature: bytes = bytes(SIGNATURE_SIZE)


@dataclass(frozen=True)
class Policy(SignedRecord):
    """The authority's rules, signed by a board quorum.

    Version N+1 is accepted only with ``board_threshold`` signatures of the
    board of version N (the genesis policy, version 1, by its own board); a
    policy that changes the board also needs its own new board's threshold,
    and one that moves the Horizon veto (party representatives, board, a lower
    Horizon quorum, a higher Horizon threshold) every party representative and
    the Horizon quorum of version N (openheg.board.veto_changes).
    Thresholds rise linearly from the epoch day:
    F(day) = frontier_base + max(day - epoch, 0) * frontier_daily_increase.
    """

    RECORD_TYPE: ClassVar[RecordType] = RecordType.POLICY
    BODY_FORMAT: ClassVar[Struct] = PolicyBodyFormat
    MAX_SIGNATURES: ClassVar[int] = MAX_RECORD_SIGNATURES

    policy_version: int
    issued_at: int
    board_threshold: int
    horizon_board_threshold: int
    issuer_key: bytes
    time_authority_key: bytes
    weights_milli: tuple[int, ...]
    frontier_base_msflop: int
    frontier_daily_increase_msflop: int
    horizon_base_msflop: int
    horizon_daily_increase_msflop: int
    schedule_epoch_day: int
    oversight_min_ppm: int
    allowance_chunk_msflop: int
    watchdog_period_cycles: int
    beacon_max_age_s: int
    clock_drift_ppm: int
    lockout_threshold: int
    lockout_duration_s: int
    baselines: int
    board_keys: tuple[bytes, ...]
    inspector_keys: tuple[bytes, ...]
    party_keys: tuple[bytes, ...]
    revoked_keys: tuple[bytes, ...]
    signatures: tuple[SignatureEntry, ...] = ()
    # The interconnect cap (heg_link). The defaults are the reference policy's:
    # 900 GB/s, an NVLink-class link, with a mebibyte of burst.
    link_wire_mb_per_s: int = 900_000
    link_burst_wire_bytes: int = 1 << 20
    # The inference cap (link_cap_for). The reference policy sets none beyond
    # the general cap: the bounds' maxima.
    inference_link_wire_mb_per_s: int = LINK_MAX_MB_PER_S
    inference_link_burst_wire_bytes: int = LINK_MAX_BURST_WIRE_BYTES

    def check(self) -> None:
        if self.policy_version < 1:
            raise RecordError("policy: versions start at 1")
        for name, keys, limit in (("board_keys", self.board_keys, MAX_KEY_LIST),
                                  ("inspector_keys", self.inspector_keys, MAX_KEY_LIST),
                                  ("party_keys", self.party_keys, MAX_KEY_LIST),
                                  ("revoked_keys", self.revoked_keys, MAX_REVOKED_KEYS)):
            _check_key_list(f"policy {name}", keys, limit)
        if not self.board_keys:
            raise RecordError("policy: the board needs at least one member")
        if not 1 <= self.board_threshold <= len(self.board_keys):
            raise RecordError(f"policy: board threshold {self.board_threshold} is not between 1 "
                              f"and the board size {len(self.board_keys)}")
        if not self.board_threshold <= self.horizon_board_threshold <= len(self.board_keys):
            raise RecordError("policy: the Horizon quorum must be at least the board threshold "
                              "and at most the board size")
        if self.baselines != ALL_BASELINES:
            raise RecordError("policy: every baseline bit (metering, fail-closed, attestation) "
                              "must be set; no vote can remove them")
        for bound in POLICY_BOUNDS:
            value = getattr(self, bound.field)
            if not bound.minimum <= value <= bound.maximum:
                raise RecordError(f"policy: {bound.field} {value} is outside "
                                  f"[{bound.minimum}, {bound.maximum}], which no vote can "
                                  f"change: {bound.reason}")
        for lane, weight in zip(regmap.LANES, self.weights_milli):
            low, high = weight_bounds(lane)
            if not low <= weight <= high:
                raise RecordError(f"policy: the {lane} weight {weight} is outside [{low}, "
                                  f"{high}] milli-sFLOP, which no vote can change: "
                                  f"{WEIGHT_BOUND_REASON}")
        if self.horizon_base_msflop < self.frontier_base_msflop:
            raise RecordError("policy: the Horizon threshold must not be below the Frontier one")
        if self.allowance_chunk_msflop == 0:
            raise RecordError("policy: the allowance chunk must be positive")
        for key in (self.issuer_key, self.time_authority_key):
            if key in self.revoked_keys:
                raise RecordError("policy: the issuer or time authority key is revoked")

    @property
    def digest(self) -> bytes:
        """The policy's identity: SHA-512 of its signed body, first 32 bytes (the
        device's one hash). Not of its signatures: the same policy signed by
        another quorum of its board is the same policy. The device attests it
        (Attestation.policy_digest) and logs it (EventType.POLICY_INSTALLED)."""
        return hashlib.sha512(self.body()).digest()[:DIGEST_SIZE]

    def link_cap_for(self, kind: WorkloadKind | None) -> tuple[int, int]:
        """(wire MB/s, burst wire bytes) the device holds its interconnect to
        while the license in force declares ``kind`` (None: no license in
        force), as firmware/src/link.c decides it: the general cap for a
        training or fine-tuning license; for an inference license, or none,
        the tighter of the general and the inference cap in each of rate and
        burst, so an inference cap looser than the general one loosens nothing
        and a device no license names a kind for gets the tightest cap."""
        if kind in (WorkloadKind.PRE_TRAINING, WorkloadKind.FINE_TUNING):
            return self.link_wire_mb_per_s, self.link_burst_wire_bytes
        return (min(self.link_wire_mb_per_s, self.inference_link_wire_mb_per_s),
                min(self.link_burst_wire_bytes, self.inference_link_burst_wire_bytes))

    def frontier_msflop(self, day: int) -> int:
        """F on unix day ``day`` (days since 1970-01-01)."""
        return self.frontier_base_msflop + max(day - self.schedule_epoch_day, 0) * \
            self.frontier_daily_increase_msflop

    def horizon_msflop(self, day: int) -> int:
        return self.horizon_base_msflop + max(day - self.schedule_epoch_day, 0) * \
            self.horizon_daily_increase_msflop

    def required_class(self, compute_msflop: int, day: int) -> LicenseClass:
        """The class a workload of ``compute_msflop`` (its total plus its lineage)
        needs on unix day ``day``: at or above H it is Horizon, at or above F
        Frontier. The device evaluates this on the earliest day trusted time
        allows (day 0, the base values, when it has no fresh beacon), which is
        the strictest answer because the thresholds only rise."""
        if compute_msflop >= min(self.horizon_msflop(day), MAX_U128):
            return LicenseClass.HORIZON
        if compute_msflop >= min(self.frontier_msflop(day), MAX_U128):
            return LicenseClass.FRONTIER
        return LicenseClass.STANDARD


@dataclass(frozen=True)
class Recovery(SignedRecord):
    """The anchored vendor's authorization to re-provision a device that lost
    its store (RecoveryBodyFormat). The device takes it only while it shows
    ``device_nonce``, checks the signature against the vendor key in its OTP
    anchor, and then provisions with exactly the genesis policy whose bytes
    hash to ``genesis_policy_digest`` and with a new device key: nothing
    signed for its old identity (licenses, orders) is ever valid again."""

    RECORD_TYPE: ClassVar[RecordType] = RecordType.RECOVERY
    BODY_FORMAT: ClassVar[Struct] = RecoveryBodyFormat

    first_device_id: bytes
    device_nonce: bytes
    genesis_policy_digest: bytes
    signature: bytes = bytes(SIGNATURE_SIZE)

    @staticmethod
    def policy_digest(policy: "Policy") -> bytes:
        """The digest a Recovery names: SHA-512 of the policy record's bytes
        (body and signatures), first 32 bytes (the device's one hash)."""
        return hashlib.sha512(policy.to_bytes()).digest()[:DIGEST_SIZE]


@dataclass(frozen=True)
class TimeBeacon(SignedRecord):
    """The time authority's answer to a device's fresh nonce."""

    RECORD_TYPE: ClassVar[RecordType] = RecordType.TIME_BEACON
    BODY_FORMAT: ClassVar[Struct] = TimeBeaconBodyFormat

    device_id: bytes
    device_nonce: bytes
    unix_time: int
    signature: bytes = bytes(SIGNATURE_SIZE)


@dataclass(frozen=True)
class Order(SignedRecord):
    """An inspector's, the board's or the issuer's order to one device. The
    signer role it names picks the anti-replay counter: ``sequence`` counts per
    device and role, with a bounded jump (ORDER_REPLAY_WINDOW says which
    sequences below the highest a restricting order may still use). ``issued_at`` (unix
    seconds) is checked against the device's trusted time."""

    RECORD_TYPE: ClassVar[RecordType] = RecordType.ORDER
    BODY_FORMAT: ClassVar[Struct] = OrderBodyFormat
    ENUMS: ClassVar[dict[str, type]] = {"order_kind": OrderKind, "signer_role": SignerRole}
    MAX_SIGNATURES: ClassVar[int] = MAX_RECORD_SIGNATURES

    order_kind: OrderKind
    signer_role: SignerRole
    device_id: bytes
    license_id: bytes
    license_sequence: int
    workload_id: bytes
    sequence: int
    issued_at: int
    license_sequence_floor: int = 0
    policy_digest: bytes = bytes(DIGEST_SIZE)
    signatures: tuple[SignatureEntry, ...] = ()

    @property
    def fleet(self) -> bool:
        """Whether this is a fleet order: for every device under the policy it
        names, not for one device."""
        return any(self.policy_digest)

    @property
    def subject_id(self) -> bytes:
        """What the order acts on, as its ORDER_APPLIED log entry names it: the
        workload id of a pause or resume, a fleet order's policy digest (its
        first 16 bytes), else the license id (zeros for a per-device halt or
        lift-halt)."""
        if self.fleet:
            return self.policy_digest[:ID_SIZE]
        return self.workload_id if self.order_kind in ORDERS_NAMING_A_WORKLOAD \
            else self.license_id

    def check(self) -> None:
        kind = self.order_kind.name.lower().replace('_', '-')
        if self.signer_role not in ORDER_SIGNER_ROLES[self.order_kind]:
            allowed = " or ".join(sorted(r.name.lower() for r in
                                         ORDER_SIGNER_ROLES[self.order_kind]))
            raise RecordError(f"order: a {kind} order is given by the {allowed}, not the "
                              f"{SignerRole(self.signer_role).name.lower()}")
        names_license = self.order_kind in ORDERS_NAMING_A_LICENSE
        names_workload = self.order_kind in ORDERS_NAMING_A_WORKLOAD
        if names_license != any(self.license_id):
            raise RecordError(f"order: revoke and release-oversight name a license; a {kind} "
                              "order must not")
        if names_workload != any(self.workload_id):
            raise RecordError(f"order: pause and resume name a workload; a {kind} order must "
                              "not")
        if (self.order_kind == OrderKind.RELEASE_OVERSIGHT) != (self.license_sequence != 0):
            raise RecordError("order: a release-oversight order names the license's sequence "
                              "(at least 1); no other order names one")
        if self.order_kind != OrderKind.REVOKE and self.license_sequence_floor != 0:
            raise RecordError("order: only a revocation raises the license-sequence floor")
        if self.fleet and (any(self.device_id) or self.order_kind not in FLEET_ORDER_KINDS
                           or self.signer_role != SignerRole.BOARD):
            raise RecordError("order: a fleet order (bound to a policy digest) is a board's "
                              "halt or lift-halt and names no device")


RECORDS: dict[RecordType, type[SignedRecord]] = {
    cls.RECORD_TYPE: cls
    for cls in (License, Attestation, Endorsement, Policy, TimeBeacon, Order, Recovery)
}

_ALL_GATE_CAUSES = GateCause(0)
for _cause in GateCause:
    _ALL_GATE_CAUSES |= _cause
_RESERVED_GATE_CAUSE_BITS = ~int(_ALL_GATE_CAUSES)
_GATE_OPEN = int(GateState.OPEN)


def _check_signature_set(what: str, signatures: tuple[SignatureEntry, ...], limit: int) -> None:
    if not 1 <= len(signatures) <= limit:
        raise RecordError(f"{what}: needs 1 to {limit} signatures, has {len(signatures)}")
    signers = [s.signer for s in signatures]
    if any(a >= b for a, b in zip(signers, signers[1:])):
        raise RecordError(f"{what}: signatures must be sorted by signer key with no signer twice")


def _check_key_list(what: str, keys: tuple[bytes, ...], limit: int) -> None:
    if len(keys) > limit:
        raise RecordError(f"{what}: at most {limit} keys, has {len(keys)}")
    if any(a >= b for a, b in zip(keys, keys[1:])):
        raise RecordError(f"{what}: keys must be sorted with no key twice")


def _build(fmt: Construct, value: Any, what: str) -> bytes:
    try:
        return fmt.build(value)
    except (ConstructError, TypeError, ValueError, OverflowError) as error:
        raise RecordError(f"{what}: cannot encode: {error}") from None


def _parse(fmt: Construct, data: bytes, what: str) -> Container:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RecordError(f"{what}: expected bytes, got {type(data).__name__}",
                          DeviceStatus.RECORD_LENGTH)
    try:
        return fmt.parse(bytes(data))
    except ConstError:
        raise RecordError(f"{what}: not an openheg {what} v{VERSION} record "
                          "(wrong magic, type or version)", DeviceStatus.RECORD_HEADER) from None
    except StreamError:
        raise RecordError(f"{what}: truncated ({len(data)} bytes)",
                          DeviceStatus.RECORD_LENGTH) from None
    except TerminatedError:
        raise RecordError(f"{what}: trailing bytes after the record",
                          DeviceStatus.RECORD_LENGTH) from None
    except ConstructError as error:
        raise RecordError(f"{what}: malformed: {error}") from None


def parse_message(fmt: Construct, data: bytes, what: str) -> Container:
    """Parse a device message payload with the same typed errors as records."""
    return _parse(fmt, data, what)


def build_message(fmt: Construct, value: Any, what: str) -> bytes:
    return _build(fmt, value, what)


def hex_bytes(text: str, size: int | None, what: str) -> bytes:
    """A wire field given as hex (the form to_jsonable writes): ``size`` bytes
    exactly, or any non-empty length when None. Raises RecordError."""
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise RecordError(f"{what} must be {2 * size} hex digits" if size is not None else
                          f"{what} must be hex digits") from None
    if size is None and not value:
        raise RecordError(f"{what} must be hex digits, not empty")
    if size is not None and len(value) != size:
        raise RecordError(f"{what} must be {size} bytes ({2 * size} hex digits), got {len(value)}")
    return value


def to_jsonable(record: Any) -> dict[str, Any]:
    """A record's fields as JSON values: bytes as hex, enums and integers as integers."""
    out: dict[str, Any] = {}
    for item in fields(record):
        value = getattr(record, item.name)
        if isinstance(value, bytes):
            out[item.name] = value.hex()
        elif isinstance(value, tuple) and all(isinstance(v, SignatureEntry) for v in value):
            out[item.name] = [{"signer": v.signer.hex(), "signature": v.signature.hex()}
                              for v in value]
        elif isinstance(value, tuple):
            out[item.name] = [v.hex() if isinstance(v, bytes) else int(v) for v in value]
        else:
            out[item.name] = int(value)
    return out


def field_offsets(fmt: Struct) -> dict[str, tuple[int, int]]:
    """Byte offset and size of each named field of a fixed-size struct."""
    offsets, position = {}, 0
    for sub in fmt.subcons:
        size = sub.sizeof()
        if sub.name:
            offsets[sub.name] = (position, size)
        position += size
    return offsets
