"""The fleet HALT in the verifier service (issue 11, G18): POST
/v1/admin/fleet-orders records a board-signed fleet HALT or LIFT_HALT after
checking it as every device under its policy will, GET /v1/fleet-orders lists
the order in force of each policy for a data centre's agent to push, and a
device whose log lacks a recorded halt past its lifetime is flagged, on SQLite
and PostgreSQL.

Adversary (the operator runs the data centre, its link to the verifier and the
devices' links; it may hold one board member's key, or every key of a policy
of its own): it posts a halt again after the lift (a replay), or a lift under
a lower sequence than the halt; it signs with fewer keys than the quorum, or
with keys of another policy; it posts with no token, an inspector's token or
one of its own; its device answers OK to the halt and never applies it; it
restarts the service so that what it recorded is forgotten. Each is refused
with the status and the reason, nothing recorded, or flagged."""

from __future__ import annotations

import hashlib
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from test_series import DEVICE, _applied, _signed, attestation, heads, make_log

from openheg.authority import Authority
from openheg.crypto import SigningKey
from openheg.ledger import FleetOrderRefused, Ledger
from openheg.licensing import issue_fleet_order, issue_order, sign_order
from openheg.roles import Role, endorse_device
from openheg.series import CHAIN_START, LogRead
from openheg.verifier.app import DASHBOARD_COOKIE, create_app
from openheg.verifier.config import VerifierConfig
from openheg.wire import ORDER_LIFETIME_S, GateCause, GateState, OrderKind, SignerRole

TOKEN = "regulator-token-" + "0" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INSPECTOR = SigningKey(b"\x31" * 32)
INSPECTOR_TOKEN = "inspector-token-" + "1" * 32
QUORUM = ("board-1", "board-2")


@pytest.fixture(scope="module")
def authorities(tmp_path_factory):
    """The authority the verifier trusts (a board of three, quorum two) and
    another, the operator's own, whose every key it holds."""
    folder = tmp_path_factory.mktemp("authorities")
    return Authority.create(folder / "auth"), Authority.create(folder / "other")


def verifier_config(home, authority, ledger) -> VerifierConfig:
    (home / "verifier.toml").write_text(
        f'authority = "{authority.directory}"\n'
        f'[tokens]\nregulator = ["{hashlib.sha256(TOKEN.encode()).hexdigest()}"]\n'
        f'[tokens.inspectors]\n"{INSPECTOR.public_key.hex()}" = '
        f'["{hashlib.sha256(INSPECTOR_TOKEN.encode()).hexdigest()}"]\n')
    return VerifierConfig.load(home, home / "verifier.toml", ledger=ledger)


@pytest.fixture
def service(authorities, tmp_path, database_url):
    authority, _ = authorities
    config = verifier_config(tmp_path, authority, database_url)
    with TestClient(create_app(config)) as client:
        yield client, config


def fleet_order(authority, kind=OrderKind.HALT, sequence=1, signers=None, *, policy=None,
                issued_at=None):
    record = issue_fleet_order(kind, policy=policy or authority.policy_in_force(),
                               sequence=sequence, now=issued_at)
    return sign_order(record, signers or [authority.key(name) for name in QUORUM])


def post(client, order, headers=AUTH):
    return client.post("/v1/admin/fleet-orders", content=order.to_bytes(),
                       headers={**headers, "Content-Type": "application/octet-stream"})


def recorded(config) -> int:
    ledger = Ledger(config.ledger)
    try:
        return ledger.counts()["fleet_orders"]
    finally:
        ledger.close()


