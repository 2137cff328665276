"""Device attestations as Entity Attestation Tokens (RFC 9711): the profile
of docs/eat.md, read strictly.

A device answers ATTEST_EAT with a CWT: COSE_Sign1 (RFC 9052) with EdDSA by
the device key over CBOR claims. The claims map every field of the binary
attestation (openheg.wire.Attestation) and carry that record's own
signature, so ``attestation_from_eat`` rebuilds exactly the record ATTEST
would have returned, and appraisal stays the one path of openheg.verify
(``verify_eat``): a claim that disagrees with what the device signed fails
the record's signature there.

Exactly one encoding is valid: the token must be byte for byte the one this
module encodes from the claims it carries (deterministic CBOR, RFC 8949
section 4.2.1, the claims in the profile's order, no claim missing or
extra), so two tokens with one meaning cannot both verify.
"""

from __future__ import annotations

from typing import Any

from construct import Bytes

from . import wire
from .crypto import verify_strict
from .errors import DeviceStatus, RecordError, SignatureError, VerificationError
from .verify import VerifiedAttestation, verify_attestation
from .wire import Attestation, GateCause, GateState

MEDIA_TYPE = "application/eat+cwt"
PROFILE = "tag:openheg.org,2026:eat/v1"

KEY_NONCE = 10  # eat_nonce
KEY_UEID = 256
KEY_PROFILE = 265  # eat_profile
UEID_TYPE_RAND = 0x01
# Private claims -65537, -65538, ...: the binary record's fields in record
# order (firmware/src/eat.c k_claims), then its signature.
PRIVATE_CLAIMS = ("firmware_measurement", "policy_version", "license_id", "license_sequence",
                  "lane_ops", "consumed_msflop", "remaining_msflop", "gate_state",
                  "gate_causes", "report_counter", "reset_count", "log_head",
                  "oversight_reserved_msflop", "inspector_order_sequence",
                  "board_order_sequence", "issuer_order_sequence", "store_reverts",
                  "policy_digest", "workload_msflop", "retired_msflop", "link_clock_hz",
                  "link_rate", "link_burst", "link_wire_bytes", "signature")
PRIVATE_KEYS = {name: -65537 - i for i, name in enumerate(PRIVATE_CLAIMS)}
CLAIM_NAMES = {KEY_NONCE: "eat_nonce", KEY_UEID: "ueid", KEY_PROFILE: "eat_profile",
               **{key: name for name, key in PRIVATE_KEYS.items()}}

COSE_SIGN1_TAG = 18
BIGNUM_TAG = 2
PROTECTED_EDDSA = b"\xa1\x01\x27"  # {1 (alg): -8 (EdDSA)}
MAX_TOKEN_SIZE = wire.MAX_MESSAGE_SIZE
_MAX_DEPTH = 4  # tag(array(bstr)); claims: map(array(tag(bstr)))

_FIELD_SIZES = {name: size for name, (_, size) in
                wire.field_offsets(wire.AttestationBodyFormat).items()}
_FIELD_SIZES["signature"] = wire.SIGNATURE_SIZE
_BYTES_FIELDS = {sub.name for sub in wire.AttestationBodyFormat.subcons
                 if isinstance(sub.subcon, Bytes)} | {"signature"}


class Tag:
    """A tagged CBOR item."""

    def __init__(self, number: int, value: Any):
        self.number, self.value = number, value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tag) and (self.number, self.value) == (other.number, other.value)


def _head(major: int, argument: int) -> bytes:
    if argument < 24:
        return bytes([major << 5 | argument])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | info]) + argument.to_bytes(size, "big")
    raise ValueError("argument above 2^64 - 1")


