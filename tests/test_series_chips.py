"""Series verification on real emulated chips (the C firmware) after the
32-entry event-log ring has wrapped: honest chips show no fork or gap, even on a
fresh ledger's first collect; an operator who rewrites the log on the link, or
rolls the chip's storage back, is still caught.

Every emulated CLI command powers the chip up, and with --time-from logs two
entries (RESET and TIME_SET), so a few dozen commands wrap the ring."""

from __future__ import annotations

import json
import shutil

import pytest

from openheg.cli import _common as cli_module  # Context opens devices through it
from openheg.cli import EXIT_NOT_TRUSTED, EXIT_UNREACHABLE
from openheg.errors import TransportError
from cli_kit import ok, run  # noqa: F401 - run is a fixture
from operator_link import (
    TamperingLink,
    rewrite_head_before,
    rewrite_newest_entry,
    rewrite_oldest_entry,
)

RING = 32
COLLECT = ("attest", "collect", "--endorsements", "vendor/endorsements.json",
           "--vendor-key", "vendor/vendor.key.pub", "--json")


@pytest.fixture
def fleet(run, monkeypatch):
    ok(run, "authority", "create", "auth")
    ok(run, "vendor", "create", "vendor")
    ok(run, "device", "provision", "emu://a", "emu://b", "--authority", "auth",
       "--vendor", "vendor")
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    return run


def busy(run, url: str, commands: int) -> None:
    for _ in range(commands):
        ok(run, "device", "info", url)


def logged_entries(run, url: str) -> list[int]:
    return [e["index"] for e in json.loads(ok(run, "device", "log", url, "--json"))["entries"]]


def series(run) -> tuple[int, dict]:
    code, out, err = run("attest", "series", "--json")
    return code, json.loads(out)


def test_honest_chips_show_no_fork_or_gap_after_the_ring_wraps(fleet, tmp_path):
    run = fleet
    # A fresh ledger's first collect comes after chip a's ring has wrapped.
    busy(run, "emu://a", RING)
    busy(run, "emu://b", 1)
    ok(run, *COLLECT[:2], "emu://a", "emu://b", *COLLECT[2:])
    code, result = series(run)
    assert code == 0 and result["trusted"], result
    for _ in range(3):  # the ring wraps between collects: the ledger keeps what it read
        busy(run, "emu://a", 20)
        busy(run, "emu://b", 1)
        ok(run, *COLLECT[:2], "emu://a", "emu://b", *COLLECT[2:])
    code, result = series(run)
    assert code == 0 and result["trusted"], result
    # Resets the log explains are noted, never severe; nothing else is flagged.
    assert {a["kind"] for a in result["anomalies"]} <= {"reset"}
    assert not any(a["severe"] for a in result["anomalies"])
    assert logged_entries(run, "emu://a")[0] > 2 * RING  # the ring did wrap, several times
    assert logged_entries(run, "emu://b")[0] == 0  # a fleet of wrapped and unwrapped rings


@pytest.mark.parametrize("rewrite,refusal", [
    (rewrite_newest_entry, "does not lead to the attested log head"),
    (rewrite_oldest_entry, "differs from the one stored"),
    (rewrite_head_before, "does not lead to the attested log head"),
], ids=["new-entry-rewritten", "kept-entry-rewritten", "head-before-rewritten"])
def test_a_log_rewritten_on_the_link_is_a_fork(fleet, monkeypatch, rewrite, refusal):
    run = fleet
    busy(run, "emu://a", RING + 5)
    ok(run, *COLLECT[:2], "emu://a", *COLLECT[2:])  # one honest collect first
    busy(run, "emu://a", 4)
    opened = cli_module.open_transport
    monkeypatch.setattr(cli_module, "open_transport",
                        lambda *args: TamperingLink(opened(*args), rewrite))
    code, _, err = run(*COLLECT[:2], "emu://a", *COLLECT[2:])
    assert code == EXIT_NOT_TRUSTED
    assert refusal in err.strip().splitlines()[-1]
    monkeypatch.setattr(cli_module, "open_transport", opened)
    code, result = series(run)
    assert code == EXIT_NOT_TRUSTED and not result["trusted"]
    assert "fork" in {a["kind"] for a in result["anomalies"] if a["severe"]}


def test_storage_rolled_back_by_the_operator_is_a_fork(fleet, tmp_path):
    """The operator keeps an image of the chip's storage (outside the package),
    lets the chip work on, then writes the old image back: the log goes back
    and continues on another branch."""
    run = fleet
    flash = tmp_path / "home" / "emu" / "a.flash"
    busy(run, "emu://a", 10)
    ok(run, *COLLECT[:2], "emu://a", *COLLECT[2:])
    shutil.copy(flash, tmp_path / "saved.flash")
    busy(run, "emu://a", RING + 8)
    ok(run, *COLLECT[:2], "emu://a", *COLLECT[2:])
    shutil.copy(tmp_path / "saved.flash", flash)
    busy(run, "emu://a", 3)
    # The restored chip re-logs what it logged the first time (same reset
    # count; the same TIME_SET when within the same second), so the log it
    # gives may agree with the stored entries: the series sees the log go
    # back, and so does the collect that brings it.
    code, _, err = run(*COLLECT[:2], "emu://a", *COLLECT[2:])
    assert code == EXIT_NOT_TRUSTED and "NOT TRUSTED" in err
    code, result = series(run)
    assert code == EXIT_NOT_TRUSTED
    severe = {a["kind"] for a in result["anomalies"] if a["severe"]}
    assert "fork" in severe and severe & {"replay", "rollback"}


def test_a_withheld_log_read_leaves_no_report_recorded(fleet, monkeypatch):
    """An operator who lets the attestation through but not the log read
    cannot leave a report on record as if it had never been read with its log."""
    run = fleet

    def withhold(page):
        raise TransportError("emu://a: no answer to READ_LOG")

    opened = cli_module.open_transport
    monkeypatch.setattr(cli_module, "open_transport",
                        lambda *args: TamperingLink(opened(*args), withhold))
    code, _, err = run(*COLLECT[:2], "emu://a", *COLLECT[2:])
    assert code == EXIT_UNREACHABLE and "READ_LOG" in err
    monkeypatch.setattr(cli_module, "open_transport", opened)
    devices = json.loads(ok(run, "ledger", "devices", "--json"))
    assert [d["reports"] for d in devices] == [0, 0]


def test_an_order_is_not_numbered_from_an_info_the_signed_reports_contradict(fleet,
                                                                             monkeypatch):
    """Regression (review finding 11): INFO is unsigned; a counter it claims
    below the newest signed report's is refused, not used to number the order."""
    from operator_link import InfoLink

    run = fleet
    halt = ("order", "issue", "--kind", "halt", "--device", "emu://a", "--authority", "auth",
            "--signer", "board-1", "--signer", "board-2")
    ok(run, *halt, "--out", "halt1.order")
    ok(run, "order", "send", "emu://a", "halt1.order")
    ok(run, *COLLECT[:2], "emu://a", *COLLECT[2:])  # a signed report: board counter 1
    opened = cli_module.open_transport

    def lower(info):
        info.board_order_sequence = 0
        return info

    monkeypatch.setattr(cli_module, "open_transport",
                        lambda *args: InfoLink(opened(*args), lower))
    code, _, err = run(*halt, "--out", "halt2.order")
    monkeypatch.setattr(cli_module, "open_transport", opened)
    assert code == EXIT_NOT_TRUSTED, err
    assert "signed report" in err
