"""The verifier's dashboard: HTML rendered on the server, plots as inline SVG
(matplotlib), nothing fetched from outside the machine.

Everyone sees the fleet overview without identities (the public tier). A
regulator's or inspector's token, given once at /dashboard/login and kept in an
HttpOnly cookie, adds what that tier may see: workloads with their compute
against F(t) and H(t), devices, silence and anomalies. Thresholds are printed
to the sFLOP, with each day's rise, so the daily increase shows (four
significant digits hid it).
"""

from __future__ import annotations

import html
import io
import time

from ..policy import SECONDS_PER_DAY, day_to_iso, thresholds_on
from ..report import build_report, plot, usage_anomalies
from ..units import format_sflop

STYLE = ("body{font-family:sans-serif;max-width:64em;margin:auto;padding:0 1em}"
         # A table wider than the page (the thresholds' digits at 1100 px) scrolls
         # inside itself instead of pushing the page sideways.
         "table{border-collapse:collapse;display:block;max-width:100%;overflow-x:auto}"
         "td,th{border:1px solid #ccc;padding:2px 8px;"
         "text-align:right}th{background:#eee}.severe{color:#b00;font-weight:bold}"
         "td.name{text-align:left}")


def exact_sflop(msflop: int) -> str:
    """Milli-sFLOP as sFLOP with every digit, grouped: 1,000,123,456.789."""
    whole, milli = divmod(int(msflop), 1000)
    return f"{whole:,}" + (f".{milli:03d}" if milli else "")


def page(title: str, body: list[str], viewer_label: str) -> str:
    return ("<!doctype html><html lang=en><meta charset=utf-8>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"<p><a href='/dashboard'>openheg verifier</a> &middot; {html.escape(viewer_label)}"
            " &middot; <a href='/dashboard/login'>sign in</a></p>"
            f"<h1>{html.escape(title)}</h1>\n" + "\n".join(body) + "\n</html>\n")


