"""openheg CLI: the ledger commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    NotTrusted,
    OutputPath,
    Path,
    authority_option,
    cli,
    click,
    emit,
    format_sflop,
    json,
    json_option,
    pass_context,
    progress,
    wire,
)


@cli.group("ledger")
def ledger_group() -> None:
    """The ledger (SQLite by default; any SQLAlchemy URL with --ledger)."""


@ledger_group.command("migrate")
@pass_context
def ledger_migrate(ctx: Context) -> None:
    """Create the ledger or bring its schema to the newest migration.

    Example: openheg --ledger sqlite:///registry.sqlite ledger migrate
    """
    click.echo(f"ledger {ctx.ledger.url} at schema revision {ctx.ledger.schema_revision()}")


@ledger_group.command("status")
@json_option
@pass_context
def ledger_status(ctx: Context, as_json: bool) -> None:
    """Count what the ledger holds.

    Example: openheg ledger status --json
    """
    ledger = ctx.recorded_ledger
    counts = ledger.counts()
    emit({"url": ledger.url, "revision": ledger.schema_revision(), **counts}, as_json,
         ", ".join(f"{n} {table}" for table, n in counts.items()))


@ledger_group.command("workloads")
@json_option
@pass_context
def ledger_workloads(ctx: Context, as_json: bool) -> None:
    """Per-workload totals: planned, allocated and metered compute.

    Example: openheg ledger workloads --json
    """
    ledger = ctx.recorded_ledger
    rows = []
    for w in ledger.workloads():
        usage = ledger.usage(w.workload_id)
        rows.append({"workload": w.name, "class": w.license_class,
                     "planned_msflop": w.planned_msflop, "lineage_msflop": w.lineage_msflop,
                     "allocated_msflop": sum(u.allocation_msflop for u in usage),
                     "metered_msflop": sum(ledger.metered(w.workload_id, usage).values()),
                     "devices": len(usage)})
    emit(rows, as_json, "\n".join(
        f"{r['workload']}: {r['class'].lower()}, metered "
        f"{format_sflop(r['metered_msflop']) if r['metered_msflop'] else '0'} of "
        f"{format_sflop(r['allocated_msflop']) if r['allocated_msflop'] else '0'} "
        f"on {r['devices']} devices" for r in rows) or "no workloads")


@ledger_group.command("devices")
@json_option
@pass_context
def ledger_devices(ctx: Context, as_json: bool) -> None:
    """Devices the ledger knows, with their latest report.

    Example: openheg ledger devices --json
    """
    ledger = ctx.recorded_ledger
    rows = []
    for d in ledger.devices():
        atts = ledger.attestations(d.device_id)
        rows.append({"device_id": d.device_id, "url": d.url, "vendor_key": d.vendor_key,
                     "reports": len(atts),
                     "last_report_at": atts[-1].received_at if atts else None})
    emit(rows, as_json, "\n".join(f"{r['device_id'][:16]}... {r['url'] or ''} "
                                  f"{r['reports']} reports" for r in rows) or "no devices")


# =================================================================== report
@cli.command()
@click.argument("workload")
@authority_option
@click.option("--out", required=True, type=OutputPath(folder=True))
@click.option("--deadline", type=click.IntRange(1, wire.MAX_U32), default=None, metavar="SECONDS",
              help="Flag devices silent for this long.")
@json_option
@pass_context
def report(ctx: Context, workload: str, authority_dir: Path, out: Path, deadline: int | None,
           as_json: bool) -> None:
    """Write a workload's report: JSON, Markdown, HTML and a plot of compute
    against the Frontier and Horizon curves.

    Example: openheg report finetune --authority auth/ --out reports/
    """
    from ..report import write_report

    policy = Authority(authority_dir).policy_in_force()
    ledger = ctx.recorded_ledger
    ledger.workload(workload)  # an unknown name is refused before any file is written
    progress(f"building report for {workload}...")
    written = write_report(ledger, workload, policy, out, deadline_s=deadline)
    data = json.loads(written["json"].read_text())
    emit({"files": {k: str(v) for k, v in written.items()}, "trusted": data["trusted"],
          "anomalies": len(data["anomalies"])}, as_json,
         f"report for {workload}: {'trusted' if data['trusted'] else 'NOT TRUSTED'}, "
         f"{len(data['anomalies'])} anomalies; written "
         + ", ".join(str(p) for p in written.values()))
    if not data["trusted"]:
        severe = [a for a in data["anomalies"] if a["severe"]]
        raise NotTrusted(f"report for {workload} is NOT TRUSTED: {len(severe)} severe "
                         f"anomalies; first: {severe[0]['kind']} on "
                         f"{severe[0]['device_id'][:16]}...: {severe[0]['detail']}")


# ================================================================= verifier