def in_force(client, **params) -> list[dict]:
    answer = client.get("/v1/fleet-orders", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["orders"]


def test_a_quorum_signed_fleet_halt_is_recorded_once_and_listed_publicly(service, authorities):
    client, config = service
    authority, _ = authorities
    halt = fleet_order(authority)
    answer = post(client, halt)
    assert answer.status_code == 201, answer.text
    assert answer.json()["recorded"] is True
    again = post(client, halt)  # the same bytes, resent: recorded once
    assert again.status_code == 200 and again.json()["recorded"] is False
    assert recorded(config) == 1
    # No token: the public tier reads it, as the operator's agent must.
    (listed,) = in_force(client)
    assert bytes.fromhex(listed["order"]) == halt.to_bytes()
    assert (listed["order_kind"], listed["sequence"], listed["policy_version"]) == ("HALT", 1, 1)
    assert listed["expires_at"] == halt.issued_at + ORDER_LIFETIME_S
    assert listed["signers"] == sorted(authority.public_key(n).hex() for n in QUORUM)
    assert in_force(client, policy=authority.policy_in_force().digest.hex()) == [listed]
    assert in_force(client, policy="ab" * 32) == []
    assert client.get("/v1/fleet-orders", params={"policy": "zz"}).status_code == 400


def test_a_replayed_halt_and_a_lift_below_the_halt_are_refused(service, authorities):
    """The operator resends the halt after the board lifted it, or a lift the
    board signed in advance under a lower sequence than the halt: 409, the
    order in force unchanged, nothing recorded."""
    client, config = service
    authority, _ = authorities
    halt, lift = fleet_order(authority), fleet_order(authority, OrderKind.LIFT_HALT, 2)
    assert post(client, halt).status_code == 201
    assert post(client, lift).status_code == 201
    replayed = post(client, halt)
    assert replayed.status_code == 409 and "not above the highest" in replayed.json()["detail"]
    assert [o["order_kind"] for o in in_force(client)] == ["LIFT_HALT"]
    halt3 = fleet_order(authority, sequence=3)
    assert post(client, halt3).status_code == 201
    for older in (fleet_order(authority, OrderKind.LIFT_HALT, 2),  # new bytes, old number
                  fleet_order(authority, OrderKind.LIFT_HALT, 3),  # the halt's own number
                  fleet_order(authority, OrderKind.LIFT_HALT, 1)):
        answer = post(client, older)
        assert answer.status_code == 409, answer.text
        assert "sequence" in answer.json()["detail"]
    assert recorded(config) == 3
    assert [(o["order_kind"], o["sequence"]) for o in in_force(client)] == [("HALT", 3)]


def test_orders_without_the_boards_quorum_of_a_known_policy_are_refused(service, authorities):
    client, config = service
    authority, other = authorities
    ours, theirs = authority.policy_in_force(), other.policy_in_force()
    cases = {
        "one member": fleet_order(authority, signers=[authority.key("board-1")]),
        # A member the operator holds, and a key of its own policy's board.
        "a member and a stranger": fleet_order(
            authority, signers=[authority.key("board-1"), other.key("board-1")]),
        "another board on our policy": fleet_order(
            authority, signers=[other.key(n) for n in QUORUM], policy=ours),
        "another policy": fleet_order(other, policy=theirs),
        "past its lifetime": fleet_order(authority, issued_at=1_000_000),
    }
    reasons = {name: post(client, order) for name, order in cases.items()}
    for name, answer in reasons.items():
        assert answer.status_code == 422, (name, answer.text)
    assert "board quorum" in reasons["one member"].json()["detail"]
    assert "board quorum" in reasons["a member and a stranger"].json()["detail"]
    assert "not a policy of the chain" in reasons["another policy"].json()["detail"]
    assert "lifetime" in reasons["past its lifetime"].json()["detail"]
    per_device = sign_order(issue_order(OrderKind.HALT, device_id=DEVICE.public_key, sequence=1,
                                        signer_role=SignerRole.BOARD),
                            [authority.key(n) for n in QUORUM])
    answer = post(client, per_device)
    assert answer.status_code == 422 and "order send" in answer.json()["detail"]
    garbled = client.post("/v1/admin/fleet-orders", content=b"\x00" * 40, headers=AUTH)
    assert garbled.status_code == 400 and "malformed" in garbled.json()["detail"]
    assert recorded(config) == 0 and in_force(client) == []


def test_only_the_regulator_posts_fleet_orders(service, authorities):
    client, config = service
    halt = fleet_order(authorities[0])
    assert post(client, halt, headers={}).status_code == 401
    assert post(client, halt,
                headers={"Authorization": f"Bearer {INSPECTOR_TOKEN}"}).status_code == 403
    assert post(client, halt,
                headers={"Authorization": "Bearer operator-" + "9" * 32}).status_code == 403
    assert recorded(config) == 0


def test_a_service_without_the_authority_refuses_fleet_orders(authorities, tmp_path):
    (tmp_path / "verifier.toml").write_text(
        f'[tokens]\nregulator = ["{hashlib.sha256(TOKEN.encode()).hexdigest()}"]\n')
    config = VerifierConfig.load(tmp_path, tmp_path / "verifier.toml")
    with TestClient(create_app(config)) as client:
        answer = post(client, fleet_order(authorities[0]))
    assert answer.status_code == 422 and "set authority" in answer.json()["detail"]
    assert recorded(config) == 0


def test_a_restarted_service_keeps_the_sequences_it_recorded(authorities, tmp_path,
                                                             database_url):
    """State is the ledger's: a new process on the same database still refuses
    the replay and still lists the order in force."""
    authority, _ = authorities
    config = verifier_config(tmp_path, authority, database_url)
    halt, lift = fleet_order(authority), fleet_order(authority, OrderKind.LIFT_HALT, 2)
    with TestClient(create_app(config)) as client:
        assert post(client, halt).status_code == 201
        assert post(client, lift).status_code == 201
    with TestClient(create_app(config)) as client:
        assert post(client, halt).status_code == 409
        assert [o["sequence"] for o in in_force(client)] == [2]
        assert post(client, lift).status_code == 200


# ------------------------------------------------ a device that withholds it
def report(ledger, counter, received_at, log, *, policy_digest, read_log=True, **fields):
    """An attestation of DEVICE under the policy, recorded as received then; with
    ``read_log`` the device's whole log read right after it."""
    data = _signed(counter, heads(log)[len(log)], policy_digest=policy_digest, **fields)
    ledger.record_attestation(data, received_at=received_at)
    if read_log:
        ledger.record_log(DEVICE.public_key, LogRead(CHAIN_START, tuple(log), len(log)),
                          after_attestation=data)


@pytest.fixture
def device_world(service, authorities, tmp_path):
    """DEVICE endorsed in the service's ledger, a first report under the
    policy before the halt, and the halt posted."""
    client, config = service
    authority, _ = authorities
    ledger = Ledger(config.ledger)
    ledger.record_device(endorse_device(Role(tmp_path / "vendor", SigningKey(b"\x44" * 32)),
                                        DEVICE.public_key))
    halt = fleet_order(authority)
    digest = authority.policy_in_force().digest
    report(ledger, 1, halt.issued_at - 10, make_log(length=2), policy_digest=digest,
           read_log=False)
    assert post(client, halt).status_code == 201
    yield client, ledger, halt, digest
    ledger.close()


def device_anomalies(client) -> dict:
    answer = client.get(f"/v1/devices/{DEVICE.public_key.hex()}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    return answer.json()


def not_applied(body) -> list[str]:
    return [a["detail"] for a in body["anomalies"] if a["kind"] == "order-not-applied"]


def test_a_device_that_never_applies_the_fleet_halt_is_flagged_after_its_lifetime(
        device_world):
    """The operator's link answered OK; the device's log, read whole, lacks
    the halt: not flagged while the halt can still apply, flagged after."""
    client, ledger, halt, digest = device_world
    log = make_log(length=2)
    report(ledger, 2, halt.issued_at + 60, log, policy_digest=digest)
    body = device_anomalies(client)
    assert body["trusted"] and not not_applied(body)
    report(ledger, 3, halt.issued_at + ORDER_LIFETIME_S + 1, log, policy_digest=digest)
    body = device_anomalies(client)
    assert not body["trusted"]
    (detail,) = not_applied(body)
    assert "fleet halt order 1" in detail and "never applied" in detail


def test_a_device_whose_log_holds_the_fleet_halt_is_not_flagged(device_world):
    client, ledger, halt, digest = device_world
    log = make_log(length=2) + [_applied(2, OrderKind.HALT, SignerRole.BOARD, 1,
                                         halt.subject_id)]
    report(ledger, 2, halt.issued_at + ORDER_LIFETIME_S + 1, log, policy_digest=digest,
           gate_state=GateState.CLOSED, gate_causes=GateCause.HALTED)
    body = device_anomalies(client)
    assert body["trusted"], body["anomalies"]


def test_a_device_first_heard_of_after_the_lifetime_is_not_held_to_it(service, authorities,
                                                                     tmp_path):
    client, config = service
    authority, _ = authorities
    halt = fleet_order(authority)
    assert post(client, halt).status_code == 201
    ledger = Ledger(config.ledger)
    ledger.record_device(endorse_device(Role(tmp_path / "vendor", SigningKey(b"\x44" * 32)),
                                        DEVICE.public_key))
    report(ledger, 1, halt.issued_at + ORDER_LIFETIME_S + 1, make_log(length=2),
           policy_digest=authority.policy_in_force().digest)
    ledger.close()
    assert device_anomalies(client)["trusted"]


def metric(client, name: str) -> float:
    lines = [line for line in client.get("/metrics").text.splitlines()
             if line.startswith(name + " ")]
    assert len(lines) == 1, name
    return float(lines[0].split()[1])


def test_metrics_count_devices_not_yet_halted_and_the_dashboard_shows_who_signed(
        device_world, authorities):
    client, ledger, halt, digest = device_world
    authority, _ = authorities
    # Its only report predates the halt: not yet halted.
    assert metric(client, "openheg_devices_not_halted") == 1
    log = make_log(length=2)
    report(ledger, 2, halt.issued_at + 5, log, policy_digest=digest)  # gate still open
    assert metric(client, "openheg_devices_not_halted") == 1
    report(ledger, 3, halt.issued_at + 6, log, policy_digest=digest,
           gate_state=GateState.CLOSED, gate_causes=GateCause.HALTED)
    assert metric(client, "openheg_devices_not_halted") == 0
    client.cookies.set(DASHBOARD_COOKIE, TOKEN)
    page = client.get("/dashboard").text
    assert "every device under policy v1" in page
    for name in QUORUM:
        assert authority.public_key(name).hex()[:16] in page
    # Lifted: no halt in force, nothing left to halt.
    assert post(client, fleet_order(authority, OrderKind.LIFT_HALT, 2)).status_code == 201
    report(ledger, 4, halt.issued_at + 7, log, policy_digest=digest)
    assert metric(client, "openheg_devices_not_halted") == 0
    assert client.get("/dashboard").text.count("every device under policy v1") == 2


def test_a_device_now_under_another_policy_is_not_counted_by_its_halt(device_world):
    client, ledger, halt, digest = device_world
    other_digest = bytes(31) + b"\x01"
    report(ledger, 2, halt.issued_at + 5, make_log(length=2), policy_digest=other_digest)
    assert metric(client, "openheg_devices_not_halted") == 0


def test_two_workers_posting_at_once_cannot_record_an_older_order_after_a_newer(
        authorities, database_url):
    """Two service workers on one database: the first has read the highest
    sequence (1) for halt 3 and not yet written, when the second posts lift 2
    (older than 3). The second waits for the first and is then refused; had it
    not waited, both would be recorded, 2 after 3."""
    authority, _ = authorities
    first, second = Ledger(database_url), Ledger(database_url)
    first.record_fleet_order(fleet_order(authority), [], 0)
    read_highest, go_on = threading.Event(), threading.Event()

    @event.listens_for(first.engine, "after_cursor_execute")
    def _pause(_conn, _cursor, statement, *_args):
        if "max(" in statement.lower() and not read_highest.is_set():
            read_highest.set()
            go_on.wait(60)

    outcomes: dict[str, object] = {}

    def post_as(name, ledger, order):
        try:
            outcomes[name] = ledger.record_fleet_order(order, [], 0)
        except FleetOrderRefused as error:
            outcomes[name] = error

    newer = threading.Thread(target=post_as, args=("halt 3", first, fleet_order(authority,
                                                                                 sequence=3)))
    newer.start()
    assert read_highest.wait(60)
    older = threading.Thread(target=post_as, args=(
        "lift 2", second, fleet_order(authority, OrderKind.LIFT_HALT, 2)))
    older.start()
    older.join(2)  # it waits on the first's lock: let the first go on either way
    go_on.set()
    newer.join(60)
    older.join(60)
    assert outcomes["halt 3"] is True
    assert isinstance(outcomes["lift 2"], FleetOrderRefused)
    assert [r.sequence for r in second.fleet_orders()] == [1, 3]
    first.close()
    second.close()


def ledger_reads_of_attestations(client, path: str) -> int:
    """How many SQL statements that read the attestations table one GET of ``path`` sends."""
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if "attestations" in statement.lower() and statement.lstrip().lower().startswith("select"):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", _count)
    try:
        assert client.get(path, headers=AUTH).status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", _count)
    return len(statements)


def test_a_scrape_reads_one_row_per_device_whatever_the_fleet_sent(device_world, tmp_path):
    """/metrics and GET /v1/devices take each device's report count and newest report
    from one query (they read every attestation of every device, one query per
    device, before): the statements a scrape sends do not grow with the devices. The
    newest report is the highest counter, not the last to arrive: an older report
    the operator delays until after the halted one does not reopen the count."""
    client, ledger, halt, digest = device_world
    log = make_log(length=2)
    report(ledger, 3, halt.issued_at + 6, log, policy_digest=digest,
           gate_state=GateState.CLOSED, gate_causes=GateCause.HALTED)
    report(ledger, 2, halt.issued_at + 9, log, policy_digest=digest)  # delayed, gate open
    assert metric(client, "openheg_devices_not_halted") == 0
    [listed] = client.get("/v1/devices", headers=AUTH).json()["devices"]
    assert (listed["reports"], listed["last_seen"], listed["gate_state"]) == (
        3, halt.issued_at + 6, GateState.CLOSED.name)
    one_device = ledger_reads_of_attestations(client, "/metrics")
    listing_one = ledger_reads_of_attestations(client, "/v1/devices")

    vendor = Role(tmp_path / "vendor-b", SigningKey(b"\x44" * 32))
    for seed in (0x51, 0x52):
        key = SigningKey(bytes([seed]) * 32)
        ledger.record_device(endorse_device(vendor, key.public_key))
        ledger.record_attestation(attestation(1, 1000, heads(log)[2], key=key,
                                              policy_digest=digest),
                                  received_at=halt.issued_at + 7)
    silent = SigningKey(b"\x53" * 32)  # endorsed, never reported
    ledger.record_device(endorse_device(vendor, silent.public_key))

    assert metric(client, "openheg_devices_not_halted") == 2
    assert metric(client, "openheg_devices") == 4
    listed = {d["device_id"]: d for d in client.get("/v1/devices", headers=AUTH).json()["devices"]}
    assert listed[silent.public_key.hex()]["reports"] == 0
    assert listed[silent.public_key.hex()]["last_seen"] is None
    assert ledger_reads_of_attestations(client, "/metrics") == one_device
    assert ledger_reads_of_attestations(client, "/v1/devices") == listing_one
