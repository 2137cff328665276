"""`openheg attest get/verify --format eat`: the device's EAT through the CLI,
verified as the binary attestation is; a token the operator edited, or a
file of the other format, is one line and a typed exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openheg import eat
from openheg.cli import EXIT_NOT_TRUSTED

from cli_kit import ok, one_error_line, run  # noqa: F401 - run is a fixture


@pytest.fixture
def licensed(run, monkeypatch):
    ok(run, "authority", "create", "auth")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", "emu://chip0", "--authority", "auth", "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    ok(run, "license", "issue", "--authority", "auth", "--device", "emu://chip0",
       "--workload", "w", "--planned", "5e6", "--out", "lic.bin")
    ok(run, "license", "install", "emu://chip0", "lic.bin")
    ok(run, "device", "run", "emu://chip0", "--lane", "fp16", "--ops", "1000")
    return run


def _verify_args(nonce: str, path: str) -> tuple[str, ...]:
    return ("attest", "verify", path, "--nonce", nonce, "--endorsements",
            "vendor/endorsements.json", "--vendor-key", "vendor/vendor.key.pub", "--license",
            "lic.bin", "--authority", "auth", "--format", "eat", "--json")


def test_an_eat_from_the_device_verifies_like_its_binary_attestation(licensed):
    run = licensed
    nonce = json.loads(ok(run, "attest", "get", "emu://chip0", "--out", "att.cwt",
                          "--format", "eat", "--json"))["nonce"]
    token = Path("att.cwt").read_bytes()
    assert token[:1] == b"\xd2"  # tag 18: COSE_Sign1
    report = json.loads(ok(run, *_verify_args(nonce, "att.cwt")))
    assert report["verified"] and report["lane_ops"][2] == 1000
    assert report["consumed_msflop"] == 1000 * 1200
    assert eat.attestation_from_eat(token).report_counter == report["report_counter"]


def test_an_edited_or_mistyped_eat_file_is_one_line_and_not_trusted(licensed):
    run = licensed
    nonce = json.loads(ok(run, "attest", "get", "emu://chip0", "--out", "att.cwt",
                          "--format", "eat", "--json"))["nonce"]
    token = bytearray(Path("att.cwt").read_bytes())
    at = bytes(token).index(bytes.fromhex(nonce)) + 3
    token[at] ^= 0x01  # one bit of the nonce claim
    Path("edited.cwt").write_bytes(bytes(token))
    code, _, err = run(*_verify_args(nonce, "edited.cwt"))
    assert code == EXIT_NOT_TRUSTED and "EAT signature does not verify" in one_error_line(err)
    ok(run, "attest", "get", "emu://chip0", "--out", "att.bin", "--nonce", nonce)
    code, _, err = run(*_verify_args(nonce, "att.bin"))
    assert code == EXIT_NOT_TRUSTED and "EAT is malformed" in one_error_line(err)
