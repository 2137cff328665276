"""The campaign's results as text: the table printed by `make fault`, the
granting faults as static sites (function, source line, instruction), and
docs/fault.md's generated part.

docs/fault.md is written by hand above GENERATED_MARK and by write_doc below
it, one section per scenario plus a summary. A run rewrites the sections of
what it measured and keeps every other section as published (a run of one
scenario never deletes the numbers of the others), the way
bench/hdl/numbers_doc.py keeps docs/hdl/numbers.md."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from fault_campaign import MODELS, Category, ScenarioResult, disassemble
from fault_harness import ROOT, ImageFacts
from openheg.errors import DeviceStatus

sys.path.insert(0, str(ROOT / "bench/hdl"))

from numbers_doc import published_section  # noqa: E402

DOC = ROOT / "docs" / "fault.md"
GENERATED_MARK = ("<!-- Generated below this line by bench/fault/run_campaign.py "
                  "(make fault). Do not edit. -->")
SUMMARY_HEADING = "## Every scenario (`make fault`)"
COLUMNS = (Category.REFUSED, Category.DETECTED, Category.CRASHED, Category.CHANGED,
           Category.GRANTED)


def scenario_heading(name: str) -> str:
    return f"## Scenario `{name}`"


@dataclass(frozen=True)
class Site:
    """One instruction whose fault granted, with every run that showed it."""
    model: str
    address: int
    functions: str   # innermost first, "a < b" for a inlined into b
    source: str      # path:line of the innermost
    instruction: str
    runs: int
    effects: tuple[str, ...]


def inline_chains(elf: Path, addresses: list[int]) -> dict[int, tuple[str, str]]:
    """address -> (function chain, innermost source line), by addr2line."""
    if not addresses:
        return {}
    out = subprocess.run(["arm-none-eabi-addr2line", "-e", str(elf), "-f", "-i", "-a"] +
                         [f"0x{a:x}" for a in addresses], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    chains: dict[int, tuple[str, str]] = {}
    current, frames = None, []
    for line in out + ["0x0"]:
        if line.startswith("0x"):
            if current is not None:
                names = []
                for name in frames[0::2]:  # a function split in parts repeats
                    if not names or names[-1] != name:
                        names.append(name)
                where = frames[1] if len(frames) > 1 else "??"
                chains[current] = (" < ".join(names), _relative_source(where))
            current, frames = int(line, 16), []
        else:
            frames.append(line)
    return chains


def _relative_source(where: str) -> str:
    prefix = str(ROOT) + "/"
    where = where.split(" (discriminator")[0]
    return where[len(prefix):] if where.startswith(prefix) else where


def compact_effects(effects: set[str]) -> tuple[str, ...]:
    """"x (running)" and "x (stored)" as one "x (running, stored)"."""
    places: dict[str, list[str]] = defaultdict(list)
    for effect in sorted(effects):
        name, _, where = effect.partition(" (")
        places[name].append(where.rstrip(")"))
    return tuple(f"{name} ({', '.join(w)})" if any(w) else name
                 for name, w in sorted(places.items()))


def granting_sites(facts: ImageFacts, result: ScenarioResult) -> list[Site]:
    runs: dict[tuple[str, int], int] = defaultdict(int)
    effects: dict[tuple[str, int], set[str]] = defaultdict(set)
    for model, tally in result.tallies.items():
        for fault, outcome in tally.granting:
            runs[(model, fault.address)] += 1
            effects[(model, fault.address)].update(outcome.effects)
    chains = inline_chains(facts.elf, sorted({address for _, address in runs}))
    sites = []
    for (model, address), count in sorted(runs.items(), key=lambda kv: (
            MODELS.index(kv[0][0]), kv[0][1])):
        code = bytes(facts.code_at(address, 4))
        insn = disassemble(code, address)
        text = f"{insn.mnemonic} {insn.op_str}".strip() if insn else code.hex()
        functions, source = chains.get(address, ("??", "??"))
        sites.append(Site(model, address, functions, source, text, count,
                          compact_effects(effects[(model, address)])))
    return sites


def table_rows(result: ScenarioResult) -> list[str]:
    rows = []
    for model, tally in result.tallies.items():
        cells = " | ".join(str(tally.counts[c]) for c in COLUMNS[:-1])
        rows.append(f"| `{result.scenario.name}` | {model} | {tally.runs} | {cells} | "
                    f"**{tally.counts[Category.GRANTED]}** |")
    return rows


TABLE_HEAD = ["| Scenario | Model | Runs | Refused | Detected | Crashed/hung | Changed | "
              "**Granted** |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]


def scenario_section(facts: ImageFacts, result: ScenarioResult) -> list[str]:
    s = result.scenario
    golden = result.golden
    status = DeviceStatus(golden.status).name if golden.status in set(DeviceStatus) else (
        "no answer" if golden.status is None else f"0x{golden.status:04x}")
    out = [scenario_heading(s.name), "",
           f"Device: {s.state}. Record: {s.summary}. Without a fault: "
           f"**{golden.category.value}** with {status} (expected {s.refusal.name}).", "",
           f"The golden run executes {result.instructions:,} instructions with the "
           f"verification stood in, {result.trace_length:,} of them in the firmware's own code "
           f"(the fault space); real verifications recorded: {result.verify_calls}; verdicts "
           f"faulted runs needed for bytes the golden run never verified: "
           f"{result.host_verdicts}.", ""] + TABLE_HEAD + table_rows(result) + [""]
    sites = granting_sites(facts, result)
    if not sites:
        return out + ["No fault granted anything.", ""]
    out += ["Faults that granted (one row per instruction; Runs: how many of its "
            "executions granted when faulted):", "",
            "| Model | Address | Function (< inlined into) | Source | Instruction | Runs | "
            "What took effect |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for site in sites:
        out.append(f"| {site.model} | `0x{site.address:05x}` | `{site.functions}` | "
                   f"{site.source} | `{site.instruction}` | {site.runs} | "
                   f"{'; '.join(site.effects)} |")
    return out + [""]


def summary_section(results: list[ScenarioResult], image: str, seconds: float,
                    jobs: int) -> list[str]:
    out = [SUMMARY_HEADING, "",
           f"Run on {time.strftime('%Y-%m-%d', time.gmtime())} (UTC). Image `{image}`; "
           f"{len(results)} scenarios, every fault of both models; "
           f"{seconds:.0f} s of wall-clock time, "
           f"{'one process' if jobs == 1 else f'{jobs} processes'}.", "",
           "| Scenario | Device state | Record | Refused without a fault with |",
           "| --- | --- | --- | --- |"]
    out += [f"| `{r.scenario.name}` | {r.scenario.state} | {r.scenario.summary} | "
            f"{r.scenario.refusal.name} |" for r in results]
    out += [""] + TABLE_HEAD
    for result in results:
        out += table_rows(result)
    runs = sum(t.runs for r in results for t in r.tallies.values())
    granted = sum(t.counts[Category.GRANTED] for r in results for t in r.tallies.values())
    return out + ["", f"In all: {runs:,} faulted runs, **{granted:,} granted**. The target "
                  "is zero (issue 9 item 7).", ""]


def report_text(facts: ImageFacts, results: list[ScenarioResult]) -> str:
    lines = TABLE_HEAD[:]
    for result in results:
        lines += table_rows(result)
    for result in results:
        for site in granting_sites(facts, result):
            lines.append(f"GRANTED {result.scenario.name} {site.model} 0x{site.address:05x} "
                         f"{site.functions} {site.source} `{site.instruction}` "
                         f"x{site.runs}: {'; '.join(site.effects)}")
    return "\n".join(lines)


def write_doc(facts: ImageFacts, results: list[ScenarioResult], all_scenarios: list[str],
              complete: bool, seconds: float, doc: Path = DOC, jobs: int = 1) -> Path:
    """Rewrites the generated part of doc: the sections of the scenarios in
    results, and the summary when complete (every scenario, every fault);
    every other section is kept as published."""
    text = doc.read_text() if doc.exists() else ""
    if GENERATED_MARK not in text:
        raise RuntimeError(f"{doc} has no line {GENERATED_MARK!r} to write below")
    head = text.split(GENERATED_MARK)[0].rstrip("\n")
    measured = {r.scenario.name: r for r in results}
    out = [head, "", GENERATED_MARK, ""]
    if complete:
        out += summary_section(results, str(facts.elf.relative_to(ROOT)), seconds, jobs)
    else:
        out += published_section(doc, SUMMARY_HEADING) or [SUMMARY_HEADING, "", "(not run yet)",
                                                          ""]
    for name in all_scenarios:
        if name in measured:
            out += scenario_section(facts, measured[name])
        else:
            out += published_section(doc, scenario_heading(name)) or [
                scenario_heading(name), "", "(not run yet)", ""]
    doc.write_text("\n".join(out))
    return doc
