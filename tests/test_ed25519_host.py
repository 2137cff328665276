"""Host verification gives the strict verdict on every shared Ed25519 vector."""

from __future__ import annotations

from collections import Counter

import pytest

from openheg.crypto import verify_strict
from openheg.errors import SignatureError

from ed25519_vectors import all_cases, cctv_cases, wycheproof_cases


def host_verdict(case) -> bool:
    try:
        verify_strict(case.public_key, case.message, case.signature)
    except SignatureError:
        return False
    return True


def test_suites_are_complete():
    # The counts pin the suites: a truncated vectors folder must not pass quietly.
    assert len(cctv_cases()) == 914
    assert Counter(c.valid for c in wycheproof_cases()) == {True: 88, False: 63}
    assert Counter(c.valid for c in cctv_cases()) == {True: 43, False: 871}


def test_host_matches_strict_verdict_on_every_vector():
    wrong = [c.name for c in all_cases() if host_verdict(c) != c.valid]
    assert wrong == []


@pytest.mark.parametrize("public_key,signature", [(b"\x00" * 31, b"\x00" * 64),
                                                  (b"\x00" * 32, b"\x00" * 63)])
def test_wrong_sizes_are_typed_errors(public_key, signature):
    with pytest.raises(SignatureError, match="bytes"):
        verify_strict(public_key, b"m", signature)
