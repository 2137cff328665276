"""The `openheg` command line.

Every failure prints one line, ``openheg: error: ...``, and exits with the
code of its kind (see EXIT_CODES and the README); no traceback reaches the
user. Commands that machines read take ``--json``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import regmap, wire
from .crypto import load_public_key
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
from .roles import (
    ISSUER_KEY,
    VENDOR_KEY,
    Role,
    endorse_device,
    issue_license,
    issuer_public_key,
)
from .transport import EMULATOR_SCHEME, EmulatorTransport, default_home, open_transport
from .units import AmountError, format_sflop, parse_sflop
from .verify import verify_attestation
from .wire import DeviceState

# Exit codes, by kind of failure (documented in README.md).
EXIT_OK = 0
EXIT_NOT_TRUSTED = 1  # verification ran and the evidence must not be trusted
EXIT_USAGE = 2  # click's own code for bad command-line usage
EXIT_BAD_INPUT = 3  # a file, key or record given to the command is unusable
EXIT_DEVICE_REFUSED = 4  # the device answered and refused
EXIT_UNREACHABLE = 5  # the device or emulator could not be reached or run
EXIT_INTERNAL = 70  # a bug in openheg itself

EXIT_CODES: list[tuple[type[OpenhegError], int]] = [
    (VerificationError, EXIT_NOT_TRUSTED),
    (SignatureError, EXIT_NOT_TRUSTED),
    (RecordError, EXIT_BAD_INPUT),
    (KeyFileError, EXIT_BAD_INPUT),
    (AmountError, EXIT_BAD_INPUT),
    (DeviceError, EXIT_DEVICE_REFUSED),
    (DeviceStateError, EXIT_DEVICE_REFUSED),
    (TransportError, EXIT_UNREACHABLE),
    (EmulatorError, EXIT_UNREACHABLE),
]


def exit_code_for(error: OpenhegError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_BAD_INPUT


class Context:
    def __init__(self, home: Path, passphrase_env: str | None):
        self.home = home
        self.passphrase_env = passphrase_env

    @property
    def passphrase(self) -> bytes | None:
        if self.passphrase_env is None:
            return None
        value = os.environ.get(self.passphrase_env)
        if not value:
            raise KeyFileError(f"environment variable {self.passphrase_env} is empty or unset")
        return value.encode()

    def device(self, url: str) -> Device:
        transport = open_transport(url, self.home)
        # Closed when the command ends, error or not: an emulated chip then
        # powers off in order and keeps its unspent allowance.
        click.get_current_context().call_on_close(transport.close)
        return Device(transport)


pass_context = click.make_pass_decorator(Context)


def emit(data: dict[str, Any], as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else human)


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


def hex_bytes(text: str, size: int, what: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise RecordError(f"{what} must be hex digits") from None
    if len(value) != size:
        raise RecordError(f"{what} must be {size} bytes ({2 * size} hex digits), got {len(value)}")
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Where emulated chips keep state (default: $OPENHEG_HOME or ~/.openheg).")
@click.option("--passphrase-env", metavar="VAR", default=None,
              help="Read the private-key passphrase from environment variable VAR.")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, passphrase_env: str | None) -> None:
    """openheg: licenses, metering and attestation for governed AI accelerators.

    \b
    Example, end to end on an emulated chip:
      openheg authority create auth/ && openheg vendor create vendor/
      openheg device provision emu://chip0 --authority auth/ --vendor vendor/
      openheg license issue --authority auth/ --device emu://chip0 \\
          --workload demo --allocation 1e9 --out lic.bin
      openheg license install emu://chip0 lic.bin
      openheg device run emu://chip0 --lane FP8 --ops 2e9
      openheg attest emu://chip0 --out att.bin
    """
    ctx.obj = Context(home or default_home(), passphrase_env)


# ----------------------------------------------------------------- roles
def create_role(ctx: Context, directory: Path, filename: str, what: str) -> None:
    role = Role.create(directory, filename, ctx.passphrase)
    click.echo(f"{what} key {role.public_key.hex()} written to {directory / filename}")


@cli.group()
def authority() -> None:
    """The regulator's license issuer."""


@authority.command("create")
@click.argument("directory", type=click.Path(path_type=Path))
@pass_context
def authority_create(ctx: Context, directory: Path) -> None:
    """Make an issuer key in DIRECTORY.

    Example: openheg authority create auth/
    """
    create_role(ctx, directory, ISSUER_KEY, "issuer")


@cli.group()
def vendor() -> None:
    """The chip vendor, who endorses device keys."""


@vendor.command("create")
@click.argument("directory", type=click.Path(path_type=Path))
@pass_context
def vendor_create(ctx: Context, directory: Path) -> None:
    """Make a vendor key in DIRECTORY.

    Example: openheg vendor create vendor/
    """
    create_role(ctx, directory, VENDOR_KEY, "vendor")


