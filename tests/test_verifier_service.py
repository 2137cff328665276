"""The verifier service (openheg.verifier) against real emulated chips: the C
firmware signs the attestations; the EAR results are decoded by joserfc, an
independent JOSE library, with the key the service publishes.

Adversary (the operator owns the data centre's link to the verifier): it
replays an attestation, sends one over a nonce this verifier never issued, over
another device's nonce, or after the nonce expired (a report held back until the
meter looks better), alters bytes in transit, or sends a device no trusted
vendor endorsed. Each is refused with a 4xx that says why, and nothing is
recorded; a replayed attestation is recorded once."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OKPKey
from verifier_world import (AUTH, INSPECTOR, INSPECTOR_TOKEN, TOKEN,  # noqa: F401 (fleet)
                            fleet, license_naming, running_verifier, verifier_toml)

from openheg.authority import Authority
from openheg.crypto import SigningKey
from openheg.licensing import issue_license
from openheg.ledger import Ledger
from openheg.roles import Role, endorse_device
from openheg.verifier.app import create_app
from openheg.verifier.config import ConfigError, VerifierConfig
from openheg.verifier.ear import EAR_PROFILE, VERIFIER_ID, appraisal, public_jwk, sign_ear


@pytest.fixture
def service(fleet, tmp_path, database_url):
    """The service on each database the ledger runs on."""
    folder, devices, _ = fleet
    config = VerifierConfig.load(tmp_path, folder / "verifier.toml", ledger=database_url)
    with TestClient(create_app(config)) as client:
        yield client, devices, config


def nonce_for(client, device_id: bytes) -> bytes:
    answer = client.post("/v1/nonces", json={"device_id": device_id.hex()})
    assert answer.status_code == 201, answer.text
    return bytes.fromhex(answer.json()["nonce"])


def post(client, data: bytes):
    return client.post("/v1/attestations", content=data,
                       headers={"Content-Type": "application/octet-stream"})


def decode_ear(client, token: str) -> dict:
    key = OKPKey.import_key(client.get("/v1/ear-key").json())
    return jwt.decode(token, key, algorithms=["EdDSA"]).claims


def recorded(config) -> int:
    return Ledger(config.ledger).counts()["attestations"]


def test_an_attestation_over_a_fresh_nonce_is_affirmed_in_an_ear(service):
    client, ((device, device_id), *_), config = service
    nonce = nonce_for(client, device_id)
    answer = post(client, device.attest(nonce))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["recorded"]) == ("affirming", True)
    claims = decode_ear(client, body["ear"])
    assert claims["eat_profile"] == "tag:github.com,2023:veraison/ear"
    assert claims["eat_nonce"] == nonce.hex()
    submod = claims["submods"][device_id.hex()]
    assert submod["ear.status"] == "affirming"
    assert submod["ear.trustworthiness-vector"]["instance-identity"] == 2
    assert recorded(config) == 1


def test_the_same_attestation_twice_is_recorded_once(service):
    client, ((device, device_id), *_), config = service
    data = device.attest(nonce_for(client, device_id))
    assert post(client, data).json()["recorded"] is True
    again = post(client, data)
    assert again.status_code == 200 and again.json()["recorded"] is False
    assert recorded(config) == 1


@pytest.mark.parametrize("attack", ["nonce never issued", "another device's nonce",
                                    "second attestation over one nonce", "altered in transit",
                                    "not endorsed", "not an attestation"])
def test_bad_evidence_is_refused_with_its_reason_and_nothing_recorded(service, attack):
    client, ((device, device_id), (_, second_id), (stranger, _)), config = service
    if attack == "nonce never issued":
        data, reason = device.attest(os.urandom(32)), "did not issue"
    elif attack == "another device's nonce":
        data, reason = device.attest(nonce_for(client, second_id)), "another device"
    elif attack == "second attestation over one nonce":
        nonce = nonce_for(client, device_id)
        assert post(client, device.attest(nonce)).status_code == 200
        data, reason = device.attest(nonce), "already answered"
    elif attack == "altered in transit":
        data = bytearray(device.attest(nonce_for(client, device_id)))
        data[-80] ^= 1  # inside the signed body
        data, reason = bytes(data), "signature"
    elif attack == "not endorsed":
        data, reason = stranger.attest(os.urandom(32)), "no trusted vendor"
    else:
        data, reason = b"OHEG" + bytes(40), "malformed"
    before = recorded(config)
    answer = post(client, data)
    assert 400 <= answer.status_code < 500, answer.text
    assert reason in answer.json()["detail"]
    assert recorded(config) == before
    assert 'openheg_attestations_total{verdict="refused"} 1.0' in client.get("/metrics").text


def test_a_nonce_held_past_its_expiry_is_refused(service, monkeypatch):
    """The operator asks for a nonce, holds the report back until it likes what it
    shows, then sends it: the verifier's own clock says it is stale."""
    client, ((device, device_id), *_), config = service
    data = device.attest(nonce_for(client, device_id))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + config.nonce_lifetime_s + 5)
    answer = post(client, data)
    assert answer.status_code == 422 and "expired" in answer.json()["detail"]
    assert recorded(config) == 0


