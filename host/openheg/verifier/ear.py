"""Attestation results as EAR (draft-ietf-rats-ear): a JWT signed by the
verifier's Ed25519 key (JWS "EdDSA"), one submodule per device.

A device's submodule says what the verifier concluded (``ear.status``) and
why, as a trustworthiness vector (draft-ietf-rats-ar4si claims and values):

- ``instance-identity``: 2 (a device endorsed by a trusted vendor, whose key
  signed this report over the verifier's fresh nonce);
- ``hardware``: 2 (the report comes from the co-processor's key, which only the
  endorsed part holds) — or 96 when the report shows the metering tampered with;
- ``runtime-opaque``: 2 when the device's whole series of reports is
  consistent, 96 when the series shows a severe anomaly (replay, rollback,
  fork, an order not applied...): the report verifies but must not be trusted.

The status is the worst of the vector: ``affirming`` or ``contraindicated``.
openheg's own claims (what the device reported and the series' anomalies) go
under ``openheg.report``, described in docs/verifier.md.
"""

from __future__ import annotations

import base64
import json
from importlib.metadata import version
from typing import Any

from ..crypto import SigningKey

EAR_PROFILE = "tag:github.com,2023:veraison/ear"
MEDIA_TYPE = "application/eat-ear+jwt"
VERIFIER_ID = {"developer": "openheg", "build": f"openheg {version('openheg')}"}
TRUSTWORTHY, CONTRAINDICATED = 2, 96
STATUS_BY_WORST = {TRUSTWORTHY: "affirming", CONTRAINDICATED: "contraindicated"}
# The JWS protected header of every EAR (RFC 7515, compact serialization),
# base64url-encoded once.
_HEADER = base64.urlsafe_b64encode(b'{"alg":"EdDSA","typ":"JWT"}').rstrip(b"=")
# One encoder for every EAR: json.dumps given separators builds a new one per call.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
# The claims every EAR of this verifier shares, encoded once, in the order
# they are written: the profile, then (after the time) the verifier's id.
_BEFORE_IAT = '{"eat_profile":' + _ENCODE(EAR_PROFILE) + ',"iat":'
_BEFORE_NONCE = ',"ear.verifier-id":' + _ENCODE(VERIFIER_ID) + ',"eat_nonce":'


def appraisal(*, tampered: bool, series_trusted: bool, report: dict[str, Any]) -> dict:
    """One device's EAR submodule."""
    vector = {"instance-identity": TRUSTWORTHY,
              "hardware": CONTRAINDICATED if tampered else TRUSTWORTHY,
              "runtime-opaque": TRUSTWORTHY if series_trusted else CONTRAINDICATED}
    return {"ear.status": STATUS_BY_WORST[max(vector.values())],
            "ear.trustworthiness-vector": vector,
            "ear.appraisal-policy-id": "openheg:verifier/series",
            "openheg.report": report}


def sign_ear(key: SigningKey, *, issued_at: int, nonce: bytes,
             submods: dict[str, dict]) -> str:
    """The EAR as a compact JWS: header.claims.signature, each base64url
    without padding, the signature Ed25519 over "header.claims" (RFC 8037
    EdDSA). Written here rather than through a JWT library: one result per
    attestation, and libsodium's signature (SigningKey) is the larger part of
    its cost; the tests decode these with joserfc, an independent library."""
    # The claims {"eat_profile", "iat", "ear.verifier-id", "eat_nonce",
    # "submods"}, the shared ones encoded once; the rest encoded here.
    claims = (f"{_BEFORE_IAT}{_ENCODE(int(issued_at))}{_BEFORE_NONCE}{_ENCODE(nonce.hex())}"
              f',"submods":{_ENCODE(submods)}}}')
    signed = _HEADER + b"." + _base64url(claims.encode())
    return (signed + b"." + _base64url(key.sign(signed))).decode("ascii")


def _base64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def public_jwk(key: SigningKey) -> dict:
    """The verifier's EAR key as a JWK (RFC 8037), for relying parties."""
    x = base64.urlsafe_b64encode(key.public_key).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "EdDSA", "use": "sig"}
