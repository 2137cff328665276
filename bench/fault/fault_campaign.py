"""The fault campaign: a golden run of one scenario's request on the harness,
then one run per fault, each classified by what the device would act on.

Fault models (one fault per run, at one dynamic instance of an instruction
the golden run executed in the firmware's own code, see harness.FIRMWARE_SOURCES):

* skip: the instruction does not execute (a NOP of its size takes its place
  for that one execution);
* flip: a conditional branch takes the other way (B<cond>, CBZ/CBNZ), or the
  instructions an IT makes conditional run on the inverted condition.

Both are applied the same way: the run stops before the instance (the
instance's own instruction, or the IT of the block it is in: unicorn neither
stops nor redirects inside an IT block), the faulted encoding replaces the
instruction's bytes for exactly one step (a step from an IT runs its whole
block), the original bytes come back, and the run goes on to the end.
"""

from __future__ import annotations

import struct
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property
from typing import Callable

from capstone import CS_ARCH_ARM, CS_MODE_MCLASS, CS_MODE_THUMB, Cs
from capstone.arm import (ARM_CC_AL, ARM_CC_INVALID, ARM_INS_B, ARM_INS_CBNZ, ARM_INS_CBZ,
                          ARM_INS_IT)
from construct import ConstructError
from openheg import wire
from openheg.errors import DeviceStatus

from fault_harness import HFALSE, HTRUE, HarnessError, ImageFacts, Machine, Snapshot, Stop, View
from fault_scenarios import Scenario, prepare

MODELS = ("skip", "flip")
# A faulted run that has not answered after this many instructions is hung
# (the golden runs take a few thousand with the verification stood in; a
# commit of the record a few hundred thousand).
HANG_INSTRUCTIONS = 3_000_000
NOP_16 = struct.pack("<H", 0xBF00)
NOP_32 = struct.pack("<HH", 0xF3AF, 0x8000)
GATE_OPEN, PAUSE_HELD = 0x6, 0x6

_DISASSEMBLER = Cs(CS_ARCH_ARM, CS_MODE_THUMB | CS_MODE_MCLASS)
_DISASSEMBLER.detail = True


class Category(Enum):
    """What became of a faulted run, worst first (a run counts once, in the
    first category that fits)."""
    GRANTED = "granted"    # the record took effect: see Outcome.effects
    CRASHED = "crashed"    # CPU fault, or no answer within HANG_INSTRUCTIONS
    DETECTED = "detected"  # refused with FAULT_DETECTED
    CHANGED = "changed"    # refused, but the record or the storage changed
    REFUSED = "refused"    # refused (any other answer), nothing changed


@dataclass(frozen=True)
class Executed:
    """One instruction the golden run executed in scope."""
    address: int
    size: int
    code: bytes
    it_address: int | None  # the IT whose block it is in, if any
    it_occurrence: int      # ... and which execution of that IT (1-based)
    occurrence: int         # which execution of this address (1-based)


@dataclass(frozen=True)
class Fault:
    model: str
    index: int          # position of the instance in the golden trace
    address: int        # the instruction faulted (for flip of an IT: the IT)
    apply_at: int       # where the run stops to apply it
    occurrence: int     # which execution of apply_at
    patch_address: int
    patch: bytes


@dataclass(frozen=True)
class Outcome:
    category: Category
    effects: tuple[str, ...] = ()
    status: int | None = None
    detail: str = ""


def disassemble(code: bytes, address: int):
    """The Thumb instruction at the start of code (capstone), or None."""
    return next(_DISASSEMBLER.disasm(code, address, 1), None)


def it_block_length(hw: int) -> int:
    """Instructions an IT (encoding 0xBFxy, mask y != 0) makes conditional:
    4 minus the position of the mask's lowest set bit."""
    mask = hw & 0xF
    return 4 - ((mask & -mask).bit_length() - 1)


def thumb_size(code: bytes) -> int:
    """2 or 4: a halfword whose top five bits are 0b11101, 0b11110 or 0b11111
    starts a 32-bit instruction (ARMv7-M ARM, A5.1)."""
    (hw,) = struct.unpack_from("<H", code)
    return 4 if hw >> 11 in (0b11101, 0b11110, 0b11111) else 2


