"""Exit codes and options never hide a failure: a verdict of NOT TRUSTED exits 1
(README's exit codes), and an option given twice, or one that the command
would not use, is refused instead of being dropped silently."""

from __future__ import annotations

import json
from dataclasses import replace

import click
import pytest

from openheg.authority import Authority
from openheg.cli import EXIT_NOT_TRUSTED, EXIT_OK, EXIT_USAGE, cli
from openheg.crypto import SigningKey
from openheg.ledger import Ledger
from openheg.licensing import issue_license
from openheg.wire import Attestation, GateCause, GateState, RecordType
from cli_kit import ok, one_error_line, run  # noqa: F401 - run is a fixture


def attestation(device: SigningKey, license_, counter: int, consumed: int,
                policy_digest: bytes) -> bytes:
    body = Attestation(
        device_id=device.public_key, nonce=bytes(32), firmware_measurement=bytes(32),
        policy_version=1, license_id=license_.license_id, license_sequence=1,
        lane_ops=(0, consumed // 1000, 0, 0, 0, 0), consumed_msflop=consumed,
        remaining_msflop=license_.allocation_msflop - consumed, gate_state=GateState.OPEN,
        gate_causes=GateCause(0), report_counter=counter, reset_count=1, log_head=bytes(32),
        policy_digest=policy_digest)
    return replace(body, signature=device.sign_record(RecordType.ATTESTATION, body.body())
                   ).to_bytes()


def test_a_report_that_is_not_trusted_exits_1(run, tmp_path):
    authority = Authority.create(tmp_path / "auth", board_size=1, board_threshold=1)
    device = SigningKey.generate()
    license_ = issue_license(authority.key("issuer"), device_id=device.public_key,
                             workload="w", sequence=1, allocation_msflop=10**9)
    ledger = Ledger(tmp_path / "home" / "ledger.sqlite", create_folder=True)  # the default
    ledger.record_workload("w", license_.workload_id, 10**9, 0, "STANDARD")
    ledger.record_license(license_)
    digest = authority.policy_in_force().digest
    ledger.record_attestation(attestation(device, license_, 1, 10**6, digest), received_at=100)
    code, out, err = run("report", "w", "--authority", "auth", "--out", "rep", "--json")
    assert code == EXIT_OK and json.loads(out)["trusted"], err
    # The same report counter again with other numbers: a replay, severe.
    ledger.record_attestation(attestation(device, license_, 1, 2 * 10**6, digest),
                              received_at=200)
    ledger.close()
    code, out, err = run("report", "w", "--authority", "auth", "--out", "rep2", "--json")
    assert code == EXIT_NOT_TRUSTED
    assert "NOT TRUSTED" in err.strip().splitlines()[-1]
    assert not json.loads(out)["trusted"]  # the files and the verdict are still written
    assert not json.loads((tmp_path / "rep2" / "report-w.json").read_text())["trusted"]


def walk(group: click.Group, prefix=()):
    yield prefix, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from walk(command, prefix + (name,))
        else:
            yield prefix + (name,), command


def single_value_options():
    for path, command in walk(cli):
        for param in command.params:
            if isinstance(param, click.Option) and not param.multiple and not param.is_flag:
                yield pytest.param(path, param.opts[-1], id=" ".join(path + (param.opts[-1],)))


@pytest.mark.parametrize("path,option", list(single_value_options()))
def test_no_command_keeps_only_the_last_of_an_option_given_twice(run, path, option):
    code, out, err = run(*path, option, "1", option, "2")
    assert code == EXIT_USAGE, (out, err)
    assert f"{option} was given 2 times" in one_error_line(err)


def test_an_order_for_two_devices_is_refused_not_half_issued(run, tmp_path, monkeypatch):
    ok(run, "authority", "create", "auth")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", "emu://a", "emu://b", "--authority", "auth",
       "--vendor", "vendor")
    code, _, err = run("order", "issue", "--kind", "halt", "--device", "emu://a",
                       "--device", "emu://b", "--authority", "auth", "--signer", "board-1",
                       "--signer", "board-2", "--out", "halt.order")
    assert code == EXIT_USAGE and "--device was given 2 times" in one_error_line(err)
    assert not (tmp_path / "halt.order").exists()
    b = json.loads(ok(run, "device", "info", "emu://b", "--json"))["device_id"]
    code, _, err = run("order", "issue", "--kind", "halt", "--device", "emu://a",
                       "--device-id", b, "--authority", "auth", "--signer", "board-1",
                       "--signer", "board-2", "--out", "halt.order")
    assert code == EXIT_USAGE and "exactly one of --device and --device-id" in err
    ok(run, "license", "issue", "--authority", "auth", "--device", "emu://b",
       "--workload", "w", "--planned", "10", "--out", "lic-b.bin")
    code, _, err = run("order", "issue", "--kind", "halt", "--device", "emu://a", "--license",
                       "lic-b.bin", "--authority", "auth", "--signer", "board-1",
                       "--signer", "board-2", "--out", "halt.order")
    assert code == EXIT_USAGE and "names no license" in err
    code, _, err = run("order", "issue", "--kind", "pause", "--device", "emu://a", "--license",
                       "lic-b.bin", "--authority", "auth", "--signer", "inspector-1",
                       "--out", "pause.order")
    assert code == EXIT_USAGE and "license for device" in err
    code, _, err = run("order", "issue", "--kind", "halt", "--device-id", b, "--sequence", "1",
                       "--propose", "--signer", "board-1", "--out", "halt.json")
    assert code == EXIT_USAGE and "--propose" in err
    assert not (tmp_path / "halt.order").exists() and not (tmp_path / "halt.json").exists()
    # One order per device, each said plainly.
    out = ok(run, "order", "issue", "--kind", "halt", "--device", "emu://b", "--authority",
             "auth", "--signer", "board-1", "--signer", "board-2", "--out", "halt.order")
    assert b[:16] in out


def test_options_a_command_would_not_use_are_refused(run, tmp_path):
    ok(run, "authority", "create", "auth")
    ok(run, "policy", "draft", "--authority", "auth", "--note", "x", "--out", "v2.json")
    code, _, err = run("policy", "show", "--authority", "auth", "--policy", "v2.json")
    assert code == EXIT_USAGE and "exactly one of --authority and --policy" in err
    code, _, err = run("board", "combine", "v2.json", "v2.json", "--authority", "auth",
                       "--out", "v2.bin", "--license-file", "x.bin")
    assert code == EXIT_USAGE and "--license-file" in err
    code, _, err = run("attest", "verify", "att.bin", "--nonce", "00" * 32, "--vendor-key",
                       "00" * 32, "--registry", "lineage.json")
    assert code == EXIT_USAGE and "--registry checks the lineage of --license" in err


def test_options_a_standard_license_cannot_carry_are_said_to_be_unused(run):
    ok(run, "authority", "create", "auth")
    code, out, err = run("license", "issue", "--authority", "auth", "--device-id",
                         "11" * 32 + ":1", "--workload", "w", "--planned", "10",
                         "--inspector", "inspector-1", "--oversight-ppm", "50000",
                         "--out", "lic.bin")
    assert code == EXIT_OK, err
    assert "--inspector and --oversight-ppm not used" in err
    assert json.loads(ok(run, "license", "show", "lic.bin", "--json"))["oversight_ppm"] == 0
    code, out, err = run("license", "issue", "--authority", "auth", "--device-id",
                         "11" * 32 + ":2", "--workload", "w2", "--planned", "10",
                         "--out", "lic2.bin")
    assert code == EXIT_OK and "not used" not in err
