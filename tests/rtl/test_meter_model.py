"""The reference model's bulk paths (run, drive) equal per-cycle stepping exactly, and its
register semantics follow the generated map. Pure Python; the RTL suite scores the model
against the Verilog."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg import regmap
from openheg_sim.meter_model import (ENFORCEMENT_LATENCY_CYCLES, METERING_LATENCY_EDGES,
                                     WIDE_MAX, BusError,
                                     MeterModel)

OPEN = regmap.GATE_ENABLE_OPEN


def state(m: MeterModel) -> dict:
    return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(m).items()}


def armed_model(acc: int, limit: int, weights: list[int], gate: int = OPEN) -> MeterModel:
    m = MeterModel()
    for lane, w in enumerate(weights):
        m.write(getattr(regmap, f"REG_WEIGHT_{regmap.LANES[lane]}"), w)
    m.write_limit(limit)
    m.write(regmap.REG_GATE, gate)
    m.poke_accumulator(acc)
    m.step()
    return m


wide = st.one_of(st.integers(0, 1 << 20), st.integers(0, WIDE_MAX),
                 st.integers(WIDE_MAX - (1 << 60), WIDE_MAX))
weight = st.one_of(st.sampled_from([0, 1, 700, 1000, 1330, 0xFFFFFFFF]), st.integers(0, 0xFFFFFFFF))



def assert_drive_equals_stepping(fast, lane: int, total: int, per_cycle: int) -> None:
    """``drive`` in closed form must give exactly what one ``step`` per cycle gives."""
    slow = fast.clone()
    got = fast.drive(lane, total, per_cycle)
    issued = 0
    while issued < total and slow.enable:
        n = min(per_cycle, total - issued)
        slow.step({lane: n})
        issued += n
    assert got == issued
    assert state(fast) == state(slow)


@settings(max_examples=300, deadline=None)
@given(acc=wide, limit=wide, weights=st.lists(weight, min_size=6, max_size=6),
       lane=st.integers(0, 5), total=st.integers(0, 400), per_cycle=st.integers(1, 0xFFFF),
       gate=st.sampled_from([OPEN, OPEN, regmap.GATE_ENABLE_CLOSED]),
       rewrite_gate=st.booleans())
def test_drive_equals_stepping(acc, limit, weights, lane, total, per_cycle, gate, rewrite_gate):
    fast = armed_model(acc, limit, weights, gate)
    if rewrite_gate:  # a GATE write just before the burst takes effect one edge later
        fast.write(regmap.REG_GATE, regmap.GATE_ENABLE_CLOSED)
    assert_drive_equals_stepping(fast, lane, total, per_cycle)


@settings(max_examples=200, deadline=None)
@given(acc=wide, limit=wide, weights=st.lists(weight, min_size=6, max_size=6),
       ops=st.lists(st.integers(0, 0xFFFF), min_size=6, max_size=6),
       cycles=st.integers(0, 60), count=wide)
def test_run_equals_stepping(acc, limit, weights, ops, cycles, count):
    fast = armed_model(acc, limit, weights)
    fast.poke_count(2, count)
    slow = fast.clone()
    fast.run(ops, cycles)
    for _ in range(cycles):
        slow.step(ops)
    assert state(fast) == state(slow)


def test_undeclared_exhaustion_closes_after_the_metering_latency():
    """CHARGE_MAX undeclared: the gate closes METERING_LATENCY_EDGES (2) edges after the
    edge whose ops take the metered total to the limit, so the ops of the two cycles in
    the pipeline still pass; each decision governs the next cycle (enforcement latency 1)."""
    m = armed_model(0, 10_000, [1000] * 6)
    assert m.enable
    for cycle in range(10):
        m.step({1: 1})
    assert m.acc == 10_000 and m.enable  # reached at this edge, still enabled
    assert (ENFORCEMENT_LATENCY_CYCLES, METERING_LATENCY_EDGES) == (1, 2)
    for _ in range(METERING_LATENCY_EDGES - 1):
        m.step({1: 1})
        assert m.enable  # the accumulator has not caught up with the limit yet
    m.step({1: 1})
    assert not m.enable
    assert m.acc == 10_000 + METERING_LATENCY_EDGES * 1000
    assert m.read(regmap.REG_GATE_CAUSE) == regmap.GATE_CAUSE_EXHAUSTED_MASK


def test_registers_and_errors():
    m = MeterModel()
    assert m.read(regmap.REG_ID) == regmap.ID_MAGIC_RESET
    assert m.read(regmap.REG_GATE) == regmap.GATE_ENABLE_RESET
    assert m.read(regmap.REG_STATUS) == 0
    for name in regmap.LANES:
        assert m.read(getattr(regmap, f"REG_WEIGHT_{name}")) == regmap.DEFAULT_WEIGHTS_MILLI[name]
    with pytest.raises(BusError):
        m.read(0x078)
    with pytest.raises(BusError):
        m.write(0x001, 0)
    m.write(regmap.REG_LIMIT_0, 5)
    assert m.read(regmap.REG_LIMIT_0) == 0  # staged until LIMIT_3
    m.write(regmap.REG_LIMIT_3, 1)
    assert m.read_wide(regmap.REG_LIMIT_0) == (1 << 96) | 5


def test_saturation_and_fatal():
    m = MeterModel()
    m.poke_count(0, WIDE_MAX - 1)
    m.step({0: 5})
    m.run(None, METERING_LATENCY_EDGES)  # the ops reach the counter two edges later
    assert m.counts[0] == WIDE_MAX and m.read(regmap.REG_STATUS) & regmap.STATUS_SATURATED_MASK
    m = armed_model(0, 1 << 64, [1] * 6)
    assert m.enable
    m.poke_gate_state(0x7)
    assert not m.enable and m.fatal
    m.step()
    m.write(regmap.REG_GATE, OPEN)
    m.run(None, 10)
    assert not m.enable and m.read(regmap.REG_STATUS) == regmap.STATUS_FATAL_MASK


# ---------------------------------------------------------------- new features
WDOG_KEY = regmap.WDOG_KICK_KEY_MAGIC


def featured_model(acc, limit, weights, *, wdog, period, count_offset, throttle, pause,
                   tamper, lowwater, charge_max) -> MeterModel:
    m = armed_model(acc, limit, weights)
    m.write_charge_max(charge_max)
    m.write_lowwater(lowwater)
    if wdog:
        m.write(regmap.REG_WDOG_PERIOD, period)
        m.write(regmap.REG_WDOG_CTRL, regmap.WDOG_CTRL_ARM_ARMED)
        m.run(None, count_offset)
    m.write(regmap.REG_THROTTLE, throttle)
    m.write(regmap.REG_PAUSE, pause)
    m.write(regmap.REG_INTR_ENABLE, 0x7)
    m.set_tamper(tamper)
    return m


features = dict(
    wdog=st.booleans(), period=st.integers(0, 300), count_offset=st.integers(0, 40),
    throttle=st.one_of(st.just(0x00010001), st.builds(lambda n, d: (d << 16) | n,
                                                      st.integers(0, 9), st.integers(0, 9))),
    pause=st.sampled_from([regmap.PAUSE_REQUEST_RUN] * 4 + [regmap.PAUSE_REQUEST_PAUSE, 0x8]),
    tamper=st.sampled_from([False] * 5 + [True]),
    lowwater=wide,
    charge_max=st.one_of(st.just(0), st.just(0), st.integers(1, 1 << 20),
                         st.integers(0, (1 << 64) - 1)),
)


@settings(max_examples=300, deadline=None)
@given(acc=wide, limit=wide, weights=st.lists(weight, min_size=6, max_size=6),
       lane=st.integers(0, 5), total=st.integers(0, 400), per_cycle=st.integers(1, 0xFFFF),
       **features)
def test_drive_equals_stepping_with_every_feature(acc, limit, weights, lane, total, per_cycle,
                                                  **kw):
    fast = featured_model(acc, limit, weights, **kw)
    assert_drive_equals_stepping(fast, lane, total, per_cycle)


@settings(max_examples=300, deadline=None)
@given(acc=wide, limit=wide, weights=st.lists(weight, min_size=6, max_size=6),
       ops=st.lists(st.integers(0, 0xFFFF), min_size=6, max_size=6),
       cycles=st.integers(0, 400), **features)
def test_run_equals_stepping_with_every_feature(acc, limit, weights, ops, cycles, **kw):
    fast = featured_model(acc, limit, weights, **kw)
    slow = fast.clone()
    fast.run(ops, cycles)
    for _ in range(cycles):
        slow.step(ops)
    assert state(fast) == state(slow)


def test_drive_stops_exactly_at_watchdog_expiry():
    m = armed_model(0, 1 << 100, [1000] * 6)
    m.write(regmap.REG_WDOG_PERIOD, 1000)
    m.write(regmap.REG_WDOG_CTRL, regmap.WDOG_CTRL_ARM_ARMED)
    issued = m.drive(1, 10**9, 1)
    # Kicked (armed) at edge A; edges A+1..A+1000 stay open, A+1001 trips.
    assert issued == 1001
    assert m.read(regmap.REG_GATE_CAUSE) == regmap.GATE_CAUSE_WATCHDOG_MASK
    m.write(regmap.REG_WDOG_KICK, WDOG_KEY)
    m.idle(5)
    assert not m.enable  # latched until reset


@pytest.mark.parametrize("num, den", [(1, 3), (2, 3), (5, 7), (1, 1000), (999, 1000),
                                      (0, 5), (7, 7), (65535, 65534)])
def test_throttle_pattern_is_exact_in_every_window(num, den):
    """Open in throttle cycle n iff floor((n+1)num/den) > floor(n num/den); every window of
    W cycles then holds floor(W*duty) or ceil(W*duty) open cycles."""
    m = armed_model(0, 1 << 100, [1] * 6)
    m.write(regmap.REG_THROTTLE, (den << 16) | num)
    opens = []  # the write is performed at the last edge; n = 0 is decided at the next one
    for _ in range(3 * max(den, 1) + 50):
        m.step()
        opens.append(m.enable)
    duty = min(num, den) / den if den else 0.0
    for n, is_open in enumerate(opens):
        expect = ((n + 1) * min(num, den) // den > n * min(num, den) // den) if den else False
        assert is_open == expect, n
    prefix = [0]
    for is_open in opens:
        prefix.append(prefix[-1] + is_open)
    for width in range(1, min(len(opens), 2 * max(den, 1) + 3)):
        for start in range(0, len(opens) - width + 1, max(1, width // 3)):
            got = prefix[start + width] - prefix[start]
            low = (width * min(num, den)) // den if den else 0
            assert low <= got <= low + 1, (start, width, got)
            assert abs(got - width * duty) < 1


def test_locks_and_error_count():
    m = MeterModel()
    m.write(regmap.REG_WEIGHT_FP8, 5)
    m.write(regmap.REG_CFG_REGWEN, 1)
    assert m.read(regmap.REG_CFG_REGWEN) == 1
    m.write(regmap.REG_CFG_REGWEN, 0)
    m.write(regmap.REG_CFG_REGWEN, 1)  # cannot unlock
    m.write(regmap.REG_WEIGHT_FP8, 7)
    m.write(regmap.REG_THROTTLE, 0x00020001)
    assert m.read(regmap.REG_WEIGHT_FP8) == 5
    assert m.read(regmap.REG_THROTTLE) == 0x00010001
    assert m.read(regmap.REG_ERR_STATUS) == 2
    assert m.read(regmap.REG_STATUS) & regmap.STATUS_CFG_LOCKED_MASK


def test_countermeasures_in_model():
    for corrupt in ("acc", "limit"):
        m = armed_model(100, 1 << 64, [1] * 6)
        assert m.enable
        getattr(m, f"corrupt_{'accumulator' if corrupt == 'acc' else 'limit'}")(5)
        assert m.fatal and m.enable  # seen now, enforced from the next edge
        m.step()
        assert not m.enable and m.fatal_latched
        m.run(None, 10)
        assert not m.enable


# ------------------------------------------------------------ no overshoot (issue 10)
def obedient_run(m: MeterModel, rng, peaks: list[int], cycles: int) -> list[int]:
    """An accelerator that issues random ops up to its peaks, only while enabled; returns
    the metered total after every edge."""
    totals = []
    for _ in range(cycles):
        ops = [rng.randint(0, p) for p in peaks] if m.enable else [0] * len(peaks)
        m.step(ops)
        totals.append(m.acc)
    return totals


def test_no_overshoot_at_the_issue_numbers():
    """Issue 10: a 1e6-sFLOP license at 65,535 FP64 ops per cycle overshot by 13%. With
    CHARGE_MAX declared (65,535 x 1,330), the metered total never passes the limit."""
    allowance = 10**9  # milli-sFLOP
    fp64 = regmap.LANES.index("FP64")
    weight = regmap.DEFAULT_WEIGHTS_MILLI["FP64"]
    m = MeterModel()
    m.write_charge_max(0xFFFF * weight)
    m.write_limit(allowance)
    m.write(regmap.REG_GATE, OPEN)
    m.step()
    assert not m.enable  # the edge after a CHARGE_MAX commit keeps the gate closed
    m.step()
    issued = m.drive(fp64, 10**9, 0xFFFF)
    m.idle(3)
    assert issued * weight == m.acc <= allowance
    assert allowance - m.acc < 2 * 0xFFFF * weight  # what never-overshooting leaves unused
    assert m.read(regmap.REG_GATE_CAUSE) == regmap.GATE_CAUSE_EXHAUSTED_MASK
    # Undeclared, the same workload still passes the limit (by up to two cycles).
    legacy = MeterModel()
    legacy.write_limit(allowance)
    legacy.write(regmap.REG_GATE, OPEN)
    legacy.step()
    legacy.drive(fp64, 10**9, 0xFFFF)
    assert legacy.acc > allowance


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), limit=st.integers(0, 1 << 40),
       weights=st.lists(st.integers(0, 5000), min_size=6, max_size=6),
       peaks=st.lists(st.integers(0, 0xFFFF), min_size=6, max_size=6),
       slack=st.integers(0, 3))
def test_declared_charge_max_never_overshoots(seed, limit, weights, peaks, slack):
    """Whatever an obedient accelerator issues within its declared peaks, the metered total
    never passes the limit."""
    import random
    rng = random.Random(seed)
    m = MeterModel()
    for lane, w in enumerate(weights):
        m.write(getattr(regmap, f"REG_WEIGHT_{regmap.LANES[lane]}"), w)
    charge_max = sum(p * w for p, w in zip(peaks, weights)) + slack
    m.write_charge_max(max(charge_max, 1))
    m.write_limit(limit)
    m.write(regmap.REG_GATE, OPEN)
    totals = obedient_run(m, rng, peaks, 300)
    assert max(totals) <= limit
    assert not m.overrate


def test_overrate_latches_when_a_cycle_outruns_charge_max():
    """A cycle that charges more than the declared bound breaks the declaration: the excess
    is metered, the overrate cause latches until reset and raises the fault interrupt."""
    m = MeterModel()
    m.write_charge_max(5 * 1000)
    m.write_limit(1 << 40)
    m.write(regmap.REG_GATE, OPEN)
    m.write(regmap.REG_INTR_ENABLE, regmap.INTR_STATE_FAULT_MASK)
    m.step()
    m.step({1: 5})  # FP8 at exactly the bound: fine
    m.step()
    assert m.enable and not m.overrate
    m.step({1: 6})
    m.step()
    assert m.enable  # the cycle's charge is summed at this edge, checked at the next
    m.step()
    assert not m.enable and m.read(regmap.REG_GATE_CAUSE) == regmap.GATE_CAUSE_OVERRATE_MASK
    assert m.acc == 11 * 1000 and m.irq
    m.idle(10)
    assert not m.enable


def test_charge_max_is_staged_and_locked():
    m = MeterModel()
    m.write(regmap.REG_CHARGE_MAX_0, 7)
    assert m.read(regmap.REG_CHARGE_MAX_0) == 0  # staged until CHARGE_MAX_1
    m.write(regmap.REG_CHARGE_MAX_1, 1)
    assert m.read(regmap.REG_CHARGE_MAX_0) == 7 and m.read(regmap.REG_CHARGE_MAX_1) == 1
    m.write(regmap.REG_CFG_REGWEN, 0)
    m.write_charge_max(1)
    assert m.charge_max == (1 << 32) | 7 and m.read(regmap.REG_ERR_STATUS) == 2
