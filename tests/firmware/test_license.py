"""INSTALL_LICENSE and the strict parser: every refusal has its own status and
changes nothing (INFO, the flash image and the meter are compared before/after)."""

from __future__ import annotations


import pytest

from openheg import regmap, wire
from openheg.errors import DeviceError, DeviceStatus
from openheg_sim.firmware import parse_license

import golden
from fwkit import NOW, Authority, Device, provision

S = DeviceStatus
C = wire.Command
BODY = wire.LICENSE_BODY_SIZE
OFF = wire.field_offsets(wire.LicenseBodyFormat)


def install(device: Device, record: bytes) -> DeviceStatus:
    return device.status_of(C.INSTALL_LICENSE, record)


def test_install_then_attest(provisioned, authority):
    lic = authority.license(provisioned.device_id, sequence=5, allocation=8_000_000)
    assert install(provisioned, lic.to_bytes()) == S.OK
    info = provisioned.info()
    assert info.license_sequence == 5
    meter = provisioned.hal.meter
    assert meter.gate_enable == regmap.GATE_ENABLE_OPEN
    assert meter.limit == 1_000_000  # first chunk: ceil(allocation / 8), charged ahead
    meter.idle(1)
    assert meter.enable

    attestation = provisioned.attest(b"\x42" * 32)
    assert attestation.device_id == provisioned.device_id
    assert attestation.nonce == b"\x42" * 32
    assert attestation.firmware_measurement == info.firmware_measurement
    assert attestation.license_id == lic.license_id
    assert attestation.license_sequence == 5
    assert attestation.consumed_msflop == 0
    assert attestation.remaining_msflop == 8_000_000
    assert attestation.gate_state == wire.GateState.OPEN
    assert attestation.gate_causes == 0
    assert attestation.reset_count == 1
    assert attestation.report_counter == 1
    assert provisioned.attest().report_counter == 2


def test_attestation_without_license(provisioned):
    attestation = provisioned.attest()
    assert attestation.gate_state == wire.GateState.CLOSED
    assert attestation.gate_causes & wire.GateCause.NO_LICENSE
    assert attestation.license_id == bytes(16) and attestation.license_sequence == 0
    assert attestation.consumed_msflop == attestation.remaining_msflop == 0


def test_multi_signer_license_with_issuer_among_them(provisioned, authority):
    # A board member's extra signature counts for nothing, and hurts nothing.
    lic = authority.license(provisioned.device_id,
                            signers=(authority.board, authority.issuer, authority.inspector),
                            license_class=wire.LicenseClass.FRONTIER, oversight_ppm=10_000,
                            inspector_key=bytes(authority.inspector.verify_key))
    assert len(lic.signatures) == 3
    assert install(provisioned, lic.to_bytes()) == S.OK


def test_newer_license_replaces_older_and_restarts_consumption(provisioned, authority):
    assert install(provisioned, authority.license(provisioned.device_id, 1).to_bytes()) == S.OK
    provisioned.run(500)
    assert provisioned.attest().consumed_msflop == 500_000
    second = authority.license(provisioned.device_id, 2, allocation=4_000_000)
    assert install(provisioned, second.to_bytes()) == S.OK
    attestation = provisioned.attest()
    assert attestation.license_sequence == 2
    assert attestation.consumed_msflop == 0
    assert attestation.remaining_msflop == 4_000_000
    assert attestation.lane_ops[regmap.LANES.index("FP8")] == 500


def _patch(record: bytes, field: str, value: bytes) -> bytes:
    offset, size = OFF[field]
    assert len(value) == size
    return record[:offset] + value + record[offset + size:]


def _resign(authority: Authority, body: bytes, signers=None) -> bytes:
    signers = signers or (authority.issuer,)
    entries = sorted((bytes(k.verify_key), k.sign(wire.DOMAINS[wire.RecordType.LICENSE] + body)
                      .signature) for k in signers)
    return body + bytes([len(entries)]) + b"".join(s + sig for s, sig in entries)


