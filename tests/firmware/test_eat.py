"""ATTEST_EAT (issue 11): the firmware's EAT (RFC 9711, docs/eat.md).

The token is checked by an independent COSE/CWT library (``cwt``, with
``cbor2`` for the claims), not by openheg's own reader, against the binary
ATTEST of the same device state; then openheg.eat's strict reader is held to
the firmware's bytes, and the operator's tricks are tried on it: a token it
signs with a key it holds, edited claims, another profile, another
algorithm, claims added or dropped, non-canonical encodings, truncations and
length prefixes pointing far past the end."""

from __future__ import annotations

import os
from dataclasses import replace

import cbor2
import nacl.signing
import pytest
from cwt import COSE, COSEKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openheg import eat, wire
from openheg.errors import DeviceStatus, RecordError, VerificationError
from openheg_sim.flash import PowerCut

from fwkit import Authority, Device, provision

C = wire.Command
S = DeviceStatus


def _licensed(authority: Authority) -> Device:
    dev = Device()
    provision(dev, authority)
    lic = authority.license(dev.device_id, 1, allocation=8_000_000)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    dev.run(300)
    return dev


def _cose_key(device_id: bytes, secret: bytes | None = None):
    params = {1: 1, 3: -8, -1: 6, -2: device_id}  # OKP, EdDSA, Ed25519
    if secret is not None:
        params[-4] = secret
    return COSEKey.new(params)


def _endorsement(authority: Authority, device_id: bytes) -> wire.Endorsement:
    return wire.Endorsement.from_bytes(authority.endorsement(device_id))


def _operator_token(claims: dict, key: nacl.signing.SigningKey) -> bytes:
    """An EAT the operator signs with a key it holds, by the independent library."""
    return COSE.new().encode_and_sign(cbor2.dumps(claims, canonical=True),
                                      _cose_key(bytes(key.verify_key), bytes(key)),
                                      protected={1: -8})


def test_an_independent_library_verifies_the_device_eat_against_its_binary_attest(authority):
    dev = _licensed(authority)
    nonce = os.urandom(32)
    binary = dev.attest(nonce)
    token = dev.ok(C.ATTEST_EAT, nonce)

    payload = COSE.new().decode(token, _cose_key(dev.device_id))  # verifies the signature
    claims = cbor2.loads(payload)
    assert claims[10] == nonce
    assert claims[256] == b"\x01" + dev.device_id
    assert claims[265] == eat.PROFILE
    # The same state, one report later: every claim is the binary record's
    # field, the report counter one higher.
    expected = replace(binary, report_counter=binary.report_counter + 1)
    for name, key in eat.PRIVATE_KEYS.items():
        value = claims[key]
        if name == "signature":
            continue
        if name == "lane_ops":
            value = tuple(value)
        assert value == getattr(expected, name), name
    assert claims[eat.PRIVATE_KEYS["consumed_msflop"]] == 300_000
    # The record the claims carry, with their signature claim, is one the
    # device signed (plain Ed25519 over domain || body).
    rebuilt = replace(expected, signature=claims[eat.PRIVATE_KEYS["signature"]])
    nacl.signing.VerifyKey(dev.device_id).verify(rebuilt.signing_message(), rebuilt.signature)
    assert set(claims) == set(eat.CLAIM_NAMES)


def test_openheg_reads_back_exactly_the_firmware_bytes_and_appraises_them(authority):
    dev = _licensed(authority)
    nonce = os.urandom(32)
    token = dev.ok(C.ATTEST_EAT, nonce)
    attestation = eat.attestation_from_eat(token)
    sign1 = cbor2.loads(token)
    assert eat.token(attestation, sign1.value[3]) == token  # host and C encode alike
    verified = eat.verify_eat(token, nonce=nonce, endorsement=_endorsement(authority,
                                                                           dev.device_id),
                              vendor_keys={authority.vendor_key})
    assert verified.attestation == attestation
    with pytest.raises(VerificationError, match="different nonce"):
        eat.verify_eat(token, nonce=os.urandom(32),
                       endorsement=_endorsement(authority, dev.device_id),
                       vendor_keys={authority.vendor_key})