def test_an_attestation_resent_after_its_nonce_expired_gets_no_fresh_ear(service, monkeypatch):
    """Regression (second review, finding 2): a resend of an attestation already
    recorded skipped the expiry check, so the operator kept one affirming report
    and, days later (the device tampered with since, its reports withheld), had
    it affirmed again in an EAR dated then: old evidence with a fresh iat. A
    resend is answered only while its nonce is live."""
    client, ((device, device_id), *_), config = service
    data = device.attest(nonce_for(client, device_id))
    first = post(client, data)
    assert first.status_code == 200 and first.json()["status"] == "affirming"
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 86400)
    again = post(client, data)
    assert again.status_code == 422, again.text
    assert "expired" in again.json()["detail"]
    assert recorded(config) == 1


def test_compute_under_a_license_the_ledger_revoked_is_flagged_in_the_ear(fleet, service):
    """Regression (second review, finding 3): the ledger marks a license revoked
    (`openheg license revoke`: "reports then flag any use of it"); the operator
    withholds the REVOKE order and the device computes on. The CLI's report
    flagged it, the service's EAR named no anomaly."""
    folder, _, _ = fleet
    client, (_, (device, device_id), _), config = service
    issuer = Authority(folder / "authority").key("issuer")
    license_ = issue_license(issuer, device_id=device_id, workload=f"review2-revoked-{os.urandom(4).hex()}",
                             sequence=device.info().license_sequence + 1,
                             allocation_msflop=10**12)
    device.install_license(license_)
    device.transport.chip.run("FP32", 10_000, 16)
    ledger = Ledger(config.ledger)
    ledger.record_license(license_)
    ledger.revoke_license(license_.license_id, "workload withdrawn")
    answer = post(client, device.attest(nonce_for(client, device_id)))
    assert answer.status_code == 200, answer.text
    report = decode_ear(client, answer.json()["ear"])["submods"][device_id.hex()]
    kinds = [a["kind"] for a in report["openheg.report"]["anomalies"]]
    assert "revoked-license-used" in kinds


def test_a_nonce_is_only_issued_for_an_endorsed_device(service):
    client, (*_, (_, stranger_id)), _ = service
    answer = client.post("/v1/nonces", json={"device_id": stranger_id.hex()})
    assert answer.status_code == 404 and "endorsement list" in answer.json()["detail"]
    bad = client.post("/v1/nonces", json={"device_id": "zz"})
    assert bad.status_code == 400 and "64 hex digits" in bad.json()["detail"]


def test_a_batch_gives_each_attestation_its_own_verdict(service):
    client, ((device, device_id), *_), config = service
    good = device.attest(nonce_for(client, device_id))
    answer = client.post("/v1/attestations/batch",
                         json={"attestations": [good.hex(), "00", "not hex", good.hex()]})
    results = answer.json()["results"]
    assert [r.get("status") or r["http_status"] for r in results] == [
        "affirming", 400, 400, "affirming"]
    assert [r.get("recorded") for r in results] == [True, None, None, False]
    assert recorded(config) == 1


