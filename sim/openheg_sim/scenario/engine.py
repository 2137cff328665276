"""Run a scenario: plan the fleet, run its chips in shards, merge, record.

The chips are split into contiguous shards of chip indices, one per worker;
each worker runs its shard (openheg_sim.scenario.chips) with its own firmware
contexts and sends back plain results, which are merged in chip order. A
chip's run depends only on the fleet plan, the seed and its index, so the
merged result is the same for any number of workers, in processes here or on
a Dask cluster (openheg_sim.scenario.distributed).

The verifier's side is kept as it would be: every endorsement, license, order
and verified attestation goes into the ledger (SQLite in the output folder),
attestations in batches (Ledger.record_attestations), written by each worker
for its own chips (openheg_sim.scenario.recording).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from openheg.errors import OpenhegError
from openheg.ledger import Ledger

from .chips import ChipResult, run_chips
from .fleet import Fleet, prepare_fleet
from .recording import record_workloads, save_vendor_list
from .report import write_report
from .schema import Scenario
from .summary import build_summary

SUMMARY_FILE = "summary.json"


class OutputError(OpenhegError):
    """The output folder cannot be used."""


def shards(count: int, workers: int) -> list[range]:
    """``count`` chip indices in at most ``workers`` contiguous, near-equal shards."""
    workers = max(1, min(workers, count))
    size, extra = divmod(count, workers)
    out, start = [], 0
    for i in range(workers):
        end = start + size + (i < extra)
        out.append(range(start, end))
        start = end
    return out


@dataclass
class Run:
    fleet: Fleet
    results: list  # ChipResult by chip index
    seconds: float  # the chips' run alone (not the set-up, the ledger or the report)
    summary: dict
    report: Path

    @property
    def chip_days(self) -> int:
        return len(self.results) * self.fleet.days


def prepare_output(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file: give a folder")
    if out.exists() and any(out.iterdir()):
        raise OutputError(f"--out {out} is not empty: give a new or empty folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"--out {out}: cannot make the folder ({error.strerror})") from None


# ------------------------------------------------------------- executors
_progress_counter = None


def _init_worker(counter) -> None:
    global _progress_counter
    _progress_counter = counter


class WorkerError(OpenhegError):
    """A worker's shard failed; the message names the chips and the error."""


def _run_shard(fleet: Fleet, indices: range) -> list[ChipResult]:
    def tick(n: int) -> None:
        with _progress_counter.get_lock():
            _progress_counter.value += n
    try:
        return run_chips(fleet, indices, tick if _progress_counter is not None else None)
    except OpenhegError as error:
        # Sent back as one message: not every error type survives the trip
        # between processes with its arguments.
        raise WorkerError(f"chips {indices.start}..{indices.stop - 1}: "
                          f"{type(error).__name__}: {error}") from None


class Progress:
    """chips x days done and the rate, on stderr, at most every ``every`` seconds."""

    def __init__(self, total: int, stream=None, every: float = 2.0) -> None:
        # None: the stderr of the moment each line is written (a caller may swap it).
        self.total, self.stream, self.every = total, stream, every
        self.started = time.monotonic()
        self.last = 0.0

    def show(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        stream = self.stream or sys.stderr
        stream.write(f"simulate: {done:,}/{self.total:,} chip-days "
                     f"({100 * done / max(self.total, 1):.0f} %), {rate:,.0f} chip-days/s\n")
        stream.flush()


def run_in_processes(fleet: Fleet, workers: int, progress: Progress | None) -> list[ChipResult]:
    parts = shards(len(fleet.chips), workers)
    if len(parts) == 1:
        # One worker: this process (no pickling, and a profiler sees it all).
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress.show(done)
        return run_chips(fleet, parts[0], tick)
    # fork where there is one: a worker then starts without importing anything
    # again, and without re-running the caller's script (spawn would).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    counter = context.Value("q", 0)
    with ProcessPoolExecutor(len(parts), mp_context=context, initializer=_init_worker,
                             initargs=(counter,)) as pool:
        futures = [pool.submit(_run_shard, fleet, part) for part in parts]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            if progress is not None:
                progress.show(counter.value)
        return [result for future in futures for result in future.result()]


# ------------------------------------------------------------------ run
def simulate(scenario: Scenario, out: Path, *, workers: int | None = None,
             executor: str = "processes", progress: Progress | None = None,
             runner: Callable[[Fleet, int], list] | None = None, classifier=None) -> Run:
    """Run ``scenario`` into ``out`` (which must be new or empty); return the run.

    ``runner(fleet, workers)`` runs the chips elsewhere (a Dask cluster) and
    returns their results in chip order; by default, local processes.
    ``classifier`` (openheg.telemetry.ActivityClassifier) names each chip's
    activity from its attested telemetry in the summary."""
    out = Path(out)
    prepare_output(out)
    workers = (os.cpu_count() or 1) if workers is None else workers
    fleet = prepare_fleet(scenario, out)
    ledger = Ledger(fleet.ledger_path)  # made (and its schema migrated) before any worker opens it
    try:
        record_workloads(fleet, ledger)
    finally:
        ledger.close()
    if progress is not None:
        progress.total = len(fleet.chips) * fleet.days
    started = time.perf_counter()
    if runner is None:
        results = run_in_processes(fleet, workers, progress)
    else:
        results = runner(fleet, workers)
    seconds = time.perf_counter() - started
    if progress is not None:
        progress.show(len(fleet.chips) * fleet.days, final=True)
    results = sorted(results, key=lambda r: r.index)
    if [r.index for r in results] != list(range(len(fleet.chips))):
        raise OpenhegError("a worker returned another set of chips than it was given")
    save_vendor_list(fleet, results)
    ledger = Ledger(fleet.ledger_path)
    try:
        summary = build_summary(fleet, results, ledger, classifier)
    finally:
        ledger.close()
    chip_days = len(results) * fleet.days
    run_facts = {"workers": workers, "executor": "dask" if runner is not None else "processes",
                 "chip_days": chip_days, "seconds": round(seconds, 3),
                 "ms_per_chip_day": round(1000 * seconds / max(chip_days, 1), 3)}
    (out / SUMMARY_FILE).write_text(json.dumps({**summary, "run": run_facts}, indent=1) + "\n")
    report = write_report(summary, out)
    return Run(fleet, results, seconds, summary, report)
