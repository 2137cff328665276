"""Scenario files: a good one parses; each bad one is refused naming the key."""

from pathlib import Path

import pytest

from openheg_sim.scenario import ScenarioError, load_scenario, parse_scenario

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "board_vote_lowers_f.toml"


def test_example_parses():
    s = load_scenario(EXAMPLE)
    assert s.days == 30 and s.sites[0].chips == 8
    assert s.events[0].kind == "board-vote" and s.events[0].value == 4e25
    assert s.workloads[0].precision_mix == {"bf16": 0.5, "fp8": 0.5}


@pytest.mark.parametrize("old,new,where", [
    ('days = 30', 'days = 30\ncolour = "red"', "colour: unknown key"),
    ('chips = 8', 'chips = 0', "site[0].chips"),
    ('fp8 = 1.98e15 }', 'fp4 = 1.98e15 }', "site[0].peak_ops.fp4: unknown precision"),
    ('bf16 = 0.5, fp8 = 0.5', 'bf16 = 0.5, fp8 = 0.4', "precision_mix: fractions sum"),
    ('site = "alpha"', 'site = "beta"', "workload[0].site"),
    ('h_sflop = 1e27', 'h_sflop = 1e25', "policy.h_sflop: must be above"),
    ('value = 4e25', '', "event[0].value: missing"),
    ('day = 10', 'day = 30', "event[0].day"),
    ('kind = "board-vote"', 'kind = "reboot"', "event[0].kind"),
    ('chips = 8', 'chips = true', "site[0].chips: expected int"),
    ('days = 30', 'days = ', "syntax"),
])
def test_bad_scenario_names_the_key(old, new, where):
    text = EXAMPLE.read_text()
    assert old in text
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text.replace(old, new, 1), "x.toml")
    assert str(err.value).startswith("x.toml: ") and where in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_is_typed(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read it"):
        load_scenario(tmp_path / "absent.toml")
