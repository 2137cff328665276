"""POST /v1/attestations with an EAT (Content-Type application/eat+cwt): the
device's token gets the same EAR as its binary attestation would, through the
one appraisal. The operator replays an EAT, answers one nonce twice (binary,
then EAT), edits a claim, or sends a token signed by a key it holds: each is a
4xx with the reason, and nothing is recorded."""

from __future__ import annotations

import os
import time

import cbor2
import nacl.signing
import pytest
from cwt import COSE, COSEKey
from fastapi.testclient import TestClient
from verifier_world import fleet  # noqa: F401 - a fixture

from openheg import eat
from openheg.ledger import Ledger
from openheg.verifier.app import create_app
from openheg.verifier.config import VerifierConfig

from test_verifier_service import decode_ear, nonce_for, post


@pytest.fixture
def service(fleet, tmp_path):  # noqa: F811 - the fixture above
    folder, devices, _ = fleet
    config = VerifierConfig.load(tmp_path, folder / "verifier.toml")
    with TestClient(create_app(config)) as client:
        yield client, devices, config


def post_eat(client, token: bytes):
    return client.post("/v1/attestations", content=token,
                       headers={"Content-Type": "application/eat+cwt"})


def recorded(config) -> int:
    return Ledger(config.ledger).counts()["attestations"]


def test_a_device_eat_is_affirmed_and_recorded_as_its_attestation(service):
    client, ((device, device_id), *_), config = service
    nonce = nonce_for(client, device_id)
    token = device.attest_eat(nonce)
    answer = post_eat(client, token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["recorded"]) == ("affirming", True)
    claims = decode_ear(client, body["ear"])
    assert claims["eat_nonce"] == nonce.hex()
    assert claims["submods"][device_id.hex()]["ear.status"] == "affirming"
    again = post_eat(client, token)  # while its nonce is live: recorded once
    assert again.status_code == 200 and again.json()["recorded"] is False
    assert recorded(config) == 1


def _operator_signed(token: bytes, key: nacl.signing.SigningKey, **changes) -> bytes:
    claims = cbor2.loads(cbor2.loads(token).value[2])
    for name, value in changes.items():
        claims[eat.PRIVATE_KEYS[name] if name in eat.PRIVATE_KEYS else int(name[1:])] = value
    cose_key = COSEKey.new({1: 1, 3: -8, -1: 6, -2: bytes(key.verify_key), -4: bytes(key)})
    return COSE.new().encode_and_sign(cbor2.dumps(claims, canonical=True), cose_key,
                                      protected={1: -8})


@pytest.mark.parametrize("attack", ["replayed", "second EAT over one nonce",
                                    "binary then EAT over one nonce",
                                    "claim edited", "operator's key", "truncated",
                                    "binary sent as EAT"])
def test_bad_eats_are_refused_with_their_reason_and_nothing_recorded(service, attack,
                                                                      monkeypatch):
    client, ((device, device_id), *_), config = service
    nonce = nonce_for(client, device_id)
    if attack == "replayed":
        # Affirmed once; resent days later (the device tampered with since): stale.
        token = device.attest_eat(nonce)
        assert post_eat(client, token).status_code == 200
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 3 * 86400)
        reason = "expired"
    elif attack == "second EAT over one nonce":
        assert post_eat(client, device.attest_eat(nonce)).status_code == 200
        token, reason = device.attest_eat(nonce), "already answered"
    elif attack == "binary then EAT over one nonce":
        assert post(client, device.attest(nonce)).status_code == 200
        token, reason = device.attest_eat(nonce), "already answered"
    elif attack == "claim edited":
        raw = bytearray(device.attest_eat(nonce))
        at = bytes(raw).index(device_id) + 5
        raw[at] ^= 1  # inside the ueid: another device id, same encoding
        token, reason = bytes(raw), "EAT signature does not verify"
    elif attack == "operator's key":
        operator = nacl.signing.SigningKey(os.urandom(32))
        token = _operator_signed(device.attest_eat(nonce), operator,
                                 k256=b"\x01" + bytes(operator.verify_key))
        reason = "trusted vendor"
    elif attack == "truncated":
        token, reason = device.attest_eat(nonce)[:-1], "EAT is malformed"
    else:
        token, reason = device.attest(nonce), "EAT is malformed"
    before = recorded(config)
    answer = post_eat(client, token)
    assert 400 <= answer.status_code < 500, answer.text
    assert reason in answer.json()["detail"], answer.json()["detail"]
    assert recorded(config) == before
