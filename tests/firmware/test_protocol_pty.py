"""The firmware as a standalone device on a pseudo-terminal (firmware/port/posix).

The host library reaches it exactly as it reaches a board: pyserial on the pty
path, framed by openheg.framing on the host and by the C framer
(firmware/port/common/heg_frame.c) on the device. Every answer is compared with
the same firmware run in process (cffi emulator), so these tests check the
port, the framing and the transport, whatever the device logic decides.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import serial
from openheg import wire
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus
from openheg.framing import encode_frame
from openheg.transport import SerialTransport
from openheg_sim.emulator import ChipLink
from openheg_sim.pty_device import SERVER, PtyDevice

ROOT = Path(__file__).resolve().parents[2]
FIXED_TIME = 1_800_000_000


def make(*targets: str) -> None:
    subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                    f"FW_PYTHON={sys.executable}", *targets],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def server_binary() -> Path:
    make("firmware-posix")
    return SERVER


@pytest.fixture
def pty_device(server_binary: Path, tmp_path: Path):
    device = PtyDevice(tmp_path / "chip.flash", time=FIXED_TIME)
    yield device
    assert device.stop() == 0


def emulated_chip(tmp_path: Path):
    from openheg_sim.emulator import EmulatedChip
    return EmulatedChip.open("twin", tmp_path / "emu", clock=lambda: FIXED_TIME)


def request(command: int, request_id: int, payload: bytes = b"") -> bytes:
    return wire.RequestFormat.build({"command": command, "request_id": request_id,
                                     "payload": payload})


def test_info_over_pty_matches_in_process_firmware(pty_device, tmp_path):
    from openheg_sim.firmware_build import firmware_measurement

    with SerialTransport(pty_device.path, timeout=5) as link:
        info = Device(link).info()
    assert info.state == wire.DeviceState.UNPROVISIONED
    assert info.firmware_measurement == firmware_measurement()
    twin = Device(ChipLink(emulated_chip(tmp_path))).info()
    assert (twin.state, twin.reset_count) == (info.state, info.reset_count)


def test_attest_round_trip(pty_device, tmp_path):
    """ATTEST through the real serial stack: either a signed attestation over
    our nonce, or the same refusal the in-process firmware gives."""
    nonce = os.urandom(wire.NONCE_SIZE)
    with SerialTransport(pty_device.path, timeout=5) as link:
        device = Device(link)
        try:
            record = device.attest(nonce)
        except DeviceError as error:
            status = error.status
        else:
            status = DeviceStatus.OK
            attestation = wire.Attestation.from_bytes(record)
            assert attestation.nonce == nonce
    chip = emulated_chip(tmp_path)
    twin = wire.ResponseFormat.parse(chip.request(request(wire.Command.ATTEST, 9, nonce)))
    assert twin.status == status


def test_same_answers_as_in_process_firmware(pty_device, tmp_path):
    """A script of requests, good and bad: command, id, status and payload size
    agree with the in-process firmware byte for byte in the header."""
    script = [request(wire.Command.INFO, 1), request(wire.Command.INFO, 2, b"\x00"),
              request(wire.Command.ATTEST, 3, bytes(wire.NONCE_SIZE)),
              request(wire.Command.ATTEST, 4, bytes(5)),
              request(wire.Command.READ_ENDORSEMENT, 5), request(0xEE, 6),
              request(wire.Command.INSTALL_LICENSE, 7, b"OHEG"),
              request(wire.Command.INFO, 0xFFFF)]
    chip = emulated_chip(tmp_path)
    with SerialTransport(pty_device.path, timeout=5) as link:
        for message in script:
            ours = wire.ResponseFormat.parse(link.exchange(message))
            theirs = wire.ResponseFormat.parse(chip.request(message))
            assert (ours.command, ours.request_id, ours.status, len(ours.payload)) == \
                (theirs.command, theirs.request_id, theirs.status, len(theirs.payload)), message


def test_line_noise_is_dropped_and_stream_resynchronises(pty_device):
    port = serial.serial_for_url(pty_device.path, timeout=0.3)
    try:
        good = encode_frame(request(wire.Command.INFO, 0x4242))
        corrupt = bytearray(good)
        corrupt[2] ^= 0x01
        # Noise, a frame with a bad CRC, an oversized run: no answer to any.
        port.write(b"\x13\x37" + b"\x00" + bytes(corrupt) + b"\x01" * 3000 + b"\x00")
        port.flush()
        assert port.read(64) == b""
        # Then a good frame in the same stream is answered.
        port.timeout = 5
        port.write(good)
        frame = port.read_until(b"\x00")
        from openheg.framing import decode_frame
        response = wire.ResponseFormat.parse(decode_frame(frame[:-1]))
        assert response.request_id == 0x4242 and response.status == DeviceStatus.OK
    finally:
        port.close()


def test_state_survives_a_restart(server_binary, tmp_path):
    flash = tmp_path / "chip.flash"
    first = PtyDevice(flash)
    with SerialTransport(first.path) as link:
        before = Device(link).info()
    assert first.stop() == 0
    assert flash.stat().st_size == 16 * 1024
    second = PtyDevice(flash)
    try:
        with SerialTransport(second.path) as link:
            after = Device(link).info()
    finally:
        assert second.stop() == 0
    assert after.device_id == before.device_id
    assert after.reset_count == before.reset_count + 1


def test_the_harness_sets_the_posix_port_s_two_clocks_apart(server_binary, tmp_path):
    """heg_serve_pty with the board's clock stopped (--uptime-permille 0) and
    the reference running, twice as fast to keep the test short: a whole host
    session works (the bounds follow the reference), and once two clock
    monitor windows have passed on the reference the provisioned device has
    latched tamper."""
    import time

    from fwkit import Authority, host_session

    started = time.monotonic()
    device = PtyDevice(tmp_path / "chip.flash", time=FIXED_TIME, uptime_permille=0,
                       reference_permille=2000)
    try:
        host_session(device.path, Authority())
        # Two windows on the reference, and one more for the polls to see them.
        time.sleep(max(0.0, started + 1.5 * wire.CLOCK_MONITOR_WINDOW_MS / 1000 + 1
                       - time.monotonic()))
        with SerialTransport(device.path, timeout=5) as link:
            record = Device(link).attest(os.urandom(wire.NONCE_SIZE))
        causes = wire.Attestation.from_bytes(record).gate_causes
        assert wire.GateCause.TAMPER in causes
    finally:
        assert device.stop() == 0
