"""The RTL SoC's tests: the firmware image and the Verilator harness are built
once per session (nothing here skips: without the RISC-V compiler the build
fails with the install hint; `make test` installs it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "soc"))
sys.path.insert(0, str(ROOT / "tests" / "firmware"))


from fwkit import make  # noqa: E402  (tests/firmware is on the path from here on)


@pytest.fixture(scope="session")
def soc_build() -> Path:
    """The firmware image for the SoC and the harness that runs it."""
    import build_sim

    make("firmware-rv32")
    return build_sim.build(jobs=2)