def flipped(code: bytes, address: int) -> bytes | None:
    """The encoding of the same conditional instruction with its condition
    inverted, or None when the instruction is not a conditional branch."""
    insn = disassemble(code, address)
    if insn is None:
        return None
    (hw,) = struct.unpack_from("<H", code)
    if insn.id == ARM_INS_IT:
        firstcond = (hw >> 4) & 0xF
        if firstcond >> 1 == 0b111:
            return None  # IT AL: nothing conditional to invert
        lowest = (hw & 0xF) & -(hw & 0xF)
        # firstcond[0] decides the first instruction, the mask bits above the
        # lowest set one each later instruction: inverting all of them
        # inverts the condition of the whole block.
        above = 0xF & ~((lowest << 1) - 1)
        return struct.pack("<H", hw ^ (1 << 4) ^ above)
    if insn.id in (ARM_INS_CBZ, ARM_INS_CBNZ):
        return struct.pack("<H", hw ^ (1 << 11))  # the op bit: CBZ <-> CBNZ
    if insn.id == ARM_INS_B and insn.cc not in (ARM_CC_AL, ARM_CC_INVALID):
        if insn.size == 2:
            return struct.pack("<H", hw ^ (1 << 8))  # B T1: cond in bits 11:8
        return struct.pack("<H", hw ^ (1 << 6)) + code[2:4]  # B T3: cond in 9:6
    return None