def test_the_regulator_tier_needs_its_token_and_the_public_tier_names_no_device(service):
    client, ((device, device_id), *_), _ = service
    post(client, device.attest(nonce_for(client, device_id)))
    assert client.get("/v1/devices").status_code == 401
    wrong = client.get("/v1/devices", headers={"Authorization": "Bearer " + "x" * 48})
    assert wrong.status_code == 403
    devices = client.get("/v1/devices", headers=AUTH).json()["devices"]
    assert [d["device_id"] for d in devices] == [device_id.hex()]
    one = client.get(f"/v1/devices/{device_id.hex()}", headers=AUTH).json()
    assert one["reports"] == 1 and one["trusted"] is True
    assert client.get(f"/v1/devices/{'ab' * 32}", headers=AUTH).status_code == 404
    public = client.get("/v1/public/summary")
    assert public.status_code == 200
    assert device_id.hex() not in public.text and device_id.hex()[:16] not in public.text


def test_metrics_count_verdicts_and_devices(service):
    client, ((device, device_id), *_), _ = service
    post(client, device.attest(nonce_for(client, device_id)))
    text = client.get("/metrics").text
    assert 'openheg_attestations_total{verdict="affirming"} 1.0' in text
    assert "openheg_devices 1.0" in text and "openheg_devices_silent 0.0" in text
    assert "openheg_nonces_issued_total 1.0" in text


def test_without_trust_anchors_every_attestation_is_refused_saying_why(fleet, tmp_path):
    _, ((device, _), *_), _ = fleet
    config = VerifierConfig.load(tmp_path)  # nothing registered in this home
    assert config.host == "127.0.0.1" and config.ledger.endswith("ledger.sqlite")
    with TestClient(create_app(config)) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        answer = post(client, device.attest(os.urandom(32)))
        assert answer.status_code == 422
        assert "no trust anchors" in answer.json()["detail"]


def test_a_bad_configuration_is_refused_by_name(tmp_path):
    path = tmp_path / "v.toml"
    for text, message in (("colour = 1\n", "unknown settings"),
                          ("port = 'x'\n", "port must be a int"),
                          ("[tokens]\nregulator = ['short']\n", "SHA-256"),
                          ("nonce_lifetime_s = 0\n", "positive"),
                          ("vendor_keys = ['missing.pub']\n", "vendor key missing.pub")):
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            VerifierConfig.load(tmp_path, path)


def test_openheg_verifier_serve_listens_on_loopback_and_stops_by_its_pid(tmp_path):
    with running_verifier(tmp_path) as url:
        health = httpx.get(f"{url}/healthz", timeout=2)
        assert health.status_code == 200
        assert json.loads(health.text)["ledger_revision"]
        assert (tmp_path / "ledger.sqlite").exists()
    assert Path(tmp_path / "verifier" / "ear.key").exists()


@pytest.fixture
def tiered(fleet, tmp_path, database_url):
    """Two workloads in the ledger, registered through the admin API: W on chip0
    names the inspector, V on chip1 names another."""
    folder, devices, world = fleet
    (tmp_path / "verifier.toml").write_text(verifier_toml(
        world, folder / "endorsements.json",
        f'[tokens.inspectors]\n"{INSPECTOR.public_key.hex()}" = '
        f'["{hashlib.sha256(INSPECTOR_TOKEN.encode()).hexdigest()}"]\n'))
    config = VerifierConfig.load(tmp_path, tmp_path / "verifier.toml", ledger=database_url)
    with TestClient(create_app(config)) as client:
        for name, (device, device_id), inspector in (
                ("W", devices[0], INSPECTOR.public_key), ("V", devices[1], b"\x33" * 32)):
            workload_id = name.encode() * 16
            assert client.post("/v1/admin/workloads", headers=AUTH, json={
                "name": name, "workload_id": workload_id.hex(), "planned_msflop": 10**12,
                "license_class": "FRONTIER"}).status_code == 201
            license_ = license_naming(device_id, workload_id, inspector)
            assert client.post("/v1/admin/licenses", headers=AUTH, json={
                "license": license_.to_bytes().hex()}).status_code == 201
            assert post(client, device.attest(nonce_for(client, device_id))).status_code == 200
        yield client, devices


