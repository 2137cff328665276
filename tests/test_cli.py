"""The `openheg` CLI through its real entry point, on emulated chips (the real C
firmware) and offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from openheg import wire
from openheg.cli import (
    EXIT_BAD_INPUT,
    EXIT_DEVICE_REFUSED,
    EXIT_NOT_TRUSTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    cli,
)
from openheg.ledger import HEAD_REVISION
from cli_kit import ok, one_error_line, run  # noqa: F401 - run is a fixture


@pytest.fixture
def provisioned(run, monkeypatch):
    ok(run, "authority", "create", "auth")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", "emu://chip0", "--authority", "auth", "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")  # every emu:// command is a power-up
    return run


def test_license_to_exhaustion_to_verified_attestation(provisioned):
    run = provisioned
    info = json.loads(ok(run, "device", "info", "emu://chip0", "--json"))
    assert info["state"] == "PROVISIONED" and info["license_sequence"] == 0
    assert info["policy_version"] == 1
    ok(run, "license", "issue", "--authority", "auth", "--device", "emu://chip0",
       "--workload", "w", "--planned", "5e6", "--out", "lic.bin")
    ok(run, "license", "install", "emu://chip0", "lic.bin")
    result = json.loads(ok(run, "device", "run", "emu://chip0", "--lane", "fp16", "--ops", "1e7",
                           "--json"))
    assert not result["gate_open"]
    # 5e6 sFLOP at 1.2 sFLOP per FP16 op: the gate stops the job near 4.17e6 ops.
    assert 4_166_666 <= result["issued_ops"] < 4_166_666 + 3 * 4096
    nonce = json.loads(ok(run, "attest", "get", "emu://chip0", "--out", "att.bin",
                          "--json"))["nonce"]
    report = json.loads(ok(run, "attest", "verify", "att.bin", "--nonce", nonce,
                           "--endorsements", "vendor/endorsements.json",
                           "--vendor-key", "vendor/vendor.key.pub", "--license", "lic.bin",
                           "--authority", "auth", "--policy-version", "1", "--json"))
    assert report["gate_state"] == "CLOSED" and "EXHAUSTED" in report["gate_causes"]
    assert report["lane_ops"][2] == result["issued_ops"]
    assert report["consumed_msflop"] == result["issued_ops"] * 1200 >= 5_000_000_000

    code, _, err = run("attest", "verify", "att.bin", "--nonce", "00" * 32, "--endorsements",
                       "vendor/endorsements.json", "--vendor-key", "vendor/vendor.key.pub")
    assert code == EXIT_NOT_TRUSTED and "different nonce" in one_error_line(err)
    code, _, err = run("license", "install", "emu://chip0", "lic.bin")
    assert code == EXIT_DEVICE_REFUSED and "REPLAYED" in one_error_line(err)


def test_attest_verify_with_an_authority_names_and_checks_the_policy_digest(provisioned):
    """Finding 9 through the CLI: --authority holds the device to the policy the
    authority published under the attested version, digest and all."""
    run = provisioned
    ok(run, "authority", "create", "other")  # its own v1: same version, another policy
    nonce = json.loads(ok(run, "attest", "get", "emu://chip0", "--out", "att.bin",
                          "--json"))["nonce"]
    args = ("attest", "verify", "att.bin", "--nonce", nonce, "--endorsements",
            "vendor/endorsements.json", "--vendor-key", "vendor/vendor.key.pub")
    from pathlib import Path

    published = wire.Policy.from_bytes(
        Path("auth/policies/v0001.bin").read_bytes()).digest.hex()  # run's cwd
    out = ok(run, *args, "--authority", "auth")
    assert f"policy v1 (digest {published[:16]}...)" in out
    assert json.loads(ok(run, *args, "--authority", "auth", "--json"))["policy_digest"] \
        == published
    code, _, err = run(*args, "--authority", "other")
    assert code == EXIT_NOT_TRUSTED
    assert "another policy v1 than the authority's" in one_error_line(err)


def test_an_inference_license_from_the_cli_runs_under_the_inference_cap(run, monkeypatch):
    """--kind inference is signed into the license; the device holds its link
    to the policy's inference cap (every emu:// command is a power-up, so the
    cap is loaded each time) and computes."""
    ok(run, "authority", "create", "auth", "--set", "inference_link_wire_mb_per_s=20000",
       "--set", "inference_link_burst_wire_bytes=65536")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", "emu://chip0", "--authority", "auth", "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    issued = json.loads(ok(run, "license", "issue", "--authority", "auth", "--device",
                           "emu://chip0", "--workload", "serve", "--planned", "5e6",
                           "--kind", "inference", "--out", "lic.bin", "--json"))
    assert issued["kind"] == "inference"
    assert ", inference, " in ok(run, "license", "show", "lic.bin")
    ok(run, "license", "install", "emu://chip0", "lic.bin")
    result = json.loads(ok(run, "device", "run", "emu://chip0", "--lane", "fp16", "--ops", "1e3",
                           "--json"))
    assert result["issued_ops"] == 1000
    ok(run, "attest", "get", "emu://chip0", "--out", "att.bin")
    attestation = wire.Attestation.from_bytes(Path("att.bin").read_bytes())  # run's cwd
    assert (attestation.link_rate, attestation.link_burst) == (
        wire.link_rate_register(20_000, attestation.link_clock_hz), 65_536)
    code, _, err = run("license", "issue", "--authority", "auth", "--device", "emu://chip0",
                       "--workload", "w", "--planned", "5e6", "--kind", "serving",
                       "--out", "x.bin")
    assert code == EXIT_USAGE and "'serving' is not one of" in one_error_line(err)


def test_a_license_for_another_device_or_from_a_rogue_issuer_is_refused(provisioned):
    run = provisioned
    ok(run, "device", "provision", "emu://chip1", "--authority", "auth", "--vendor", "vendor")
    ok(run, "license", "issue", "--authority", "auth", "--device", "emu://chip1",
       "--workload", "w", "--planned", "10", "--out", "lic1.bin")
    before = json.loads(ok(run, "device", "info", "emu://chip0", "--json"))
    code, _, err = run("license", "install", "emu://chip0", "lic1.bin")
    assert code == EXIT_DEVICE_REFUSED and "WRONG_DEVICE" in one_error_line(err)
    after = json.loads(ok(run, "device", "info", "emu://chip0", "--json"))
    assert {**before, "reset_count": 0} == {**after, "reset_count": 0}
    ok(run, "authority", "create", "rogue")
    ok(run, "license", "issue", "--authority", "rogue", "--device", "emu://chip0",
       "--workload", "w", "--planned", "10", "--out", "rogue.bin")
    code, _, err = run("license", "install", "emu://chip0", "rogue.bin")
    assert code == EXIT_DEVICE_REFUSED and "SIGNER_UNTRUSTED" in one_error_line(err)
    code, _, err = run("device", "provision", "emu://chip0", "--authority", "auth",
                       "--vendor", "vendor")
    assert code == EXIT_DEVICE_REFUSED and "already provisioned" in one_error_line(err)


def test_frontier_workload_across_a_fleet_with_orders_series_and_report(run, monkeypatch,
                                                                        tmp_path):
    ok(run, "authority", "create", "auth", "--set", "frontier_base_msflop=1000000")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", "emu://a", "emu://b", "--authority", "auth",
       "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    issued = json.loads(ok(run, "license", "issue", "--authority", "auth", "--workload", "ft",
                           "--planned", "3e6", "--device", "emu://a", "--device", "emu://b",
                           "--weight", "2", "--weight", "1", "--out-dir", "lic", "--json"))
    assert issued["class"] == "FRONTIER"
    assert [l["allocation_msflop"] for l in issued["licenses"]] == [2 * 10**9, 10**9]
    paths = []
    for i, item in enumerate(issued["licenses"]):
        proposal = item["path"]
        ok(run, "board", "sign", proposal, "--key", "auth/keys/inspector-1.key",
           "--out", f"insp{i}.share")
        code, _, err = run("board", "combine", proposal, proposal + ".issuer.share",
                           "--authority", "auth", "--out", f"lic{i}.bin")
        assert code == EXIT_BAD_INPUT and "inspector's signature" in one_error_line(err)
        code, _, err = run("board", "combine", proposal, proposal + ".issuer.share",
                           f"insp{i}.share", f"insp{i}.share", "--authority", "auth",
                           "--out", f"lic{i}.bin")
        assert code == EXIT_BAD_INPUT and "signed twice" in one_error_line(err)
        ok(run, "board", "sign", proposal, "--key", "auth/keys/party-1.key", "--out", "p.share")
        code, _, err = run("board", "combine", proposal, proposal + ".issuer.share",
                           f"insp{i}.share", "p.share", "--authority", "auth",
                           "--out", f"lic{i}.bin")
        assert code == EXIT_BAD_INPUT and "unknown signer" in one_error_line(err)
        ok(run, "board", "combine", proposal, proposal + ".issuer.share", f"insp{i}.share",
           "--authority", "auth", "--out", f"lic{i}.bin")
        ok(run, "license", "verify", f"lic{i}.bin", "--authority", "auth")
        paths.append(f"lic{i}.bin")
    ok(run, "license", "install", "emu://a", paths[0])
    ok(run, "license", "install", "emu://b", paths[1])
    ok(run, "order", "issue", "--kind", "pause", "--device", "emu://b", "--license", paths[1],
       "--authority", "auth", "--signer", "inspector-1", "--out", "pause.order")
    # The pause names the license's workload, not the license: it binds the
    # workload whatever license runs it.
    pause = wire.Order.from_bytes(Path("pause.order").read_bytes())
    assert pause.workload_id == wire.License.from_bytes(Path(paths[1]).read_bytes()).workload_id
    assert pause.license_id == bytes(16)
    code, _, err = run("order", "issue", "--kind", "halt", "--device", "emu://b",
                       "--authority", "auth", "--signer", "board-1", "--out", "halt.order")
    assert code == EXIT_BAD_INPUT and "board quorum" in one_error_line(err)
    ok(run, "order", "send", "emu://b", "pause.order")
    paused = json.loads(ok(run, "device", "run", "emu://b", "--lane", "FP8", "--ops", "1e5",
                           "--json"))
    assert paused["issued_ops"] == 0 and not paused["gate_open"]
    ok(run, "order", "issue", "--kind", "resume", "--role", "board", "--device", "emu://b",
       "--license", paths[1], "--authority", "auth", "--signer", "board-1",
       "--signer", "board-2",
       "--out", "resume.order")
    ok(run, "order", "send", "emu://b", "resume.order")
    assert json.loads(ok(run, "device", "run", "emu://b", "--lane", "FP8", "--ops", "1e5",
                         "--json"))["issued_ops"] == 100_000
    ok(run, "device", "run", "emu://a", "--lane", "FP16", "--ops", "1e7")
    for _ in range(2):
        code, out, err = run("attest", "collect", "emu://a", "emu://b", "--endorsements",
                             "vendor/endorsements.json", "--vendor-key", "vendor/vendor.key.pub",
                             "--policy-version", "1", "--json")
        assert code == EXIT_OK, err
        assert "[2/2] emu://b: verified" in err  # progress on stderr
    series = json.loads(ok(run, "attest", "series", "--deadline", "3600", "--json"))
    assert series["trusted"] and series["devices"] == 2
    workloads = json.loads(ok(run, "ledger", "workloads", "--json"))
    # chip a ran into its 2e9 allocation, less the 1 % the device holds back for
    # oversight (the policy's minimum); chip b metered its 1e5 FP8 ops.
    held_back = wire.oversight_reserve_msflop(2_000_000_000, 10_000)
    assert workloads[0]["metered_msflop"] >= 2_000_000_000 - held_back + 100_000_000
    assert [d["reports"] for d in json.loads(ok(run, "ledger", "devices", "--json"))] == [2, 2]
    out = json.loads(ok(run, "report", "ft", "--authority", "auth", "--out", "rep", "--json"))
    assert out["trusted"] and (tmp_path / "rep" / "report-ft.png").exists()
    data = json.loads((tmp_path / "rep" / "report-ft.json").read_text())
    assert data["license_class"] == "FRONTIER" and len(data["devices"]) == 2
    license_id = issued["licenses"][1]["license_id"]
    ok(run, "license", "revoke", license_id, "--reason", "withdrawn")
    data = json.loads(ok(run, "report", "ft", "--authority", "auth", "--out", "rep2", "--json"))
    revoked = json.loads((tmp_path / "rep2" / "report-ft.json").read_text())["anomalies"]
    assert "revoked-license-used" in [a["kind"] for a in revoked] and data["trusted"]
    assert all(not a["severe"] for a in revoked)


def test_board_vote_rotates_thresholds_offline_and_devices_follow(provisioned):
    run = provisioned
    before = json.loads(ok(run, "policy", "thresholds", "--authority", "auth", "--on",
                           "2030-01-01", "--json"))
    ok(run, "policy", "draft", "--authority", "auth", "--set",
       f"frontier_base_msflop={before['frontier_msflop'] // 4}", "--out", "v2.json")
    shown = json.loads(ok(run, "policy", "show", "--policy", "v2.json", "--json"))
    assert shown["policy_version"] == 2
    ok(run, "board", "sign", "v2.json", "--key", "auth/keys/board-1.key", "--out", "a.share")
    ok(run, "board", "sign", "v2.json", "--key", "auth/keys/board-3.key", "--out", "c.share")
    ok(run, "authority", "keygen", "outsider.key")
    ok(run, "board", "sign", "v2.json", "--key", "outsider.key", "--out", "x.share")
    code, _, err = run("board", "combine", "v2.json", "a.share", "x.share", "--authority",
                       "auth", "--out", "v2.bin")
    assert code == EXIT_BAD_INPUT and "unknown signer" in one_error_line(err)
    code, _, err = run("board", "combine", "v2.json", "a.share", "--authority", "auth",
                       "--out", "v2.bin")
    assert code == EXIT_BAD_INPUT and "needs 2" in one_error_line(err)
    ok(run, "board", "combine", "v2.json", "a.share", "c.share", "--authority", "auth",
       "--out", "v2.bin", "--publish")
    after = json.loads(ok(run, "policy", "thresholds", "--authority", "auth", "--on",
                          "2030-01-01", "--json"))
    assert after["policy_version"] == 2 and after["frontier_msflop"] < before["frontier_msflop"]
    ok(run, "policy", "install", "emu://chip0", "--authority", "auth")
    assert json.loads(ok(run, "device", "info", "emu://chip0", "--json"))["policy_version"] == 2
    assert "2 policies, chain valid" in ok(run, "authority", "show", "--authority", "auth")


def test_lineage_commands(run):
    ok(run, "authority", "create", "auth", "--board-size", "3", "--threshold", "2",
       "--horizon-threshold", "2")
    auth = ("--authority", "auth")
    ok(run, "lineage", "add", "old", "--compute", "1e25", "--created", "2020-01-01",
       "--evidence", "paper", *auth)
    for signer in ("board-1", "board-3", "party-1", "party-2"):
        out = ok(run, "lineage", "sign-harbor", "old", "--key", f"auth/keys/{signer}.key", *auth)
    assert "it is in safe harbor" in out
    ok(run, "lineage", "add", "base", "--compute", "3e23", "--created", "2024-01-01",
       "--parent", "old:distilled-from", "--family", "acme", "--parameters", "7000000000",
       *auth)
    ok(run, "lineage", "add", "synth", "--kind", "dataset", "--compute", "1e22",
       "--created", "2024-02-01", "--parent", "base:data-generated-by", *auth)
    size = json.loads(ok(run, "lineage", "size", "--planned", "1e24", "--parent", "base",
                         "--parent", "synth", *auth, "--json"))
    assert size["total_msflop"] == (10**24 + 3 * 10**23 + 10**22) * 1000
    assert size["safe_harbor_nodes"] == ["old"] and size["unproven_harbor_claims"] == []
    check = json.loads(ok(run, "lineage", "family-check", "acme-2", "--family", "acme",
                          "--compute", "1e23", "--created", "2025-01-01", "--parent", "base",
                          "--parameters", "9000000000", *auth, "--json"))
    assert check["decision"] == "full-report"  # 9e9 > 1.2 * 7e9 parameters
    code, _, err = run("lineage", "add", "orphan", "--compute", "1", "--created", "2024-01-01",
                       "--parent", "nowhere", *auth)
    assert code == EXIT_BAD_INPUT and "unknown parent 'nowhere'" in one_error_line(err)
    code, _, err = run("lineage", "size", "base", "--parent", "synth", *auth)
    assert code == EXIT_USAGE and "--parent is for a proposed workload" in one_error_line(err)
    assert "1 in safe harbor" in ok(run, "lineage", "check", *auth)


def test_lineage_cannot_be_laundered(run, tmp_path):
    """The review: `lineage add X --created 2021-08-31 --parent Z --evidence
    "trust me"` put 6e25 sFLOP of history in safe harbor, a child dated before
    its parent was accepted, and the registry was unsigned local JSON."""
    ok(run, "authority", "create", "auth")
    auth = ("--authority", "auth")
    ok(run, "lineage", "add", "Z", "--compute", "6e25", "--created", "2021-01-01", *auth)
    ok(run, "lineage", "add", "X", "--compute", "1e20", "--created", "2021-08-31",
       "--parent", "Z", "--evidence", "trust me", *auth)
    size = json.loads(ok(run, "lineage", "size", "--planned", "1e9", "--parent", "X", *auth,
                         "--json"))
    assert size["total_msflop"] == (6 * 10**25 + 10**20 + 10**9) * 1000
    assert size["unproven_harbor_claims"] == ["X"] and size["safe_harbor_nodes"] == []
    # The issuer and the inspector cannot sign it into safe harbor; the board
    # quorum alone, without the party representatives, does not suffice.
    for signer in ("issuer", "inspector-1"):
        code, _, err = run("lineage", "sign-harbor", "X", "--key", f"auth/keys/{signer}.key",
                           *auth)
        assert code == EXIT_BAD_INPUT and "Horizon license" in one_error_line(err)
    for signer in ("board-1", "board-2", "board-3"):
        ok(run, "lineage", "sign-harbor", "X", "--key", f"auth/keys/{signer}.key", *auth)
    size = json.loads(ok(run, "lineage", "size", "--planned", "1e9", "--parent", "X", *auth,
                         "--json"))
    assert size["total_msflop"] > 6 * 10**28
    code, _, err = run("lineage", "add", "C", "--compute", "1", "--created", "2020-01-01",
                       "--parent", "Z", *auth)
    assert code == EXIT_BAD_INPUT and "before its parent Z" in one_error_line(err)
    registry = json.loads((tmp_path / "lineage.json").read_text())
    registry["nodes"][1]["compute_msflop"] = 0  # Z, edited by hand
    (tmp_path / "lineage.json").write_text(json.dumps(registry))
    code, _, err = run("lineage", "size", "--planned", "1e9", "--parent", "X", *auth)
    assert code == EXIT_NOT_TRUSTED and "changed after it was signed" in one_error_line(err)
    del registry["signature"]
    (tmp_path / "lineage.json").write_text(json.dumps(registry))
    code, _, err = run("lineage", "check", *auth)
    assert code == EXIT_NOT_TRUSTED and "unsigned" in one_error_line(err)


@pytest.mark.parametrize("args,code,fragment", [
    (("license", "install", "emu://chip0", "missing.bin"), EXIT_BAD_INPUT, "cannot read"),
    (("license", "issue", "--authority", "nowhere", "--device-id", "00" * 32 + ":1",
      "--workload", "w", "--planned", "1", "--out", "x"), EXIT_BAD_INPUT,
     "not an authority directory"),
    (("license", "issue", "--authority", "auth", "--device-id", "00" * 32 + ":1",
      "--workload", "w", "--planned", "-1", "--out", "x"), EXIT_BAD_INPUT, "positive"),
    (("device", "run", "/dev/null-no", "--lane", "FP8", "--ops", "1"), EXIT_UNREACHABLE,
     "emu://"),
    (("device", "info", "/nonexistent/tty"), EXIT_UNREACHABLE, "cannot open"),
    (("device", "info", "emu://bad name"), EXIT_UNREACHABLE, "bad emulator URL"),
    (("attest", "get", "emu://chip0", "--out", "a", "--nonce", "abcd"), EXIT_BAD_INPUT,
     "32 bytes"),
    (("policy", "thresholds", "--authority", "auth", "--on", "someday"), EXIT_BAD_INPUT,
     "not a date"),
    (("board", "sign", "missing.json", "--key", "k", "--out", "s"), EXIT_BAD_INPUT,
     "cannot read"),
    (("--ledger", "nope://x", "ledger", "status"), 6, "cannot open ledger"),
    (("policy", "draft", "--authority", "auth", "--set", "baselines=1", "--out", "p.json"),
     EXIT_BAD_INPUT, "baseline"),
])
def test_bad_input_is_one_line_and_a_typed_exit(provisioned, args, code, fragment):
    got, _, err = provisioned(*args)
    assert got == code and fragment in one_error_line(err)


def test_a_truncated_license_file_is_refused_before_the_device(provisioned, tmp_path):
    run = provisioned
    ok(run, "license", "issue", "--authority", "auth", "--device", "emu://chip0",
       "--workload", "w", "--planned", "10", "--out", "lic.bin")
    data = (tmp_path / "lic.bin").read_bytes()
    (tmp_path / "short.bin").write_bytes(data[:-1])
    code, _, err = run("license", "install", "emu://chip0", "short.bin")
    assert code == EXIT_BAD_INPUT and "truncated" in one_error_line(err)


def test_ledger_status_and_migrate(run, tmp_path):
    url = f"sqlite:///{tmp_path / 'reg.sqlite'}"
    assert f"revision {HEAD_REVISION}" in ok(run, "--ledger", url, "ledger", "migrate")
    status = json.loads(ok(run, "--ledger", url, "ledger", "status", "--json"))
    assert status["revision"] == HEAD_REVISION and status["attestations"] == 0


def walk(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from walk(command, prefix + (name,))


def test_every_command_has_help_with_an_example(run):
    commands = list(walk(cli))
    groups = {p[0] for p, c in commands if isinstance(c, click.Group)}
    assert {"authority", "board", "policy", "lineage", "license", "order", "vendor", "device",
            "attest", "ledger"} <= groups and ("report",) in [p for p, _ in commands]
    for path, command in commands:
        code, out, _ = run(*path, "--help")
        assert code == EXIT_OK
        if not isinstance(command, click.Group):
            assert "Example" in out, f"openheg {' '.join(path)} --help has no example"


def test_console_script_reports_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "openheg.cli", "attest", "verify", "nope.bin",
                             "--nonce", "00", "--endorsements", "nope", "--vendor-key", "00" * 32],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode in (EXIT_BAD_INPUT, EXIT_NOT_TRUSTED)
    assert "Traceback" not in result.stderr
    one_error_line(result.stderr)


@pytest.mark.parametrize("assignment,message", [
    ("board_threshold=1", "give --threshold"),
    ("horizon_board_threshold=2", "give --horizon-threshold"),
    ("frontier_base_msflop=1e400", "does not fit"),
    ("frontier_base_msflop=1e999999", "does not fit"),
    ("frontier_base_msflop=inf", "is not an integer"),
    ("frontier_base_msflop=nan", "is not an integer"),
])
def test_authority_create_refuses_a_bad_set_in_one_line(run, assignment, message):
    """Regression (issue 11's sweep): these were internal errors (int of inf, a
    duplicate keyword), or would build a million-digit number."""
    code, _, err = run("authority", "create", "auth", "--set", assignment)
    assert code != 0 and message in one_error_line(err)
    assert not (Path("auth") / "policies").exists()


@pytest.mark.parametrize("ops", ["inf", "nan", "1e400", "-1", "1.5", "2.5e0", "two", "",
                                 "1e39"])
def test_device_run_refuses_an_ops_count_that_is_not_a_whole_countable_number(run, tmp_path,
                                                                               ops):
    """inf and nan were internal errors (int() of a float), 1.5 ran 1 op, 1e39 is past
    the meter's 128-bit lane counter; each is one line, exit 3, and no chip made."""
    code, out, err = run("device", "run", "emu://chip0", "--lane", "FP8", "--ops", ops)
    assert code == EXIT_BAD_INPUT, err
    assert "ops" in one_error_line(err)
    assert out == ""
    assert not (tmp_path / "home" / "emu").exists()


def test_device_run_prints_a_huge_request_in_e_notation():
    from openheg.cli.device import format_count, parse_count

    assert parse_count("1e38") == 10**38 and parse_count(" 2000 ") == 2000
    assert format_count(10**38) == "1.0000e+38"
    assert format_count(999_999_999_999) == "999999999999"
