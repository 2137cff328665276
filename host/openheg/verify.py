"""Verify what a device reports, failing closed.

An attestation is trusted only when every link holds: the vendor key is one
the verifier trusts, the vendor endorsed this device key, the device signed
these exact bytes, the nonce is the verifier's own fresh one, and (when a
license is given) the report is about that license on that device and its
numbers add up. Any broken link raises VerificationError naming it.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass

from .crypto import verify_record
from .errors import RecordError, SignatureError, VerificationError
from .wire import Attestation, Endorsement, License, RecordType


@dataclass(frozen=True)
class VerifiedAttestation:
    attestation: Attestation
    endorsement: Endorsement
    license: License | None


def verify_endorsement(endorsement: Endorsement, vendor_keys: Collection[bytes]) -> None:
    if endorsement.vendor_key not in vendor_keys:
        raise VerificationError("endorsement is by a vendor key the verifier does not trust")
    try:
        verify_record(RecordType.ENDORSEMENT, endorsement.vendor_key, endorsement.body(),
                      endorsement.signature)
    except SignatureError:
        raise VerificationError("endorsement signature does not verify") from None


def verify_attestation(data: bytes, *, nonce: bytes, endorsement: Endorsement,
                       vendor_keys: Collection[bytes],
                       license: License | None = None) -> VerifiedAttestation:
    try:
        attestation = Attestation.from_bytes(data)
    except RecordError as error:
        raise VerificationError(f"attestation is malformed: {error}") from None
    verify_endorsement(endorsement, vendor_keys)
    if endorsement.device_id != attestation.device_id:
        raise VerificationError("attestation is from a device the endorsement does not cover")
    try:
        verify_record(RecordType.ATTESTATION, attestation.device_id, attestation.body(),
                      attestation.signature)
    except SignatureError:
        raise VerificationError("attestation signature does not verify "
                                "(altered in transit, or not made by this device)") from None
    if not hmac.compare_digest(attestation.nonce, nonce):
        raise VerificationError("attestation answers a different nonce (replayed or stale report)")
    if license is not None:
        _check_license_binding(attestation, license)
    return VerifiedAttestation(attestation, endorsement, license)


def _check_license_binding(attestation: Attestation, license: License) -> None:
    if license.device_id != attestation.device_id:
        raise VerificationError("the license is for another device than the attestation's")
    if (attestation.license_id, attestation.license_sequence) != (license.license_id,
                                                                  license.sequence):
        raise VerificationError("attestation reports another license than the one given "
                                f"(device runs sequence {attestation.license_sequence}, "
                                f"license is sequence {license.sequence})")
    expected_remaining = max(license.allocation_msflop - attestation.consumed_msflop, 0)
    if attestation.remaining_msflop != expected_remaining:
        raise VerificationError("attestation's consumed and remaining compute do not add up "
                                "to the license allocation")
