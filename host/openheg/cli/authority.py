"""openheg CLI: the authority commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    OutputPath,
    Path,
    SigningKey,
    authority_option,
    cli,
    click,
    describe,
    emit,
    format_sflop,
    json_option,
    parse_assignment,
    pass_context,
    progress,
    time_beacon,
    wire,
)


@cli.group()
def authority() -> None:
    """The regulator: board, issuer, time authority, inspectors, party representatives."""


@authority.command("create")
@click.argument("directory", type=OutputPath(folder=True))
@click.option("--board-size", type=click.IntRange(1, wire.MAX_KEY_LIST), default=3,
              show_default=True)
@click.option("--threshold", type=click.IntRange(1, wire.MAX_KEY_LIST), default=2,
              show_default=True, help="Board signatures a policy or board order needs (k of n).")
@click.option("--horizon-threshold", type=click.IntRange(1, wire.MAX_KEY_LIST), default=None,
              help="Board signatures a Horizon license needs (default: the whole board).")
@click.option("--inspectors", type=click.IntRange(0, wire.MAX_KEY_LIST), default=1,
              show_default=True)
@click.option("--parties", type=click.IntRange(0, wire.MAX_KEY_LIST), default=2,
              show_default=True, help="Party representatives (all sign Horizon licenses).")
@click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
              help="Override a genesis policy field, e.g. frontier_base_msflop=1e27.")
@json_option
@pass_context
def authority_create(ctx: Context, directory: Path, board_size: int, threshold: int,
                     horizon_threshold: int | None, inspectors: int, parties: int,
                     assignments: tuple[str, ...], as_json: bool) -> None:
    """Make an authority's keys and its genesis policy, signed by its board.

    All role keys are made here (0600 PEM, encrypted with --passphrase-env);
    a real board then moves each member's key to that member's machine.

    Example: openheg authority create auth/ --board-size 5 --threshold 3
    """
    overrides = dict(parse_assignment(a) for a in assignments)
    for field, option in (("board_threshold", "--threshold"),
                          ("horizon_board_threshold", "--horizon-threshold")):
        if field in overrides:
            raise click.UsageError(f"{field} has its own option: give {option} instead of "
                                   f"--set {field}=...")
    made = Authority.create(directory, board_size=board_size, board_threshold=threshold,
                            horizon_threshold=horizon_threshold, inspectors=inspectors,
                            parties=parties, passphrase=ctx.passphrase, **overrides)
    policy = made.policy_in_force()
    emit({"directory": str(directory), "policy_version": policy.policy_version,
          "issuer_key": policy.issuer_key.hex(), "board_threshold": policy.board_threshold,
          "board_size": len(policy.board_keys)}, as_json,
         f"authority in {directory}: {board_size}-member board (threshold {threshold}), "
         f"issuer {policy.issuer_key.hex()[:16]}..., genesis policy v1 signed")


@authority.command("keygen")
@click.argument("path", type=OutputPath())
@pass_context
def authority_keygen(ctx: Context, path: Path) -> None:
    """Make one Ed25519 key (a board member's, an inspector's) on this machine.

    Writes PATH (PKCS#8 PEM, 0600, encrypted with --passphrase-env) and
    PATH.pub (OpenSSH); never overwrites.

    Example: openheg --passphrase-env PW authority keygen ~/board-member.key
    """
    key = SigningKey.generate()
    key.save(path, ctx.passphrase)
    click.echo(f"key {key.public_key.hex()} written to {path} (public half {path}.pub)")


@authority.command("show")
@authority_option
@json_option
def authority_show(authority_dir: Path, as_json: bool) -> None:
    """Check the policy chain from genesis and show the policy in force.

    Example: openheg authority show --authority auth/ --json
    """
    auth = Authority(authority_dir)
    policies = auth.policies()
    policy = auth.policy_in_force()
    data = {"policy_versions": [p.policy_version for p in policies], **describe(policy)}
    emit(data, as_json, f"{authority_dir}: {len(policies)} policies, chain valid; in force "
         f"v{policy.policy_version}: board {policy.board_threshold} of "
         f"{len(policy.board_keys)}, F today {format_sflop(data['thresholds']['frontier_msflop'])}"
         f", H today {format_sflop(data['thresholds']['horizon_msflop'])}")


@authority.command("beacon")
@click.argument("urls", nargs=-1, required=True)
@authority_option
@click.option("--key", "key_name", default="time", show_default=True,
              help="Name of the time authority's key in the authority's keys/.")
@pass_context
def authority_beacon(ctx: Context, urls: tuple[str, ...], authority_dir: Path,
                     key_name: str) -> None:
    """Send each device a fresh signed time beacon (answering its own nonce).

    Example: openheg authority beacon emu://chip0 emu://chip1 --authority auth/
    """
    key = Authority(authority_dir).key(key_name, ctx.passphrase)
    for i, url in enumerate(urls, 1):
        device = ctx.device(url)
        info = device.info()
        beacon = time_beacon(key, device_id=info.device_id, device_nonce=device.time_nonce())
        device.time_beacon(beacon)
        progress(f"[{i}/{len(urls)}] {url}: time set to {beacon.unix_time}")


# ==================================================================== board
