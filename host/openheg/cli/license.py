"""openheg CLI: the license commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    DeviceSlot,
    DeviceState,
    DeviceStateError,
    FiniteFloatRange,
    License,
    LicenseClass,
    LicensingError,
    MAX_VALID_DAYS,
    NO_LINEAGE,
    Node,
    OutputPath,
    Path,
    Proposal,
    Registry,
    authenticate_license,
    authority_option,
    check_license_signatures,
    cli,
    click,
    combine,
    dt,
    emit,
    format_sflop,
    gate_now,
    hex_bytes,
    json_option,
    load_record,
    parse_sflop,
    pass_context,
    plan_workload,
    progress,
    sign_proposal,
    wire,
    write_file,
)
from .lineage import (
    lineage_trust,
    load_registry,
    parse_parent,
    registry_option,
)


@cli.group("license")
def license_group() -> None:
    """Workload licenses across a fleet: issue, co-sign, install, revoke."""


@license_group.command("issue")
@authority_option
@click.option("--workload", required=True, help="Workload name.")
@click.option("--planned", required=True, help="The workload's total planned sFLOP, e.g. 1e21.")
@click.option("--kind", "workload_kind", default="pre-training", show_default=True,
              type=click.Choice(list(wire.WORKLOAD_KINDS)),
              help="What the workload is, declared in every license: an inference license "
                   "holds the device's interconnect to the policy's inference cap.")
@click.option("--parent", "parents", multiple=True, metavar="NAME[:RELATION]",
              help="Lineage parent (repeatable): the workload is registered in --registry "
                   "with these parents, and its licenses bind that lineage.")
@registry_option
@click.option("--device", "device_urls", multiple=True,
              help="Device URL to license (repeatable): its id and next sequence are read.")
@click.option("--device-id", "device_ids", multiple=True, metavar="HEX:SEQUENCE",
              help="Offline device: id and the license sequence it expects (repeatable).")
@click.option("--weight", "weights", multiple=True, type=click.IntRange(1, wire.MAX_U32),
              help="Relative share per device, in the order given (default equal).")
@click.option("--inspector", default="inspector-1", show_default=True,
              help="Inspector key name (Frontier and Horizon classes).")
@click.option("--oversight-ppm", type=click.IntRange(0, wire.OVERSIGHT_PPM_MAX), default=None)
@click.option("--valid-days", type=FiniteFloatRange(min=0, min_open=True, max=MAX_VALID_DAYS),
              default=30.0,
              show_default=True)
@click.option("--out", type=OutputPath(), default=None,
              help="License file, for a single device.")
@click.option("--out-dir", type=OutputPath(folder=True), default=None,
              help="Directory for one license (or proposal) per device.")
@json_option
@pass_context
def license_issue(ctx: Context, authority_dir: Path, workload: str, planned: str,
                  workload_kind: str, parents: tuple[str, ...], registry: Path,
                  device_urls: tuple[str, ...],
                  device_ids: tuple[str, ...], weights: tuple[int, ...], inspector: str,
                  oversight_ppm: int | None, valid_days: float, out: Path | None,
                  out_dir: Path | None, as_json: bool) -> None:
    """Split a workload across devices and issue a license per device.

    The class follows from the compute graph size (planned + lineage) against
    today's thresholds. With --parent (or when the registry already records
    the workload) the lineage comes from the signed registry: the workload is
    registered there as a run with its parents, and every license binds that
    lineage's digest (lineage_digest). Standard licenses are finished here; Frontier and
    Horizon ones are written as proposals signed by the issuer, for the
    inspector (and board and party representatives) to sign with
    `openheg board sign` and combine with `openheg board combine`.

    Example: openheg license issue --authority auth/ --workload ft --planned 1e9 \\
    --device emu://chip0 --device emu://chip1 --out-dir licenses/
    """
    auth = Authority(authority_dir)
    current = auth.policy_in_force()
    slots = []
    for url in device_urls:
        info = ctx.device(url).info()
        if info.state != DeviceState.PROVISIONED:
            raise DeviceStateError(f"{url} is {info.state.name.lower()}: provision it before "
                                   "issuing it a license")
        slots.append((info.device_id, info.license_sequence + 1))
    for text in device_ids:
        hex_id, _, sequence = text.partition(":")
        if not sequence.isdigit() or not 1 <= int(sequence) <= wire.MAX_U64:
            raise click.UsageError(f"--device-id takes HEX:SEQUENCE, the sequence from 1 to "
                                   f"{wire.MAX_U64}")
        slots.append((hex_bytes(hex_id, wire.KEY_SIZE, "--device-id"), int(sequence)))
    if not slots:
        raise click.UsageError("name at least one --device or --device-id")
    if weights and len(weights) != len(slots):
        raise click.UsageError("give one --weight per device, or none")
    if out is not None and len(slots) != 1:
        raise click.UsageError("--out is for one device; use --out-dir for a fleet")
    if (out is None) == (out_dir is None):
        raise click.UsageError("give exactly one of --out and --out-dir")
    planned_msflop = parse_sflop(planned)
    reg, lineage, registered = workload_lineage(auth, registry, workload, planned_msflop, parents)
    plan = plan_workload(current, workload=workload, planned_msflop=planned_msflop,
                         lineage_msflop=lineage.history_msflop if lineage else 0,
                         lineage_digest=lineage.digest if lineage else NO_LINEAGE,
                         devices=[DeviceSlot(d, s, w) for (d, s), w
                                  in zip(slots, weights or [1] * len(slots))],
                         valid_days=valid_days, oversight_ppm=oversight_ppm,
                         workload_kind=wire.WORKLOAD_KINDS[workload_kind],
                         inspector_key=auth.public_key(inspector)
                         if (auth.key_path(inspector).exists()) else None)
    if plan.license_class == LicenseClass.STANDARD:
        source = click.get_current_context().get_parameter_source
        unused = [option for option, name in (("--inspector", "inspector"),
                                              ("--oversight-ppm", "oversight_ppm"))
                  if source(name) == click.core.ParameterSource.COMMANDLINE]
        if unused:
            progress(f"note: {workload} is standard class, which names no inspector and "
                     f"reserves no oversight: {' and '.join(unused)} not used")
    issuer = auth.key("issuer", ctx.passphrase)
    ctx.ledger.record_workload(workload, plan.workload_id, plan.planned_msflop,
                               plan.lineage_msflop, plan.license_class.name)
    if registered:
        reg.save(registry, issuer)  # type: ignore[union-attr]
        progress(f"{workload} registered in {registry} with its parents (signed by the issuer)")
    written = []
    for i, draft in enumerate(plan.licenses, 1):
        proposal = Proposal(draft, f"workload {workload}")
        share = sign_proposal(proposal, issuer)
        target = out or (out_dir / f"{workload}-{draft.device_id.hex()[:16]}")  # type: ignore
        if plan.license_class == LicenseClass.STANDARD:
            record = combine(proposal, [share])
            check_license_signatures(current, record)
            path = target if out else target.with_suffix(".license")
            write_file(path, record.to_bytes())
            ctx.ledger.record_license(record)
        else:
            path = Path(str(target) + ".proposal.json") if out is None else target
            proposal.save(path)
            share.save(Path(str(path) + ".issuer.share"))
        written.append({"device_id": draft.device_id.hex(), "license_id": draft.license_id.hex(),
                        "allocation_msflop": draft.allocation_msflop, "path": str(path)})
        if len(plan.licenses) > 1:
            progress(f"[{i}/{len(plan.licenses)}] {draft.device_id.hex()[:16]}...: "
                     f"{format_sflop(draft.allocation_msflop)}")
    data = {"workload": workload, "class": plan.license_class.name, "kind": workload_kind,
            "graph_size_msflop": plan.graph_size_msflop, "licenses": written}
    need = ("" if plan.license_class == LicenseClass.STANDARD else
            "; proposals written: the inspector" + (", the board's Horizon quorum and every "
                                                    "party representative"
                                                    if plan.license_class == LicenseClass.HORIZON
                                                    else "") + " must sign")
    emit(data, as_json, f"workload {workload}: {workload_kind}, {plan.license_class.name.lower()} "
         f"class (graph size {format_sflop(plan.graph_size_msflop)}), {len(written)} licenses"
         + (f" written to {written[0]['path']}" if len(written) == 1 else "") + need)


def workload_lineage(authority: Authority, registry_path: Path, workload: str,
                     planned_msflop: int, parents: tuple[str, ...]
                     ) -> tuple[Registry | None, Lineage | None, bool]:
    """The lineage a workload's licenses declare and bind: the registry's, when
    the workload names parents (it is then registered, dated today, as a run of
    its planned compute) or is registered already; none otherwise. Returns the
    registry, the lineage, and whether the workload was registered now (the
    caller saves it once the licenses can be made)."""
    if not parents and not Path(registry_path).exists():
        return None, None, False
    reg = Registry.load(registry_path, lineage_trust(authority))
    wanted = tuple(parse_parent(p) for p in parents)
    node = reg.nodes.get(workload)
    if node is None:
        if not wanted:
            return None, None, False
        reg.add(Node(workload, "run", planned_msflop, dt.datetime.now(dt.UTC).date(), wanted))
        return reg, reg.lineage(workload), True
    if (wanted and set(wanted) != set(node.parents)) or node.compute_msflop != planned_msflop:
        raise LicensingError(
            f"workload {workload} is registered in {registry_path} with "
            f"{format_sflop(node.compute_msflop) if node.compute_msflop else '0'} and parents "
            f"{', '.join(p.name for p in node.parents) or 'none'}: license it with those, or "
            "under another name")
    return reg, reg.lineage(workload), False


@license_group.command("install")
@click.argument("url")
@click.argument("license_file", type=click.Path(path_type=Path))
@pass_context
def license_install(ctx: Context, url: str, license_file: Path) -> None:
    """Install a license on a device; the device checks it and arms its meter.

    Example: openheg license install emu://chip0 lic.bin
    """
    record = load_record(license_file, License)
    device = ctx.device(url)
    device.install_license(record)
    ctx.ledger.record_license(record)
    # Accepted is not running: a halt, a pause or untrusted time keeps the gate
    # closed over a license the device took, and the person must hear which.
    click.echo(f"{url}: license {record.license_id.hex()} installed; {gate_now(device)}")


@license_group.command("show")
@click.argument("license_file", type=click.Path(path_type=Path))
@json_option
def license_show(license_file: Path, as_json: bool) -> None:
    """Decode a license file.

    Example: openheg license show lic.bin --json
    """
    record = load_record(license_file, License)
    emit(wire.to_jsonable(record), as_json,
         f"license {record.license_id.hex()} for device {record.device_id.hex()}: "
         f"sequence {record.sequence}, {record.license_class.name.lower()}, "
         f"{record.workload_kind.name.lower().replace('_', '-')}, "
         f"{format_sflop(record.allocation_msflop)}, {len(record.signatures)} signatures")


evidence_registry_option = click.option(
    "--registry", "registry_file", type=click.Path(path_type=Path), default=None,
    help="The signed lineage registry: check the license's declared lineage against the one "
         "it binds.")


def evidence_registry(authority_dir: Path, registry_file: Path | None) -> Registry | None:
    return None if registry_file is None else load_registry(authority_dir, registry_file)


@license_group.command("verify")
@click.argument("license_file", type=click.Path(path_type=Path))
@authority_option
@evidence_registry_option
def license_verify(license_file: Path, authority_dir: Path, registry_file: Path | None) -> None:
    """Check a license's signatures against its class's rule under the policy in
    force and, with --registry, its declared lineage against the registry.

    Example: openheg license verify lic.bin --authority auth/ --registry lineage.json
    """
    record = load_record(license_file, License)
    authenticate_license(Authority(authority_dir).policy_in_force(), record,
                         evidence_registry(authority_dir, registry_file))
    click.echo(f"license {record.license_id.hex()}: {record.license_class.name.lower()} "
               "signatures complete"
               + ("" if registry_file is None else
                  "; lineage " + ("as registered" if record.lineage_digest != NO_LINEAGE
                                  else "none declared, none registered")))


@license_group.command("revoke")
@click.argument("license_id")
@click.option("--reason", required=True)
@pass_context
def license_revoke(ctx: Context, license_id: str, reason: str) -> None:
    """Mark a license revoked in the ledger; reports then flag any use of it.

    The device stops the license for good when it receives a revocation signed
    by the issuer or a board quorum: `openheg order issue --kind revoke`.

    Example: openheg license revoke 3f2a... --reason "workload withdrawn"
    """
    revoked = hex_bytes(license_id, wire.ID_SIZE, "license id")  # checked before the ledger opens
    row = ctx.ledger.revoke_license(revoked, reason)
    click.echo(f"license {row.license_id} revoked ({reason}); stop it on device "
               f"{row.device_id[:16]}... with `openheg order issue --kind revoke`")


# ==================================================================== order