# ---------------------------------------------------------------- device
@cli.group()
def device() -> None:
    """Talk to a co-processor at a URL (pyserial URL, pty path, or emu://NAME)."""


def info_json(info) -> dict[str, Any]:
    return {"state": info.state.name, "device_id": info.device_id.hex(),
            "firmware_measurement": info.firmware_measurement.hex(),
            "license_sequence": info.license_sequence, "reset_count": info.reset_count,
            "issuer_key": info.issuer_key.hex(), "vendor_key": info.vendor_key.hex()}


@device.command("info")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def device_info(ctx: Context, url: str, as_json: bool) -> None:
    """Show a device's identity and state.

    Example: openheg device info emu://chip0 --json
    """
    info = ctx.device(url).info()
    emit(info_json(info), as_json,
         f"{url}: {info.state.name.lower()}, device id {info.device_id.hex()}, "
         f"license sequence {info.license_sequence}, {info.reset_count} resets")


@device.command("provision")
@click.argument("url")
@click.option("--authority", "authority_dir", required=True, type=click.Path(path_type=Path),
              help="Authority directory whose issuer the device will trust.")
@click.option("--vendor", "vendor_dir", required=True, type=click.Path(path_type=Path),
              help="Vendor directory whose key endorses the device.")
@pass_context
def device_provision(ctx: Context, url: str, authority_dir: Path, vendor_dir: Path) -> None:
    """Factory-provision a device: it makes its key, the vendor endorses it, then it locks.

    Example: openheg device provision emu://chip0 --authority auth/ --vendor vendor/
    """
    issuer_key = issuer_public_key(authority_dir)
    vendor_role = Role.load(vendor_dir, VENDOR_KEY, ctx.passphrase)
    dev = ctx.device(url)
    device_id = dev.provision(issuer_key, vendor_role.public_key)
    dev.endorse(endorse_device(vendor_role, device_id))
    click.echo(f"{url}: provisioned, device id {device_id.hex()}")


@device.command("endorsement")
@click.argument("url")
@click.option("--out", required=True, type=click.Path(path_type=Path))
@pass_context
def device_endorsement(ctx: Context, url: str, out: Path) -> None:
    """Save the vendor endorsement a device holds (verifiers need it).

    Example: openheg device endorsement emu://chip0 --out chip0.endorsement
    """
    endorsement = ctx.device(url).read_endorsement()
    write_file(out, endorsement.to_bytes())
    click.echo(f"endorsement of {endorsement.device_id.hex()} written to {out}")


@device.command("run")
@click.argument("url")
@click.option("--lane", type=click.Choice(list(regmap.LANES), case_sensitive=False),
              required=True, help="Numeric format of the ops.")
