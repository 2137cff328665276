"""openheg CLI: the verifier commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Order,
    Path,
    cli,
    click,
    hex_bytes,
    load_record,
    pass_context,
    progress,
    wire,
)
from .order import deliver, open_each

DEFAULT_SERVICE = "http://127.0.0.1:8642"


@cli.group()
def verifier() -> None:
    """The regulator's verifier service: attestations in over HTTP, EAR results out."""


@verifier.command("serve")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Configuration file (default: HOME/verifier.toml when it exists; "
                   "docs/verifier.md).")
@click.option("--host", default=None, help="Listen address (default 127.0.0.1: loopback only).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Listen port (default 8642).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Service processes sharing the port (default 1); each is stateless, "
                   "the ledger holds all state (docs/verifier.md, Scaling out).")
@pass_context
def verifier_serve(ctx: Context, config_file: Path | None, host: str | None,
                   port: int | None, workers: int | None) -> None:
    """Serve the verifier API until interrupted (Ctrl-C).

    With no configuration it listens on 127.0.0.1 with the ledger under HOME and
    no trust anchors: every attestation is refused, saying why, until vendor keys
    and endorsement lists are configured. The global --ledger URL overrides the file's.

    Example: openheg --ledger postgresql://openheg@127.0.0.1/registry verifier serve \\
    --config verifier.toml --port 8642
    """
    from ..verifier.app import serve
    from ..verifier.config import VerifierConfig

    config = VerifierConfig.load(ctx.home, config_file, ledger=ctx.ledger_url, host=host,
                                 port=port, workers=workers)
    progress(f"openheg verifier on http://{config.host}:{config.port} "
             f"(ledger {config.ledger}, {len(config.vendor_keys)} vendor keys, "
             f"{config.workers} worker{'s' if config.workers > 1 else ''})")
    serve(config, config_file)


@verifier.group("fleet-orders")
def fleet_orders() -> None:
    """The board's fleet orders through the service: post one, push those in force to devices."""


@fleet_orders.command("post")
@click.argument("order_file", type=click.Path(path_type=Path))
@click.option("--service", default=DEFAULT_SERVICE, show_default=True,
              help="The verifier service's base URL.")
@click.option("--token-file", type=click.Path(path_type=Path), required=True,
              help="A file holding the regulator's API token (kept off the command line).")
@pass_context
def fleet_orders_post(ctx: Context, order_file: Path, service: str, token_file: Path) -> None:
    """Post a board-signed fleet halt or lift-halt to the service, which
    checks it against the policy chain it trusts and records it once.

    Example: openheg verifier fleet-orders post halt.order --service \
    http://127.0.0.1:8642 --token-file regulator.token
    """
    from ..verifier.client import post_fleet_order, read_token, service_url

    record = load_record(order_file, Order)
    if not record.fleet:
        raise click.UsageError(f"{order_file} is a per-device order: deliver it with "
                               "`openheg order send`; the service takes fleet orders only")
    token = read_token(token_file)
    new, recorded = post_fleet_order(service_url(service), token, record)
    kind = record.order_kind.name.lower().replace("_", "-")
    click.echo(f"fleet {kind} order {record.sequence} of policy "
               f"{record.policy_digest.hex()[:16]}... "
               + ("recorded by the service" if new else "was already recorded by the service")
               + f"; devices take it until {recorded.get('expires_at')}")


@fleet_orders.command("push")
@click.argument("device_urls", nargs=-1, required=True)
@click.option("--service", default=DEFAULT_SERVICE, show_default=True,
              help="The verifier service's base URL.")
@click.option("--policy", "policy_digest", default=None, metavar="HEX",
              help="Only the fleet order in force for this policy (its digest).")
@pass_context
def fleet_orders_push(ctx: Context, device_urls: tuple[str, ...], service: str,
                      policy_digest: str | None) -> None:
    """Fetch the fleet orders in force from the service and deliver each to
    each device given (a site's agent runs this for the devices it lists);
    each device checks the board's signatures itself. An order past its
    lifetime is skipped: no device takes it.

    Example: openheg verifier fleet-orders push emu://chip0 emu://chip1 \
    --service http://127.0.0.1:8642
    """
    from ..authority import timestamp
    from ..verifier.client import fetch_fleet_orders, service_url

    digest = None if policy_digest is None else hex_bytes(policy_digest, wire.DIGEST_SIZE,
                                                          "--policy")
    base = service_url(service)
    targets = open_each(ctx, device_urls)
    orders = fetch_fleet_orders(base, digest)
    now = timestamp()
    live = [o for o in orders if now < o.issued_at + wire.ORDER_LIFETIME_S]
    for order in orders:
        if order not in live:
            click.echo(f"fleet order {order.sequence} of policy {order.policy_digest.hex()[:16]}"
                       "... is past its lifetime: not pushed")
    if not live:
        click.echo(f"no fleet order in force at {base}: nothing to push")
        return
    refusals = deliver(ctx, live, targets)
    if refusals:
        raise refusals[0]


# ===================================================================== demo
