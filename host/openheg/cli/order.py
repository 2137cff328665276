"""openheg CLI: the order commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    Device,
    DEFAULT_SIGNER_ROLES,
    FLEET_ROLE,
    License,
    ORDER_SEQUENCE_FIELDS,
    OpenhegError,
    Order,
    OrderKind,
    OutputPath,
    Path,
    Policy,
    Proposal,
    SignerRole,
    SigningKey,
    VerificationError,
    check_order_signatures,
    cli,
    click,
    hex_bytes,
    issue_fleet_order,
    issue_order,
    issue_revocation,
    load_record,
    pass_context,
    sign_order,
    wire,
    write_file,
)


@cli.group()
def order() -> None:
    """Inspector, board and issuer orders: pause, resume, halt, lift-halt, revoke."""


@order.command("issue")
@click.option("--kind", required=True,
              type=click.Choice(["pause", "resume", "halt", "lift-halt", "revoke"]))
@click.option("--role", type=click.Choice([r.name.lower() for r in SignerRole]), default=None,
              help="Who gives the order (default: inspector for pause and resume, board for "
                   "halt and lift-halt, issuer for revoke); each role has its own sequence on "
                   "the device.")
@click.option("--floor", type=click.IntRange(0, wire.MAX_U64), default=None,
              help="revoke: refuse every license up to this sequence on the device (default: "
                   "the revoked license's; give the highest renewal signed in advance).")
@click.option("--fleet", is_flag=True,
              help="halt, lift-halt: one board order for every device under the policy (the "
                   "universal cut-off), bound to its digest; no --device. Numbered past every "
                   "fleet order this ledger issued under that policy.")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path), default=None,
              help="--fleet: the policy the order is bound to (default: the authority's "
                   "policy in force).")
@click.option("--device", "device_url", default=None,
              help="Read the device id here; the sequence is numbered past every order of the "
                   "role this ledger issued for it and its newest signed report.")
@click.option("--device-id", default=None, metavar="HEX")
@click.option("--sequence", type=click.IntRange(1, wire.MAX_U64), default=None)
@click.option("--license", "license_file", type=click.Path(path_type=Path), default=None,
              help="pause, resume: a license for the workload the order names (the pause "
                   "binds the workload, whatever license runs it); revoke: the license "
                   "revoked.")
@click.option("--authority", "authority_dir", type=click.Path(path_type=Path), default=None)
@click.option("--signer", "signers", multiple=True, metavar="NAME",
              help="Sign with this key of the authority's keys/ (repeatable).")
@click.option("--propose", is_flag=True, help="Write a proposal for offline signing instead.")
@click.option("--out", required=True, type=OutputPath())
@pass_context
def order_issue(ctx: Context, kind: str, role: str | None, floor: int | None, fleet: bool,
                policy_file: Path | None, device_url: str | None, device_id: str | None,
                sequence: int | None, license_file: Path | None, authority_dir: Path | None,
                signers: tuple[str, ...], propose: bool, out: Path) -> None:
    """Write an order for one device, or with --fleet a halt or lift-halt for
    every device under the policy, signed now or as a proposal for a vote.

    Example: openheg order issue --kind pause --device emu://chip0 --license lic.bin \\
    --authority auth/ --signer inspector-1 --out pause.order

    Example: openheg order issue --kind halt --fleet --authority auth/ --signer board-1 \\
    --signer board-2 --out halt.order
    """
    order_kind = OrderKind[kind.upper().replace("-", "_")]
    if propose and (signers or authority_dir is not None):
        raise click.UsageError("--propose writes an unsigned proposal: --authority and --signer "
                               "apply only when signing now")
    # Keys load before the ledger numbers the order: a mistyped --signer must not
    # use up a sequence number.
    keys = None if propose else _signing_keys(ctx, authority_dir, signers)
    if fleet:
        if order_kind not in wire.FLEET_ORDER_KINDS:
            raise click.UsageError(f"--fleet is for a halt or lift-halt, not a {kind}")
        given = [name for name, value in (("--device", device_url), ("--device-id", device_id),
                                          ("--license", license_file), ("--floor", floor))
                 if value is not None] + (["--role"] if role not in (None, "board") else [])
        if given:
            raise click.UsageError(f"a fleet order names no device: leave out {', '.join(given)}")
        if policy_file is None and authority_dir is None:
            raise click.UsageError("give --authority (its policy in force) or --policy: a fleet "
                                   "order is bound to one policy")
        policy = (load_record(policy_file, Policy) if policy_file is not None
                  else Authority(authority_dir).policy_in_force())
        number = sequence or ctx.ledger.highest_issued_order(policy.digest, FLEET_ROLE) + 1
        record = issue_fleet_order(order_kind, policy=policy, sequence=number)
        ctx.ledger.record_issued_order(policy.digest, FLEET_ROLE, number, order_kind.name)
        _sign_or_propose(ctx, record, f"fleet {kind}", keys, authority_dir, out,
                         None, f"every device under policy v{policy.policy_version} "
                               f"({policy.digest.hex()[:16]}...)")
        return
    if policy_file is not None:
        raise click.UsageError("--policy is for a --fleet order only")
    # A pause or resume names the license's workload, a revocation the license.
    names_license = order_kind in (OrderKind.PAUSE, OrderKind.RESUME, OrderKind.REVOKE)
    if device_url is not None and device_id is not None:
        raise click.UsageError("give exactly one of --device and --device-id: an order is for "
                               "one device")
    signer_role = DEFAULT_SIGNER_ROLES[order_kind] if role is None else SignerRole[role.upper()]
    license_ = load_record(license_file, License) if license_file else None
    if names_license and license_ is None:
        raise click.UsageError(f"a {kind} order names a license: give --license")
    if not names_license and license_ is not None:
        raise click.UsageError(f"a {kind} order names no license: leave out --license")
    if floor is not None and order_kind != OrderKind.REVOKE:
        raise click.UsageError("--floor is for a revoke order only")
    if device_url is not None:
        info = ctx.device(device_url).info()
        target = info.device_id
        next_sequence = _next_order_sequence(ctx.ledger, target, signer_role,
                                             info.next_order_sequence(signer_role) - 1)
    elif device_id is not None:
        target, next_sequence = hex_bytes(device_id, wire.KEY_SIZE, "--device-id"), None
    elif license_ is not None:
        target, next_sequence = license_.device_id, None
    else:
        raise click.UsageError("give --device, --device-id or --license")
    if license_ is not None and license_.device_id != target:
        raise click.UsageError(f"--license is a license for device "
                               f"{license_.device_id.hex()[:16]}..., the order is for "
                               f"{target.hex()[:16]}...")
    if sequence is None and next_sequence is None:
        raise click.UsageError("--sequence is required when the device is not reachable")
    if order_kind == OrderKind.REVOKE:
        record = issue_revocation(license_, sequence=sequence or next_sequence,
                                  license_sequence_floor=floor, signer_role=signer_role)
    else:
        record = issue_order(order_kind, device_id=target, sequence=sequence or next_sequence,
                             signer_role=signer_role, license_=license_)
    # Numbered now, before anyone can deliver it: the role's next order is numbered
    # past this one even if the operator never delivers it (_next_order_sequence).
    ctx.ledger.record_issued_order(target, signer_role, record.sequence, order_kind.name)
    _sign_or_propose(ctx, record, kind, keys, authority_dir, out,
                     license_.inspector_key if license_ else None,
                     f"device {target.hex()[:16]}...")


def _signing_keys(ctx: Context, authority_dir: Path | None,
                  signers: tuple[str, ...]) -> list[SigningKey]:
    if not signers or authority_dir is None:
        raise click.UsageError("give --authority and --signer, or --propose")
    auth = Authority(authority_dir)
    return [auth.key(name, ctx.passphrase) for name in signers]


def _sign_or_propose(ctx: Context, record: Order, kind: str, keys: list[SigningKey] | None,
                     authority_dir: Path | None, out: Path,
                     license_inspector: bytes | None, target: str) -> None:
    """Write the order as a proposal for a vote (keys None), or signed now by
    the authority's keys (checked as the device will check them)."""
    if keys is None:
        Proposal(record, f"{kind} order").save(out)
        click.echo(f"{kind} order proposed for {target}: {out}")
        return
    signed = sign_order(record, keys)
    check_order_signatures(Authority(authority_dir).policy_in_force(), signed,
                           license_inspector)
    write_file(out, signed.to_bytes())
    click.echo(f"{kind} order (sequence {signed.sequence}) for {target} written to {out}")


