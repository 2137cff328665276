"""Fleet ingest end to end, as a ratio to bare PyNaCl verify of the same attestations.

End to end: HTTP batches (POST /v1/attestations/batch, hex JSON) -> strict
verify -> one ledger transaction per batch on PostgreSQL -> an EAR per
attestation, through `openheg verifier serve --workers 2` (two stateless
processes on one port, sharing one throwaway PostgreSQL: tools/postgres_server.py).
The clock runs from the first batch sent to the last answer received; nonces
are fetched (POST /v1/nonces), attestations signed, each client thread's HTTP
connection opened and each batch's request body encoded before it starts, and
the answers are checked after it stops: what is timed is the service's work,
not a client's (which shares these cores).

The client sends from two threads, each owning half the devices, one batch at
a time, so each device's reports arrive in order (partitioned by device, as
docs/verifier.md's Scaling out describes). Every attestation must come back
recorded and affirming, or the run fails.

Baseline, in the same run: one nacl.bindings.crypto_sign_open (what PyNaCl's
VerifyKey.verify calls) per attestation over the same signed bytes, on one
core in this process. Target: ingest / bare >= 0.25 (the service, the database
and the client share this machine's cores).

Run: .venv/bin/python bench/host/ingest_http.py [--count N] [--devices D] [--batch B]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import nacl.bindings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from postgres_server import PostgresServer, free_port  # noqa: E402

from openheg import wire  # noqa: E402
from openheg.crypto import SigningKey  # noqa: E402
from openheg.roles import Role, endorse_device  # noqa: E402
from openheg.verify import EndorsementList  # noqa: E402
from openheg.wire import Attestation, GateCause, GateState, RecordType  # noqa: E402

TARGET = 0.25
WORKERS = 2
CLIENT_THREADS = 2


def progress(text: str) -> None:
    print(text, flush=True)


def start_verifier(home: Path, ledger: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "openheg.cli", "--ledger", ledger, "verifier", "serve",
         "--port", str(port), "--workers", str(WORKERS)],
        env=dict(os.environ, OPENHEG_HOME=str(home)), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"the verifier did not start: {server.stderr.read().decode()}")
        if time.monotonic() > deadline:
            os.kill(server.pid, signal.SIGKILL)
            raise SystemExit("the verifier did not answer /healthz within 120 s")
        time.sleep(0.2)


def stop(server: subprocess.Popen) -> None:
    os.kill(server.pid, signal.SIGINT)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.kill(server.pid, signal.SIGKILL)
        server.wait(30)


def fleet(home: Path, devices: int) -> list[SigningKey]:
    """Device keys, endorsed by a vendor the verifier's configuration trusts."""
    vendor = Role(".", SigningKey.generate())
    keys = [SigningKey.generate() for _ in range(devices)]
    listing = EndorsementList()
    for key in keys:
        listing.add(endorse_device(vendor, key.public_key))
    listing.save(home / "endorsements.json")
    (home / "verifier.toml").write_text(
        f'vendor_keys = ["{vendor.public_key.hex()}"]\n'
        f'endorsement_lists = ["{home / "endorsements.json"}"]\nnonce_lifetime_s = 3600\n')
    return keys


def signed_reports(client: httpx.Client, keys: list[SigningKey], rounds: int) -> list[list[bytes]]:
    """rounds x devices attestations, each over a nonce the verifier issued for
    its device, the counters of each device's series rising round by round."""
    license_ids = [os.urandom(16) for _ in keys]
    out = []
    for round_ in range(rounds):
        reports = []
        for key, license_id in zip(keys, license_ids):
            answer = client.post("/v1/nonces", json={"device_id": key.public_key.hex()})
            answer.raise_for_status()
            consumed = 1000 * (round_ + 1)
            body = Attestation(
                device_id=key.public_key, nonce=bytes.fromhex(answer.json()["nonce"]),
                firmware_measurement=bytes(32), policy_version=1, license_id=license_id,
                license_sequence=1, lane_ops=(0, consumed, 0, 0, 0, 0),
                consumed_msflop=consumed, remaining_msflop=10**12 - consumed,
                gate_state=GateState.OPEN, gate_causes=GateCause(0),
                report_counter=round_ + 1, reset_count=1, log_head=bytes(32))
            reports.append(replace(body, signature=key.sign_record(
                RecordType.ATTESTATION, body.body())).to_bytes())
        out.append(reports)
        progress(f"  round {round_ + 1}/{rounds}: {len(keys)} nonces fetched, reports signed")
    return out


