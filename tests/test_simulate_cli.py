"""`openheg simulate`: the command itself, its registration through the
`openheg.commands` entry points, and its one-line errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from openheg.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, cli, main
from openheg.cli._plugins import COMMAND_ENTRY_POINTS, add_plugin_commands
from openheg_sim.scenario import ScenarioError
from openheg_sim.scenario.cli import simulate

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "horizon_refused_then_approved.toml"


def test_command_runs_a_scenario(tmp_path):
    result = CliRunner().invoke(simulate, [str(EXAMPLE), "--out", str(tmp_path / "o"),
                                           "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "6 chips x 20 days" in result.output and "giant: horizon" in result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["run"]["workers"] == 2 and summary["chips"] == 6
    assert "chip-days/s" in result.stderr  # progress on stderr
    assert (tmp_path / "o" / "report.md").exists() and (tmp_path / "o" / "ledger.sqlite").exists()


def test_command_raises_typed_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("days = 20", "days = 0"))
    result = CliRunner().invoke(simulate, [str(bad), "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, ScenarioError)
    assert not (tmp_path / "o").exists()


def _fake_distribution(root: Path, entry_points: str) -> Path:
    info = root / "fake_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{COMMAND_ENTRY_POINTS}]\n{entry_points}")
    return root


def test_loader_attaches_registered_commands(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(_fake_distribution(tmp_path, (
        "sim-copy = openheg_sim.scenario.cli:simulate\n"
        "broken = openheg_sim.no_such_module:command\n"
        "ledger-shadow = openheg_sim.scenario.cli:simulate\n"))))
    group = click.Group("root")
    builtin = click.Command("ledger-shadow", callback=lambda: None)
    group.add_command(builtin)
    add_plugin_commands(group)
    assert group.commands["sim-copy"] is simulate
    assert group.commands["ledger-shadow"] is builtin  # a built-in is never replaced
    result = CliRunner().invoke(group, ["broken", "--anything"])
    assert "the broken command is installed but cannot load" in str(result.exception)
    assert "ModuleNotFoundError" in str(result.exception)


def test_openheg_has_the_simulate_command():
    assert "simulate" in cli.commands, (
        "the openheg.commands entry point is not installed: run "
        "`pip install --no-deps -e .` (make setup) so pyproject.toml's entry points register")
    assert cli.commands["simulate"] is simulate


def test_openheg_simulate_end_to_end(tmp_path, capsys):
    assert main(["simulate", str(EXAMPLE), "--out", str(tmp_path / "o"), "--workers", "1"]) \
        == EXIT_OK
    assert "giant: horizon" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["bad scenario", "missing file", "out is a file", "out not empty"])
def test_openheg_simulate_errors_are_one_line(tmp_path, capsys, case):
    scenario, out = EXAMPLE, tmp_path / "o"
    exit_code = EXIT_BAD_INPUT
    if case == "bad scenario":
        scenario = tmp_path / "bad.toml"
        scenario.write_text(EXAMPLE.read_text().replace('kind = "horizon-approve"',
                                                        'kind = "reboot"'))
        expected = "bad.toml: event[0].kind"
    elif case == "missing file":
        scenario = tmp_path / "absent.toml"
        expected = "absent.toml: file: cannot read it"
    elif case == "out is a file":
        out.write_text("x")
        expected = "is a file"  # refused by --out's type, as every --out
        exit_code = EXIT_USAGE
    else:
        out.mkdir()
        (out / "keep").write_text("x")
        expected = "is not empty"
    code = main(["simulate", str(scenario), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == exit_code
    assert err.startswith("openheg: error: ") and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