def test_an_inspector_sees_exactly_the_workloads_that_name_it(tiered):
    client, ((_, w_device), (_, v_device), _) = tiered
    as_inspector = {"Authorization": f"Bearer {INSPECTOR_TOKEN}"}
    workloads = client.get("/v1/workloads", headers=as_inspector).json()["workloads"]
    assert [w["name"] for w in workloads] == ["W"]
    assert client.get("/v1/workloads/W", headers=as_inspector).status_code == 200
    # Another inspector's workload does not exist, as far as this one can tell.
    other = client.get("/v1/workloads/V", headers=as_inspector)
    assert other.status_code == 404 and "V" in other.json()["detail"]
    devices = client.get("/v1/devices", headers=as_inspector).json()["devices"]
    assert [d["device_id"] for d in devices] == [w_device.hex()]
    assert client.get(f"/v1/devices/{v_device.hex()}", headers=as_inspector).status_code == 404
    # The regulator sees both; the admin API is the regulator's alone.
    assert [w["name"] for w in client.get("/v1/workloads", headers=AUTH).json()[
        "workloads"]] == ["V", "W"]
    revoke = {"license_id": "00" * 16, "reason": "test"}
    assert client.post("/v1/admin/revocations", headers=as_inspector,
                       json=revoke).status_code == 403
    assert client.post("/v1/admin/revocations", headers=AUTH, json=revoke).status_code == 404


def test_the_public_summary_counts_per_class_without_identities(tiered):
    client, devices = tiered
    summary = client.get("/v1/public/summary").json()
    assert summary["classes"]["FRONTIER"]["workloads"] == 2
    text = client.get("/v1/public/summary").text
    for _, device_id in devices:
        assert device_id.hex()[:12] not in text
    assert "W" * 8 not in text and "57" * 8 not in text  # workload ids, raw or hex


def test_an_endorsement_registered_by_the_regulator_is_trusted_across_restarts(fleet, tmp_path):
    """chip2 is in no list: the regulator registers the vendor's endorsement of
    it (verified against the configured vendor keys), and it holds after a
    restart; one by a vendor the verifier does not trust is refused and changes
    nothing, and only the regulator may register."""
    folder, (*_, (stranger, stranger_id)), world = fleet
    config = VerifierConfig.load(tmp_path, folder / "verifier.toml",
                                 ledger=str(tmp_path / "ledger.sqlite"))
    forged = endorse_device(Role(tmp_path / "other", SigningKey(b"\x41" * 32)), stranger_id)
    genuine = endorse_device(world.vendor, stranger_id)
    with TestClient(create_app(config)) as client:
        refused = client.post("/v1/admin/endorsements", headers=AUTH,
                              json={"endorsement": forged.to_bytes().hex()})
        assert refused.status_code == 422 and "does not trust" in refused.json()["detail"]
        assert client.post("/v1/nonces", json={"device_id": stranger_id.hex()}).status_code == 404
        assert client.post("/v1/admin/endorsements", json={
            "endorsement": genuine.to_bytes().hex()}).status_code == 401
        assert client.post("/v1/admin/endorsements", headers=AUTH, json={
            "endorsement": genuine.to_bytes().hex()}).status_code == 201
    with TestClient(create_app(config)) as client:
        nonce = nonce_for(client, stranger_id)
        assert post(client, stranger.attest(nonce)).json()["status"] == "affirming"


def test_with_the_authority_anchored_licenses_are_authenticated_and_the_policy_enforced(
        fleet, tmp_path):
    """Given the authority's published policy chain, the verifier refuses to
    register a license its policy's signers did not sign, and refuses reports
    from a device running another policy version than the one in force."""
    folder, ((device, device_id), *_), world = fleet
    (tmp_path / "verifier.toml").write_text(verifier_toml(
        world, folder / "endorsements.json", anchored=True, policy_version=2))
    config = VerifierConfig.load(tmp_path, tmp_path / "verifier.toml",
                                 ledger=str(tmp_path / "ledger.sqlite"))
    with TestClient(create_app(config)) as client:
        forged = license_naming(device_id, b"W" * 16, INSPECTOR.public_key)
        refused = client.post("/v1/admin/licenses", headers=AUTH,
                              json={"license": forged.to_bytes().hex()})
        assert refused.status_code == 422 and "not authentic" in refused.json()["detail"]
        # The chip runs the genesis policy (version 1); this verifier wants version 2.
        answer = post(client, device.attest(nonce_for(client, device_id)))
        assert answer.status_code == 422 and "policy version 1" in answer.json()["detail"]
        assert Ledger(config.ledger).counts()["licenses"] == 0


