"""`openheg attest verify --license L` takes L as evidence, so it must authenticate
L exactly as `openheg license verify` does: every field of the license body and
the signature set is mutated, each mutant re-signed by the signer sets an
operator could gather, and the two commands must agree on every one.

The device's attestation is made for each mutant (license id, sequence,
allocation), so the binding holds and only the authentication can refuse;
a mutant for another device is refused by the binding as well."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import replace

import pytest

from openheg import wire
from openheg.authority import Authority
from openheg.crypto import SigningKey
from openheg.board import Proposal, combine, sign_proposal
from openheg.cli import EXIT_NOT_TRUSTED, EXIT_OK, EXIT_USAGE
from openheg.errors import RecordError
from openheg.licensing import DeviceSlot, plan_workload, sign_licenses
from openheg.roles import Role, endorse_device
from openheg.wire import Attestation, GateCause, GateState, License, LicenseClass, RecordType
from cli_kit import run  # noqa: F401 - a fixture

NONCE = bytes(range(32))
CONSUMED = 1_000


@pytest.fixture
def evidence(run, tmp_path):
    """An authority, a device key its vendor endorsed, and a Frontier license."""
    authority = Authority.create(tmp_path / "auth", board_size=3, board_threshold=2,
                                 inspectors=2, parties=2, frontier_base_msflop=10**6,
                                 horizon_base_msflop=10**9)
    policy = authority.policy_in_force()
    device = SigningKey.generate()
    vendor = Role(tmp_path, SigningKey.generate())
    (tmp_path / "device.endorsement").write_bytes(
        endorse_device(vendor, device.public_key).to_bytes())
    (tmp_path / "vendor.pub").write_text(vendor.public_key.hex())
    plan = plan_workload(policy, workload="w", planned_msflop=5 * 10**6, lineage_msflop=0,
                         devices=[DeviceSlot(device.public_key, 1)],
                         inspector_key=authority.public_key("inspector-1"))
    keys = {name: authority.key(name) for name in
            ("issuer", "inspector-1", "inspector-2", "board-1", "board-2", "board-3",
             "party-1", "party-2")}
    (license_,) = sign_licenses(policy, plan.licenses, [keys["issuer"], keys["inspector-1"]])
    return authority, device, keys, license_


def attestation_for(device: SigningKey, license_: License, policy_digest: bytes) -> bytes:
    body = Attestation(
        device_id=device.public_key, nonce=NONCE, firmware_measurement=bytes(32),
        policy_version=1, license_id=license_.license_id, license_sequence=license_.sequence,
        lane_ops=(0, 1, 0, 0, 0, 0), consumed_msflop=CONSUMED,
        remaining_msflop=max(license_.allocation_msflop - CONSUMED, 0),
        gate_state=GateState.OPEN, gate_causes=GateCause(0), report_counter=1, reset_count=1,
        log_head=bytes(32), policy_digest=policy_digest)
    return replace(body, signature=device.sign_record(RecordType.ATTESTATION, body.body())
                   ).to_bytes()


def field_mutations(license_: License, keys: dict[str, SigningKey]) -> list[tuple[str, object]]:
    """For every body field: values an operator would try."""
    outsider = SigningKey(b"\x5a" * 32).public_key
    out: list[tuple[str, object]] = []
    for item in dataclasses.fields(License):
        name, value = item.name, getattr(license_, item.name)
        if name == "signatures":
            continue
        if name == "license_class":
            out += [(name, cls) for cls in LicenseClass if cls != value]
        elif isinstance(value, bytes):
            candidates = [bytes([value[0] ^ 1]) + value[1:], value[:-1] + bytes([value[-1] ^ 0x80]),
                          bytes(len(value)), os.urandom(len(value))]
            if len(value) == wire.KEY_SIZE:
                candidates += [keys["inspector-2"].public_key, keys["board-1"].public_key,
                               keys["issuer"].public_key, outsider]
            out += [(name, v) for v in candidates if v != value]
        else:
            candidates = {value + 1, value * 2, max(value - 1, 0), 0, 1, value + 10**6}
            out += [(name, v) for v in sorted(candidates) if v != value]
    return out


def signer_sets(keys: dict[str, SigningKey]) -> list[tuple[str, ...]]:
    operator = ("operator",)
    return [("issuer",), ("issuer", "inspector-1"), ("issuer", "inspector-2"),
            ("inspector-1",), operator + ("inspector-1",), ("issuer", "inspector-1") + operator,
            ("issuer", "inspector-1", "board-1", "board-2"),
            ("issuer", "inspector-1", "board-1", "board-2", "board-3", "party-1"),
            ("issuer", "inspector-1", "board-1", "board-2", "board-3", "party-1", "party-2")]


def signed_by(body: License, names: tuple[str, ...], keys: dict[str, SigningKey]) -> License:
    proposal = Proposal(replace(body, signatures=()))
    return combine(proposal, [sign_proposal(proposal, keys[n]) for n in names])


def signature_set_mutations(license_: License, keys: dict[str, SigningKey]) -> list[License]:
    entries = license_.signatures
    operator = keys["operator"]
    out = [replace(license_, signatures=entries[:i] + entries[i + 1:])
           for i in range(len(entries))]
    for i, entry in enumerate(entries):
        flipped = entry.signature[:-1] + bytes([entry.signature[-1] ^ 1])
        forged = wire.SignatureEntry(operator.public_key, entry.signature)
        for changed in (wire.SignatureEntry(entry.signer, flipped), forged,
                        wire.SignatureEntry(entry.signer, operator.sign(
                            license_.signing_message()))):
            others = entries[:i] + entries[i + 1:] + (changed,)
            out.append(replace(license_, signatures=tuple(sorted(others, key=lambda e: e.signer))))
    extra = wire.SignatureEntry(operator.public_key, operator.sign(license_.signing_message()))
    out.append(replace(license_, signatures=tuple(sorted(entries + (extra,),
                                                         key=lambda e: e.signer))))
    return out


def mutants(license_: License, keys: dict[str, SigningKey]) -> list[License]:
    out = signature_set_mutations(license_, keys)
    for name, value in field_mutations(license_, keys):
        try:
            body = replace(license_, **{name: value})
            body.body()
        except RecordError:
            continue  # no such license can be written down
        out.append(body)  # the original signatures over other bytes
        out += [signed_by(body, names, keys) for names in signer_sets(keys)]
    return out


def test_attest_verify_refuses_exactly_what_license_verify_refuses(run, evidence, tmp_path):
    authority, device, keys, license_ = evidence
    keys = {**keys, "operator": SigningKey.generate()}
    candidates = mutants(license_, keys)
    digest = authority.policy_in_force().digest  # the device runs the published policy
    verdicts = {"both accept": 0, "both refuse": 0}
    for i, candidate in enumerate(candidates):
        path = tmp_path / f"m{i}.license"
        path.write_bytes(candidate.to_bytes())
        (tmp_path / "att.bin").write_bytes(attestation_for(device, candidate, digest))
        licensed, _, _ = run("license", "verify", str(path), "--authority", "auth")
        attested, _, err = run("attest", "verify", "att.bin", "--nonce", NONCE.hex(),
                               "--endorsement", "device.endorsement", "--vendor-key",
                               "vendor.pub", "--license", str(path), "--authority", "auth")
        assert licensed in (EXIT_OK, EXIT_NOT_TRUSTED) and attested in (EXIT_OK, EXIT_NOT_TRUSTED)
        binds = candidate.device_id == device.public_key
        expected = EXIT_OK if licensed == EXIT_OK and binds else EXIT_NOT_TRUSTED
        assert attested == expected, (i, candidate, err)
        if licensed == EXIT_OK and not binds:
            assert "another device" in err
        verdicts["both accept" if attested == EXIT_OK else "both refuse"] += 1
    # Both verdicts occur many times: the comparison is not vacuous.
    assert len(candidates) > 500
    assert verdicts["both accept"] > 100 and verdicts["both refuse"] > 300, verdicts


def test_a_license_as_evidence_needs_the_authority(run, evidence, tmp_path):
    authority, device, _, license_ = evidence
    (tmp_path / "lic.bin").write_bytes(license_.to_bytes())
    (tmp_path / "att.bin").write_bytes(
        attestation_for(device, license_, authority.policy_in_force().digest))
    args = ("attest", "verify", "att.bin", "--nonce", NONCE.hex(), "--endorsement",
            "device.endorsement", "--vendor-key", "vendor.pub", "--license", "lic.bin")
    code, _, err = run(*args)
    assert code == EXIT_USAGE and "--license needs --authority" in err
    code, out, err = run(*args, "--authority", "auth")
    assert code == EXIT_OK and out.startswith("verified"), err
    # A rogue authority's policy does not make the license authentic.
    Authority.create(tmp_path / "rogue", board_size=1, board_threshold=1)
    code, _, err = run(*args, "--authority", "rogue")
    assert code == EXIT_NOT_TRUSTED and "not authentic" in err
