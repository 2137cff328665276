"""The synthesis-only timing harnesses (hdl/synth/) lint clean with `verilator --lint-only -Wall`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from blocks import BLOCKS

REPO = Path(__file__).resolve().parents[2]
RTL = REPO / "hdl" / "rtl"
SYNTH = REPO / "hdl" / "synth"
WAIVERS = REPO / "hdl" / "lint" / "heg_meter.vlt"
HARNESS = ["heg_synth_shift_in.v", "heg_synth_xor_out.v", "heg_synth_xor_tree.v"]
CASES = {
    "heg_stream_limiter_synth": BLOCKS["heg_stream_limiter"],
    "heg_meter_synth": BLOCKS["heg_meter"],
    "heg_meter_core_synth": BLOCKS["heg_meter_core"],
}


@pytest.mark.parametrize("top", sorted(CASES))
def test_wrapper_lints_clean(top: str) -> None:
    verilator = shutil.which("verilator")
    if verilator is None:
        pytest.fail("verilator is not on PATH: tests/rtl/conftest.py puts the tools/verilator "
                    "wrapper first; run through `make test`")
    sources = ([str(SYNTH / f) for f in HARNESS] + [str(SYNTH / f"{top}.v")]
               + [str(RTL / f) for f in CASES[top]])
    result = subprocess.run(
        [verilator, "--lint-only", "-Wall", f"-I{RTL}", str(WAIVERS), *sources,
         "--top-module", top],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