def _next_order_sequence(ledger: Ledger, device_id: bytes, role: SignerRole,
                         claimed: int) -> int:
    """The sequence of the role's next order for the device: past every order of
    the role this ledger issued (delivered or held back) and past what the
    device's newest signed report says it accepted; never numbered from the
    device's own counter, which does not count an order the operator holds back
    (second review, finding 1). INFO's ``claimed`` counter is unsigned: one below
    the signed report's, or above everything issued and attested, is refused."""
    rows = ledger.attestations(device_id.hex())
    attested = 0
    if rows:
        newest = wire.Attestation.from_bytes(max(rows, key=lambda r: r.report_counter).record)
        attested = getattr(newest, ORDER_SEQUENCE_FIELDS[role])
        if claimed < attested:
            raise VerificationError(
                f"the device's INFO says its last accepted {role.name.lower()} order is "
                f"{claimed}, but its signed report {newest.report_counter} says {attested}: "
                "the link is not to be trusted (give --sequence from a verified report)")
    issued = ledger.highest_issued_order(device_id, role)
    known = max(attested, issued)
    if claimed > known:
        raise VerificationError(
            f"the device's INFO says its last accepted {role.name.lower()} order is {claimed}, "
            f"but this ledger issued {role.name.lower()} orders to it up to {issued} and its "
            f"newest signed report says {attested}: the link is not to be trusted, or orders "
            "were issued from another ledger (collect a signed report with `openheg attest "
            "collect`, or give --sequence)")
    return known + 1


