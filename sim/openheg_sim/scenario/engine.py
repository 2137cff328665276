"""Run a scenario: plan the fleet, run its chips in shards, merge, record.

The chips are split into contiguous shards of chip indices, one per worker;
each worker runs its shard (openheg_sim.scenario.chips) with its own firmware
contexts and sends back plain results, which are merged in chip order. A
chip's run depends only on the fleet plan, the seed and its index, so the
merged result is the same for any number of workers, in processes here or on
a Dask cluster (openheg_sim.scenario.distributed).

The verifier's side is kept as it would be: every endorsement, license, order
and verified attestation goes into the ledger (SQLite in the output folder),
attestations in batches (Ledger.record_attestations).
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

from openheg.authority import endorsement_list_path
from openheg.errors import OpenhegError
from openheg.ledger import Ledger
from openheg.licensing import workload_id_for
from openheg.verify import EndorsementList
from openheg.wire import Endorsement, License, Order

from .chips import ChipResult, run_chips
from .fleet import ATTEST_AT_S, Fleet, prepare_fleet
from .report import write_report
from .schema import Scenario
from .summary import build_summary

LEDGER_FILE = "ledger.sqlite"
SUMMARY_FILE = "summary.json"
ATTESTATION_BATCH = 5000


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
    out.mkdir(parents=True, exist_ok=True)


# ------------------------------------------------------------- executors
_progress_counter = None


def _init_worker(counter) -> None:
    global _progress_counter
    _progress_counter = counter


def _run_shard(fleet: Fleet, indices: range) -> list[ChipResult]:
    def tick(n: int) -> None:
        with _progress_counter.get_lock():
            _progress_counter.value += n
    return run_chips(fleet, indices, tick if _progress_counter is not None else None)


class Progress:
    """chips x days done and the rate, on stderr, at most every ``every`` seconds."""

    def __init__(self, total: int, stream=sys.stderr, every: float = 2.0) -> None:
        self.total, self.stream, self.every = total, stream, every
        self.started = time.monotonic()
        self.last = 0.0

    def show(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        self.stream.write(f"simulate: {done:,}/{self.total:,} chip-days "
                          f"({100 * done / max(self.total, 1):.0f} %), {rate:,.0f} chip-days/s\n")
        self.stream.flush()


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


# --------------------------------------------------------------- ledger
def record(fleet: Fleet, results: Sequence[ChipResult], ledger: Ledger) -> None:
    """What the verifier keeps: devices, workloads, licenses, orders and the
    verified attestations, at the simulated times they arrived."""
    for workload in fleet.workloads:
        ledger.record_workload(workload.name, workload_id_for(workload.name),
                               workload.planned_msflop, workload.lineage_msflop,
                               workload.license_class)
    batch: list[tuple[int, bytes]] = []
    listing = EndorsementList()
    for result in results:
        spec = fleet.chips[result.index]
        endorsement = Endorsement.from_bytes(result.endorsement)
        listing.add(endorsement)
        ledger.record_device(endorsement, url=f"sim://{spec.name}")
        for raw in result.licenses:
            ledger.record_license(License.from_bytes(raw))
        for _, raw in result.orders:  # orders to one device (a site's halt is one per chip)
            ledger.record_order(Order.from_bytes(raw))
        batch += result.attestations
        if len(batch) >= ATTESTATION_BATCH:
            _flush(fleet, ledger, batch)
    _flush(fleet, ledger, batch)
    listing.save(endorsement_list_path(fleet.vendor_dir))


def _flush(fleet: Fleet, ledger: Ledger, batch: list) -> None:
    by_day: dict[int, list[bytes]] = {}
    for day, raw in batch:
        by_day.setdefault(day, []).append(raw)
    for day, records in sorted(by_day.items()):
        ledger.record_attestations(records, received_at=fleet.day_start(day) + ATTEST_AT_S)
    batch.clear()


# ------------------------------------------------------------------ run
def simulate(scenario: Scenario, out: Path, *, workers: int | None = None,
             executor: str = "processes", progress: Progress | None = None,
             runner: Callable[[Fleet, int], list] | None = None) -> Run:
    """Run ``scenario`` into ``out`` (which must be new or empty); return the run.

    ``runner(fleet, workers)`` runs the chips elsewhere (a Dask cluster) and
    returns their results in chip order; by default, local processes."""
    out = Path(out)
    prepare_output(out)
    workers = (os.cpu_count() or 1) if workers is None else workers
    fleet = prepare_fleet(scenario, out)
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
    ledger = Ledger(out / LEDGER_FILE)
    try:
        record(fleet, results, ledger)
        summary = build_summary(fleet, results, ledger)
    finally:
        ledger.close()
    chip_days = len(results) * fleet.days
    run_facts = {"workers": workers, "executor": "dask" if runner is not None else "processes",
                 "chip_days": chip_days, "seconds": round(seconds, 3),
                 "ms_per_chip_day": round(1000 * seconds / max(chip_days, 1), 3)}
    (out / SUMMARY_FILE).write_text(json.dumps({**summary, "run": run_facts}, indent=1) + "\n")
    report = write_report(summary, out)
    return Run(fleet, results, seconds, summary, report)
