"""cocotb tests for hdl/rtl/heg_stream_limiter.v (run by test_stream_limiter_rtl.py).

Every test runs the LimiterTB scoreboard (cycle-exact against StreamLimiterModel, and
end-to-end beat integrity); the asserts add the shaping guarantees directly, from the
cost rule (every beat costs BEAT_COST wire bytes) rather than from the model.
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly
from cocotbext.axi import AxiStreamFrame

from limiter_tb import (BEAT_COST, DATA_W, FRAC_W, LimiterTB, applied_window_violations,
                        random_pause, window_violations)
from openheg_sim.stream_limiter_model import POLICY_LATENCY

BYTES_W = 64

KEEP_BYTES = DATA_W // 8


def frame(rng, length: int, user: int = 0) -> AxiStreamFrame:
    return AxiStreamFrame(bytes(rng.getrandbits(8) for _ in range(length)), tuser=user)


def null_frame(rng, beats: int, user: int = 1) -> AxiStreamFrame:
    """A frame of tkeep = 0 beats whose tdata is nonetheless random (the null-byte attack)."""
    return AxiStreamFrame(bytes(rng.getrandbits(8) for _ in range(beats * KEEP_BYTES)),
                          tkeep=[0] * (beats * KEEP_BYTES), tuser=user)


async def send_and_receive(tb: LimiterTB, frames: list[AxiStreamFrame]) -> None:
    for f in frames:
        await tb.source.send(f)
    for f in frames:
        got = await tb.sink.recv()
        assert bytes(got.tdata) == bytes(f.tdata), "frame data changed or reordered"


def assert_window_bound(tb: LimiterTB) -> None:
    bad = window_violations(tb.deliver_cycles, tb.rate_fixed, tb.burst)
    assert not bad, f"{len(bad)} windows over burst + rate * t, first {bad[0]}"


@cocotb.test()
async def test_integrity_under_backpressure(dut):
    """Random frames, random source gaps and sink backpressure at full rate: every frame
    arrives unchanged and in order; tvalid/data hold while tready is low."""
    tb = LimiterTB(dut, rate=BEAT_COST, burst=4 * BEAT_COST, seed=1)
    tb.source.set_pause_generator(random_pause(tb.rng, 0.2))
    tb.sink.set_pause_generator(random_pause(tb.rng, 0.35))
    await tb.reset()
    frames = [frame(tb.rng, tb.rng.randint(1, 5 * KEEP_BYTES), user=i & 1) for i in range(80)]
    await send_and_receive(tb, frames)
    assert_window_bound(tb)
    await tb.finish()


@cocotb.test()
async def test_rate_limit(dut):
    """A saturating source at 6.5 wire bytes/cycle (0.65 beats): over every window the
    delivered wire bytes stay within burst + rate * cycles, and the long-run rate is
    6.5 wire bytes per cycle."""
    # burst >= BEAT_COST + 2 * rate: the bucket never clamps a saturating stream's refill.
    rate, burst = 6.5, 3 * BEAT_COST
    tb = LimiterTB(dut, rate=rate, burst=burst, seed=2)
    await tb.reset()
    frames = [frame(tb.rng, 16 * KEEP_BYTES) for _ in range(25)]
    for f in frames:
        await tb.source.send(f)
    start = tb.cycle + POLICY_LATENCY  # the first edge that applies the policy
    for f in frames:
        got = await tb.sink.recv()
        assert bytes(got.tdata) == bytes(f.tdata)
    cycles = tb.cycle - start
    wire_bytes = len(tb.delivered) * BEAT_COST
    assert len(tb.delivered) == 25 * 16
    assert abs(wire_bytes / cycles - rate) < 0.05, wire_bytes / cycles
    assert_window_bound(tb)
    await tb.finish()


@cocotb.test()
async def test_burst(dut):
    """After idling, the full bucket (BURST wire bytes) passes back to back, then the rate
    takes over: one beat every BEAT_COST/rate cycles."""
    rate, burst = BEAT_COST / 4, 8 * BEAT_COST
    tb = LimiterTB(dut, rate=rate, burst=burst, seed=3)
    await tb.reset()
    await ClockCycles(dut.clk_i, int(burst / rate) + 10)
    assert int(dut.tokens_o.value) == burst << FRAC_W
    await tb.source.send(frame(tb.rng, 24 * KEEP_BYTES))
    await tb.sink.recv()
    c = tb.accept_cycles
    assert len(c) == 24
    # A full bucket holds BURST / BEAT_COST beats of credit, and the refill while they
    # pass adds more: at least that many go back to back.
    run = next((i for i in range(1, len(c)) if c[i] - c[i - 1] != 1), len(c))
    assert run >= burst // BEAT_COST, c[:12]
    gaps = [c[i + 1] - c[i] for i in range(len(c) - 6, len(c) - 1)]
    assert all(g == BEAT_COST / rate for g in gaps), gaps
    assert_window_bound(tb)
    await tb.finish()


@cocotb.test()
async def test_null_beats_pay_full_price(dut):
    """The null-byte attack (issue 9 item 15): with rate 0 and an empty bucket, beats with
    tkeep = 0 (random tdata, tlast and tuser still on the wire) pass nothing; with a rate,
    each one costs BEAT_COST wire bytes like any beat, and the window bound holds."""
    tb = LimiterTB(dut, rate=0, burst=4 * BEAT_COST, seed=5)
    await tb.reset()
    for _ in range(4):
        await tb.source.send(null_frame(tb.rng, 16))
    for _ in range(200):
        await FallingEdge(dut.clk_i)
        await ReadOnly()
        assert int(dut.s_axis_tready_o.value) == 0, "a beat passed with no credit"
        assert int(dut.m_axis_tvalid_o.value) == 0
    assert not tb.accepted and int(dut.byte_count_o.value) == 0
    await FallingEdge(dut.clk_i)
    tb.set_policy(rate=BEAT_COST / 5, burst=4 * BEAT_COST)
    for _ in range(4):
        await tb.sink.recv()
    assert len(tb.delivered) == 64 and all(b.keep == 0 for b in tb.delivered)
    await ClockCycles(dut.clk_i, 2)
    assert int(dut.byte_count_o.value) == 64 * BEAT_COST
    # Steady state: one null beat per BEAT_COST / rate = 5 cycles, as for full beats.
    c = tb.accept_cycles
    assert all(b - a == 5 for a, b in zip(c[-20:], c[-19:])), c[-20:]
    assert_window_bound(tb)
    await tb.finish()


@cocotb.test()
async def test_policy_change_and_counter(dut):
    """Lowering the burst clamps the bucket at the fourth edge: a policy sampled at edge N
    is applied from edge N + 3 (the policy pipeline), not earlier and not later; rate 0
    stops the stream; a new rate restarts it; byte_count_o counts BEAT_COST wire bytes for
    every delivered beat, partial and null beats too."""
    tb = LimiterTB(dut, rate=4, burst=4 * BEAT_COST, seed=4)
    tb.sink.set_pause_generator(random_pause(tb.rng, 0.2))
    await tb.reset()
    await ClockCycles(dut.clk_i, 60)
    await FallingEdge(dut.clk_i)
    tb.set_policy(rate=4, burst=BEAT_COST)
    # Edges N .. N+2 still apply the old burst (their refills keep the old bucket full)...
    # (a read just after an edge shows the value before it: the check after edge N+k is
    # the read at edge N+k+1)
    for _ in range(POLICY_LATENCY):
        await ClockCycles(dut.clk_i, 1)
        assert int(dut.tokens_o.value) == 4 * BEAT_COST << FRAC_W
    await ClockCycles(dut.clk_i, 1)
    assert int(dut.tokens_o.value) == 4 * BEAT_COST << FRAC_W
    # ... edge N+3 applies the new one.
    await ClockCycles(dut.clk_i, 1)
    assert int(dut.tokens_o.value) == BEAT_COST << FRAC_W
    # A frame with a null beat and partial keeps.
    f = AxiStreamFrame(bytes(range(3 * KEEP_BYTES)),
                       tkeep=[1] * 5 + [0] * 3 + [0] * KEEP_BYTES + [1, 0] * 4)
    await tb.source.send(f)
    await tb.sink.recv()
    await FallingEdge(dut.clk_i)
    tb.set_policy(rate=0, burst=BEAT_COST)
    await ClockCycles(dut.clk_i, 30)
    await tb.source.send(frame(tb.rng, 20 * KEEP_BYTES))
    await ClockCycles(dut.clk_i, 40)
    passed = len(tb.accepted)
    await ClockCycles(dut.clk_i, 40)
    assert len(tb.accepted) == passed, "rate 0 lets nothing through once the bucket is dry"
    await FallingEdge(dut.clk_i)
    tb.set_policy(rate=BEAT_COST, burst=2 * BEAT_COST)
    await tb.sink.recv()
    await ClockCycles(dut.clk_i, 4)
    assert len(tb.delivered) == 3 + 20
    assert int(dut.byte_count_o.value) == len(tb.delivered) * BEAT_COST
    await tb.finish()


async def deliver_beats(tb: LimiterTB, start: int, beats: int) -> list[int]:
    """Preset the counter to ``start``, send ``beats`` back-to-back beats and return
    byte_count_o after every cycle until they are all out (the scoreboard checks it
    against the model in every cycle too)."""
    await FallingEdge(tb.dut.clk_i)
    tb.preset_byte_count(start)
    delivered = len(tb.delivered)
    await tb.source.send(frame(tb.rng, beats * KEEP_BYTES))
    seen = []
    while len(tb.delivered) < delivered + beats:
        await FallingEdge(tb.dut.clk_i)
        await ReadOnly()
        seen.append(int(tb.dut.byte_count_o.value))
    await tb.sink.recv()
    return seen


@cocotb.test()
async def test_counter_carry_into_high_half(dut):
    """The wire-byte counter is split at bit 32 with a registered carry; the count shown is
    exact in every cycle: across 2^32 - 1 -> 2^32 and the beats on either side, landing on
    2^32 exactly or past it, back to back (a carry pending while the next beat passes)."""
    tb = LimiterTB(dut, rate=BEAT_COST, burst=8 * BEAT_COST, seed=6)
    await tb.reset()
    await ClockCycles(dut.clk_i, 10)
    for start in ((1 << 32) - BEAT_COST - 1, (1 << 32) - BEAT_COST, (1 << 32) - 3,
                  (5 << 32) - 2 * BEAT_COST):
        seen = await deliver_beats(tb, start, 4)
        # Every value the counter showed is start + a whole number of beats: never torn
        # (a low half that wrapped shown with the old high half) and never lagging.
        assert all((v - start) % BEAT_COST == 0 and start <= v <= start + 4 * BEAT_COST
                   for v in seen), [hex(v) for v in seen]
        assert seen[-1] == start + 4 * BEAT_COST, hex(seen[-1])
    await tb.finish()


@cocotb.test()
async def test_counter_saturates(dut):
    """Near 2^64 - 1 the counter pins at all ones and stays there: a beat that would pass
    the top lands on it exactly, and beats after it change nothing."""
    tb = LimiterTB(dut, rate=BEAT_COST, burst=8 * BEAT_COST, seed=7)
    await tb.reset()
    await ClockCycles(dut.clk_i, 10)
    top = (1 << BYTES_W) - 1
    for start, want in ((top - 2 * BEAT_COST - 5, [top - BEAT_COST - 5, top - 5, top]),
                        (top - BEAT_COST + 1, [top, top, top]), (top, [top, top, top])):
        seen = await deliver_beats(tb, start, 3)
        # The start until the first delivery, then each value the cost rule says.
        assert set(seen) | {start} == set(want) | {start}, ([hex(v) for v in seen], hex(start))
        assert seen[-1] == top
    await tb.finish()


def assert_applied_window_bound(tb: LimiterTB, start_credit: int | None = None) -> None:
    """Over the budget: every window's wire bytes within burst (or start_credit from reset)
    + the rates its edges applied, and the per-edge budget on the credit the RTL shows."""
    bad = applied_window_violations(tb.deliver_cycles, tb.applied_rates(), tb.burst,
                                    start_credit=start_credit)
    assert not bad, f"{len(bad)} windows over burst + the rates applied, first {bad[0]}"
    bad = tb.budget_violations()
    assert not bad, f"passed past the budget: {len(bad)} edges, first {bad[0]}"


@cocotb.test()
async def test_lowered_rate_binds_from_the_third_edge(dut):
    """The policy-latency window: the operator runs a saturating stream on a rate above the
    link's (the bucket stays at its cap, every take clamped) and the rate is lowered to 0
    at edge N, in every phase of a ready/stalled sink. The edges N .. N+2 still apply the
    old rate; from edge N+3 nothing is earned: every window holds burst + the rates its
    edges applied, and from edge N+3 on at most the credit then (<= burst) passes. The
    look-ahead flags for edge N+3 are computed at edge N+2 with the new rate: computed
    with the old one they would refill the bucket to its cap once more (an extra beat
    past the budget, tests/rtl/test_stream_limiter_rtl.py runs that broken variant)."""
    rate, burst = 2 * BEAT_COST, 4 * BEAT_COST
    tb = LimiterTB(dut, rate=rate, burst=burst, seed=8)
    await tb.reset()
    await tb.source.send(frame(tb.rng, 400 * KEEP_BYTES))
    for phase in range(8):
        tb.set_policy(rate=rate, burst=burst)
        tb.sink.set_pause_generator(random_pause(tb.rng, 0.3))
        await ClockCycles(dut.clk_i, 20 + phase)
        await FallingEdge(dut.clk_i)
        tb.set_policy(rate=0, burst=burst)
        lowered = tb.cycle  # the edge that samples rate 0
        await ClockCycles(dut.clk_i, 30)
        after = [c for c in tb.deliver_cycles if c >= lowered + POLICY_LATENCY]
        # From edge N+3 no refill: at most the credit held then, a burst at most.
        assert len(after) * BEAT_COST <= burst, f"passed past the budget: {phase, after}"
        assert_applied_window_bound(tb)
    await tb.finish()


@cocotb.test()
async def test_reset_mid_stream_starts_from_an_empty_bucket(dut):
    """The operator resets the limiter while a stream runs at a full bucket (a beat held in
    the output register) and offers beats again from the first cycle after it: the bucket is empty
    and every policy stage holds the reset policy (rate 0) until the programmed one has
    crossed the pipeline, so no window from the reset passes more than the rates its edges
    applied: no burst, nothing left over from before the reset."""
    rate, burst = BEAT_COST, 6 * BEAT_COST
    tb = LimiterTB(dut, rate=rate, burst=burst, seed=9)
    await tb.reset()
    for phase in range(4):
        tb.sink.set_pause_generator(random_pause(tb.rng, 0.5))
        await tb.source.send(frame(tb.rng, 60 * KEEP_BYTES))
        await ClockCycles(dut.clk_i, 15 + phase)
        await tb.reset()
        await tb.source.send(frame(tb.rng, 40 * KEEP_BYTES))
        await ClockCycles(dut.clk_i, 12)
        assert tb.deliver_cycles, "the stream resumes once the policy is in effect"
        assert tb.deliver_cycles[0] >= POLICY_LATENCY, tb.deliver_cycles
        assert_applied_window_bound(tb, start_credit=0)
    await tb.finish()