def refusal(name, authority: Authority, device_id: bytes) -> tuple[bytes, DeviceStatus]:
    good = authority.license(device_id, sequence=10).to_bytes()
    body = good[:BODY]
    if name == "bad signature":
        return good[:-1] + bytes([good[-1] ^ 0x01]), S.SIGNATURE_INVALID
    if name == "signature by another key under issuer's name":
        forged = _resign(authority, body, (authority.board,))
        return forged[:BODY + 1] + authority.issuer_key + forged[BODY + 33:], S.SIGNATURE_INVALID
    if name == "signature over another domain":
        sig = authority.issuer.sign(wire.DOMAINS[wire.RecordType.ATTESTATION] + body).signature
        return body + b"\x01" + authority.issuer_key + sig, S.SIGNATURE_INVALID
    if name == "untrusted signer":
        return authority.license(device_id, 10, signers=(authority.board,)).to_bytes(), \
            S.SIGNER_UNTRUSTED
    if name == "wrong device":
        return authority.license(b"\x07" * 32, 10).to_bytes(), S.WRONG_DEVICE
    if name == "replayed":
        return authority.license(device_id, sequence=3).to_bytes(), S.REPLAYED
    if name == "same sequence":
        return authority.license(device_id, sequence=4).to_bytes(), S.REPLAYED
    if name == "sequence jump":
        return authority.license(device_id, 4 + wire.MAX_SEQUENCE_JUMP + 1).to_bytes(), \
            S.SEQUENCE_JUMP
    if name == "expired":
        return authority.license(device_id, 10, not_before=NOW - 10, not_after=NOW - 1
                                 ).to_bytes(), S.EXPIRED
    if name == "not yet valid":
        return authority.license(device_id, 10, not_before=NOW + 1, not_after=NOW + 10
                                 ).to_bytes(), S.NOT_YET_VALID
    if name == "truncated":
        return good[:-1], S.RECORD_LENGTH
    if name == "padded":
        return good + b"\x00", S.RECORD_LENGTH
    if name == "empty":
        return b"", S.RECORD_LENGTH
    if name == "wrong magic":
        return _resign(authority, _patch(body, "magic", b"OHEH")), S.RECORD_HEADER
    if name == "wrong type":
        return _resign(authority, _patch(body, "record_type", b"\x02")), S.RECORD_HEADER
    if name == "wrong version":
        return _resign(authority, _patch(body, "version", b"\x02")), S.RECORD_HEADER
    if name == "unsorted signers":
        two = _resign(authority, body, (authority.issuer, authority.board))
        entries = two[BODY + 1:]
        return two[:BODY + 1] + entries[96:] + entries[:96], S.RECORD_FIELD
    if name == "duplicate signer":
        one = good[BODY + 1:]
        return body + b"\x02" + one + one, S.RECORD_FIELD
    if name == "no signatures":
        return body + b"\x00", S.RECORD_FIELD
    if name == "count above eight":
        return body + b"\x09" + good[BODY + 1:], S.RECORD_LENGTH  # too few entries for 9
    if name in ("class 0", "class 4"):
        value = b"\x00" if name == "class 0" else b"\x04"
        return _resign(authority, _patch(body, "license_class", value)), S.RECORD_FIELD
    if name in ("kind 0", "kind 4"):
        value = b"\x00" if name == "kind 0" else b"\x04"
        return _resign(authority, _patch(body, "workload_kind", value)), S.RECORD_FIELD
    if name == "standard class with inspector":
        return _resign(authority, _patch(body, "inspector_key", b"\x01" * 32)), S.RECORD_FIELD
    if name == "frontier class without inspector":
        return _resign(authority, _patch(body, "license_class", b"\x02")), S.RECORD_FIELD
    if name == "oversight above 100%":
        return _resign(authority, _patch(body, "oversight_ppm",
                                         (1_000_001).to_bytes(4, "little"))), S.RECORD_FIELD
    if name == "window inverted":
        return _resign(authority, _patch(body, "not_before", (NOW + 7200).to_bytes(8, "little"))
                       ), S.RECORD_FIELD
    if name == "zero allocation":
        return _resign(authority, _patch(body, "allocation_msflop", bytes(16))), S.RECORD_FIELD
    if name == "allocation above the declared total":
        total = int.from_bytes(body[OFF["workload_total_msflop"][0]:][:16], "little")
        return _resign(authority, _patch(body, "allocation_msflop",
                                         (total + 1).to_bytes(16, "little"))), \
            S.ALLOCATION_EXCEEDS_TOTAL
    raise AssertionError(name)


REFUSALS = ["bad signature", "signature by another key under issuer's name",
            "signature over another domain", "untrusted signer", "wrong device", "replayed",
            "same sequence", "sequence jump", "expired", "not yet valid", "truncated", "padded",
            "empty", "wrong magic", "wrong type", "wrong version", "unsorted signers",
            "duplicate signer", "no signatures", "count above eight", "class 0", "class 4",
            "kind 0", "kind 4", "standard class with inspector", "frontier class without inspector",
            "oversight above 100%", "window inverted", "zero allocation",
            "allocation above the declared total"]


# Refusals that reach the signature checks: the failed-attempt lockout counts
# them first, durably (no policy turns it off), so the one thing they change is
# that count in the persistent record.
COUNTED = {"bad signature", "signature by another key under issuer's name",
           "signature over another domain", "untrusted signer"}


