"""docs/protocol.md cannot drift: every hex example in it is parsed and checked
against openheg.wire and openheg.framing, and every command and status has its
place in the doc."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from openheg import wire
from openheg.errors import DeviceStatus
from openheg.framing import MAX_FRAME_SIZE, decode_frame, encode_frame

DOC = Path(__file__).resolve().parents[1] / "docs/protocol.md"
TEXT = DOC.read_text()


def block_after(marker: str) -> dict[str, str]:
    match = re.search(re.escape(marker) + r"\s*```text\n(.*?)```", TEXT, re.S)
    assert match, f"{marker} missing from {DOC}"
    fields = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def test_frame_example_and_bounds():
    example = block_after("<!-- frame-example -->")
    message = bytes.fromhex(example["message"])
    assert encode_frame(message) == bytes.fromhex(example["frame"])
    assert decode_frame(bytes.fromhex(example["frame"])[:-1]) == message
    assert f"`MAX_FRAME_SIZE` = {MAX_FRAME_SIZE} bytes" in TEXT
    assert f"`MAX_MESSAGE_SIZE` = {wire.MAX_MESSAGE_SIZE} bytes" in TEXT
    assert "0xCBF43926" in TEXT and zlib.crc32(b"123456789") == 0xCBF43926


def test_response_example():
    response = wire.ResponseFormat.parse(bytes.fromhex(block_after(
        "<!-- response-example -->")["response"]))
    assert (response.command, response.request_id, response.status, response.payload) == \
        (0xEE, 1, DeviceStatus.UNKNOWN_COMMAND, b"")


def test_every_status_is_listed():
    for status in DeviceStatus:
        assert f"| `0x{int(status):04x}` | `{status.name}` |" in TEXT, status.name


def test_every_command_has_a_checked_example():
    for command in wire.Command:
        example = block_after(f"<!-- command-example: {command.name} -->")
        assert f"### `{command.name}` (0x{int(command):02x})" in TEXT
        truncated = example["request"].endswith("...")
        message = bytes.fromhex(example["request"].removesuffix("...").strip())
        request = wire.RequestFormat.parse(message)
        assert request.command == command and request.request_id == 0x0102
        if truncated:
            assert wire.MAGIC in request.payload, "truncated examples show a record header"
        else:
            assert encode_frame(message) == bytes.fromhex(example["frame"])
    documented = set(re.findall(r"<!-- command-example: (\w+) -->", TEXT))
    assert documented == {c.name for c in wire.Command}
