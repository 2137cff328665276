"""The SoC ROM's initial contents from a firmware ELF, for $readmemh.

usage: elf_to_hex.py [--objcopy TOOL] [--rom-bytes N] IN.elf OUT.hex

objcopy writes the ROM's load image (.text, .rodata and .data's initial
values, everything at its load address from 0) as binary; this writes it as
one 32-bit little-endian word per line, padded with zeros to the ROM's size,
which is what hdl/soc/heg_soc_rom.v loads into its block RAM. An image that
does not fit the ROM is refused with its size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROM_BASE = 0
DEFAULT_ROM_BYTES = 128 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objcopy", default="riscv64-unknown-elf-objcopy")
    parser.add_argument("--rom-bytes", type=int, default=DEFAULT_ROM_BYTES)
    parser.add_argument("elf", type=Path)
    parser.add_argument("hex", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "rom.bin"
        subprocess.run([args.objcopy, "-O", "binary", "--only-section=.text",
                        "--only-section=.data", str(args.elf), str(binary)], check=True)
        image = binary.read_bytes()
    if len(image) > args.rom_bytes:
        print(f"elf_to_hex: {args.elf} needs {len(image)} bytes of ROM, the SoC has "
              f"{args.rom_bytes}", file=sys.stderr)
        return 1
    image += bytes(-len(image) % 4)
    words = [int.from_bytes(image[i:i + 4], "little") for i in range(0, len(image), 4)]
    words += [0] * (args.rom_bytes // 4 - len(words))
    args.hex.write_text("".join(f"{w:08x}\n" for w in words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
