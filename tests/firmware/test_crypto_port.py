"""The firmware's crypto port gives the strict Ed25519 verdict on every shared vector,
the same verdicts as the host (libsodium's rules, DESIGN.md requirement 2), and
makes exactly libsodium's keys and signatures."""

from __future__ import annotations

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg_sim.firmware import ed25519_keypair, ed25519_sign, ed25519_verify

from ed25519_vectors import all_cases, cctv_cases


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


def test_vectors_that_tell_a_cofactored_check_from_libsodiums_get_libsodiums_verdict():
    """Why verification stays on libsodium (crypto_port.c): with canonical
    A and R of large order, a cofactored check such as Monocypher's accepts
    the 63 vectors whose low-order residue only the cofactor cancels, which
    libsodium rejects; refusing any low-order component instead would refuse
    the 42 that libsodium accepts. The device gives libsodium's verdict on both."""
    structural = {"low_order_A", "low_order_R", "non_canonical_A", "non_canonical_R"}
    large_order = [case for case in cctv_cases() if not case.flags & structural]
    residue = [case for case in large_order if "low_order_residue" in case.flags]
    mixed_accepted = [case for case in large_order if case.valid and case.flags]
    assert len(residue) == 63 and len(mixed_accepted) == 42
    assert not any(case.valid for case in residue)
    assert not any(ed25519_verify(case.public_key, case.message, case.signature)
                   for case in residue)
    assert all(ed25519_verify(case.public_key, case.message, case.signature)
               for case in mixed_accepted)


def test_firmware_verifies_pynacl_signatures():
    key = nacl.signing.SigningKey(b"\x05" * 32)
    signature = key.sign(b"hello").signature
    assert ed25519_verify(bytes(key.verify_key), b"hello", signature)
    assert not ed25519_verify(bytes(key.verify_key), b"hellO", signature)


def test_wrong_sizes_are_refused():
    with pytest.raises(ValueError):
        ed25519_verify(b"\x00" * 31, b"m", b"\x00" * 64)


# RFC 8032 section 7.1, TEST 1 and TEST 2 (secret key, public key, message, signature).
RFC8032_TESTS = (
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
)


@pytest.mark.parametrize("seed, public_key, message, signature", RFC8032_TESTS)
def test_firmware_keys_and_signatures_match_rfc8032(seed, public_key, message, signature):
    pk, sk = ed25519_keypair(bytes.fromhex(seed))
    assert pk.hex() == public_key
    assert sk == bytes.fromhex(seed) + pk
    assert ed25519_sign(sk, bytes.fromhex(message)).hex() == signature


@settings(max_examples=300, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=600))
def test_firmware_signing_equals_libsodium_byte_for_byte(seed, message):
    # The device signs with Monocypher's scalar operations and libsodium's SHA-512
    # (flash budget); Ed25519 is deterministic, so every key and signature must be
    # the one libsodium (PyNaCl) makes, and must pass the firmware's own strict verify.
    reference = nacl.signing.SigningKey(seed)
    pk, sk = ed25519_keypair(seed)
    assert pk == bytes(reference.verify_key)
    signature = ed25519_sign(sk, message)
    assert signature == reference.sign(message).signature
    assert ed25519_verify(pk, message, signature)


def test_signing_refuses_malformed_keys():
    with pytest.raises(ValueError):
        ed25519_keypair(b"\x01" * 31)
    with pytest.raises(ValueError):
        ed25519_sign(b"\x01" * 32, b"m")
