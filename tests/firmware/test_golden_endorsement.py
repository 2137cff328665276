"""The firmware's endorsement parser against the committed golden vectors.

The golden endorsement is well formed but endorses the vector suite's device
key, not this device's: the firmware must parse it and then refuse the
binding; the golden invalid endorsements must get their exact status.
"""

from __future__ import annotations

import pytest

import golden
from openheg import wire
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus
from openheg_sim.emulator import EmulatedChip

from chip_link import ChipLink


@pytest.fixture
def keyed_device(tmp_path):
    chip = EmulatedChip.open("golden", tmp_path)
    device = Device(ChipLink(chip))
    vendor_key = bytes.fromhex(golden.RECORDS["keys"]["vendor"])
    device.provision(bytes.fromhex(golden.RECORDS["keys"]["issuer"]), vendor_key)
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
