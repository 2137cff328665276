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
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click

from .. import regmap, wire
from ..authority import (
    Authority,
    AuthorityError,
    create_vendor,
    endorsement_list_path,
    load_vendor_list,
    provision,
)
from ..board import (
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
from ..crypto import SigningKey, load_public_key, usable_public_key
from ..device import Device
from ..errors import (
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
from ..ledger import FLEET_ROLE, Ledger, LedgerError
from ..licensing import (
    DEFAULT_SIGNER_ROLES,
    MAX_VALID_DAYS,
    DeviceSlot,
    LicensingError,
    issue_fleet_order,
    issue_order,
    issue_revocation,
    plan_workload,
    sign_order,
    time_beacon,
)
from ..lineage import (
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
from ..policy import (
    PolicyError,
    describe,
    next_draft,
    parse_assignment,
    parse_date,
    thresholds_on,
)
from ..roles import VENDOR_KEY, Role
from ..series import ORDER_SEQUENCE_FIELDS, LogRead, build_chain
from ..transport import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    EMULATOR_SCHEME,
    default_home,
    open_transport,
)
from ..units import AmountError, format_sflop, parse_sflop
from ..verify import EndorsementList, authenticate_license, verify_attestation
from ..wire import (DeviceState, GateCause, GateState, License, LicenseClass, Order, OrderKind,
                   Policy, SignerRole, hex_bytes)

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

    def device(self, url: str, *, new: bool = False) -> Device:
        """The device at url. new: the factory step (provisioning), the one
        command that may bring a new emulated chip into being; every other
        command refuses an emu:// name that names no chip (a typo)."""
        time_key = self.time_key()  # a bad --time-from fails before the device powers up
        transport = open_transport(url, self.home, self.timeout, self.retries, new)
        # Closed when the command ends, error or not: an emulated chip then
        # powers off in order and keeps its unspent allowance.
        click.get_current_context().call_on_close(transport.close)
        device = Device(transport)
        self.sync_time(device, time_key)
        return device

    def time_key(self) -> SigningKey | None:
        """The --time-from authority's time key, or None without --time-from."""
        if self.time_from is None:
            return None
        return Authority(self.time_from).key("time", self.passphrase)

    def sync_time(self, device: Device, key: SigningKey | None) -> None:
        """With --time-from, give a provisioned device a fresh time beacon first,
        as a time-sync service beside a real device would keep doing. An emu://
        chip powers up for every command and trusted time does not survive that."""
        if key is None:
            return
        info = device.info()
        if info.state != DeviceState.PROVISIONED:
            return
        device.time_beacon(time_beacon(key, device_id=info.device_id,
                                       device_nonce=device.time_nonce()))

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = (Ledger(self.ledger_url) if self.ledger_url else
                            Ledger(self.home / "ledger.sqlite", create_folder=True))
            click.get_current_context().call_on_close(self._ledger.close)
        return self._ledger

    @property
    def recorded_ledger(self) -> Ledger:
        """The ledger for a command that only reads what was recorded: a --ledger
        file that does not exist is refused, not made empty (a mistyped path
        would otherwise read as "no devices"). The default ledger under
        $OPENHEG_HOME is made as for any command: its absence means nothing was
        recorded yet."""
        if self._ledger is None and self.ledger_url:
            self._ledger = Ledger(self.ledger_url, must_exist=True)
            click.get_current_context().call_on_close(self._ledger.close)
        return self.ledger


class _OneValuePerOption:
    """Refuse a single-valued option given more than once. Click keeps the last
    one silently, and a command must never act on part of what it was told
    (an order for the second of two --device, say). Text that is not UTF-8 is
    refused here too, before any command runs (refuse_undecodable_text)."""

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
            for param in set(order):
                refuse_undecodable_text(ctx, param, opts.get(param.name))
            return opts, rest, order

        parser.parse_args = parse_args
        return parser


def refuse_undecodable_text(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Names, URLs, notes and numbers must be UTF-8: the shell hands bytes that
    are not as lone surrogates, which no record, ledger or terminal can hold.
    File paths are exempt; the file system takes any bytes."""
    if isinstance(param.type, click.Path):
        return
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise click.UsageError(f"{param.get_error_hint(ctx)} is not valid UTF-8 text: "
                                       "give it in UTF-8", ctx) from None


class FiniteFloatRange(click.FloatRange):
    """A float range that refuses nan, inf and numbers past a float (1e400):
    click's own lets nan through every bound and reads 1e400 as inf."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class OutputPath(click.Path):
    """A file or folder the command will write: refused at once, before any
    device is touched or any record signed, when it cannot be written there (a
    folder where a file goes, a file where a folder goes, a regular file
    standing where a parent folder must be)."""

    def __init__(self, folder: bool = False):
        super().__init__(path_type=Path, file_okay=not folder, dir_okay=folder)
        self.folder = folder

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        path = super().convert(value, param, ctx)
        if path.exists() and path.is_dir() != self.folder:
            self.fail(f"{str(path)!r} is a {'file' if self.folder else 'folder'}: "
                      f"name a {'folder' if self.folder else 'file'}", param, ctx)
        for parent in Path(path).absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    self.fail(f"{str(path)!r} lies under {str(parent)!r}, which is a file, "
                              "not a folder", param, ctx)
                break
        return path


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


# Why a closed gate is closed, with what lifts it: the firmware's reasons.
GATE_REASONS: dict[GateCause, str] = {
    GateCause.NO_LICENSE: "no license is installed (openheg license install)",
    GateCause.PAUSED: "an inspector's pause is in force (a resume order lifts it)",
    GateCause.HALTED: "a board halt is in force (only a lift-halt order signed by the board "
                      "lifts it)",
    GateCause.TIME_UNTRUSTED: "the device has no fresh time beacon (send one: openheg "
                              "authority beacon URL --authority DIR)",
    GateCause.LICENSE_WINDOW: "trusted time is outside the license's validity window",
    GateCause.WEIGHTS_PENDING: "the policy's new sFLOP weights load at the next reset",
    GateCause.LICENSE_REVOKED: "the license in force is revoked",
    GateCause.LOCKED_OUT: "the device is locked out",
    GateCause.FATAL: "the meter reported a fatal fault",
    GateCause.WATCHDOG: "the meter's watchdog expired (until reset)",
    GateCause.TAMPER: "tamper was raised: closed for good",
}


def describe_gate(state: GateState, causes: GateCause) -> str:
    """The gate as a person needs it: open, or closed and why. The meter's
    EXHAUSTED bit only means its budget register is empty, which it also is
    while the firmware keeps the meter disarmed; it is named only when no other
    reason explains the closed gate, so a license with most of its compute
    left is never reported as used up."""
    if state == GateState.OPEN:
        return "gate open"
    reasons = [text for cause, text in GATE_REASONS.items() if cause in causes]
    if not reasons and GateCause.DISARMED in causes:
        reasons = ["the meter is not armed yet; no halt, pause or time problem holds it, and "
                   "the firmware arms it from the license on its next metering pass"]
    if not reasons and GateCause.EXHAUSTED in causes:
        reasons = ["the license's compute is used up (exhausted)"]
    return "gate closed: " + "; ".join(reasons or [f"causes {int(causes):#x}"])


def gate_now(device: Device) -> str:
    """The device's gate as it signs it now (an attestation over a fresh nonce),
    described: what a command that changed the device tells the person."""
    att = wire.Attestation.from_bytes(device.attest(os.urandom(wire.NONCE_SIZE)))
    return describe_gate(att.gate_state, att.gate_causes)


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
        return usable_public_key(bytes.fromhex(text), f"key {text[:8]}...")
    return load_public_key(Path(text))


def load_record(path: Path, cls: type) -> Any:
    try:
        return cls.from_bytes(read_file(path))
    except RecordError as error:  # name the file: a command may read several
        raise RecordError(f"{path}: {error}", error.kind) from None


@click.group(cls=OpenhegGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Where emulated chips and the default ledger live "
                   "(default: $OPENHEG_HOME or ~/.openheg).")
@click.option("--ledger", "ledger_url", envvar="OPENHEG_LEDGER", default=None,
              help="Ledger: an SQLite file or sqlite:/// URL, or postgresql://USER@HOST:PORT/DB "
                   "(default: HOME/ledger.sqlite; env OPENHEG_LEDGER).")
@click.option("--passphrase-env", metavar="VAR", default=None,
              help="Read private-key passphrases from environment variable VAR.")
@click.option("--timeout", type=FiniteFloatRange(min=0, min_open=True),
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
