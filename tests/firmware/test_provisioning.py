"""Boot, INFO, PROVISION, ENDORSE, READ_ENDORSEMENT and the protocol envelope."""

from __future__ import annotations

import pytest

from openheg import regmap, wire
from openheg.errors import DeviceError, DeviceStatus
from openheg_sim.firmware import Firmware
from openheg_sim.firmware_build import firmware_measurement

from fwkit import Device, RecordingHal, provision, provision_request

S = DeviceStatus
C = wire.Command


def test_fresh_device_reports_unprovisioned_and_its_measurement(device):
    info = device.info()
    assert info.state == wire.DeviceState.UNPROVISIONED
    assert info.device_id == bytes(32)
    assert info.issuer_key == bytes(32) and info.vendor_key == bytes(32)
    assert info.license_sequence == 0
    assert info.reset_count == 1
    assert info.firmware_measurement == firmware_measurement()


def test_boot_programs_default_weights_and_holds_gate_closed(device):
    writes = dict(device.hal.writes)
    for lane, weight in regmap.DEFAULT_WEIGHTS_MILLI.items():
        assert writes[getattr(regmap, f"REG_WEIGHT_{lane}")] == weight
    assert writes[regmap.REG_GATE] == regmap.GATE_ENABLE_CLOSED
    assert not device.hal.meter.enable


def test_boot_refuses_a_missing_meter():
    class NoMeter(RecordingHal):
        def reg_read(self, offset):
            return 0 if offset == regmap.REG_ID else super().reg_read(offset)

    from openheg_sim.flash import Flash
    firmware = Firmware(NoMeter(Flash()))
    with pytest.raises(DeviceError) as caught:
        firmware.boot()
    assert caught.value.status == S.HARDWARE


def test_provision_endorse_lock(device, authority):
    response = device.request(C.PROVISION, provision_request(authority))
    assert (response.command, response.request_id, response.status) == (C.PROVISION, 0x1234, S.OK)
    device_id = wire.ProvisionResponseFormat.parse(response.payload).device_id
    info = device.info()
    assert info.state == wire.DeviceState.KEYED
    assert info.device_id == device_id != bytes(32)
    assert info.issuer_key == authority.issuer_key and info.vendor_key == authority.vendor_key
    assert device.status_of(C.READ_ENDORSEMENT) == S.WRONG_STATE
    assert device.status_of(C.ATTEST, b"n" * 32) == S.WRONG_STATE

    endorsement = authority.endorsement(device_id)
    device.ok(C.ENDORSE, endorsement)
    assert device.info().state == wire.DeviceState.PROVISIONED
    assert device.ok(C.READ_ENDORSEMENT) == endorsement
    # Locked for good.
    keys = provision_request(authority)
    assert device.status_of(C.PROVISION, keys) == S.WRONG_STATE
    assert device.status_of(C.ENDORSE, endorsement) == S.WRONG_STATE


def test_device_key_is_made_from_device_randomness():
    from openheg_sim.flash import Flash
    from fwkit import Authority
    authority = Authority()
    a, b = Device(Flash(), seed=b"a"), Device(Flash(), seed=b"b")
    assert provision(a, authority) != provision(b, authority)


@pytest.mark.parametrize("case", ["wrong device", "wrong vendor", "bad signature", "truncated",
                                  "padded", "bad header"])
def test_endorse_refusals_change_nothing(device, authority, case):
    device.ok(C.PROVISION, provision_request(authority))
    device_id = device.info().device_id
    good = authority.endorsement(device_id)
    if case == "wrong device":
        payload, expected = authority.endorsement(bytes(31) + b"\x01"), S.WRONG_DEVICE
    elif case == "wrong vendor":
        payload, expected = authority.endorsement(device_id, vendor=authority.board), \
            S.SIGNER_UNTRUSTED
    elif case == "bad signature":
        payload, expected = good[:-1] + bytes([good[-1] ^ 1]), S.SIGNATURE_INVALID
    elif case == "truncated":
        payload, expected = good[:-1], S.RECORD_LENGTH
    elif case == "padded":
        payload, expected = good + b"\0", S.RECORD_LENGTH
    else:
        payload, expected = good[:4] + bytes([wire.RecordType.LICENSE]) + good[5:], \
            S.RECORD_HEADER
    before = device.snapshot()
    assert device.status_of(C.ENDORSE, payload) == expected
    assert device.snapshot() == before


@pytest.mark.parametrize("payload", [b"", b"\x01" * 31, bytes(32) + b"OHEG"])
def test_provision_rejects_bad_payloads(device, payload):
    before = device.snapshot()
    assert device.status_of(C.PROVISION, payload) == S.BAD_REQUEST
    assert device.snapshot() == before


def test_protocol_envelope(provisioned):
    assert provisioned.status_of(0x7F) == S.UNKNOWN_COMMAND
    assert provisioned.status_of(C.INFO, b"x") == S.BAD_REQUEST
    assert provisioned.status_of(C.ATTEST, b"n" * 31) == S.BAD_REQUEST
    assert provisioned.status_of(C.READ_ENDORSEMENT, b"x") == S.BAD_REQUEST
    # Too short to carry a command: answered, with nothing to echo.
    raw = provisioned.firmware.request(b"\x01\x02")
    assert wire.ResponseFormat.parse(raw).status == S.BAD_REQUEST
    assert len(raw) == 5
    # Longer than any message may be.
    raw = provisioned.firmware.request(bytes([C.INFO, 9, 0]) + bytes(wire.MAX_MESSAGE_SIZE))
    parsed = wire.ResponseFormat.parse(raw)
    assert (parsed.command, parsed.request_id, parsed.status) == (C.INFO, 9, S.BAD_REQUEST)
    response = provisioned.request(C.INFO, request_id=0xBEEF)
    assert (response.command, response.request_id) == (C.INFO, 0xBEEF)


def test_response_buffer_limits_are_enforced_by_dispatch(provisioned):
    from openheg_sim._firmware import ffi, lib

    firmware = provisioned.firmware
    request = bytes([C.ATTEST, 1, 0]) + b"n" * 32
    resp_len = ffi.new("size_t *")
    before = provisioned.snapshot()
    small = ffi.new("uint8_t[]", 5 + wire.ATTESTATION_SIZE - 1)
    assert lib.heg_dispatch(firmware._ctx, request, len(request), small, len(small),
                            resp_len) == S.OK
    parsed = wire.ResponseFormat.parse(bytes(ffi.buffer(small, resp_len[0])))
    assert parsed.status == S.RESPONSE_TOO_LARGE and parsed.payload == b""
    assert provisioned.snapshot() == before  # refused before the report counter moved
    # A buffer too small for even the response header is the transport's failure.
    tiny = ffi.new("uint8_t[]", 4)
    assert lib.heg_dispatch(firmware._ctx, request, len(request), tiny, 4, resp_len) \
        == S.BAD_REQUEST
