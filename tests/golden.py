"""Loader for the committed golden wire vectors (tests/vectors/records.json)."""

from __future__ import annotations

import json
from pathlib import Path

from openheg import wire
from openheg.errors import DeviceStatus

RECORDS = json.loads((Path(__file__).resolve().parent / "vectors" / "records.json").read_text())
RECORD_CLASSES = {"license": wire.License, "attestation": wire.Attestation,
                  "endorsement": wire.Endorsement}
VALID = RECORDS["valid"]
INVALID = RECORDS["invalid"]


def expected_error(vector: dict) -> DeviceStatus:
    return DeviceStatus[vector["error"]]


def fields_from_json(fields: dict) -> dict:
    """Decode the JSON field values (hex strings, ints) into the dataclass's types."""
    out = {}
    for name, value in fields.items():
        if name == "signatures":
            out[name] = tuple(wire.SignatureEntry(bytes.fromhex(s["signer"]),
                                                  bytes.fromhex(s["signature"])) for s in value)
        elif isinstance(value, str):
            out[name] = bytes.fromhex(value)
        elif isinstance(value, list):
            out[name] = tuple(value)
        else:
            out[name] = value
    annotations = {"license_class": wire.LicenseClass, "gate_state": wire.GateState,
                   "gate_causes": wire.GateCause}
    for name, enum in annotations.items():
        if name in out:
            out[name] = enum(out[name])
    return out
