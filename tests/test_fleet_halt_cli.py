"""`openheg order issue --kind halt --fleet` and `order send URL... FILE`: one
board-signed halt for every device under the policy (issue 11, G18), pushed
to many devices, recorded in the ledger for each, and numbered per policy."""

from __future__ import annotations

import json

import pytest

from openheg import wire
from openheg.cli import EXIT_BAD_INPUT, EXIT_DEVICE_REFUSED
from openheg.ledger import FLEET_ROLE, Ledger
from cli_kit import ok, one_error_line, run  # noqa: F401 - run is a fixture

BOARD = ("--authority", "auth", "--signer", "board-1", "--signer", "board-2")
CHIPS = ("emu://a", "emu://b", "emu://c")


@pytest.fixture
def fleet(run, monkeypatch):
    ok(run, "authority", "create", "auth")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", *CHIPS, "--authority", "auth", "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    for chip in CHIPS:
        ok(run, "license", "issue", "--authority", "auth", "--device", chip, "--workload",
           f"w{chip[-1]}", "--planned", "5e9", "--out", f"{chip[-1]}.lic")
        ok(run, "license", "install", chip, f"{chip[-1]}.lic")
    return run


def computes(run, chip: str) -> bool:
    result = json.loads(ok(run, "device", "run", chip, "--lane", "FP8", "--ops", "1e3",
                           "--json"))
    return result["gate_open"] and result["issued_ops"] > 0


def test_one_fleet_halt_is_pushed_to_every_device_and_lifted(fleet, tmp_path):
    run = fleet
    out = ok(run, "order", "issue", "--kind", "halt", "--fleet", *BOARD, "--out", "halt.order")
    assert "every device under policy v1" in out
    order = wire.Order.from_bytes((tmp_path / "halt.order").read_bytes())
    assert order.fleet and order.device_id == bytes(32) and order.sequence == 1
    ok(run, "order", "send", *CHIPS, "halt.order")
    assert not any(computes(run, chip) for chip in CHIPS)
    ledger = Ledger(tmp_path / "home" / "ledger.sqlite")
    rows = ledger.orders()
    assert len(rows) == 3 and {r.signer_role for r in rows} == {FLEET_ROLE}
    assert {r.device_id for r in rows} == {
        json.loads(ok(run, "device", "info", chip, "--json"))["device_id"] for chip in CHIPS}
    # Replayed after the lift: each device refuses it, and says so.
    ok(run, "order", "issue", "--kind", "lift-halt", "--fleet", *BOARD, "--out", "lift.order")
    assert wire.Order.from_bytes((tmp_path / "lift.order").read_bytes()).sequence == 2
    ok(run, "order", "send", *CHIPS, "lift.order")
    assert all(computes(run, chip) for chip in CHIPS)
    code, _, err = run("order", "send", *CHIPS, "halt.order")
    assert code == EXIT_DEVICE_REFUSED and err.count("not applied") == 3
    assert all(computes(run, chip) for chip in CHIPS)


def test_an_under_signed_or_misnamed_fleet_order_is_not_written(fleet, tmp_path):
    run = fleet
    code, _, err = run("order", "issue", "--kind", "halt", "--fleet", "--authority", "auth",
                       "--signer", "board-1", "--out", "halt.order")
    assert code == EXIT_BAD_INPUT and "board quorum" in one_error_line(err)
    code, _, err = run("order", "issue", "--kind", "pause", "--fleet", *BOARD, "--out", "x")
    assert code != 0 and "halt or lift-halt" in one_error_line(err)
    code, _, err = run("order", "issue", "--kind", "halt", "--fleet", "--device", "emu://a",
                       *BOARD, "--out", "x")
    assert code != 0 and "names no device" in one_error_line(err)
    assert not (tmp_path / "halt.order").exists() and not (tmp_path / "x").exists()
    # A per-device order still goes to one device only.
    ok(run, "order", "issue", "--kind", "halt", "--device", "emu://a", *BOARD,
       "--out", "one.order")
    code, _, err = run("order", "send", "emu://a", "emu://b", "one.order")
    assert code != 0 and "one URL" in one_error_line(err)
