"""The `openheg` CLI through its real entry point, on emulated chips."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from openheg.cli import (
    EXIT_BAD_INPUT,
    EXIT_DEVICE_REFUSED,
    EXIT_NOT_TRUSTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    main,
)


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """Run the CLI in-process in tmp_path; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENHEG_HOME", str(tmp_path / "home"))

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def provisioned(run):
    assert run("authority", "create", "auth")[0] == EXIT_OK
    assert run("vendor", "create", "vendor")[0] == EXIT_OK
    code, out, err = run("device", "provision", "emu://chip0", "--authority", "auth",
                         "--vendor", "vendor")
    assert code == EXIT_OK, err
    return run


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("openheg: error: "), err
    return lines[0]


def test_license_to_exhaustion_to_verified_attestation(provisioned):
    run = provisioned
    code, out, _ = run("device", "info", "emu://chip0", "--json")
    info = json.loads(out)
    assert info["state"] == "PROVISIONED" and info["license_sequence"] == 0
    assert run("license", "issue", "--authority", "auth", "--device", "emu://chip0",
               "--workload", "w", "--allocation", "5e6", "--out", "lic.bin")[0] == EXIT_OK
    assert run("license", "install", "emu://chip0", "lic.bin")[0] == EXIT_OK
    code, out, _ = run("device", "run", "emu://chip0", "--lane", "fp16", "--ops", "1e7",
                       "--json")
    result = json.loads(out)
    assert code == EXIT_OK and not result["gate_open"]
    # 5e6 sFLOP at 1.2 sFLOP per FP16 op: the gate stops the job near 4.17e6 ops.
    assert 4_166_666 <= result["issued_ops"] < 4_166_666 + 3 * 4096
    assert run("device", "endorsement", "emu://chip0", "--out", "e.bin")[0] == EXIT_OK
    code, out, _ = run("attest", "emu://chip0", "--out", "att.bin", "--json")
    nonce = json.loads(out)["nonce"]
    code, out, err = run("verify", "att.bin", "--nonce", nonce, "--endorsement", "e.bin",
                         "--vendor-key", "vendor/vendor.key.pub", "--license", "lic.bin",
                         "--json")
    assert code == EXIT_OK, err
    report = json.loads(out)
    assert report["gate_state"] == "CLOSED" and "EXHAUSTED" in report["gate_causes"]
    assert report["lane_ops"][2] == result["issued_ops"]
    assert report["consumed_msflop"] == result["issued_ops"] * 1200
    assert report["consumed_msflop"] >= 5_000_000_000

    code, _, err = run("verify", "att.bin", "--nonce", "00" * 32, "--endorsement", "e.bin",
                       "--vendor-key", "vendor/vendor.key.pub")
    assert code == EXIT_NOT_TRUSTED and "different nonce" in one_error_line(err)
    code, _, err = run("license", "install", "emu://chip0", "lic.bin")
    assert code == EXIT_DEVICE_REFUSED and "REPLAYED" in one_error_line(err)


def test_a_license_for_another_device_is_refused(provisioned):
    run = provisioned
    assert run("device", "provision", "emu://chip1", "--authority", "auth",
               "--vendor", "vendor")[0] == EXIT_OK
    assert run("license", "issue", "--authority", "auth", "--device", "emu://chip1",
               "--workload", "w", "--allocation", "10", "--out", "lic1.bin")[0] == EXIT_OK
    before = run("device", "info", "emu://chip0", "--json")[1]
    code, _, err = run("license", "install", "emu://chip0", "lic1.bin")
    assert code == EXIT_DEVICE_REFUSED and "WRONG_DEVICE" in one_error_line(err)
    after = json.loads(run("device", "info", "emu://chip0", "--json")[1])
    assert {**json.loads(before), "reset_count": 0} == {**after, "reset_count": 0}


def test_a_license_from_an_untrusted_issuer_is_refused(provisioned):
    run = provisioned
    assert run("authority", "create", "rogue")[0] == EXIT_OK
    assert run("license", "issue", "--authority", "rogue", "--device", "emu://chip0",
               "--workload", "w", "--allocation", "10", "--out", "rogue.bin")[0] == EXIT_OK
    code, _, err = run("license", "install", "emu://chip0", "rogue.bin")
    assert code == EXIT_DEVICE_REFUSED and "SIGNER_UNTRUSTED" in one_error_line(err)


def test_provisioning_is_locked_for_good(provisioned):
    code, _, err = provisioned("device", "provision", "emu://chip0", "--authority", "auth",
                               "--vendor", "vendor")
    assert code == EXIT_DEVICE_REFUSED and "WRONG_STATE" in one_error_line(err)


@pytest.mark.parametrize("args,code,fragment", [
    (("license", "install", "emu://chip0", "missing.bin"), EXIT_BAD_INPUT, "cannot read"),
    (("license", "issue", "--authority", "nowhere", "--device-id", "00" * 32, "--sequence",
      "1", "--workload", "w", "--allocation", "1", "--out", "x"), EXIT_BAD_INPUT, "not found"),
    (("license", "issue", "--authority", "auth", "--device-id", "00" * 32, "--sequence", "1",
      "--workload", "w", "--allocation", "-1", "--out", "x"), EXIT_BAD_INPUT, "positive"),
    (("device", "run", "/dev/null-no", "--lane", "FP8", "--ops", "1"), EXIT_UNREACHABLE,
     "emu://"),
    (("device", "info", "/nonexistent/tty"), EXIT_UNREACHABLE, "cannot open"),
    (("device", "info", "emu://bad name"), EXIT_UNREACHABLE, "bad emulator URL"),
    (("attest", "emu://chip0", "--out", "a", "--nonce", "abcd"), EXIT_BAD_INPUT, "32 bytes"),
])
def test_bad_input_is_one_line_and_a_typed_exit(provisioned, args, code, fragment):
    got, _, err = provisioned(*args)
    assert got == code and fragment in one_error_line(err)


def test_a_truncated_license_file_is_refused_before_the_device(provisioned, tmp_path):
    run = provisioned
    assert run("license", "issue", "--authority", "auth", "--device", "emu://chip0",
               "--workload", "w", "--allocation", "10", "--out", "lic.bin")[0] == EXIT_OK
    data = (tmp_path / "lic.bin").read_bytes()
    (tmp_path / "short.bin").write_bytes(data[:-1])
    code, _, err = run("license", "install", "emu://chip0", "short.bin")
    assert code == EXIT_BAD_INPUT and "truncated" in one_error_line(err)


def test_console_script_reports_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "openheg.cli", "verify", "nope.bin",
                             "--nonce", "00", "--endorsement", "nope", "--vendor-key", "nope"],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in result.stderr
    one_error_line(result.stderr)
