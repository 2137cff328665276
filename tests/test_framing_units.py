"""Framing of the serial protocol and exact sFLOP amounts."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg.framing import MAX_FRAME_SIZE, FramingError, decode_frame, encode_frame
from openheg.units import AmountError, format_sflop, parse_sflop
from openheg.wire import MAX_MESSAGE_SIZE, MAX_U128


@given(st.binary(max_size=MAX_MESSAGE_SIZE))
def test_frames_round_trip_and_never_contain_the_delimiter(message):
    frame = encode_frame(message)
    assert frame.endswith(b"\x00") and b"\x00" not in frame[:-1]
    assert len(frame) <= MAX_FRAME_SIZE + 1
    assert decode_frame(frame[:-1]) == message


@given(st.binary(min_size=1, max_size=64), st.data())
def test_any_corruption_of_a_frame_is_detected(message, data):
    body = bytearray(encode_frame(message)[:-1])
    index = data.draw(st.integers(0, len(body) - 1))
    body[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(FramingError):
        decode_frame(bytes(body))


def test_oversized_messages_and_frames_are_refused():
    with pytest.raises(FramingError, match="exceeds"):
        encode_frame(bytes(MAX_MESSAGE_SIZE + 1))
    with pytest.raises(FramingError, match="exceeds"):
        decode_frame(b"\x01" * (MAX_FRAME_SIZE + 1))


ROOT = Path(__file__).resolve().parent.parent
FRAME_SO = ROOT / "build" / "firmware" / "libheg_frame.so"
FRAME_OK = 0x0739
PUT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint8)


@pytest.fixture(scope="module")
def c_framer():
    """The C framer (firmware/port/common/heg_frame.c) alone, through ctypes."""
    subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                    f"FW_PYTHON={sys.executable}", str(FRAME_SO.relative_to(ROOT))],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    lib = ctypes.CDLL(str(FRAME_SO))
    size_p = ctypes.POINTER(ctypes.c_size_t)
    lib.heg_frame_encode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                     ctypes.c_size_t, size_p]
    lib.heg_frame_encode_stream.argtypes = [ctypes.c_char_p, ctypes.c_size_t, PUT_FN,
                                            ctypes.c_void_p]
    lib.heg_frame_decode_in_place.argtypes = [ctypes.c_char_p, ctypes.c_size_t, size_p]
    for name in ("heg_frame_encode", "heg_frame_encode_stream", "heg_frame_decode_in_place"):
        getattr(lib, name).restype = ctypes.c_int
    return lib


def c_encode(lib, message: bytes) -> bytes:
    out = ctypes.create_string_buffer(MAX_FRAME_SIZE + 1)
    n = ctypes.c_size_t(0)
    assert lib.heg_frame_encode(message, len(message), out, len(out), ctypes.byref(n)) == FRAME_OK
    return out.raw[:n.value]


def c_encode_stream(lib, message: bytes) -> bytes:
    got = bytearray()
    put = PUT_FN(lambda _arg, byte: got.append(byte))
    assert lib.heg_frame_encode_stream(message, len(message), put, None) == FRAME_OK
    return bytes(got)


def c_decode_in_place(lib, frame: bytes) -> bytes | None:
    buf = ctypes.create_string_buffer(frame, len(frame) or 1)
    n = ctypes.c_size_t(99)
    if lib.heg_frame_decode_in_place(buf, len(frame), ctypes.byref(n)) != FRAME_OK:
        assert n.value == 0
        return None
    return buf.raw[:n.value]


# Zero-rich messages and runs near 254 bytes: the COBS block edges, with the
# CRC starting, straddling or ending a block.
_edge_messages = st.one_of(
    st.binary(max_size=MAX_MESSAGE_SIZE),
    st.lists(st.sampled_from([b"\x00", b"\x01", b"\xff", b"\x07" * 250, b"\x09" * 254]),
             max_size=8).map(lambda parts: b"".join(parts)[:MAX_MESSAGE_SIZE]),
    st.integers(240, 270).flatmap(lambda n: st.just(b"\x05" * n)))


@settings(max_examples=300)
@given(_edge_messages)
def test_c_stream_and_buffer_encoders_match_python(c_framer, message):
    frame = encode_frame(message)
    assert c_encode(c_framer, message) == frame
    assert c_encode_stream(c_framer, message) == frame
    assert c_decode_in_place(c_framer, frame[:-1]) == message


@settings(max_examples=300)
@given(st.binary(max_size=96), st.data())
def test_c_in_place_decoder_agrees_with_python_on_mangled_frames(c_framer, message, data):
    body = bytearray(encode_frame(message)[:-1])
    if body and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(body) - 1))
        body[index] ^= data.draw(st.integers(1, 255))
    body = bytes(body[:data.draw(st.integers(0, len(body)))])
    try:
        expected = decode_frame(body)
    except FramingError:
        expected = None
    assert c_decode_in_place(c_framer, body) == expected


def test_c_stream_encoder_refuses_oversized_messages_and_puts_nothing(c_framer):
    got = bytearray()
    put = PUT_FN(lambda _arg, byte: got.append(byte))
    status = c_framer.heg_frame_encode_stream(bytes(MAX_MESSAGE_SIZE + 1), MAX_MESSAGE_SIZE + 1,
                                              put, None)
    assert status == 0x0B02 and not got


@pytest.mark.parametrize("text,msflop", [("1", 1000), ("1e21", 10**24), ("0.001", 1),
                                         ("2_500", 2_500_000), ("1.5e3", 1_500_000)])
def test_sflop_amounts_parse_exactly(text, msflop):
    assert parse_sflop(text) == msflop


@pytest.mark.parametrize("text,reason", [("0", "positive"), ("-5", "positive"),
                                         ("abc", "not a number"), ("0.0001", "whole milli"),
                                         ("inf", "positive"), ("1e40", "u128")])
def test_bad_sflop_amounts_are_typed_errors(text, reason):
    with pytest.raises(AmountError, match=reason):
        parse_sflop(text)


def test_largest_amount_fits_and_formats():
    assert parse_sflop(str(MAX_U128 // 1000)) <= MAX_U128
    assert format_sflop(1500) == "1.5 sFLOP"
    assert format_sflop(10**24) == "1e+21 sFLOP"
