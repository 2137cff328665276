"""openheg CLI: the policy commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    OutputPath,
    Path,
    Policy,
    Proposal,
    RecordError,
    authority_option,
    cli,
    click,
    describe,
    emit,
    format_sflop,
    json_option,
    load_record,
    next_draft,
    parse_assignment,
    parse_date,
    pass_context,
    progress,
    public_key_arg,
    read_file,
    thresholds_on,
)


@cli.group()
def policy() -> None:
    """Author and inspect policies; Frontier and Horizon thresholds by date."""


@policy.command("draft")
@authority_option
@click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
              help="Change a field, e.g. frontier_base_msflop=5e28 (repeatable).")
@click.option("--board", "board_keys", multiple=True, metavar="KEY",
              help="New board (replaces it): public key files or hex (repeatable).")
@click.option("--inspector", "inspector_keys", multiple=True, metavar="KEY")
@click.option("--party", "party_keys", multiple=True, metavar="KEY")
@click.option("--revoke", "revoke_keys", multiple=True, metavar="KEY",
              help="Add a key to the revoked list.")
@click.option("--issuer", default=None, metavar="KEY", help="New issuer key.")
@click.option("--time-authority", default=None, metavar="KEY")
@click.option("--note", default="", help="What the vote is about, shown to signers.")
@click.option("--out", required=True, type=OutputPath())
def policy_draft(authority_dir: Path, assignments: tuple[str, ...], board_keys: tuple[str, ...],
                 inspector_keys: tuple[str, ...], party_keys: tuple[str, ...],
                 revoke_keys: tuple[str, ...], issuer: str | None, time_authority: str | None,
                 note: str, out: Path) -> None:
    """Propose the next policy version: the one in force with the changes given.

    Example: openheg policy draft --authority auth/ --set frontier_base_msflop=5e28 \\
    --out policy-v2.proposal.json
    """
    current = Authority(authority_dir).policy_in_force()
    changes: dict[str, Any] = dict(parse_assignment(a) for a in assignments)
    for name, values in (("board_keys", board_keys), ("inspector_keys", inspector_keys),
                         ("party_keys", party_keys)):
        if values:
            changes[name] = [public_key_arg(v) for v in values]
    if revoke_keys:
        changes["revoked_keys"] = list(current.revoked_keys) + [public_key_arg(v)
                                                                for v in revoke_keys]
    if issuer:
        changes["issuer_key"] = public_key_arg(issuer)
    if time_authority:
        changes["time_authority_key"] = public_key_arg(time_authority)
    draft = next_draft(current, **changes)
    Proposal(draft, note).save(out)
    changed = sorted(k for k in changes)
    click.echo(f"policy v{draft.policy_version} proposed ({', '.join(changed) or 'no changes'}); "
               f"needs {current.board_threshold} of the current board"
               + (f" and {draft.board_threshold} of the new board" if "board_keys" in changes
                  else "") + f": {out}")


def policy_from(authority_dir: Path | None, policy_file: Path | None) -> Policy:
    if (authority_dir is None) == (policy_file is None):
        raise click.UsageError("give exactly one of --authority and --policy")
    if policy_file is not None:
        return load_record(policy_file, Policy)
    return Authority(authority_dir).policy_in_force()  # type: ignore[arg-type]


@policy.command("show")
@click.option("--authority", "authority_dir", type=click.Path(path_type=Path), default=None)
@click.option("--policy", "policy_file", type=click.Path(path_type=Path), default=None,
              help="A policy record file, or a proposal (JSON).")
@json_option
def policy_show(authority_dir: Path | None, policy_file: Path | None, as_json: bool) -> None:
    """Show a policy: weights, thresholds and their growth, signers per class.

    Example: openheg policy show --authority auth/ --json
    """
    if policy_file is not None and authority_dir is not None:
        raise click.UsageError("give exactly one of --authority and --policy")
    if policy_file is not None and read_file(policy_file)[:1] == b"{":
        record = Proposal.load(policy_file).record
        if not isinstance(record, Policy):
            raise RecordError(f"{policy_file} proposes a {record.what()}, not a policy")
    else:
        record = policy_from(authority_dir, policy_file)
    data = describe(record)
    human = [f"policy v{record.policy_version}",
             f"  board        {record.board_threshold} of {len(record.board_keys)} "
             f"(Horizon licenses: {record.horizon_board_threshold})",
             "  weights      " + ", ".join(f"{lane} {w / 1000:g}" for lane, w
                                          in data["weights"].items()),
             f"  Frontier     {format_sflop(record.frontier_base_msflop)} "
             f"+ {format_sflop(record.frontier_daily_increase_msflop)}/day "
             f"from {data['schedule_epoch_date']}",
             f"  Horizon      {format_sflop(record.horizon_base_msflop)} "
             f"+ {format_sflop(record.horizon_daily_increase_msflop)}/day",
             "  signers      standard: issuer; frontier: issuer + named inspector; "
             f"horizon: + {record.horizon_board_threshold} board + all "
             f"{len(record.party_keys)} party representatives",
             f"  oversight    at least {record.oversight_min_ppm} ppm above Frontier",
             f"  revoked      {len(record.revoked_keys)} keys"]
    emit(data, as_json, "\n".join(human))


@policy.command("thresholds")
@click.option("--authority", "authority_dir", type=click.Path(path_type=Path), default=None)
@click.option("--policy", "policy_file", type=click.Path(path_type=Path), default=None)
@click.option("--on", "on_date", default="today", show_default=True, help="YYYY-MM-DD.")
@json_option
def policy_thresholds(authority_dir: Path | None, policy_file: Path | None, on_date: str,
                      as_json: bool) -> None:
    """Print the Frontier (F) and Horizon (H) thresholds on a date.

    Example: openheg policy thresholds --authority auth/ --on 2027-01-01
    """
    record = policy_from(authority_dir, policy_file)
    result = thresholds_on(record, parse_date(on_date))
    emit({**result.to_json(), "policy_version": record.policy_version}, as_json,
         f"{result.to_json()['date']}: F = {format_sflop(result.frontier_msflop)}, "
         f"H = {format_sflop(result.horizon_msflop)} (policy v{record.policy_version})")


@policy.command("install")
@click.argument("urls", nargs=-1, required=True)
@authority_option
@pass_context
def policy_install(ctx: Context, urls: tuple[str, ...], authority_dir: Path) -> None:
    """Bring devices up to the policy in force, one version at a time.

    Example: openheg policy install emu://chip0 emu://chip1 --authority auth/
    """
    auth = Authority(authority_dir)
    auth.policy_in_force()  # the chain must verify before any of it is sent
    policies = auth.policies()
    for i, url in enumerate(urls, 1):
        device = ctx.device(url)
        have = device.info().policy_version
        newer = [p for p in policies if p.policy_version > have]
        for record in newer:
            device.install_policy(record)
        progress(f"[{i}/{len(urls)}] {url}: policy v{have} -> "
                 f"v{newer[-1].policy_version if newer else have}")


# ================================================================== lineage
