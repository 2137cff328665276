"""openheg CLI: the board commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    License,
    Order,
    OutputPath,
    Path,
    Policy,
    Proposal,
    Share,
    SigningKey,
    VoteError,
    authority_option,
    check_license_signatures,
    check_order_signatures,
    check_policy_update,
    cli,
    click,
    combine,
    license_cosigners,
    load_record,
    pass_context,
    sign_proposal,
    write_file,
)


@cli.group()
def board() -> None:
    """Offline votes: propose -> each signer signs on their machine -> combine -> publish.

    Proposals can be policies (board), board orders, or licenses needing
    co-signatures (inspector, board, party representatives): all use sign and
    combine here.
    """


@board.command("sign")
@click.argument("proposal_file", type=click.Path(path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(path_type=Path),
              help="Your private key file.")
@click.option("--out", required=True, type=OutputPath(), help="Share file to write.")
@pass_context
def board_sign(ctx: Context, proposal_file: Path, key_file: Path, out: Path) -> None:
    """Sign a proposal with your key; send the share back to whoever combines.

    Example: openheg board sign policy-v2.proposal.json --key ~/member.key --out alice.share
    """
    proposal = Proposal.load(proposal_file)
    share = sign_proposal(proposal, SigningKey.load(key_file, ctx.passphrase))
    share.save(out)
    click.echo(f"signed {proposal.record.what()} {proposal.digest[:16]}... as "
               f"{share.entry.signer.hex()[:16]}...; share written to {out}")


@board.command("combine")
@click.argument("proposal_file", type=click.Path(path_type=Path))
@click.argument("share_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@authority_option
@click.option("--out", required=True, type=OutputPath())
@click.option("--publish", is_flag=True, help="For a policy: also publish it in the authority.")
@click.option("--license-file", type=click.Path(path_type=Path), default=None,
              help="For an order: the license whose inspector signs a release of its "
                   "oversight reserve.")
def board_combine(proposal_file: Path, share_files: tuple[Path, ...], authority_dir: Path,
                  out: Path, publish: bool, license_file: Path | None) -> None:
    """Combine signature shares into the signed record, checking every rule.

    Duplicate, unknown or bad signers are refused by name; the result must meet
    its rule: a policy N+1 needs the current board's threshold (and the new
    board's if the board changes); a license its class's signers; an order its
    kind's signers.

    Example: openheg board combine p.json alice.share bob.share --authority auth/ \\
    --out policy-v2.bin --publish
    """
    auth = Authority(authority_dir)
    current = auth.policy_in_force()
    proposal = Proposal.load(proposal_file)
    record = proposal.record
    if license_file is not None and not isinstance(record, Order):
        raise click.UsageError(f"--license-file applies to pause and resume orders; this "
                               f"proposal is a {record.what()}")
    shares = [Share.load(p) for p in share_files]
    if isinstance(record, Policy):
        allowed = set(current.board_keys) | set(record.board_keys)
        signed = combine(proposal, shares, allowed=allowed)
        check_policy_update(current, signed)
    elif isinstance(record, License):
        signed = combine(proposal, shares, allowed=license_cosigners(current, record))
        check_license_signatures(current, signed)
    elif isinstance(record, Order):
        inspector = load_record(license_file, License).inspector_key if license_file else None
        allowed = set(current.board_keys) | ({inspector} if inspector else set())
        signed = combine(proposal, shares, allowed=allowed)
        check_order_signatures(current, signed, inspector)
    else:
        raise VoteError(f"a {record.what()} is not put to a vote")
    write_file(out, signed.to_bytes())
    message = (f"{record.what()} signed by {len(shares)} signers, rules met; written to {out}")
    if publish:
        if not isinstance(signed, Policy):
            raise VoteError("--publish applies to policies only")
        message += f"; published as {auth.publish(signed)}"
    click.echo(message)


# =================================================================== policy
