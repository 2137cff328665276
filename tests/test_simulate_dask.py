"""A scenario on a local 2-worker Dask cluster gives exactly the
single-process result: the same ledger totals, refusals and anomalies."""

from __future__ import annotations

from pathlib import Path

from openheg.ledger import Ledger
from openheg_sim.scenario import load_scenario
from openheg_sim.scenario.dask_cluster import dask_runner
from openheg_sim.scenario.engine import simulate
from openheg_sim.scenario.fleet import LEDGER_FILE

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "frontier_finetune_pause_resume.toml"


def _ledger_totals(folder: Path) -> tuple:
    ledger = Ledger(folder / LEDGER_FILE)
    try:
        rows = ledger.attestations()
        return (ledger.counts(), sorted((r.device_id, r.report_counter, r.consumed_msflop,
                                         r.gate_state, r.gate_causes) for r in rows))
    finally:
        ledger.close()


def test_dask_cluster_equals_one_process(tmp_path):
    scenario = load_scenario(EXAMPLE)
    single = simulate(scenario, tmp_path / "single", workers=1)
    cluster = simulate(scenario, tmp_path / "dask", workers=2, runner=dask_runner)
    assert cluster.summary == single.summary
    for w in cluster.summary["workloads"]:
        assert w["ledger_metered_msflop"] == w["metered_msflop"] > 0
    assert any(w["anomalies"] and w["refusals"] for w in cluster.summary["workloads"])
    assert _ledger_totals(tmp_path / "dask") == _ledger_totals(tmp_path / "single")
    assert [r.anomalies for r in cluster.results] == [r.anomalies for r in single.results]
    assert [r.refusals for r in cluster.results] == [r.refusals for r in single.results]
