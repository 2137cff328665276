"""openheg CLI: the demo commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    OutputPath,
    Path,
    cli,
    click,
)


@cli.command()
@click.option("--out", type=OutputPath(folder=True), default=Path("out/demo"),
              show_default=True, help="Directory for keys, records, ledger and report.")
@click.option("--chips", type=click.IntRange(1, 64), default=4, show_default=True)
def demo(out: Path, chips: int) -> None:
    """Run the end-to-end demo on a fleet of in-process emulated chips.

    Example: openheg demo --out out/demo
    """
    from ..demo import run_demo

    run_demo(out, chips=chips, echo=click.echo)


