"""The serial transport's timeouts and retries, over a pty to an emulated chip."""

from __future__ import annotations

import os

import pytest
from cobs import cobs

from openheg.device import Device
from openheg.errors import TransportError
from openheg.framing import FramingError, encode_frame
from openheg.transport import SerialTransport, open_transport
from openheg.wire import DeviceState
from openheg_sim.emulator import EmulatedChip
from openheg_sim.serial_server import PtyServer


class FlakyServer(PtyServer):
    """Answers the first ``bad`` requests with a corrupted frame, or not at all."""

    def __init__(self, chip, bad: int, mode: str):
        super().__init__(chip)
        self.bad, self.mode, self.requests = bad, mode, 0

    def _answer(self, frame: bytes) -> None:
        if not frame:
            return
        self.requests += 1
        if self.requests <= self.bad:
            if self.mode == "corrupt":
                # Valid COBS, wrong CRC: line noise inside a frame.
                os.write(self._master, cobs.encode(b"answer" + b"crc!") + b"\x00")
            return  # "silent": the answer is lost
        super()._answer(frame)


@pytest.mark.parametrize("mode", ["corrupt", "silent"])
def test_a_lost_or_corrupted_answer_is_retried(tmp_path, mode):
    chip = EmulatedChip.open("flaky", tmp_path)
    with FlakyServer(chip, bad=2, mode=mode) as server, \
            SerialTransport(server.path, timeout=0.3, retries=2) as link:
        assert Device(link).info().state == DeviceState.UNPROVISIONED
        assert server.requests == 3


def test_retries_run_out_with_one_clear_error(tmp_path):
    chip = EmulatedChip.open("flaky", tmp_path)
    with FlakyServer(chip, bad=5, mode="corrupt") as server, \
            SerialTransport(server.path, timeout=0.3, retries=1) as link:
        with pytest.raises(FramingError, match=r"CRC mismatch .*\(after 2 attempts\)"):
            Device(link).info()
        assert server.requests == 2


def test_transport_arguments_are_checked():
    with pytest.raises(TransportError, match="timeout must be positive"):
        open_transport("loop://", timeout=0)
    with pytest.raises(TransportError, match="cannot open"):
        SerialTransport("/nonexistent/tty")


def test_loop_url_echo_is_not_mistaken_for_an_answer():
    # loop:// sends our own request straight back: not a response to it.
    with open_transport("loop://", timeout=0.2, retries=0) as link:
        with pytest.raises(TransportError, match="malformed response|does not answer"):
            Device(link).info()
    assert encode_frame(b"x").endswith(b"\x00")


def test_a_device_that_vanishes_from_its_pty_is_a_transport_error():
    """Regression: when the far end of a pty closes (a board unplugged, QEMU
    dying), pyserial's flush raises termios.error, which is no SerialException:
    the exchange leaked it (the CLI would print an internal error)."""
    import pty

    controller, device_end = pty.openpty()
    link = SerialTransport(os.ttyname(device_end), timeout=0.5, retries=0)
    os.close(controller)
    with pytest.raises(TransportError, match="link failed"):
        link.exchange(b"\x01\x00\x00")
    os.close(device_end)


def test_the_host_library_never_imports_the_simulator():
    """emu:// reaches the host through the `openheg.transports` entry point; no
    module of host/openheg names openheg_sim (issue 11: the host library must not
    depend on sim/)."""
    import ast
    from pathlib import Path

    import openheg

    offenders = []
    for path in Path(openheg.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "openheg_sim"]
    assert offenders == []


def test_emu_urls_come_from_the_registered_scheme_handler():
    from openheg import transport

    assert transport.scheme_handlers()["emu"].value == "openheg_sim.transport:open_emulator"


def test_an_emu_url_without_the_simulator_installed_says_what_to_install(monkeypatch, tmp_path):
    from openheg import transport
    from openheg.errors import TransportError

    monkeypatch.setattr(transport, "scheme_handlers", lambda: {})
    with pytest.raises(TransportError) as refused:
        transport.open_transport("emu://chip0", tmp_path)
    assert "no handler for emu:// URLs" in str(refused.value)
    assert "openheg_sim" in str(refused.value)
    assert not (tmp_path / "emu").exists()  # nothing was created
