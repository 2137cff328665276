"""`python -m openheg.cli`: the same entry point as the `openheg` script."""

import sys

from . import main

sys.exit(main())
