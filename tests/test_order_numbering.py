"""Where `order issue --device` takes an order's sequence from (second
operator review, finding 1; regression tests: both failed before the fix).

The device takes a restricting order held back by the operator late, once,
while its sequence is one of the wire.ORDER_REPLAY_WINDOW (64) just below its
role's highest (G11); the residual risk is that the role gives the device 64
later orders first. The host numbered an order from the device's INFO: the counter
of the orders the device accepted, not of those the role issued. So the next
order of the role issued while the operator held one back got the held-back
order's own sequence, and once delivered made it REPLAYED: one order, not 64,
voided it. INFO is also unsigned: a counter claimed too high pushed the held-back
order out of the window. Now the ledger records each order's sequence when it is
issued, and the next is numbered past those and past the signed reports; an INFO
claiming more than both is refused."""

from __future__ import annotations

import pytest

from openheg.cli import _common as cli_module  # Context opens devices through it
from openheg import wire
from cli_kit import ok, run  # noqa: F401 - run is a fixture
from operator_link import InfoLink

BOARD = ("--authority", "auth", "--signer", "board-1", "--signer", "board-2")


@pytest.fixture
def chip(run, monkeypatch):
    ok(run, "authority", "create", "auth")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", "emu://a", "--authority", "auth", "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    return run


def test_a_held_back_halt_applies_after_the_next_order_of_its_role(chip):
    """The device never saw the held-back halt, so its counter, and the next
    order numbered from it, is the halt's own sequence: delivered first, the
    lift-halt makes the halt REPLAYED."""
    run = chip
    ok(run, "order", "issue", "--kind", "halt", "--device", "emu://a", *BOARD,
       "--out", "halt.order")
    ok(run, "order", "issue", "--kind", "lift-halt", "--device", "emu://a", *BOARD,
       "--out", "lift.order")
    ok(run, "order", "send", "emu://a", "lift.order")
    ok(run, "order", "send", "emu://a", "halt.order")  # applied (the device answered OK)


def test_an_info_claiming_a_higher_counter_cannot_void_a_held_back_halt(chip, monkeypatch):
    run = chip
    ok(run, "order", "issue", "--kind", "halt", "--device", "emu://a", *BOARD,
       "--out", "halt.order")  # sequence 1, held back
    opened = cli_module.open_transport

    def higher(info):
        info.board_order_sequence += wire.ORDER_REPLAY_WINDOW + 1
        return info

    monkeypatch.setattr(cli_module, "open_transport",
                        lambda *args: InfoLink(opened(*args), higher))
    code, _, err = run("order", "issue", "--kind", "lift-halt", "--device", "emu://a", *BOARD,
                       "--out", "lift.order")
    monkeypatch.setattr(cli_module, "open_transport", opened)
    if code == 0:  # the host numbered the lift-halt 66: the operator delivers it first
        ok(run, "order", "send", "emu://a", "lift.order")
    # The held-back halt must still apply (or the host refused to number from
    # the INFO it was shown).
    code, _, err = run("order", "send", "emu://a", "halt.order")
    assert code == 0, err  # applied (the device answered OK)


def test_orders_issued_as_proposals_are_numbered_apart(chip):
    """A proposal (signed later, offline) takes its sequence when it is issued,
    so the next order of its role does not reuse it."""
    run = chip
    ok(run, "order", "issue", "--kind", "halt", "--device", "emu://a", "--propose",
       "--out", "halt.proposal")
    ok(run, "order", "issue", "--kind", "lift-halt", "--device", "emu://a", *BOARD,
       "--out", "lift.order")
    from openheg.board import Proposal
    from openheg.wire import Order

    halt = Proposal.load("halt.proposal").record
    lift = Order.from_bytes(open("lift.order", "rb").read())
    assert (halt.sequence, lift.sequence) == (1, 2)


def test_an_info_claiming_more_than_was_issued_is_refused_by_name(chip, monkeypatch):
    run = chip
    opened = cli_module.open_transport

    def higher(info):
        info.board_order_sequence += 3
        return info

    monkeypatch.setattr(cli_module, "open_transport",
                        lambda *args: InfoLink(opened(*args), higher))
    code, _, err = run("order", "issue", "--kind", "halt", "--device", "emu://a", *BOARD,
                       "--out", "halt.order")
    assert code != 0 and "not to be trusted" in err and "issued board orders to it up to 0" in err