def _licensed_device(authority: Authority) -> Device:
    """A device with an active license (sequence 4) and some consumption, so
    that "nothing" covers the replay floor, the allowance and the open gate.
    Devices are deterministic (seeded RNG, fixed clock): two built here are
    byte for byte alike."""
    dev = Device()
    provision(dev, authority)
    assert install(dev, authority.license(dev.device_id, 4).to_bytes()) == S.OK
    dev.run(300)
    return dev


def _after_one_counted_refusal(authority: Authority, prepare) -> tuple:
    """The snapshot a twin of the device under test reaches by one refusal the
    lockout counts and that changes nothing else (a license by an untrusted
    signer): what any other counted refusal must leave too."""
    twin = prepare(authority)
    twin.attest()
    counted = authority.license(twin.device_id, 10, signers=(authority.board,))
    assert install(twin, counted.to_bytes()) == S.SIGNER_UNTRUSTED
    return twin.snapshot()


@pytest.mark.parametrize("name", REFUSALS)
def test_refused_license_changes_nothing(authority, name):
    dev = _licensed_device(authority)
    record, expected = refusal(name, authority, dev.device_id)
    attestation_before = dev.attest()
    before = dev.snapshot()
    assert install(dev, record) == expected
    if name in COUNTED:
        assert dev.snapshot() == _after_one_counted_refusal(authority, _licensed_device)
        assert dev.snapshot()[0] == before[0] and dev.snapshot()[2:] == before[2:]
    else:
        assert dev.snapshot() == before
    after = dev.attest()
    assert after.license_sequence == attestation_before.license_sequence == 4
    assert after.consumed_msflop == attestation_before.consumed_msflop == 300_000
    assert after.log_head == attestation_before.log_head


def _provisioned_device(authority: Authority) -> Device:
    dev = Device()
    provision(dev, authority)
    return dev


def test_refusal_on_unlicensed_device_leaves_meter_untouched(authority):
    dev = _provisioned_device(authority)
    record, _ = refusal("bad signature", authority, dev.device_id)
    dev.attest()
    before = dev.snapshot()
    assert install(dev, record) == S.SIGNATURE_INVALID
    assert dev.snapshot() == _after_one_counted_refusal(authority, _provisioned_device)
    assert dev.snapshot()[2:] == before[2:]
    assert dev.hal.meter.gate_enable == regmap.GATE_ENABLE_CLOSED


def test_big_but_allowed_jump_is_accepted(provisioned, authority):
    lic = authority.license(provisioned.device_id, wire.MAX_SEQUENCE_JUMP)
    assert install(provisioned, lic.to_bytes()) == S.OK


def test_install_needs_provisioned_state(device, authority):
    lic = authority.license(bytes(32)).to_bytes()
    assert install(device, lic) == S.WRONG_STATE


# ---------------------------------------------------------------- the parser

@pytest.mark.parametrize("vector", [v for v in golden.VALID if v["record"] == "license"],
                         ids=lambda v: v["name"])
def test_parser_accepts_golden_licenses_with_the_same_fields(vector):
    data = bytes.fromhex(vector["hex"])
    parsed = parse_license(data)
    expected = wire.License.from_bytes(data)
    for name in ("license_id", "device_id", "workload_id", "sequence", "allocation_msflop",
                 "workload_total_msflop", "lineage_msflop", "not_before", "not_after",
                 "oversight_ppm", "inspector_key"):
        assert parsed[name] == getattr(expected, name), name
    assert parsed["license_class"] == expected.license_class
    assert parsed["workload_kind"] == expected.workload_kind
    assert parsed["signatures"] == tuple((s.signer, s.signature) for s in expected.signatures)


@pytest.mark.parametrize("vector", [v for v in golden.INVALID if v["record"] == "license"],
                         ids=lambda v: v["name"])
def test_parser_rejects_golden_invalid_licenses_with_their_status(vector):
    with pytest.raises(DeviceError) as caught:
        parse_license(bytes.fromhex(vector["hex"]))
    assert caught.value.status == golden.expected_error(vector)


def test_parser_rejects_nine_signatures(authority):
    good = authority.license(bytes(32)).to_bytes()
    with pytest.raises(DeviceError) as caught:
        parse_license(good[:BODY] + b"\x09" + good[BODY + 1:] * 9)
    assert caught.value.status == S.RECORD_FIELD


def test_parser_agrees_with_wire_on_every_truncation(authority):
    good = authority.license(bytes(32)).to_bytes()
    for cut in range(len(good)):
        with pytest.raises(DeviceError) as caught:
            parse_license(good[:cut])
        assert caught.value.status in (S.RECORD_LENGTH, S.RECORD_HEADER, S.RECORD_FIELD)
