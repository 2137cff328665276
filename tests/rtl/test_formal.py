"""The RTL's safety properties are proven (k-induction, yosys from PyPI), and each proof is
live: a copy of the RTL with the property broken fails it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "hdl"))
import formal  # noqa: E402

# What yosys prints when the solver found a trace that breaks an assertion (a mutant that
# does not even elaborate fails differently, and would prove nothing).
COUNTEREXAMPLE = "Called with -verify and proof did fail!"


def mutant(tmp_path: Path, name: str, edits: list[tuple[str, str]]) -> Path:
    """A copy of hdl/rtl with ``edits`` (old, new) applied to ``name``; each must apply."""
    for source in (REPO / "hdl" / "rtl").iterdir():
        (tmp_path / source.name).write_text(source.read_text())
    text = (tmp_path / name).read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    (tmp_path / name).write_text(text)
    return tmp_path


def test_properties_proven() -> None:
    """The meter block's locks, watchdog and limit shadow (whole block, COUNT_W=4)."""
    proven, log = formal.prove("heg_meter", "quick")
    assert proven, log[-3000:]
    assert "Induction step proven: SUCCESS!" in log


def test_core_proof_at_small_width() -> None:
    """No overshoot, the gate at the limit, latches: the core with its real multipliers."""
    proven, log = formal.prove("heg_meter_core", "quick")
    assert proven, log[-3000:]


@pytest.mark.parametrize("edits", [
    # Every exhaustion check is off by one: the gate stays open at the limit.
    [("  wire exhausted_d = exhausted_a | exhausted_b | exhausted_ahead;",
      "  wire exhausted_d = exhausted_a & exhausted_b & exhausted_ahead & (acc_q > limit_i);")],
    # The accumulator can go backwards.
    [("      acc_q <= acc_d;\n", "      acc_q <= acc_d - 1'b1;\n")],
    # Overshoot: the charge of the open cycle in flight is forgotten (one H, not two).
    [("(accel_enable_o ? head_two : head_one)", "head_one")],
    # A lane that outruns CHARGE_MAX goes unnoticed.
    [("  wire overrate_now = charge_declared &", "  wire overrate_now = 1'b0 &")],
    # Pipeline: the margin forgets the cycle still in the first stage (one H short when
    # the gate was open in the cycle before).
    [("(accel_enable_o ? head_three : head_two)", "(accel_enable_o ? head_two : head_two)")],
    # Pipeline: the decision forgets the charge summed in the second stage.
    [("  wire exhausted_shut = exceeds_limit(acc_ahead, charge_ahead,",
      "  wire exhausted_shut = exceeds_limit(acc_ahead, {(WIDE_W+2){1'b0}},"),
     ("  wire exhausted_open = exceeds_limit(acc_ahead, charge_ahead,",
      "  wire exhausted_open = exceeds_limit(acc_ahead, {(WIDE_W+2){1'b0}},")],
    # Pipeline: the in-flight bound registered before a CHARGE_MAX change is trusted.
    [("  wire exhausted_ahead = head_changed |", "  wire exhausted_ahead = 1'b0 |")],
], ids=["gate-open-at-limit", "accumulator-decreases", "overshoot-in-flight",
        "overrate-unchecked", "margin-misses-stage-one", "decision-misses-stage-two",
        "stale-in-flight-bound"])
def test_proof_catches_a_broken_core(tmp_path: Path, edits) -> None:
    proven, log = formal.prove("heg_meter_core", "quick",
                               mutant(tmp_path, "heg_meter_core.v", edits))
    assert not proven, "a broken design must not be proven"
    assert COUNTEREXAMPLE in log, log[-2000:]


def test_limiter_bound_proven() -> None:
    """Wire bytes out <= burst + rate * t over every window (per-edge form), full width."""
    proven, log = formal.prove("heg_stream_limiter", "full")
    assert proven, log[-3000:]


@pytest.mark.parametrize("edits", [
    # Issue 9 item 15 re-opened: a beat is priced by popcount(tkeep), so null beats are free.
    [("  wire [SUM_W-1:0] refill_take = tok_s + rate_less_cost_q;",
      "  reg [SUM_W-1:0] pop_cost;\n  integer m_i;\n  always @* begin\n"
      "    pop_cost = {SUM_W{1'b0}};\n    for (m_i = 0; m_i < KEEP_W; m_i = m_i + 1)\n"
      "      pop_cost = pop_cost + ({{(SUM_W-1){1'b0}}, s_axis_tkeep_i[m_i]} << FRAC_W);\n"
      "  end\n  wire [SUM_W-1:0] refill_take = tok_s + rate_q - pop_cost;")],
    # The beat waiting in the output register is not counted against the burst.
    [("      tokens_d = clamp_full ? room_full_q : refill_keep;",
      "      tokens_d = clamp_cap ? cap_q : refill_keep;")],
    # The split byte counter shows its high half without the carry still pending (torn).
    [("  assign byte_count_o = {bytes_hi, bytes_lo_q};",
      "  assign byte_count_o = {bytes_hi_q, bytes_lo_q};")],
], ids=["null-beats-free", "output-register-uncharged", "byte-counter-torn"])
def test_limiter_proof_catches_a_broken_limiter(tmp_path: Path, edits) -> None:
    proven, log = formal.prove("heg_stream_limiter", "full",
                               mutant(tmp_path, "heg_stream_limiter.v", edits))
    assert not proven, "a limiter that lets bytes past the bound must not be proven"
    assert COUNTEREXAMPLE in log, log[-2000:]


def test_link_lock_proven() -> None:
    """heg_link: once LINK_REGWEN is cleared, RATE and BURST never change until reset."""
    proven, log = formal.prove("heg_link", "full")
    assert proven, log[-3000:]
