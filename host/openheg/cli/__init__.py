"""The `openheg` command line, one module per command group.

Each group module (authority, board, policy, lineage, license, order, vendor,
device, attest, ledger, verifier, demo) attaches its commands to the root group
`cli` defined in _common when imported; _main imports them all and holds
`main`, the entry point (`openheg = "openheg.cli:main"`). The names re-exported
here are the ones callers use: the entry point, the tree and the exit codes.
"""

from ._common import (  # noqa: F401
    EXIT_BAD_INPUT,
    EXIT_CODES,
    EXIT_DEVICE_REFUSED,
    EXIT_INTERNAL,
    EXIT_LEDGER,
    EXIT_NOT_TRUSTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    _OneValuePerOption,
    cli,
)
from ._main import main  # noqa: F401
