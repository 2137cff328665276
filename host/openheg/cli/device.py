"""openheg CLI: the device commands (split out of one file; see __init__)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ._common import (
    AmountError,
    Authority,
    Device,
    EMULATOR_SCHEME,
    LogRead,
    NotTrusted,
    OutputPath,
    Path,
    Role,
    TransportError,
    VENDOR_KEY,
    authority_option,
    cli,
    click,
    emit,
    gate_now,
    json_option,
    open_transport,
    pass_context,
    progress,
    provision,
    regmap,
    wire,
    write_file,
)


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
        endorsement = provision(ctx.device(url, new=True), vendor_role, genesis, url=url)
        ctx.ledger.record_device(endorsement, url)
        click.echo(f"{url}: provisioned, device id {endorsement.device_id.hex()}")
        if len(urls) > 1:
            progress(f"[{i}/{len(urls)}] provisioned")


@device.command("endorsement")
@click.argument("url")
@click.option("--out", required=True, type=OutputPath())
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
    time_key = ctx.time_key()
    with open_transport(url, ctx.home, ctx.timeout, ctx.retries, False) as transport:
        device = Device(transport)
        ctx.sync_time(device, time_key)
        result = transport.chip.run(lane.upper(), count, ops_per_cycle)
        gate = "gate open" if result.gate_open else gate_now(device)
    emit({"lane": result.lane, "requested_ops": result.requested_ops,
          "issued_ops": result.issued_ops, "gate_open": result.gate_open}, as_json,
         f"{url}: issued {format_count(result.issued_ops)} of "
         f"{format_count(result.requested_ops)} {result.lane} ops; "
         + gate)


# The meter's lane counters are 128 bits wide: no run can count more ops than that.
MAX_OPS = 2**128 - 1


def parse_count(text: str) -> int:
    """A count of ops: a whole number, written plainly or in e-notation (2e9).

    Parsed as an exact decimal, so 1e400, inf and nan are refused here instead of
    overflowing a float, and 2.5e0 is refused for not being whole."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise AmountError(f"{text!r} is not a count of ops (write it like 2000000 or 2e9)") from None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        raise AmountError(f"{text!r}: a count of ops is a whole number, not negative")
    if value > MAX_OPS:
        raise AmountError(f"{text!r}: more ops than the meter's 128-bit lane counters hold "
                          f"(at most {MAX_OPS:.3e})")
    return int(value)


def format_count(count: int) -> str:
    """Counts past a trillion in e-notation: 41 digits tell a person nothing."""
    return str(count) if count < 10**12 else f"{count:.4e}"


# =================================================================== attest
