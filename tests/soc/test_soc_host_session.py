"""The whole co-processor as RTL: the firmware image (firmware/port/rv32) on
the SoC (hdl/soc) under Verilator, every instruction executed by the PicoRV32
model, every meter register access a bus cycle on hdl/rtl/heg_meter.v, the
UART bridged bit by bit to a pty that the host library opens with pyserial.

One SoC boot runs it all (a boot and the session cost minutes of simulated
CPU): the first answer, the host session of tests/firmware/test_qemu_cm4.py
(compared with the POSIX pty server's answers), then an accelerator on the
lanes until the licensed allocation is spent: the gate closes in RTL, and the
attestation, verified by openheg.verify, shows every op the testbench issued
and the exhaustion. Finally the stack's high-water mark stays inside its
reservation.
"""

from __future__ import annotations

import os
import time

from openheg import regmap, wire
from openheg.device import Device
from openheg.transport import SerialTransport
from openheg.verify import verify_attestation
from openheg_sim.meter_model import METERING_LATENCY_EDGES
from openheg_sim.pty_device import PtyDevice
from soc_device import SocDevice, stack_bounds

from conftest import make
from fwkit import NOW, Authority, host_session

# A signature check is about 12 M cycles of the PicoRV32 (docs/soc.md); at
# about a million simulated cycles per second an exchange that checks two
# takes tens of seconds, so the host waits far longer than on a board.
EXCHANGE_TIMEOUT_S = 300
FP8 = regmap.LANES.index("FP8")
OPS_PER_CYCLE = 64
# heg_meter lets the cycle that reaches the limit and the two in its metering pipeline
# past it when CHARGE_MAX is not declared (docs/hdl/theory.md).
OVERSHOOT_CYCLES = 1 + METERING_LATENCY_EDGES
# The firmware grants the next chunk from its metering loop (every 10 ms, a
# flash commit of a few million cycles): the testbench waits this long with
# the gate closed before it calls the gate shut for good.
GRANT_WAIT_CYCLES = 20_000_000
SHUT_CYCLES = 2_000_000  # eight turns of the metering loop


def test_host_session_then_exhaustion_on_the_rtl_soc(soc_build, tmp_path):
    authority = Authority()
    with SocDevice(tmp_path / "soc.flash") as soc:
        with SerialTransport(soc.path, timeout=EXCHANGE_TIMEOUT_S) as link:
            assert Device(link).info().state == wire.DeviceState.UNPROVISIONED
        boot = soc.stats()
        started = time.monotonic()
        ours = host_session(soc.path, authority, timeout=EXCHANGE_TIMEOUT_S)
        session_s = time.monotonic() - started
        after_session = soc.stats()

        # The accelerator runs until the gate shuts it out for good.
        license_ = authority.frontier_license(ours["device_id"], sequence=1)
        fp8_weight = regmap.DEFAULT_WEIGHTS_MILLI["FP8"]
        # The oversight share is held back until its inspector releases it.
        reserve = wire.oversight_reserve_msflop(license_.allocation_msflop,
                                                license_.oversight_ppm)
        grantable = license_.allocation_msflop - reserve
        licensed_ops = grantable // fp8_weight
        issued, _ = soc.run_ops(FP8, OPS_PER_CYCLE, licensed_ops, GRANT_WAIT_CYCLES,
                                timeout=EXCHANGE_TIMEOUT_S)
        assert issued >= licensed_ops, "the firmware stopped granting before the allocation"
        # Spent: the gate stays shut through many turns of the metering loop.
        extra, enabled = soc.run_ops(FP8, OPS_PER_CYCLE, licensed_ops, SHUT_CYCLES,
                                     timeout=EXCHANGE_TIMEOUT_S)
        assert not enabled, "the gate is still open after the allocation was spent"
        issued += extra
        challenge = os.urandom(wire.NONCE_SIZE)
        with SerialTransport(soc.path, timeout=EXCHANGE_TIMEOUT_S) as link:
            device = Device(link)
            record = device.attest(challenge)
            verified = verify_attestation(record, nonce=challenge,
                                          endorsement=device.read_endorsement(),
                                          vendor_keys={authority.vendor_key}, license=license_,
                                          policy_version=2)
        final = soc.stats()
        assert soc.stop() == 0

    attestation = verified.attestation
    # Every op the testbench issued was metered, on its lane and nowhere else.
    assert attestation.lane_ops[FP8] == issued
    assert sum(attestation.lane_ops) == issued
    # The gate closed at the allocation less the oversight reserve: the
    # accelerator ran up to it, and no further than the meter's enforcement
    # latency lets ops through (OVERSHOOT_CYCLES: docs/hdl; the policy's
    # weights are the map's defaults).
    assert attestation.consumed_msflop == issued * fp8_weight
    assert attestation.oversight_reserved_msflop == reserve
    assert grantable <= attestation.consumed_msflop
    assert attestation.consumed_msflop <= grantable + OVERSHOOT_CYCLES * OPS_PER_CYCLE * fp8_weight
    assert attestation.gate_causes & wire.GateCause.EXHAUSTED
    assert attestation.gate_state != wire.GateState.OPEN
    # The RTL limiter holds the policy's link cap, loaded at the SoC's clock
    # (25 MHz) and locked (read back over the bus; docs/security.md G19).
    policy = authority.policy(2)
    assert attestation.link_clock_hz == 25_000_000
    assert attestation.link_rate == wire.link_rate_register(policy.link_wire_mb_per_s, 25_000_000)
    assert attestation.link_burst == policy.link_burst_wire_bytes
    assert not attestation.gate_causes & wire.GateCause.LINK_PENDING

    # The same answers as the firmware built for the host.
    from openheg_sim.firmware_build import firmware_measurement

    make("firmware-posix")
    with PtyDevice(tmp_path / "posix.flash", time=NOW) as server:
        theirs = host_session(server.path, Authority())
        assert server.stop() == 0
    assert ours["measurement"] == firmware_measurement()
    for key in ("refused", "log_types", "policy_version", "license_sequence", "reset_count"):
        assert ours[key] == theirs[key], key

    bottom, top = stack_bounds()
    assert 0 < final["stack_used"] < top - bottom
    cycles = after_session["cycles"] - boot["cycles"]
    print(f"\nrtl soc: first answer after {boot['cycles']:.0f} cycles ({boot['wall_s']:.2f} s); "
          f"session {cycles / 1e6:.1f} M cycles in {session_s:.1f} s "
          f"({cycles / session_s / 1e6:.2f} M cycles/s); {issued} ops to exhaustion; "
          f"stack high-water {final['stack_used']:.0f} of {top - bottom} bytes")
