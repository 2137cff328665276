"""The fault harness image (firmware/port/cortex_m4/fault_harness.c) in the
unicorn emulator: load it, boot it from a storage image, hand it requests
through its mailbox, snapshot and restore the machine, and read what it
observes of the device state.

Nothing here knows the firmware's layout: the mailbox, the observer and the
crypto library's verification are found by ELF symbol, the memory map is read
from the linker script, and which instructions are the firmware's own comes
from the image's DWARF line table (see ImageFacts.in_scope).
"""

from __future__ import annotations

import bisect
import re
import struct
import sys
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from pathlib import Path

import nacl.bindings
import nacl.exceptions
from elftools.elf.elffile import ELFFile
from openheg import wire
from unicorn import (UC_ARCH_ARM, UC_HOOK_CODE, UC_MODE_MCLASS, UC_MODE_THUMB, UC_PROT_ALL,
                     UC_PROT_EXEC, UC_PROT_READ, Uc, UcError)
from unicorn.arm_const import (UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1,
                               UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_SP)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench/firmware"))

from cm4_count import THUMB_BKPT_HIGH_BYTE, load_segments, symbols  # noqa: E402

LINKER_SCRIPT = ROOT / "firmware/port/cortex_m4/mps2_an386.ld"
# libsodium's strict Ed25519 verification, which the crypto port calls: the
# third-party code whose verdict faulted runs take from the golden run.
VERIFY_SYMBOL = "crypto_sign_ed25519_verify_detached"
# Must match HEG_FAULT_VIEW_LAYOUT and HEG_FAULT_RECORD_CAP in fault_harness.c.
VIEW_LAYOUT = 0x46560002
# Registers the port reads its two clocks from (hal_cm4.c): SysTick and the
# SCB in the system control space, and the FPGA IO block (hal_cm4.h's
# HEG_CM4_FPGAIO_BASE). Here they read 0: SysTick is never started, and
# uptime and the reference stand still together, so the clock monitor never
# sees them disagree.
CLOCK_REGISTER_PAGES = ((0xE000E000, 0x1000), (0x40028000, 0x1000))
RECORD_CAP = 1536
HTRUE, HFALSE = 0x739, 0x1D4
# Every emu_start is given an instruction count: unicorn counts with a hook of
# its own and drops every translation whenever a run with a count follows one
# without (or back), which made each faulted run ~30 times slower. The
# limit is far above any request's real run (a few signature checks of 1.3
# million instructions each).
RUN_LIMIT = 100_000_000
# The source files whose instructions are faulted: the firmware core and the
# Cortex-M4 port's HAL. Left out: the third-party libraries (libsodium,
# Monocypher, newlib, libgcc), the models that stand in for hardware on this
# image (meter, NOR flash), start-up and the harness itself.
FIRMWARE_SOURCES = ("firmware/src/", "firmware/port/cortex_m4/hal_cm4.c")


class Stop(IntEnum):
    """The harness's breakpoint codes (HEG_FAULT_STOP_* in fault_harness.c)."""
    CRASH = 0x01  # heg_cm4_fault: the vector of every CPU fault
    READY = 0x10
    DISPATCHED = 0x11
    OBSERVED = 0x12


class HarnessError(RuntimeError):
    """The harness did not behave as its contract says (a driver or image bug,
    never a campaign result)."""


def memory_regions(script: Path = LINKER_SCRIPT) -> dict[str, tuple[int, int]]:
    """NAME -> (origin, length) from the linker script's MEMORY block."""
    units = {"": 1, "K": 1024, "M": 1024 * 1024}
    regions = {}
    for name, origin, length, unit in re.findall(
            r"^\s*(\w+)\s*\([rwx]+\)\s*:\s*ORIGIN\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*,\s*"
            r"LENGTH\s*=\s*(\d+)([KM]?)", script.read_text(), re.M):
        regions[name] = (int(origin, 0), int(length) * units[unit])
    missing = {"FLASH", "RAM", "STORAGE", "HWSIM"} - set(regions)
    if missing:
        raise HarnessError(f"{script}: MEMORY has no {sorted(missing)}")
    return regions


@dataclass(frozen=True)
class SourceLine:
    path: str  # relative to the repository root
    line: int


