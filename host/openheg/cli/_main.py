"""openheg CLI: the _main commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import *  # noqa: F401,F403  (the tree shares one namespace)
from .authority import *  # noqa: F401,F403  (the tree shares one namespace)
from .board import *  # noqa: F401,F403  (the tree shares one namespace)
from .policy import *  # noqa: F401,F403  (the tree shares one namespace)
from .lineage import *  # noqa: F401,F403  (the tree shares one namespace)
from .license import *  # noqa: F401,F403  (the tree shares one namespace)
from .order import *  # noqa: F401,F403  (the tree shares one namespace)
from .vendor import *  # noqa: F401,F403  (the tree shares one namespace)
from .device import *  # noqa: F401,F403  (the tree shares one namespace)
from .attest import *  # noqa: F401,F403  (the tree shares one namespace)
from .ledger import *  # noqa: F401,F403  (the tree shares one namespace)
from .verifier import *  # noqa: F401,F403  (the tree shares one namespace)
from .demo import *  # noqa: F401,F403  (the tree shares one namespace)


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

