"""The reference model's bulk paths (run, drive) equal per-cycle stepping exactly, and its
register semantics follow the generated map. Pure Python; the RTL suite scores the model
against the Verilog."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg import regmap
from openheg_sim.meter_model import (ENFORCEMENT_LATENCY_CYCLES, WIDE_MAX, BusError,
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


def test_enforcement_latency_is_one_cycle():
    m = armed_model(0, 10_000, [1000] * 6)
    assert m.enable
    for cycle in range(10):
        m.step({1: 1})
    assert m.acc == 10_000 and m.enable  # reached at this edge, still enabled
    m.step({1: 1})
    assert not m.enable and ENFORCEMENT_LATENCY_CYCLES == 1
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
                   tamper, lowwater) -> MeterModel:
    m = armed_model(acc, limit, weights)
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
