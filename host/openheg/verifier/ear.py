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

from functools import lru_cache
from importlib.metadata import version
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..crypto import SigningKey

EAR_PROFILE = "tag:github.com,2023:veraison/ear"
MEDIA_TYPE = "application/eat-ear+jwt"
VERIFIER_ID = {"developer": "openheg", "build": f"openheg {version('openheg')}"}
TRUSTWORTHY, CONTRAINDICATED = 2, 96
STATUS_BY_WORST = {TRUSTWORTHY: "affirming", CONTRAINDICATED: "contraindicated"}


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
    claims = {"eat_profile": EAR_PROFILE, "iat": issued_at, "ear.verifier-id": VERIFIER_ID,
              "eat_nonce": nonce.hex(), "submods": submods}
    return jwt.encode(claims, _private_key(key.seed), algorithm="EdDSA",
                      headers={"typ": "JWT"})


@lru_cache(maxsize=4)
def _private_key(seed: bytes) -> Ed25519PrivateKey:
    """The EAR key as `cryptography` holds it, made once, not once per result
    (deriving it is a scalar multiplication, as costly as the signature)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_jwk(key: SigningKey) -> dict:
    """The verifier's EAR key as a JWK (RFC 8037), for relying parties."""
    import base64

    x = base64.urlsafe_b64encode(key.public_key).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "EdDSA", "use": "sig"}
