"""Write the fuzzers' seed corpora from the golden vectors and valid requests.

usage: make_corpus.py OUT_DIR      (writes OUT_DIR/frame/* and OUT_DIR/dispatch/*)

Seeds: every golden record of tests/vectors/records.json wrapped in every
command of openheg.wire.Command, plain requests of each command, and short
request sequences (provision-shaped request, then a record), each also as a
frame for the frame decoder.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "host"))

from openheg import wire  # noqa: E402
from openheg.framing import encode_frame  # noqa: E402


def request(command: int, payload: bytes = b"", request_id: int = 1) -> bytes:
    return struct.pack("<BH", command, request_id) + payload


def sequence(*requests: bytes) -> bytes:
    return b"".join(struct.pack("<H", len(r)) + r for r in requests)


def main() -> None:
    out = Path(sys.argv[1])
    vectors = json.loads((ROOT / "tests/vectors/records.json").read_text())
    records = [bytes.fromhex(v["hex"]) for kind in ("valid", "invalid") for v in vectors[kind]]
    keys = vectors["keys"]
    vendor = bytes.fromhex(keys["vendor"])
    requests = [request(int(c)) for c in wire.Command]
    requests += [request(int(c), bytes(wire.NONCE_SIZE))
                 for c in (wire.Command.ATTEST, wire.Command.ATTEST_EAT)]
    requests += [request(int(c), r) for c in wire.Command for r in records]
    provision = request(int(wire.Command.PROVISION), vendor + bytes.fromhex(keys["issuer"]))
    seeds = {f"req-{i}": sequence(r) for i, r in enumerate(requests)}
    for i, record in enumerate(records):
        seeds[f"seq-{i}"] = sequence(provision, request(int(wire.Command.ENDORSE), record),
                                     request(int(wire.Command.INSTALL_LICENSE), record),
                                     request(int(wire.Command.ATTEST), bytes(32)),
                                     request(int(wire.Command.ATTEST_EAT), bytes(32)))
    for name, kind in (("dispatch", seeds), ("frame", None)):
        directory = out / name
        directory.mkdir(parents=True, exist_ok=True)
        items = kind.values() if kind is not None else [encode_frame(r)[:-1] for r in requests]
        for data in items:
            (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


if __name__ == "__main__":
    main()