def _counter(dev: Device, command: int) -> int:
    data = dev.ok(command, b"n" * 32)
    record = eat.attestation_from_eat(data) if command == C.ATTEST_EAT \
        else wire.Attestation.from_bytes(data)
    return record.report_counter


def test_eat_and_attest_take_one_report_counter_even_across_power_cuts(authority):
    """ATTEST and ATTEST_EAT interleaved past a block of report counters, the
    power cut at each flash operation of the reservation in turn, then two
    reboots: every counter signed, in either form, is new and above the last."""
    base = Device()
    provision(base, authority, sync_time=False)
    for cut in range(1, 6):
        dev = Device(base.flash.clone(), seed=base.seed)
        signed = []
        dev.flash.cut_after(cut)
        try:
            for i in range(wire.REPORT_COUNTER_BLOCK + 2):
                signed.append(_counter(dev, C.ATTEST_EAT if i % 2 else C.ATTEST))
        except PowerCut:
            pass
        dev.flash.cancel_cut()
        for command in (C.ATTEST_EAT, C.ATTEST):
            dev = Device(dev.flash.clone(), seed=base.seed)
            signed.append(_counter(dev, command))
        assert signed == sorted(set(signed)), f"cut {cut}: a report counter repeated or fell"


def test_a_refused_attest_eat_changes_nothing(authority):
    dev = Device()
    assert dev.status_of(C.ATTEST_EAT, b"n" * 32) == S.WRONG_STATE
    provision(dev, authority)
    before = dev.snapshot()
    for payload in (b"", b"n" * 31, b"n" * 33):
        assert dev.status_of(C.ATTEST_EAT, payload) == S.BAD_REQUEST
    assert dev.snapshot() == before
    assert dev.attest().report_counter == 1  # no counter was taken by the refusals


@pytest.fixture
def issued(authority):
    dev = _licensed(authority)
    nonce = os.urandom(32)
    token = dev.ok(C.ATTEST_EAT, nonce)
    return dev, nonce, token, cbor2.loads(cbor2.loads(token).value[2])


def _appraise(authority, dev, nonce, token):
    return eat.verify_eat(token, nonce=nonce, endorsement=_endorsement(authority, dev.device_id),
                          vendor_keys={authority.vendor_key})


def test_an_eat_the_operator_signs_with_its_own_key_is_not_endorsed(authority, issued):
    dev, nonce, _, claims = issued
    operator = nacl.signing.SigningKey(b"o" * 32)
    # The device's claims under the operator's key: the ueid names the device,
    # so the COSE signature fails; naming its own key, no endorsement covers it.
    with pytest.raises(VerificationError, match="EAT signature does not verify"):
        _appraise(authority, dev, nonce, _operator_token(claims, operator))
    own = dict(claims)
    own[256] = b"\x01" + bytes(operator.verify_key)
    with pytest.raises(VerificationError, match="endorsement does not cover"):
        _appraise(authority, dev, nonce, _operator_token(own, operator))


def test_an_edited_claim_fails_the_signature(authority, issued):
    dev, nonce, token, claims = issued
    sign1 = cbor2.loads(token)
    for name, value in (("consumed_msflop", 1), ("report_counter", 99),
                        ("remaining_msflop", 2**70), ("gate_causes", 0x200)):
        edited = dict(claims)
        edited[eat.PRIVATE_KEYS[name]] = value
        if name == "gate_causes":
            edited[eat.PRIVATE_KEYS["gate_state"]] = wire.GateState.CLOSED
        forged = cbor2.dumps(cbor2.CBORTag(18, [sign1.value[0], {}, cbor2.dumps(
            edited, canonical=True), sign1.value[3]]))
        with pytest.raises(VerificationError, match="EAT signature does not verify"):
            _appraise(authority, dev, nonce, forged)


