"""The OTP contract of the HAL (SEAMS.md) on the SoC: the rv32 port's
heg_hal_otp_read/heg_hal_otp_program over the RTL fuse block, in the
Verilator harness that keeps the fuses across power cycles.

firmware/port/rv32/otp_selftest.c runs twice on one OTP file (the harness
exits between: every register and the RAM are gone, the fuses stay):
the first run finds the area blank, programs it, and is refused a second
program that changes nothing; the second run finds the first run's bytes and
is refused again."""

from __future__ import annotations

import subprocess
from pathlib import Path

from openheg.errors import DeviceStatus

from conftest import ROOT, make

IMAGE = ROOT / "build" / "firmware" / "rv32" / "otp_selftest.hex"


def run_selftest(harness: Path, workdir: Path) -> dict[str, int]:
    out = subprocess.run([str(harness), "--rom", str(IMAGE), "--flash", str(workdir / "f.flash"),
                          "--otp", str(workdir / "f.otp"), "--console",
                          "--max-cycles", "20000000"], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert out.endswith("done\n"), out
    facts = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "otp":
            facts[parts[1]] = int(parts[2], 16)
    return facts


def test_otp_programs_once_and_survives_power_cycles(soc_build, tmp_path):
    make(str(IMAGE.relative_to(ROOT)))
    first = run_selftest(soc_build, tmp_path)
    assert first["blank"] == 1
    assert first["program"] == DeviceStatus.OK
    assert first["pattern"] == 1
    assert first["again"] == DeviceStatus.STORAGE  # a second program is refused...
    assert first["kept"] == 1                       # ...and changes nothing
    otp = (tmp_path / "f.otp").read_bytes()
    assert otp[0] == 1 and otp[1:] == bytes((i * 7 + 3) & 0xFF for i in range(128))

    second = run_selftest(soc_build, tmp_path)  # a power cycle later
    assert second["blank"] == 0
    assert second["pattern"] == 1
    assert second["program"] == DeviceStatus.STORAGE
    assert second["again"] == DeviceStatus.STORAGE
    assert second["kept"] == 1
