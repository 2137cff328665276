"""`openheg verifier fleet-orders post` and `push` against `openheg verifier
serve` run as a process: the regulator posts the board's fleet halt to the
service, a site's agent fetches what is in force and pushes it to each of its
emulated chips (whose C firmware checks the board's signatures), then the lift.

Adversary: the operator's agent replays the halt after the lift through the
service (refused there, and by each device had it got through); a per-device
order or a bad token file is refused in one line before anything is sent."""

from __future__ import annotations

import hashlib

from cli_kit import ok, one_error_line, run  # noqa: F401 - run is a fixture
from test_fleet_halt_cli import BOARD, CHIPS, computes, fleet  # noqa: F401 - fleet is a fixture
from verifier_world import running_verifier

from openheg.cli import EXIT_BAD_INPUT
from openheg.ledger import FLEET_ROLE, Ledger

TOKEN = "regulator-token-" + "7" * 32


def test_the_regulator_posts_a_fleet_halt_and_a_site_pushes_it_to_each_chip(fleet, tmp_path):
    run = fleet
    home = tmp_path / "service"
    home.mkdir()
    (home / "verifier.toml").write_text(
        f'authority = "{tmp_path / "auth"}"\n'
        f'[tokens]\nregulator = ["{hashlib.sha256(TOKEN.encode()).hexdigest()}"]\n')
    (tmp_path / "regulator.token").write_text(TOKEN + "\n")
    ok(run, "order", "issue", "--kind", "halt", "--fleet", *BOARD, "--out", "halt.order")
    ok(run, "order", "issue", "--kind", "lift-halt", "--fleet", *BOARD, "--out", "lift.order")
    with running_verifier(home, "--config", str(home / "verifier.toml")) as url:
        service = ("--service", url)
        post = ("verifier", "fleet-orders", "post", *service, "--token-file", "regulator.token")
        assert "recorded by the service" in ok(run, *post, "halt.order")
        assert "already recorded" in ok(run, *post, "halt.order")
        out = ok(run, "verifier", "fleet-orders", "push", *CHIPS, *service)
        assert out.count("fleet halt order 1 applied") == 3
        assert not any(computes(run, chip) for chip in CHIPS)
        ledger = Ledger(tmp_path / "home" / "ledger.sqlite")
        assert len([r for r in ledger.orders() if r.signer_role == FLEET_ROLE]) == 3
        ledger.close()

        ok(run, *post, "lift.order")
        out = ok(run, "verifier", "fleet-orders", "push", *CHIPS, *service)
        assert out.count("fleet lift-halt order 2 applied") == 3
        assert all(computes(run, chip) for chip in CHIPS)

        # The halt again, after the lift: the service refuses it, saying why.
        code, _, err = run(*post, "halt.order")
        assert code != 0 and "409" in one_error_line(err) and "not above" in err
        out = ok(run, "verifier", "fleet-orders", "push", CHIPS[0], *service,
                 "--policy", "ab" * 32)
        assert "nothing to push" in out
        assert computes(run, CHIPS[0])


def test_post_refuses_a_per_device_order_and_a_bad_token_file_before_sending(fleet, tmp_path):
    run = fleet
    ok(run, "order", "issue", "--kind", "halt", "--device", "emu://a", *BOARD,
       "--out", "one.order")
    ok(run, "order", "issue", "--kind", "halt", "--fleet", *BOARD, "--out", "halt.order")
    (tmp_path / "short.token").write_text("too-short\n")
    (tmp_path / "regulator.token").write_text(TOKEN)
    # Port 1: nothing listens there, so anything sent would fail differently.
    service = ("--service", "http://127.0.0.1:1")
    code, _, err = run("verifier", "fleet-orders", "post", "one.order", *service,
                       "--token-file", "regulator.token")
    assert code != 0 and "order send" in one_error_line(err)
    code, _, err = run("verifier", "fleet-orders", "post", "halt.order", *service,
                       "--token-file", "short.token")
    assert code == EXIT_BAD_INPUT and "short.token" in one_error_line(err)
    code, _, err = run("verifier", "fleet-orders", "post", "halt.order", "--service",
                       "ftp://127.0.0.1", "--token-file", "regulator.token")
    assert code != 0 and "ftp://127.0.0.1" in one_error_line(err)
    code, _, err = run("verifier", "fleet-orders", "post", "halt.order", *service,
                       "--token-file", "regulator.token")
    assert code != 0 and "cannot reach the verifier" in one_error_line(err)
