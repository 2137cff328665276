"""The IP as vendors consume it: FuseSoC core files that fusesoc parses and lints with
Verilator, and IP-XACT register descriptions that match the generated register maps."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import fusesoc_cores
from openheg import linkmap, regmap

REPO = Path(__file__).resolve().parents[2]
FUSESOC = Path(sys.executable).parent / "fusesoc"
IPXACT = "{http://www.accellera.org/XMLSchema/IPXACT/1685-2014}"


def fusesoc_lint(cores_root: Path, core: str, work: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=os.pathsep.join([str(REPO / "tools"), os.environ["PATH"]]))
    return subprocess.run([str(FUSESOC), "--cores-root", str(cores_root), "run",
                           "--target=lint", f"openheg:ip:{core}"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)


def test_core_files_are_fresh() -> None:
    assert fusesoc_cores.main(["--check"]) == 0


@pytest.mark.parametrize("core", sorted(fusesoc_cores.CORES))
def test_fusesoc_lints_each_core(tmp_path: Path, core: str) -> None:
    result = fusesoc_lint(REPO / "hdl", core, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    build = next(tmp_path.glob("build/*/lint-verilator"))
    assert "--lint-only" in (build / "Makefile").read_text()
    assert "-Wall" in (build / "config.mk").read_text()


def test_fusesoc_lint_fails_on_a_broken_block(tmp_path: Path) -> None:
    """The lint target is live: an unused signal in a copy of the limiter fails it."""
    shutil.copytree(REPO / "hdl", tmp_path / "hdl")
    limiter = tmp_path / "hdl" / "rtl" / "heg_stream_limiter.v"
    text = limiter.read_text()
    anchor = "  reg [TOK_W-1:0] tokens_q;\n"
    assert anchor in text, "the canary's anchor line is gone from the limiter"
    limiter.write_text(text.replace(anchor, anchor + "  wire lint_canary;\n", 1))
    work = tmp_path / "work"
    work.mkdir()
    result = fusesoc_lint(tmp_path / "hdl", "heg_link", work)
    assert result.returncode != 0
    assert "lint_canary" in result.stdout + result.stderr


@pytest.mark.parametrize("block, names", [("heg_meter", regmap), ("heg_link", linkmap)])
def test_ipxact_matches_the_register_map(block: str, names) -> None:
    """Every register of the generated map is in the IP-XACT export at the same offset,
    with the same field resets, and nothing else is."""
    root = ET.parse(REPO / "hdl" / "ipxact" / f"{block}.xml").getroot()
    exported = {}
    for reg in root.iter(f"{IPXACT}register"):
        offset = int(reg.find(f"{IPXACT}addressOffset").text.removeprefix("'h"), 16)
        name = reg.find(f"{IPXACT}name").text
        # An array exports as one register with a dimension; the maps unroll it.
        dim = reg.find(f"{IPXACT}dim")
        for i in range(int(dim.text) if dim is not None else 1):
            exported[offset + 4 * i] = f"{name}_{i}" if dim is not None else name
    assert exported == names.REGISTER_NAMES
    for reg in root.iter(f"{IPXACT}register"):
        name = reg.find(f"{IPXACT}name").text
        for field in reg.iter(f"{IPXACT}field"):
            reset = field.find(f"{IPXACT}resets/{IPXACT}reset/{IPXACT}value")
            if reset is None or reg.find(f"{IPXACT}dim") is not None:
                continue
            constant = f"{name}_{field.find(f'{IPXACT}name').text.upper()}_RESET"
            assert getattr(names, constant) == int(reset.text.removeprefix("'h"), 16), constant
