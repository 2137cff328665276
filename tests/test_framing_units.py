"""Framing of the serial protocol and exact sFLOP amounts."""

from __future__ import annotations

import pytest
from hypothesis import given
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
