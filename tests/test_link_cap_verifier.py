"""The verifier holds each report's interconnect limiter to the cap the policy
allows the license in force's kind (issue 12): a device licensed for
inference whose attested RATE or BURST is looser than the inference cap is
flagged, severe while its gate may open. The firmware never attests that
(tests/firmware/test_link_policy.py); a verifier that believed it would miss
a device whose firmware or limiter does not hold the cap. Attestations here
are signed in Python with a test key, as in test_series.py; the service
takes them from a device key its vendor endorsed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from host_world import make_world
from joserfc import jwt
from joserfc.jwk import OKPKey
from verifier_world import verifier_toml

from openheg.crypto import SigningKey
from openheg.ledger import Ledger
from openheg.policy import genesis_draft
from openheg.report import build_report, link_cap_anomalies
from openheg.roles import endorse_device
from openheg.verifier.app import create_app
from openheg.verifier.config import VerifierConfig
from openheg.verify import EndorsementList
from openheg.wire import (
    ID_SIZE,
    Attestation,
    GateCause,
    GateState,
    License,
    LicenseClass,
    RecordType,
    SignatureEntry,
    WorkloadKind,
    link_rate_register,
)

DEVICE = SigningKey(b"\x09" * 32)
ISSUER = SigningKey(b"\x0a" * 32)
WORKLOAD_ID = b"\x06" * 16
CLOCK_HZ = 1_000_000_000
NOW = 1_800_000_000
POLICY = genesis_draft(board_keys=[b"\x01" * 32], board_threshold=1,
                       issuer_key=ISSUER.public_key, time_authority_key=b"\x02" * 32, now=NOW,
                       inference_link_wire_mb_per_s=20_000,
                       inference_link_burst_wire_bytes=1 << 16)
LOOSE = (link_rate_register(POLICY.link_wire_mb_per_s, CLOCK_HZ), POLICY.link_burst_wire_bytes)
TIGHT = (link_rate_register(20_000, CLOCK_HZ), 1 << 16)


def license_of(kind: WorkloadKind, sequence: int = 1) -> License:
    body = License(
        license_id=bytes([sequence]) * ID_SIZE, device_id=DEVICE.public_key,
        workload_id=WORKLOAD_ID, sequence=sequence, allocation_msflop=10**9,
        workload_total_msflop=10**9, lineage_msflop=0, not_before=NOW - 10, not_after=NOW + 10,
        license_class=LicenseClass.STANDARD, oversight_ppm=0, inspector_key=bytes(32),
        workload_kind=kind)
    signature = ISSUER.sign_record(RecordType.LICENSE, body.body())
    return replace(body, signatures=(SignatureEntry(ISSUER.public_key, signature),))


def attestation(counter: int, lic: License | None, link: tuple[int, int],
                causes: GateCause = GateCause(0), policy=POLICY) -> bytes:
    body = Attestation(
        device_id=DEVICE.public_key, nonce=bytes(32), firmware_measurement=bytes(32),
        policy_version=policy.policy_version,
        license_id=lic.license_id if lic else bytes(ID_SIZE),
        license_sequence=lic.sequence if lic else 0, lane_ops=(0,) * 6, consumed_msflop=0,
        remaining_msflop=0, gate_state=GateState.CLOSED if causes else GateState.OPEN,
        gate_causes=causes, report_counter=counter, reset_count=1, log_head=bytes(32),
        policy_digest=policy.digest, link_clock_hz=CLOCK_HZ, link_rate=link[0],
        link_burst=link[1])
    return replace(body, signature=DEVICE.sign_record(RecordType.ATTESTATION,
                                                      body.body())).to_bytes()


@pytest.fixture
def ledger(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_workload("serve", WORKLOAD_ID, 10**9, 0, "STANDARD")
    yield ledger
    ledger.close()


def anomalies(ledger: Ledger) -> list[tuple[str, bool]]:
    return [(a.kind, a.severe)
            for a in link_cap_anomalies(ledger, DEVICE.public_key.hex(), POLICY)]


def test_an_inference_device_at_the_loose_cap_is_flagged_and_not_trusted(ledger):
    lic = license_of(WorkloadKind.INFERENCE)
    ledger.record_license(lic)
    ledger.record_attestation(attestation(1, lic, LOOSE), received_at=NOW)
    assert anomalies(ledger) == [("link-cap-loose", True)]
    report = build_report(ledger, "serve", POLICY, now=NOW)
    assert not report["trusted"]
    flagged = [a for a in report["anomalies"] if a["kind"] == "link-cap-loose"]
    assert "looser than policy v1 allows a license declaring inference" in flagged[0]["detail"]


@pytest.mark.parametrize("link", [(TIGHT[0] + 1, TIGHT[1]), (TIGHT[0], TIGHT[1] + 1)],
                         ids=["rate", "burst"])
def test_one_register_past_the_inference_cap_is_enough(ledger, link):
    lic = license_of(WorkloadKind.INFERENCE)
    ledger.record_license(lic)
    ledger.record_attestation(attestation(1, lic, link), received_at=NOW)
    assert anomalies(ledger) == [("link-cap-loose", True)]


def test_the_caps_each_kind_is_allowed_pass(ledger):
    inference, training = license_of(WorkloadKind.INFERENCE), license_of(WorkloadKind.FINE_TUNING,
                                                                          2)
    ledger.record_licenses([inference, training])
    ledger.record_attestations([attestation(1, None, TIGHT), attestation(2, inference, TIGHT),
                                attestation(3, training, LOOSE)], received_at=NOW)
    assert anomalies(ledger) == []


def test_no_license_at_the_loose_cap_is_flagged(ledger):
    ledger.record_attestation(attestation(1, None, LOOSE), received_at=NOW)
    assert anomalies(ledger) == [("link-cap-loose", True)]


def test_waiting_for_the_reset_with_the_gate_closed_is_only_noted(ledger):
    """An inference license installed over the loose cap: the device holds the
    gate closed (LINK_PENDING) until the reset; honest, so not severe. The
    same registers with the gate open are."""
    lic = license_of(WorkloadKind.INFERENCE)
    ledger.record_license(lic)
    ledger.record_attestation(attestation(1, lic, LOOSE, GateCause.LINK_PENDING),
                              received_at=NOW)
    assert anomalies(ledger) == [("link-cap-pending", False)]
    assert build_report(ledger, "serve", POLICY, now=NOW)["trusted"]
    ledger.record_attestation(attestation(2, lic, LOOSE), received_at=NOW + 1)
    assert anomalies(ledger) == [("link-cap-pending", False), ("link-cap-loose", True)]


def test_a_license_the_ledger_lacks_at_the_loose_cap_is_noted(ledger):
    """A report naming a license the ledger does not hold: its kind is unknown,
    so the loose cap cannot be judged either way. Silence would let a report
    at the general cap pass as judged; a severe flag would condemn an honest
    training device whose license the verifier was never given. Noted, not
    severe; within the inference cap nothing is said (no kind needs less).
    Once the license is recorded its kind decides."""
    lic = license_of(WorkloadKind.INFERENCE)
    ledger.record_attestation(attestation(1, lic, TIGHT), received_at=NOW)
    assert anomalies(ledger) == []
    ledger.record_attestation(attestation(2, lic, LOOSE), received_at=NOW + 1)
    assert anomalies(ledger) == [("link-cap-unjudged", False)]
    noted = [a for a in link_cap_anomalies(ledger, DEVICE.public_key.hex(), POLICY)][0]
    assert f"license {lic.license_id.hex()} is not in the ledger" in noted.detail
    ledger.record_license(lic)
    assert anomalies(ledger) == [("link-cap-loose", True)]


def test_reports_under_another_policy_are_held_to_that_one(ledger):
    """A report made under another policy (another digest) is not judged by
    this policy's cap."""
    lic = license_of(WorkloadKind.INFERENCE)
    ledger.record_license(lic)
    other = replace(POLICY, policy_version=2, inference_link_wire_mb_per_s=900_000,
                    inference_link_burst_wire_bytes=1 << 20)
    ledger.record_attestation(attestation(1, lic, LOOSE, policy=other), received_at=NOW)
    assert anomalies(ledger) == []