def bare_rate(reports: list[bytes]) -> float:
    domain = wire.DOMAINS[RecordType.ATTESTATION]
    keys = [data[6:38] for data in reports]  # outside the timed loop
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for data, key in zip(reports, keys):
            nacl.bindings.crypto_sign_open(data[-64:] + domain + data[:-64], key)
        best = min(best, time.perf_counter() - start)
    return len(reports) / best


def request_bodies(batches: list[list[bytes]]) -> list[bytes]:
    return [json.dumps({"attestations": [data.hex() for data in batch]}).encode()
            for batch in batches]


def push(client: httpx.Client, bodies: list[bytes], answers: list[httpx.Response]) -> None:
    for body in bodies:
        answers.append(client.post("/v1/attestations/batch", content=body,
                                   headers={"content-type": "application/json"}))


def failures_of(answers: list[httpx.Response]) -> list[str]:
    failures = []
    for answer in answers:
        if answer.status_code != 200:
            failures.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
            continue
        failures.extend(f"{r.get('status') or r.get('error')}, recorded {r.get('recorded')}"
                        for r in answer.json()["results"]
                        if (r.get("status"), r.get("recorded")) != ("affirming", True))
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000, help="attestations in all")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--batch", type=int, default=500, help="attestations per request")
    args = parser.parse_args()
    rounds = max(1, args.count // args.devices)
    home = Path(tempfile.mkdtemp(prefix="openheg-ingest-"))
    postgres = PostgresServer().start()
    server = None
    try:
        progress(f"PostgreSQL on port {postgres.port}; {args.devices} devices endorsed")
        keys = fleet(home, args.devices)
        server, url = start_verifier(home, postgres.create_database("ingest"))
        progress(f"openheg verifier serve --workers {WORKERS} on {url}")
        with httpx.Client(base_url=url, timeout=60) as client:
            reports = signed_reports(client, keys, rounds)
        total = sum(map(len, reports))
        # Each client thread owns every CLIENT_THREADS-th device and sends its
        # reports round by round: a device's series arrives in order.
        per_thread: list[list[bytes]] = []
        for thread in range(CLIENT_THREADS):
            own = [r for round_ in reports for r in round_[thread::CLIENT_THREADS]]
            per_thread.append(request_bodies([own[i:i + args.batch]
                                              for i in range(0, len(own), args.batch)]))
        clients = [httpx.Client(base_url=url, timeout=300) for _ in per_thread]
        for client in clients:  # each thread's connection open before the clock starts
            client.get("/healthz").raise_for_status()
        answers: list[list[httpx.Response]] = [[] for _ in per_thread]
        progress(f"pushing {total} attestations in batches of {args.batch} "
                 f"from {CLIENT_THREADS} client threads")
        threads = [threading.Thread(target=push, args=(client, bodies, answered))
                   for client, bodies, answered in zip(clients, per_thread, answers)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        for client in clients:
            client.close()
        failures = [failure for answered in answers for failure in failures_of(answered)]
        if sum(map(len, answers)) != len([b for bodies in per_thread for b in bodies]):
            failures.append("a batch got no answer")
        if failures:
            raise SystemExit(f"{len(failures)} attestations not recorded as affirming, "
                             f"first: {failures[0]}")
        progress("bare PyNaCl verify of the same attestations, one core")
        bare = bare_rate([r for round_ in reports for r in round_])
    finally:
        if server is not None:
            stop(server)
        postgres.stop()
    rate = total / elapsed
    ratio = rate / bare
    print(f"bare PyNaCl verify:          {bare:10,.0f} /s (one core)")
    print(f"ingest end to end (HTTP, {WORKERS} workers, PostgreSQL): {rate:10,.0f} /s "
          f"({total} in {elapsed:.1f} s, {os.cpu_count()} cores)")
    print(f"ratio: {ratio:.3f} (target >= {TARGET}) {'PASS' if ratio >= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