class ImageFacts:
    """What the campaign needs to know of one harness ELF."""

    def __init__(self, elf: Path, extra_sources: tuple[str, ...] = ()) -> None:
        if not elf.exists():
            raise HarnessError(f"{elf} is missing: build it with `make firmware-fault`")
        self.elf = elf
        self.sources = FIRMWARE_SOURCES + extra_sources
        self.symbols = symbols(elf)
        self.segments = load_segments(elf)
        self.regions = memory_regions()
        for name in ("heg_fault_request", "heg_fault_request_len", "heg_fault_response",
                     "heg_fault_response_len", "heg_fault_boot_status", "heg_fault_view",
                     "heg_fault_observe", "heg_fault_observe_durable", "heg_fault_storage",
                     "heg_fault_meter", VERIFY_SYMBOL, "__stack_top"):
            if name not in self.symbols:
                raise HarnessError(f"{elf}: no symbol {name} (not a fault harness image?)")

    def code_at(self, address: int, length: int) -> bytes:
        """Bytes of the image at address (as loaded, before any run)."""
        for base, blob, _ in self.segments:
            if base <= address and address + length <= base + len(blob):
                return blob[address - base:address - base + length]
        raise HarnessError(f"0x{address:x} is not in the image's loaded bytes")

    @cached_property
    def _line_rows(self) -> tuple[list[int], list[SourceLine | None]]:
        """Start addresses and source lines of the line table's rows, sorted:
        row i covers [starts[i], starts[i + 1]). The table names the innermost
        source of each instruction, so code inlined from another file counts
        as that file's."""
        rows: list[tuple[int, SourceLine | None]] = []
        with self.elf.open("rb") as handle:
            dwarf = ELFFile(handle).get_dwarf_info()
            for unit in dwarf.iter_CUs():
                program = dwarf.line_program_for_CU(unit)
                if program is None:
                    continue
                files = program["file_entry"]
                dirs = program["include_directory"]
                base = 0 if program.header.version >= 5 else 1
                for entry in program.get_entries():
                    state = entry.state
                    if state is None:
                        continue
                    if state.end_sequence:
                        rows.append((state.address, None))
                        continue
                    file_entry = files[state.file - base]
                    directory = dirs[file_entry.dir_index - base] if (
                        file_entry.dir_index >= base) else b""
                    name = file_entry.name.decode()
                    if directory and not name.startswith("/"):
                        name = f"{directory.decode()}/{name}"
                    rows.append((state.address, SourceLine(_relative(name), state.line)))
        rows.sort(key=lambda row: row[0])
        return [address for address, _ in rows], [line for _, line in rows]

    def source_of(self, address: int) -> SourceLine | None:
        starts, lines = self._line_rows
        row = bisect.bisect_right(starts, address)
        return lines[row - 1] if row else None

    def rows_from(self, path: str) -> list[int]:
        """Start addresses of the line table's rows whose source is ``path``."""
        starts, lines = self._line_rows
        return [start for start, line in zip(starts, lines) if line is not None and line.path == path]

    def in_scope(self, address: int) -> bool:
        line = self.source_of(address)
        return line is not None and line.path.startswith(self.sources)

    @cached_property
    def scope_ranges(self) -> list[tuple[int, int]]:
        """[begin, end] address ranges (inclusive) whose instructions are in scope."""
        starts, lines = self._line_rows
        ranges: list[tuple[int, int]] = []
        for i, line in enumerate(lines):
            if line is None or not line.path.startswith(self.sources) or i + 1 == len(starts):
                continue
            begin, end = starts[i], starts[i + 1] - 1
            if end < begin:
                continue
            if ranges and ranges[-1][1] + 1 >= begin:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
            else:
                ranges.append((begin, end))
        return ranges


def _relative(name: str) -> str:
    path = Path(name)
    if path.is_absolute():
        try:
            return str(path.resolve().relative_to(ROOT))
        except ValueError:
            return name
    return name


@dataclass(frozen=True)
class RecordView:
    """The named fields of one copy of the persistent record (heg_fault_record_view_t)."""
    device_state: int
    policy_version: int
    license_active: int
    paused: int
    halted: int
    tampered: int
    license_sequence: int
    order_sequence: int
    allocation: int
    charged: int
    license_id: bytes

    FORMAT = "<6I2Q4Q16s"

    @classmethod
    def parse(cls, data: bytes) -> "RecordView":
        (state, version, active, paused, halted, tampered, lic_seq, order_seq, alloc_lo,
         alloc_hi, charged_lo, charged_hi, license_id) = struct.unpack(cls.FORMAT, data)
        return cls(state, version, active, paused, halted, tampered, lic_seq, order_seq,
                   alloc_lo | alloc_hi << 64, charged_lo | charged_hi << 64, license_id)


