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

from dataclasses import dataclass, fields
from enum import IntEnum, IntFlag
from typing import Any

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
OVERSIGHT_PPM_MAX = 1_000_000
# A license may skip ahead by at most this many sequence numbers. Larger jumps
# are refused so that one leaked far-future license cannot lock a device out.
MAX_SEQUENCE_JUMP = 1 << 20
# Largest request or response payload a device must accept, header included.
MAX_MESSAGE_SIZE = 1024


class RecordType(IntEnum):
    LICENSE = 0x01
    ATTESTATION = 0x02
    ENDORSEMENT = 0x03


DOMAINS: dict[RecordType, bytes] = {
    RecordType.LICENSE: b"openheg/license/v1\x00",
    RecordType.ATTESTATION: b"openheg/attestation/v1\x00",
    RecordType.ENDORSEMENT: b"openheg/endorsement/v1\x00",
}


class LicenseClass(IntEnum):
    """Oversight class of a workload (DESIGN.md: Frontier and Horizon thresholds)."""

    STANDARD = 0x01  # below the Frontier threshold
    FRONTIER = 0x02  # oversight during execution is mandatory
    HORIZON = 0x03  # forbidden unless the board and every party sign


class GateState(IntEnum):
    OPEN = 0x01
    CLOSED = 0x02


class GateCause(IntFlag):
    """Why the gate is closed. Bits 0-7 are the meter's GATE_CAUSE register as
    read; bits 8 and up are decided by the firmware."""

    EXHAUSTED = regmap.GATE_CAUSE_EXHAUSTED_MASK
    DISARMED = regmap.GATE_CAUSE_DISARMED_MASK
    FATAL = regmap.GATE_CAUSE_FATAL_MASK
    NO_LICENSE = 1 << 8


class DeviceState(IntEnum):
    UNPROVISIONED = 0x01  # factory fresh: no key yet
    KEYED = 0x02  # device key made, vendor endorsement not yet stored
    PROVISIONED = 0x03  # endorsed and locked: provisioning can never run again


class EventType(IntEnum):
    """Entries of the device's hash-chained event log.

    Each entry extends the head as head' = SHA-256(head || type || payload);
    payload integers are little-endian.
    """

    RESET = 0x01  # payload: reset count (u32)
    PROVISIONED = 0x02  # payload: device public key (32 bytes), logged at ENDORSE
    LICENSE_INSTALLED = 0x03  # payload: license id (16 bytes), sequence (u64)
    EXHAUSTED = 0x04  # payload: license id (16 bytes), consumed milli-sFLOP (u128)


class Command(IntEnum):
    INFO = 0x01
    PROVISION = 0x02
    ENDORSE = 0x03
    INSTALL_LICENSE = 0x04
    ATTEST = 0x05
    READ_ENDORSEMENT = 0x06


u128 = BytesInteger(16, signed=False, swapped=True)


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

LicenseBodyFormat = Struct(
    *_header(RecordType.LICENSE),
    "license_id" / Bytes(ID_SIZE),
    "device_id" / Bytes(KEY_SIZE),
    "workload_id" / Bytes(ID_SIZE),
    "sequence" / Int64ul,
    "allocation_msflop" / u128,
    "workload_total_msflop" / u128,
    "lineage_msflop" / u128,
    "not_before" / Int64ul,
    "not_after" / Int64ul,
    "license_class" / Int8ul,
    "oversight_ppm" / Int32ul,
    "inspector_key" / Bytes(KEY_SIZE),
)
LicenseFormat = Struct(
    "body" / LicenseBodyFormat,
    "signatures" / PrefixedArray(Int8ul, SignatureEntryFormat),
    Terminated,
)

AttestationBodyFormat = Struct(
    *_header(RecordType.ATTESTATION),
    "device_id" / Bytes(KEY_SIZE),
    "nonce" / Bytes(NONCE_SIZE),
    "firmware_measurement" / Bytes(DIGEST_SIZE),
    "policy_version" / Int32ul,
    "license_id" / Bytes(ID_SIZE),
    "license_sequence" / Int64ul,
    "lane_ops" / u128[len(regmap.LANES)],
    "consumed_msflop" / u128,
    "remaining_msflop" / u128,
    "gate_state" / Int8ul,
    "gate_causes" / Int32ul,
    "report_counter" / Int64ul,
    "reset_count" / Int32ul,
    "log_head" / Bytes(DIGEST_SIZE),
)
AttestationFormat = Struct(
    "body" / AttestationBodyFormat,
    "signature" / Bytes(SIGNATURE_SIZE),
    Terminated,
)

