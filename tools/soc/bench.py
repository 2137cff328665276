"""The SoC's numbers, measured: what one signature check costs the RTL CPU,
how fast the Verilator harness simulates the SoC, how long a boot takes to
the first answer.

usage: bench.py [--json OUT]      (python tools/soc/bench.py; about two minutes)

1. The benchmark image (firmware/port/rv32/bench_rv32.c) runs on the RTL SoC in
   the C++ harness: each operation is timed by the PicoRV32's own rdcycle and
   rdinstret, so cycles and instructions are the RTL CPU's. The baseline, in
   the same run: the same operations of the same C sources on the Cortex-M4
   image, instructions counted in the unicorn emulator (bench/firmware).
2. Simulation speed: the whole benchmark run's simulated cycles over the
   harness's CPU time and wall time (both printed: wall time depends on what
   else the machine runs; CPU time is the harness's own).
3. Boot to first answer: a fresh SoC on an erased flash, from starting the
   harness to the host library's INFO answered over the pty, in wall seconds
   and simulated cycles.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "bench" / "firmware"))
import build_sim  # noqa: E402
from soc_device import SocDevice  # noqa: E402

BENCH_HEX = ROOT / "build" / "firmware" / "rv32" / "bench_rv32.hex"
CM4_BENCH = ROOT / "build" / "firmware" / "cm4" / "bench_cm4.elf"
# bench/firmware/bench_ops.h
NAMES = {0: "nothing", 1: "bare verify", 2: "license verify", 4: "attestation sign"}


def make(*targets: str) -> None:
    subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                    f"FW_PYTHON={sys.executable}", *targets], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def rtl_operations(harness: Path) -> tuple[dict[str, dict[str, int]], float, float, int]:
    """Per operation cycles and instructions on the RTL; the run's CPU and wall
    seconds and its simulated cycles."""
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        out = subprocess.run([str(harness), "--rom", str(BENCH_HEX), "--flash",
                              str(Path(tmp) / "bench.flash"), "--console"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             check=True).stdout
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    table: dict[str, dict[str, int]] = {}
    cycles_total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "bench":
            mode, cycles, instructions, result = map(int, parts[1:])
            if result != 0:
                raise SystemExit(f"bench: {NAMES[mode]} gave the wrong verdict on the RTL")
            table[NAMES[mode]] = {"cycles": cycles, "instructions": instructions}
            cycles_total += cycles
    if set(table) != set(NAMES.values()):
        raise SystemExit(f"bench: the RTL run printed {sorted(table)}:\n{out[-2000:]}")
    return table, cpu, wall, cycles_total


def harness_cycles(harness: Path, image: Path, cycles: int) -> tuple[float, float]:
    """CPU and wall seconds for the harness to simulate ``cycles`` cycles of ``image``."""
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        subprocess.run([str(harness), "--rom", str(image), "--flash", str(Path(tmp) / "f"),
                        "--console", "--max-cycles", str(cycles)], stdin=subprocess.DEVNULL,
                       capture_output=True, check=True)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def first_answer() -> tuple[float, float]:
    from openheg import wire
    from openheg.device import Device
    from openheg.transport import SerialTransport

    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        with SocDevice(Path(tmp) / "soc.flash") as soc:
            with SerialTransport(soc.path, timeout=120) as link:
                state = Device(link).info().state
            wall = time.monotonic() - started
            cycles = soc.stats()["cycles"]
            soc.stop()
    if state != wire.DeviceState.UNPROVISIONED:
        raise SystemExit(f"bench: a fresh SoC answered state {state}")
    return wall, cycles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "soc" / "bench.json")
    args = parser.parse_args()
    make("firmware-rv32", str(BENCH_HEX.relative_to(ROOT)), str(CM4_BENCH.relative_to(ROOT)))
    harness = build_sim.build(jobs=2)

    rtl, cpu, wall, cycles = rtl_operations(harness)
    from cm4_count import MODES, run as cm4_run

    cm4 = {name: cm4_run(CM4_BENCH, MODES[name])["instructions"] for name in NAMES.values()}
    fixed = 20_000_000
    idle_cpu, idle_wall = harness_cycles(harness, ROOT / "build/firmware/rv32/openheg_rv32.hex",
                                         fixed)
    boot_wall, boot_cycles = first_answer()

    numbers = {
        "rtl": rtl, "cm4_instructions": cm4,
        "sim_cycles_per_cpu_s": cycles / cpu, "sim_cycles_per_wall_s": cycles / wall,
        "sim_firmware_idle_cycles_per_cpu_s": fixed / idle_cpu,
        "boot_to_first_answer_wall_s": boot_wall, "boot_to_first_answer_cycles": boot_cycles,
        "command": "python tools/soc/bench.py",
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(numbers, indent=2) + "\n")
    print("| operation | RTL cycles | RTL instructions | cycles/instr | Cortex-M4 instructions "
          "| RV32 / M4 instructions |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in NAMES.values():
        if name == "nothing":
            continue
        r = rtl[name]
        print(f"| {name} | {r['cycles']:,} | {r['instructions']:,} | "
              f"{r['cycles'] / r['instructions']:.2f} | {cm4[name]:,} | "
              f"{r['instructions'] / cm4[name]:.2f} |")
    print(f"simulation: {numbers['sim_cycles_per_cpu_s'] / 1e6:.2f} M cycles per CPU second "
          f"({numbers['sim_cycles_per_wall_s'] / 1e6:.2f} M per wall second) on the crypto "
          f"benchmark; {numbers['sim_firmware_idle_cycles_per_cpu_s'] / 1e6:.2f} M per CPU "
          f"second on the firmware image's boot and idle loop")
    print(f"boot to first answer: {boot_wall:.2f} s wall, {boot_cycles / 1e6:.2f} M cycles "
          f"({boot_cycles / build_sim.CLK_HZ * 1000:.0f} ms at {build_sim.CLK_HZ / 1e6:.0f} MHz)")


if __name__ == "__main__":
    main()