def encode(value: Any) -> bytes:
    """Deterministic CBOR of ints (bignums above 2^64 - 1), bytes, str, lists,
    dicts (keys sorted by their encoding) and Tags."""
    if isinstance(value, bool) or value is None:
        raise TypeError("no simple values in this profile")
    if isinstance(value, int):
        if value >= 1 << 64:
            return encode(Tag(BIGNUM_TAG, value.to_bytes((value.bit_length() + 7) // 8, "big")))
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        text = value.encode()
        return _head(3, len(text)) + text
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        items = sorted((encode(k), encode(v)) for k, v in value.items())
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    if isinstance(value, Tag):
        return _head(6, value.number) + encode(value.value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(data: bytes, what: str = "EAT") -> Any:
    """One CBOR item, the whole of ``data``: definite lengths only, no floats
    or simple values, nesting at most a few levels, every length checked
    against the bytes there are. Raises RecordError. (Shortest form is
    checked by the caller's re-encoding.)"""
    value, end = _decode_at(bytes(data), 0, 0, what)
    if end != len(data):
        raise RecordError(f"{what}: {len(data) - end} trailing bytes after the CBOR item")
    return value


def _decode_at(data: bytes, pos: int, depth: int, what: str) -> tuple[Any, int]:
    if depth > _MAX_DEPTH:
        raise RecordError(f"{what}: CBOR nested deeper than the profile allows")
    if pos >= len(data):
        raise RecordError(f"{what}: truncated CBOR", DeviceStatus.RECORD_LENGTH)
    major, info = data[pos] >> 5, data[pos] & 0x1F
    pos += 1
    if info < 24:
        argument = info
    elif info <= 27:
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise RecordError(f"{what}: truncated CBOR", DeviceStatus.RECORD_LENGTH)
        argument = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    else:
        raise RecordError(f"{what}: indefinite length or reserved CBOR head 0x{data[pos - 1]:02x}")
    if major == 0:
        return argument, pos
    if major == 1:
        return -1 - argument, pos
    if major in (2, 3):
        if argument > len(data) - pos:
            raise RecordError(f"{what}: a CBOR string of {argument} bytes runs past the end "
                              f"({len(data) - pos} left)", DeviceStatus.RECORD_LENGTH)
        raw = data[pos:pos + argument]
        if major == 2:
            return raw, pos + argument
        try:
            return raw.decode(), pos + argument
        except UnicodeDecodeError:
            raise RecordError(f"{what}: CBOR text is not UTF-8") from None
    if major in (4, 5):
        if argument > len(data) - pos:  # every item takes at least one byte
            raise RecordError(f"{what}: a CBOR {'array' if major == 4 else 'map'} of {argument} "
                              "items runs past the end", DeviceStatus.RECORD_LENGTH)
        items = []
        for _ in range(argument * (1 if major == 4 else 2)):
            item, pos = _decode_at(data, pos, depth + 1, what)
            items.append(item)
        if major == 4:
            return items, pos
        keys = items[0::2]
        if any(isinstance(k, list | dict | Tag) for k in keys) or len(set(keys)) != len(keys):
            raise RecordError(f"{what}: CBOR map keys must be distinct integers or strings")
        return dict(zip(keys, items[1::2])), pos
    if major == 6:
        item, pos = _decode_at(data, pos, depth + 1, what)
        return Tag(argument, item), pos
    raise RecordError(f"{what}: CBOR floats and simple values are not in this profile")


def sig_structure(payload: bytes) -> bytes:
    """What the COSE signature covers (RFC 9052 section 4.4). It starts with
    0x84, never with "openheg/": no binary record's signed message is one."""
    return encode(["Signature1", PROTECTED_EDDSA, b"", payload])


def claims(attestation: Attestation) -> dict:
    """The profile's claims of a binary attestation."""
    out: dict[int, Any] = {KEY_NONCE: attestation.nonce,
                           KEY_UEID: bytes([UEID_TYPE_RAND]) + attestation.device_id,
                           KEY_PROFILE: PROFILE}
    for name, key in PRIVATE_KEYS.items():
        value = getattr(attestation, name)
        out[key] = list(value) if name == "lane_ops" else value if name in _BYTES_FIELDS \
            else int(value)
    return out


def token(attestation: Attestation, eat_signature: bytes) -> bytes:
    """The COSE_Sign1 the device makes for ``attestation``, given its COSE signature."""
    return encode(Tag(COSE_SIGN1_TAG, [PROTECTED_EDDSA, {}, encode(claims(attestation)),
                                       eat_signature]))


def _claim_int(name: str, value: Any) -> int:
    if isinstance(value, Tag) and value.number == BIGNUM_TAG and isinstance(value.value, bytes):
        value = int.from_bytes(value.value, "big")
    if not isinstance(value, int) or value < 0:
        raise RecordError(f"EAT: claim {name} must be an unsigned integer")
    return value


def _claim_value(name: str, value: Any) -> Any:
    if name == "lane_ops":
        if not isinstance(value, list) or len(value) != len(wire.regmap.LANES):
            raise RecordError(f"EAT: claim lane_ops must be an array of "
                              f"{len(wire.regmap.LANES)} counters")
        return tuple(_claim_int(name, v) for v in value)
    if name in _BYTES_FIELDS:
        if not isinstance(value, bytes) or len(value) != _FIELD_SIZES[name]:
            raise RecordError(f"EAT: claim {name} must be a byte string of "
                              f"{_FIELD_SIZES[name]} bytes")
        return value
    return _claim_int(name, value)


def attestation_from_eat(data: bytes) -> Attestation:
    """The binary attestation an EAT carries, once its COSE signature verifies
    under the device key it names (ueid). Raises RecordError for a token that
    is not this profile's one encoding, VerificationError for a bad signature.
    Whether that key is an endorsed device's, and everything else, is
    openheg.verify's to decide (verify_eat)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RecordError("EAT: expected bytes")
    data = bytes(data)
    if len(data) > MAX_TOKEN_SIZE:
        raise RecordError(f"EAT: {len(data)} bytes, above the {MAX_TOKEN_SIZE} a device sends")
    sign1 = decode(data)
    if not (isinstance(sign1, Tag) and sign1.number == COSE_SIGN1_TAG
            and isinstance(sign1.value, list) and len(sign1.value) == 4):
        raise RecordError("EAT: not a tagged COSE_Sign1 (tag 18, an array of 4)")
    protected, unprotected, payload, eat_signature = sign1.value
    if protected != PROTECTED_EDDSA:
        raise RecordError("EAT: the protected header must be exactly {1: -8} (alg EdDSA)")
    if unprotected != {}:
        raise RecordError("EAT: the unprotected header must be empty")
    if not isinstance(payload, bytes) or not isinstance(eat_signature, bytes) \
            or len(eat_signature) != wire.SIGNATURE_SIZE:
        raise RecordError("EAT: payload and a 64-byte Ed25519 signature must be byte strings")
    found = decode(payload, "EAT claims")
    if not isinstance(found, dict):
        raise RecordError("EAT: the payload is not a claims map")
    missing = [CLAIM_NAMES[k] for k in CLAIM_NAMES if k not in found]
    extra = [str(k) for k in found if k not in CLAIM_NAMES]
    if missing or extra:
        raise RecordError("EAT: " + "; ".join(
            ([f"missing claims {', '.join(missing)}"] if missing else [])
            + ([f"claims not in the profile: {', '.join(extra)}"] if extra else [])))
    if found[KEY_PROFILE] != PROFILE:
        raise RecordError(f"EAT: profile {found[KEY_PROFILE]!r} is not {PROFILE}")
    ueid = found[KEY_UEID]
    if not (isinstance(ueid, bytes) and len(ueid) == 1 + wire.KEY_SIZE
            and ueid[0] == UEID_TYPE_RAND):
        raise RecordError("EAT: ueid must be type RAND (0x01) and the 32-byte device id")
    values = {name: _claim_value(name, found[key]) for name, key in PRIVATE_KEYS.items()}
    if not isinstance(found[KEY_NONCE], bytes) or len(found[KEY_NONCE]) != wire.NONCE_SIZE:
        raise RecordError(f"EAT: eat_nonce must be a byte string of {wire.NONCE_SIZE} bytes")
    values["nonce"] = found[KEY_NONCE]
    try:
        values["gate_state"] = GateState(values["gate_state"])
    except ValueError:
        raise RecordError(f"EAT: unknown gate state {values['gate_state']}") from None
    values["gate_causes"] = GateCause(values["gate_causes"])
    attestation = Attestation(device_id=ueid[1:], **values)
    attestation.to_bytes()  # every field in range and the record's own rules
    if token(attestation, eat_signature) != data:
        raise RecordError("EAT: not in this profile's one encoding (deterministic CBOR, "
                          "claims in order, shortest forms)")
    try:
        verify_strict(attestation.device_id, sig_structure(payload), eat_signature)
    except SignatureError:
        raise VerificationError("EAT signature does not verify (altered in transit, or not "
                                "made by the device its ueid names)") from None
    return attestation


def verify_eat(data: bytes, **appraisal: Any) -> VerifiedAttestation:
    """openheg.verify.verify_attestation of the record the EAT carries (the same
    keyword arguments): nonce, endorsement, policy, license, all as for ATTEST."""
    try:
        attestation = attestation_from_eat(data)
    except RecordError as error:
        raise VerificationError(f"EAT is malformed: {error}") from None
    return verify_attestation(attestation.to_bytes(), **appraisal)
