"""CI smoke of the libFuzzer harnesses (firmware/fuzz/): `make fuzz` with a
short budget. The long run is `make fuzz FUZZ_SECONDS=600`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE_SECONDS = 10


def clang() -> str | None:
    return shutil.which("clang-14") or shutil.which("clang")


def test_fuzz_smoke():
    if clang() is None:
        pytest.fail("clang is missing: `make test` installs clang-14 and libclang-rt-14-dev "
                    "(tools/install-system-deps.sh)")
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", "firmware/firmware.mk",
         f"FW_PYTHON={sys.executable}", "fuzz", f"FUZZ_SECONDS={SMOKE_SECONDS}"],
        cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    executed = [int(line.split(":")[-1]) for line in result.stdout.splitlines()
                if line.startswith("stat::number_of_executed_units")]
    # libFuzzer may print its final stats more than once per harness.
    assert len(executed) >= 2 and all(n > 1000 for n in executed), result.stdout
    assert "fuzz: frame" in result.stdout and "fuzz: dispatch" in result.stdout
