"""Per-workload reports: JSON for machines, Markdown and HTML for people, a plot.

A report states the workload's compute graph size and class, each device's
usage against its allocation, the Frontier and Horizon thresholds on each
date the workload ran, and every anomaly series verification found. The plot
shows the compute graph size so far (lineage plus metered compute, summed over
the fleet) against the F(t) and H(t) curves.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .ledger import DeviceUsage, Ledger, LedgerError
from .policy import SECONDS_PER_DAY, day_to_iso, thresholds_on
from .series import Anomaly
from .units import format_sflop
from .wire import (ID_SIZE, Attestation, GateCause, GateState, License, Policy, WorkloadKind,
                   link_rate_register)


def cumulative_series(ledger: Ledger, workload_id: str) -> list[tuple[int, int]]:
    """(time, metered total) after each attestation of the workload's licenses:
    per device the larger of its licenses' newest totals and the workload's
    total the device attested (Ledger.metered, as the reports then showed it)."""
    licenses = {row.license_id for row in ledger.licenses(workload_id)}
    latest: dict[tuple[str, str], int] = {}
    whole: dict[str, int] = {}
    points = []
    for row in ledger.attestations():
        if row.license_id not in licenses:
            continue
        key = (row.device_id, row.license_id)
        latest[key] = max(latest.get(key, 0), row.consumed_msflop)
        whole[row.device_id] = max(whole.get(row.device_id, 0), row.workload_msflop or 0)
        points.append((row.received_at, sum(
            max(sum(v for (d, _), v in latest.items() if d == device), whole.get(device, 0))
            for device in {d for d, _ in latest})))
    return points


def policy_forks(ledger: Ledger, device_id: str, policy: Policy) -> list[Anomaly]:
    """A report by the device under the policy's version but another digest: the
    device ran another policy of that version than the one the report is made
    under (one its board signed and did not publish). Severe."""
    out = []
    for row in ledger.attestations(device_id):
        if row.policy_version == policy.policy_version and row.policy_digest is not None \
                and row.policy_digest != policy.digest.hex():
            out.append(Anomaly(device_id, "policy-fork",
                               f"report {row.report_counter}: the device ran policy "
                               f"v{row.policy_version} with digest {row.policy_digest[:16]}..., "
                               f"not the published one ({policy.digest.hex()[:16]}...)"))
            break
    return out


def usage_anomalies(usage: Sequence[DeviceUsage]) -> list[Anomaly]:
    """What the ledger's licenses say about the compute reported under them: a
    license the ledger revoked that reports compute, consumption past the
    allocation. The workload report and the verifier service's EAR both name them."""
    anomalies = []
    for u in usage:
        if u.revoked and u.consumed_msflop:
            anomalies.append(Anomaly(u.device_id, "revoked-license-used",
                                     f"license {u.license_id} is revoked and reports compute",
                                     severe=False))
        if u.consumed_msflop > u.allocation_msflop:
            anomalies.append(Anomaly(u.device_id, "over-allocation",
                                     f"consumed {format_sflop(u.consumed_msflop)} of "
                                     f"{format_sflop(u.allocation_msflop)} (ops in flight "
                                     "when the gate closed)", severe=False))
    return anomalies


