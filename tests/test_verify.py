"""Attestation verification fails closed on every broken link.

The attestations here are signed in Python with test keys, so each check of
the verifier is exercised on its own; the end-to-end tests verify attestations
made by the real firmware.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg import wire
from openheg.crypto import SigningKey
from openheg.errors import VerificationError
from openheg.roles import Role, endorse_device, issue_license
from openheg.verify import verify_attestation
from openheg.wire import Attestation, GateCause, GateState, RecordType

NONCE = bytes(range(32))


@pytest.fixture
def world(tmp_path):
    issuer = Role(tmp_path, SigningKey.generate())
    vendor = Role(tmp_path, SigningKey.generate())
    device = SigningKey.generate()
    license_ = issue_license(issuer, device_id=device.public_key, workload="w", sequence=1,
                             allocation_msflop=10_000)
    endorsement = endorse_device(vendor, device.public_key)
    return issuer, vendor, device, license_, endorsement


def attest(device: SigningKey, license_, consumed=4_000, nonce=NONCE, **changes) -> bytes:
    body = Attestation(
        device_id=device.public_key, nonce=nonce, firmware_measurement=bytes(32),
        policy_version=0, license_id=license_.license_id, license_sequence=license_.sequence,
        lane_ops=(0, consumed // 1000, 0, 0, 0, 0), consumed_msflop=consumed,
        remaining_msflop=max(license_.allocation_msflop - consumed, 0),
        gate_state=GateState.OPEN, gate_causes=GateCause(0), report_counter=1, reset_count=1,
        log_head=bytes(32))
    body = replace(body, **changes)
    return replace(body, signature=device.sign_record(RecordType.ATTESTATION, body.body())
                   ).to_bytes()


def test_a_good_attestation_verifies(world):
    _, vendor, device, license_, endorsement = world
    verified = verify_attestation(attest(device, license_), nonce=NONCE, endorsement=endorsement,
                                  vendor_keys={vendor.public_key}, license=license_)
    assert verified.attestation.consumed_msflop == 4_000


def test_untrusted_vendor(world):
    _, _, device, license_, endorsement = world
    with pytest.raises(VerificationError, match="vendor key the verifier does not trust"):
        verify_attestation(attest(device, license_), nonce=NONCE, endorsement=endorsement,
                           vendor_keys={bytes(32)})


def test_forged_endorsement(world):
    _, vendor, device, license_, endorsement = world
    forged = replace(endorsement, issued_at=endorsement.issued_at + 1)
    with pytest.raises(VerificationError, match="endorsement signature"):
        verify_attestation(attest(device, license_), nonce=NONCE, endorsement=forged,
                           vendor_keys={vendor.public_key})


def test_endorsement_of_another_device(world):
    _, vendor, _, license_, endorsement = world
    other = SigningKey.generate()
    with pytest.raises(VerificationError, match="endorsement does not cover"):
        verify_attestation(attest(other, license_), nonce=NONCE, endorsement=endorsement,
                           vendor_keys={vendor.public_key})


def test_stale_nonce(world):
    _, vendor, device, license_, endorsement = world
    with pytest.raises(VerificationError, match="different nonce"):
        verify_attestation(attest(device, license_, nonce=bytes(32)), nonce=NONCE,
                           endorsement=endorsement, vendor_keys={vendor.public_key})


def test_other_license(world):
    issuer, vendor, device, license_, endorsement = world
    newer = issue_license(issuer, device_id=device.public_key, workload="w", sequence=2,
                          allocation_msflop=10_000)
    with pytest.raises(VerificationError, match="another license"):
        verify_attestation(attest(device, license_), nonce=NONCE, endorsement=endorsement,
                           vendor_keys={vendor.public_key}, license=newer)


def test_numbers_that_do_not_add_up(world):
    _, vendor, device, license_, endorsement = world
    with pytest.raises(VerificationError, match="do not add up"):
        verify_attestation(attest(device, license_, remaining_msflop=10_000), nonce=NONCE,
                           endorsement=endorsement, vendor_keys={vendor.public_key},
                           license=license_)


@settings(max_examples=150, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_every_bit_flip_of_an_attestation_is_rejected(tmp_path_factory, position, bit):
    device, vendor = SigningKey.generate(), Role(tmp_path_factory.mktemp("v"), SigningKey.generate())
    issuer = Role(tmp_path_factory.mktemp("i"), SigningKey.generate())
    license_ = issue_license(issuer, device_id=device.public_key, workload="w", sequence=1,
                             allocation_msflop=10_000)
    data = bytearray(attest(device, license_))
    data[position % len(data)] ^= 1 << bit
    with pytest.raises(VerificationError):
        verify_attestation(bytes(data), nonce=NONCE,
                           endorsement=endorse_device(vendor, device.public_key),
                           vendor_keys={vendor.public_key}, license=license_)