EndorsementBodyFormat = Struct(
    *_header(RecordType.ENDORSEMENT),
    "device_id" / Bytes(KEY_SIZE),
    "vendor_key" / Bytes(KEY_SIZE),
    "issued_at" / Int64ul,
)
EndorsementFormat = Struct(
    "body" / EndorsementBodyFormat,
    "signature" / Bytes(SIGNATURE_SIZE),
    Terminated,
)

# Device messages. A request is a command byte, a request id the response
# echoes, and a command-specific payload; a response adds a status code.
RequestFormat = Struct("command" / Int8ul, "request_id" / Int16ul, "payload" / GreedyBytes)
ResponseFormat = Struct(
    "command" / Int8ul, "request_id" / Int16ul, "status" / Int16ul, "payload" / GreedyBytes
)
InfoResponseFormat = Struct(
    "state" / Int8ul,
    "device_id" / Bytes(KEY_SIZE),
    "firmware_measurement" / Bytes(DIGEST_SIZE),
    "license_sequence" / Int64ul,
    "reset_count" / Int32ul,
    "issuer_key" / Bytes(KEY_SIZE),
    "vendor_key" / Bytes(KEY_SIZE),
    Terminated,
)
ProvisionRequestFormat = Struct(
    "issuer_key" / Bytes(KEY_SIZE), "vendor_key" / Bytes(KEY_SIZE), Terminated
)
ProvisionResponseFormat = Struct("device_id" / Bytes(KEY_SIZE), Terminated)
AttestRequestFormat = Struct("nonce" / Bytes(NONCE_SIZE), Terminated)

RECORD_BODIES: dict[RecordType, Struct] = {
    RecordType.LICENSE: LicenseBodyFormat,
    RecordType.ATTESTATION: AttestationBodyFormat,
    RecordType.ENDORSEMENT: EndorsementBodyFormat,
}
LICENSE_BODY_SIZE = LicenseBodyFormat.sizeof()
ATTESTATION_SIZE = AttestationBodyFormat.sizeof() + SIGNATURE_SIZE
ENDORSEMENT_SIZE = EndorsementBodyFormat.sizeof() + SIGNATURE_SIZE


def license_size(signature_count: int) -> int:
    return LICENSE_BODY_SIZE + 1 + signature_count * SignatureEntryFormat.sizeof()


def signing_message(record_type: RecordType, body: bytes) -> bytes:
    """The exact bytes an Ed25519 signature covers: domain string, then body."""
    return DOMAINS[record_type] + body


@dataclass(frozen=True)
class SignatureEntry:
    signer: bytes
    signature: bytes


@dataclass(frozen=True)
class License:
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
    signatures: tuple[SignatureEntry, ...] = ()

    def body(self) -> bytes:
        _check_license(self)
        return _build(LicenseBodyFormat, _body_fields(self, ("signatures",)), "license")

    def signing_message(self) -> bytes:
        return signing_message(RecordType.LICENSE, self.body())

    def to_bytes(self) -> bytes:
        _check_signature_set(self.signatures)
        entries = [{"signer": s.signer, "signature": s.signature} for s in self.signatures]
        return self.body() + _build(PrefixedArray(Int8ul, SignatureEntryFormat), entries, "license")

    @classmethod
    def from_bytes(cls, data: bytes) -> "License":
        parsed = _parse(LicenseFormat, data, "license")
        signatures = tuple(SignatureEntry(e.signer, e.signature) for e in parsed.signatures)
        _check_signature_set(signatures)
        try:
            license_class = LicenseClass(parsed.body.license_class)
        except ValueError:
            raise RecordError(
                f"license: unknown license class 0x{parsed.body.license_class:02x}"
            ) from None
        record = cls(**_fields_of(cls, parsed.body, license_class=license_class,
                                  signatures=signatures))
        _check_license(record)
        return record