def link_cap_excess(attestation: Attestation, policy: Policy,
                    kind: WorkloadKind | None) -> Anomaly | None:
    """The limiter looser than ``policy`` allows a device whose license in
    force declares ``kind`` (None: no license in force), as the device attests
    it: its RATE above the rate register of the cap (Policy.link_cap_for) at
    the attested clock, or its BURST above the cap's. Severe while the gate may
    open; while LINK_PENDING holds it closed (a license of a tighter kind
    installed, waiting for the reset that loads its cap) only noted."""
    mb_per_s, burst = policy.link_cap_for(kind)
    rate = link_rate_register(mb_per_s, attestation.link_clock_hz)
    if attestation.link_rate <= rate and attestation.link_burst <= burst:
        return None
    what = "no license" if kind is None else \
        f"a license declaring {kind.name.lower().replace('_', '-')}"
    detail = (f"report {attestation.report_counter}: the limiter holds RATE "
              f"{attestation.link_rate} and BURST {attestation.link_burst}, looser than policy "
              f"v{policy.policy_version} allows {what} (RATE {rate}, BURST {burst} at "
              f"{attestation.link_clock_hz} Hz)")
    if GateCause.LINK_PENDING in attestation.gate_causes and \
            attestation.gate_state == GateState.CLOSED:
        return Anomaly(attestation.device_id.hex(), "link-cap-pending",
                       detail + "; the gate is closed until the reset that loads the cap",
                       severe=False)
    return Anomaly(attestation.device_id.hex(), "link-cap-loose", detail)


# What ledger_link_cap_excess remembers, in ``kinds``, of a license the ledger
# does not hold (None already means "no license in force").
LICENSE_NOT_IN_LEDGER = "not-in-ledger"


def ledger_link_cap_excess(ledger: Ledger, attestation: Attestation, policy: Policy,
                           kinds: dict[bytes, WorkloadKind | None | str] | None = None
                           ) -> Anomaly | None:
    """link_cap_excess of a report made under ``policy`` (by its digest; a
    report under another policy is not judged by it), the kind read from the
    license the report names as the ledger holds it (``kinds``: what earlier
    calls read, by license id). A license the ledger lacks has no kind to
    judge by: a limiter looser than the tightest rule (no license) is then
    noted, not severe (``link-cap-unjudged``): it may be an honest training
    license the verifier was never given, or an inference one the limiter
    does not hold; within that rule no kind is broken and nothing is said."""
    if attestation.policy_digest != policy.digest:
        return None
    license_id = attestation.license_id
    kind: WorkloadKind | None | str
    if license_id == bytes(ID_SIZE):
        kind = None  # no license in force
    elif kinds is not None and license_id in kinds:
        kind = kinds[license_id]
    else:
        try:
            row = ledger.license(license_id.hex())
        except LedgerError:
            kind = LICENSE_NOT_IN_LEDGER
        else:
            kind = License.from_bytes(row.record).workload_kind
        if kinds is not None:
            kinds[license_id] = kind
    if not isinstance(kind, str):
        return link_cap_excess(attestation, policy, kind)
    tightest = link_cap_excess(attestation, policy, None)
    if tightest is None:
        return None
    mb_per_s, burst = policy.link_cap_for(None)
    return Anomaly(attestation.device_id.hex(), "link-cap-unjudged",
                   f"report {attestation.report_counter}: the limiter holds RATE "
                   f"{attestation.link_rate} and BURST {attestation.link_burst}, looser than "
                   f"policy v{policy.policy_version} allows an inference license (RATE "
                   f"{link_rate_register(mb_per_s, attestation.link_clock_hz)}, BURST {burst}); "
                   f"license {license_id.hex()} is not in the ledger, so whether its kind "
                   "allows more cannot be checked", severe=False)


def link_cap_anomalies(ledger: Ledger, device_id: str, policy: Policy) -> list[Anomaly]:
    """ledger_link_cap_excess of each report the device made: the first
    report of each kind of anomaly."""
    out: dict[str, Anomaly] = {}
    kinds: dict[bytes, WorkloadKind | None | str] = {}
    for report in ledger.reports(device_id):
        anomaly = ledger_link_cap_excess(ledger, report.attestation, policy, kinds)
        if anomaly is not None:
            out.setdefault(anomaly.kind, anomaly)
    return list(out.values())


