"""The `openheg` entry point: runs the command tree and turns every failure into one line."""

from __future__ import annotations

import os

import click

# Importing a group module attaches its commands to the root group `cli`.
from . import (  # noqa: F401
    attest,
    authority,
    board,
    demo,
    device,
    ledger,
    license,
    lineage,
    order,
    policy,
    vendor,
    verifier,
    _plugins,  # last: commands of other packages, after every built-in one
)
from ._common import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    OpenhegError,
    cli,
    exit_code_for,
)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="openheg", standalone_mode=False)
    except OpenhegError as error:
        click.echo(f"openheg: error: {error}", err=True)
        return exit_code_for(error)
    except click.exceptions.Abort:
        click.echo("openheg: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"openheg: error: {error.format_message()}", err=True)
        return error.exit_code
    except Exception as error:  # a bug: still one line, with a way to see the trace
        if os.environ.get("OPENHEG_DEBUG"):
            raise
        click.echo(f"openheg: internal error: {type(error).__name__}: {error} "
                   "(set OPENHEG_DEBUG=1 for the traceback, and please report it)", err=True)
        return EXIT_INTERNAL
    return EXIT_OK

