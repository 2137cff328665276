"""The `openheg` command line, one module per command group.

The groups attach themselves to the root group `cli` (in _common) when
imported, so importing them here, in the original order, builds the whole
tree; the re-export keeps `from openheg.cli import main, cli, EXIT_OK` and the
`openheg = "openheg.cli:main"` entry point working as before the split.
"""

from ._main import *  # noqa: F401,F403  (_main imports every group module in order)
from ._common import _OneValuePerOption  # noqa: F401  (tests and docs name it)
