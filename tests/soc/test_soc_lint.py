"""The SoC's RTL is lint-clean under `verilator --lint-only -Wall` with the
waivers kept beside it (hdl/soc/heg_soc.vlt), its generated memory map is up
to date, and the map, the linker script and the simulation build agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import build_sim
import soc_map

ROOT = Path(__file__).resolve().parents[2]


def lint_command() -> list[str]:
    return [str(ROOT / "tools" / "verilator"), "--lint-only", "-Wall",
            f"-I{ROOT / 'hdl' / 'rtl'}", f"-I{ROOT / 'hdl' / 'soc'}",
            str(ROOT / "hdl" / "lint" / "heg_meter.vlt"), str(ROOT / "hdl" / "soc" / "heg_soc.vlt"),
            *map(str, build_sim.sources()), "--top-module", "heg_soc"]


def test_soc_is_lint_clean():
    done = subprocess.run(lint_command(), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_lint_catches_a_new_warning(tmp_path):
    """The lint run is not vacuous: an unused signal added to a copy of the
    SoC's bus decoder fails it."""
    bus = ROOT / "hdl" / "soc" / "heg_soc_bus.v"
    broken = tmp_path / "heg_soc_bus.v"
    broken.write_text(bus.read_text().replace("  wire write =", "  wire stray_probe;\n  wire write =", 1))
    command = [str(broken) if Path(a) == bus else a for a in lint_command()]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode != 0 and "stray_probe" in done.stdout + done.stderr


def test_fusesoc_core_lints_the_same_sources(tmp_path):
    """hdl/soc/heg_soc.core names every source the SoC needs: FuseSoC's
    Verilator lint target builds from it alone and passes with its waivers."""
    build_sim.fetch_core()
    fusesoc = Path(sys.executable).parent / "fusesoc"
    env = {"PATH": f"{ROOT / 'tools'}:{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(tmp_path)}
    done = subprocess.run([str(fusesoc), "--cores-root", str(ROOT / "hdl" / "soc"), "run",
                           "--target", "lint", "openheg:heg:soc"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def test_generated_map_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "soc" / "soc_map.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_linker_script_places_rom_and_ram_where_the_map_decodes_them():
    script = (ROOT / "firmware" / "port" / "rv32" / "soc.ld").read_text()
    regions = {name: (base, size) for name, base, size, _ in soc_map.REGIONS}
    for name in ("ROM", "RAM"):
        found = re.search(rf"{name} \(\w+\)\s*:\s*ORIGIN = (0x[0-9a-fA-F]+), LENGTH = (\d+)K",
                          script)
        assert found, name
        assert (int(found.group(1), 16), int(found.group(2)) * 1024) == regions[name], name
    assert build_sim.SIM_ROM_BYTES <= regions["ROM"][1]


@pytest.fixture(scope="module")
def release_elf() -> Path:
    """The RV32 firmware image that make bitstream puts in the board's ROM."""
    import bitstream
    from fwkit import make

    make("firmware-rv32")
    return bitstream.ELF


def board_rom_default() -> int:
    top = (ROOT / "hdl" / "soc" / "board" / "heg_soc_ulx3s.v").read_text()
    found = re.search(r"parameter integer ROM_BYTES = (\d+)", top)
    assert found, "heg_soc_ulx3s.v declares no ROM_BYTES"
    return int(found.group(1))


def test_release_image_fits_the_board_rom(release_elf, tmp_path):
    """The board's ROM (64 KiB, smaller than the simulation's 128 KiB to shorten the fetch
    path) holds the release image, and the board top's default is what make bitstream sets."""
    import bitstream

    assert board_rom_default() == bitstream.ROM_BYTES
    rom_hex = tmp_path / "rom.hex"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "soc" / "elf_to_hex.py"),
                           "--rom-bytes", str(bitstream.ROM_BYTES), str(release_elf),
                           str(rom_hex)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(rom_hex.read_text().splitlines()) == bitstream.ROM_BYTES // 4


def test_an_image_past_the_board_rom_is_refused_with_its_size(release_elf, tmp_path):
    """The fit check is real: the same image against a ROM one word smaller than it is
    refused, naming the bytes it needs, and writes no hex."""
    image = tmp_path / "image.bin"
    subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "binary", "--only-section=.text",
                    "--only-section=.data", str(release_elf), str(image)], check=True)
    too_small = image.stat().st_size - 4
    rom_hex = tmp_path / "rom.hex"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "soc" / "elf_to_hex.py"),
                           "--rom-bytes", str(too_small), str(release_elf), str(rom_hex)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert f"needs {image.stat().st_size} bytes of ROM, the SoC has {too_small}" in done.stderr
    assert not rom_hex.exists()
