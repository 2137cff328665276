"""Count Cortex-M4 instructions and stack of the benchmark operations in the
unicorn emulator (bench/firmware/bench_cm4.c built by `make size`/`make bench`).

Loads the ELF's segments, writes the mode, starts at the reset handler and
counts every instruction executed inside heg_bench_run (entry to return); the
lowest stack pointer seen inside it gives the stack the operation needs.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from unicorn import UC_ARCH_ARM, UC_HOOK_CODE, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, UcError
from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_SP

# The operations of bench/firmware/bench_ops.h (host and Cortex-M4 drivers alike).
MODES = {"nothing": 0, "bare verify": 1, "license verify": 2, "bare sign": 3,
         "attestation sign": 4, "monocypher sign": 5}
# Thumb BKPT #imm8 is encoded 0xBExx (little-endian: imm8, then 0xBE).
THUMB_BKPT_HIGH_BYTE = 0xBE
MAX_INSTRUCTIONS = 50_000_000


def symbols(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            table[parts[2]] = int(parts[0], 16)
    return table


def load_segments(elf: Path) -> list[tuple[int, bytes, int]]:
    """(paddr, file bytes, memsz) of each PT_LOAD program header."""
    data = elf.read_bytes()
    (phoff,) = struct.unpack_from("<I", data, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x2A)
    segments = []
    for i in range(phnum):
        p_type, p_offset, _vaddr, p_paddr, p_filesz, p_memsz = struct.unpack_from(
            "<IIIIII", data, phoff + i * phentsize)
        if p_type == 1:
            segments.append((p_paddr, data[p_offset:p_offset + p_filesz], p_memsz))
    return segments


def run(elf: Path, mode: int) -> dict[str, int]:
    sym = symbols(elf)
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    for base, size in ((0x0000_0000, 0x80000), (0x2000_0000, 0x20000), (0x2020_0000, 0x4000),
                       (0x2030_0000, 0x1000)):
        uc.mem_map(base, size)
    for addr, blob, _ in load_segments(elf):
        if blob:
            uc.mem_write(addr, blob)
    uc.mem_write(sym["heg_bench_mode"], struct.pack("<I", mode))
    sp0, reset = struct.unpack("<II", bytes(uc.mem_read(0, 8)))
    uc.reg_write(UC_ARM_REG_SP, sp0)
    entry = sym["heg_bench_run"] & ~1
    state = {"inside": False, "ret": 0, "count": 0, "min_sp": sp0, "sp_entry": 0}

    def on_code(uc_, address, _size, _data):
        if not state["inside"]:
            if address == entry:
                state["inside"] = True
                state["ret"] = uc_.reg_read(UC_ARM_REG_LR) & ~1
                state["sp_entry"] = uc_.reg_read(UC_ARM_REG_SP)
                state["min_sp"] = state["sp_entry"]
            else:
                return
        if address == state["ret"]:
            state["inside"] = False
            return
        state["count"] += 1
        sp = uc_.reg_read(UC_ARM_REG_SP)
        if sp < state["min_sp"]:
            state["min_sp"] = sp

    uc.hook_add(UC_HOOK_CODE, on_code)
    try:
        uc.emu_start(reset | 1, 0xFFFF_FFFF, count=MAX_INSTRUCTIONS)
    except UcError as error:
        # The bench ends on `bkpt`, which unicorn reports as an exception; any
        # other stop (bad fetch, bad memory) is a real failure.
        pc = uc.reg_read(UC_ARM_REG_PC)
        if bytes(uc.mem_read(pc, 2))[1] != THUMB_BKPT_HIGH_BYTE:
            raise RuntimeError(f"Cortex-M4 bench mode {mode} stopped at 0x{pc:x}: {error}") from None
    result = struct.unpack("<i", bytes(uc.mem_read(sym["heg_bench_result"], 4)))[0]
    if result != 0:
        raise RuntimeError(f"Cortex-M4 bench mode {mode} failed ({result}); pc "
                           f"0x{uc.reg_read(UC_ARM_REG_PC):x}")
    return {"instructions": state["count"], "stack": state["sp_entry"] - state["min_sp"]}


def run_all(elf: Path) -> dict[str, dict[str, int]]:
    return {name: run(elf, mode) for name, mode in MODES.items()}
