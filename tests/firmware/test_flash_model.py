"""The NOR flash model the emulated firmware stores its state in."""

from __future__ import annotations

import pytest

from openheg_sim.flash import Flash, FlashError, PowerCut


def test_geometry_and_erased_state():
    flash = Flash(page_size=256, page_count=4)
    assert flash.geometry() == (256, 4)
    assert flash.read(0, 1024) == b"\xff" * 1024


def test_erase_before_write_is_enforced():
    flash = Flash(page_size=256, page_count=2)
    flash.program(0, b"\x12\x34\x56\x78")
    assert flash.read(0, 4) == b"\x12\x34\x56\x78"
    with pytest.raises(FlashError, match="non-erased"):
        flash.program(0, b"\x00\x00\x00\x00")
    flash.erase(0)
    flash.program(0, b"\x00\x00\x00\x00")
    assert flash.erase_counts == [1, 0]


@pytest.mark.parametrize("offset,data", [(1, b"abcd"), (0, b"abc"), (1020, b"abcdefgh")])
def test_misaligned_or_out_of_range_program_is_refused(offset, data):
    with pytest.raises(FlashError):
        Flash(page_size=256, page_count=4).program(offset, data)


def test_cut_after_tears_the_nth_operation():
    flash = Flash(page_size=256, page_count=2)
    flash.cut_after(2)
    flash.program(0, b"\x00" * 8)  # 1st: completes
    with pytest.raises(PowerCut):
        flash.program(8, b"\x00" * 16)  # 2nd: torn
    assert flash.read(8, 16) == b"\x00" * 8 + b"\xff" * 8
    assert not flash.cut_pending
    flash.program(64, b"\x00" * 4)  # power is back


def test_torn_erase_leaves_part_of_the_page():
    flash = Flash(page_size=256, page_count=2)
    flash.program(0, b"\x00" * 256)
    flash.cut_after(1)
    with pytest.raises(PowerCut):
        flash.erase(0)
    image = flash.read(0, 256)
    assert image != b"\xff" * 256 and image != b"\x00" * 256


def test_backing_file_is_written_atomically(tmp_path):
    path = tmp_path / "f.bin"
    flash = Flash(page_size=256, page_count=2, path=path)
    flash.program(4, b"\x01\x02\x03\x04")
    assert Flash(page_size=256, page_count=2, path=path).read(4, 4) == b"\x01\x02\x03\x04"
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(FlashError):
        Flash(page_size=256, page_count=4, path=path)
