"""The real C firmware drives the real RTL: license -> meter -> exhaustion -> attestation.

The firmware (built for the host, driven through cffi) runs in a thread that
cocotb's ``bridge`` starts; each register access its HAL makes becomes an
AXI4-Lite transaction on the simulated heg_meter through a ``resume``-wrapped
coroutine, and an accelerator model drives op events into the block while
its enable output is high. The TB's scoreboard checks the RTL against the
reference model on every cycle meanwhile.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import cocotb
from cocotb.task import bridge, resume

from meter_tb import TB
from openheg import regmap, wire
from openheg.crypto import SigningKey
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus
from openheg.policy import genesis_draft
from openheg.licensing import issue_license
from openheg.roles import Role, endorse_device
from openheg.transport import Transport
from openheg.verify import verify_attestation
from openheg_sim.emulator import ChipHal
from openheg_sim.firmware import Firmware
from openheg_sim.flash import Flash
from openheg_sim.meter_model import METERING_LATENCY_EDGES

LANE = regmap.LANES.index("FP16")
OPS_PER_CYCLE = 8
ALLOCATION_MSFLOP = 1_000_000  # 1000 sFLOP: about a hundred cycles of FP16 at 8 ops/cycle
STATE_REGISTERS = (regmap.REG_GATE, regmap.REG_LIMIT_0, regmap.REG_LIMIT_1, regmap.REG_LIMIT_2,
                   regmap.REG_LIMIT_3, *(getattr(regmap, f"REG_WEIGHT_{n}") for n in regmap.LANES))


class RtlRegisters:
    """The meter's registers as the firmware's HAL sees them: bus cycles on the RTL."""

    def __init__(self, tb: TB):
        self.read = resume(tb.read)
        self.write = resume(tb.write)


class FirmwareLink(Transport):
    """A transport straight into the firmware's dispatcher, as the UART task would be."""

    url = "rtl://heg_meter"

    def __init__(self, firmware: Firmware):
        self.firmware = firmware

    def exchange(self, request: bytes) -> bytes:
        response = self.firmware.request(request)
        self.firmware.poll()
        return response


def scenario(tb: TB) -> dict:
    """Runs in the bridged thread: blocking host and firmware code, simulated hardware."""
    flash = Flash()
    registers = RtlRegisters(tb)
    drive, idle = resume(tb.drive), resume(tb.idle)
    firmware = Firmware(ChipHal(registers, flash, time.time))
    firmware.boot()
    device = Device(FirmwareLink(firmware))
    issuer = Role(Path("."), SigningKey.generate())
    vendor = Role(Path("."), SigningKey.generate())
    board, clock = SigningKey.generate(), SigningKey.generate()
    draft = genesis_draft(board_keys=[board.public_key], board_threshold=1,
                          issuer_key=issuer.public_key, time_authority_key=clock.public_key,
                          allowance_chunk_msflop=ALLOCATION_MSFLOP // 8)
    genesis = replace(draft, signatures=(wire.SignatureEntry(
        board.public_key, board.sign(draft.signing_message())),))
    device_id = device.provision(vendor.public_key, genesis)
    device.endorse(endorse_device(vendor, device_id))
    # Trusted time: the time authority answers the device's nonce.
    beacon = wire.TimeBeacon(device_id=device_id, device_nonce=device.time_nonce(),
                             unix_time=int(time.time()))
    device.time_beacon(replace(beacon, signature=clock.sign(beacon.signing_message())))

    def hardware_state() -> tuple:
        # The flash may change by the failed-attempt counter (lockout), which
        # is counted durably before signatures are checked; the license state
        # (INFO) and the meter must not.
        return tuple(registers.read(addr) for addr in STATE_REGISTERS), device.info()

    # Valid from a minute ago: the device's trusted time is an interval, and a
    # window must hold for all of it.
    start = int(time.time()) - 60
    good = issue_license(issuer.key, now=start, device_id=device_id, workload="rtl", sequence=1,
                         allocation_msflop=ALLOCATION_MSFLOP)
    rogue = issue_license(SigningKey.generate(), now=start, device_id=device_id,
                          workload="rtl", sequence=1, allocation_msflop=ALLOCATION_MSFLOP)
    other_device = issue_license(issuer.key, now=start, device_id=bytes(32), workload="rtl", sequence=1,
                                 allocation_msflop=ALLOCATION_MSFLOP)
    forged = replace(good, allocation_msflop=ALLOCATION_MSFLOP * 10,  # signature now stale
                     workload_total_msflop=ALLOCATION_MSFLOP * 10)
    refusals = {}
    before = hardware_state()
    for name, payload in (("rogue", rogue.to_bytes()), ("other", other_device.to_bytes()),
                          ("forged", forged.to_bytes()), ("truncated", good.to_bytes()[:-1]),
                          ("padded", good.to_bytes() + b"\x00")):
        try:
            device.call(wire.Command.INSTALL_LICENSE, payload)
        except DeviceError as error:
            refusals[name] = DeviceStatus(error.status).name
        assert hardware_state() == before, f"refused license {name} changed meter or state"

    device.install_license(good)
    try:
        device.install_license(good)
    except DeviceError as error:
        refusals["replayed"] = DeviceStatus(error.status).name

    issued, grants = 0, 0
    while True:
        issued += drive(LANE, 10**9, OPS_PER_CYCLE)
        firmware.poll()
        idle(2)  # the gate decision is registered: a new grant opens it at the next edge
        if not int(tb.dut.accel_enable_o.value):
            break
        grants += 1

    nonce = os.urandom(wire.NONCE_SIZE)
    raw = device.attest(nonce)
    verified = verify_attestation(raw, nonce=nonce, endorsement=device.read_endorsement(),
                                  vendor_keys={vendor.public_key}, license=good)
    return {"refusals": refusals, "issued": issued, "grants": grants,
            "attestation": verified.attestation}


@cocotb.test()
async def firmware_license_to_exhaustion_on_rtl(dut):
    tb = TB(dut, seed=7)
    await tb.reset()
    result = await bridge(scenario)(tb)
    await tb.finish()

    assert result["refusals"] == {
        "rogue": "SIGNER_UNTRUSTED", "other": "WRONG_DEVICE", "forged": "SIGNATURE_INVALID",
        "truncated": "RECORD_LENGTH", "padded": "RECORD_LENGTH", "replayed": "REPLAYED"}
    att = result["attestation"]
    weight = regmap.DEFAULT_WEIGHTS_MILLI["FP16"]
    assert att.lane_ops[LANE] == result["issued"]
    assert sum(att.lane_ops) == result["issued"]
    assert att.consumed_msflop == result["issued"] * weight
    # The gate stops the accelerator at the allowance, give or take the cycle that reaches
    # it and the cycles still in the metering pipeline (CHARGE_MAX is not declared here).
    past = (1 + METERING_LATENCY_EDGES) * OPS_PER_CYCLE * weight
    assert ALLOCATION_MSFLOP <= att.consumed_msflop < ALLOCATION_MSFLOP + past
    assert att.remaining_msflop == 0
    assert att.gate_state == wire.GateState.CLOSED
    assert wire.GateCause.EXHAUSTED in att.gate_causes
    # Charge-ahead: the allowance reached the meter in several chunks, each persisted first.
    assert result["grants"] >= 3
    dut._log.info("firmware on RTL: %d ops, %d chunk grants, %d cycles scored",
                  result["issued"], result["grants"], tb.checked_cycles)