class Golden:
    """One scenario's request from its snapshot: the real run (the real
    verification, verdicts recorded) and, when faults are asked for, the
    trace of the same run with the verification stood in, which the faulted
    runs follow."""

    def __init__(self, machine: Machine, snapshot: Snapshot) -> None:
        self.machine = machine
        self.snapshot = snapshot
        self._stored: dict[bytes, View] = {}
        self.after: View | None = None
        machine.restore(snapshot)
        self.before = self._observe()

        machine.restore(snapshot)
        machine.verify.install()
        machine.verify.recording = True
        machine.resume(Stop.DISPATCHED)
        machine.verify.recording = False
        self.real_response = machine.response()
        self.outcome = self.classify(completed=True)
        self.after_storage = machine.storage()
        self.after = self._observe()

    @property
    def trace(self) -> list[Executed]:
        return self._traced[0]

    @property
    def total_instructions(self) -> int:
        return self._traced[1]

    @cached_property
    def _traced(self) -> tuple[list[Executed], int]:
        """The in-scope instructions of the run with the verification stood
        in, and the count of all it executed. Every instruction is traced
        (in Python: a few thousand for a refused record), so that an IT block
        is known whatever the source of its IT."""
        machine = self.machine
        raw: list[tuple[int, int]] = []
        handle = machine.add_hook(lambda _uc, a, s, _d: raw.append((a, s)))
        try:
            machine.restore(self.snapshot)
            machine.resume(Stop.DISPATCHED)
        finally:
            machine.del_hook(handle)
        seen: Counter[int] = Counter()
        trace: list[Executed] = []
        block: set[int] = set()
        block_it: tuple[int, int] = (0, 0)
        for address, size in raw:
            seen[address] += 1
            code = bytes(machine.uc.mem_read(address, size))
            if address not in block:
                block = set()
            inside = address in block
            if machine.facts.in_scope(address):
                trace.append(Executed(address, size, code, block_it[0] if inside else None,
                                      block_it[1] if inside else 0, seen[address]))
            insn = disassemble(code, address)
            if insn is not None and insn.id == ARM_INS_IT:
                block, block_it = self._it_block(address, code), (address, seen[address])
        if machine.response() != self.real_response:
            raise HarnessError("the run with the verification stood in answered differently "
                               "from the real one")
        return trace, len(raw)

    def _it_block(self, address: int, code: bytes) -> set[int]:
        """The addresses of the instructions an IT at address makes conditional."""
        (hw,) = struct.unpack_from("<H", code)
        addresses, at = set(), address + 2
        for _ in range(it_block_length(hw)):
            addresses.add(at)
            at += thumb_size(bytes(self.machine.uc.mem_read(at, 2)))
        return addresses

    # -- the fault space -----------------------------------------------------------
    def faults(self, model: str) -> list[Fault]:
        out = []
        for index, executed in enumerate(self.trace):
            fault = self._fault(model, index, executed)
            if fault is not None:
                out.append(fault)
        return out

    def _fault(self, model: str, index: int, executed: Executed) -> Fault | None:
        if model == "skip":
            patch = NOP_16 if executed.size == 2 else NOP_32
            if executed.it_address is not None:
                return Fault(model, index, executed.address, executed.it_address,
                             executed.it_occurrence, executed.address, patch)
            return Fault(model, index, executed.address, executed.address, executed.occurrence,
                         executed.address, patch)
        if model == "flip":
            if executed.it_address is not None:
                return None  # its IT is the conditional one (flipped on its own)
            patch = flipped(executed.code, executed.address)
            if patch is None:
                return None
            return Fault(model, index, executed.address, executed.address, executed.occurrence,
                         executed.address, patch)
        raise ValueError(f"unknown fault model {model!r} (one of {', '.join(MODELS)})")

    # -- one faulted run -----------------------------------------------------------
    def run(self, fault: Fault) -> Outcome:
        machine = self.machine
        machine.restore(self.snapshot)
        if not self._run_to(fault.apply_at, fault.occurrence):
            raise HarnessError(f"{fault}: the run never reached the fault's instruction "
                               "(the harness is not deterministic?)")
        original = bytes(machine.uc.mem_read(fault.patch_address, len(fault.patch)))
        machine.uc.mem_write(fault.patch_address, fault.patch)
        machine.uc.ctl_remove_cache(fault.patch_address, fault.patch_address + len(fault.patch))
        try:
            reached = machine.run(fault.apply_at, count=1)
        finally:
            machine.uc.mem_write(fault.patch_address, original)
            machine.uc.ctl_remove_cache(fault.patch_address,
                                        fault.patch_address + len(original))
        if isinstance(reached, str) and reached.startswith("stopped"):
            reached = machine.run(machine.pc, count=HANG_INSTRUCTIONS)
        if reached is Stop.DISPATCHED:
            return self.classify(completed=True)
        why = ("hung" if isinstance(reached, str) and reached.startswith("stopped")
               else f"crashed: {reached if isinstance(reached, str) else reached.name}")
        return self.classify(completed=False, detail=why)

    def _run_to(self, address: int, occurrence: int) -> bool:
        """Runs from the snapshot until address is about to execute for the
        occurrence-th time; False if the request was answered first."""
        machine = self.machine
        seen = [0]

        def count(uc, _a, _s, _d):
            seen[0] += 1
            if seen[0] == occurrence:
                uc.emu_stop()

        handle = machine.add_hook(count, address, address)
        try:
            reached = machine.run(machine.pc + 2)
        finally:
            machine.del_hook(handle, address, address)
        return seen[0] == occurrence and reached not in set(Stop) and machine.pc == address

    # -- classification --------------------------------------------------------------
    def classify(self, completed: bool, detail: str = "") -> Outcome:
        """A run's outcome. Grants are what took effect against the state
        before the request; changes are differences from the state the
        golden run's refusal left (which may itself, by the firmware's rules,
        differ from the one before: an attempt counter, say)."""
        machine = self.machine
        status = None
        if completed:
            try:
                status = wire.ResponseFormat.parse(machine.response()).status
            except ConstructError:  # a faulted run may leave any bytes: no answer
                status = None
        after = self._observe()
        effects = grant_effects(self.before, after, completed)
        if effects:
            return Outcome(Category.GRANTED, effects, status, detail)
        if not completed:
            return Outcome(Category.CRASHED, (), None, detail)
        if status == DeviceStatus.FAULT_DETECTED:
            return Outcome(Category.DETECTED, (), status)
        if self.after is None:  # the golden run itself
            return Outcome(Category.REFUSED, (), status)
        changes = state_changes(self.after, after, completed,
                                machine.storage() != self.after_storage)
        if changes:
            return Outcome(Category.CHANGED, changes, status)
        return Outcome(Category.REFUSED, (), status)

    def _observe(self) -> View:
        """heg_fault_observe's view; the stored record is loaded only for
        storage bytes not seen before (most runs leave them as the golden
        run did)."""
        storage = self.machine.storage()
        known = self._stored.get(storage)
        view = self.machine.observe(durable=known is None)
        if known is None:
            self._stored[storage] = view
            return view
        return replace(view, durable_status=known.durable_status, durable=known.durable,
                       durable_record=known.durable_record)


