"""report.md and its plots (PNG, matplotlib) from summary.json's content.

One plot per workload (its cumulative metered compute against F(t) and
H(t), log scale, with its orders and anomalies marked on their days), one of
every site's daily usage, and a timeline of the run's orders, refusals and
anomalies; the markdown lists them in tables.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from openheg.units import format_sflop

SFLOP_PER_MSFLOP = 1e-3


def _pyplot():
    import matplotlib  # noqa: PLC0415 - only a run that writes a report needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _save(figure, path: Path, left: float = 0.1, bottom: float = 0.14) -> None:
    # Fixed margins: matplotlib's tight layout costs a second a plot here.
    figure.subplots_adjust(left=left, right=0.97, bottom=bottom, top=0.85)
    figure.savefig(path, dpi=100)
    figure.clf()


def _workload_plot(plt, summary: dict, workload: dict, path: Path) -> None:
    days = list(range(summary["days"]))
    figure, axes = plt.subplots(figsize=(8, 4.5))
    axes.plot(days, [max(v, 1) * SFLOP_PER_MSFLOP for v in workload["cumulative_msflop"]],
              label=f"{workload['name']} (metered, cumulative)", linewidth=2)
    axes.plot(days, [t["frontier_msflop"] * SFLOP_PER_MSFLOP for t in summary["thresholds"]],
              label="F(t) frontier", linestyle="--")
    axes.plot(days, [t["horizon_msflop"] * SFLOP_PER_MSFLOP for t in summary["thresholds"]],
              label="H(t) horizon", linestyle=":")
    axes.axhline((workload["planned_msflop"] + workload["lineage_msflop"]) * SFLOP_PER_MSFLOP,
                 color="grey", linewidth=0.8, label="graph size (planned + lineage)")
    for entry in workload["orders"]:
        axes.axvline(entry["day"], color="tab:red", alpha=0.4)
        axes.annotate(entry["what"], (entry["day"], 1), xycoords=("data", "axes fraction"),
                      rotation=90, va="top", fontsize=7, color="tab:red")
    for vote in summary["votes"]:
        axes.axvline(vote["day"], color="tab:purple", alpha=0.4)
        axes.annotate(f"vote v{vote['policy_version']}", (vote["day"], 0.02),
                      xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
                      color="tab:purple")
    axes.set_yscale("log")
    axes.set_xlabel(f"day (from {summary['start_date']})")
    axes.set_ylabel("sFLOP")
    axes.set_title(f"{workload['name']}: {workload['license_class'].lower()} class, "
                   f"{workload['chips']} chips at {workload['site']}")
    axes.legend(fontsize=8, loc="lower right")
    _save(figure, path)
    plt.close(figure)


def _sites_plot(plt, summary: dict, path: Path) -> None:
    days = list(range(summary["days"]))
    figure, axes = plt.subplots(figsize=(8, 4))
    for site in summary["sites"]:
        axes.plot(days, [v * SFLOP_PER_MSFLOP for v in site["daily_msflop"]],
                  label=f"{site['name']} ({site['chips']} chips)", drawstyle="steps-post")
    axes.set_xlabel("day")
    axes.set_ylabel("sFLOP metered that day")
    axes.set_title("per-site usage")
    axes.legend(fontsize=8)
    _save(figure, path)
    plt.close(figure)


def _timeline_plot(plt, summary: dict, path: Path) -> None:
    rows = [w["name"] for w in summary["workloads"]]
    figure, axes = plt.subplots(figsize=(8, 1.2 + 0.6 * max(len(rows), 1)))
    styles = (("orders", "o", "tab:red"), ("refusals", "x", "black"),
              ("anomalies", ".", "tab:orange"))
    for y, workload in enumerate(summary["workloads"]):
        for key, marker, colour in styles:
            days = [e["day"] for e in workload[key]]
            axes.scatter(days, [y] * len(days), marker=marker, color=colour,
                         label=key if y == 0 else None)
    axes.set_yticks(range(len(rows)), rows)
    axes.set_xlim(-0.5, summary["days"] - 0.5)
    axes.set_xlabel("day")
    axes.set_title("orders, refusals and anomalies")
    axes.legend(fontsize=8, loc="upper right")
    # A short figure: room for the day axis below and the workload names left.
    _save(figure, path, left=0.18, bottom=0.6 / (1.2 + 0.6 * max(len(rows), 1)))
    plt.close(figure)


def _activity_lines(summary: dict) -> list[str]:
    """Per workload, the kinds its chips' attested telemetry shows against the
    kind its license declares; every chip whose activity does not match is named."""
    if not summary["classified"]:
        return []
    lines = ["## Activity from telemetry", "",
             "| workload | declared | classified (chips) | mean confidence | mismatching chips |",
             "|---|---|---|---|---|"]
    flagged = []
    for w in summary["workloads"]:
        chips = [a for a in summary["chip_activity"] if a["workload"] == w["name"]]
        classes = Counter(a["class"] for a in chips if a["class"] is not None)
        confidences = [a["confidence"] for a in chips if a["confidence"] is not None]
        mean = f"{sum(confidences) / len(confidences):.2f}" if confidences else "-"
        lines.append(f"| {w['name']} | {w['kind']} | "
                     + (", ".join(f"{k} ({n})" for k, n in sorted(classes.items())) or "-")
                     + f" | {mean} | {w['activity_mismatch_chips']} |")
        flagged += [a for a in chips if a["mismatch"]]
    lines.append("")
    if flagged:
        lines.append("FLAGGED: activity does not match the license's declared kind:")
        lines += [f"- {a['chip']} ({a['workload']}): declared {a['declared']}, telemetry shows "
                  f"{a['class']} (confidence {a['confidence']:.2f}, {a['intervals']} intervals)"
                  for a in flagged]
        lines.append("")
    return lines


def write_report(summary: dict, out: Path) -> Path:
    """Write out/report.md and its PNGs under out/plots; returns the markdown's path."""
    plt = _pyplot()
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    lines = [f"# Scenario: {summary['scenario']}", "",
             f"{summary['chips']} chips, {summary['days']} days from {summary['start_date']} "
             f"(seed {summary['seed']}). Ledger: `ledger.sqlite` "
             f"({summary['ledger']['attestations']} verified attestations).", ""]
    if summary["votes"]:
        lines += ["Board votes: " + ", ".join(f"day {v['day']} (policy v{v['policy_version']})"
                                               for v in summary["votes"]), ""]
    lines += ["| workload | kind | class | chips | planned | metered | in the ledger | "
              "ops refused |", "|---|---|---|---|---|---|---|---|"]
    for w in summary["workloads"]:
        lines.append(f"| {w['name']} | {w['kind']} | {w['license_class'].lower()} | {w['chips']} "
                     f"| {format_sflop(w['planned_msflop'])} | {format_sflop(w['metered_msflop'])} | "
                     f"{format_sflop(w['ledger_metered_msflop'])} | {w['refused_ops']:.3g} |")
    lines.append("")
    lines += ["Interconnect: the wire bytes each workload's ops needed, and those its chips' "
              "locked limiters let through at the cap the policy gives the kind its licenses "
              "declare (docs/security.md G19).", "",
              "| workload | declared | cap (MB/s, burst) | wanted | passed | passed share |",
              "|---|---|---|---|---|---|"]
    for w in summary["workloads"]:
        share = w["wire_bytes_passed"] / w["wire_bytes_wanted"] if w["wire_bytes_wanted"] else 1
        lines.append(f"| {w['name']} | {w['kind']} | {w['link_cap_mb_per_s']:,}, "
                     f"{w['link_cap_burst_bytes']:,} B | {w['wire_bytes_wanted']:.3e} B | "
                     f"{w['wire_bytes_passed']:.3e} B | {share:.1%} |")
    lines.append("")
    for w in summary["workloads"]:
        name = f"workload-{w['name']}.png"
        _workload_plot(plt, summary, w, plots / name)
        lines += [f"## {w['name']}", "", f"![{w['name']} against F(t) and H(t)](plots/{name})", ""]
        for key in ("orders", "refusals", "anomalies"):
            if w[key]:
                lines.append(f"{key.capitalize()}:")
                lines += [f"- day {e['day']}: {e['what']}"
                          + (f" ({e['status']})" if "status" in e else "")
                          + f" on {e['chips']} chip(s)" for e in w[key]]
                lines.append("")
    lines += _activity_lines(summary)
    _sites_plot(plt, summary, plots / "sites.png")
    _timeline_plot(plt, summary, plots / "timeline.png")
    lines += ["## Sites", "", "![per-site usage](plots/sites.png)", "",
              "## Timeline", "", "![orders, refusals and anomalies](plots/timeline.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
