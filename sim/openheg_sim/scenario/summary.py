"""summary.json: what a scenario's run did, per workload and per site.

Everything is in milli-sFLOP integers (exact, as the records carry them) and
follows from the chips' results and the ledger alone, in chip order: the same
for any number of workers. How long the run took is kept apart, under "run".
"""

from __future__ import annotations

from collections import Counter

from openheg.ledger import Ledger
from openheg.licensing import workload_id_for
from openheg.wire import WORKLOAD_KINDS, Order

from .fleet import Fleet
from .telemetry import chip_intervals


def _grouped(items) -> list[dict]:
    """(day, what[, status]) tuples -> one entry per distinct tuple with its chip count."""
    counts = Counter(items)
    out = []
    for key in sorted(counts):
        entry = {"day": key[0], "what": key[1]}
        if len(key) > 2:
            entry["status"] = key[2]
        entry["chips"] = counts[key]
        out.append(entry)
    return out


def thresholds(fleet: Fleet) -> list[dict]:
    """F(t) and H(t) of the policy in force on each day of the run."""
    out = []
    for day in range(fleet.days):
        policy = fleet.policy_on(day)
        unix_day = fleet.unix_day(day)
        out.append({"day": day, "policy_version": policy.policy_version,
                    "frontier_msflop": policy.frontier_msflop(unix_day),
                    "horizon_msflop": policy.horizon_msflop(unix_day)})
    return out


def chip_activity(fleet: Fleet, results, classifier=None) -> list[dict]:
    """Per chip with a workload: the kind its license declares, and, with a
    classifier (openheg.telemetry.ActivityClassifier), the kind its attested
    telemetry shows, the model's confidence, and ``mismatch`` where the two
    differ. Intervals without an op are counted as idle; those the telemetry
    cannot measure are listed by reason."""
    out, chip_rows = [], []
    for result in results:
        spec = fleet.chips[result.index]
        if not spec.workload:
            continue
        rows, unmeasured, idle = chip_intervals(fleet, result)
        out.append({"chip": spec.name, "workload": spec.workload,
                    "declared": fleet.workload(spec.workload).kind, "intervals": len(rows),
                    "idle_intervals": idle, "unmeasured": unmeasured, "class": None,
                    "confidence": None, "mismatch": None})
        chip_rows.append(rows)
    if classifier is not None:
        measured = [(entry, rows) for entry, rows in zip(out, chip_rows) if rows]
        predictions = classifier.predict_chips([rows for _, rows in measured]) if measured \
            else []
        for (entry, _), prediction in zip(measured, predictions):
            entry.update({"class": prediction.kind,
                          "confidence": round(prediction.confidence, 4),
                          "mismatch": prediction.kind != entry["declared"]})
    return out


def build_summary(fleet: Fleet, results, ledger: Ledger, classifier=None) -> dict:
    s = fleet.scenario
    activity = chip_activity(fleet, results, classifier)
    workloads = []
    for w in fleet.workloads:
        chip_results = [results[i] for i in w.chips]
        daily = [sum(r.metered_msflop[day] for r in chip_results) for day in range(fleet.days)]
        cumulative, total = [], 0
        for value in daily:
            total += value
            cumulative.append(total)
        orders = []
        for r in chip_results:
            orders += [(day, Order.from_bytes(raw).order_kind.name.lower()) for day, raw in r.orders]
        # The cap each of its chips' limiters holds once its license is in
        # force: the policy's for the kind the license declares.
        cap_mb_per_s, cap_burst = fleet.policy_on(fleet.days - 1).link_cap_for(
            WORKLOAD_KINDS[w.kind])
        workloads.append({
            "name": w.name, "kind": w.kind, "owner": w.owner, "lineage": w.lineage,
            "site": w.site, "chips": len(w.chips), "start_day": w.start_day,
            "license_class": w.license_class, "planned_msflop": w.planned_msflop,
            "lineage_msflop": w.lineage_msflop,
            "licensed_chips": sum(bool(r.licenses) for r in chip_results),
            "daily_msflop": daily, "cumulative_msflop": cumulative,
            "metered_msflop": total,
            "ledger_metered_msflop": sum(ledger.metered(workload_id_for(w.name).hex()).values()),
            "refused_ops": sum(sum(r.refused_ops) for r in chip_results),
            "link_cap_mb_per_s": cap_mb_per_s, "link_cap_burst_bytes": cap_burst,
            "wire_bytes_wanted": sum(sum(r.wire_bytes_wanted) for r in chip_results),
            "wire_bytes_passed": sum(sum(r.wire_bytes_passed) for r in chip_results),
            "refusals": _grouped([x for r in chip_results for x in r.refusals]),
            "anomalies": _grouped([x for r in chip_results for x in r.anomalies]),
            "orders": _grouped(orders),
            "activity_mismatch_chips": sum(bool(a["mismatch"]) for a in activity
                                           if a["workload"] == w.name),
        })
    sites = []
    for site in s.sites:
        chip_results = [r for r in results if fleet.chips[r.index].site == site.name]
        sites.append({"name": site.name, "chips": site.chips,
                      "daily_msflop": [sum(r.metered_msflop[day] for r in chip_results)
                                       for day in range(fleet.days)]})
    counts = ledger.counts()
    return {
        "scenario": s.name, "days": s.days, "seed": s.seed,
        "start_date": s.start_date.isoformat(), "chips": len(fleet.chips),
        "votes": [{"day": day, "policy_version": version} for day, version in fleet.votes],
        "thresholds": thresholds(fleet), "workloads": workloads, "sites": sites,
        "chip_activity": activity, "classified": classifier is not None, "ledger": counts,
    }