def grant_effects(before: View, after: View, completed: bool) -> tuple[str, ...]:
    """What of the record took effect: each effect gives compute or lifts a
    restriction. The running context counts only when the request was
    answered (a crashed CPU acts on nothing until it boots again, from the
    storage); the stored record only when it can be read."""
    copies = []
    if completed:
        copies.append(("running", before.running, after.running))
    if after.durable_status == 0x739:
        copies.append(("stored", before.durable, after.durable))
    found: list[str] = []
    for where, old, new in copies:
        if new.device_state != wire.DeviceState.PROVISIONED:
            # A record no longer provisioned grants nothing through its
            # fields: the fault destroyed the store, so the firmware stops
            # (a rollback that cannot load) and boots into RECOVERY_REQUIRED
            # (G13). It counts as changed; the meter's effects still count.
            continue
        if new.license_active == HTRUE and old.license_active != HTRUE:
            found.append(f"license put in force ({where})")
        if (old.license_sequence, old.license_id) != (new.license_sequence, new.license_id):
            found.append(f"license replaced ({where})")
        if new.allocation > old.allocation:
            found.append(f"allocation raised ({where})")
        if new.charged > old.charged:
            found.append(f"allowance charged ({where})")
        if old.order_sequence != new.order_sequence:
            found.append(f"order floor moved ({where})")
        if old.paused != HFALSE and new.paused == HFALSE:
            found.append(f"pause lifted ({where})")
        if old.halted != HFALSE and new.halted == HFALSE:
            found.append(f"halt lifted ({where})")
        if old.policy_version != new.policy_version:
            found.append(f"policy installed ({where})")
    if after.gate == GATE_OPEN and before.gate != GATE_OPEN:
        found.append("gate opened")
    if after.accel_enable and not before.accel_enable:
        found.append("accelerator enabled")
    if after.limit > before.limit:
        found.append("meter limit raised")
    if before.pause == PAUSE_HELD and after.pause != PAUSE_HELD:
        found.append("meter pause released")
    return tuple(found)


def state_changes(before: View, after: View, completed: bool,
                  storage_changed: bool) -> tuple[str, ...]:
    """Differences between two states that grant nothing (a faulted refusal
    should leave the device as the plain refusal does): counted apart from
    a clean refusal."""
    found = []
    if completed and after.running_record != before.running_record:
        found.append("running record changed")
    if after.durable_status != before.durable_status:
        found.append(f"stored record unreadable (status 0x{after.durable_status:04x})")
    elif after.durable_record != before.durable_record:
        found.append("stored record changed")
    elif storage_changed:
        found.append("storage rewritten")
    if (after.gate, after.pause, after.limit) != (before.gate, before.pause, before.limit):
        found.append("meter registers changed")
    return tuple(found)


@dataclass
class Tally:
    """Counts of one scenario under one fault model, and the granting runs."""
    runs: int = 0
    counts: Counter = field(default_factory=Counter)
    granting: list[tuple[Fault, Outcome]] = field(default_factory=list)

    def add(self, fault: Fault, outcome: Outcome) -> None:
        self.runs += 1
        self.counts[outcome.category] += 1
        if outcome.category is Category.GRANTED:
            self.granting.append((fault, outcome))


@dataclass
class ScenarioResult:
    scenario: Scenario
    golden: Outcome
    trace_length: int | None  # instructions of the golden run in scope (None: not traced)
    instructions: int | None  # all of them (the verification stood in)
    verify_calls: int       # real verifications in the golden run
    tallies: dict[str, Tally]
    host_verdicts: int      # verdicts faulted runs needed for bytes the golden run never verified
    seconds: float


def run_scenario(facts: ImageFacts, scenario: Scenario, models: tuple[str, ...] = MODELS,
                 sample: int = 1, keep: Callable[[Fault], bool] | None = None,
                 progress: Callable[[str], None] | None = None) -> ScenarioResult:
    """The scenario's golden run, then every ``sample``-th fault of each model
    (those ``keep`` accepts, when given), on a harness of its own."""
    started = time.monotonic()
    machine = Machine(facts)
    golden = Golden(machine, prepare(machine, scenario))
    tallies = {}
    for model in models:
        faults = [f for f in golden.faults(model)[::sample] if keep is None or keep(f)]
        tally = Tally()
        last = time.monotonic()
        for done, fault in enumerate(faults, 1):
            tally.add(fault, golden.run(fault))
            if progress is not None and (time.monotonic() - last > 2 or done == len(faults)):
                last = time.monotonic()
                progress(f"{scenario.name} {model}: {done}/{len(faults)} runs, "
                         f"{tally.counts[Category.GRANTED]} granted")
        tallies[model] = tally
    traced = bool(models)
    return ScenarioResult(scenario, golden.outcome, len(golden.trace) if traced else None,
                          golden.total_instructions if traced else None,
                          machine.verify.real_calls, tallies, machine.verify.host_verdicts,
                          time.monotonic() - started)
