"""Chip-days per second of the scenario engine, as a ratio to the same steps
done one chip at a time without batching, measured in the same run.

Both sides run the same scenario: one frontier workload, every chip the real
firmware on the meter's reference model, a signed time beacon and a verified
attestation every day. The engine (openheg_sim.scenario.engine.simulate) runs
the chips day by day in worker processes (one per core), passes each day's
ops to the meter in bulk, lets the firmware's metering loop run once per phase
of the day, and records each worker's devices, licenses and orders in one
transaction each and its attestations in batches. The baseline is the path a
script using the library by hand takes: one process, one chip through all its
days before the next, a metering pass after every message (ChipLink, as
`openheg device` does) and one ledger transaction per attestation (it records
no devices or licenses: the engine does more ledger work, not less).

The issue's target on a 2-core machine: 10,000 chips x 30 days in 5 minutes,
1 ms per chip-day. A smaller fleet is the default; the per-chip-day figure
and the extrapolation to 10,000 x 30 are printed, and the run's row goes into
the table in docs/simulate.md (section "Speed"), replacing only the row of the
same fleet and workers (`--no-doc`: print only). The engine's progress
(chip-days done, the rate) goes to stderr.

Run: .venv/bin/python bench/sim/bench_simulate.py [--chips N] [--days D]
     [--baseline-chips M] [--workers W] [--no-doc]
The full one, on an otherwise idle machine (about 5 to 10 minutes):
     nice .venv/bin/python bench/sim/bench_simulate.py --chips 10000 --days 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from openheg.ledger import Ledger
from openheg_sim.emulator import ChipLink
from openheg_sim.scenario import parse_scenario
from openheg_sim.scenario.chips import ChipRun, Offices
from openheg_sim.scenario.engine import Progress, simulate
from openheg_sim.scenario.fleet import ATTEST_AT_S, prepare_fleet

from bench_classifier import DOC, write_doc

TARGET_MS_PER_CHIP_DAY = 1.0
TARGET_CHIPS, TARGET_DAYS = 10_000, 30
FULL_COMMAND = ("nice .venv/bin/python bench/sim/bench_simulate.py "
                f"--chips {TARGET_CHIPS} --days {TARGET_DAYS}")
BEGIN = "<!-- simulate speed: written by bench/sim/bench_simulate.py; do not edit -->"
END = "<!-- end of simulate speed -->"
TABLE_HEAD = (
    "| chips x days | workers | measured (UTC) | load average | baseline CPU ms per chip-day "
    "| engine CPU ms per chip-day | engine wall ms per chip-day | ratio engine/baseline "
    "(end to end; CPU) | 10,000 x 30 |",
    "|---|---|---|---|---|---|---|---|---|")

SCENARIO = """
name = "bench: {chips} chips x {days} days"
days = {days}
seed = 1
[[site]]
name = "bench"
chips = {chips}
peak_ops = {{ fp16 = 9.9e14, fp8 = 1.98e15 }}
[policy]
f_sflop = 1e26
h_sflop = 1e28
[[workload]]
name = "frontier-run"
owner = "lab"
lineage = "none"
site = "bench"
kind = "pre-training"
planned_sflop = 5e27
precision_mix = {{ fp16 = 0.5, fp8 = 0.5 }}
"""


def scenario(chips: int, days: int):
    return parse_scenario(SCENARIO.format(chips=chips, days=days), "bench")


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the
    engine's workers): on a shared machine, wall time also counts the others'."""
    own, children = (resource.getrusage(resource.RUSAGE_SELF),
                     resource.getrusage(resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def baseline(chips: int, days: int, folder: Path) -> tuple[float, float, int]:
    """(seconds, CPU seconds, attestations recorded) one chip at a time, unbatched."""
    fleet = prepare_fleet(scenario(chips, days), folder)
    offices = Offices(fleet)
    ledger = Ledger(folder / "baseline.sqlite")
    recorded = 0
    start, cpu = time.perf_counter(), cpu_seconds()
    for spec in fleet.chips:
        run = ChipRun(fleet, spec, offices, link=ChipLink)
        run.provision()
        for day in range(days):
            run.day(day)
        for day, raw in run.result.attestations:
            ledger.record_attestation(raw, received_at=fleet.day_start(day) + ATTEST_AT_S)
            recorded += 1
        run.close()
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    ledger.close()
    return seconds, cpu, recorded


def engine(chips: int, days: int, workers: int, folder: Path
           ) -> tuple[float, float, float, dict]:
    """(seconds of the chips' run, seconds and CPU seconds end to end, the
    run's ledger counts)."""
    start, cpu = time.perf_counter(), cpu_seconds()
    run = simulate(scenario(chips, days), folder, workers=workers,
                   progress=Progress(chips * days, every=10.0))
    return (run.seconds, time.perf_counter() - start, cpu_seconds() - cpu,
            run.summary["ledger"])


def table_row(fields: dict) -> str:
    return "| " + " | ".join(str(fields[k]) for k in (
        "fleet", "workers", "measured", "load", "baseline_cpu", "engine_cpu", "engine_wall",
        "ratio", "target")) + " |"


def write_row(row: str, doc: Path = DOC) -> None:
    """Put ``row`` into the speed table of ``doc``: in place of the row of the
    same fleet and workers, the others kept as they were (sorted by fleet)."""
    page = doc.read_text()
    section = page.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = [line for line in section.splitlines()
            if line.startswith("| ") and line not in TABLE_HEAD]

    def key(line: str) -> tuple:
        cells = [c.strip() for c in line.strip("|").split("|")]
        chips, days = cells[0].split(" x ")
        return int(chips.replace(",", "")), int(days), int(cells[1])
    kept = [line for line in rows if key(line) != key(row)]
    write_doc("\n".join([*TABLE_HEAD, *sorted(kept + [row], key=key)]), doc, BEGIN, END)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"The full {TARGET_CHIPS:,} x {TARGET_DAYS} run (on an otherwise idle machine):\n"
               f"  {FULL_COMMAND}\nIts row goes into the table in {DOC.name}, next to the others.")
    parser.add_argument("--chips", type=int, default=200, help="the engine's fleet (default 200)")
    parser.add_argument("--days", type=int, default=30, help="simulated days (default 30)")
    parser.add_argument("--baseline-chips", type=int, default=10,
                        help="chips the unbatched baseline runs (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="the engine's worker processes (default: one per core)")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the docs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="openheg-bench-sim-"))
    try:
        base_s, base_cpu, base_records = baseline(args.baseline_chips, args.days,
                                                  folder / "baseline")
        run_s, total_s, total_cpu, counts = engine(args.chips, args.days, args.workers,
                                                   folder / "engine")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base_chip_days = args.baseline_chips * args.days
    chip_days = args.chips * args.days
    base_rate, run_rate, total_rate = (base_chip_days / base_s, chip_days / run_s,
                                       chip_days / total_s)
    ms_total = 1000 * total_s / chip_days
    full_minutes = ms_total * TARGET_CHIPS * TARGET_DAYS / 1000 / 60
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (wall times count other "
          "jobs too; CPU times do not)")
    print(f"baseline (one chip at a time, unbatched): {args.baseline_chips} chips x {args.days} "
          f"days, {base_records} attestations: {base_rate:,.1f} chip-days/s "
          f"({1000 / base_rate:.2f} ms per chip-day; CPU {1000 * base_cpu / base_chip_days:.2f} "
          "ms per chip-day)")
    print(f"engine ({args.workers} workers): {args.chips} chips x {args.days} days, "
          f"{counts['attestations']} attestations: chips {run_rate:,.1f} chip-days/s, end to end "
          f"(set-up, ledger, summary, report) {total_rate:,.1f} chip-days/s "
          f"({ms_total:.2f} ms per chip-day; CPU {1000 * total_cpu / chip_days:.2f} ms per "
          "chip-day, all processes)")
    print(f"ratio engine/baseline: {total_rate / base_rate:.1f}x end to end, "
          f"{run_rate / base_rate:.1f}x for the chips' run, "
          f"{(base_cpu / base_chip_days) / (total_cpu / chip_days):.1f}x in CPU per chip-day")
    cpu_minutes = total_cpu / chip_days * TARGET_CHIPS * TARGET_DAYS / args.workers / 60
    print(f"extrapolated {TARGET_CHIPS:,} x {TARGET_DAYS} days on {args.workers} idle cores "
          f"(from CPU time): {cpu_minutes:.1f} min")
    full = (args.chips, args.days) == (TARGET_CHIPS, TARGET_DAYS)
    verdict = "MET" if ms_total <= TARGET_MS_PER_CHIP_DAY else "NOT MET"
    print(f"{'measured' if full else 'extrapolated'} {TARGET_CHIPS:,} x {TARGET_DAYS} days: "
          f"{full_minutes:.1f} min end to end (target {TARGET_MS_PER_CHIP_DAY:g} ms per chip-day "
          f"= 5 min): {verdict}")
    if args.no_doc:
        return
    row = table_row({
        "fleet": f"{args.chips:,} x {args.days}", "workers": args.workers,
        "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"), "load": f"{load:.1f}",
        "baseline_cpu": f"{1000 * base_cpu / base_chip_days:.2f} ({args.baseline_chips} chips)",
        "engine_cpu": f"{1000 * total_cpu / chip_days:.2f}", "engine_wall": f"{ms_total:.2f}",
        "ratio": f"{total_rate / base_rate:.1f}x; "
                 f"{(base_cpu / base_chip_days) / (total_cpu / chip_days):.1f}x",
        "target": (f"{full_minutes:.1f} min measured, {verdict}" if full else
                   f"{cpu_minutes:.1f} min from CPU on idle cores; {full_minutes:.1f} min from "
                   "this run's wall time")})
    write_row(row)
    print(f"written into {DOC}")


if __name__ == "__main__":
    main()
