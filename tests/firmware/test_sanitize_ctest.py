"""The C-only test binary (firmware/tests/): plain, under ASan + UBSan, and
under valgrind memcheck (any error fails)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def make(target: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                           f"FW_PYTHON={sys.executable}", target],
                          cwd=ROOT, capture_output=True, text=True)


def check(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert " 0 failed" in result.stdout


def test_ctest_plain():
    check(make("firmware-ctest"))


def test_ctest_asan_ubsan():
    check(make("firmware-ctest-asan"))


def test_ctest_valgrind():
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is missing: `make test` installs it (tools/install-system-deps.sh)")
    check(make("firmware-ctest-valgrind"))
