"""openheg CLI: the attest commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    EndorsementList,
    License,
    LogRead,
    NotTrusted,
    OutputPath,
    Path,
    RecordError,
    VerificationError,
    build_chain,
    cli,
    click,
    describe_gate,
    emit,
    format_sflop,
    hex_bytes,
    json_option,
    load_record,
    os,
    pass_context,
    progress,
    public_key_arg,
    read_file,
    time,
    verify_attestation,
    wire,
    write_file,
)
from .. import eat
from .license import (
    evidence_registry,
    evidence_registry_option,
)


FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["binary", "eat"]), default="binary", show_default=True,
    help="binary: the openheg attestation record; eat: the same report as an RFC 9711 EAT "
         "(COSE_Sign1 CWT, docs/eat.md).")


@cli.group()
def attest() -> None:
    """Collect and verify attestations, one at a time or as series per device."""


@attest.command("get")
@click.argument("url")
@click.option("--out", required=True, type=OutputPath())
@click.option("--nonce", default=None, help="64 hex digits (default: a fresh random nonce).")
@FORMAT_OPTION
@json_option
@pass_context
def attest_get(ctx: Context, url: str, out: Path, nonce: str | None, fmt: str,
               as_json: bool) -> None:
    """Ask a device for a signed attestation over a fresh nonce.

    Example: openheg attest get emu://chip0 --out att.bin
    """
    nonce_bytes = (hex_bytes(nonce, wire.NONCE_SIZE, "--nonce") if nonce is not None
                   else os.urandom(wire.NONCE_SIZE))
    device = ctx.device(url)
    data = device.attest_eat(nonce_bytes) if fmt == "eat" else device.attest(nonce_bytes)
    write_file(out, data)
    emit({"attestation": str(out), "nonce": nonce_bytes.hex()}, as_json,
         f"attestation written to {out}\nnonce {nonce_bytes.hex()}")


def trusted_endorsements(endorsement_file: Path | None, lists: tuple[Path, ...],
                         vendor_keys: set[bytes]) -> EndorsementList:
    listing = EndorsementList.load(lists, vendor_keys)
    if endorsement_file is not None:
        record = load_record(endorsement_file, wire.Endorsement)
        from ..verify import verify_endorsement
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
@FORMAT_OPTION
@click.option("--policy-version", type=click.IntRange(1, wire.MAX_U32), default=None,
              help="Require the device to run this policy version.")
@json_option
def attest_verify(attestation_file: Path, nonce: str, endorsement_file: Path | None,
                  lists: tuple[Path, ...], vendor_keys: tuple[str, ...],
                  license_file: Path | None, authority_dir: Path | None,
                  registry_file: Path | None, fmt: str, policy_version: int | None,
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
    if fmt == "eat":
        try:
            data = eat.attestation_from_eat(data).to_bytes()
        except RecordError as error:
            raise VerificationError(f"EAT is malformed: {error}") from None
    listing = trusted_endorsements(endorsement_file, lists, keys)
    try:
        device_id = wire.Attestation.from_bytes(data).device_id
    except RecordError as error:
        raise VerificationError(f"{attestation_file}: attestation is malformed: {error}") from None
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
         + describe_gate(att.gate_state, att.gate_causes))


def cause_names(causes: wire.GateCause) -> list[str]:
    return [cause.name for cause in wire.GateCause if cause in causes]


@attest.command("collect")
@click.argument("urls", nargs=-1, required=True)
@click.option("--endorsements", "lists", multiple=True, required=True,
              type=click.Path(path_type=Path), help="Vendor endorsement list (repeatable).")
@click.option("--vendor-key", "vendor_keys", required=True, multiple=True,
              help="Trusted vendor public key, file or hex (repeatable).")
@click.option("--policy-version", type=click.IntRange(1, wire.MAX_U32), default=None)
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
@click.option("--deadline", type=click.IntRange(1, wire.MAX_U32), default=None, metavar="SECONDS",
              help="Flag devices with no report for this long.")
@json_option
@pass_context
def attest_series(ctx: Context, deadline: int | None, as_json: bool) -> None:
    """Check every device's recorded series: counters, log chain, resets, silence.

    Exits 1 if any severe anomaly is found.

    Example: openheg attest series --deadline 86400 --json
    """
    now = int(time.time())
    ledger = ctx.recorded_ledger
    results = [ledger.series(row.device_id, now=now, deadline_s=deadline)
               for row in ledger.devices()]
    anomalies = [a for r in results for a in r.anomalies]
    emit({"devices": len(results), "anomalies": [a.to_json() for a in anomalies],
          "trusted": all(r.trusted for r in results)}, as_json,
         f"{len(results)} devices checked, {len(anomalies)} anomalies"
         + "".join(f"\n  {'SEVERE ' if a.severe else ''}{a.kind} {a.device_id[:16]}...: "
                   f"{a.detail}" for a in anomalies))
    if not all(r.trusted for r in results):
        raise NotTrusted(f"{sum(not r.trusted for r in results)} devices have severe anomalies")


# =================================================================== ledger