@dataclass(frozen=True)
class View:
    """What heg_fault_observe saw (heg_fault_view_t)."""
    durable_status: int
    gate: int
    pause: int
    status: int
    gate_cause: int
    limit: int
    accel_enable: int
    running: RecordView
    durable: RecordView
    running_record: bytes
    durable_record: bytes

    HEAD = "<12I"

    @classmethod
    def parse(cls, data: bytes) -> "View":
        head = struct.calcsize(cls.HEAD)
        record = struct.calcsize(RecordView.FORMAT)
        (layout, record_size, durable_status, gate, pause, status, gate_cause, l0, l1, l2, l3,
         accel_enable) = struct.unpack_from(cls.HEAD, data)
        if layout != VIEW_LAYOUT:
            raise HarnessError(f"view layout 0x{layout:08x}, expected 0x{VIEW_LAYOUT:08x}: "
                               "rebuild the image or update bench/fault/fault_harness.py")
        running = RecordView.parse(data[head:head + record])
        durable = RecordView.parse(data[head + record:head + 2 * record])
        records = head + 2 * record
        return cls(durable_status, gate, pause, status, gate_cause,
                   l0 | l1 << 32 | l2 << 64 | l3 << 96, accel_enable, running, durable,
                   data[records:records + record_size],
                   data[records + RECORD_CAP:records + RECORD_CAP + record_size])

    SIZE = struct.calcsize(HEAD) + 2 * struct.calcsize(RecordView.FORMAT) + 2 * RECORD_CAP


@dataclass(frozen=True)
class Snapshot:
    """The whole machine at one moment: CPU context and every writable region."""
    context: object
    memory: tuple[tuple[int, bytes], ...]


def host_verdict(signature: bytes, message: bytes, public_key: bytes) -> int:
    """libsodium's crypto_sign_ed25519_verify_detached verdict (0 or -1),
    through PyNaCl's libsodium (the same library and the same strict rules
    the firmware links; the golden run checks they agree)."""
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError,
            nacl.exceptions.TypeError):
        return -1
    return 0


