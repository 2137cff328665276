"""`make demo`: DESIGN.md's "What a newcomer does", on a fleet of emulated chips.

An authority is created (a board, an issuer, a time authority, an inspector,
party representatives; a genesis policy the board signs); a fleet of chips
(the real C firmware on the meter model) is provisioned by a vendor, whose
endorsement list verifiers load; a workload is registered in the lineage
registry, classed against the Frontier threshold, split across the fleet and
licensed with the issuer's and the inspector's signatures; the chips compute
and meter; one chip hits its budget and the gate stops it; the inspector
pauses another chip and resumes it; attestations are collected, verified one
by one and as series with the event logs, and recorded in the SQLite ledger;
and a report with a plot of compute against the thresholds is written.

A step whose command the firmware does not implement yet is reported as
skipped (the device answers UNKNOWN_COMMAND); every other failure stops the
demo with its error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from . import wire
from .authority import Authority, create_vendor, load_vendor_list, provision
from .board import Proposal, check_license_signatures, combine, sign_proposal
from .device import Device
from .errors import DeviceError, DeviceStatus, OpenhegError, VerificationError
from .ledger import Ledger
from .licensing import DeviceSlot, issue_order, plan_workload, sign_order, time_beacon
from .lineage import LineageTrust, Node, Parent, Registry, Relation
from .report import write_report
from .series import LogRead
from .transport import open_transport
from .units import format_sflop
from .verify import EndorsementList, verify_attestation
from .wire import OrderKind, SignerRole

MARKER = ".openheg-demo"
WORKLOAD = "demo-finetune"
# Thresholds scaled down so that a few seconds of emulated compute crosses
# the Frontier threshold: the workload needs an inspector.
FRONTIER_SFLOP = 10**9
HORIZON_SFLOP = 10**15
PLANNED_SFLOP = 4 * 10**9  # split across the fleet
# Each chunk the firmware charges ahead is one flash write: a few dozen per chip.
ALLOWANCE_CHUNK_SFLOP = 5 * 10**7
OPS_PER_CYCLE = 65_535


def prepare(out: Path) -> None:
    """Start from an empty directory, deleting only a previous demo's output."""
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise OpenhegError(f"{out} is not empty and not a previous demo's output: "
                               "choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("created by `openheg demo`; deleted by the next run\n")


class Skipped(Exception):
    pass


def optional(step: Callable[[], object]) -> object:
    """Run a step that needs a command the firmware may not implement yet."""
    try:
        return step()
    except DeviceError as error:
        if error.status == DeviceStatus.UNKNOWN_COMMAND:
            raise Skipped(error.command) from None
        raise


def run_demo(out: Path, chips: int = 4, echo: Callable[[str], None] = print) -> dict:
    out = Path(out)
    prepare(out)
    skipped: list[str] = []
    steps = 9

    def say(step: int, text: str) -> None:
        echo(f"[{step}/{steps}] {text}")

    # 1. The authority and its genesis policy.
    authority = Authority.create(
        out / "authority", board_size=3, board_threshold=2, inspectors=1, parties=2,
        frontier_base_msflop=FRONTIER_SFLOP * 1000, horizon_base_msflop=HORIZON_SFLOP * 1000,
        allowance_chunk_msflop=ALLOWANCE_CHUNK_SFLOP * 1000)
    policy = authority.policy_in_force()
    say(1, f"authority: board 2 of 3, issuer {policy.issuer_key.hex()[:12]}..., genesis policy "
        f"v1; F today {format_sflop(policy.frontier_msflop(_today()))}")

    # 2. The vendor provisions the fleet.
    vendor = create_vendor(out / "vendor")
    ledger = Ledger(out / "ledger.sqlite")
    transports = [open_transport(f"emu://chip{i}", home=out) for i in range(chips)]
    devices = [Device(t) for t in transports]
    for i, device in enumerate(devices):
        ledger.record_device(provision(device, vendor, authority.genesis(), url=f"emu://chip{i}"))
    listing = EndorsementList.load([out / "vendor" / "endorsements.json"], {vendor.public_key})
    say(2, f"{chips} chips provisioned and endorsed; vendor list has "
        f"{len(load_vendor_list(out / 'vendor', vendor.public_key).endorsements)} devices")

    # 3. Lineage: the workload fine-tunes a model whose base predates the safe
    # harbor, which the Horizon signers sign; the issuer signs the registry.
    registry = Registry(trust=LineageTrust.from_policies(authority.policies()))
    registry.add(Node("legacy-corpus-model", "model", 5 * 10**20, dt.date(2020, 6, 1),
                      safe_harbor_evidence="published 2020-06 (archived paper)"))
    harbor_signers = (authority.board_member_names()[:policy.horizon_board_threshold]
                      + [f"party-{i + 1}" for i in range(len(policy.party_keys))])
    for signer in harbor_signers:
        registry.sign_safe_harbor("legacy-corpus-model", authority.key(signer))
    registry.add(Node("base-model", "model", 2 * 10**12, dt.date(2024, 3, 1),
                      (Parent("legacy-corpus-model", Relation.DISTILLED_FROM),),
                      family="demo", parameters=10**9, training_tokens=10**11))
    planned = PLANNED_SFLOP * 1000
    registry.add(Node(WORKLOAD, "run", planned, dt.datetime.now(dt.UTC).date(),
                      (Parent("base-model", Relation.FINE_TUNE_OF),)))
    registry.save(out / "lineage.json", authority.key("issuer"))
    lineage = registry.lineage(WORKLOAD)
    size = lineage.size
    say(3, f"lineage: graph size {format_sflop(size.total_msflop)} (history "
        f"{format_sflop(size.history_msflop)}, {len(size.safe_harbor_nodes)} node in safe harbor "
        f"signed by {len(harbor_signers)} Horizon signers); registry signed by the issuer")

    infos = [d.info() for d in devices]
    # 4. Time beacons from the time authority: licenses above the Frontier
    # threshold need trusted time on the device.
    time_key = authority.key("time")
    try:
        for info, device in zip(infos, devices):
            nonce = optional(device.time_nonce)
            optional(lambda: device.time_beacon(time_beacon(time_key, device_id=info.device_id,
                                                            device_nonce=nonce)))
        say(4, "time beacons signed by the time authority accepted by every chip")
    except Skipped as skip:
        skipped.append(f"time beacons ({skip})")
        say(4, f"time beacons: skipped, the firmware does not implement {skip} yet")

    # 5. License the workload across the fleet: issuer and inspector co-sign.
    plan = plan_workload(policy, workload=WORKLOAD, planned_msflop=planned,
                         lineage_msflop=lineage.history_msflop, lineage_digest=lineage.digest,
                         devices=[DeviceSlot(info.device_id, info.license_sequence + 1)
                                  for info in infos],
                         inspector_key=authority.public_key("inspector-1"))
    issuer, inspector = authority.key("issuer"), authority.key("inspector-1")
    ledger.record_workload(WORKLOAD, plan.workload_id, plan.planned_msflop, plan.lineage_msflop,
                           plan.license_class.name)
    licenses = []
    for i, draft in enumerate(plan.licenses):
        proposal = Proposal(draft, WORKLOAD)  # in real life: a file sent to each signer
        license_ = combine(proposal, [sign_proposal(proposal, issuer),
                                      sign_proposal(proposal, inspector)])
        check_license_signatures(policy, license_)
        (out / f"license-chip{i}.bin").write_bytes(license_.to_bytes())
        devices[i].install_license(license_)
        ledger.record_license(license_)
        licenses.append(license_)
    say(5, f"workload {WORKLOAD}: {plan.license_class.name.lower()} class, "
        f"{format_sflop(planned)} split into {chips} licenses signed by issuer + inspector")
    try:
        devices[0].install_license(licenses[0])
    except DeviceError as error:
        if error.status != DeviceStatus.REPLAYED:
            raise
        echo("      replaying a license is refused (REPLAYED)")
    else:
        raise OpenhegError("the device accepted a replayed license")

    # 6. Compute: chip 0 runs past its budget and its gate closes; the others
    # use half of theirs.
    chip0 = transports[0].chip
    ops_wanted = licenses[0].allocation_msflop // 1000 * 2
    result = chip0.run("FP8", ops_wanted, OPS_PER_CYCLE)
    for license_, transport in zip(licenses[1:], transports[1:]):
        transport.chip.run("FP16", license_.allocation_msflop // 1200 // 2, OPS_PER_CYCLE)
    say(6, f"chip0 issued {result.issued_ops:,} of {ops_wanted:,} FP8 ops: "
        + ("gate CLOSED by the meter (budget spent)" if not result.gate_open else "gate open"))

    # 7. The inspector pauses chip 1, which then cannot compute, and resumes it.
    if chips > 1:
        try:
            before = infos[1].order_sequences[SignerRole.INSPECTOR]
            pause = sign_order(issue_order(OrderKind.PAUSE, device_id=infos[1].device_id,
                                           sequence=before + 1,
                                           license_=licenses[1]), [inspector])
            optional(lambda: devices[1].order(pause))
            ledger.record_order(pause)
            # The gate decision is registered: it takes effect at the next meter
            # clock edge, far sooner than any host round trip on a real link.
            transports[1].chip.meter.idle(1)
            paused = transports[1].chip.run("FP16", 10_000_000, OPS_PER_CYCLE)
            resume = sign_order(issue_order(OrderKind.RESUME, device_id=infos[1].device_id,
                                            sequence=before + 2,
                                            license_=licenses[1]), [inspector])
            optional(lambda: devices[1].order(resume))
            ledger.record_order(resume)
            resumed = transports[1].chip.run("FP16", 10_000, OPS_PER_CYCLE)
            say(7, f"inspector paused chip1 ({paused.issued_ops} of 10,000,000 ops got "
                f"through) and resumed it ({resumed.issued_ops:,} ops)")
            if paused.issued_ops:
                raise OpenhegError("a paused chip computed")
        except Skipped as skip:
            skipped.append(f"inspector pause/resume ({skip})")
            say(7, f"inspector orders: skipped, the firmware does not implement {skip} yet")

    # 8. Attestations: collected, verified, series-checked with the event logs.
    verified_reports = []
    anomalies = []
    for i, device in enumerate(devices):
        nonce = os.urandom(wire.NONCE_SIZE)
        raw = device.attest(nonce)
        att = verify_attestation(raw, nonce=nonce,
                                 endorsement=listing.for_device(infos[i].device_id),
                                 vendor_keys={vendor.public_key}, license=licenses[i],
                                 authority_policy=policy, registry=registry,
                                 policy_version=policy.policy_version,
                                 endorsement_checked=True).attestation
        (out / f"attestation-chip{i}.bin").write_bytes(raw)
        ledger.record_attestation(raw)
        verified_reports.append(att)
        try:
            read = LogRead.from_page(optional(device.read_whole_log))
            conflicts = ledger.record_log(att.device_id, read, after_attestation=raw)
            if conflicts:
                raise OpenhegError(f"chip{i}: {conflicts[0]}")
        except Skipped as skip:
            if f"event logs ({skip})" not in skipped:
                skipped.append(f"event logs ({skip})")
        anomalies += [a for a in ledger.series(att.device_id.hex()).anomalies if a.severe]
    say(8, f"{chips} attestations verified (endorsement, signature, nonce, policy, license and its lineage) "
        f"and recorded; series anomalies: {len(anomalies)}")

    # 9. The report.
    written = write_report(ledger, WORKLOAD, policy, out / "report")
    report = json.loads(written["json"].read_text())
    say(9, f"report: {', '.join(str(p.relative_to(out)) for p in written.values())}")

    for transport in transports:
        transport.close()
    ledger.close()
    att0 = verified_reports[0]
    summary = {
        "chips": chips, "license_class": plan.license_class.name,
        "graph_size_msflop": size.total_msflop, "metered_msflop": report["metered_msflop"],
        "chip0": {"allocation_msflop": licenses[0].allocation_msflop,
                  "consumed_msflop": att0.consumed_msflop, "gate_state": att0.gate_state.name,
                  "gate_causes": [c.name for c in wire.GateCause if c in att0.gate_causes]},
        "trusted": report["trusted"], "skipped": skipped,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    echo(f"      chip0: {format_sflop(att0.consumed_msflop)} metered of "
         f"{format_sflop(licenses[0].allocation_msflop)}, gate {att0.gate_state.name.lower()} "
         f"({', '.join(summary['chip0']['gate_causes']).lower()})")
    echo(f"      fleet: {format_sflop(report['metered_msflop'])} metered; report "
         f"{'trusted' if report['trusted'] else 'NOT trusted'}")
    if skipped:
        echo("      skipped (firmware not there yet): " + "; ".join(skipped))
    if anomalies or not report["trusted"]:
        first = (anomalies[0].detail if anomalies else
                 next(a["detail"] for a in report["anomalies"] if a["severe"]))
        raise VerificationError(f"the demo's evidence is NOT TRUSTED ({len(anomalies)} severe "
                                f"series anomalies; first: {first})")
    return summary


def _today() -> int:
    import time

    return int(time.time()) // 86_400
