"""The serial transport's timeouts and retries, over a pty to an emulated chip."""

from __future__ import annotations

import os

import pytest
from cobs import cobs

from openheg.device import Device
from openheg.errors import DeviceStatus, RecordError, TransportError
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


class ScriptedLink:
    """A transport whose answer to each request is made by ``answer(request)``
    (the operator's side of the link: it may replay, cross or cut messages)."""

    url = "scripted://"

    def __init__(self, answer):
        self.answer, self.requests = answer, []

    def exchange(self, request: bytes) -> bytes:
        self.requests.append(request)
        return self.answer(request)


OK = int(DeviceStatus.OK)


def _response(command: int, request_id: int, status: int, payload: bytes) -> bytes:
    from openheg import wire
    return wire.build_message(wire.ResponseFormat, {
        "command": command, "request_id": request_id, "status": status, "payload": payload},
        "response")


def test_device_calls_frame_messages_as_the_wire_formats_say():
    """Device.call packs and unpacks the message headers by hand (the hot path
    of the simulator): the bytes must be wire.RequestFormat's, and a response
    is read as wire.ResponseFormat reads it."""
    from openheg import wire
    from openheg.wire import Command

    def echo_payload(request):
        parsed = wire.parse_message(wire.RequestFormat, request, "request")
        return _response(parsed.command, parsed.request_id, OK, b"answer:" + parsed.payload)

    link = ScriptedLink(echo_payload)
    device = Device(link)
    assert device.call(Command.ATTEST, b"\x01" * 32) == b"answer:" + b"\x01" * 32
    assert device.call(Command.INFO) == b"answer:"
    assert link.requests == [
        wire.build_message(wire.RequestFormat, {"command": int(Command.ATTEST), "request_id": 1,
                                                "payload": b"\x01" * 32}, "request"),
        wire.build_message(wire.RequestFormat, {"command": int(Command.INFO), "request_id": 2,
                                                "payload": b""}, "request")]
    with pytest.raises(RecordError, match="cannot encode"):
        device.call(Command.ATTEST, 32)


def test_a_replayed_crossed_cut_or_refused_answer_is_not_taken():
    from openheg import wire
    from openheg.errors import DeviceError, DeviceStatus
    from openheg.wire import Command

    def parsed(request):
        return wire.parse_message(wire.RequestFormat, request, "request")

    replayed = ScriptedLink(lambda r: _response(parsed(r).command, 1, OK, b"old"))
    device = Device(replayed)
    assert device.call(Command.INFO) == b"old"  # request 1: a fair answer
    with pytest.raises(TransportError, match="does not answer this INFO request"):
        device.call(Command.INFO)  # request 2 answered with request 1's answer
    crossed = Device(ScriptedLink(lambda r: _response(int(Command.INFO), parsed(r).request_id,
                                                      OK, b"")))
    with pytest.raises(TransportError, match="does not answer this ATTEST request"):
        crossed.call(Command.ATTEST, b"\x00" * 32)
    for cut in (b"", b"\x01\x01\x00\x00"):
        with pytest.raises(TransportError, match=rf"malformed response to INFO \({len(cut)} bytes"):
            Device(ScriptedLink(lambda r, cut=cut: cut)).call(Command.INFO)
    refused = Device(ScriptedLink(lambda r: _response(
        parsed(r).command, parsed(r).request_id, int(DeviceStatus.BAD_REQUEST), b"")))
    with pytest.raises(DeviceError) as error:
        refused.call(Command.ATTEST, b"\x00" * 32)
    assert error.value.status == DeviceStatus.BAD_REQUEST


def test_attest_requests_and_nonce_answers_keep_their_formats():
    """Device.attest and Device.time_nonce skip construct for a well-formed
    nonce: the bytes are AttestRequestFormat's, and a nonce answer cut short or
    padded by the link is refused as the format refuses it."""
    from openheg import wire
    from openheg.wire import Command

    def parsed(request):
        return wire.parse_message(wire.RequestFormat, request, "request")

    link = ScriptedLink(lambda r: _response(parsed(r).command, parsed(r).request_id, OK, b""))
    Device(link).attest(b"\x03" * 32)
    assert parsed(link.requests[0]).payload == wire.build_message(
        wire.AttestRequestFormat, {"nonce": b"\x03" * 32}, "attest request")
    with pytest.raises(RecordError, match="attest request: cannot encode"):
        Device(link).attest(b"\x03" * 31)
    assert len(link.requests) == 1  # nothing was sent
    for answer in (b"\x04" * 31, b"\x04" * 33, b""):
        device = Device(ScriptedLink(lambda r, answer=answer: _response(
            parsed(r).command, parsed(r).request_id, OK, answer)))
        with pytest.raises(TransportError, match="malformed TIME_NONCE response"):
            device.time_nonce()
    honest = Device(ScriptedLink(lambda r: _response(int(Command.TIME_NONCE),
                                                     parsed(r).request_id, OK, b"\x04" * 32)))
    assert honest.time_nonce() == b"\x04" * 32
