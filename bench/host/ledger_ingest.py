"""Attestations recorded per second by the ledger, on SQLite and on PostgreSQL,
batched (Ledger.record_attestations, one transaction per batch) as a ratio to
one transaction per attestation (Ledger.record_attestation) in the same run.

PostgreSQL is a throwaway server (tools/postgres_server.py: initdb in a
temporary folder, loopback only, stopped when the benchmark ends); SQLite is a
file in a temporary folder. Both loops record the same signed attestations into
fresh databases, one after the other. Target: batched >= 5x single on both.

Run: .venv/bin/python bench/host/ledger_ingest.py [--count N] [--batch B]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from postgres_server import PostgresServer  # noqa: E402

from openheg.crypto import SigningKey  # noqa: E402
from openheg.ledger import Ledger, ledger_url  # noqa: E402
from openheg.wire import Attestation, GateCause, GateState, RecordType  # noqa: E402

TARGET = 5.0


def attestations(count: int) -> list[bytes]:
    key = SigningKey.generate()
    records = []
    for counter in range(1, count + 1):
        body = Attestation(
            device_id=key.public_key, nonce=counter.to_bytes(32, "little"),
            firmware_measurement=bytes(32), policy_version=1, license_id=b"\x05" * 16,
            license_sequence=1, lane_ops=(0, counter, 0, 0, 0, 0), consumed_msflop=counter,
            remaining_msflop=10**9, gate_state=GateState.OPEN, gate_causes=GateCause(0),
            report_counter=counter, reset_count=1, log_head=bytes(32))
        records.append(replace(body, signature=key.sign_record(RecordType.ATTESTATION,
                                                                 body.body())).to_bytes())
    return records


def rate(url: str, records: list[bytes], batch: int | None) -> float:
    ledger = Ledger(url)
    start = time.perf_counter()
    if batch is None:
        for data in records:
            ledger.record_attestation(data)
    else:
        for i in range(0, len(records), batch):
            ledger.record_attestations(records[i:i + batch])
    elapsed = time.perf_counter() - start
    assert ledger.counts()["attestations"] == len(records)
    ledger.close()
    return len(records) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    records = attestations(args.count)
    folder = Path(tempfile.mkdtemp(prefix="openheg-bench-ledger-"))
    server = PostgresServer().start()
    ok = True
    try:
        for name, make_url in (
                ("sqlite", lambda tag: ledger_url(folder / f"{tag}.sqlite")),
                ("postgresql", server.create_database)):
            single = rate(make_url("single"), records, None)
            batched = rate(make_url("batched"), records, args.batch)
            ratio = batched / single
            ok &= ratio >= TARGET
            print(f"ledger ingest {name:10s}: {single:8.0f}/s one transaction each, "
                  f"{batched:8.0f}/s in batches of {args.batch}: ratio {ratio:.1f} "
                  f"(target >= {TARGET:.0f}) {'OK' if ratio >= TARGET else 'MISSED'}")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
