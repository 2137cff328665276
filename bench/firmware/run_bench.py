"""`make bench` for the firmware: measure, print, and record in docs/firmware-numbers.md.

Every figure is a ratio to a baseline measured in the same run:

* host instructions (callgrind, repeatable) of one license verification and
  one attestation signature through the firmware, over the bare operation of
  the crypto library doing the work on the same bytes: libsodium's
  crypto_sign_verify_detached for verification, Monocypher's crypto_eddsa_sign
  for signing (the firmware signs with Monocypher's scalar operations and
  libsodium's SHA-512); and, for the record, over libsodium's table-based
  crypto_sign_detached, which the firmware does not use (30 KB of flash);
* Cortex-M4 flash and RAM of the board image, and instructions and stack of
  the same operations counted in the unicorn emulator (same ratios); flash and
  RAM of the RV32 SoC image against the same targets (what `make size` prints);
* protocol round trips per second through the pty server (C framer, pyserial,
  openheg.device), against the in-process cffi firmware.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench/firmware"))
sys.path.insert(0, str(ROOT / "firmware/tools"))
sys.path.insert(0, str(ROOT / "tools/soc"))

BENCH_HOST = ROOT / "build/firmware/bench_host"
CM4_BOARD_ELF = ROOT / "build/firmware/cm4/openheg_cm4_board.elf"
CM4_BENCH = ROOT / "build/firmware/cm4/bench_cm4.elf"
RV32_ELF = ROOT / "build/firmware/rv32/openheg_rv32.elf"
OUT = ROOT / "docs/firmware-numbers.md"
TARGET_RATIO = 1.10
RTT_SECONDS = 2.0


def callgrind(mode: int, workdir: Path) -> int:
    """Instructions executed inside heg_bench_run(mode) on the host."""
    out = workdir / f"callgrind.{mode}.out"
    subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                    "--toggle-collect=heg_bench_run", f"--callgrind-out-file={out}",
                    str(BENCH_HOST), str(mode)], check=True, capture_output=True)
    match = re.search(r"^(?:totals|summary): (\d+)", out.read_text(), re.M)
    assert match, f"no totals in {out}"
    return int(match.group(1))


def round_trips() -> tuple[float, float]:
    from openheg.device import Device
    from openheg.transport import SerialTransport
    from openheg_sim.emulator import ChipLink, EmulatedChip
    from openheg_sim.pty_device import PtyDevice

    with tempfile.TemporaryDirectory() as tmp:
        with PtyDevice(Path(tmp) / "chip.flash") as served, \
                SerialTransport(served.path) as link:
            pty_rate = rate(Device(link))
        chip = EmulatedChip.open("bench", Path(tmp) / "emu")
        try:
            emu_rate = rate(Device(ChipLink(chip)))
        finally:
            chip.close()
    return pty_rate, emu_rate


def rate(device) -> float:
    """INFO round trips per second (raw exchange: the transport, not parsing)."""
    from openheg import wire
    message = wire.RequestFormat.build({"command": int(wire.Command.INFO), "request_id": 1,
                                        "payload": b""})
    device.transport.exchange(message)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < RTT_SECONDS:
        device.transport.exchange(message)
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    from cm4_count import MODES, run_all
    from cm4_size import FLASH_TARGET, RAM_TARGET, measure
    from rv32_size import measure as measure_rv32

    with tempfile.TemporaryDirectory() as tmp:
        host = {name: callgrind(mode, Path(tmp)) for name, mode in MODES.items()}
    cm4 = measure(CM4_BOARD_ELF)
    rv32 = measure_rv32(RV32_ELF)
    emulated = run_all(CM4_BENCH)
    pty_rate, emu_rate = round_trips()

    def net(table, name):
        return table[name] - table["nothing"]

    host_net = {k: v for k, v in host.items()}
    emu_ins = {k: v["instructions"] for k, v in emulated.items()}
    rows = []
    for where, table, unit in (("host", host_net, "callgrind Ir"),
                               ("Cortex-M4", emu_ins, "unicorn")):
        sign = net(table, "attestation sign")
        rows += [
            (f"{where}: license verification / libsodium bare verify ({unit})",
             net(table, "license verify"), net(table, "bare verify"), True),
            (f"{where}: attestation signature / Monocypher bare sign ({unit})",
             sign, net(table, "monocypher sign"), True),
            (f"{where}: attestation signature / libsodium table-based sign ({unit})",
             sign, net(table, "bare sign"), False),
        ]
    lines = ["# Firmware numbers", "",
             "Written by `make bench` (bench/firmware/run_bench.py); every ratio is against a "
             "baseline measured in the same run. Do not edit by hand.", "",
             "| measure | firmware | baseline | ratio | target |", "|---|---:|---:|---:|---|"]
    for label, value, base, targeted in rows:
        ratio = value / base
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        target = f"≤ {TARGET_RATIO} ({verdict})" if targeted else "— (for the record)"
        lines.append(f"| {label} | {value:,} | {base:,} | {ratio:.4f} | {target} |")
    for image, sizes in (("Cortex-M4", cm4), ("RV32 SoC", rv32)):
        which = "board image" if image == "Cortex-M4" else "image"
        lines.append(f"| {image} flash, bytes ({which} / target) | {sizes['flash']:,} | "
                     f"{FLASH_TARGET:,} | {sizes['flash'] / FLASH_TARGET:.2f} | ≤ 1.00 "
                     f"({'met' if sizes['flash'] <= FLASH_TARGET else 'NOT met'}) |")
        lines.append(f"| {image} RAM, bytes: data+bss {sizes['data_bss']:,} + stack "
                     f"{sizes['stack_reserved']:,} ({which} / target) | {sizes['ram']:,} | "
                     f"{RAM_TARGET:,} | {sizes['ram'] / RAM_TARGET:.2f} | ≤ 1.00 "
                     f"({'met' if sizes['ram'] <= RAM_TARGET else 'NOT met'}) |")
    lines.append(f"| protocol round trips/s: pty server (C framer, pyserial) / in-process cffi | "
                 f"{pty_rate:,.0f} | {emu_rate:,.0f} | {pty_rate / emu_rate:.3f} | — |")
    lines += ["", "Stack measured in the emulator (bytes below the caller's SP inside the "
              "operation): " + ", ".join(f"{k} {v['stack']}" for k, v in emulated.items()
                                        if k != "nothing") + ".", "",
              "Definitions: *license verification* is the firmware's strict license parse plus "
              "the crypto port's strict Ed25519 verify of the domain-separated body (the golden "
              "standard license of tests/vectors/records.json); *attestation signature* is the "
              "crypto port's Ed25519 sign of an attestation-sized body (RFC 8032 from "
              "Monocypher 4.0.3's scalar and base-point operations and libsodium's SHA-512). "
              "Its targeted baseline is the signing library's own bare sign, Monocypher's "
              "crypto_eddsa_sign (the same scalar work, BLAKE2b for SHA-512); libsodium's "
              "crypto_sign_detached is listed for the record: it is faster but needs a 30 KB "
              "base-point table, which would put the image over its flash budget. Handler "
              "state work (flash commit, log) is not included. Instruction counts are net of "
              "the harness's empty call. Host: x86-64, libsodium 1.0.20 as built by `make "
              "firmware-deps`. Cortex-M4: the board image (meter registers on the bus; the QEMU "
              "test image adds the meter's software model), arm-none-eabi-gcc -Os -flto, "
              "libsodium cross-built minimal -Os; unicorn counts Thumb-2 instructions, not "
              "cycles. Stack reserved: the high-water mark of a whole host session in QEMU "
              "(tests/firmware/test_qemu_cm4.py) plus margin. RV32: the SoC image "
              "(riscv64-unknown-elf-gcc -march=rv32imc -Os -msave-restore -flto; "
              "docs/soc.md says where its bytes go). `make size` prints the same flash and "
              "RAM figures.", ""]
    text = "\n".join(lines)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
