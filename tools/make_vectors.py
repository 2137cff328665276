"""Write the golden wire-format vectors in tests/vectors/records.json.

The vectors are committed: they pin the bytes, so a change to the Python
encoder or the C parser that alters an encoding fails the tests instead of
silently moving both sides. Regenerate only for a deliberate format change
(and bump the record version when it breaks compatibility).

Keys come from fixed seeds so the file is reproducible byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

from openheg import wire
from openheg.crypto import SigningKey
from openheg.wire import (Attestation, Endorsement, GateCause, GateState, License, LicenseClass,
                          WorkloadKind)

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "vectors" / "records.json"


def key(label: str) -> SigningKey:
    return SigningKey(hashlib.sha256(b"openheg test vector key: " + label.encode()).digest())


def fixed(label: str, size: int) -> bytes:
    return hashlib.sha256(label.encode()).digest()[:size]


def signed_license(body: License, signers: list[SigningKey]) -> License:
    message = body.signing_message()
    entries = sorted((wire.SignatureEntry(k.public_key, k.sign(message)) for k in signers),
                     key=lambda entry: entry.signer)
    return replace(body, signatures=tuple(entries))


def build() -> dict:
    issuer, inspector, device, vendor = (key(n) for n in ("issuer", "inspector", "device", "vendor"))
    standard = signed_license(License(
        license_id=fixed("license 1", 16), device_id=device.public_key,
        workload_id=fixed("workload A", 16), sequence=1,
        allocation_msflop=3_000_000_000_000_000_000_000, workload_total_msflop=(1 << 100) + 7,
        lineage_msflop=(1 << 127) + 1, not_before=1_790_000_000, not_after=1_800_000_000,
        license_class=LicenseClass.STANDARD, oversight_ppm=0, inspector_key=bytes(32)), [issuer])
    frontier = signed_license(License(
        license_id=fixed("license 2", 16), device_id=device.public_key,
        workload_id=fixed("workload B", 16), sequence=2, allocation_msflop=wire.MAX_U128,
        workload_total_msflop=wire.MAX_U128, lineage_msflop=0, not_before=0,
        not_after=wire.MAX_U64, license_class=LicenseClass.FRONTIER, oversight_ppm=50_000,
        inspector_key=inspector.public_key, workload_kind=WorkloadKind.INFERENCE),
        [issuer, inspector])
    attestation = Attestation(
        device_id=device.public_key, nonce=fixed("nonce", 32),
        firmware_measurement=fixed("firmware", 32), policy_version=3,
        license_id=standard.license_id, license_sequence=1,
        lane_ops=(1, 2, 3, (1 << 64) + 4, (1 << 96) + 5, wire.MAX_U128),
        consumed_msflop=2_999_999_999_999_999_999_999, remaining_msflop=1,
        oversight_reserved_msflop=(1 << 70) + 3, inspector_order_sequence=4,
        board_order_sequence=(1 << 40) + 5, issuer_order_sequence=wire.MAX_U64,
        gate_state=GateState.CLOSED, gate_causes=GateCause.EXHAUSTED | GateCause.DISARMED,
        report_counter=7, reset_count=2, log_head=fixed("log", 32),
        policy_digest=fixed("policy", 32), workload_msflop=(1 << 90) + 9,
        retired_msflop=(1 << 100) + 11)
    attestation = replace(attestation, signature=device.sign(attestation.signing_message()))
    endorsement = Endorsement(device_id=device.public_key, vendor_key=vendor.public_key,
                              issued_at=1_790_000_000)
    endorsement = replace(endorsement, signature=vendor.sign(endorsement.signing_message()))

    good = standard.to_bytes()
    body = good[:wire.LICENSE_BODY_SIZE]
    entry = good[wire.LICENSE_BODY_SIZE + 1:]
    two = frontier.to_bytes()
    unsorted = (two[:wire.LICENSE_BODY_SIZE + 1] + two[wire.LICENSE_BODY_SIZE + 1 + 96:]
                + two[wire.LICENSE_BODY_SIZE + 1:wire.LICENSE_BODY_SIZE + 1 + 96])
    class_offset = wire.field_offsets(wire.LicenseBodyFormat)["license_class"][0]
    kind_offset = wire.field_offsets(wire.LicenseBodyFormat)["workload_kind"][0]
    allocation_offset = wire.field_offsets(wire.LicenseBodyFormat)["allocation_msflop"][0]
    above_total = (good[:allocation_offset]
                   + (standard.workload_total_msflop + 1).to_bytes(16, "little")
                   + good[allocation_offset + 16:])
    invalid = [
        ("license", "truncated", good[:-1], "RECORD_LENGTH"),
        ("license", "padded", good + b"\x00", "RECORD_LENGTH"),
        ("license", "header only", good[:6], "RECORD_LENGTH"),
        ("license", "bad magic", b"OHEH" + good[4:], "RECORD_HEADER"),
        ("license", "attestation type", good[:4] + b"\x02" + good[5:], "RECORD_HEADER"),
        ("license", "version 2", good[:5] + b"\x02" + good[6:], "RECORD_HEADER"),
        ("license", "no signatures", body + b"\x00", "RECORD_FIELD"),
        ("license", "count larger than entries", body + b"\x02" + entry, "RECORD_LENGTH"),
        ("license", "unsorted signers", unsorted, "RECORD_FIELD"),
        ("license", "duplicate signer", body + b"\x02" + entry + entry, "RECORD_FIELD"),
        ("license", "class 0", good[:class_offset] + b"\x00" + good[class_offset + 1:],
         "RECORD_FIELD"),
        ("license", "class 4", good[:class_offset] + b"\x04" + good[class_offset + 1:],
         "RECORD_FIELD"),
        ("license", "kind 0", good[:kind_offset] + b"\x00" + good[kind_offset + 1:],
         "RECORD_FIELD"),
        ("license", "kind 4", good[:kind_offset] + b"\x04" + good[kind_offset + 1:],
         "RECORD_FIELD"),
        ("license", "allocation above the declared total", above_total,
         "ALLOCATION_EXCEEDS_TOTAL"),
        ("attestation", "truncated", attestation.to_bytes()[:-1], "RECORD_LENGTH"),
        ("attestation", "padded", attestation.to_bytes() + b"\x00", "RECORD_LENGTH"),
        ("endorsement", "license type", endorsement.to_bytes()[:4] + b"\x01"
         + endorsement.to_bytes()[5:], "RECORD_HEADER"),
    ]
    return {
        "description": "openheg wire format v1 golden vectors; generated by tools/make_vectors.py",
        "keys": {name: k.public_key.hex() for name, k in
                 (("issuer", issuer), ("inspector", inspector), ("device", device),
                  ("vendor", vendor))},
        "valid": [
            {"name": "standard license", "record": "license", "hex": good.hex(),
             "fields": wire.to_jsonable(standard)},
            {"name": "frontier license, two signers", "record": "license", "hex": two.hex(),
             "fields": wire.to_jsonable(frontier)},
            {"name": "attestation", "record": "attestation", "hex": attestation.to_bytes().hex(),
             "fields": wire.to_jsonable(attestation)},
            {"name": "endorsement", "record": "endorsement", "hex": endorsement.to_bytes().hex(),
             "fields": wire.to_jsonable(endorsement)},
        ],
        "invalid": [{"name": f"{record} {name}", "record": record, "hex": data.hex(),
                     "error": error} for record, name, data, error in invalid],
    }


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
