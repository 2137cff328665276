"""Print the SoC firmware image's flash and RAM use (stack included).

usage: rv32_size.py IMAGE.elf    (run by `make size`, beside the Cortex-M4 lines)

Flash is what the ROM must hold: .text (code and read-only data) plus .data's
load image; RAM is .data + .bss + the reserved .stack (sized from the
high-water mark tests/soc measure after a whole host session on the RTL).
The targets are the Cortex-M4's (firmware/tools/cm4_size.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware" / "tools"))
from cm4_size import FLASH_TARGET, RAM_TARGET, verdict  # noqa: E402


def measure(elf: Path) -> dict[str, int]:
    out = subprocess.run(["riscv64-unknown-elf-size", "-A", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    s = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            s[parts[0]] = int(parts[1])
    data, bss, stack = s.get(".data", 0), s.get(".bss", 0), s.get(".stack", 0)
    return {"flash": s.get(".text", 0) + data, "data_bss": data + bss,
            "stack_reserved": stack, "ram": data + bss + stack}


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: rv32_size.py IMAGE.elf")
    n = measure(Path(sys.argv[1]))
    kib = lambda v: f"{v / 1024:.1f} KiB"  # noqa: E731
    flash_miss = "" if n["flash"] <= FLASH_TARGET else f" by {n['flash'] - FLASH_TARGET} bytes"
    ram_miss = "" if n["ram"] <= RAM_TARGET else f" by {n['ram'] - RAM_TARGET} bytes"
    print(f"RV32 SoC image flash:        {n['flash']} bytes ({kib(n['flash'])}); target "
          f"{kib(FLASH_TARGET)}: {verdict(n['flash'], FLASH_TARGET)}{flash_miss}")
    print(f"RV32 SoC image RAM:          {n['ram']} bytes ({kib(n['ram'])}) = data+bss "
          f"{n['data_bss']} + stack {n['stack_reserved']}; target {kib(RAM_TARGET)}: "
          f"{verdict(n['ram'], RAM_TARGET)}{ram_miss}")
    print("json-rv32 " + json.dumps(n))


if __name__ == "__main__":
    main()
