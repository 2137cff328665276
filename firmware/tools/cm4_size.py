"""Print the Cortex-M4 images' flash and RAM use (stack included).

usage: cm4_size.py BOARD.elf [TEST.elf]    (run by `make size`)

The board image (meter_mmio.c: the metering block's registers on the bus) is
what a part ships and what the targets apply to. The QEMU test image
(meter_model.c) also carries the software model of the RTL, which stands in
for the block QEMU lacks; its flash is printed for reference. Flash is
.vectors + .text + .ARM.exidx + .data (its load image); RAM is .data + .bss +
the reserved .stack (sized from the high-water mark that
tests/firmware/test_qemu_cm4.py measures in QEMU). The STORAGE and HWSIM
regions stand in for the NOR pages and the meter, and are listed apart.
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


def verdict(value: int, target: int) -> str:
    return "met" if value <= target else "NOT met"


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: cm4_size.py BOARD.elf [TEST.elf]")
    numbers = measure(Path(sys.argv[1]))
    kib = lambda n: f"{n / 1024:.1f} KiB"  # noqa: E731
    print(f"Cortex-M4 board image flash: {numbers['flash']} bytes ({kib(numbers['flash'])}); "
          f"target {kib(FLASH_TARGET)}: {verdict(numbers['flash'], FLASH_TARGET)}")
    print(f"Cortex-M4 board image RAM:   {numbers['ram']} bytes ({kib(numbers['ram'])}) = "
          f"data+bss {numbers['data_bss']} + stack {numbers['stack_reserved']}; target "
          f"{kib(RAM_TARGET)}: {verdict(numbers['ram'], RAM_TARGET)}")
    if len(sys.argv) == 3:
        test = measure(Path(sys.argv[2]))
        numbers["test_image"] = test
        print(f"  QEMU test image (adds the meter's software model): flash {test['flash']} "
              f"bytes, RAM {test['ram']} bytes; not counted (stand-ins for hardware): "
              f"storage {test['storage_standin']} bytes, meter model {test['meter_standin']} "
              f"bytes")
    print("json " + json.dumps(numbers))


if __name__ == "__main__":
    main()