class Machine:
    """One emulated harness (one device). Its VerifyStandIn is off until
    installed: setup requests run the real verification."""

    def __init__(self, facts: ImageFacts) -> None:
        self.facts = facts
        self.sym = facts.symbols
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        for name, (origin, length) in facts.regions.items():
            # Code is flash: a store there faults (as on the part), so no run
            # can leave the code changed for the next.
            self.uc.mem_map(origin, length, UC_PROT_READ | UC_PROT_EXEC if name == "FLASH"
                            else UC_PROT_ALL)
        for origin, length in CLOCK_REGISTER_PAGES:
            self.uc.mem_map(origin, length, UC_PROT_READ)
        # What a run can change: every writable region, whole (a wild store
        # beyond the firmware's data must not reach the next run either).
        self.writable = tuple(region for name, region in facts.regions.items()
                              if name != "FLASH")
        self.verify = VerifyStandIn(self)

    # -- running ----------------------------------------------------------------
    def run(self, begin: int, count: int = RUN_LIMIT) -> Stop | str:
        """Runs from begin for at most count instructions; returns the harness
        stop reached, or a string saying why the CPU stopped elsewhere (a
        crash; "stopped at ..." when the count ran out or a hook stopped it)."""
        if count <= 0:
            raise ValueError("count must be positive (see RUN_LIMIT)")
        try:
            self.uc.emu_start(begin | 1, 0xFFFF_FFFF, count=count)
        except UcError as error:
            pc = self.pc
            try:
                code = bytes(self.uc.mem_read(pc, 2))
            except UcError:
                return f"{error} at 0x{pc:08x}"
            if code[1] == THUMB_BKPT_HIGH_BYTE and code[0] in set(Stop):
                return Stop(code[0])
            return f"{error} at 0x{pc:08x}"
        return f"stopped at 0x{self.pc:08x}"

    @property
    def pc(self) -> int:
        return self.uc.reg_read(UC_ARM_REG_PC)

    def resume(self, expected: Stop, count: int = RUN_LIMIT) -> None:
        """Continues past the breakpoint the CPU stands on, to the next one."""
        reached = self.run(self.pc + 2, count)
        if reached is not expected:
            raise HarnessError(f"expected stop {expected.name}, got {reached}")

    def boot(self, storage: bytes | None = None) -> None:
        """Power-up: fresh RAM and hardware models, the storage as given
        (erased when None), from the reset vector to the first READY."""
        for name, (origin, length) in self.facts.regions.items():
            if name != "FLASH":
                self.uc.mem_write(origin, b"\0" * length)
        for address, blob, _ in self.facts.segments:
            if blob:
                self.uc.mem_write(address, blob)
        origin, length = self.facts.regions["STORAGE"]
        self.uc.mem_write(origin, storage if storage is not None else b"\xff" * length)
        sp, reset = struct.unpack("<II", bytes(self.uc.mem_read(0, 8)))
        self.uc.reg_write(UC_ARM_REG_SP, sp)
        reached = self.run(reset)
        if reached is not Stop.READY:
            raise HarnessError(f"boot did not reach READY: {reached}")
        status = self.read_u32("heg_fault_boot_status")
        if status != 0x739:
            raise HarnessError(f"heg_init failed: status 0x{status:04x}")
        # Registers as between two requests (no IT block pending, flags
        # clear): what heg_fault_observe starts from, whatever a run left.
        self._clean_context = self.uc.context_save()
        self._meter_model = self.read_u32("heg_fault_meter")

    def post(self, command: int, payload: bytes = b"", request_id: int = 0x4655) -> None:
        """Writes a request into the mailbox (the CPU stands at READY)."""
        request = wire.RequestFormat.build(
            {"command": command, "request_id": request_id, "payload": payload})
        if len(request) > wire.MAX_MESSAGE_SIZE:
            raise HarnessError(f"request of {len(request)} bytes does not fit the mailbox")
        self.uc.mem_write(self.sym["heg_fault_request"], request)
        self.write_u32("heg_fault_request_len", len(request))

    def response(self) -> bytes:
        length = self.read_u32("heg_fault_response_len")
        return bytes(self.uc.mem_read(self.sym["heg_fault_response"],
                                      min(length, wire.MAX_MESSAGE_SIZE)))

    def request(self, command: int, payload: bytes = b"") -> wire.Container:
        """One whole request: post, dispatch, parsed response; back at READY."""
        self.post(command, payload)
        self.resume(Stop.DISPATCHED)
        response = wire.ResponseFormat.parse(self.response())
        self.resume(Stop.READY)
        return response

    def observe(self, durable: bool) -> View:
        """Runs heg_fault_observe on a fresh stack, whatever state the CPU is
        in, and returns what it saw. Leaves the CPU at OBSERVED."""
        self.write_u32("heg_fault_observe_durable", 1 if durable else 0)
        # The observer's own pointer to the meter model, which a faulted run
        # may have overwritten with the rest of RAM.
        self.write_u32("heg_fault_meter", self._meter_model)
        self.uc.context_restore(self._clean_context)
        self.uc.reg_write(UC_ARM_REG_SP, self.sym["__stack_top"])
        reached = self.run(self.sym["heg_fault_observe"])
        if reached is not Stop.OBSERVED:
            raise HarnessError(f"heg_fault_observe did not finish: {reached}")
        return View.parse(bytes(self.uc.mem_read(self.sym["heg_fault_view"], View.SIZE)))

    # -- hooks ------------------------------------------------------------------
    # unicorn decides at translation whether an instruction calls the code
    # hooks: code translated before a hook was added would run past it, so
    # every change of hooks drops the translations of the addresses it covers.
    def add_hook(self, callback, begin: int = 1, end: int = 0) -> object:
        handle = self.uc.hook_add(UC_HOOK_CODE, callback, begin=begin, end=end)
        self._forget_translations(begin, end)
        return handle

    def del_hook(self, handle: object, begin: int = 1, end: int = 0) -> None:
        self.uc.hook_del(handle)
        self._forget_translations(begin, end)

    def _forget_translations(self, begin: int, end: int) -> None:
        if begin > end:
            self.uc.ctl_flush_tb()
        else:
            self.uc.ctl_remove_cache(begin, end + 1)

    # -- state ------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        return Snapshot(self.uc.context_save(), tuple(
            (origin, bytes(self.uc.mem_read(origin, length))) for origin, length in self.writable))

    def restore(self, snap: Snapshot) -> None:
        self.uc.context_restore(snap.context)
        for origin, blob in snap.memory:
            self.uc.mem_write(origin, blob)

    def storage(self) -> bytes:
        origin, length = self.facts.regions["STORAGE"]
        return bytes(self.uc.mem_read(origin, length))

    def read_u32(self, name: str) -> int:
        return struct.unpack("<I", bytes(self.uc.mem_read(self.sym[name], 4)))[0]

    def write_u32(self, name: str, value: int) -> None:
        self.uc.mem_write(self.sym[name], struct.pack("<I", value))


