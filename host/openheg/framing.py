"""Byte-stream framing for the device protocol over serial links.

A frame is COBS(message || CRC-32(message), little-endian) followed by one
0x00 delimiter. COBS guarantees the delimiter never occurs inside a frame, so
a receiver that joins mid-stream resynchronises at the next 0x00; the CRC
rejects line noise. Frames are bounded so a broken peer cannot make the
reader buffer without limit.
"""

from __future__ import annotations

import struct
import zlib

from cobs import cobs

from .errors import TransportError
from .wire import MAX_MESSAGE_SIZE

DELIMITER = b"\x00"
CRC_SIZE = 4
# COBS adds one byte per 254 and one more; the CRC and delimiter add five.
MAX_FRAME_SIZE = MAX_MESSAGE_SIZE + CRC_SIZE + (MAX_MESSAGE_SIZE + CRC_SIZE) // 254 + 2


class FramingError(TransportError):
    """A frame that is oversized, not valid COBS, or fails its CRC."""


def encode_frame(message: bytes) -> bytes:
    if len(message) > MAX_MESSAGE_SIZE:
        raise FramingError(f"message of {len(message)} bytes exceeds the "
                           f"{MAX_MESSAGE_SIZE}-byte protocol limit")
    checked = message + struct.pack("<I", zlib.crc32(message))
    return cobs.encode(checked) + DELIMITER


def decode_frame(frame: bytes) -> bytes:
    """Decode one frame given without its trailing delimiter."""
    if len(frame) > MAX_FRAME_SIZE:
        raise FramingError(f"frame of {len(frame)} bytes exceeds {MAX_FRAME_SIZE}")
    try:
        checked = cobs.decode(frame)
    except cobs.DecodeError:
        raise FramingError("frame is not valid COBS (corrupted link?)") from None
    if len(checked) < CRC_SIZE:
        raise FramingError("frame is shorter than its CRC")
    message, (crc,) = checked[:-CRC_SIZE], struct.unpack("<I", checked[-CRC_SIZE:])
    if zlib.crc32(message) != crc:
        raise FramingError("frame CRC mismatch (corrupted link?)")
    return message
