"""Attestation verification fails closed on every broken link.

The attestations here are signed in Python with test keys, so each check of
the verifier is exercised on its own; the end-to-end tests verify attestations
made by the real firmware.
"""

from __future__ import annotations

import json
import re
from dataclasses import FrozenInstanceError, make_dataclass, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg import verify as verify_module
from openheg import wire
from openheg.crypto import SigningKey
from openheg.board import VoteError, check_license_signatures
from openheg.errors import RecordError, VerificationError
from openheg.licensing import DeviceSlot, plan_workload, sign_licenses
from openheg.policy import genesis_draft
from openheg.licensing import issue_license
from openheg.roles import Role, endorse_device
from openheg.verify import (EndorsementList, VerifiedAttestation, _maker, decode_attestation,
                            verify_attestation)
from openheg.wire import Attestation, GateCause, GateState, RecordType

NONCE = bytes(range(32))


@pytest.fixture
def world(tmp_path):
    issuer = Role(tmp_path, SigningKey.generate())
    vendor = Role(tmp_path, SigningKey.generate())
    device = SigningKey.generate()
    license_ = issue_license(issuer.key, device_id=device.public_key, workload="w", sequence=1,
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
    newer = issue_license(issuer.key, device_id=device.public_key, workload="w", sequence=2,
                          allocation_msflop=10_000)
    with pytest.raises(VerificationError, match="another license"):
        verify_attestation(attest(device, license_), nonce=NONCE, endorsement=endorsement,
                           vendor_keys={vendor.public_key}, license=newer)


def test_a_license_given_as_evidence_is_authenticated(world):
    issuer, vendor, device, license_, endorsement = world
    policy = genesis_draft(board_keys=[SigningKey.generate().public_key], board_threshold=1,
                           issuer_key=issuer.public_key, time_authority_key=bytes([9]) * 32)
    verify_attestation(attest(device, license_), nonce=NONCE, endorsement=endorsement,
                       vendor_keys={vendor.public_key}, license=license_,
                       authority_policy=policy)
    # Same id and sequence, another workload: the binding alone cannot tell.
    operator = SigningKey.generate()
    laundered = replace(license_, workload_id=bytes(16), signatures=())
    laundered = replace(laundered, signatures=(wire.SignatureEntry(
        operator.public_key, operator.sign_record(RecordType.LICENSE, laundered.body())),))
    with pytest.raises(VerificationError, match="not authentic .* not signed by the policy's "
                                                "issuer"):
        verify_attestation(attest(device, laundered), nonce=NONCE, endorsement=endorsement,
                           vendor_keys={vendor.public_key}, license=laundered,
                           authority_policy=policy)


def test_numbers_that_do_not_add_up(world):
    _, vendor, device, license_, endorsement = world
    with pytest.raises(VerificationError, match="do not add up"):
        verify_attestation(attest(device, license_, remaining_msflop=10_000), nonce=NONCE,
                           endorsement=endorsement, vendor_keys={vendor.public_key},
                           license=license_)


def test_each_rule_of_the_license_binding(world):
    """Each field the binding compares, alone, and the reserve at and around
    the license's: what verify checks field by field must refuse what the
    whole comparison refused."""
    _, vendor, device, license_, endorsement = world
    holding = replace(license_, oversight_ppm=250_000)  # 2,500 of the 10,000 held back
    assert wire.oversight_reserve_msflop(10_000, 250_000) == 2_500

    def verify(license, **changes):
        return verify_attestation(attest(device, license_, **changes), nonce=NONCE,
                                  endorsement=endorsement, vendor_keys={vendor.public_key},
                                  license=license)

    verify(holding, oversight_reserved_msflop=2_500, remaining_msflop=3_500)
    verify(holding, remaining_msflop=6_000)  # released: nothing held back
    verify(holding, consumed=9_000, oversight_reserved_msflop=2_500, remaining_msflop=0)
    for reserved in (1, 2_499, 2_501, 10_000):
        with pytest.raises(VerificationError, match="oversight reserve"):
            verify(holding, oversight_reserved_msflop=reserved, remaining_msflop=3_500)
    with pytest.raises(VerificationError, match="oversight reserve"):
        verify(license_, oversight_reserved_msflop=1, remaining_msflop=5_999)
    for remaining in (1, 3_499, 3_501, 6_000):
        with pytest.raises(VerificationError, match="do not add up"):
            verify(holding, oversight_reserved_msflop=2_500, remaining_msflop=remaining)
    with pytest.raises(VerificationError, match="do not add up"):
        verify(holding, consumed=9_000, oversight_reserved_msflop=2_500, remaining_msflop=1)
    with pytest.raises(VerificationError, match="another license"):
        verify(replace(license_, license_id=bytes(16)))
    with pytest.raises(VerificationError, match="another license"):
        verify(replace(license_, sequence=license_.sequence + 1))
    with pytest.raises(VerificationError, match="another device"):
        verify(replace(license_, device_id=SigningKey.generate().public_key))


def test_the_verified_record_is_the_one_its_constructor_makes(world):
    _, vendor, device, license_, endorsement = world
    data = attest(device, license_)
    verified = verify_attestation(data, nonce=NONCE, endorsement=endorsement,
                                  vendor_keys={vendor.public_key}, license=license_)
    assert verified == VerifiedAttestation(Attestation.from_bytes(data), endorsement, license_)
    assert type(verified) is VerifiedAttestation
    with pytest.raises(FrozenInstanceError):
        verified.license = None  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        verified.attestation.consumed_msflop = 0  # type: ignore[misc]


@pytest.mark.parametrize("value", [(1 << 64) - 1, 1 << 64, (1 << 64) + 1, (1 << 127) + 12345,
                                   (1 << 128) - 1])
def test_fast_decoder_reads_every_u128_over_its_whole_range(value):
    """The fast reader takes a u128 as two u64 halves and skips the high one
    when it is zero: each u128 field and lane, set alone past 64 bits, must
    read as the spec's parser reads it."""
    device = SigningKey(b"\x23" * 32)
    license_ = issue_license(SigningKey(b"\x24" * 32), device_id=device.public_key,
                             workload="w", sequence=1, allocation_msflop=10_000, now=0)
    u128s = [name for name, sub in zip(
        [s.name for s in wire.AttestationBodyFormat.subcons],
        wire.AttestationBodyFormat.subcons) if sub.subcon is wire.u128]
    assert len(u128s) == 5
    changes = [{name: value} for name in u128s]
    changes += [{"lane_ops": tuple(value if i == lane else i for i in range(6))}
                for lane in range(6)]
    for change in changes:
        data = attest(device, license_, **change)
        decoded = decode_attestation(data)
        assert decoded == Attestation.from_bytes(data), change
        assert vars(decoded) == vars(Attestation.from_bytes(data)), change


def test_a_record_made_without_its_init_must_be_a_plain_frozen_dataclass():
    """The fast reader and VerifiedAttestation skip __init__: a record class
    that gains a __post_init__, slots or a field must stop them at import."""
    plain = make_dataclass("Plain", ["a", "b"], frozen=True)
    checked = make_dataclass("Checked", ["a", "b"], frozen=True,
                             namespace={"__post_init__": lambda self: None})
    slotted = make_dataclass("Slotted", ["a", "b"], frozen=True, slots=True)
    assert _maker(plain, ["a", "b"])({"a": 1, "b": 2}) == plain(1, 2)
    for cls, names in ((plain, ["a"]), (plain, ["b", "a"]), (checked, ["a", "b"]),
                       (slotted, ["a", "b"])):
        with pytest.raises(TypeError, match="plain frozen dataclass"):
            _maker(cls, names)


@settings(max_examples=150, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_every_bit_flip_of_an_attestation_is_rejected(tmp_path_factory, position, bit):
    device, vendor = SigningKey.generate(), Role(tmp_path_factory.mktemp("v"), SigningKey.generate())
    issuer = Role(tmp_path_factory.mktemp("i"), SigningKey.generate())
    license_ = issue_license(issuer.key, device_id=device.public_key, workload="w", sequence=1,
                             allocation_msflop=10_000)
    data = bytearray(attest(device, license_))
    data[position % len(data)] ^= 1 << bit
    with pytest.raises(VerificationError):
        verify_attestation(bytes(data), nonce=NONCE,
                           endorsement=endorse_device(vendor, device.public_key),
                           vendor_keys={vendor.public_key}, license=license_)


def test_policy_version_is_checked(world):
    _, vendor, device, license_, endorsement = world
    with pytest.raises(VerificationError, match="policy version 0, the verifier expects version 2"):
        verify_attestation(attest(device, license_), nonce=NONCE, endorsement=endorsement,
                           vendor_keys={vendor.public_key}, policy_version=2)


def test_endorsement_list_loads_only_what_verifies(world, tmp_path):
    _, vendor, device, license_, endorsement = world
    other_vendor = Role(tmp_path, SigningKey.generate())
    listing = EndorsementList()
    listing.add(endorsement)
    listing.add(endorse_device(other_vendor, SigningKey.generate().public_key))
    listing.save(tmp_path / "list.json")
    loaded = EndorsementList.load([tmp_path / "list.json"], {vendor.public_key})
    assert list(loaded.endorsements) == [device.public_key]
    verify_attestation(attest(device, license_), nonce=NONCE,
                       endorsement=loaded.for_device(device.public_key),
                       vendor_keys={vendor.public_key}, endorsement_checked=True)
    with pytest.raises(VerificationError, match="no trusted vendor's endorsement list"):
        loaded.for_device(bytes(32))
    data = json.loads((tmp_path / "list.json").read_text())
    tampered = bytearray(bytes.fromhex(data["endorsements"][0]))
    tampered[-1] ^= 1
    data["endorsements"][0] = tampered.hex()
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(VerificationError):
        EndorsementList.load([tmp_path / "bad.json"], {vendor.public_key, other_vendor.public_key})


POLICY_KEYS = [SigningKey(bytes([i + 1]) * 32) for i in range(5)]


def _frontier_world():
    board, issuer, inspector = POLICY_KEYS[:2], POLICY_KEYS[2], POLICY_KEYS[3]
    policy = genesis_draft(board_keys=[b.public_key for b in board], board_threshold=1,
                           issuer_key=issuer.public_key, time_authority_key=bytes([9]) * 32,
                           inspector_keys=[inspector.public_key], now=0,
                           frontier_base_msflop=10, horizon_base_msflop=10**9)
    plan = plan_workload(policy, workload="w", planned_msflop=1000, lineage_msflop=0,
                         devices=[DeviceSlot(POLICY_KEYS[4].public_key, 1)], start=0,
                         inspector_key=inspector.public_key)
    (license_,) = sign_licenses(policy, plan.licenses, [issuer, inspector])
    return policy, license_


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_every_bit_flip_of_a_license_is_rejected(position, bit):
    policy, license_ = _frontier_world()
    data = bytearray(license_.to_bytes())
    data[position % len(data)] ^= 1 << bit
    with pytest.raises((RecordError, VoteError)):
        check_license_signatures(policy, wire.License.from_bytes(bytes(data)))


def test_every_single_bit_flip_exhaustively():
    """Every bit of one attestation and one license, not a sample."""
    policy, license_ = _frontier_world()
    device, vendor = SigningKey(b"\x11" * 32), Role(Path("."), SigningKey(b"\x12" * 32))
    endorsement = endorse_device(vendor, device.public_key)
    att = attest(device, license_)
    lic = license_.to_bytes()
    for position in range(len(att) * 8):
        data = bytearray(att)
        data[position // 8] ^= 1 << (position % 8)
        with pytest.raises(VerificationError):
            verify_attestation(bytes(data), nonce=NONCE, endorsement=endorsement,
                               vendor_keys={vendor.public_key})
    for position in range(len(lic) * 8):
        data = bytearray(lic)
        data[position // 8] ^= 1 << (position % 8)
        with pytest.raises((RecordError, VoteError)):
            check_license_signatures(policy, wire.License.from_bytes(bytes(data)))


@settings(max_examples=400, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=3),
       cut=st.integers(-3, 3))
def test_fast_attestation_decoder_gives_the_spec_verdicts(edits, cut):
    """verify's compiled decoder accepts exactly what Attestation.from_bytes accepts."""
    device = SigningKey(b"\x21" * 32)
    data = bytearray(attest(device, replace(issue_license(
        SigningKey(b"\x22" * 32), device_id=device.public_key, workload="w",
        sequence=1, allocation_msflop=10_000, now=0))))
    for position, value in edits:
        data[position % len(data)] = value
    data = bytes(data[:len(data) + cut] if cut < 0 else data + bytes(cut))
    try:
        expected = Attestation.from_bytes(data)
    except RecordError as error:
        with pytest.raises(RecordError, match=re.escape(str(error))):
            decode_attestation(data)
    else:
        decoded = decode_attestation(data)
        assert decoded == expected
        # Equal is not enough: GateCause(3) == 3. Each field must be of the type
        # the spec's parser gives (an enum where it gives one, a tuple of lanes).
        assert ({name: type(value) for name, value in vars(decoded).items()}
                == {name: type(value) for name, value in vars(expected).items()})


def test_valid_attestations_take_the_fast_path(monkeypatch, world):
    _, _, device, license_, _ = world
    data = attest(device, license_)
    expected = Attestation.from_bytes(data)

    def refuse(_data):
        raise AssertionError("the fast decoder fell back to the slow parser on valid input")

    monkeypatch.setattr(Attestation, "from_bytes", staticmethod(refuse))
    assert decode_attestation(data) == expected


def test_the_gate_cause_table_keeps_only_values_of_known_causes(world):
    """The reader remembers each gate-cause value it made a flag of; a value
    with a reserved bit (refused, but sent by anyone) must not be kept, or a
    stranger could grow the table without bound."""
    _, _, device, license_, _ = world
    offset = sum(sub.sizeof() for sub in wire.AttestationBodyFormat.subcons[
        :[s.name for s in wire.AttestationBodyFormat.subcons].index("gate_causes")])
    data = bytearray(attest(device, license_, gate_state=GateState.CLOSED,
                            gate_causes=GateCause.TAMPER))
    decode_attestation(bytes(data))
    assert int(GateCause.TAMPER) in verify_module._GATE_CAUSES
    for reserved in (1 << 17, 1 << 31, int(GateCause.TAMPER) | 1 << 20):
        data[offset:offset + 4] = reserved.to_bytes(4, "little")
        with pytest.raises(RecordError, match="reserved gate cause bits"):
            decode_attestation(bytes(data))
        assert reserved not in verify_module._GATE_CAUSES
