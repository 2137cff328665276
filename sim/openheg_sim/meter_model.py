"""Cycle-faithful reference model of the openheg metering block (hdl/rtl/heg_meter.v).

One object is one block. Time advances by clock edges:

* ``step(events)`` is one clock edge that samples ``events`` (the op events of that
  cycle: a mapping lane index -> ops, or a sequence of per-lane ops).
* ``write(addr, value)`` / ``read(addr)`` happen *between* edges: a write performed by
  the bus at edge N is modelled as ``step(events_N)`` then ``write(...)``; a read whose
  data the bus samples at edge N is modelled as ``read(...)`` before ``step(events_N)``.
* ``enable`` is the accelerator enable output during the cycle that follows the last edge.

The same object scores the RTL in cocotb, and it is the "hardware" behind the firmware
emulator: ``read``/``write`` by register address, ``drive`` and ``run`` advance many
cycles at once with exactly the result that per-cycle stepping gives.

Enforcement latency is ``ENFORCEMENT_LATENCY_CYCLES`` (1): if the accumulator first
reaches the limit at edge N, ``enable`` is still high for the cycle after edge N and
is low from edge N+1.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from openheg import regmap

LANES: tuple[str, ...] = regmap.LANES
N_LANES = len(LANES)
WIDE_BITS = 128
WIDE_MAX = (1 << WIDE_BITS) - 1
WORD_MASK = 0xFFFF_FFFF
GATE_OPEN = regmap.GATE_ENABLE_OPEN
GATE_CLOSED = regmap.GATE_ENABLE_CLOSED
ENFORCEMENT_LATENCY_CYCLES = 1
DEFAULT_COUNT_BITS = 16

_WEIGHT_REGS = tuple(getattr(regmap, f"REG_WEIGHT_{name}") for name in LANES)
_LIMIT_REGS = tuple(getattr(regmap, f"REG_LIMIT_{i}") for i in range(4))
_ACC_SNAP_REGS = tuple(getattr(regmap, f"REG_ACC_SNAP_{i}") for i in range(4))
_COUNT_SNAP_REGS = tuple(
    tuple(getattr(regmap, f"REG_COUNT_SNAP_{name}_{i}") for i in range(4)) for name in LANES
)
MAPPED_ADDRESSES: frozenset[int] = frozenset(regmap.REGISTER_NAMES)


class BusError(Exception):
    """An access to an address the block does not map (the RTL answers SLVERR)."""

    def __init__(self, addr: int, op: str) -> None:
        super().__init__(f"{op} of unmapped meter address 0x{addr:03X} (SLVERR)")
        self.addr = addr


def _word(value: int, index: int) -> int:
    return (value >> (32 * index)) & WORD_MASK


def _merge(old: int, data: int, strb: int) -> int:
    mask = 0
    for byte in range(4):
        if strb >> byte & 1:
            mask |= 0xFF << (8 * byte)
    return (old & ~mask & WORD_MASK) | (data & mask)


class MeterModel:
    """Register-accurate, cycle-accurate model of heg_meter."""

    def __init__(self, count_bits: int = DEFAULT_COUNT_BITS) -> None:
        self.count_bits = count_bits
        self.count_max = (1 << count_bits) - 1
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        self.cycle = 0
        self.counts = [0] * N_LANES
        self.acc = 0
        self.count_snap = [0] * N_LANES
        self.acc_snap = 0
        self.saturated = False
        self.weights = [regmap.DEFAULT_WEIGHTS_MILLI[name] for name in LANES]
        self.gate_enable = regmap.GATE_ENABLE_RESET
        self.limit_stage = [0, 0, 0]
        self.limit = 0
        # Registered gate decision: code, causes and the fatal latch.
        self.gate_state = GATE_CLOSED
        self.exhausted = True
        self.disarmed = True
        self.fatal_latched = False

    # ---------------------------------------------------------- derived state
    @property
    def _any_cause(self) -> bool:
        return self.exhausted or self.disarmed or self.fatal_latched

    @property
    def _consistent(self) -> bool:
        if self.gate_state == GATE_OPEN:
            return not self._any_cause
        if self.gate_state == GATE_CLOSED:
            return self._any_cause
        return False

    @property
    def fatal(self) -> bool:
        """STATUS.fatal: latched, or an inconsistent gate state seen right now."""
        return self.fatal_latched or not self._consistent

    @property
    def enable(self) -> bool:
        """accel_enable_o for the cycle after the last edge."""
        return self.gate_state == GATE_OPEN and not self._any_cause

    @property
    def status(self) -> int:
        return (
            (regmap.STATUS_GATE_OPEN_MASK if self.enable else 0)
            | (regmap.STATUS_SATURATED_MASK if self.saturated else 0)
            | (regmap.STATUS_FATAL_MASK if self.fatal else 0)
        )

    @property
    def gate_cause(self) -> int:
        return (
            (regmap.GATE_CAUSE_EXHAUSTED_MASK if self.exhausted else 0)
            | (regmap.GATE_CAUSE_DISARMED_MASK if self.disarmed else 0)
            | (regmap.GATE_CAUSE_FATAL_MASK if self.fatal else 0)
        )

    # ------------------------------------------------------------- one edge
    def _lane_ops(self, events: Mapping[int, int] | Sequence[int] | None) -> list[int]:
        ops = [0] * N_LANES
        if events is None:
            return ops
        items = events.items() if isinstance(events, Mapping) else enumerate(events)
        for lane, n in items:
            if not 0 <= n <= self.count_max:
                raise ValueError(f"lane {lane}: {n} ops does not fit {self.count_bits} bits")
            ops[lane] = n
        return ops

    def _decide_gate(self) -> None:
        """Gate decision of one edge, from the registered values before it."""
        fatal_d = self.fatal
        exhausted_d = self.acc >= self.limit
        disarmed_d = self.gate_enable != GATE_OPEN
        opens = not (fatal_d or exhausted_d or disarmed_d)
        self.gate_state = GATE_OPEN if opens else GATE_CLOSED
        self.exhausted = exhausted_d
        self.disarmed = disarmed_d
        self.fatal_latched = fatal_d

    def step(self, events: Mapping[int, int] | Sequence[int] | None = None,
             snapshot: bool = False) -> None:
        """One clock edge sampling ``events``; ``snapshot`` is a CTRL write performed at it."""
        ops = self._lane_ops(events)
        self._decide_gate()
        charge = 0
        for lane, n in enumerate(ops):
            charge += n * self.weights[lane]
            c = min(self.counts[lane] + n, WIDE_MAX)
            self.counts[lane] = c
            if c == WIDE_MAX:
                self.saturated = True
        self.acc = min(self.acc + charge, WIDE_MAX)
        if self.acc == WIDE_MAX:
            self.saturated = True
        self.cycle += 1
        if snapshot:
            self._snapshot()

    def _snapshot(self) -> None:
        self.count_snap = list(self.counts)
        self.acc_snap = self.acc

    # -------------------------------------------------------- many edges
    def run(self, events: Mapping[int, int] | Sequence[int] | None, cycles: int) -> None:
        """``cycles`` edges with the same events each; same result as stepping."""
        if cycles <= 0:
            return
        ops = self._lane_ops(events)
        if cycles <= 2 or not self._consistent:
            for _ in range(cycles):
                self.step(ops)
            return
        # First edge by hand (its gate decision may use the state as it is now), then
        # the remaining cycles-1 edges in closed form.
        self.step(ops)
        k = cycles - 1
        charge = sum(n * w for n, w in zip(ops, self.weights))
        acc0 = self.acc
        # The last of the k edges decides the gate from the accumulator after k-1 of them.
        acc_before_last = min(acc0 + (k - 1) * charge, WIDE_MAX)
        for lane, n in enumerate(ops):
            c = min(self.counts[lane] + k * n, WIDE_MAX)
            self.counts[lane] = c
            if c == WIDE_MAX:
                self.saturated = True
        self.acc = min(acc0 + k * charge, WIDE_MAX)
        if self.acc == WIDE_MAX:
            self.saturated = True
        # Gate enable and the fatal latch do not change inside the run (state is
        # consistent after every edge), so only "exhausted" moves, and monotonically.
        self.exhausted = acc_before_last >= self.limit
        self.disarmed = self.gate_enable != GATE_OPEN
        opens = not (self.exhausted or self.disarmed or self.fatal_latched)
        self.gate_state = GATE_OPEN if opens else GATE_CLOSED
        self.cycle += k

    def drive(self, lane: int, total_ops: int, ops_per_cycle: int) -> int:
        """An accelerator on ``lane`` issuing up to ``ops_per_cycle`` ops in every cycle
        in which ``enable`` is high, until ``total_ops`` are issued or enable drops.

        Returns the ops issued (all of them are metered). Exactly equivalent to::

            while issued < total_ops and model.enable:
                n = min(ops_per_cycle, total_ops - issued); model.step({lane: n}); issued += n
        """
        if not 0 < ops_per_cycle <= self.count_max:
            raise ValueError(f"ops_per_cycle must be 1..{self.count_max}")
        issued = 0
        if total_ops <= 0 or not self.enable:
            return 0
        full_cycles, tail = divmod(total_ops, ops_per_cycle)
        charge = ops_per_cycle * self.weights[lane]
        # Cycle i (1-based) issues iff enable is high before it: always for i = 1, and
        # for i >= 2 iff the accumulator after i-2 cycles is below the limit (GATE.enable
        # and the fatal latch cannot change during the burst).
        if self.gate_enable != GATE_OPEN:
            below = 0  # disarmed since the last edge: closes at the next one
        elif charge == 0:
            below = full_cycles
        elif self.acc >= self.limit:
            below = 0
        else:
            below = -(-(self.limit - self.acc) // charge)  # ceil
        open_cycles = 1 + below
        n_full = min(full_cycles, open_cycles)
        if n_full > 0:
            # All but the last full cycle in closed form; enable stays high through them.
            self.run({lane: ops_per_cycle}, n_full - 1)
            self.step({lane: ops_per_cycle})
            issued = n_full * ops_per_cycle
        if tail and n_full == full_cycles and self.enable:
            self.step({lane: tail})
            issued += tail
        return issued

    def idle(self, cycles: int = 1) -> None:
        """``cycles`` edges with no ops."""
        self.run(None, cycles)

    # -------------------------------------------------------------- bus
    def read(self, addr: int) -> int:
        """The 32-bit value a bus read of ``addr`` returns; BusError if unmapped."""
        if addr not in MAPPED_ADDRESSES:
            raise BusError(addr, "read")
        if addr == regmap.REG_ID:
            return regmap.ID_MAGIC_RESET
        if addr == regmap.REG_VERSION:
            return regmap.VERSION_MAJOR_RESET << regmap.VERSION_MAJOR_SHIFT
        if addr == regmap.REG_CTRL:
            return 0
        if addr == regmap.REG_GATE:
            return self.gate_enable
        if addr == regmap.REG_STATUS:
            return self.status
        if addr == regmap.REG_GATE_CAUSE:
            return self.gate_cause
        if addr in _WEIGHT_REGS:
            return self.weights[_WEIGHT_REGS.index(addr)]
        if addr in _LIMIT_REGS:
            return _word(self.limit, _LIMIT_REGS.index(addr))
        if addr in _ACC_SNAP_REGS:
            return _word(self.acc_snap, _ACC_SNAP_REGS.index(addr))
        for lane, regs in enumerate(_COUNT_SNAP_REGS):
            if addr in regs:
                return _word(self.count_snap[lane], regs.index(addr))
        raise AssertionError(f"mapped address 0x{addr:03X} has no read model")

    def write(self, addr: int, value: int, strb: int = 0xF) -> None:
        """A bus write performed at the last edge; BusError if unmapped.

        Writes to read-only registers are accepted and change nothing (the RTL answers
        OKAY). A write to CTRL with snapshot set copies the counters as they stand after
        the last edge.
        """
        if addr not in MAPPED_ADDRESSES:
            raise BusError(addr, "write")
        value &= WORD_MASK
        if addr == regmap.REG_CTRL:
            if strb & 1 and value & regmap.CTRL_SNAPSHOT_MASK:
                self._snapshot()
        elif addr == regmap.REG_GATE:
            self.gate_enable = _merge(self.gate_enable, value, strb) & regmap.GATE_ENABLE_MASK
        elif addr in _WEIGHT_REGS:
            lane = _WEIGHT_REGS.index(addr)
            self.weights[lane] = _merge(self.weights[lane], value, strb)
        elif addr in _LIMIT_REGS[:3]:
            i = _LIMIT_REGS.index(addr)
            self.limit_stage[i] = _merge(self.limit_stage[i], value, strb)
        elif addr == _LIMIT_REGS[3]:
            top = _merge(_word(self.limit, 3), value, strb)
            self.limit = (
                (top << 96) | (self.limit_stage[2] << 64) | (self.limit_stage[1] << 32)
                | self.limit_stage[0]
            )

    # --------------------------------------------------------- convenience
    def clone(self) -> "MeterModel":
        """An independent copy (to predict without disturbing this block)."""
        return copy.deepcopy(self)

    def read_wide(self, base: int) -> int:
        """A 128-bit value from four consecutive words at ``base`` (no snapshot taken)."""
        return sum(self.read(base + 4 * i) << (32 * i) for i in range(4))

    def write_limit(self, limit: int) -> None:
        for i in range(4):
            self.write(_LIMIT_REGS[i], _word(limit, i))

    # ----------------------------------------------- fault injection (tests)
    def poke_count(self, lane: int, value: int) -> None:
        """Overwrite a lane counter, as a testbench deposit on the RTL register does."""
        self.counts[lane] = value & WIDE_MAX

    def poke_accumulator(self, value: int) -> None:
        self.acc = value & WIDE_MAX

    def poke_gate_state(self, code: int) -> None:
        """Overwrite the internal gate code (fault injection)."""
        self.gate_state = code & 0xF