def table(headers: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    lines = []
    for i, row in enumerate(rows):
        css = f" class='{classes[i]}'" if classes and classes[i] else ""
        lines.append(f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f"<table><tr>{head}</tr>" + "".join(lines) + "</table>"


def overview(verifier, viewer, now: int) -> str:
    summary = verifier.public_summary()
    body = ["<h2>Compute per license class</h2>",
            table(["class", "workloads", "metered (sFLOP)"],
                  [[html.escape(name), str(entry["workloads"]),
                    exact_sflop(int(entry["consumed_msflop"]))]
                   for name, entry in summary["classes"].items()]),
            f"<p>Devices reporting: {len(verifier.ledger.devices())}; silent past "
            f"{verifier.config.silence_deadline_s} s: {verifier.silent_devices(now)}; not yet "
            f"halted by a fleet halt in force: {verifier.devices_not_halted()}</p>"]
    if verifier.policy is not None:
        day = now // SECONDS_PER_DAY
        rows = []
        for d in range(day - 2, day + 5):
            today, before = thresholds_on(verifier.policy, d), thresholds_on(verifier.policy, d - 1)
            rows.append([day_to_iso(d), exact_sflop(today.frontier_msflop),
                         "+" + exact_sflop(today.frontier_msflop - before.frontier_msflop),
                         exact_sflop(today.horizon_msflop),
                         "+" + exact_sflop(today.horizon_msflop - before.horizon_msflop)])
        body += [f"<h2>Thresholds under policy v{verifier.policy.policy_version}</h2>",
                 table(["date", "Frontier F(t)", "rise", "Horizon H(t)", "rise"], rows)]
    if viewer is None:
        body.append("<p>Sign in with a regulator's or an inspector's token for workloads "
                    "and devices.</p>")
        return page("Fleet overview", body, "public")
    workloads = verifier.workloads(viewer)
    body += ["<h2>Workloads</h2>", table(
        ["workload", "class", "metered (sFLOP)", "allocated (sFLOP)", "devices", "last seen"],
        [[f"<a href='/dashboard/workloads/{html.escape(w['name'])}'>{html.escape(w['name'])}"
          "</a>", html.escape(w["license_class"]), exact_sflop(int(w["consumed_msflop"])),
          exact_sflop(int(w["allocation_msflop"])), str(w["devices"]), _when(w["last_seen"])]
         for w in workloads])]
    devices = verifier.devices(viewer)
    deadline = now - verifier.config.silence_deadline_s
    body += ["<h2>Devices</h2>", table(
        ["device", "reports", "gate", "metered (sFLOP)", "last seen"],
        [[html.escape(d["device_id"][:16]) + "&hellip;", str(d["reports"]),
          html.escape(str(d["gate_state"])),
          exact_sflop(int(d["consumed_msflop"] or 0)), _when(d["last_seen"])]
         for d in devices],
        ["severe" if d["last_seen"] is not None and d["last_seen"] < deadline else ""
         for d in devices])]
    # Each device's series, then what the ledger's licenses say of the compute
    # under them (a revoked license used: the workload page and the EAR name it too).
    anomalies = [a for d in devices for a in verifier.ledger.series(
        d["device_id"], now=now, deadline_s=verifier.config.silence_deadline_s).anomalies]
    anomalies += [a for w in workloads
                  for a in usage_anomalies(verifier.ledger.usage(w["workload_id"]))]
    body += ["<h2>Anomalies</h2>", table(
        ["device", "kind", "detail"],
        [[html.escape(a.device_id[:16]) + "&hellip;", html.escape(a.kind),
          html.escape(a.detail)] for a in anomalies],
        ["severe" if a.severe else "" for a in anomalies]) if anomalies else "<p>None.</p>"]
    # Pause and halt history: each device's orders, then the board's fleet
    # orders (every device under a policy) with the board keys that signed.
    rows = [[html.escape(o.device_id[:16]) + "&hellip;", html.escape(o.order_kind),
             html.escape(str(o.signer_role)), str(o.sequence), _when(o.issued_at)]
            for d in devices for o in verifier.ledger.orders(d["device_id"])]
    rows += [[f"every device under policy {_policy_name(o)}", html.escape(o["order_kind"]),
              "board: " + ", ".join(html.escape(k[:16]) + "&hellip;" for k in o["signers"]),
              str(o["sequence"]), _when(o["issued_at"])]
             for o in verifier.fleet_order_history()]
    body += ["<h2>Orders</h2>", table(
        ["device", "kind", "signed by", "sequence", "issued"], rows)
        if rows else "<p>None recorded.</p>"]
    return page("Fleet overview", body, "regulator" if viewer.is_regulator else "inspector")


def workload_page(verifier, viewer, name: str, now: int) -> str:
    """One workload against the thresholds; the caller checked the viewer sees it."""
    report = build_report(verifier.ledger, name, verifier.policy, now=now,
                          deadline_s=verifier.config.silence_deadline_s)
    svg = io.BytesIO()
    plot(report, verifier.policy, svg, image_format="svg")
    body = [f"<p>Class {html.escape(report['license_class'].lower())}; compute graph size "
            f"{exact_sflop(report['compute_graph_size_msflop'])} sFLOP; metered "
            f"{exact_sflop(report['metered_msflop'])} of "
            f"{exact_sflop(report['allocated_msflop'])} allocated "
            f"({format_sflop(report['metered_msflop'] or 0)}); verdict "
            f"<b>{'trusted' if report['trusted'] else 'NOT TRUSTED'}</b></p>",
            svg.getvalue().decode().split("?>", 1)[-1],
            "<h2>Devices</h2>", table(
                ["device", "license", "allocation (sFLOP)", "metered (sFLOP)", "revoked"],
                [[html.escape(d["device_id"][:16]) + "&hellip;",
                  html.escape(d["license_id"][:12]) + "&hellip;",
                  exact_sflop(d["allocation_msflop"]), exact_sflop(d["consumed_msflop"]),
                  "yes" if d["revoked"] else "no"] for d in report["devices"]]),
            "<h2>Anomalies</h2>", table(
                ["device", "kind", "detail"],
                [[html.escape(a["device_id"][:16]) + "&hellip;", html.escape(a["kind"]),
                  html.escape(a["detail"])] for a in report["anomalies"]],
                ["severe" if a["severe"] else "" for a in report["anomalies"]])
            if report["anomalies"] else "<p>None.</p>"]
    return page(f"Workload {name}", body, "regulator" if viewer.is_regulator else "inspector")


LOGIN_FORM = page("Sign in", [
    "<form method=post action='/dashboard/login'><label>Token "
    "<input type=password name=token size=70></label> <button>Sign in</button></form>",
    "<p>The token is kept in an HttpOnly cookie for this site only.</p>"], "public")


def _policy_name(order: dict) -> str:
    digest = html.escape(order["policy_digest"][:16]) + "&hellip;"
    version = order["policy_version"]
    return digest if version is None else f"v{version} ({digest})"


def _when(unix: int | None) -> str:
    if unix is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(unix))
