"""`verilator --lint-only -Wall` on the meter block is clean (waivers: hdl/lint/heg_meter.vlt)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from blocks import all_sources

REPO = Path(__file__).resolve().parents[2]
RTL = REPO / "hdl" / "rtl"
WAIVERS = REPO / "hdl" / "lint" / "heg_meter.vlt"
SOURCES = all_sources()


def lint(top: str, *extra: str) -> subprocess.CompletedProcess[str]:
    verilator = shutil.which("verilator")
    assert verilator == str(REPO / "tools" / "verilator"), f"wrapper not first on PATH: {verilator}"
    return subprocess.run(
        [verilator, "--lint-only", "-Wall", f"-I{RTL}", str(WAIVERS), *map(str, SOURCES),
         "--top-module", top, *extra],
        capture_output=True, text=True, check=False, cwd=REPO,
    )


def test_wrapper_runs_verilator_5_48() -> None:
    out = subprocess.run(["verilator", "--getenv", "VERILATOR_ROOT"], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert Path(out, "bin", "verilator").is_file()
    assert "site-packages" in out, out


@pytest.mark.parametrize("top, extra", [
    pytest.param("heg_meter", (), id="heg_meter"),
    pytest.param("heg_meter", ("-GCOUNT_W=8",), id="heg_meter-COUNT_W8"),
    pytest.param("heg_meter_core", (), id="heg_meter_core"),
    pytest.param("heg_stream_limiter", (), id="heg_stream_limiter"),
    pytest.param("heg_stream_limiter", ("-GDATA_W=8",), id="heg_stream_limiter-DATA_W8"),
    pytest.param("heg_link", (), id="heg_link"),
    pytest.param("heg_counter_frontend", (), id="heg_counter_frontend"),
    pytest.param("heg_counter_frontend", ("-GCOUNT_W=8", "-GLANES=2"), id="frontend-small"),
    pytest.param("heg_link", ("-GDATA_W=256", "-GUSER_W=4"), id="heg_link-DATA_W256"),
])
def test_lint_clean(top: str, extra: tuple[str, ...]) -> None:
    result = lint(top, *extra)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "%Warning" not in output and "%Error" not in output, output


def test_lint_catches_problems(tmp_path: Path) -> None:
    """The lint run is live: an unused signal in a copy of the core is reported."""
    core = (RTL / "heg_meter_core.v").read_text()
    broken = core.replace("  reg                    fatal_q;\n",
                          "  reg                    fatal_q;\n  wire                   lint_canary;\n", 1)
    assert broken != core
    (tmp_path / "heg_meter_core.v").write_text(broken)
    verilator = shutil.which("verilator")
    result = subprocess.run(
        [verilator, "--lint-only", "-Wall", f"-I{RTL}", str(WAIVERS),
         str(tmp_path / "heg_meter_core.v"), "--top-module", "heg_meter_core"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode != 0
    assert "lint_canary" in result.stdout + result.stderr
