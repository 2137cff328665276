"""The RTL's safety properties are proven (k-induction, yosys from PyPI), and each proof is
live: a copy of the RTL with the property broken fails it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "hdl"))
import formal  # noqa: E402
from rtl_runner import mutant  # noqa: E402

# What yosys prints when the solver found a trace that breaks an assertion (a mutant that
# does not even elaborate fails differently, and would prove nothing).
COUNTEREXAMPLE = "Called with -verify and proof did fail!"


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


def limiter_proven(rtl_dir: Path = formal.RTL) -> tuple[bool, str]:
    """Both parts of the limiter's proof as the quick run has them: the pipeline's
    invariants (narrow width), then the bound with those invariants assumed (full width).
    Only both together prove the bound: a limiter whose pipeline breaks its invariants
    would make the bound part's assumptions false, so that part alone proves nothing."""
    proven, log = formal.prove("heg_stream_limiter_pipeline", "quick", rtl_dir)
    if not proven:
        return proven, log
    return formal.prove("heg_stream_limiter", "quick", rtl_dir)


def test_limiter_bound_proven() -> None:
    """Wire bytes out <= burst + rate * t over every window (per-edge form), full width;
    the policy pipeline, the registered flags and the copy of tokens_q consistent."""
    proven, log = limiter_proven()
    assert proven, log[-3000:]


LIMITER_MUTANTS = {
    # Issue 9 item 15 re-opened: a beat is priced by popcount(tkeep), so null beats are free.
    "null-beats-free": [
        ("  wire [SUM_W-1:0] refill_take = tok_s + policy_3_q[PT_LESS_COST +: SUM_W];",
         "  reg [SUM_W-1:0] pop_cost;\n  integer m_i;\n  always @* begin\n"
         "    pop_cost = {SUM_W{1'b0}};\n    for (m_i = 0; m_i < KEEP_W; m_i = m_i + 1)\n"
         "      pop_cost = pop_cost + ({{(SUM_W-1){1'b0}}, s_axis_tkeep_i[m_i]} << FRAC_W);\n"
         "  end\n  wire [SUM_W-1:0] refill_take = tok_s + rate_q - pop_cost;")],
    # The beat waiting in the output register is not counted against the burst.
    "output-register-uncharged": [("      after = clamp_full_q ? after_room : after_keep;",
                                   "      after = clamp_cap_q ? after_cap : after_keep;")],
    # The split byte counter shows its high half without the carry still pending (torn).
    "byte-counter-torn": [("  assign byte_count_o = {bytes_hi, bytes_lo_q};",
                           "  assign byte_count_o = {bytes_hi_q, bytes_lo_q};")],
    # The policy pipeline alone: the look-ahead terms one stage late (ahead_d's ten
    # arguments, the first uses of the stages, from stages 3 and 2 instead of 2 and 1), so
    # the clamp flags of the edge that first applies a new policy use the old one.
    "stale-look-ahead": ([("policy_2_q[PT_", "policy_3_q[PT_")] * 7 +
                         [("policy_1_q[PT_", "policy_2_q[PT_")] * 3),
    # The copy of tokens_q that feeds the look-ahead compares lags it by an edge.
    "lagging-token-copy": [("      tokens_copy_q <= after[NEXT_W-1 -: TOK_W];",
                            "      tokens_copy_q <= tokens_q;")],
}


@pytest.mark.parametrize("name", LIMITER_MUTANTS)
def test_limiter_proof_catches_a_broken_limiter(tmp_path: Path, name: str) -> None:
    rtl = mutant(tmp_path, "heg_stream_limiter.v", LIMITER_MUTANTS[name])
    proven, log = limiter_proven(rtl)
    assert not proven, "a limiter that lets bytes past the bound must not be proven"
    assert COUNTEREXAMPLE in log, log[-2000:]


def test_limiter_bound_part_alone_catches_an_uncharged_register(tmp_path: Path) -> None:
    """The bound part is live by itself (its pipeline invariants hold in this mutant, so
    the pipeline part proves it, and the bound part must find the overshoot)."""
    rtl = mutant(tmp_path, "heg_stream_limiter.v", LIMITER_MUTANTS["output-register-uncharged"])
    assert formal.prove("heg_stream_limiter_pipeline", "quick", rtl)[0]
    proven, log = formal.prove("heg_stream_limiter", "quick", rtl)
    assert not proven and COUNTEREXAMPLE in log, log[-2000:]


def test_link_lock_proven() -> None:
    """heg_link: once LINK_REGWEN is cleared, RATE and BURST never change until reset."""
    proven, log = formal.prove("heg_link", "full")
    assert proven, log[-3000:]
