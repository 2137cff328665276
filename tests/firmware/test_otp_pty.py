"""The pty server's OTP area (firmware/port/posix): kept in NAME.otp beside
the flash image NAME.flash, it outlives the flash file, so a device whose
store is deleted comes back in RECOVERY_REQUIRED, and the host library's
Device.recover brings it back under its anchored vendor. The same steps the
in-process tests take (test_recovery.py), over a real serial link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from openheg import wire
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus
from openheg.transport import SerialTransport
from openheg_sim.pty_device import SERVER, PtyDevice

from fwkit import NOW, Authority

ROOT = Path(__file__).resolve().parents[2]
ST = wire.DeviceState


@pytest.fixture(scope="module")
def server_binary() -> Path:
    subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                    f"FW_PYTHON={sys.executable}", "firmware-posix"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return SERVER


def _session(flash: Path, step):
    with PtyDevice(flash, time=NOW) as device:
        with SerialTransport(device.path, timeout=5) as link:
            result = step(Device(link))
        assert device.stop() == 0
    return result


def test_the_otp_file_outlives_a_deleted_store(server_binary, tmp_path):
    authority = Authority()
    flash = tmp_path / "chip.flash"

    def provision(dev: Device) -> bytes:
        device_id = dev.provision(authority.vendor_key, authority.policy())
        dev.endorse(wire.Endorsement.from_bytes(authority.endorsement(device_id)))
        return device_id

    first_id = _session(flash, provision)
    otp = tmp_path / "chip.otp"
    assert otp.stat().st_size == 128 and first_id in otp.read_bytes()
    flash.unlink()  # the store is lost; the fuses are not

    def refuse_operator_and_recover(dev: Device) -> bytes:
        info = dev.info()
        assert info.state == ST.RECOVERY_REQUIRED and info.first_device_id == first_id
        with pytest.raises(DeviceError) as refused:
            dev.provision(b"\x01" * 32, authority.policy())
        assert refused.value.status == DeviceStatus.RECOVERY_REQUIRED
        genesis = authority.policy()
        new_id = dev.recover(authority.recovery(first_id, info.recovery_nonce, genesis), genesis)
        dev.endorse(wire.Endorsement.from_bytes(authority.endorsement(new_id)))
        after = dev.info()
        assert after.state == ST.PROVISIONED and after.first_device_id == first_id
        return new_id

    new_id = _session(flash, refuse_operator_and_recover)
    assert new_id != first_id
    assert otp.read_bytes().count(first_id) == 1  # programmed once, never again
