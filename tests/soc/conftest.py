"""The RTL SoC's tests: the firmware image and the Verilator harness are built
once per session (nothing here skips: without the RISC-V compiler the build
fails with the install hint; `make test` installs it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "soc"))
sys.path.insert(0, str(ROOT / "tests" / "firmware"))


def make(*targets: str) -> None:
    result = subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                             f"FW_PYTHON={sys.executable}", *targets],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def soc_build() -> Path:
    """The firmware image for the SoC and the harness that runs it."""
    import build_sim

    make("firmware-rv32")
    return build_sim.build(jobs=2)