class VerifyStandIn:
    """Signature verification in faulted runs. At the entry of libsodium's
    crypto_sign_ed25519_verify_detached it returns, without running the
    function's 1.3 million instructions, the verdict the real function gave
    on the same bytes in the golden run (bytes a fault changed get
    host_verdict's, libsodium's too, counted in ``host_verdicts``). The crypto
    port's handling of the verdict runs as usual. While ``recording`` (the
    golden run), the real function runs and each verdict it returns is kept,
    after checking host_verdict agrees with it."""

    def __init__(self, machine: "Machine") -> None:
        self.machine = machine
        self.verdicts: dict[tuple[bytes, bytes, bytes], int] = {}
        self.host_verdicts = 0
        self.recording = False
        self.real_calls = 0
        self._hook = None
        self._return_hook = None
        self._pending: tuple[tuple[bytes, bytes, bytes], int] | None = None

    def install(self) -> None:
        if self._hook is None:
            entry = self.machine.sym[VERIFY_SYMBOL] & ~1
            self._hook = self.machine.add_hook(self._on_entry, entry, entry)

    def _arguments(self, uc) -> tuple[bytes, bytes, bytes] | None:
        """(signature, message, public key) as the AAPCS passes them (the
        64-bit length in r2:r3, the key pointer on the stack), or None when
        they cannot be read: then the real function meets them."""
        length = uc.reg_read(UC_ARM_REG_R2) | uc.reg_read(UC_ARM_REG_R3) << 32
        if length > wire.MAX_MESSAGE_SIZE:
            return None
        try:
            (pk_ptr,) = struct.unpack("<I", bytes(uc.mem_read(uc.reg_read(UC_ARM_REG_SP), 4)))
            return (bytes(uc.mem_read(uc.reg_read(UC_ARM_REG_R0), 64)),
                    bytes(uc.mem_read(uc.reg_read(UC_ARM_REG_R1), length)),
                    bytes(uc.mem_read(pk_ptr, 32)))
        except UcError:
            return None

    def _on_entry(self, uc, _address, _size, _data) -> None:
        arguments = self._arguments(uc)
        if arguments is None:
            return
        if self.recording:
            self._pending = (arguments, host_verdict(*arguments))
            back = uc.reg_read(UC_ARM_REG_LR) & ~1
            self._return_hook = (self.machine.add_hook(self._on_return, back, back), back)
            return
        verdict = self.verdicts.get(arguments)
        if verdict is None:
            self.host_verdicts += 1
            verdict = host_verdict(*arguments)
        uc.reg_write(UC_ARM_REG_R0, verdict & 0xFFFF_FFFF)
        uc.reg_write(UC_ARM_REG_PC, uc.reg_read(UC_ARM_REG_LR) | 1)

    def _on_return(self, uc, _address, _size, _data) -> None:
        (verdict,) = struct.unpack("<i", struct.pack("<I", uc.reg_read(UC_ARM_REG_R0)))
        arguments, expected = self._pending
        handle, back = self._return_hook
        self.machine.del_hook(handle, back, back)
        self._return_hook, self._pending = None, None
        if verdict != expected:
            raise HarnessError(f"libsodium on the Cortex-M4 said {verdict}, PyNaCl {expected}: "
                               "the stand-in would not give the real verdicts")
        self.verdicts[arguments] = verdict
        self.real_calls += 1
