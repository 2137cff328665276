"""The firmware's endorsement parser against the committed golden vectors.

The golden endorsement is well formed but endorses the vector suite's device
key, not this device's: the firmware must parse it and then refuse the
binding; the golden invalid endorsements must get their exact status.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import golden
from openheg import wire
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus, RecordError
from openheg_sim.emulator import ChipLink, EmulatedChip

from fwkit import Authority


@pytest.fixture
def keyed_device(tmp_path):
    chip = EmulatedChip.open("golden", tmp_path)
    device = Device(ChipLink(chip))
    vendor_key = bytes.fromhex(golden.RECORDS["keys"]["vendor"])
    device.provision(vendor_key, Authority().policy())
    return device


def refusal(device: Device, data: bytes) -> DeviceStatus:
    with pytest.raises(DeviceError) as caught:
        device.call(wire.Command.ENDORSE, data)
    return DeviceStatus(caught.value.status)


def test_golden_endorsement_parses_and_is_bound_to_its_own_device(keyed_device):
    vector = next(v for v in golden.VALID if v["record"] == "endorsement")
    assert refusal(keyed_device, bytes.fromhex(vector["hex"])) == DeviceStatus.WRONG_DEVICE
    assert keyed_device.info().state == wire.DeviceState.KEYED


@pytest.mark.parametrize("vector", [v for v in golden.INVALID if v["record"] == "endorsement"],
                         ids=lambda v: v["name"])
def test_golden_invalid_endorsements_get_their_status(keyed_device, vector):
    assert refusal(keyed_device, bytes.fromhex(vector["hex"])) == golden.expected_error(vector)


_GOLDEN = bytes.fromhex(next(v for v in golden.VALID if v["record"] == "endorsement")["hex"])


@pytest.fixture(scope="module")
def shared_keyed_device(tmp_path_factory):
    chip = EmulatedChip.open("fuzz", tmp_path_factory.mktemp("endorse"))
    device = Device(ChipLink(chip))
    device.provision(bytes.fromhex(golden.RECORDS["keys"]["vendor"]), Authority().policy())
    return device


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=200),
    st.builds(lambda cut, index, value, tail: (
        bytearray(_GOLDEN[:cut]) if index >= cut else
        _GOLDEN[:index] + bytes([value]) + _GOLDEN[index + 1:cut]) + tail,
        st.integers(0, len(_GOLDEN)), st.integers(0, len(_GOLDEN)), st.integers(0, 255),
        st.binary(max_size=3))))
def test_firmware_and_spec_refuse_any_endorsement_bytes_for_the_same_reason(
        shared_keyed_device, data):
    data = bytes(data)
    try:
        wire.Endorsement.from_bytes(data)
    except RecordError as error:
        assert refusal(shared_keyed_device, data) == error.kind
    else:
        # Well formed: the firmware gets past parsing and refuses the binding.
        assert refusal(shared_keyed_device, data) in (DeviceStatus.WRONG_DEVICE,
                                                      DeviceStatus.SIGNER_UNTRUSTED,
                                                      DeviceStatus.SIGNATURE_INVALID)