def test_the_verifier_service_contraindicates_a_report_at_the_loose_cap(tmp_path):
    """The service anchored in an authority whose policy caps inference: a
    report at the general cap from a device with no license (the inference
    rule) gets a contraindicated EAR naming link-cap-loose; the same device at
    the inference cap is affirmed."""
    world = make_world(tmp_path / "world", inference_link_wire_mb_per_s=20_000,
                       inference_link_burst_wire_bytes=1 << 16)
    listing = EndorsementList()
    listing.add(endorse_device(world.vendor, DEVICE.public_key))
    listing.save(tmp_path / "endorsements.json")
    (tmp_path / "verifier.toml").write_text(
        verifier_toml(world, tmp_path / "endorsements.json", anchored=True))
    config = VerifierConfig.load(tmp_path, tmp_path / "verifier.toml",
                                 ledger=str(tmp_path / "ledger.sqlite"))
    with TestClient(create_app(config)) as client:
        key = OKPKey.import_key(client.get("/v1/ear-key").json())

        def verdict(counter: int, link: tuple[int, int]) -> dict:
            answer = client.post("/v1/nonces", json={"device_id": DEVICE.public_key.hex()})
            body = Attestation.from_bytes(attestation(counter, None, link, policy=world.genesis))
            body = replace(body, nonce=bytes.fromhex(answer.json()["nonce"]))
            signed = replace(body, signature=DEVICE.sign_record(RecordType.ATTESTATION,
                                                                body.body()))
            posted = client.post("/v1/attestations", content=signed.to_bytes(),
                                 headers={"Content-Type": "application/octet-stream"})
            assert posted.status_code == 200, posted.text
            claims = jwt.decode(posted.json()["ear"], key, algorithms=["EdDSA"]).claims
            return claims["submods"][DEVICE.public_key.hex()]

        loose = (link_rate_register(world.genesis.link_wire_mb_per_s, CLOCK_HZ),
                 world.genesis.link_burst_wire_bytes)
        flagged = verdict(1, loose)
        # The device's log was never read: noted, not severe, in both verdicts.
        assert flagged["ear.status"] == "contraindicated"
        assert [(a["kind"], a["severe"]) for a in flagged["openheg.report"]["anomalies"]
                if a["severe"]] == [("link-cap-loose", True)]
        held = verdict(2, TIGHT)
        assert held["ear.status"] == "affirming"
        assert not any(a["kind"].startswith("link-cap")
                       for a in held["openheg.report"]["anomalies"])
