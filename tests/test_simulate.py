"""The scenario simulator: each example does what its scenario implies, every
bypass the operator attempts is refused by the firmware and shows in the
output, and the result does not depend on how the chips are split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openheg.ledger import Ledger
from openheg.licensing import workload_id_for
from openheg.wire import Attestation
from openheg_sim.scenario import load_scenario, parse_scenario
from openheg_sim.scenario.engine import OutputError, shards, simulate
from openheg_sim.scenario.fleet import LEDGER_FILE

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MSFLOP = 1000


def _run(name: str, out: Path, workers: int = 2):
    return simulate(load_scenario(EXAMPLES / name), out, workers=workers)


def _workload(run, name: str) -> dict:
    return next(w for w in run.summary["workloads"] if w["name"] == name)


def _days(entries, what: str) -> list[int]:
    return [e["day"] for e in entries if e["what"].startswith(what)]


def _check_totals(run) -> None:
    """Nothing is metered past a license, and the ledger (what the verifier
    recorded from verified attestations) holds exactly what the meters counted."""
    for w in run.summary["workloads"]:
        assert w["metered_msflop"] <= w["planned_msflop"]
        assert w["ledger_metered_msflop"] == w["metered_msflop"], w["name"]
        assert w["cumulative_msflop"][-1] == w["metered_msflop"]


def test_frontier_finetune_paused_then_resumed(tmp_path):
    run = _run("frontier_finetune_pause_resume.toml", tmp_path / "out")
    ft = _workload(run, "chat-ft")
    # Its graph size counts its base model's planned compute: above F.
    assert ft["license_class"] == "FRONTIER" and ft["lineage_msflop"] == 10**26 * MSFLOP
    daily = ft["daily_msflop"]
    assert all(daily[d] > 0 for d in (0, 4, 9, 20))
    assert [d for d in range(21) if daily[d] == 0] == [5, 6, 7, 8]  # the pause, to the day
    assert ft["refused_ops"] > 0  # the chips tried to compute while paused
    assert _days(ft["anomalies"], "gate closed: paused") == [5, 6, 7, 8]
    assert [(o["day"], o["what"], o["chips"]) for o in ft["orders"]] == [
        (5, "pause", 4), (9, "resume", 4)]
    # The operator replays the license while paused: every chip refuses it.
    assert ft["refusals"] == [{"day": 6, "what": "replayed license", "status": "REPLAYED",
                               "chips": 4}]
    base = _workload(run, "base-model")
    assert all(v > 0 for v in base["daily_msflop"]) and not base["refusals"]
    _check_totals(run)
    assert (tmp_path / "out" / "report.md").read_text().count("![") == 4
    assert (tmp_path / "out" / "plots" / "workload-chat-ft.png").stat().st_size > 10_000


def test_horizon_refused_then_approved(tmp_path):
    run = _run("horizon_refused_then_approved.toml", tmp_path / "out")
    giant = _workload(run, "giant")
    assert giant["license_class"] == "HORIZON"
    assert giant["refusals"] == [{"day": 0, "what": "install horizon license",
                                  "status": "QUORUM_NOT_MET", "chips": 6}]
    daily = giant["daily_msflop"]
    assert daily[:6] == [0] * 6 and all(v > 0 for v in daily[6:])
    assert giant["licensed_chips"] == 6
    assert _days(giant["anomalies"], "gate closed: no_license") == [0, 1, 2, 3, 4, 5]
    _check_totals(run)


def test_board_vote_lowers_f_from_its_day(tmp_path):
    run = _run("board_vote_lowers_f.toml", tmp_path / "out")
    f = [t["frontier_msflop"] for t in run.summary["thresholds"]]
    assert f[9] == (10**26 + 9 * 10**22) * MSFLOP
    assert f[10] == 4 * 10**25 * MSFLOP and f[11] == (4 * 10**25 + 10**22) * MSFLOP
    h = [t["horizon_msflop"] for t in run.summary["thresholds"]]
    assert h[10] == (10**27 + 10 * 10**23) * MSFLOP  # H keeps its schedule
    assert run.summary["votes"] == [{"day": 10, "policy_version": 2}]
    # The same size licensed before the vote is standard, after it frontier.
    assert _workload(run, "ft-1")["license_class"] == "STANDARD"
    ft2 = _workload(run, "ft-2")
    assert ft2["license_class"] == "FRONTIER"
    assert ft2["daily_msflop"][:12] == [0] * 12 and ft2["daily_msflop"][12] > 0
    _check_totals(run)


def test_site_halt_stops_that_site_only(tmp_path):
    run = _run("site_halt.toml", tmp_path / "out")
    sites = {s["name"]: s["daily_msflop"] for s in run.summary["sites"]}
    assert all(v > 0 for v in sites["east"][:7]) and sites["east"][7:] == [0] * 8
    assert all(v > 0 for v in sites["west"])
    east = _workload(run, "east-run")
    assert [(o["day"], o["what"], o["chips"]) for o in east["orders"]] == [(7, "halt", 6)]
    assert _days(east["anomalies"], "no attestation") == [10, 11]
    assert _days(east["anomalies"], "gate closed: halted") == [7, 8, 9, 12, 13, 14]
    _check_totals(run)
    ledger = Ledger(tmp_path / "out" / LEDGER_FILE)
    try:
        counts = ledger.counts()
        assert counts["devices"] == 12 and counts["orders"] == 6
        assert counts["attestations"] == 12 * 15 - 6 * 2
    finally:
        ledger.close()


BYPASSES = """
name = "operator bypasses"
days = 8
seed = 2
[[site]]
name = "s"
chips = 3
peak_ops = { fp8 = 1.98e15 }
[policy]
f_sflop = 1e26
h_sflop = 1e28
[[workload]]
name = "w"
owner = "o"
lineage = "none"
site = "s"
kind = "pre-training"
planned_sflop = 2e26
precision_mix = { fp8 = 1.0 }
[[event]]
day = 1
kind = "withhold-beacons"
target = "w"
value = 2
[[event]]
day = 4
kind = "revoke"
target = "w"
[[event]]
day = 5
kind = "replay-license"
target = "w"
"""


def test_operator_bypasses_are_refused(tmp_path):
    run = simulate(parse_scenario(BYPASSES, "bypasses.toml"), tmp_path / "out", workers=1)
    w = _workload(run, "w")
    daily = w["daily_msflop"]
    # Beacons withheld on days 1 and 2: trusted time lasts a day, so day 2 is
    # the first the frontier license cannot run; it runs again with day 3's beacon.
    assert daily[0] > 0 and daily[1] > 0 and daily[2] == 0 and daily[3] > 0
    assert _days(w["anomalies"], "gate closed: time_untrusted") == [2]
    # Revoked on day 4: nothing after, and its replay is refused.
    assert daily[4:] == [0] * 4
    assert _days(w["anomalies"], "gate closed: license_revoked") == [4, 5, 6, 7]
    assert w["refusals"] == [{"day": 5, "what": "replayed license", "status": "REPLAYED",
                              "chips": 3}]
    _check_totals(run)


def test_result_does_not_depend_on_the_number_of_workers(tmp_path):
    one = _run("frontier_finetune_pause_resume.toml", tmp_path / "one", workers=1)
    three = _run("frontier_finetune_pause_resume.toml", tmp_path / "three", workers=3)
    assert one.summary == three.summary
    # Chip by chip, the same reports: device keys, license ids and nonces follow
    # from the seed; only the authority's keys (and so signatures and the
    # policy digest) are new in each run.
    assert _reports(one) == _reports(three)
    assert len(_reports(one)) == 8 * 21
    for out in ("one", "three"):
        saved = json.loads((tmp_path / out / "summary.json").read_text())
        assert saved["run"]["workers"] == (1 if out == "one" else 3)
        del saved["run"]
        assert saved == one.summary


def _reports(run) -> list[tuple]:
    out = []
    for result in run.results:
        for day, raw in result.attestations:
            a = Attestation.from_bytes(raw)
            out.append((result.index, day, a.device_id, a.license_id, a.report_counter,
                        a.consumed_msflop, a.remaining_msflop, a.gate_state, a.gate_causes,
                        a.workload_msflop, a.nonce))
    return out


def test_shards_cover_every_chip_once():
    for count in (1, 5, 16):
        for workers in (1, 2, 3, 7, 40):
            parts = shards(count, workers)
            assert [i for part in parts for i in part] == list(range(count))
            assert len(parts) == min(workers, count)


def test_out_must_be_a_new_or_empty_folder(tmp_path):
    scenario = load_scenario(EXAMPLES / "site_halt.toml")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        simulate(scenario, tmp_path / "file", workers=1)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(OutputError, match="not empty"):
        simulate(scenario, tmp_path / "full", workers=1)
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["x"]


def test_ledger_usage_matches_the_license_shares(tmp_path):
    run = _run("horizon_refused_then_approved.toml", tmp_path / "out")
    ledger = Ledger(tmp_path / "out" / LEDGER_FILE)
    try:
        usage = ledger.usage(workload_id_for("giant").hex())
    finally:
        ledger.close()
    assert sum(u.allocation_msflop for u in usage) == 2 * 10**27 * MSFLOP
    assert sum(u.consumed_msflop for u in usage) == _workload(run, "giant")["metered_msflop"]
