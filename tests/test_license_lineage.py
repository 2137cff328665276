"""A license binds the lineage it declares: `license issue` registers the
workload with its parents in the signed registry and puts the lineage's digest
in every license (lineage_digest); `license verify` and `attest verify` given
the registry refuse, with the same verdict, a license whose declared lineage
or total is not the registry's, or whose registry was changed since."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from openheg.authority import Authority
from openheg.board import Proposal, combine, sign_proposal
from openheg.cli import EXIT_BAD_INPUT, EXIT_NOT_TRUSTED, EXIT_OK
from openheg.crypto import SigningKey
from openheg.lineage import NO_LINEAGE, LineageTrust, Node, Registry
from openheg.roles import Role, endorse_device
from openheg.wire import License
from cli_kit import ok, one_error_line, run  # noqa: F401 - run is a fixture
from test_license_evidence import NONCE, attestation_for

AUTH = ("--authority", "auth")


@pytest.fixture
def licensed(run, tmp_path):
    """A registry (old model in safe harbor, a base model), a device key its
    vendor endorsed, and a standard license for a fine-tune of the base."""
    ok(run, "authority", "create", "auth", "--parties", "1", "--horizon-threshold", "2")
    ok(run, "lineage", "add", "legacy", "--compute", "1e25", "--created", "2020-06-01",
       "--evidence", "archived paper", *AUTH)
    for signer in ("board-1", "board-2", "party-1"):
        ok(run, "lineage", "sign-harbor", "legacy", "--key", f"auth/keys/{signer}.key", *AUTH)
    ok(run, "lineage", "add", "base", "--compute", "3e12", "--created", "2024-03-01",
       "--parent", "legacy:distilled-from", *AUTH)
    device = SigningKey.generate()
    vendor = Role(tmp_path, SigningKey.generate())
    (tmp_path / "device.endorsement").write_bytes(
        endorse_device(vendor, device.public_key).to_bytes())
    (tmp_path / "vendor.pub").write_text(vendor.public_key.hex())
    ok(run, "license", "issue", *AUTH, "--workload", "ft", "--planned", "1e9", "--parent", "base",
       "--device-id", f"{device.public_key.hex()}:1", "--out", "lic.bin")
    return device, License.from_bytes((tmp_path / "lic.bin").read_bytes())


def verdicts(run, tmp_path, device, license_: License, name: str) -> tuple[int, str, int, str]:
    """license verify and attest verify, both given the registry."""
    (tmp_path / f"{name}.bin").write_bytes(license_.to_bytes())
    digest = Authority(tmp_path / "auth").policy_in_force().digest  # the device runs it
    (tmp_path / "att.bin").write_bytes(attestation_for(device, license_, digest))
    licensed, _, license_err = run("license", "verify", f"{name}.bin", *AUTH,
                                   "--registry", "lineage.json")
    attested, _, attest_err = run("attest", "verify", "att.bin", "--nonce", NONCE.hex(),
                                  "--endorsement", "device.endorsement", "--vendor-key",
                                  "vendor.pub", "--license", f"{name}.bin", *AUTH,
                                  "--registry", "lineage.json")
    return licensed, license_err, attested, attest_err


def reissued(tmp_path, license_: License, **changes) -> License:
    """What the issuer could sign: the same license with other lineage claims."""
    issuer = Authority(tmp_path / "auth").key("issuer")
    proposal = Proposal(replace(license_, signatures=(), **changes))
    return combine(proposal, [sign_proposal(proposal, issuer)])


def trust(tmp_path) -> LineageTrust:
    return LineageTrust.from_policies(Authority(tmp_path / "auth").policies())


def test_license_issue_registers_the_workload_and_binds_its_lineage(run, tmp_path, licensed):
    device, license_ = licensed
    registry = Registry.load(tmp_path / "lineage.json", trust(tmp_path))
    lineage = registry.lineage("ft")
    assert registry.nodes["ft"].kind == "run" and registry.nodes["ft"].compute_msflop == 10**12
    assert license_.lineage_digest == lineage.digest != NO_LINEAGE
    assert license_.lineage_msflop == lineage.history_msflop == 3 * 10**15  # legacy harbored
    codes = verdicts(run, tmp_path, device, license_, "good")
    assert codes[0] == codes[2] == EXIT_OK, codes
    # A renewal for the same workload cites the same lineage.
    ok(run, "license", "issue", *AUTH, "--workload", "ft", "--planned", "1e9",
       "--device-id", f"{device.public_key.hex()}:2", "--out", "renewal.bin")
    renewal = License.from_bytes((tmp_path / "renewal.bin").read_bytes())
    assert renewal.lineage_digest == license_.lineage_digest


@pytest.mark.parametrize("case,fragment", [
    ("understated-lineage", "declares a lineage of 0 milli-sFLOP"),
    ("other-total", "declares a workload total"),
    ("no-lineage-declared", "declares no registered lineage"),
    ("other-digest", "is not the one the license binds"),
    ("history-changed", "the registry was changed since"),
    ("harbor-lost", "not signed by the Horizon signers"),
])
def test_a_declared_lineage_that_is_not_the_registry_s_is_refused(run, tmp_path, licensed,
                                                                   case, fragment):
    device, license_ = licensed
    if case == "understated-lineage":
        candidate = reissued(tmp_path, license_, lineage_msflop=0)
    elif case == "other-total":
        candidate = reissued(tmp_path, license_, workload_total_msflop=10**11,
                             allocation_msflop=10**11)
    elif case == "no-lineage-declared":
        candidate = reissued(tmp_path, license_, lineage_msflop=0, lineage_digest=NO_LINEAGE)
    elif case == "other-digest":
        candidate = reissued(tmp_path, license_, lineage_digest=bytes(range(32)))
    else:
        candidate = license_
        registry = Registry.load(tmp_path / "lineage.json", trust(tmp_path))
        if case == "history-changed":  # the issuer rewrites the base model's compute
            old = registry.nodes["base"]
            registry.add(replace(old, compute_msflop=old.compute_msflop // 2),
                         replace_existing=True)
        else:  # the party's safe-harbor signature is withdrawn from the file
            registry.harbor_signatures["legacy"] = {
                k: v for k, v in registry.harbor_signatures["legacy"].items()
                if k != Authority(tmp_path / "auth").public_key("party-1")}
        registry.save(tmp_path / "lineage.json", Authority(tmp_path / "auth").key("issuer"))
    licensed_code, license_err, attested_code, attest_err = verdicts(
        run, tmp_path, device, candidate, case)
    assert licensed_code == attested_code == EXIT_NOT_TRUSTED, (license_err, attest_err)
    assert fragment in one_error_line(license_err) and fragment in attest_err
    # Without the registry, the signatures alone are checked (and hold).
    assert run("license", "verify", f"{case}.bin", *AUTH)[0] == EXIT_OK


def test_a_registry_that_holds_no_such_workload_or_is_not_signed(run, tmp_path, licensed):
    device, license_ = licensed
    registry = Registry.load(tmp_path / "lineage.json", trust(tmp_path))
    del registry.nodes["ft"]
    registry.save(tmp_path / "lineage.json", Authority(tmp_path / "auth").key("issuer"))
    code, _, err = run("license", "verify", "lic.bin", *AUTH, "--registry", "lineage.json")
    assert code == EXIT_NOT_TRUSTED and "not the registry the license cites" in err
    data = json.loads((tmp_path / "lineage.json").read_text())
    del data["signature"]
    (tmp_path / "lineage.json").write_text(json.dumps(data))
    code, _, err = run("license", "verify", "lic.bin", *AUTH, "--registry", "lineage.json")
    assert code == EXIT_NOT_TRUSTED and "unsigned" in one_error_line(err)


def test_license_issue_refuses_a_lineage_it_cannot_bind_and_changes_nothing(run, tmp_path,
                                                                           licensed):
    before = (tmp_path / "lineage.json").read_bytes()
    code, _, err = run("license", "issue", *AUTH, "--workload", "ft", "--planned", "2e9",
                       "--device-id", "11" * 32 + ":1", "--out", "x.bin")
    assert code == EXIT_BAD_INPUT and "registered in lineage.json with" in one_error_line(err)
    code, _, err = run("license", "issue", *AUTH, "--workload", "ft2", "--planned", "1e9",
                       "--parent", "nowhere", "--device-id", "11" * 32 + ":1", "--out", "x.bin")
    assert code == EXIT_BAD_INPUT and "unknown parent 'nowhere'" in one_error_line(err)
    # Big enough to need an inspector, with none the authority knows by that name.
    code, _, err = run("license", "issue", *AUTH, "--workload", "ft3", "--planned", "2e26",
                       "--parent", "base", "--inspector", "nobody", "--device-id",
                       "11" * 32 + ":1", "--out", "x.bin")
    assert code == EXIT_BAD_INPUT and "needs an inspector" in one_error_line(err)
    assert (tmp_path / "lineage.json").read_bytes() == before
    assert not (tmp_path / "x.bin").exists()
    node = Registry.load(tmp_path / "lineage.json", trust(tmp_path)).nodes["ft"]
    assert node.created == dt.datetime.now(dt.UTC).date() and node.parents[0].name == "base"


def test_a_workload_registered_beforehand_is_licensed_with_its_lineage(run, tmp_path, licensed):
    ok(run, "lineage", "add", "ft9", "--kind", "run", "--compute", "5e8", "--created",
       "2025-01-01", "--parent", "base", *AUTH)
    ok(run, "license", "issue", *AUTH, "--workload", "ft9", "--planned", "5e8",
       "--device-id", "11" * 32 + ":1", "--out", "ft9.bin")
    license_ = License.from_bytes((tmp_path / "ft9.bin").read_bytes())
    registry = Registry.load(tmp_path / "lineage.json", trust(tmp_path))
    assert license_.lineage_digest == registry.lineage("ft9").digest
    assert isinstance(registry.nodes["ft9"], Node)
    ok(run, "license", "verify", "ft9.bin", *AUTH, "--registry", "lineage.json")
