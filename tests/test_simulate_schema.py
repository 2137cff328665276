"""Scenario files: a good one parses; each bad one is refused naming the key."""

from pathlib import Path

import pytest

from openheg_sim.scenario import ScenarioError, load_scenario, parse_scenario

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "board_vote_lowers_f.toml"


def test_example_parses():
    s = load_scenario(EXAMPLE)
    assert s.days == 30 and s.sites[0].chips == 8
    assert s.events[0].kind == "board-vote" and s.events[0].value == 4e25
    assert s.workloads[0].precision_mix == {"fp16": 0.5, "fp8": 0.5}
    assert s.start_date.isoformat() == "2027-01-01" and s.attest_every_days == 1
    # The signed policy's schedule: a base and a fixed increase per day.
    assert (s.policy.f_sflop, s.policy.f_daily_increase_sflop) == (1e26, 1e22)


def test_daily_increase_defaults_to_the_policy_default():
    text = EXAMPLE.read_text().replace("f_daily_increase_sflop = 1e22\n", "")
    assert parse_scenario(text).policy.f_daily_increase_sflop == 1e26 / 10_000


@pytest.mark.parametrize("old,new,where", [
    ('days = 30', 'days = 30\ncolour = "red"', "colour: unknown key"),
    ('chips = 8', 'chips = 0', "site[0].chips"),
    ('fp8 = 1.98e15 }', 'fp4 = 1.98e15 }', "site[0].peak_ops.fp4: unknown precision"),
    ('fp16 = 0.5, fp8 = 0.5', 'fp16 = 0.5, fp8 = 0.4', "precision_mix: fractions sum"),
    ('fp16 = 0.5, fp8 = 0.5', 'fp16 = 0.5, fp32 = 0.5', "workload[0].precision_mix: site "
     "'alpha' gives no peak_ops for fp32"),
    ('fp16 = 9.9e14', 'bf16 = 9.9e14', "site[0].peak_ops.bf16: unknown precision"),
    ('f_daily_increase_sflop = 1e22', 'daily_growth = 0.001', "policy.daily_growth: unknown key"),
    ('f_daily_increase_sflop = 1e22', 'f_daily_increase_sflop = -1', "f_daily_increase_sflop"),
    ('seed = 7', 'seed = 7\nstart_date = "2027-13-01"', "start_date"),
    ('seed = 7', 'seed = 7\nattest_every_days = 0', "attest_every_days"),
    ('target = "policy"', 'target = "alpha"', "event[0].target"),
    ('value = 4e25', 'value = 4e25\n[[event]]\nday = 3\nkind = "site-halt"\n'
     'target = "alpha"\nvalue = 2', "event[1].value"),
    ('value = 4e25', 'value = 4e25\n[[event]]\nday = 3\nkind = "inspector-pause"\n'
     'target = "alpha"', "event[1].target"),
    ('value = 4e25', 'value = 4e25\n[[event]]\nday = 3\nkind = "device-silent"\n'
     'target = "alpha"\nvalue = 0.5', "event[1].value: expected int"),
    ('name = "ft-2"', 'name = "ft-1"', "workload: two workloads share a name"),
    ('fp16 = 9.9e14', 'fp16 = 3e17', "site[0].peak_ops.fp16: 3e+17 is out of range"),
    ('value = 4e25', 'value = 4e25\n[[event]]\nday = 11\nkind = "inspector-pause"\n'
     'target = "ft-2"', "event[1].day: 11 is before workload 'ft-2' starts (day 12)"),
    ('chips = 8', 'chips = 1', "workload: site 'alpha' has 1 chips for 2 workloads"),
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
