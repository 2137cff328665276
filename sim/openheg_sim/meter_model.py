"""Cycle-faithful reference model of the openheg metering block (hdl/rtl/heg_meter.v).

One object is one block. Time advances by clock edges:

* ``step(events)`` is one clock edge that samples ``events`` (the op events of that
  cycle: a mapping lane index -> ops, or a sequence of per-lane ops) and the tamper
  input level ``tamper_in`` (set it with ``set_tamper``; it is a level, like the pin).
* ``write(addr, value)`` / ``read(addr)`` happen *between* edges: a write performed by
  the bus at edge N is modelled as ``step(events_N)`` then ``write(...)``; a read whose
  data the bus samples at edge N is modelled as ``read(...)`` before ``step(events_N)``.
* ``enable`` is the accelerator enable output during the cycle that follows the last edge;
  ``irq`` is the interrupt output then.

The same object scores the RTL in cocotb, and it is the "hardware" behind the firmware
emulator: ``read``/``write`` by register address, ``drive`` and ``run`` advance many
cycles at once with exactly the result that per-cycle stepping gives.

Closed form. ``run`` is closed form for every feature: metering is a multiply, the
watchdog count a saturating add, the throttle phase ``(frac + k*num) mod den``, and
every gate cause except the throttle is monotone during a run (exhaustion, watchdog and
tamper only ever close), so the state after ``k`` edges follows from the state before
the last one. ``drive`` is closed form (it stops exactly at the edge where the
allowance or the watchdog closes the gate) except while a throttle below 100% is
programmed (``0 < num < den``) or a CHARGE_MAX is declared (the gate may then alternate
near the limit): then it steps cycle by cycle, which is exact but costs one Python step
per cycle; ``run`` steps too while a declared CHARGE_MAX puts the limit within reach.

Pipeline and enforcement (as heg_meter_core.v): edge N registers cycle N's ops and
their charge per lane (``pending_*``), edge N+1 sums the lanes (``stage_*``), edge N+2 adds
them into the counters and the accumulator register (``acc_reg``):
``METERING_LATENCY_EDGES`` (2). ``acc`` is the metered total after the last edge (the
register plus the charge in the pipeline). The gate decides from the accumulator after
the edge (``acc_reg + stage_charge``: every op through cycle N-2). Enforcement latency is
``ENFORCEMENT_LATENCY_CYCLES`` (1): the decision at edge N governs the cycle after it.
With ``CHARGE_MAX`` = H declared (nonzero) the gate opens for cycle N+1 only if the total
through cycle N-2 plus H for each of cycles N-1 and N the gate was open in, plus H, stays
within the limit, so the total never passes it; a cycle charging more than H latches
``overrate`` at the edge that sums it. An edge at which CHARGE_MAX has just changed closes
the gate (the RTL's in-flight allowance is registered from the value before it). With
H = 0 (reset) the gate closes at edge N+2 once the total through cycle N reaches the limit.
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
WDOG_MAX = 0xFFFF_FFFF
GATE_OPEN = regmap.GATE_ENABLE_OPEN
GATE_CLOSED = regmap.GATE_ENABLE_CLOSED
ENFORCEMENT_LATENCY_CYCLES = 1
METERING_LATENCY_EDGES = 2
DEFAULT_COUNT_BITS = 16

_WEIGHT_REGS = tuple(getattr(regmap, f"REG_WEIGHT_{name}") for name in LANES)
_LIMIT_REGS = tuple(getattr(regmap, f"REG_LIMIT_{i}") for i in range(4))
_LOWWATER_REGS = tuple(getattr(regmap, f"REG_LOWWATER_{i}") for i in range(4))
_CHARGE_MAX_REGS = tuple(getattr(regmap, f"REG_CHARGE_MAX_{i}") for i in range(2))
_ACC_SNAP_REGS = tuple(getattr(regmap, f"REG_ACC_SNAP_{i}") for i in range(4))
_COUNT_SNAP_REGS = tuple(
    tuple(getattr(regmap, f"REG_COUNT_SNAP_{name}_{i}") for i in range(4)) for name in LANES
)
_SAT_MASKS = tuple(getattr(regmap, f"SATURATION_{name}_MASK") for name in LANES) + (
    regmap.SATURATION_ACC_MASK,)
INTR_LOW_WATER = regmap.INTR_STATE_LOW_WATER_MASK
INTR_EXHAUSTED = regmap.INTR_STATE_EXHAUSTED_MASK
INTR_FAULT = regmap.INTR_STATE_FAULT_MASK
INTR_ALL = INTR_LOW_WATER | INTR_EXHAUSTED | INTR_FAULT
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


def _wide(stage: list[int], top: int) -> int:
    return (top << 96) | (stage[2] << 64) | (stage[1] << 32) | stage[0]


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
        self.acc_reg = 0
        # Complement shadow of the accumulator register (acc_n_q in the RTL).
        self.acc_n = WIDE_MAX
        # Pipeline stage 1: the last edge's ops per lane and their charge.
        self.pending_ops = [0] * N_LANES
        self.pending_charge = 0
        # Pipeline stage 2: the edge before's ops and their charge, summed over the lanes.
        self.stage_ops = [0] * N_LANES
        self.stage_charge = 0
        # Whether the gate was open in the cycle before the last edge, and CHARGE_MAX as
        # it stood then (the RTL registers its in-flight allowance from both).
        self.open_prev = False
        self.charge_max_seen = 0
        self.count_snap = [0] * N_LANES
        self.acc_snap = 0
        # Sticky saturation flags: one per lane, then the accumulator.
        self.sat = [False] * (N_LANES + 1)
        self.weights = [regmap.DEFAULT_WEIGHTS_MILLI[name] for name in LANES]
        self.gate_enable = regmap.GATE_ENABLE_RESET
        self.limit_stage = [0, 0, 0]
        self.limit = 0
        self.limit_n = WIDE_MAX
        self.lowwater_stage = [0, 0, 0]
        self.lowwater = 0
        self.charge_max_stage = 0
        self.charge_max = 0
        self.regwen = True
        self.locked_writes = 0
        self.pause = regmap.PAUSE_REQUEST_RESET
        self.wdog_arm = regmap.WDOG_CTRL_ARM_RESET
        self.wdog_period = regmap.WDOG_PERIOD_CYCLES_RESET
        self.wdog_window = regmap.WDOG_WINDOW_CYCLES_RESET
        self.wdog_count = 0
        self.wdog_count_before = 0  # count as it stood before the last edge
        self.wdog_early = False
        self.throttle = (regmap.THROTTLE_DEN_RESET << regmap.THROTTLE_DEN_SHIFT) | (
            regmap.THROTTLE_NUM_RESET << regmap.THROTTLE_NUM_SHIFT)
        self.throttle_frac = 0
        self.intr_state = ((regmap.INTR_STATE_LOW_WATER_RESET << regmap.INTR_STATE_LOW_WATER_SHIFT)
                           | (regmap.INTR_STATE_EXHAUSTED_RESET << regmap.INTR_STATE_EXHAUSTED_SHIFT)
                           | (regmap.INTR_STATE_FAULT_RESET << regmap.INTR_STATE_FAULT_SHIFT))
        self.intr_enable = 0
        self.intr_set_last = 0
        self.tamper_in = False
        # Registered gate decision: code, causes and the fatal latch.
        self.gate_state = GATE_CLOSED
        self.exhausted = True
        self.disarmed = True
        self.paused = False
        self.watchdog = False
        self.tamper = False
        self.throttled = False
        self.fatal_latched = False
        self.overrate = False

    # ---------------------------------------------------------- derived state
    @property
    def acc(self) -> int:
        """The metered total after the last edge: every op up to the last cycle."""
        return min(self.acc_reg + self.stage_charge + self.pending_charge, WIDE_MAX)

    @property
    def acc_next(self) -> int:
        """The accumulator the next edge writes (unsaturated): every op through the cycle
        before the last edge; what the gate decides from."""
        return self.acc_reg + self.stage_charge

    @property
    def saturated(self) -> bool:
        return any(self.sat)

    @property
    def wdog_armed(self) -> bool:
        return self.wdog_arm != regmap.WDOG_CTRL_ARM_DISARMED

    @property
    def throttle_num(self) -> int:
        return (self.throttle & regmap.THROTTLE_NUM_MASK) >> regmap.THROTTLE_NUM_SHIFT

    @property
    def throttle_den(self) -> int:
        return (self.throttle & regmap.THROTTLE_DEN_MASK) >> regmap.THROTTLE_DEN_SHIFT

    @property
    def throttle_active(self) -> bool:
        """A duty cycle strictly between 0% and 100% is programmed."""
        return 0 < self.throttle_num < self.throttle_den

    @property
    def _any_cause(self) -> bool:
        return (self.exhausted or self.disarmed or self.paused or self.watchdog
                or self.tamper or self.throttled or self.fatal_latched or self.overrate)

    @property
    def _consistent(self) -> bool:
        if self.gate_state == GATE_OPEN:
            return not self._any_cause
        if self.gate_state == GATE_CLOSED:
            return self._any_cause
        return False

    @property
    def _shadows_ok(self) -> bool:
        return (self.acc_n == ~self.acc_reg & WIDE_MAX and self.limit_n == ~self.limit & WIDE_MAX
                and (self.acc_reg >= self.limit) == (self.acc_n <= self.limit_n))

    @property
    def fatal(self) -> bool:
        """STATUS.fatal: latched, or an inconsistent gate state or shadow seen right now."""
        return self.fatal_latched or not self._consistent or not self._shadows_ok

    @property
    def enable(self) -> bool:
        """accel_enable_o for the cycle after the last edge."""
        return self.gate_state == GATE_OPEN and not self._any_cause

    @property
    def irq(self) -> bool:
        """irq_o for the cycle after the last edge."""
        return bool(self.intr_state & self.intr_enable)

    @property
    def low_water(self) -> bool:
        """The low-water condition on the registered accumulator and limit."""
        return self.acc_reg >= self.limit or (self.limit - self.acc_reg) <= self.lowwater

    @property
    def status(self) -> int:
        return (
            (regmap.STATUS_GATE_OPEN_MASK if self.enable else 0)
            | (regmap.STATUS_SATURATED_MASK if self.saturated else 0)
            | (regmap.STATUS_FATAL_MASK if self.fatal else 0)
            | (regmap.STATUS_WDOG_ARMED_MASK if self.wdog_armed else 0)
            | (0 if self.regwen else regmap.STATUS_CFG_LOCKED_MASK)
        )

    @property
    def gate_cause(self) -> int:
        return (
            (regmap.GATE_CAUSE_EXHAUSTED_MASK if self.exhausted else 0)
            | (regmap.GATE_CAUSE_DISARMED_MASK if self.disarmed else 0)
            | (regmap.GATE_CAUSE_FATAL_MASK if self.fatal else 0)
            | (regmap.GATE_CAUSE_PAUSED_MASK if self.paused else 0)
            | (regmap.GATE_CAUSE_WATCHDOG_MASK if self.watchdog else 0)
            | (regmap.GATE_CAUSE_TAMPER_MASK if self.tamper else 0)
            | (regmap.GATE_CAUSE_THROTTLED_MASK if self.throttled else 0)
            | (regmap.GATE_CAUSE_OVERRATE_MASK if self.overrate else 0)
        )

    @property
    def saturation(self) -> int:
        return sum(mask for mask, flag in zip(_SAT_MASKS, self.sat) if flag)

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

    def _throttle_next(self, frac: int) -> tuple[bool, int]:
        """(open decision, next fraction) of heg_throttle at one edge."""
        num, den = self.throttle_num, self.throttle_den
        if den == 0:
            return False, 0
        if num >= den:
            return True, 0
        s = frac + num
        return (True, s - den) if s >= den else (False, s)

    @property
    def charge_declared(self) -> bool:
        """CHARGE_MAX holds a declared per-cycle bound (nonzero)."""
        return self.charge_max != 0

    def _exhausted_ahead(self) -> bool:
        """The next cycle could take the metered total past the limit (see the docstring)."""
        if self.charge_max != self.charge_max_seen:
            return True
        if not self.charge_declared:
            return self.acc_next >= self.limit
        in_flight = self.charge_max * (1 + self.open_prev + self.enable)
        return self.acc_next + in_flight > self.limit

    def _decide_gate(self) -> None:
        """Gate decision and interrupt set events of one edge, from the registered values
        before it (and the tamper input sampled at it)."""
        fatal_d = self.fatal
        exhausted_d = (self.acc_reg >= self.limit or self.acc_n <= self.limit_n
                       or self._exhausted_ahead())
        overrate_d = self.overrate or (self.charge_declared
                                       and self.stage_charge > self.charge_max)
        low = self.low_water
        trip = (self.wdog_armed and self.wdog_count >= self.wdog_period) or self.wdog_early
        watchdog_d = self.watchdog or trip
        tamper_d = self.tamper or self.tamper_in
        throttle_open, self.throttle_frac = self._throttle_next(self.throttle_frac)
        self.open_prev = self.enable
        self.charge_max_seen = self.charge_max
        self.exhausted = exhausted_d
        self.disarmed = self.gate_enable != GATE_OPEN
        self.paused = self.pause != regmap.PAUSE_REQUEST_RUN
        self.watchdog = watchdog_d
        self.tamper = tamper_d
        self.throttled = not throttle_open
        self.fatal_latched = fatal_d
        self.overrate = overrate_d
        opens = not (fatal_d or self.exhausted or self.disarmed or self.paused or watchdog_d
                     or tamper_d or self.throttled or overrate_d)
        self.gate_state = GATE_OPEN if opens else GATE_CLOSED
        self.intr_set_last = ((INTR_LOW_WATER if low else 0)
                              | (INTR_EXHAUSTED if exhausted_d else 0)
                              | (INTR_FAULT if (watchdog_d or tamper_d or fatal_d or overrate_d)
                                 else 0))
        self.intr_state |= self.intr_set_last
        # Watchdog counter; an early kick trips at the edge after it.
        self.wdog_early = False
        self.wdog_count_before = self.wdog_count
        self.wdog_count = min(self.wdog_count + 1, WDOG_MAX) if self.wdog_armed else 0

    def step(self, events: Mapping[int, int] | Sequence[int] | None = None,
             snapshot: bool = False) -> None:
        """One clock edge sampling ``events``; ``snapshot`` is a CTRL write performed at it."""
        ops = self._lane_ops(events)
        self._decide_gate()
        for lane, n in enumerate(self.stage_ops):
            c = min(self.counts[lane] + n, WIDE_MAX)
            self.counts[lane] = c
            if c == WIDE_MAX:
                self.sat[lane] = True
        self.acc_reg = min(self.acc_next, WIDE_MAX)
        self.acc_n = ~self.acc_reg & WIDE_MAX
        if self.acc_reg == WIDE_MAX:
            self.sat[N_LANES] = True
        self.stage_ops = self.pending_ops
        self.stage_charge = self.pending_charge
        self.pending_ops = ops
        self.pending_charge = sum(n * w for n, w in zip(ops, self.weights))
        self.cycle += 1
        if snapshot:
            self._snapshot()

    def _snapshot(self) -> None:
        """Every counter and the metered total through the cycle of the snapshot's edge
        (the RTL completes the copy two edges later and holds reads back until then)."""
        self.count_snap = [min(c + s + n, WIDE_MAX)
                           for c, s, n in zip(self.counts, self.stage_ops, self.pending_ops)]
        self.acc_snap = self.acc

    def set_tamper(self, level: bool) -> None:
        """Drive the tamper input (a level, sampled at every following edge)."""
        self.tamper_in = bool(level)

    # -------------------------------------------------------- many edges
    @property
    def _quiet(self) -> bool:
        """No one-shot event pending: the closed forms apply from here."""
        return self._consistent and self._shadows_ok and not self.wdog_early

    def run(self, events: Mapping[int, int] | Sequence[int] | None, cycles: int) -> None:
        """``cycles`` edges with the same events each; same result as stepping."""
        if cycles <= 0:
            return
        ops = self._lane_ops(events)
        charge = sum(n * w for n, w in zip(ops, self.weights))
        if cycles <= 4 or not self._quiet or self._headroom_in_reach(cycles, charge):
            for _ in range(cycles):
                self.step(ops)
            return
        # Two edges by hand (their decisions may use a state a write just changed, and they
        # fill both pipeline stages with ``ops``), then all but the last two edges in closed
        # form: each adds ``ops`` to the counters and ``charge`` to the accumulator, and
        # advances the watchdog count and the throttle phase. GATE, PAUSE, weights, limit,
        # tamper input and the fatal latch are constant inside the run; exhaustion,
        # overrate and the watchdog only close, so the decision of the second-to-last edge
        # follows from the state before it, and the last edge is stepped exactly.
        self.step(ops)
        self.step(ops)
        k = cycles - 4
        for lane, n in enumerate(ops):
            c = min(self.counts[lane] + k * n, WIDE_MAX)
            self.counts[lane] = c
            if c == WIDE_MAX:
                self.sat[lane] = True
        self.acc_reg = min(self.acc_reg + k * charge, WIDE_MAX)
        self.acc_n = ~self.acc_reg & WIDE_MAX
        if self.acc_reg == WIDE_MAX:
            self.sat[N_LANES] = True
        if self.wdog_armed:
            self.wdog_count = min(self.wdog_count + k, WDOG_MAX)
        num, den = self.throttle_num, self.throttle_den
        if 0 < num < den:
            self.throttle_frac = (self.throttle_frac + k * num) % den
        self.cycle += k
        self.step(ops)
        self.step(ops)

    def _headroom_in_reach(self, cycles: int, charge: int) -> bool:
        """A declared CHARGE_MAX could close the gate for some cycle of a run of ``cycles``
        edges (the gate then alternates near the limit, so the run is stepped)."""
        if not self.charge_declared:
            return False
        most = max(charge, self.pending_charge, self.stage_charge)
        last = min(self.acc + (cycles + 1) * most, WIDE_MAX)
        return last + 3 * self.charge_max > self.limit

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
        if (self.throttle_active or not self._quiet or self.charge_declared
                or self.charge_max != self.charge_max_seen):
            # Per-cycle stepping (see the module docstring).
            while issued < total_ops and self.enable:
                n = min(ops_per_cycle, total_ops - issued)
                self.step({lane: n})
                issued += n
            return issued
        full_cycles, tail = divmod(total_ops, ops_per_cycle)
        charge = ops_per_cycle * self.weights[lane]
        # Cycle i (1-based) issues iff enable is high before it: always for i = 1, and
        # for i >= 2 iff the decision at edge i-1 opens the gate. Edge j >= 1 opens iff
        # nothing constant closes it, the accumulator it decides from (every op through
        # cycle j-2: acc_next at edge 1, acc at edge 2, then one charge more per edge) is
        # below the limit and the watchdog count after j-1 edges is below the period.
        if (self.gate_enable != GATE_OPEN or self.pause != regmap.PAUSE_REQUEST_RUN
                or self.tamper_in or self.throttle_den == 0 or self.throttle_num == 0):
            below = 0
        elif self.acc_next >= self.limit:
            below = 0
        elif self.acc >= self.limit:
            below = 1
        elif charge == 0:
            below = full_cycles
        else:
            below = 1 + -(-(self.limit - self.acc) // charge)  # ceil
        if self.wdog_armed:
            below = min(below, max(0, self.wdog_period - self.wdog_count))
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
        reader = _REGISTER_READERS.get(addr)
        if reader is None:
            if addr in MAPPED_ADDRESSES:
                raise AssertionError(f"mapped address 0x{addr:03X} has no read model")
            raise BusError(addr, "read")
        return reader(self)

    def _locked_write(self) -> None:
        self.locked_writes = min(self.locked_writes + 1, regmap.ERR_STATUS_LOCKED_WRITES_MASK)

    def write(self, addr: int, value: int, strb: int = 0xF) -> None:
        """A bus write performed at the last edge; BusError if unmapped.

        Writes to read-only registers are accepted and change nothing (the RTL answers
        OKAY); so are writes a lock turns away, which ERR_STATUS counts. A write to CTRL
        with snapshot set copies the counters as they stand after the last edge.
        """
        if addr not in MAPPED_ADDRESSES:
            raise BusError(addr, "write")
        value &= WORD_MASK
        if addr == regmap.REG_CTRL:
            if strb & 1 and value & regmap.CTRL_SNAPSHOT_MASK:
                self._snapshot()
        elif addr == regmap.REG_GATE:
            self.gate_enable = _merge(self.gate_enable, value, strb) & regmap.GATE_ENABLE_MASK
        elif addr == regmap.REG_CFG_REGWEN:
            if strb & 1 and not value & regmap.CFG_REGWEN_EN_MASK:
                self.regwen = False
        elif addr in _WEIGHT_REGS:
            if not self.regwen:
                self._locked_write()
                return
            lane = _WEIGHT_REGS.index(addr)
            self.weights[lane] = _merge(self.weights[lane], value, strb)
        elif addr in _CHARGE_MAX_REGS:
            if not self.regwen:
                self._locked_write()
                return
            if addr == _CHARGE_MAX_REGS[0]:
                self.charge_max_stage = _merge(self.charge_max_stage, value, strb)
            else:
                top = _merge(_word(self.charge_max, 1), value, strb)
                self.charge_max = (top << 32) | self.charge_max_stage
        elif addr == regmap.REG_THROTTLE:
            if not self.regwen:
                self._locked_write()
                return
            self.throttle = _merge(self.throttle, value, strb)
            self.throttle_frac = 0
        elif addr == regmap.REG_PAUSE:
            self.pause = _merge(self.pause, value, strb) & regmap.PAUSE_REQUEST_MASK
        elif addr in (regmap.REG_WDOG_CTRL, regmap.REG_WDOG_PERIOD, regmap.REG_WDOG_WINDOW):
            if self.wdog_armed:
                self._locked_write()
                return
            if addr == regmap.REG_WDOG_CTRL:
                code = _merge(self.wdog_arm, value, strb) & regmap.WDOG_CTRL_ARM_MASK
                if code == regmap.WDOG_CTRL_ARM_ARMED:
                    self.wdog_arm = code
                    self.wdog_count = 0
            elif addr == regmap.REG_WDOG_PERIOD:
                self.wdog_period = _merge(self.wdog_period, value, strb)
            else:
                self.wdog_window = _merge(self.wdog_window, value, strb)
        elif addr == regmap.REG_WDOG_KICK:
            if self.wdog_armed and strb == 0xF and value == regmap.WDOG_KICK_KEY_MAGIC:
                self.wdog_early = self.wdog_count_before < self.wdog_window
                self.wdog_count = 0
        elif addr in _LIMIT_REGS[:3]:
            i = _LIMIT_REGS.index(addr)
            self.limit_stage[i] = _merge(self.limit_stage[i], value, strb)
        elif addr == _LIMIT_REGS[3]:
            self.limit = _wide(self.limit_stage, _merge(_word(self.limit, 3), value, strb))
            self.limit_n = ~self.limit & WIDE_MAX
        elif addr in _LOWWATER_REGS[:3]:
            i = _LOWWATER_REGS.index(addr)
            self.lowwater_stage[i] = _merge(self.lowwater_stage[i], value, strb)
        elif addr == _LOWWATER_REGS[3]:
            self.lowwater = _wide(self.lowwater_stage, _merge(_word(self.lowwater, 3), value, strb))
        elif addr == regmap.REG_INTR_STATE:
            if strb & 1:
                # RW1C; a hardware set at the same edge wins.
                self.intr_state = (self.intr_state & ~(value & INTR_ALL)) | self.intr_set_last
        elif addr == regmap.REG_INTR_ENABLE:
            if strb & 1:
                self.intr_enable = value & INTR_ALL
        elif addr == regmap.REG_INTR_TEST:
            if strb & 1:
                self.intr_state |= value & INTR_ALL

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

    def write_charge_max(self, charge_max: int) -> None:
        for i in range(2):
            self.write(_CHARGE_MAX_REGS[i], _word(charge_max, i))

    def write_lowwater(self, threshold: int) -> None:
        for i in range(4):
            self.write(_LOWWATER_REGS[i], _word(threshold, i))

    # ----------------------------------------------- fault injection (tests)
    def poke_count(self, lane: int, value: int) -> None:
        """Overwrite a lane counter, as a testbench deposit on the RTL register does."""
        self.counts[lane] = value & WIDE_MAX

    def poke_accumulator(self, value: int) -> None:
        """Overwrite the accumulator register and its shadow consistently (test set-up)."""
        self.acc_reg = value & WIDE_MAX
        self.acc_n = ~self.acc_reg & WIDE_MAX

    def corrupt_accumulator(self, value: int) -> None:
        """Overwrite the accumulator register but not its shadow (fault injection)."""
        self.acc_reg = value & WIDE_MAX

    def corrupt_limit(self, value: int) -> None:
        """Overwrite the committed limit but not its shadow (fault injection)."""
        self.limit = value & WIDE_MAX

    def poke_gate_state(self, code: int) -> None:
        """Overwrite the internal gate code (fault injection)."""
        self.gate_state = code & 0xF


def _word_reader(field: str, index: int):
    shift = 32 * index
    return lambda m: (getattr(m, field) >> shift) & WORD_MASK


def _count_snap_reader(lane: int, index: int):
    shift = 32 * index
    return lambda m: (m.count_snap[lane] >> shift) & WORD_MASK


# What a bus read of each mapped address returns, looked up once per read (a
# firmware metering pass reads some thirty registers, most of them words of
# the wide ones).
_REGISTER_READERS = {
    regmap.REG_ID: lambda m: regmap.ID_MAGIC_RESET,
    regmap.REG_VERSION: lambda m: regmap.VERSION_MAJOR_RESET << regmap.VERSION_MAJOR_SHIFT,
    regmap.REG_CTRL: lambda m: 0,
    regmap.REG_GATE: lambda m: m.gate_enable,
    regmap.REG_STATUS: lambda m: m.status,
    regmap.REG_GATE_CAUSE: lambda m: m.gate_cause,
    regmap.REG_CFG_REGWEN: lambda m: int(m.regwen),
    regmap.REG_ERR_STATUS: lambda m: m.locked_writes,
    regmap.REG_PAUSE: lambda m: m.pause,
    regmap.REG_WDOG_CTRL: lambda m: m.wdog_arm,
    regmap.REG_WDOG_PERIOD: lambda m: m.wdog_period,
    regmap.REG_WDOG_WINDOW: lambda m: m.wdog_window,
    regmap.REG_WDOG_KICK: lambda m: 0,
    regmap.REG_WDOG_COUNT: lambda m: m.wdog_count,
    regmap.REG_THROTTLE: lambda m: m.throttle,
    regmap.REG_SATURATION: lambda m: m.saturation,
    regmap.REG_INTR_STATE: lambda m: m.intr_state,
    regmap.REG_INTR_ENABLE: lambda m: m.intr_enable,
    regmap.REG_INTR_TEST: lambda m: 0,
}
for _lane, _reg in enumerate(_WEIGHT_REGS):
    _REGISTER_READERS[_reg] = (lambda lane: lambda m: m.weights[lane])(_lane)
for _field, _regs in (("limit", _LIMIT_REGS), ("lowwater", _LOWWATER_REGS),
                      ("charge_max", _CHARGE_MAX_REGS), ("acc_snap", _ACC_SNAP_REGS)):
    for _index, _reg in enumerate(_regs):
        _REGISTER_READERS[_reg] = _word_reader(_field, _index)
for _lane, _regs in enumerate(_COUNT_SNAP_REGS):
    for _index, _reg in enumerate(_regs):
        _REGISTER_READERS[_reg] = _count_snap_reader(_lane, _index)
