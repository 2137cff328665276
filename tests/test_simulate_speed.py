"""The engine's fast path gives exactly what the slow one does.

The engine batches: the day's ops go to the meter in bulk, the firmware's
metering loop runs once per phase of the day, the ledger takes a worker's
records in a few transactions and the summary reads its totals in SQL. Here
the same scenario also runs the way a script using the library by hand would
(one chip at a time, a metering pass after every message, each attestation
recorded alone), and its totals are summed from the decoded attestations
themselves; the two must agree to the milli-sFLOP, and with the figures this
scenario gave before the fast path was made faster.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from openheg.ledger import Ledger
from openheg.verify import decode_attestation
from openheg_sim.emulator import ChipLink
from openheg_sim.firmware import NativeFlash
from openheg_sim.flash import Flash, FlashError
from openheg_sim.scenario import load_scenario
from openheg_sim.scenario.chips import ChipRun, Offices
from openheg_sim.scenario.engine import simulate
from openheg_sim.scenario.fleet import ATTEST_AT_S, prepare_fleet

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "frontier_finetune_pause_resume.toml"
# What this example metered (milli-sFLOP) and the ops its paused chips' gate held
# back, as the engine gave them before its summary read the ledger in SQL.
PINNED = {"base-model": (7702377142420442431488000, 0),
          "chat-ft": (6221242089248240916070400, 1467083895825981286400)}


def _unbatched(tmp_path: Path) -> tuple[list, dict[str, int]]:
    """Every chip through every day alone over ChipLink, each attestation
    recorded in its own transaction; (chip results, per workload the sum over
    its chips of the most any of its verified reports attests)."""
    fleet = prepare_fleet(load_scenario(EXAMPLE), tmp_path / "slow")
    offices = Offices(fleet)
    ledger = Ledger(tmp_path / "slow.sqlite")
    results, totals = [], {w.name: 0 for w in fleet.workloads}
    try:
        for spec in fleet.chips:
            run = ChipRun(fleet, spec, offices, link=ChipLink)
            run.provision()
            for day in range(fleet.days):
                run.day(day)
            run.close()
            for day, raw in run.result.attestations:
                ledger.record_attestation(raw, received_at=fleet.day_start(day) + ATTEST_AT_S)
            reports = [decode_attestation(raw) for _, raw in run.result.attestations]
            totals[spec.workload] += max(r.workload_msflop for r in reports)
            results.append(run.result)
        assert ledger.counts()["attestations"] == sum(len(r.attestations) for r in results)
    finally:
        ledger.close()
    return results, totals


def test_engine_totals_equal_the_unbatched_path_and_the_pinned_figures(tmp_path):
    fast = simulate(load_scenario(EXAMPLE), tmp_path / "fast", workers=2)
    slow_results, slow_totals = _unbatched(tmp_path)
    for fast_chip, slow_chip in zip(fast.results, slow_results, strict=True):
        assert fast_chip.metered_msflop == slow_chip.metered_msflop, fast_chip.index
        assert fast_chip.refused_ops == slow_chip.refused_ops, fast_chip.index
        assert fast_chip.anomalies == slow_chip.anomalies, fast_chip.index
        assert fast_chip.refusals == slow_chip.refusals, fast_chip.index
        assert [d for d, _ in fast_chip.attestations] == [d for d, _ in slow_chip.attestations]
    for w in fast.summary["workloads"]:
        assert (w["metered_msflop"], w["refused_ops"]) == PINNED[w["name"]], w["name"]
        assert w["ledger_metered_msflop"] == slow_totals[w["name"]] == w["metered_msflop"]


def test_a_native_flash_holds_the_bytes_the_python_model_would(tmp_path):
    """The simulator's chips keep their flash in C (NativeFlash): the firmware
    programs it through the C NOR model, with the Python model's rules. Same
    chip, same days: the same bytes, page for page."""
    fleet = prepare_fleet(load_scenario(EXAMPLE), tmp_path / "fleet")
    offices = Offices(fleet)
    images = []
    for flash in (Flash, NativeFlash):
        run = ChipRun(fleet, fleet.chips[0], offices, flash=flash)
        run.provision()
        for day in range(3):
            run.day(day)
        run.close()
        images.append(run.chip.flash.image())
        assert run.chip.flash.read(0, 64) == images[-1][:64]
    assert images[0] == images[1]
    assert images[1].count(0xFF) < len(images[1])  # the store was written


def test_python_cannot_program_a_native_flash_behind_the_firmware():
    flash = NativeFlash()
    with pytest.raises(FlashError, match="C HAL only"):
        flash.program(0, b"\0" * 4)
    with pytest.raises(FlashError, match="C HAL only"):
        flash.erase(0)
    with pytest.raises(FlashError, match="no power cuts"):
        flash.cut_after(1)
    assert flash.image() == b"\xff" * flash.size


def _bench():
    path = ROOT / "bench" / "sim" / "bench_simulate.py"
    sys.path.insert(0, str(path.parent))  # it imports its sibling bench_classifier
    try:
        spec = importlib.util.spec_from_file_location("bench_simulate", path)
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(path.parent))
    return bench


def _row(bench, fleet: str, workers: int, figure: str) -> str:
    return bench.table_row({"fleet": fleet, "workers": workers, "measured": "2026-01-01 00:00",
                            "load": "0.0", "baseline_cpu": "3.00 (10 chips)",
                            "engine_cpu": figure, "engine_wall": figure, "ratio": "1.0x; 1.0x",
                            "target": "-"})


def test_the_bench_replaces_only_the_row_of_its_own_fleet(tmp_path):
    bench = _bench()
    page = bench.DOC.read_text()
    assert page.count(bench.BEGIN) == 1 and page.count(bench.END) == 1
    copy = tmp_path / "simulate.md"
    copy.write_text(page)
    big, small = _row(bench, "10,000 x 30", 2, "0.90"), _row(bench, "1,000 x 30", 2, "1.10")
    bench.write_row(big, copy)
    bench.write_row(small, copy)
    bench.write_row(_row(bench, "1,000 x 30", 1, "1.50"), copy)
    newer = _row(bench, "1,000 x 30", 2, "1.05")
    bench.write_row(newer, copy)
    section = copy.read_text().split(bench.BEGIN)[1].split(bench.END)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows[:2] == list(bench.TABLE_HEAD)
    # Sorted by chips, days, workers; the 1,000 x 30 row on 2 workers replaced,
    # every other row kept (the full run's above all).
    assert rows[2:] == [_row(bench, "1,000 x 30", 1, "1.50"), newer, big]
    head, rest = page.split(bench.BEGIN)
    assert copy.read_text().startswith(head) and copy.read_text().endswith(rest.split(bench.END)[1])
