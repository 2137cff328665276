"""The firmware's crypto port gives the strict Ed25519 verdict on every shared vector,
the same verdicts as the host (libsodium's rules, DESIGN.md requirement 2)."""

from __future__ import annotations

import nacl.signing
import pytest

from openheg_sim.firmware import ed25519_verify

from ed25519_vectors import all_cases


def test_firmware_matches_strict_verdict_on_every_shared_vector():
    cases = all_cases()
    assert len(cases) > 1000
    wrong = []
    for case in cases:
        if len(case.public_key) != 32 or len(case.signature) != 64:
            # Wire fields are fixed-size: such bytes never reach the device's verifier.
            with pytest.raises(ValueError):
                ed25519_verify(case.public_key, case.message, case.signature)
            verdict = False
        else:
            verdict = ed25519_verify(case.public_key, case.message, case.signature)
        if verdict != case.valid:
            wrong.append(case.name)
    assert wrong == []


def test_firmware_verifies_pynacl_signatures():
    key = nacl.signing.SigningKey(b"\x05" * 32)
    signature = key.sign(b"hello").signature
    assert ed25519_verify(bytes(key.verify_key), b"hello", signature)
    assert not ed25519_verify(bytes(key.verify_key), b"hellO", signature)


def test_wrong_sizes_are_refused():
    with pytest.raises(ValueError):
        ed25519_verify(b"\x00" * 31, b"m", b"\x00" * 64)