@click.option("--ops", required=True, help="How many ops the accelerator tries to issue.")
@click.option("--ops-per-cycle", type=click.IntRange(1, 65535), default=4096, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_context
def device_run(ctx: Context, url: str, lane: str, ops: str, ops_per_cycle: int,
               as_json: bool) -> None:
    """Drive an emulated accelerator's ops through the meter (emu:// only).

    Example: openheg device run emu://chip0 --lane FP8 --ops 2e9
    """
    if not url.startswith(EMULATOR_SCHEME):
        raise TransportError("device run drives the emulated accelerator: use an emu:// URL")
    count = parse_count(ops)
    with EmulatorTransport(url, ctx.home) as transport:
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


# --------------------------------------------------------------- license
@cli.group("license")
def license_group() -> None:
    """Workload licenses."""


@license_group.command("issue")
@click.option("--authority", "authority_dir", required=True, type=click.Path(path_type=Path))
@click.option("--device", "device_url", default=None,
              help="Read the device id and next sequence from this device.")
@click.option("--device-id", default=None, help="Device id (hex) when the device is offline.")
@click.option("--sequence", type=click.IntRange(1, wire.MAX_U64), default=None,
              help="License sequence number (default: the device's last + 1).")
@click.option("--workload", required=True, help="Registered workload name.")
@click.option("--allocation", required=True, help="sFLOP this device may spend, e.g. 1e21.")
@click.option("--valid-days", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True)
@click.option("--out", required=True, type=click.Path(path_type=Path))
@pass_context
def license_issue(ctx: Context, authority_dir: Path, device_url: str | None,
                  device_id: str | None, sequence: int | None, workload: str, allocation: str,
                  valid_days: float, out: Path) -> None:
    """Issue a standard-class license for one device.

    Example: openheg license issue --authority auth/ --device emu://chip0 \\
    --workload demo --allocation 1e9 --out lic.bin
    """
    if (device_url is None) == (device_id is None):
        raise click.UsageError("give exactly one of --device and --device-id")
    allocation_msflop = parse_sflop(allocation)
    issuer = Role.load(authority_dir, ISSUER_KEY, ctx.passphrase)
    if device_url is not None:
        info = ctx.device(device_url).info()
        if info.state != DeviceState.PROVISIONED:
            raise DeviceStateError(f"{device_url} is {info.state.name.lower()}: "
                                   "provision it before issuing it a license")
        target, next_sequence = info.device_id, info.license_sequence + 1
    else:
        target, next_sequence = hex_bytes(device_id or "", wire.KEY_SIZE, "--device-id"), None
    if sequence is None and next_sequence is None:
        raise click.UsageError("--sequence is required with --device-id")
    record = issue_license(issuer, device_id=target, workload=workload,
                           sequence=sequence or next_sequence, allocation_msflop=allocation_msflop,
                           valid_days=valid_days)
    write_file(out, record.to_bytes())
    click.echo(f"license {record.license_id.hex()} (sequence {record.sequence}, "
               f"{format_sflop(allocation_msflop)}) written to {out}")


@license_group.command("install")
@click.argument("url")
@click.argument("license_file", type=click.Path(path_type=Path))
@pass_context
def license_install(ctx: Context, url: str, license_file: Path) -> None:
    """Install a license on a device; the device checks it and arms its meter.

    Example: openheg license install emu://chip0 lic.bin
    """
    record = wire.License.from_bytes(read_file(license_file))
    ctx.device(url).install_license(record)
    click.echo(f"{url}: license {record.license_id.hex()} installed")


@license_group.command("show")
@click.argument("license_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def license_show(license_file: Path, as_json: bool) -> None:
    """Decode a license file.

    Example: openheg license show lic.bin --json
    """
    record = wire.License.from_bytes(read_file(license_file))
    emit(wire.to_jsonable(record), as_json,
         f"license {record.license_id.hex()} for device {record.device_id.hex()}: "
         f"sequence {record.sequence}, {record.license_class.name.lower()}, "
         f"{format_sflop(record.allocation_msflop)}")


# ----------------------------------------------------------- attestation
@cli.command()
@click.argument("url")
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--nonce", default=None, help="64 hex digits (default: a fresh random nonce).")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def attest(ctx: Context, url: str, out: Path, nonce: str | None, as_json: bool) -> None:
    """Ask a device for a signed attestation over a fresh nonce.

    Example: openheg attest emu://chip0 --out att.bin
    """
    nonce_bytes = (hex_bytes(nonce, wire.NONCE_SIZE, "--nonce") if nonce
                   else os.urandom(wire.NONCE_SIZE))
    data = ctx.device(url).attest(nonce_bytes)
    write_file(out, data)
    emit({"attestation": str(out), "nonce": nonce_bytes.hex()}, as_json,
         f"attestation written to {out}\nnonce {nonce_bytes.hex()}")


@cli.command()
@click.argument("attestation_file", type=click.Path(path_type=Path))
@click.option("--nonce", required=True, help="The nonce you sent (64 hex digits).")
@click.option("--endorsement", "endorsement_file", required=True, type=click.Path(path_type=Path))
@click.option("--vendor-key", "vendor_keys", required=True, multiple=True,
              type=click.Path(path_type=Path), help="Trusted vendor public key (repeatable).")
@click.option("--license", "license_file", type=click.Path(path_type=Path), default=None,
              help="Check the attestation reports this license.")
@click.option("--json", "as_json", is_flag=True)
def verify(attestation_file: Path, nonce: str, endorsement_file: Path,
           vendor_keys: tuple[Path, ...], license_file: Path | None, as_json: bool) -> None:
    """Verify an attestation; exit 1 with the reason if it must not be trusted.

    Example: openheg verify att.bin --nonce HEX --endorsement chip0.endorsement \\
    --vendor-key vendor/vendor.key.pub --license lic.bin
    """
    endorsement = wire.Endorsement.from_bytes(read_file(endorsement_file))
    license_ = wire.License.from_bytes(read_file(license_file)) if license_file else None
    verified = verify_attestation(
        read_file(attestation_file), nonce=hex_bytes(nonce, wire.NONCE_SIZE, "--nonce"),
        endorsement=endorsement, vendor_keys={load_public_key(p) for p in vendor_keys},
        license=license_)
    att = verified.attestation
    data = {"verified": True, **wire.to_jsonable(att),
            "gate_state": att.gate_state.name, "gate_causes": cause_names(att.gate_causes)}
    emit(data, as_json,
         f"verified: device {att.device_id.hex()[:16]}..., consumed "
         f"{format_sflop(att.consumed_msflop)}, remaining {format_sflop(att.remaining_msflop)}, "
         f"gate {att.gate_state.name.lower()}"
         + (f" ({', '.join(cause_names(att.gate_causes)).lower()})" if att.gate_causes else ""))


def cause_names(causes: wire.GateCause) -> list[str]:
    return [cause.name for cause in wire.GateCause if cause in causes]


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"),
              show_default=True, help="Directory for keys, records and the summary.")
def demo(out: Path) -> None:
    """Run the end-to-end demo on an in-process emulated chip.

    Example: openheg demo --out out/demo
    """
    from .demo import run_demo

    run_demo(out, echo=click.echo)


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