def test_claims_of_another_report_are_refused(authority):
    """The binary ATTEST and the EAT of different counters: the operator
    splices the binary record's signature of one report into the claims of
    another. Signed again by a key it holds (the only key it can sign with),
    the appraisal still checks the device's own signature on the record the
    claims describe, and that fails."""
    dev = _licensed(authority)
    nonce = os.urandom(32)
    earlier = dev.attest(nonce)
    claims = cbor2.loads(cbor2.loads(dev.ok(C.ATTEST_EAT, nonce)).value[2])
    claims[eat.PRIVATE_KEYS["signature"]] = earlier.signature
    operator = nacl.signing.SigningKey(b"p" * 32)
    vendor = nacl.signing.SigningKey(b"v" * 32)  # even with a vendor it made up
    claims[256] = b"\x01" + bytes(operator.verify_key)
    endorsement = replace(wire.Endorsement(bytes(operator.verify_key), bytes(vendor.verify_key),
                                           0))
    endorsement = replace(endorsement, signature=vendor.sign(
        endorsement.signing_message()).signature)
    with pytest.raises(VerificationError, match="attestation signature does not verify"):
        eat.verify_eat(_operator_token(claims, operator), nonce=nonce, endorsement=endorsement,
                       vendor_keys={bytes(vendor.verify_key)})


@pytest.mark.parametrize("change, message", [
    (lambda c: c.__setitem__(265, "tag:example.org,2026:other"), "profile"),
    (lambda c: c.pop(eat.PRIVATE_KEYS["log_head"]), "missing claims log_head"),
    (lambda c: c.__setitem__(6, 1_800_000_000), "not in the profile: 6"),
    (lambda c: c.__setitem__(256, b"\x02" + c[256][1:]), "ueid"),
    (lambda c: c.__setitem__(eat.PRIVATE_KEYS["lane_ops"], [0] * 5), "lane_ops"),
    (lambda c: c.__setitem__(eat.PRIVATE_KEYS["license_id"], b"x" * 15), "license_id"),
    (lambda c: c.__setitem__(eat.PRIVATE_KEYS["policy_version"], -1), "unsigned"),
])
def test_claims_outside_the_profile_are_refused(issued, change, message):
    _, _, token, claims = issued
    sign1 = cbor2.loads(token)
    change(claims)
    forged = cbor2.dumps(cbor2.CBORTag(18, [sign1.value[0], {}, cbor2.dumps(
        claims, canonical=True), sign1.value[3]]))
    with pytest.raises(RecordError, match=message):
        eat.attestation_from_eat(forged)


def test_another_algorithm_or_header_is_refused(issued):
    _, _, token, _ = issued
    sign1 = cbor2.loads(token)
    for protected, unprotected, message in ((cbor2.dumps({1: -7}), {}, "EdDSA"),
                                            (sign1.value[0], {4: b"kid"}, "unprotected")):
        forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, sign1.value[2],
                                                sign1.value[3]]))
        with pytest.raises(RecordError, match=message):
            eat.attestation_from_eat(forged)
    with pytest.raises(RecordError, match="COSE_Sign1"):
        eat.attestation_from_eat(cbor2.dumps(cbor2.CBORTag(17, sign1.value)))


