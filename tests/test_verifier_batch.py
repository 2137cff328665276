"""The verifier's batch path (POST /v1/attestations/batch): every attestation is
verified first, then all that verify are recorded, each answering its nonce, in
one ledger transaction (Ledger.record_answers), on SQLite and PostgreSQL.

Adversary: the operator (or a crash it causes) kills the serving process in the
middle of the batch's transaction (nothing of it stays: not its rows, not its
nonces, not the series state it would have advanced), then resubmits the batch; it puts two
attestations over one nonce in one batch, or one attestation twice. Nothing is
lost, nothing is recorded twice, and a nonce is consumed exactly when its
attestation is recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_verifier_service import nonce_for, recorded
from verifier_world import fleet  # noqa: F401 (fixture)

from openheg.ledger import Ledger
from openheg.ledger.schema import AttestationRow, NonceRow, SeriesStateRow
from openheg.verifier.app import create_app
from openheg.verifier.config import VerifierConfig

# Run in a process of its own: the service's appraise_batch on the batch in
# argv[2], with a hook that, once every statement of the batch's transaction
# has run and just before COMMIT is sent, says so and waits to be killed.
KILLED_MID_BATCH = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sqlalchemy import event
    from openheg.verifier.app import Verifier
    from openheg.verifier.config import VerifierConfig

    home, toml, url, batch = sys.argv[1:5]
    verifier = Verifier(VerifierConfig.load(Path(home), Path(toml), ledger=url))

    @event.listens_for(verifier.ledger.engine, "commit")
    def _hold(connection):
        print("in the batch's transaction", flush=True)
        time.sleep(600)

    verifier.appraise_batch([bytes.fromhex(h) for h in Path(batch).read_text().split()])
""")


@pytest.fixture
def service(fleet, tmp_path, database_url):  # noqa: F811
    folder, devices, _ = fleet
    config = VerifierConfig.load(tmp_path, folder / "verifier.toml", ledger=database_url)
    with TestClient(create_app(config)) as client:
        yield client, devices, config, folder / "verifier.toml"


def answered(config) -> dict[str, str | None]:
    ledger = Ledger(config.ledger)
    try:
        with ledger.session() as s:
            return {row.nonce: row.answered_by for row in s.scalars(select(NonceRow))}
    finally:
        ledger.close()


def series_states(config) -> tuple[dict, dict]:
    """Per device: what its kept series state covers (reports, highest row id),
    and what the ledger holds (rows, highest row id)."""
    ledger = Ledger(config.ledger)
    try:
        with ledger.session() as s:
            kept = {row.device_id: (row.reports, row.last_id)
                    for row in s.scalars(select(SeriesStateRow))}
            held: dict[str, tuple[int, int]] = {}
            for device_id, row_id in s.execute(select(AttestationRow.device_id,
                                                      AttestationRow.id)):
                count, top = held.get(device_id, (0, 0))
                held[device_id] = (count + 1, max(top, row_id))
            return kept, held
    finally:
        ledger.close()


def batch(client, attestations: list[bytes]) -> list[dict]:
    answer = client.post("/v1/attestations/batch",
                         json={"attestations": [a.hex() for a in attestations]})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def test_a_batch_killed_in_its_transaction_records_none_and_its_resubmission_each_once(
        service, tmp_path):
    client, ((first, first_id), (second, second_id), _), config, toml = service
    attestations = [device.attest(nonce_for(client, device_id))
                    for device, device_id in [(first, first_id), (second, second_id)] * 4]
    (tmp_path / "batch.txt").write_text("\n".join(a.hex() for a in attestations))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    writer = subprocess.Popen([sys.executable, "-c", KILLED_MID_BATCH, str(tmp_path), str(toml),
                               config.ledger, str(tmp_path / "batch.txt")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = writer.stdout.readline()
        assert line.strip() == "in the batch's transaction", writer.stderr.read()
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(30)
    # None of the batch, and none of its nonces consumed; no series state is
    # left ahead of the rows (the state is written in the batch's transaction).
    assert recorded(config) == 0
    assert set(answered(config).values()) == {None}
    assert series_states(config) == ({}, {})

    results = batch(client, attestations)
    assert [(r["status"], r["recorded"]) for r in results] == [("affirming", True)] * 8
    assert recorded(config) == 8
    kept, held = series_states(config)
    assert kept == held and len(held) == 2
    again = batch(client, attestations)
    assert [r["recorded"] for r in again] == [False] * 8
    assert recorded(config) == 8
    assert series_states(config) == (held, held)
    assert None not in answered(config).values()


def test_within_a_batch_a_nonce_is_answered_by_its_first_attestation_only(service):
    client, ((device, device_id), (other, other_id), _), config, _ = service
    nonce = nonce_for(client, device_id)
    first, rival = device.attest(nonce), device.attest(nonce)
    foreign = other.attest(nonce_for(client, device_id))  # another device's nonce
    fine = other.attest(nonce_for(client, other_id))
    results = batch(client, [first, rival, first, foreign, fine])
    assert [r.get("recorded") for r in results] == [True, None, False, None, True]
    assert "already answered by another attestation" in results[1]["error"]
    assert "another device" in results[3]["error"]
    assert [r.get("http_status") for r in results] == [None, 422, None, 422, None]
    assert recorded(config) == 2
    consumed = answered(config)
    assert consumed[nonce.hex()] is not None
    # The foreign attempt consumed nothing: the nonce is still the device's to answer.
    assert list(consumed.values()).count(None) == 1
    metrics = client.get("/metrics").text
    assert 'openheg_attestations_total{verdict="refused"} 2.0' in metrics
    assert 'openheg_attestations_total{verdict="affirming"} 3.0' in metrics
