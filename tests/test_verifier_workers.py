"""Two `openheg verifier serve` processes, on two loopback ports, against one
throwaway PostgreSQL: the service is stateless, every piece of state (nonces,
devices, attestations) is in the ledger, so workers scale out behind one
database (docs/verifier.md, Scaling out).

Adversary: the operator sends the same attestation to both workers at the same
instant (hoping for two records, or two "recorded" answers that a relying
party counts twice), two different attestations over one nonce to the two
workers at once, and answers at one worker a nonce the other issued. Each
attestation is recorded once and only one worker says it recorded it; each
nonce is answered once; nothing sent is lost."""

from __future__ import annotations

import hashlib
import re
import threading

import httpx
import pytest
from sqlalchemy import select
from verifier_world import fleet, running_verifier  # noqa: F401 (fixture)

from openheg.ledger import Ledger
from openheg.ledger.schema import AttestationRow, NonceRow


@pytest.fixture
def workers(fleet, tmp_path, postgres):  # noqa: F811
    folder, devices, _ = fleet
    ledger = postgres.create_database(f"workers_{tmp_path.name}".lower()[:60])
    (tmp_path / "verifier.toml").write_text(
        f'ledger = "{ledger}"\n' + (folder / "verifier.toml").read_text())
    # The first worker makes the EAR key in the shared home before the second starts.
    with running_verifier(tmp_path) as first, running_verifier(tmp_path) as second:
        yield first, second, devices, Ledger(ledger)


def nonce_at(url: str, device_id: bytes) -> bytes:
    answer = httpx.post(f"{url}/v1/nonces", json={"device_id": device_id.hex()}, timeout=30)
    assert answer.status_code == 201, answer.text
    return bytes.fromhex(answer.json()["nonce"])


def send(url: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/v1/attestations", content=data, timeout=60,
                      headers={"Content-Type": "application/octet-stream"})


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def stored(ledger: Ledger) -> list[str]:
    with ledger.session() as s:
        return list(s.scalars(select(AttestationRow.record_sha256)))


def verdicts(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {m[1]: float(m[2]) for m in re.finditer(
        r'^openheg_attestations_total\{verdict="(\w+)"\} (\S+)$', text, re.M)}


def test_two_workers_on_one_database_lose_nothing_and_record_nothing_twice(workers):
    first, second, ((device, device_id), (other, other_id), _), ledger = workers
    # A nonce issued by one worker is answered at the other: the nonce is in the
    # database, not in the process that issued it.
    data = device.attest(nonce_at(first, device_id))
    answer = send(second, data)
    assert answer.status_code == 200, answer.text
    assert answer.json()["recorded"] is True

    # The same attestation raced to both: one record, one "recorded".
    raced = other.attest(nonce_at(second, other_id))
    answers = at_once(lambda: send(first, raced), lambda: send(second, raced))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(a.json()["recorded"] for a in answers) == [False, True]

    # Two attestations over one nonce, one to each worker at once: one wins.
    nonce = nonce_at(first, device_id)
    rivals = [device.attest(nonce), device.attest(nonce)]
    answers = at_once(lambda: send(first, rivals[0]), lambda: send(second, rivals[1]))
    assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 422)
    assert "already answered by another attestation" in loser.json()["detail"]
    winner = rivals[[a.status_code for a in answers].index(200)]

    # Different attestations in batches to both workers at once, each over a
    # nonce the other worker issued, each device's series to one worker.
    batches = {url: [dev.attest(nonce_at(issuer, dev_id)) for _ in range(5)]
               for url, issuer, (dev, dev_id) in [(first, second, (device, device_id)),
                                                 (second, first, (other, other_id))]}
    answers = at_once(*(lambda url=url, batch=batch: httpx.post(
        f"{url}/v1/attestations/batch", json={"attestations": [b.hex() for b in batch]},
        timeout=60) for url, batch in batches.items()))
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert [(r["status"], r["recorded"]) for r in answer.json()["results"]] == [
            ("affirming", True)] * 5

    sent = [data, raced, winner, *batches[first], *batches[second]]
    digests = sorted(hashlib.sha256(d).hexdigest() for d in sent)
    assert sorted(stored(ledger)) == digests  # nothing lost, nothing twice
    with ledger.session() as s:
        answered = [row.answered_by for row in s.scalars(select(NonceRow))
                    if row.answered_by is not None]
    assert sorted(answered) == digests  # each nonce answered once, by its own attestation

    # Metrics: each worker counts what it answered; together, every answer once.
    # The device gauge is read from the ledger, so both workers agree on it.
    counted = [verdicts(first), verdicts(second)]
    assert sum(c.get("affirming", 0) for c in counted) == 1 + 2 + 1 + 10
    assert sum(c.get("refused", 0) for c in counted) == 1
    for url in (first, second):
        assert re.search(r"^openheg_devices 2\.0$", httpx.get(f"{url}/metrics").text, re.M)


def test_serve_with_two_workers_shares_one_port_and_stops_with_its_supervisor(
        fleet, tmp_path, postgres):  # noqa: F811
    folder, ((device, device_id), *_), _ = fleet
    ledger = postgres.create_database(f"one_port_{tmp_path.name}".lower()[:60])
    (tmp_path / "verifier.toml").write_text(
        f'ledger = "{ledger}"\n' + (folder / "verifier.toml").read_text())
    with running_verifier(tmp_path, "--workers", "2") as url:
        # Consecutive requests on fresh connections land on either worker; every
        # nonce is answered wherever it came from.
        for _ in range(4):
            answer = send(url, device.attest(nonce_at(url, device_id)))
            assert answer.status_code == 200 and answer.json()["recorded"] is True
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=2)
    assert len(stored(Ledger(ledger))) == 4


def test_workers_must_be_positive(tmp_path):
    from openheg.verifier.config import ConfigError, VerifierConfig

    (tmp_path / "verifier.toml").write_text("workers = 0\n")
    with pytest.raises(ConfigError, match="workers"):
        VerifierConfig.load(tmp_path)
