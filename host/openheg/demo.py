"""`make demo`: one workload license end to end on an emulated chip.

An authority and a vendor are created, a chip (the real C firmware on the
meter model) is provisioned, a license is issued and installed, the
accelerator computes in three numeric formats until the licensed budget runs
out and the meter's gate stops it, and a fresh attestation is collected and
verified. A replayed license is refused along the way. The summary is printed
and written to summary.json.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from . import regmap, wire
from .device import Device
from .errors import DeviceError, DeviceStatus, OpenhegError
from .roles import ISSUER_KEY, VENDOR_KEY, Role, endorse_device, issue_license
from .transport import EmulatorTransport
from .units import format_sflop, parse_sflop
from .verify import verify_attestation

MARKER = ".openheg-demo"
CHIP = "demo-chip"
ALLOCATION_SFLOP = "1e9"
# (lane, ops the job wants to run). The last phase asks for more than is left.
WORKLOAD = (("FP16", 300_000_000), ("NF4", 200_000_000), ("FP8", 2_000_000_000))
OPS_PER_CYCLE = 4096


def prepare(out: Path) -> None:
    """Start from an empty directory, deleting only a previous demo's output."""
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise OpenhegError(f"{out} is not empty and not a previous demo's output: "
                               "choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("created by `openheg demo`; deleted by the next run\n")


def run_demo(out: Path, echo: Callable[[str], None] = print) -> dict:
    out = Path(out)
    prepare(out)
    issuer = Role.create(out / "authority", ISSUER_KEY)
    vendor = Role.create(out / "vendor", VENDOR_KEY)
    echo(f"[1/6] authority issuer {issuer.public_key.hex()[:16]}..., "
         f"vendor {vendor.public_key.hex()[:16]}...")

    transport = EmulatorTransport(f"emu://{CHIP}", home=out)
    chip = transport.chip
    device = Device(transport)
    device_id = device.provision(issuer.public_key, vendor.public_key)
    device.endorse(endorse_device(vendor, device_id))
    info = device.info()
    echo(f"[2/6] provisioned emu://{CHIP}: device id {device_id.hex()[:16]}..., "
         f"firmware {info.firmware_measurement.hex()[:16]}...")

    allocation = parse_sflop(ALLOCATION_SFLOP)
    license_ = issue_license(issuer, device_id=device_id, workload="demo-finetune",
                             sequence=info.license_sequence + 1, allocation_msflop=allocation)
    (out / "license.bin").write_bytes(license_.to_bytes())
    device.install_license(license_)
    echo(f"[3/6] license {license_.license_id.hex()[:16]}... installed: "
         f"{format_sflop(allocation)} for workload demo-finetune")
    try:
        device.install_license(license_)
    except DeviceError as error:
        if error.status != DeviceStatus.REPLAYED:
            raise
        echo(f"      replaying it is refused: {error}")
    else:
        raise OpenhegError("the device accepted a replayed license")

    phases = []
    for lane, ops in WORKLOAD:
        result = chip.run(lane, ops, OPS_PER_CYCLE)
        phases.append({"lane": lane, "requested_ops": ops, "issued_ops": result.issued_ops,
                       "gate_open_after": result.gate_open})
        echo(f"[4/6] accelerator {lane}: issued {result.issued_ops:,} of {ops:,} ops, "
             + ("gate open" if result.gate_open else "gate CLOSED by the meter"))
        if not result.gate_open:
            break

    nonce = os.urandom(wire.NONCE_SIZE)
    raw = device.attest(nonce)
    (out / "attestation.bin").write_bytes(raw)
    endorsement = device.read_endorsement()
    verified = verify_attestation(raw, nonce=nonce, endorsement=endorsement,
                                  vendor_keys={vendor.public_key}, license=license_)
    att = verified.attestation
    echo("[5/6] attestation verified: vendor endorsement, device signature, nonce, license binding")

    causes = [cause.name for cause in wire.GateCause if cause in att.gate_causes]
    summary = {
        "device_id": att.device_id.hex(),
        "license_id": license_.license_id.hex(),
        "allocation_msflop": allocation,
        "consumed_msflop": att.consumed_msflop,
        "remaining_msflop": att.remaining_msflop,
        "overshoot_msflop": max(att.consumed_msflop - allocation, 0),
        "lane_ops": dict(zip(regmap.LANES, att.lane_ops)),
        "gate_state": att.gate_state.name,
        "gate_causes": causes,
        "report_counter": att.report_counter,
        "phases": phases,
        "meter_cycles": chip.meter.cycle,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    transport.close()
    echo("[6/6] summary")
    echo(f"      allocation  {format_sflop(allocation)}")
    echo(f"      consumed    {format_sflop(att.consumed_msflop)} "
         f"(past the limit by {format_sflop(summary['overshoot_msflop'])}: "
         "ops already in flight in the cycle the gate closed)")
    echo("      ops         " + ", ".join(f"{lane} {ops:,}" for lane, ops
                                          in summary["lane_ops"].items() if ops))
    echo(f"      gate        {att.gate_state.name.lower()} ({', '.join(causes).lower()})")
    echo(f"      written     {out}/summary.json, license.bin, attestation.bin")
    return summary
