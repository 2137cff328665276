"""Print the Cortex-M4 image's flash and RAM use (stack included).

usage: cm4_size.py FIRMWARE.elf [BENCH.elf]    (run by `make size`)

Flash is .vectors + .text + .data (its load image); RAM is .data + .bss +
the reserved .stack. The STORAGE and HWSIM regions stand in for the NOR
pages and the meter block a real board has, and are listed apart. With the
bench ELF, the stack actually used by one license verification and one
attestation signature is measured in the unicorn emulator (stack paint is
not needed there: the lowest SP seen is the high-water mark).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FLASH_TARGET = 48 * 1024
RAM_TARGET = 8 * 1024


def sections(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            result[parts[0]] = int(parts[1])
    return result


def measure(elf: Path) -> dict[str, int]:
    s = sections(elf)
    flash = s.get(".vectors", 0) + s.get(".text", 0) + s.get(".ARM.exidx", 0) + s.get(".data", 0)
    return {"flash": flash, "data_bss": s.get(".data", 0) + s.get(".bss", 0),
            "stack_reserved": s.get(".stack", 0),
            "ram": s.get(".data", 0) + s.get(".bss", 0) + s.get(".stack", 0),
            "storage_standin": s.get(".storage", 0), "meter_standin": s.get(".hwsim", 0)}


def main() -> None:
    numbers = measure(Path(sys.argv[1]))
    if len(sys.argv) > 2:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench/firmware"))
        from cm4_count import run_all
        numbers["emulated"] = run_all(Path(sys.argv[2]))
    kib = lambda n: f"{n / 1024:.1f} KiB"  # noqa: E731
    print(f"Cortex-M4 flash: {numbers['flash']} bytes ({kib(numbers['flash'])}); "
          f"target {kib(FLASH_TARGET)}: {'met' if numbers['flash'] <= FLASH_TARGET else 'NOT met'}")
    print(f"Cortex-M4 RAM:   {numbers['ram']} bytes ({kib(numbers['ram'])}) = data+bss "
          f"{numbers['data_bss']} + stack {numbers['stack_reserved']}; target {kib(RAM_TARGET)}: "
          f"{'met' if numbers['ram'] <= RAM_TARGET else 'NOT met'}")
    print(f"  not counted (stand-ins for hardware): storage {numbers['storage_standin']} bytes, "
          f"meter model {numbers['meter_standin']} bytes")
    if "emulated" in numbers:
        for name, row in numbers["emulated"].items():
            print(f"  {name}: {row['instructions']} instructions, stack {row['stack']} bytes")
    print("json " + json.dumps(numbers))


if __name__ == "__main__":
    main()