@order.command("send")
@click.argument("urls", nargs=-1, required=True)
@click.argument("order_file", type=click.Path(path_type=Path))
@pass_context
def order_send(ctx: Context, urls: tuple[str, ...], order_file: Path) -> None:
    """Deliver an order to its device, or a fleet order to each device given.

    Example: openheg order send emu://chip0 pause.order

    Example: openheg order send emu://chip0 emu://chip1 emu://chip2 halt.order
    """
    record = load_record(order_file, Order)
    if not record.fleet and len(urls) > 1:
        raise click.UsageError("the order is for one device: give one URL (only a fleet order "
                               "goes to many)")
    refusals = deliver(ctx, [record], open_each(ctx, urls))
    if refusals:
        raise refusals[0]


def open_each(ctx: Context, urls: tuple[str, ...]) -> list[tuple[str, Device | OpenhegError]]:
    """Each device given, or why it cannot be reached: one device that cannot
    keeps no other from its orders. With one URL its error is raised here."""
    targets: list[tuple[str, Device | OpenhegError]] = []
    for url in urls:
        try:
            targets.append((url, ctx.device(url)))
        except OpenhegError as error:
            if len(urls) == 1:
                raise
            targets.append((url, error))
    return targets


def deliver(ctx: Context, records: list[Order],
            targets: list[tuple[str, Device | OpenhegError]]) -> list[OpenhegError]:
    """Deliver each order to each device, noting each applied one in the
    ledger; returns the refusals (a device that refuses or cannot be reached
    keeps no other from its halt: each is tried, each refusal named). With one
    device, its refusal is raised."""
    refusals: list[OpenhegError] = []
    for record in records:
        what = (("fleet " if record.fleet else "")
                + record.order_kind.name.lower().replace("_", "-"))
        for url, dev in targets:
            try:
                if isinstance(dev, OpenhegError):
                    raise dev
                dev.order(record)
                ctx.ledger.record_order(record, dev.info().device_id if record.fleet else None)
            except OpenhegError as error:
                if len(targets) == 1:
                    raise
                click.echo(f"{url}: {what} order {record.sequence} not applied: {error}",
                           err=True)
                refusals.append(error)
                continue
            click.echo(f"{url}: {what} order {record.sequence} applied")
    if refusals:
        click.echo(f"{len(refusals)} of {len(targets) * len(records)} deliveries (an order "
                   "to a device) failed", err=True)
    return refusals


# =================================================================== vendor