@dataclass(frozen=True)
class Attestation:
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
    signature: bytes = bytes(SIGNATURE_SIZE)

    def body(self) -> bytes:
        return _build(AttestationBodyFormat, _body_fields(self, ("signature",)), "attestation")

    def signing_message(self) -> bytes:
        return signing_message(RecordType.ATTESTATION, self.body())

    def to_bytes(self) -> bytes:
        return self.body() + _build(Bytes(SIGNATURE_SIZE), self.signature, "attestation")

    @classmethod
    def from_bytes(cls, data: bytes) -> "Attestation":
        parsed = _parse(AttestationFormat, data, "attestation")
        body = parsed.body
        try:
            gate_state = GateState(body.gate_state)
        except ValueError:
            raise RecordError(f"attestation: unknown gate state 0x{body.gate_state:02x}") from None
        unknown_causes = body.gate_causes & ~_ALL_GATE_CAUSES
        if unknown_causes:
            raise RecordError(f"attestation: reserved gate cause bits set: 0x{unknown_causes:08x}")
        if (gate_state == GateState.OPEN) != (body.gate_causes == 0):
            raise RecordError("attestation: gate state and gate causes disagree")
        return cls(**_fields_of(cls, body, gate_state=gate_state,
                                gate_causes=GateCause(body.gate_causes),
                                lane_ops=tuple(body.lane_ops), signature=parsed.signature))


@dataclass(frozen=True)
class Endorsement:
    device_id: bytes
    vendor_key: bytes
    issued_at: int
    signature: bytes = bytes(SIGNATURE_SIZE)

    def body(self) -> bytes:
        return _build(EndorsementBodyFormat, _body_fields(self, ("signature",)), "endorsement")

    def signing_message(self) -> bytes:
        return signing_message(RecordType.ENDORSEMENT, self.body())

    def to_bytes(self) -> bytes:
        return self.body() + _build(Bytes(SIGNATURE_SIZE), self.signature, "endorsement")

    @classmethod
    def from_bytes(cls, data: bytes) -> "Endorsement":
        parsed = _parse(EndorsementFormat, data, "endorsement")
        return cls(**_fields_of(cls, parsed.body, signature=parsed.signature))


_ALL_GATE_CAUSES = 0
for _cause in GateCause:
    _ALL_GATE_CAUSES |= int(_cause)


def _check_license(record: License) -> None:
    if not 0 <= record.oversight_ppm <= OVERSIGHT_PPM_MAX:
        raise RecordError(f"license: oversight_ppm {record.oversight_ppm} is above {OVERSIGHT_PPM_MAX}")
    if record.not_before > record.not_after:
        raise RecordError("license: not_before is after not_after")
    if record.allocation_msflop == 0:
        raise RecordError("license: allocation_msflop must be positive")
    has_inspector = any(record.inspector_key)
    if (record.license_class != LicenseClass.STANDARD) != has_inspector:
        raise RecordError("license: a Frontier or Horizon license names an inspector; "
                          "a standard license must not")


def _check_signature_set(signatures: tuple[SignatureEntry, ...]) -> None:
    if not 1 <= len(signatures) <= MAX_LICENSE_SIGNATURES:
        raise RecordError(f"license: needs 1 to {MAX_LICENSE_SIGNATURES} signatures, "
                          f"has {len(signatures)}")
    signers = [s.signer for s in signatures]
    if any(a >= b for a, b in zip(signers, signers[1:])):
        raise RecordError("license: signatures must be sorted by signer key with no signer twice")


def _body_fields(record: Any, excluded: tuple[str, ...]) -> dict[str, Any]:
    values = {f.name: getattr(record, f.name) for f in fields(record) if f.name not in excluded}
    return {name: int(v) if isinstance(v, IntEnum | IntFlag) else v for name, v in values.items()}


def _fields_of(cls: type, body: Container, **overrides: Any) -> dict[str, Any]:
    names = [f.name for f in fields(cls)]
    return {name: overrides[name] if name in overrides else body[name] for name in names}


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
            out[item.name] = [int(v) for v in value]
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
