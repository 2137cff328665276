"""Running the `openheg` CLI in-process for tests: its real entry point, in a
temporary directory with its own home (emulated chips) and ledger."""

from __future__ import annotations

import pytest

from openheg.cli import EXIT_OK, main


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """Run the CLI in-process in tmp_path; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENHEG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPENHEG_LEDGER", raising=False)
    monkeypatch.delenv("OPENHEG_TIME_FROM", raising=False)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def ok(run, *args):
    code, out, err = run(*args)
    assert code == EXIT_OK, err
    return out


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("openheg: error: "), err
    return lines[0]


def provision(run, monkeypatch, *urls: str):
    """An authority in auth/, a vendor in vendor/ and the chips at urls
    provisioned by them; every later command gives the chips trusted time
    (each emu:// command is a power-up)."""
    ok(run, "authority", "create", "auth")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", *urls, "--authority", "auth", "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    return run