def test_a_non_canonical_encoding_of_the_same_claims_is_refused(issued):
    """Same meaning, other bytes: a longer head for one key, a bignum for a
    small value, the map in another order. Each is refused before any
    signature is checked: exactly one encoding is valid."""
    _, _, token, claims = issued
    payload = cbor2.loads(token).value[2]
    assert payload[:3] == b"\xb8\x1c\x0a"  # a map of 28, eat_nonce's key in shortest form
    longer_key = payload[:2] + b"\x18\x0a" + payload[3:]
    counter_key = eat.PRIVATE_KEYS["report_counter"]
    as_bignum = {k: (cbor2.CBORTag(2, v.to_bytes(8, "big")) if k == counter_key else v)
                 for k, v in claims.items()}
    reordered = dict(sorted(claims.items(), key=lambda kv: -kv[0]))
    sign1 = cbor2.loads(token)
    for new_payload in (longer_key, cbor2.dumps(as_bignum, canonical=True),
                        cbor2.dumps(reordered)):
        forged = cbor2.dumps(cbor2.CBORTag(18, [sign1.value[0], {}, new_payload,
                                                sign1.value[3]]))
        with pytest.raises(RecordError, match="one encoding"):
            eat.attestation_from_eat(forged)


def test_truncated_tokens_and_huge_length_prefixes_are_refused(issued):
    _, _, token, _ = issued
    for cut in range(len(token)):
        with pytest.raises(RecordError):
            eat.attestation_from_eat(token[:cut])
    with pytest.raises(RecordError, match="trailing"):
        eat.attestation_from_eat(token + b"\x00")
    for head in (b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff", b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff",
                 b"\xbb\x00\x00\x00\x01\x00\x00\x00\x00", b"\x5f", b"\xd2" * 64):
        with pytest.raises(RecordError):
            eat.attestation_from_eat(head + token)


def _extreme(value: int) -> wire.Attestation:
    """An attestation whose every integer field is ``value`` clipped to its width."""
    sizes = eat._FIELD_SIZES
    ints = {name: min(value, 2 ** (8 * sizes[name]) - 1) for name in eat.PRIVATE_CLAIMS
            if name not in eat._BYTES_FIELDS and name not in ("lane_ops", "gate_state",
                                                               "gate_causes")}
    return wire.Attestation(device_id=bytes(32), nonce=bytes(32),
                            firmware_measurement=bytes(32), license_id=bytes(16),
                            lane_ops=(min(value, 2**128 - 1),) * 6, log_head=bytes(32),
                            gate_state=wire.GateState.CLOSED if value else wire.GateState.OPEN,
                            gate_causes=wire.GateCause(0xFFFFFFFF if value else 0), **ints)


def test_every_token_fits_the_firmware_work_area():
    """The sizes docs/eat.md gives and eat.c relies on: the claims are always
    256 to 65535 bytes (a 3-byte byte-string head), and the largest token fits
    one response."""
    smallest = eat.token(_extreme(0), bytes(64))
    largest_claims = eat.encode(eat.claims(_extreme(2**128)))
    largest = eat.token(_extreme(2**128), bytes(64))
    assert (len(smallest), len(largest)) == (519, 782)
    assert 256 <= len(eat.encode(eat.claims(_extreme(0)))) and len(largest_claims) == 706
    header = len(wire.ResponseFormat.build({"command": 0, "request_id": 0, "status": 0,
                                            "payload": b""}))
    assert len(largest) <= wire.MAX_MESSAGE_SIZE - header


def test_any_bytes_are_a_typed_refusal_or_the_device_token(issued):
    """The reader on arbitrary bytes and on the device's token with bytes
    flipped, cut or inserted: only RecordError or VerificationError, never
    another exception, and nothing but the token itself is accepted."""
    _, _, token, _ = issued

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(
        st.binary(max_size=64),
        st.tuples(st.integers(0, len(token) - 1), st.integers(1, 255)).map(
            lambda p: token[:p[0]] + bytes([token[p[0]] ^ p[1]]) + token[p[0] + 1:]),
        st.tuples(st.integers(0, len(token)), st.binary(min_size=1, max_size=9)).map(
            lambda p: token[:p[0]] + p[1] + token[p[0]:])))
    def check(data):
        try:
            eat.attestation_from_eat(data)
        except (RecordError, VerificationError):
            return
        raise AssertionError(f"accepted {data.hex()}")

    check()
    assert eat.attestation_from_eat(token).nonce
