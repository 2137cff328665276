"""The firmware measurement is reproducible from the sources, and sensitive to them."""

from __future__ import annotations

import shutil

from openheg_sim.firmware_build import FIRMWARE, firmware_measurement

from fwkit import Device


def test_measurement_matches_the_built_firmware():
    assert Device().info().firmware_measurement == firmware_measurement()


def test_measurement_covers_every_source_byte_and_name(tmp_path):
    for part in ("include", "src"):
        shutil.copytree(FIRMWARE / part, tmp_path / part)
    assert firmware_measurement(tmp_path) == firmware_measurement()
    codec = tmp_path / "src" / "codec.c"
    codec.write_bytes(codec.read_bytes() + b"\n")
    changed = firmware_measurement(tmp_path)
    assert changed != firmware_measurement()
    codec.rename(tmp_path / "src" / "codec2.c")
    assert firmware_measurement(tmp_path) not in (changed, firmware_measurement())
