"""Wire formats v1: golden bytes, exactly one valid encoding, typed errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg import wire
from openheg.crypto import verify_record
from openheg.errors import DeviceStatus, RecordError, SignatureError

from golden import INVALID, RECORD_CLASSES, RECORDS, VALID, expected_error, fields_from_json


@pytest.mark.parametrize("vector", VALID, ids=[v["name"] for v in VALID])
def test_golden_vector_decodes_and_reencodes(vector):
    cls = RECORD_CLASSES[vector["record"]]
    data = bytes.fromhex(vector["hex"])
    record = cls.from_bytes(data)
    assert record == cls(**fields_from_json(vector["fields"]))
    assert record.to_bytes() == data


@pytest.mark.parametrize("vector", INVALID, ids=[v["name"] for v in INVALID])
def test_golden_invalid_vector_is_refused_with_its_kind(vector):
    with pytest.raises(RecordError) as caught:
        RECORD_CLASSES[vector["record"]].from_bytes(bytes.fromhex(vector["hex"]))
    assert caught.value.kind == expected_error(vector)


def test_golden_signatures_verify_under_their_domains():
    keys = {name: bytes.fromhex(k) for name, k in RECORDS["keys"].items()}
    by_name = {v["name"]: RECORD_CLASSES[v["record"]].from_bytes(bytes.fromhex(v["hex"]))
               for v in VALID}
    for entry in by_name["frontier license, two signers"].signatures:
        verify_record(wire.RecordType.LICENSE, entry.signer,
                      by_name["frontier license, two signers"].body(), entry.signature)
    attestation = by_name["attestation"]
    verify_record(wire.RecordType.ATTESTATION, keys["device"], attestation.body(),
                  attestation.signature)
    endorsement = by_name["endorsement"]
    verify_record(wire.RecordType.ENDORSEMENT, keys["vendor"], endorsement.body(),
                  endorsement.signature)


def test_domains_are_distinct_and_nul_terminated():
    domains = list(wire.DOMAINS.values())
    assert len(set(domains)) == len(domains)
    assert all(d.endswith(b"\x00") and d.count(b"\x00") == 1 for d in domains)


def test_sizes_match_the_formats():
    assert wire.ATTESTATION_SIZE == len(bytes.fromhex(VALID[2]["hex"]))
    assert wire.license_size(1) == len(bytes.fromhex(VALID[0]["hex"]))
    assert wire.license_size(wire.MAX_LICENSE_SIGNATURES) + 3 <= wire.MAX_MESSAGE_SIZE


def test_encoder_refuses_what_the_parser_refuses():
    license_ = wire.License.from_bytes(bytes.fromhex(VALID[0]["hex"]))
    with pytest.raises(RecordError, match="oversight_ppm"):
        replace(license_, oversight_ppm=wire.OVERSIGHT_PPM_MAX + 1).to_bytes()
    with pytest.raises(RecordError, match="inspector"):
        replace(license_, license_class=wire.LicenseClass.HORIZON).to_bytes()
    with pytest.raises(RecordError, match="cannot encode"):
        replace(license_, allocation_msflop=1 << 128, workload_total_msflop=1 << 128).to_bytes()
    with pytest.raises(RecordError, match="signatures"):
        replace(license_, signatures=()).to_bytes()


@pytest.mark.parametrize("record, field, value", [
    (0, "workload_kind", 0), (0, "workload_kind", 4), (0, "license_class", 0),
    (2, "gate_state", 7)])
def test_the_builder_refuses_an_enum_value_the_parser_refuses(record, field, value):
    """Regression: a license of workload kind 0 was built, and could be signed,
    though its own parser and the firmware refuse it (an issuer's tool must
    never write a record no reader accepts)."""
    parsed = RECORD_CLASSES[VALID[record]["record"]].from_bytes(bytes.fromhex(VALID[record]["hex"]))
    with pytest.raises(RecordError, match=f"unknown {field.replace('_', ' ')} 0x{value:02x}"):
        replace(parsed, **{field: value}).body()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), record=st.sampled_from(sorted(RECORD_CLASSES)))
def test_arbitrary_bytes_parse_or_raise_a_typed_error(data, record):
    try:
        RECORD_CLASSES[record].from_bytes(data)
    except RecordError as error:
        assert error.kind in (DeviceStatus.RECORD_LENGTH, DeviceStatus.RECORD_HEADER,
                              DeviceStatus.RECORD_FIELD, DeviceStatus.ALLOCATION_EXCEEDS_TOTAL)


@settings(max_examples=200, deadline=None)
@given(index=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_every_single_bit_flip_of_a_license_is_caught(index, bit):
    """A flip either breaks the encoding or the issuer signature: never both pass."""
    data = bytearray(bytes.fromhex(VALID[0]["hex"]))
    index %= len(data)
    data[index] ^= 1 << bit
    issuer = bytes.fromhex(RECORDS["keys"]["issuer"])
    try:
        flipped = wire.License.from_bytes(bytes(data))
    except RecordError:
        return
    entries = [e for e in flipped.signatures if e.signer == issuer]
    with pytest.raises(SignatureError):
        if not entries:
            raise SignatureError("issuer signature missing")
        verify_record(wire.RecordType.LICENSE, issuer, flipped.body(), entries[0].signature)
