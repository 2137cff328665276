"""openheg CLI: the verifier commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Path,
    cli,
    click,
    pass_context,
    progress,
)


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


# ===================================================================== demo
