"""The `openheg` command line: one tree for the authority, its board and
inspectors, the vendor and any verifier.

Every failure prints one line, ``openheg: error: ...``, and exits with the
code of its kind (see EXIT_CODES and the README); no traceback reaches the
user. Commands that machines read take ``--json``; commands over many devices
print progress to stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click

from . import regmap, wire
from .authority import (
    Authority,
    AuthorityError,
    create_vendor,
    endorsement_list_path,
    load_vendor_list,
    provision,
)
from .board import (
    Proposal,
    Share,
    VoteError,
    check_license_signatures,
    check_order_signatures,
    check_policy_update,
    combine,
    license_cosigners,
    sign_proposal,
)
from .crypto import SigningKey, load_public_key
from .device import Device
from .errors import (
    DeviceError,
    DeviceStateError,
    EmulatorError,
    KeyFileError,
    OpenhegError,
    RecordError,
    SignatureError,
    TransportError,
    VerificationError,
)
from .ledger import FLEET_ROLE, Ledger, LedgerError
from .licensing import (
    DEFAULT_SIGNER_ROLES,
    DeviceSlot,
    LicensingError,
    issue_fleet_order,
    issue_order,
    issue_revocation,
    plan_workload,
    sign_order,
    time_beacon,
)
from .lineage import (
    NO_LINEAGE,
    GraphSize,
    Lineage,
    LineageError,
    LineageTrust,
    Node,
    Parent,
    Registry,
    Relation,
)
from .policy import (
    PolicyError,
    describe,
    next_draft,
    parse_assignment,
    parse_date,
    thresholds_on,
)
from .roles import VENDOR_KEY, Role
from .series import ORDER_SEQUENCE_FIELDS, LogRead, build_chain
from .transport import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    EMULATOR_SCHEME,
    EmulatorTransport,
    default_home,
    open_transport,
)
from .units import AmountError, format_sflop, parse_sflop
from .verify import EndorsementList, authenticate_license, verify_attestation
from .wire import (DeviceState, License, LicenseClass, Order, OrderKind, Policy, SignerRole,
                   hex_bytes)

# Exit codes, by kind of failure (documented in README.md).
EXIT_OK = 0
EXIT_NOT_TRUSTED = 1  # verification ran and the evidence must not be trusted
EXIT_USAGE = 2  # click's own code for bad command-line usage
EXIT_BAD_INPUT = 3  # a file, key, record, vote or amount given to the command is unusable
EXIT_DEVICE_REFUSED = 4  # the device answered and refused
EXIT_UNREACHABLE = 5  # the device or emulator could not be reached or run
EXIT_LEDGER = 6  # the ledger could not be opened or written
EXIT_INTERNAL = 70  # a bug in openheg itself

EXIT_CODES: list[tuple[type[OpenhegError], int]] = [
    (VerificationError, EXIT_NOT_TRUSTED),
    (SignatureError, EXIT_NOT_TRUSTED),
    (RecordError, EXIT_BAD_INPUT),
    (KeyFileError, EXIT_BAD_INPUT),
    (AmountError, EXIT_BAD_INPUT),
    (VoteError, EXIT_BAD_INPUT),
    (PolicyError, EXIT_BAD_INPUT),
    (LineageError, EXIT_BAD_INPUT),
    (LicensingError, EXIT_BAD_INPUT),
    (AuthorityError, EXIT_BAD_INPUT),
    (DeviceError, EXIT_DEVICE_REFUSED),
    (DeviceStateError, EXIT_DEVICE_REFUSED),
    (TransportError, EXIT_UNREACHABLE),
    (EmulatorError, EXIT_UNREACHABLE),
    (LedgerError, EXIT_LEDGER),
]


def exit_code_for(error: OpenhegError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_BAD_INPUT


class NotTrusted(VerificationError):
    """A series or report whose evidence must not be trusted."""


class Context:
    def __init__(self, home: Path, passphrase_env: str | None, ledger_url: str | None,
                 timeout: float, retries: int, time_from: Path | None = None):
        self.time_from = time_from
        self.home = home
        self.passphrase_env = passphrase_env
        self.ledger_url = ledger_url
        self.timeout = timeout
        self.retries = retries
        self._ledger: Ledger | None = None

    @property
    def passphrase(self) -> bytes | None:
        if self.passphrase_env is None:
            return None
        value = os.environ.get(self.passphrase_env)
        if not value:
            raise KeyFileError(f"environment variable {self.passphrase_env} is empty or unset")
        return value.encode()

    def device(self, url: str) -> Device:
        transport = open_transport(url, self.home, self.timeout, self.retries)
        # Closed when the command ends, error or not: an emulated chip then
        # powers off in order and keeps its unspent allowance.
        click.get_current_context().call_on_close(transport.close)
        device = Device(transport)
        self.sync_time(device)
        return device

    def sync_time(self, device: Device) -> None:
        """With --time-from, give a provisioned device a fresh time beacon first,
        as a time-sync service beside a real device would keep doing. An emu://
        chip powers up for every command and trusted time does not survive that."""
        if self.time_from is None:
            return
        info = device.info()
        if info.state != DeviceState.PROVISIONED:
            return
        key = Authority(self.time_from).key("time", self.passphrase)
        device.time_beacon(time_beacon(key, device_id=info.device_id,
                                       device_nonce=device.time_nonce()))

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = (Ledger(self.ledger_url) if self.ledger_url else
                            Ledger(self.home / "ledger.sqlite", create_folder=True))
            click.get_current_context().call_on_close(self._ledger.close)
        return self._ledger


class _OneValuePerOption:
    """Refuse a single-valued option given more than once. Click keeps the last
    one silently, and a command must never act on part of what it was told
    (an order for the second of two --device, say)."""

    def make_parser(self, ctx: click.Context):
        parser = super().make_parser(ctx)  # type: ignore[misc]
        parse = parser.parse_args

        def parse_args(args: list[str]):
            opts, rest, order = parse(args)
            for param, times in Counter(order).items():
                if (isinstance(param, click.Option) and times > 1 and not param.multiple
                        and not param.count and (not param.is_flag or param.secondary_opts)):
                    raise click.UsageError(f"{param.opts[-1]} was given {times} times, and it "
                                           "takes one value: give it once (run the command "
                                           "once per value)", ctx)
            return opts, rest, order

        parser.parse_args = parse_args
        return parser


class OpenhegCommand(_OneValuePerOption, click.Command):
    pass


class OpenhegGroup(_OneValuePerOption, click.Group):
    command_class = OpenhegCommand
    group_class = type  # subgroups are OpenhegGroups too


pass_context = click.make_pass_decorator(Context)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
authority_option = click.option("--authority", "authority_dir", required=True,
                                type=click.Path(path_type=Path),
                                help="Authority directory (policies/ and keys/).")


def emit(data: Any, as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else human)


def progress(text: str) -> None:
    click.echo(text, err=True)


def read_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise KeyFileError(f"cannot read {path}: {error.strerror}") from None


def write_file(path: Path, data: bytes) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    except OSError as error:
        raise KeyFileError(f"cannot write {path}: {error.strerror}") from None


def public_key_arg(text: str) -> bytes:
    """A public key given as 64 hex digits or as a key file."""
    if len(text) == 2 * wire.KEY_SIZE and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    return load_public_key(Path(text))


def load_record(path: Path, cls: type) -> Any:
    return cls.from_bytes(read_file(path))


@click.group(cls=OpenhegGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Where emulated chips and the default ledger live "
                   "(default: $OPENHEG_HOME or ~/.openheg).")
@click.option("--ledger", "ledger_url", envvar="OPENHEG_LEDGER", default=None,
              help="Ledger: an SQLite file or sqlite:/// URL, or postgresql://USER@HOST:PORT/DB "
                   "(default: HOME/ledger.sqlite; env OPENHEG_LEDGER).")
@click.option("--passphrase-env", metavar="VAR", default=None,
              help="Read private-key passphrases from environment variable VAR.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULT_TIMEOUT_S, show_default=True,
              help="Seconds to wait for a device's answer (serial links).")
@click.option("--retries", type=click.IntRange(0, 10), default=DEFAULT_RETRIES,
              show_default=True, help="Resends after a lost or corrupted answer.")
@click.option("--time-from", type=click.Path(path_type=Path), envvar="OPENHEG_TIME_FROM",
              default=None, metavar="AUTHORITY_DIR",
              help="Send each provisioned device a fresh time beacon from this authority's "
                   "time key before the command (env OPENHEG_TIME_FROM).")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, ledger_url: str | None,
        passphrase_env: str | None, timeout: float, retries: int,
        time_from: Path | None) -> None:
    """openheg: licenses, metering and attestation for governed AI accelerators.

    \b
    Example, end to end on emulated chips:
      openheg authority create auth/ && openheg vendor create vendor/
      openheg device provision emu://chip0 --authority auth/ --vendor vendor/
      export OPENHEG_TIME_FROM=auth/   # each emu:// command is a power-up
      openheg license issue --authority auth/ --workload demo --planned 1e9 \\
          --device emu://chip0 --out lic.bin
      openheg license install emu://chip0 lic.bin
      openheg device run emu://chip0 --lane FP8 --ops 2e9
      openheg attest collect emu://chip0 --vendor-key vendor/vendor.key.pub \\
          --endorsements vendor/endorsements.json
      openheg report demo --authority auth/ --out report/
    """
    ctx.obj = Context(home or default_home(), passphrase_env, ledger_url, timeout, retries,
                      time_from)


# ================================================================ authority
@cli.group()
def authority() -> None:
    """The regulator: board, issuer, time authority, inspectors, party representatives."""


@authority.command("create")
@click.argument("directory", type=click.Path(path_type=Path))
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
@click.argument("path", type=click.Path(path_type=Path))
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
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Share file to write.")
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
@click.option("--out", required=True, type=click.Path(path_type=Path))
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
@click.option("--out", required=True, type=click.Path(path_type=Path))
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
registry_option = click.option("--registry", type=click.Path(path_type=Path),
                               default=Path("lineage.json"), show_default=True,
                               help="Lineage registry file (signed by the authority's issuer).")
lineage_authority_option = click.option(
    "--authority", "authority_dir", required=True, type=click.Path(path_type=Path),
    help="Authority directory: its policy chain says who signs the registry (the issuer) "
         "and safe harbor (the Horizon signers).")


def lineage_trust(authority: Authority) -> LineageTrust:
    authority.policy_in_force()  # the chain must verify first
    return LineageTrust.from_policies(authority.policies())


def load_registry(authority_dir: Path, registry: Path, *, missing_ok: bool = False) -> Registry:
    return Registry.load(registry, lineage_trust(Authority(authority_dir)), missing_ok=missing_ok)


def parse_parent(text: str) -> Parent:
    name, _, relation = text.rpartition(":")
    if not name:
        return Parent(text, Relation.FINE_TUNE_OF)
    try:
        return Parent(name, Relation(relation))
    except ValueError:
        raise LineageError(f"{text!r}: relation must be one of "
                           + ", ".join(r.value for r in Relation)) from None


def node_from_options(name: str, kind: str, compute: str, created: str,
                      parents: tuple[str, ...], family: str, parameters: int, tokens: int,
                      evidence: str) -> Node:
    try:
        created_date = dt.date.fromisoformat(created)
    except ValueError:
        raise LineageError(f"--created {created!r}: write YYYY-MM-DD") from None
    compute_msflop = 0 if compute in ("0", "0.0") else parse_sflop(compute)
    node = Node(name, kind, compute_msflop, created_date, tuple(parse_parent(p) for p in parents),
                evidence, family, parameters, tokens)
    node.check()
    return node


def node_options(function):
    for decorator in reversed([
        click.option("--kind", type=click.Choice(["run", "model", "dataset"]), default="model",
                     show_default=True),
        click.option("--compute", required=True, help="Its own compute in sFLOP, e.g. 3e24."),
        click.option("--created", required=True, help="Date it came to exist, YYYY-MM-DD."),
        click.option("--parent", "parents", multiple=True, metavar="NAME[:RELATION]",
                     help="fine-tune-of (default), data-generated-by, distilled-from, trained-on."),
        click.option("--family", default=""),
        click.option("--parameters", type=click.IntRange(0), default=0),
        click.option("--tokens", type=click.IntRange(0), default=0, help="Training tokens."),
        click.option("--evidence", default="",
                     help="What shows it existed before 2021-09-01: a safe-harbor claim, which "
                          "counts once the Horizon signers sign it (lineage sign-harbor)."),
    ]):
        function = decorator(function)
    return function


def describe_size(size: GraphSize) -> str:
    unproven = size.unproven_harbor_claims
    return (f"compute graph size {format_sflop(size.total_msflop)} (own/planned "
            f"{format_sflop(size.planned_msflop) if size.planned_msflop else '0'}, history "
            f"{len(size.counted_nodes)} nodes, {len(size.safe_harbor_nodes)} in safe harbor)"
            + (f"; safe harbor claimed but not signed by the Horizon signers, counted in full: "
               f"{', '.join(unproven)}" if unproven else ""))


@cli.group()
def lineage() -> None:
    """The signed registry of runs, models and data, and compute graph sizes."""


@lineage.command("add")
@click.argument("name")
@node_options
@lineage_authority_option
@registry_option
@pass_context
def lineage_add(ctx: Context, name: str, kind: str, compute: str, created: str,
                parents: tuple[str, ...], family: str, parameters: int, tokens: int,
                evidence: str, authority_dir: Path, registry: Path) -> None:
    """Register a run, model or data set with its parents; the issuer signs the registry.

    A node cannot be dated before any of its parents. A safe-harbor claim
    (--created before 2021-09-01 and --evidence) counts only once the signers
    of a Horizon license have signed it with `openheg lineage sign-harbor`.

    Example: openheg lineage add base-7b --compute 8e23 --created 2024-05-01 --family acme \\
    --authority auth/
    """
    authority = Authority(authority_dir)
    reg = Registry.load(registry, lineage_trust(authority), missing_ok=True)
    node = node_from_options(name, kind, compute, created, parents, family, parameters, tokens,
                             evidence)
    reg.add(node)
    reg.save(registry, authority.key("issuer", ctx.passphrase))
    click.echo(f"{name} registered in {registry} ({len(reg.nodes)} nodes, signed by the issuer)"
               + ("; its safe-harbor claim needs the Horizon signers: openheg lineage sign-harbor"
                  if node.claims_safe_harbor else ""))


@lineage.command("sign-harbor")
@click.argument("name")
@click.option("--key", "key_file", required=True, type=click.Path(path_type=Path),
              help="Your board member key file.")
@lineage_authority_option
@registry_option
@pass_context
def lineage_sign_harbor(ctx: Context, name: str, key_file: Path, authority_dir: Path,
                        registry: Path) -> None:
    """Sign a node's safe-harbor claim as a board member or party representative.

    Safe harbor takes compute out of a workload's size, so it needs the
    signers of a Horizon license under the policy in force: its Horizon board
    quorum and every party representative. Each signs on their own machine
    and passes the registry file on. The issuer's signature over the registry
    stays valid: it covers the nodes, not these signatures.

    Example: openheg lineage sign-harbor legacy-model --key ~/board-member.key --authority auth/
    """
    reg = load_registry(authority_dir, registry)
    key = SigningKey.load(key_file, ctx.passphrase)
    reg.sign_safe_harbor(name, key)
    reg.save(registry)  # the issuer's signature still holds: the nodes did not change
    missing = reg.harbor_missing(name)
    click.echo(f"safe-harbor claim of {name} signed by {key.public_key.hex()[:16]}...; "
               + (f"it still needs {missing}" if missing else "it is in safe harbor"))


@lineage.command("size")
@click.argument("name", required=False)
@click.option("--planned", default=None, help="Planned compute of a proposed workload (sFLOP).")
@click.option("--parent", "parents", multiple=True, metavar="NAME",
              help="Direct parent of the proposed workload (repeatable).")
@lineage_authority_option
@registry_option
@json_option
def lineage_size(name: str | None, planned: str | None, parents: tuple[str, ...],
                 authority_dir: Path, registry: Path, as_json: bool) -> None:
    """Compute graph size: a registered NAME, or a proposed workload.

    Example: openheg lineage size --planned 1e25 --parent base-7b --authority auth/ --json
    """
    if (name is None) == (planned is None):
        raise click.UsageError("give a registered NAME or --planned (with --parent)")
    if name is not None and parents:
        raise click.UsageError("--parent is for a proposed workload (--planned); a registered "
                               "NAME has its own parents")
    reg = load_registry(authority_dir, registry)
    size = (reg.node_size(name) if name is not None
            else reg.graph_size(parse_sflop(planned), parents))  # type: ignore[arg-type]
    emit(size.to_json(), as_json, describe_size(size))


@lineage.command("family-check")
@click.argument("name")
@node_options
@lineage_authority_option
@registry_option
@json_option
def lineage_family_check(name: str, kind: str, compute: str, created: str,
                         parents: tuple[str, ...], family: str, parameters: int, tokens: int,
                         evidence: str, authority_dir: Path, registry: Path,
                         as_json: bool) -> None:
    """Does a new family version need a full report (>120% of the family's best)?

    Example: openheg lineage family-check acme-v3 --family acme --compute 1e24 \\
    --created 2025-01-01 --parameters 8000000000 --tokens 2000000000000 --authority auth/
    """
    reg = load_registry(authority_dir, registry)
    node = node_from_options(name, kind, compute, created, parents, family, parameters, tokens,
                             evidence)
    result = reg.family_check(node)
    emit(result, as_json, f"{name}: {result['decision']} ({'; '.join(result['reasons'])})")


@lineage.command("check")
@lineage_authority_option
@registry_option
def lineage_check(authority_dir: Path, registry: Path) -> None:
    """Check the whole registry: signed by the issuer, every parent known, no
    cycle, no node dated before a parent, safe-harbor signatures sound.

    Example: openheg lineage check --registry lineage.json --authority auth/
    """
    reg = load_registry(authority_dir, registry)
    harbored = [n for n in reg.nodes if reg.in_safe_harbor(n)]
    unproven = [n for n, node in reg.nodes.items()
                if node.claims_safe_harbor and n not in harbored]
    click.echo(f"{registry}: {len(reg.nodes)} nodes, signed by the issuer, every parent known, "
               f"no cycle, none dated before a parent; {len(harbored)} in safe harbor"
               + (f", {len(unproven)} claims not yet signed by the Horizon signers "
                  f"({', '.join(sorted(unproven))})" if unproven else ""))


# ================================================================== license
@cli.group("license")
def license_group() -> None:
    """Workload licenses across a fleet: issue, co-sign, install, revoke."""


@license_group.command("issue")
@authority_option
@click.option("--workload", required=True, help="Workload name.")
@click.option("--planned", required=True, help="The workload's total planned sFLOP, e.g. 1e21.")
@click.option("--parent", "parents", multiple=True, metavar="NAME[:RELATION]",
              help="Lineage parent (repeatable): the workload is registered in --registry "
                   "with these parents, and its licenses bind that lineage.")
@registry_option
@click.option("--device", "device_urls", multiple=True,
              help="Device URL to license (repeatable): its id and next sequence are read.")
@click.option("--device-id", "device_ids", multiple=True, metavar="HEX:SEQUENCE",
              help="Offline device: id and the license sequence it expects (repeatable).")
@click.option("--weight", "weights", multiple=True, type=click.IntRange(1),
              help="Relative share per device, in the order given (default equal).")
@click.option("--inspector", default="inspector-1", show_default=True,
              help="Inspector key name (Frontier and Horizon classes).")
@click.option("--oversight-ppm", type=click.IntRange(0, wire.OVERSIGHT_PPM_MAX), default=None)
@click.option("--valid-days", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="License file, for a single device.")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None,
              help="Directory for one license (or proposal) per device.")
@json_option
@pass_context
def license_issue(ctx: Context, authority_dir: Path, workload: str, planned: str,
                  parents: tuple[str, ...], registry: Path, device_urls: tuple[str, ...],
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
        if not sequence.isdigit():
            raise click.UsageError("--device-id takes HEX:SEQUENCE")
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
    data = {"workload": workload, "class": plan.license_class.name,
            "graph_size_msflop": plan.graph_size_msflop, "licenses": written}
    need = ("" if plan.license_class == LicenseClass.STANDARD else
            "; proposals written: the inspector" + (", the board's Horizon quorum and every "
                                                    "party representative"
                                                    if plan.license_class == LicenseClass.HORIZON
                                                    else "") + " must sign")
    emit(data, as_json, f"workload {workload}: {plan.license_class.name.lower()} class "
         f"(graph size {format_sflop(plan.graph_size_msflop)}), {len(written)} licenses"
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
    ctx.device(url).install_license(record)
    ctx.ledger.record_license(record)
    click.echo(f"{url}: license {record.license_id.hex()} installed")


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
    row = ctx.ledger.revoke_license(hex_bytes(license_id, wire.ID_SIZE, "license id"), reason)
    click.echo(f"license {row.license_id} revoked ({reason}); stop it on device "
               f"{row.device_id[:16]}... with `openheg order issue --kind revoke`")


# ==================================================================== order
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
@click.option("--out", required=True, type=click.Path(path_type=Path))
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
        _sign_or_propose(ctx, record, f"fleet {kind}", propose, authority_dir, signers, out,
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
    _sign_or_propose(ctx, record, kind, propose, authority_dir, signers, out,
                     license_.inspector_key if license_ else None,
                     f"device {target.hex()[:16]}...")


def _sign_or_propose(ctx: Context, record: Order, kind: str, propose: bool,
                     authority_dir: Path | None, signers: tuple[str, ...], out: Path,
                     license_inspector: bytes | None, target: str) -> None:
    """Write the order as a proposal for a vote, or signed now by the
    authority's keys ``signers`` (checked as the device will check them)."""
    if propose:
        Proposal(record, f"{kind} order").save(out)
        click.echo(f"{kind} order proposed for {target}: {out}")
        return
    if not signers or authority_dir is None:
        raise click.UsageError("give --authority and --signer, or --propose")
    auth = Authority(authority_dir)
    signed = sign_order(record, [auth.key(name, ctx.passphrase) for name in signers])
    check_order_signatures(auth.policy_in_force(), signed, license_inspector)
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
    what = ("fleet " if record.fleet else "") + record.order_kind.name.lower().replace("_", "-")
    # A device that refuses (or cannot be reached) keeps no other from its
    # halt: each is tried, each refusal named, the first one's exit code returned.
    refusals: list[OpenhegError] = []
    for url in urls:
        try:
            dev = ctx.device(url)
            dev.order(record)
            ctx.ledger.record_order(record, dev.info().device_id if record.fleet else None)
        except OpenhegError as error:
            if len(urls) == 1:
                raise
            click.echo(f"{url}: {what} order not applied: {error}", err=True)
            refusals.append(error)
            continue
        click.echo(f"{url}: {what} order applied")
    if refusals:
        click.echo(f"{len(refusals)} of {len(urls)} devices did not apply the order", err=True)
        raise refusals[0]


# =================================================================== vendor
@cli.group()
def vendor() -> None:
    """The chip vendor: its key and the public list of device keys it endorsed."""


@vendor.command("create")
@click.argument("directory", type=click.Path(path_type=Path))
@pass_context
def vendor_create(ctx: Context, directory: Path) -> None:
    """Make a vendor key and an empty endorsement list in DIRECTORY.

    Example: openheg vendor create vendor/
    """
    role = create_vendor(directory, ctx.passphrase)
    click.echo(f"vendor key {role.public_key.hex()} written to {directory / VENDOR_KEY}")


@vendor.command("list")
@click.argument("directory", type=click.Path(path_type=Path))
@json_option
def vendor_list(directory: Path, as_json: bool) -> None:
    """Show the vendor's endorsement list (publish endorsements.json to verifiers).

    Example: openheg vendor list vendor/ --json
    """
    key = load_public_key(Path(directory) / (VENDOR_KEY + ".pub"))
    listing = load_vendor_list(directory, key)
    ids = sorted(k.hex() for k in listing.endorsements)
    emit({"vendor_key": key.hex(), "devices": ids, "path": str(endorsement_list_path(directory))},
         as_json, f"{len(ids)} endorsed devices in {endorsement_list_path(directory)}"
         + "".join(f"\n  {i}" for i in ids))


# =================================================================== device
@cli.group()
def device() -> None:
    """Talk to a co-processor at a URL (pyserial URL, pty path, or emu://NAME)."""


def info_json(info) -> dict[str, Any]:
    return {"state": info.state.name, "device_id": info.device_id.hex(),
            "firmware_measurement": info.firmware_measurement.hex(),
            "policy_version": info.policy_version, "license_sequence": info.license_sequence,
            "order_sequences": {role.name.lower(): value
                                for role, value in info.order_sequences.items()},
            "reset_count": info.reset_count,
            "issuer_key": info.issuer_key.hex(), "vendor_key": info.vendor_key.hex()}


@device.command("info")
@click.argument("url")
@json_option
@pass_context
def device_info(ctx: Context, url: str, as_json: bool) -> None:
    """Show a device's identity and state.

    Example: openheg device info emu://chip0 --json
    """
    info = ctx.device(url).info()
    emit(info_json(info), as_json,
         f"{url}: {info.state.name.lower()}, device id {info.device_id.hex()}, policy "
         f"v{info.policy_version}, license sequence {info.license_sequence}, "
         f"{info.reset_count} resets")


@device.command("provision")
@click.argument("urls", nargs=-1, required=True)
@authority_option
@click.option("--vendor", "vendor_dir", required=True, type=click.Path(path_type=Path),
              help="Vendor directory whose key endorses the devices.")
@pass_context
def device_provision(ctx: Context, urls: tuple[str, ...], authority_dir: Path,
                     vendor_dir: Path) -> None:
    """Factory-provision devices: each makes its key and takes the authority's
    genesis policy as its root of trust; the vendor endorses the key, adds it
    to its public list, and the device locks.

    Example: openheg device provision emu://chip0 emu://chip1 --authority auth/ --vendor vendor/
    """
    auth = Authority(authority_dir)
    auth.policy_in_force()
    genesis = auth.genesis()
    vendor_role = Role.load(vendor_dir, VENDOR_KEY, ctx.passphrase)
    for i, url in enumerate(urls, 1):
        endorsement = provision(ctx.device(url), vendor_role, genesis, url=url)
        ctx.ledger.record_device(endorsement, url)
        click.echo(f"{url}: provisioned, device id {endorsement.device_id.hex()}")
        if len(urls) > 1:
            progress(f"[{i}/{len(urls)}] provisioned")


@device.command("endorsement")
@click.argument("url")
@click.option("--out", required=True, type=click.Path(path_type=Path))
@pass_context
def device_endorsement(ctx: Context, url: str, out: Path) -> None:
    """Save the vendor endorsement a device holds.

    Example: openheg device endorsement emu://chip0 --out chip0.endorsement
    """
    endorsement = ctx.device(url).read_endorsement()
    write_file(out, endorsement.to_bytes())
    click.echo(f"endorsement of {endorsement.device_id.hex()} written to {out}")


@device.command("log")
@click.argument("url")
@json_option
@pass_context
def device_log(ctx: Context, url: str, as_json: bool) -> None:
    """Read a device's whole event log and store it in the ledger.

    Example: openheg device log emu://chip0 --json
    """
    dev = ctx.device(url)
    read = LogRead.from_page(dev.read_whole_log())
    device_id = dev.info().device_id
    conflicts = ctx.ledger.record_log(device_id, read)
    if conflicts:
        raise NotTrusted(f"{url}: event log differs from the one recorded before: {conflicts[0]}")
    emit({"device_id": device_id.hex(), "head_before": read.head_before.hex(),
          "next_index": read.next_index,
          "entries": [{"index": e.index, "event_type": e.event_type, "payload": e.payload.hex()}
                      for e in read.entries]}, as_json,
         "\n".join(f"{e.index:5d} {wire.EventType(e.event_type).name:18s} {e.payload.hex()}"
                   for e in read.entries) or "(empty log)")


@device.command("run")
@click.argument("url")
@click.option("--lane", type=click.Choice(list(regmap.LANES), case_sensitive=False),
              required=True, help="Numeric format of the ops.")
@click.option("--ops", required=True, help="How many ops the accelerator tries to issue.")
@click.option("--ops-per-cycle", type=click.IntRange(1, 65535), default=4096, show_default=True)
@json_option
@pass_context
def device_run(ctx: Context, url: str, lane: str, ops: str, ops_per_cycle: int,
               as_json: bool) -> None:
    """Drive an emulated accelerator's ops through the meter (emu:// only).

    Example: openheg --time-from auth/ device run emu://chip0 --lane FP8 --ops 2e9
    """
    if not url.startswith(EMULATOR_SCHEME):
        raise TransportError("device run drives the emulated accelerator: use an emu:// URL")
    count = parse_count(ops)
    with EmulatorTransport(url, ctx.home) as transport:
        ctx.sync_time(Device(transport))
        result = transport.chip.run(lane.upper(), count, ops_per_cycle)
    emit({"lane": result.lane, "requested_ops": result.requested_ops,
          "issued_ops": result.issued_ops, "gate_open": result.gate_open}, as_json,
         f"{url}: issued {result.issued_ops} of {result.requested_ops} {result.lane} ops; "
         + ("gate open" if result.gate_open else "gate closed"))


def parse_count(text: str) -> int:
    try:
        value = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise AmountError(f"{text!r} is not a count of ops") from None
    if value < 0 or value != int(value):
        raise AmountError(f"{text!r}: a count of ops is a whole number, not negative")
    return int(value)


# =================================================================== attest
@cli.group()
def attest() -> None:
    """Collect and verify attestations, one at a time or as series per device."""


@attest.command("get")
@click.argument("url")
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--nonce", default=None, help="64 hex digits (default: a fresh random nonce).")
@json_option
@pass_context
def attest_get(ctx: Context, url: str, out: Path, nonce: str | None, as_json: bool) -> None:
    """Ask a device for a signed attestation over a fresh nonce.

    Example: openheg attest get emu://chip0 --out att.bin
    """
    nonce_bytes = (hex_bytes(nonce, wire.NONCE_SIZE, "--nonce") if nonce
                   else os.urandom(wire.NONCE_SIZE))
    data = ctx.device(url).attest(nonce_bytes)
    write_file(out, data)
    emit({"attestation": str(out), "nonce": nonce_bytes.hex()}, as_json,
         f"attestation written to {out}\nnonce {nonce_bytes.hex()}")


def trusted_endorsements(endorsement_file: Path | None, lists: tuple[Path, ...],
                         vendor_keys: set[bytes]) -> EndorsementList:
    listing = EndorsementList.load(lists, vendor_keys)
    if endorsement_file is not None:
        record = load_record(endorsement_file, wire.Endorsement)
        from .verify import verify_endorsement
        verify_endorsement(record, vendor_keys)
        listing.add(record)
    return listing


@attest.command("verify")
@click.argument("attestation_file", type=click.Path(path_type=Path))
@click.option("--nonce", required=True, help="The nonce you sent (64 hex digits).")
@click.option("--endorsement", "endorsement_file", type=click.Path(path_type=Path),
              default=None, help="A device's endorsement record.")
@click.option("--endorsements", "lists", multiple=True, type=click.Path(path_type=Path),
              help="A vendor's endorsement list (repeatable).")
@click.option("--vendor-key", "vendor_keys", required=True, multiple=True,
              help="Trusted vendor public key, file or hex (repeatable).")
@click.option("--license", "license_file", type=click.Path(path_type=Path), default=None,
              help="Check the attestation reports this license (needs --authority).")
@click.option("--authority", "authority_dir", type=click.Path(path_type=Path), default=None,
              help="Authority directory whose policy chain authenticates --license, and "
                   "holds the policy the device must run (its version and digest).")
@evidence_registry_option
@click.option("--policy-version", type=click.IntRange(1), default=None,
              help="Require the device to run this policy version.")
@json_option
def attest_verify(attestation_file: Path, nonce: str, endorsement_file: Path | None,
                  lists: tuple[Path, ...], vendor_keys: tuple[str, ...],
                  license_file: Path | None, authority_dir: Path | None,
                  registry_file: Path | None, policy_version: int | None,
                  as_json: bool) -> None:
    """Verify one attestation; exit 1 with the reason if it must not be trusted.

    With --license, the license is first authenticated against the authority's
    policy (the checks of `openheg license verify`), then the attestation must
    report it.

    Example: openheg attest verify att.bin --nonce HEX --endorsements vendor/endorsements.json \\
    --vendor-key vendor/vendor.key.pub --license lic.bin --authority auth/
    """
    if license_file is not None and authority_dir is None:
        raise click.UsageError("--license needs --authority: a license is evidence only once "
                               "its signatures are checked against the authority's policy")
    if registry_file is not None and license_file is None:
        raise click.UsageError("--registry checks the lineage of --license: give both")
    keys = {public_key_arg(k) for k in vendor_keys}
    data = read_file(attestation_file)
    listing = trusted_endorsements(endorsement_file, lists, keys)
    try:
        device_id = wire.Attestation.from_bytes(data).device_id
    except RecordError as error:
        raise VerificationError(f"attestation is malformed: {error}") from None
    license_ = load_record(license_file, License) if license_file else None
    authority = Authority(authority_dir) if authority_dir is not None else None
    # The chain checked from genesis first (policy_in_force), then held whole: the
    # device's policy must be the one the authority published under its version.
    authority_policy = authority.policy_in_force() if authority is not None else None
    verified = verify_attestation(
        data, nonce=hex_bytes(nonce, wire.NONCE_SIZE, "--nonce"),
        endorsement=listing.for_device(device_id), vendor_keys=keys, license=license_,
        authority_policy=authority_policy if license_ is not None else None,
        policies=authority.policies() if authority is not None else None,
        registry=evidence_registry(authority_dir, registry_file) if license_ else None,
        policy_version=policy_version, endorsement_checked=True)
    att = verified.attestation
    emit({"verified": True, **wire.to_jsonable(att), "gate_state": att.gate_state.name,
          "gate_causes": cause_names(att.gate_causes)}, as_json,
         f"verified: device {att.device_id.hex()[:16]}..., policy v{att.policy_version} "
         f"(digest {att.policy_digest.hex()[:16]}...), consumed "
         f"{format_sflop(att.consumed_msflop)}, remaining {format_sflop(att.remaining_msflop)}, "
         f"gate {att.gate_state.name.lower()}"
         + (f" ({', '.join(cause_names(att.gate_causes)).lower()})" if att.gate_causes else ""))


def cause_names(causes: wire.GateCause) -> list[str]:
    return [cause.name for cause in wire.GateCause if cause in causes]


@attest.command("collect")
@click.argument("urls", nargs=-1, required=True)
@click.option("--endorsements", "lists", multiple=True, required=True,
              type=click.Path(path_type=Path), help="Vendor endorsement list (repeatable).")
@click.option("--vendor-key", "vendor_keys", required=True, multiple=True,
              help="Trusted vendor public key, file or hex (repeatable).")
@click.option("--policy-version", type=click.IntRange(1), default=None)
@click.option("--no-log", is_flag=True, help="Do not read the event logs.")
@json_option
@pass_context
def attest_collect(ctx: Context, urls: tuple[str, ...], lists: tuple[Path, ...],
                   vendor_keys: tuple[str, ...], policy_version: int | None, no_log: bool,
                   as_json: bool) -> None:
    """Attest each device over a fresh nonce, verify, read its log, record all in the ledger.

    Exits 1 if any device's attestation must not be trusted, or if what it
    brings does not fit what the ledger holds: a log that conflicts with the
    one recorded, one that does not lead to the attested head, a severe
    series anomaly (replay, rollback, fork...). The others are still collected.

    Example: openheg attest collect emu://chip0 emu://chip1 \\
    --endorsements vendor/endorsements.json --vendor-key vendor/vendor.key.pub
    """
    keys = {public_key_arg(k) for k in vendor_keys}
    listing = EndorsementList.load(lists, keys)
    results, failures = [], []
    for i, url in enumerate(urls, 1):
        dev = ctx.device(url)
        nonce = os.urandom(wire.NONCE_SIZE)
        data = dev.attest(nonce)
        try:
            device_id = wire.Attestation.from_bytes(data).device_id
            verified = verify_attestation(data, nonce=nonce,
                                          endorsement=listing.for_device(device_id),
                                          vendor_keys=keys, policy_version=policy_version,
                                          endorsement_checked=True)
        except (VerificationError, RecordError) as error:
            failures.append(f"{url}: {error}")
            progress(f"[{i}/{len(urls)}] {url}: NOT TRUSTED: {error}")
            continue
        problem = record_collected(ctx, url, dev, data, verified, read_log=not no_log)
        att = verified.attestation
        results.append({"url": url, "device_id": device_id.hex(),
                        "report_counter": att.report_counter,
                        "policy_version": att.policy_version,
                        "policy_digest": att.policy_digest.hex(),
                        "consumed_msflop": att.consumed_msflop,
                        "gate_state": att.gate_state.name,
                        "gate_causes": cause_names(att.gate_causes)})
        if problem:
            failures.append(f"{url}: {problem}")
        progress(f"[{i}/{len(urls)}] {url}: "
                 + (f"NOT TRUSTED: {problem}" if problem else
                    f"verified, consumed "
                    f"{format_sflop(att.consumed_msflop) if att.consumed_msflop else '0'}, "
                    f"gate {att.gate_state.name.lower()}"))
    emit({"collected": results, "failures": failures}, as_json,
         f"{len(results)} of {len(urls)} attestations verified and recorded")
    if failures:
        raise NotTrusted(f"{len(failures)} devices not trusted; first: {failures[0]}")


def record_collected(ctx: Context, url: str, dev: Device, data: bytes, verified,
                     read_log: bool) -> str | None:
    """Record a verified attestation and, with ``read_log``, the device's log
    read right after it. Returns what the new evidence shows to be wrong, if
    anything: a log that conflicts with the one recorded, or that does not lead
    to the attested head, or a severe series anomaly that was not there before."""
    att = verified.attestation
    device = att.device_id.hex()
    # Read before recording anything: a log read that fails (or that the link
    # withholds) must not leave a report recorded as if never read with its log.
    read = LogRead.from_page(dev.read_whole_log()) if read_log else None
    before = {(a.kind, a.detail) for a in ctx.ledger.series(device).anomalies if a.severe}
    ctx.ledger.record_device(verified.endorsement, url)
    ctx.ledger.record_attestation(data)
    if read is not None:
        conflicts = ctx.ledger.record_log(att.device_id, read, after_attestation=data)
        if conflicts:
            return conflicts[0]
        if att.log_head not in build_chain(read.entries, [read.anchor]).heads:
            return ("the event log read does not lead to the attested log head (rewritten on "
                    "the link, or the device's log forked)")
    new = [a for a in ctx.ledger.series(device).anomalies
           if a.severe and (a.kind, a.detail) not in before]
    return f"series {new[0].kind}: {new[0].detail}" if new else None


@attest.command("series")
@click.option("--deadline", type=click.IntRange(1), default=None, metavar="SECONDS",
              help="Flag devices with no report for this long.")
@json_option
@pass_context
def attest_series(ctx: Context, deadline: int | None, as_json: bool) -> None:
    """Check every device's recorded series: counters, log chain, resets, silence.

    Exits 1 if any severe anomaly is found.

    Example: openheg attest series --deadline 86400 --json
    """
    now = int(time.time())
    results = [ctx.ledger.series(row.device_id, now=now, deadline_s=deadline)
               for row in ctx.ledger.devices()]
    anomalies = [a for r in results for a in r.anomalies]
    emit({"devices": len(results), "anomalies": [a.to_json() for a in anomalies],
          "trusted": all(r.trusted for r in results)}, as_json,
         f"{len(results)} devices checked, {len(anomalies)} anomalies"
         + "".join(f"\n  {'SEVERE ' if a.severe else ''}{a.kind} {a.device_id[:16]}...: "
                   f"{a.detail}" for a in anomalies))
    if not all(r.trusted for r in results):
        raise NotTrusted(f"{sum(not r.trusted for r in results)} devices have severe anomalies")


# =================================================================== ledger
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
    counts = ctx.ledger.counts()
    emit({"url": ctx.ledger.url, "revision": ctx.ledger.schema_revision(), **counts}, as_json,
         ", ".join(f"{n} {table}" for table, n in counts.items()))


@ledger_group.command("workloads")
@json_option
@pass_context
def ledger_workloads(ctx: Context, as_json: bool) -> None:
    """Per-workload totals: planned, allocated and metered compute.

    Example: openheg ledger workloads --json
    """
    rows = []
    for w in ctx.ledger.workloads():
        usage = ctx.ledger.usage(w.workload_id)
        rows.append({"workload": w.name, "class": w.license_class,
                     "planned_msflop": w.planned_msflop, "lineage_msflop": w.lineage_msflop,
                     "allocated_msflop": sum(u.allocation_msflop for u in usage),
                     "metered_msflop": sum(ctx.ledger.metered(w.workload_id, usage).values()),
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
    rows = []
    for d in ctx.ledger.devices():
        atts = ctx.ledger.attestations(d.device_id)
        rows.append({"device_id": d.device_id, "url": d.url, "vendor_key": d.vendor_key,
                     "reports": len(atts),
                     "last_report_at": atts[-1].received_at if atts else None})
    emit(rows, as_json, "\n".join(f"{r['device_id'][:16]}... {r['url'] or ''} "
                                  f"{r['reports']} reports" for r in rows) or "no devices")


# =================================================================== report
@cli.command()
@click.argument("workload")
@authority_option
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--deadline", type=click.IntRange(1), default=None, metavar="SECONDS",
              help="Flag devices silent for this long.")
@json_option
@pass_context
def report(ctx: Context, workload: str, authority_dir: Path, out: Path, deadline: int | None,
           as_json: bool) -> None:
    """Write a workload's report: JSON, Markdown, HTML and a plot of compute
    against the Frontier and Horizon curves.

    Example: openheg report finetune --authority auth/ --out reports/
    """
    from .report import write_report

    progress(f"building report for {workload}...")
    written = write_report(ctx.ledger, workload, Authority(authority_dir).policy_in_force(), out,
                           deadline_s=deadline)
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
@cli.group()
def verifier() -> None:
    """The regulator's verifier service: attestations in over HTTP, EAR results out."""


@verifier.command("serve")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Configuration file (default: HOME/verifier.toml when it exists; "
                   "docs/verifier.md).")
@click.option("--host", default=None, help="Listen address (default 127.0.0.1: loopback only).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Listen port (default 8642).")
@pass_context
def verifier_serve(ctx: Context, config_file: Path | None, host: str | None,
                   port: int | None) -> None:
    """Serve the verifier API until interrupted (Ctrl-C).

    With no configuration it listens on 127.0.0.1 with the ledger under HOME and
    no trust anchors: every attestation is refused, saying why, until vendor keys
    and endorsement lists are configured. The global --ledger URL overrides the file's.

    Example: openheg --ledger postgresql://openheg@127.0.0.1/registry verifier serve \\
    --config verifier.toml --port 8642
    """
    from .verifier.app import serve
    from .verifier.config import VerifierConfig

    config = VerifierConfig.load(ctx.home, config_file, ledger=ctx.ledger_url, host=host,
                                 port=port)
    progress(f"openheg verifier on http://{config.host}:{config.port} "
             f"(ledger {config.ledger}, {len(config.vendor_keys)} vendor keys)")
    serve(config)


# ===================================================================== demo
@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"),
              show_default=True, help="Directory for keys, records, ledger and report.")
@click.option("--chips", type=click.IntRange(1, 64), default=4, show_default=True)
def demo(out: Path, chips: int) -> None:
    """Run the end-to-end demo on a fleet of in-process emulated chips.

    Example: openheg demo --out out/demo
    """
    from .demo import run_demo

    run_demo(out, chips=chips, echo=click.echo)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="openheg", standalone_mode=False)
    except OpenhegError as error:
        click.echo(f"openheg: error: {error}", err=True)
        return exit_code_for(error)
    except click.exceptions.Abort:
        click.echo("openheg: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"openheg: error: {error.format_message()}", err=True)
        return error.exit_code
    except Exception as error:  # a bug: still one line, with a way to see the trace
        if os.environ.get("OPENHEG_DEBUG"):
            raise
        click.echo(f"openheg: internal error: {type(error).__name__}: {error} "
                   "(set OPENHEG_DEBUG=1 for the traceback, and please report it)", err=True)
        return EXIT_INTERNAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
