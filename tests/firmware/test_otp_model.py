"""The one-time-programmable area of heg_hal.h, as the emulator models it
(sim/openheg_sim/flash.py; the C model of the other ports is checked by the C
tests, firmware/tests/test_port_models.c): 0xFF until programmed, one whole
program, a second one refused with nothing changed, never erased, kept beside
the flash file, torn by a power cut like any other operation of the part."""

from __future__ import annotations

import pytest

from openheg_sim.emulator import ChipHal
from openheg_sim.firmware import OTP_SIZE as FIRMWARE_OTP_SIZE
from openheg_sim.flash import OTP_SIZE, Flash, FlashError, PowerCut
from openheg_sim.meter_model import MeterModel

FIRST = bytes(range(OTP_SIZE))
SECOND = bytes(0xFF - b for b in FIRST)


def test_the_python_model_has_the_firmwares_size():
    assert OTP_SIZE == FIRMWARE_OTP_SIZE == 128


def test_one_program_then_refused_and_unchanged():
    flash = Flash()
    assert flash.otp_read() == b"\xff" * OTP_SIZE
    assert flash.otp_program(FIRST) is True
    assert flash.otp_program(SECOND) is False
    assert flash.otp_program(FIRST) is False
    assert flash.otp_read() == FIRST and flash.otp_program_count == 1


def test_erasing_every_page_leaves_the_otp_area():
    flash = Flash()
    flash.otp_program(FIRST)
    for page in range(flash.page_count):
        flash.erase(page)
    assert flash.otp_read() == FIRST


def test_wrong_sizes_are_refused_loudly():
    flash = Flash()
    with pytest.raises(FlashError):
        flash.otp_program(FIRST[:-1])
    with pytest.raises(FlashError):
        Flash(otp=FIRST + b"\x00")
    assert not flash.otp_programmed


def test_kept_beside_the_flash_file(tmp_path):
    path = tmp_path / "chip.flash"
    first = Flash(path=path)
    assert not (tmp_path / "chip.otp").exists()  # absent: never programmed
    first.otp_program(FIRST)
    assert (tmp_path / "chip.otp").read_bytes() == FIRST
    again = Flash(path=path)
    assert again.otp_read() == FIRST
    assert again.otp_program(SECOND) is False
    assert Flash(path=tmp_path / "other").otp_path == tmp_path / "other.otp"


def test_a_power_cut_tears_the_program_and_it_counts_as_programmed():
    flash = Flash()
    flash.cut_after(1)
    with pytest.raises(PowerCut):
        flash.otp_program(FIRST)
    torn = flash.otp_read()
    assert torn[:OTP_SIZE // 2] == FIRST[:OTP_SIZE // 2]
    assert torn[OTP_SIZE // 2:] == b"\xff" * (OTP_SIZE // 2)
    assert flash.otp_program(FIRST) is False


def test_a_clone_carries_the_otp_area():
    flash = Flash()
    flash.program(0, b"HGST")
    flash.otp_program(FIRST)
    copy = flash.clone()
    assert copy.otp_read() == FIRST and copy.image() == flash.image()
    copy.erase(0)  # independent parts
    assert flash.read(0, 4) == b"HGST" and copy.read(0, 4) == b"\xff" * 4


def test_the_chip_hal_reports_a_refusal_as_a_truthy_return():
    hal = ChipHal(MeterModel(), Flash(), clock=lambda: 0)
    assert not hal.otp_program(FIRST)
    assert hal.otp_program(SECOND)
    assert hal.otp_read() == FIRST