@pytest.fixture
def dashboard(fleet, tmp_path):
    """The service with the authority anchored, W (naming the inspector) and V in
    the ledger, each with one affirmed report."""
    folder, devices, world = fleet
    (tmp_path / "verifier.toml").write_text(verifier_toml(
        world, folder / "endorsements.json",
        f'[tokens.inspectors]\n"{INSPECTOR.public_key.hex()}" = '
        f'["{hashlib.sha256(INSPECTOR_TOKEN.encode()).hexdigest()}"]\n', anchored=True))
    config = VerifierConfig.load(tmp_path, tmp_path / "verifier.toml",
                                 ledger=str(tmp_path / "ledger.sqlite"))
    ledger = Ledger(config.ledger)
    for name, (_, device_id), inspector in (("W", devices[0], INSPECTOR.public_key),
                                            ("V", devices[1], b"\x33" * 32)):
        ledger.record_workload(name, name.encode() * 16, 10**12, 0, "FRONTIER")
        ledger.record_license(license_naming(device_id, name.encode() * 16, inspector))
    with TestClient(create_app(config)) as client:
        for device, device_id in devices[:2]:
            assert post(client, device.attest(nonce_for(client, device_id))).status_code == 200
        yield client, devices, world


def sign_in(client, token: str):
    return client.post("/dashboard/login", content=f"token={token}",
                       headers={"Content-Type": "application/x-www-form-urlencoded"},
                       follow_redirects=False)


def test_the_public_dashboard_shows_the_daily_rise_and_no_identity(dashboard):
    client, devices, world = dashboard
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = world.authority.policy_in_force()
    rise = policy.frontier_daily_increase_msflop
    from openheg.verifier.dashboard import exact_sflop

    assert f"+{exact_sflop(rise)}" in page.text  # every digit of one day's rise
    assert "FRONTIER" in page.text and "<script" not in page.text
    for _, device_id in devices:
        assert device_id.hex()[:16] not in page.text
    assert client.get("/dashboard/workloads/W").status_code == 401


def test_the_dashboard_shows_each_tier_what_it_may_see(dashboard):
    client, ((_, w_device), (_, v_device), _), _ = dashboard
    refused = sign_in(client, "x" * 48)
    assert refused.status_code == 403 and "not a token" in refused.text
    signed = sign_in(client, INSPECTOR_TOKEN)
    assert signed.status_code == 303 and "httponly" in signed.headers["set-cookie"].lower()
    page = client.get("/dashboard").text
    assert w_device.hex()[:16] in page and v_device.hex()[:16] not in page
    assert "/dashboard/workloads/W" in page and "/dashboard/workloads/V" not in page
    assert client.get("/dashboard/workloads/V").status_code == 404
    workload = client.get("/dashboard/workloads/W")
    assert workload.status_code == 200 and "<svg" in workload.text
    assert "Frontier threshold F(t)" in workload.text
    client.cookies.clear()
    assert sign_in(client, TOKEN).status_code == 303
    page = client.get("/dashboard").text
    assert w_device.hex()[:16] in page and v_device.hex()[:16] in page


@pytest.mark.parametrize("issued_at", [0, 1_700_000_000, (1 << 64) - 1])
def test_an_ear_is_its_claims_as_compact_json_signed(issued_at):
    """sign_ear writes the shared claims from text encoded once: the token's
    payload must be, byte for byte, the claims object (profile, time,
    verifier id, nonce, submodules, in that order) as compact JSON, and
    verify under the verifier's key (joserfc)."""
    key = SigningKey(b"\x41" * 32)
    nonce = bytes(range(32))
    submods = {"ab" * 32: appraisal(tampered=True, series_trusted=False, report={
        "license_id": "00" * 16, "consumed_msflop": str(1 << 127), "gate_causes": ["TAMPER"],
        "anomalies": [{"kind": "replay", "detail": "caf\u00e9 \"quoted\""}]})}
    token = sign_ear(key, issued_at=issued_at, nonce=nonce, submods=submods)
    expected = {"eat_profile": EAR_PROFILE, "iat": issued_at, "ear.verifier-id": VERIFIER_ID,
                "eat_nonce": nonce.hex(), "submods": submods}
    payload = token.split(".")[1]
    assert (base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            == json.dumps(expected, separators=(",", ":")).encode())
    claims = jwt.decode(token, OKPKey.import_key(public_jwk(key)), algorithms=["EdDSA"]).claims
    assert claims == json.loads(json.dumps(expected))
