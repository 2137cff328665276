"""What a newcomer tripped on (issue 11), each as the refusal or the truthful
message it now gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openheg.cli import EXIT_DEVICE_REFUSED, EXIT_LEDGER, EXIT_UNREACHABLE, EXIT_USAGE
from openheg.licensing import MAX_VALID_DAYS
from cli_kit import ok, one_error_line, provision, run  # noqa: F401 - run is a fixture

BOARD = ("--authority", "auth", "--signer", "board-1", "--signer", "board-2")


@pytest.fixture
def chip(run, monkeypatch):
    return provision(run, monkeypatch, "emu://chip0")


def test_a_mistyped_emulator_name_is_refused_and_no_chip_is_made(chip, tmp_path):
    code, _, err = chip("device", "info", "emu://chipp0")
    line = one_error_line(err)
    assert code == EXIT_UNREACHABLE
    assert "no emulated chip 'chipp0'" in line and "chips there: chip0" in line
    assert "openheg device provision emu://chipp0" in line
    assert not (tmp_path / "home" / "emu" / "chipp0.flash").exists()
    # Provisioning is the factory: it makes the new chip.
    ok(chip, "device", "provision", "emu://chip1", "--authority", "auth", "--vendor", "vendor")
    assert json.loads(ok(chip, "device", "info", "emu://chip1", "--json"))["state"] \
        == "PROVISIONED"


def test_a_read_on_a_ledger_in_a_missing_folder_is_refused_and_makes_no_folder(run, tmp_path):
    missing = tmp_path / "nonexistent" / "dir"
    code, _, err = run("--ledger", str(missing / "x.sqlite"), "ledger", "devices")
    assert code == EXIT_LEDGER and "there is no folder" in one_error_line(err)
    assert not missing.parent.exists()


def test_a_license_installed_on_a_halted_chip_says_the_halt_keeps_the_gate_closed(chip):
    ok(chip, "order", "issue", "--kind", "halt", "--fleet", *BOARD, "--out", "halt.order")
    ok(chip, "order", "send", "emu://chip0", "halt.order")
    ok(chip, "license", "issue", "--authority", "auth", "--device", "emu://chip0",
       "--workload", "w", "--planned", "1e9", "--out", "lic.bin")
    out = ok(chip, "license", "install", "emu://chip0", "lic.bin")
    assert "installed; gate closed: a board halt is in force" in out
    out = ok(chip, "device", "run", "emu://chip0", "--lane", "fp8", "--ops", "1000")
    assert "issued 0 of 1000" in out and "board halt is in force" in out


def test_a_closed_gate_with_license_left_names_its_true_cause_not_exhaustion(chip, monkeypatch):
    ok(chip, "license", "issue", "--authority", "auth", "--device", "emu://chip0",
       "--workload", "w", "--planned", "1e9", "--out", "lic.bin")
    assert "gate closed: no license is installed" in ok(chip, "device", "run", "emu://chip0",
                                                          "--lane", "fp8", "--ops", "1e6")
    ok(chip, "license", "install", "emu://chip0", "lic.bin")
    assert "gate open" in ok(chip, "device", "run", "emu://chip0", "--lane", "fp8",
                             "--ops", "1e6")
    monkeypatch.delenv("OPENHEG_TIME_FROM")  # a power-up with no beacon: time untrusted
    out = ok(chip, "device", "run", "emu://chip0", "--lane", "fp8", "--ops", "1e6")
    assert "issued 0 of 1000000" in out and "no fresh time beacon" in out
    assert "exhausted" not in out and "openheg authority beacon" in out
    nonce = json.loads(ok(chip, "attest", "get", "emu://chip0", "--out", "att.bin",
                          "--json"))["nonce"]
    out = ok(chip, "attest", "verify", "att.bin", "--nonce", nonce, "--endorsements",
             "vendor/endorsements.json", "--vendor-key", "vendor/vendor.key.pub")
    assert "remaining 9.99e+08 sFLOP" in out and "no fresh time beacon" in out
    assert "exhausted" not in out
    # Used up, it says so.
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    out = ok(chip, "device", "run", "emu://chip0", "--lane", "fp8", "--ops", "1e12")
    assert "gate closed: the license's compute is used up (exhausted)" in out


def test_time_untrusted_names_the_command_that_sends_a_beacon(chip, monkeypatch):
    ok(chip, "license", "issue", "--authority", "auth", "--device", "emu://chip0",
       "--workload", "w", "--planned", "1e9", "--out", "lic.bin")
    monkeypatch.delenv("OPENHEG_TIME_FROM")
    code, _, err = chip("license", "install", "emu://chip0", "lic.bin")
    line = one_error_line(err)
    assert code == EXIT_DEVICE_REFUSED and "TIME_UNTRUSTED" in line
    assert "openheg authority beacon URL --authority DIR" in line
    ok(chip, "authority", "beacon", "emu://chip0", "--authority", "auth")


@pytest.mark.parametrize("days", ["1e15", "36526", "inf", "nan", "1e400"])
def test_valid_days_past_a_century_or_not_a_number_is_refused_naming_the_limit(chip, days):
    code, _, err = chip("license", "issue", "--authority", "auth", "--device-id",
                        "00" * 32 + ":1", "--workload", "w", "--planned", "1e9",
                        "--valid-days", days, "--out", "lic.bin")
    line = one_error_line(err)
    assert code == EXIT_USAGE and "--valid-days" in line
    assert str(MAX_VALID_DAYS) in line or "finite" in line
    assert not Path("lic.bin").exists()


def test_a_corrupt_emulator_flash_is_one_line_naming_the_file_and_the_remedy(chip, tmp_path):
    flash = tmp_path / "home" / "emu" / "chip0.flash"
    flash.write_bytes(flash.read_bytes()[:100])
    code, _, err = chip("device", "info", "emu://chip0")
    line = one_error_line(err)
    assert code == EXIT_UNREACHABLE and str(flash) in line
    assert "is corrupt" in line and "provision the chip again" in line
    assert flash.stat().st_size == 100  # left as found, for whoever restores it


@pytest.mark.parametrize("command", [("ledger", "status"), ("ledger", "devices"),
                                     ("ledger", "workloads"), ("attest", "series")])
def test_a_read_on_a_ledger_file_that_does_not_exist_is_refused_and_makes_no_file(
        run, tmp_path, command):
    """A mistyped --ledger file in a real folder was created empty and read as
    "no devices": a read must not make the ledger it reads."""
    typo = tmp_path / "ledgr.sqlite"
    code, _, err = run("--ledger", str(typo), *command)
    assert code == EXIT_LEDGER
    assert f"there is no ledger at {typo}" in one_error_line(err)
    assert not typo.exists()


def test_a_ledger_is_still_made_by_the_commands_that_record(run, tmp_path):
    made = tmp_path / "new.sqlite"
    ok(run, "--ledger", str(made), "ledger", "migrate")
    assert made.exists()
    assert "0 devices" in ok(run, "--ledger", str(made), "ledger", "status")