def build_report(ledger: Ledger, workload: str, policy: Policy, *, now: int | None = None,
                 deadline_s: int | None = None) -> dict[str, Any]:
    now = int(time.time()) if now is None else now
    row = ledger.workload(workload)
    usage = ledger.usage(row.workload_id)
    anomalies: list[Anomaly] = []
    for device_id in sorted({u.device_id for u in usage}):
        anomalies.extend(ledger.series(device_id, now=now, deadline_s=deadline_s).anomalies)
        anomalies.extend(policy_forks(ledger, device_id, policy))
        anomalies.extend(link_cap_anomalies(ledger, device_id, policy))
    anomalies.extend(usage_anomalies(usage))
    points = cumulative_series(ledger, row.workload_id)
    licenses = ledger.licenses(row.workload_id)
    window = ([min(lic.not_before for lic in licenses), max(lic.not_after for lic in licenses)]
              if licenses else [now, now])
    days = sorted({t // SECONDS_PER_DAY for t, _ in points} | {now // SECONDS_PER_DAY})
    metered = ledger.metered(row.workload_id, usage)
    return {
        "workload": workload, "workload_id": row.workload_id,
        "license_class": row.license_class, "policy_version": policy.policy_version,
        "policy_digest": policy.digest.hex(),
        "planned_msflop": row.planned_msflop, "lineage_msflop": row.lineage_msflop,
        "compute_graph_size_msflop": row.planned_msflop + row.lineage_msflop,
        "metered_msflop": sum(metered.values()),
        "allocated_msflop": sum(u.allocation_msflop for u in usage),
        "devices": [{"device_id": u.device_id, "license_id": u.license_id,
                     "allocation_msflop": u.allocation_msflop,
                     "consumed_msflop": u.consumed_msflop, "last_report_at": u.last_report_at,
                     "revoked": u.revoked} for u in usage],
        "thresholds": [thresholds_on(policy, day).to_json() for day in days],
        "cumulative": [{"time": t, "metered_msflop": m} for t, m in points],
        "anomalies": [a.to_json() for a in anomalies],
        "trusted": not any(a.severe for a in anomalies),
        "license_window": window,
        "generated_at": now,
    }


def plot(report: dict[str, Any], policy: Policy, path, image_format: str | None = None) -> None:
    """The workload's compute against F(t) and H(t), to a file path or a binary
    buffer (``image_format``: "png", "svg"; default from the path's suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import datetime as dt

    import matplotlib.pyplot as plt

    lineage = report["lineage_msflop"]
    points = [(p["time"], p["metered_msflop"]) for p in report["cumulative"]]
    # The curves over the licenses' validity window (and any report outside it).
    start = min([report["license_window"][0]] + [t for t, _ in points])
    end = max([report["license_window"][1], report["generated_at"]] + [t for t, _ in points])
    span = max(end - start, SECONDS_PER_DAY)
    times = [start + span * i // 200 for i in range(201)]
    dates = [dt.datetime.fromtimestamp(t, dt.UTC) for t in times]
    if points:  # the metered total holds until the report is made
        points.append((report["generated_at"], points[-1][1]))
    figure, axes = plt.subplots(figsize=(8, 4.5))
    axes.plot(dates, [policy.frontier_msflop(t // SECONDS_PER_DAY) / 1000 for t in times],
              label="Frontier threshold F(t)", color="tab:orange")
    axes.plot(dates, [policy.horizon_msflop(t // SECONDS_PER_DAY) / 1000 for t in times],
              label="Horizon threshold H(t)", color="tab:red")
    if points:
        axes.step([dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in points],
                  [(lineage + m) / 1000 for _, m in points], where="post",
                  label="compute graph size so far (lineage + metered)", color="tab:blue",
                  marker="o", markersize=3)
    axes.axhline((report["compute_graph_size_msflop"]) / 1000, linestyle="--", color="tab:gray",
                 label="planned compute graph size")
    axes.set_yscale("log")
    axes.set_ylabel("sFLOP")
    axes.set_title(f"Workload {report['workload']} ({report['license_class'].lower()})")
    axes.legend(fontsize=8, loc="best")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100, format=image_format)
    plt.close(figure)


def markdown(report: dict[str, Any], plot_name: str | None) -> str:
    lines = [f"# Workload report: {report['workload']}", "",
             f"- Class: **{report['license_class'].lower()}** under policy "
             f"v{report['policy_version']} (digest {report['policy_digest'][:16]}...)",
             f"- Compute graph size: {format_sflop(report['compute_graph_size_msflop'])} "
             f"(planned {format_sflop(report['planned_msflop'])}, lineage "
             f"{format_sflop(report['lineage_msflop'])})",
             f"- Metered across the fleet: {format_sflop(report['metered_msflop'])} of "
             f"{format_sflop(report['allocated_msflop'])} allocated",
             f"- Verdict: **{'trusted' if report['trusted'] else 'NOT TRUSTED'}** "
             f"({len(report['anomalies'])} "
             f"{'anomaly' if len(report['anomalies']) == 1 else 'anomalies'})", "",
             "## Devices", "", "| device | license | allocation | consumed | revoked |",
             "|---|---|---|---|---|"]
    for d in report["devices"]:
        lines.append(f"| {d['device_id'][:16]}... | {d['license_id'][:12]}... | "
                     f"{format_sflop(d['allocation_msflop'])} | "
                     f"{format_sflop(d['consumed_msflop']) if d['consumed_msflop'] else '0'} | "
                     f"{'yes' if d['revoked'] else 'no'} |")
    lines += ["", "## Thresholds", "", "| date | Frontier F | Horizon H |", "|---|---|---|"]
    for t in report["thresholds"]:
        lines.append(f"| {t['date']} | {format_sflop(t['frontier_msflop'])} | "
                     f"{format_sflop(t['horizon_msflop'])} |")
    lines += ["", "## Anomalies", ""]
    lines += [f"- {'**severe** ' if a['severe'] else ''}{a['kind']} on "
              f"{a['device_id'][:16]}...: {a['detail']}" for a in report["anomalies"]] or ["None."]
    if plot_name:
        lines += ["", "## Compute against the thresholds", "", f"![plot]({plot_name})"]
    return "\n".join(lines) + "\n"


def html_page(markdown_text: str) -> str:
    """A dependency-free HTML rendering of the Markdown report's simple subset."""
    body, in_table = [], False
    for line in markdown_text.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        text = html.escape(line).replace("**", "")
        if line.startswith("# "):
            body.append(f"<h1>{text[2:]}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{text[3:]}</h2>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1:-1]
            body.append(f'<img src="{html.escape(src)}" alt="plot">')
        elif line.startswith("- "):
            body.append(f"<li>{text[2:]}</li>")
        elif line:
            body.append(f"<p>{text}</p>")
    if in_table:
        body.append("</table>")
    return ("<!doctype html><meta charset=utf-8><title>openheg report</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
            "td{border:1px solid #ccc;padding:2px 6px}</style>\n" + "\n".join(body) + "\n")


def write_report(ledger: Ledger, workload: str, policy: Policy, out: Path, *,
                 now: int | None = None, deadline_s: int | None = None,
                 formats: Sequence[str] = ("json", "md", "html")) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = build_report(ledger, workload, policy, now=now, deadline_s=deadline_s)
    stem = f"report-{workload}"
    written = {}
    plot_path = out / f"{stem}.png"
    plot(report, policy, plot_path)
    written["png"] = plot_path
    if "json" in formats:
        written["json"] = out / f"{stem}.json"
        written["json"].write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report, plot_path.name)
    if "md" in formats:
        written["md"] = out / f"{stem}.md"
        written["md"].write_text(text)
    if "html" in formats:
        written["html"] = out / f"{stem}.html"
        written["html"].write_text(html_page(text))
    return written


__all__ = ["build_report", "write_report", "markdown", "html_page", "day_to_iso"]
