"""Metering: allowance charged ahead in chunks, exhaustion, the event log, and
consumption that never goes down across reboots and power cuts."""

from __future__ import annotations

import struct

import pytest

from openheg import regmap, wire
from openheg.errors import DeviceStatus
from openheg.series import chain_head as link
from openheg_sim.flash import Flash, PowerCut

from fwkit import FP8, Device, provision
from openheg_sim.meter_model import METERING_LATENCY_EDGES

S = DeviceStatus
C = wire.Command
ALLOCATION = 8_000_000  # 8000 FP8 ops at 1000 milli-sFLOP each
CHUNK = ALLOCATION // 8
WEIGHT = regmap.DEFAULT_WEIGHTS_MILLI["FP8"]


def licensed(authority, sequence: int = 1, allocation: int = ALLOCATION,
             flash: Flash | None = None) -> Device:
    dev = Device(flash)
    provision(dev, authority)
    lic = authority.license(dev.device_id, sequence, allocation=allocation)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    dev.license = lic
    return dev


def test_allowance_is_granted_in_chunks_until_exhausted(authority):
    dev = licensed(authority)
    limits = []
    meter = dev.hal.meter
    issued = 0
    while True:
        limits.append(meter.limit)
        step = dev.run(CHUNK // WEIGHT // 2, ops_per_cycle=1)
        issued += step
        if step == 0:
            break
    # The limit only ever rose, one chunk at a time, up to the allocation.
    assert limits == sorted(limits)
    assert max(limits) == ALLOCATION
    assert set(b - a for a, b in zip(limits, limits[1:])) <= {0, CHUNK}
    attestation = dev.attest()
    assert attestation.consumed_msflop == issued * WEIGHT
    # Past the allocation by the ops still in the metering pipeline as the gate closes.
    assert ALLOCATION <= attestation.consumed_msflop <= ALLOCATION + METERING_LATENCY_EDGES * WEIGHT
    assert attestation.remaining_msflop == 0
    assert attestation.gate_state == wire.GateState.CLOSED
    assert attestation.gate_causes == wire.GateCause.EXHAUSTED
    assert attestation.lane_ops[FP8] == issued
    assert dev.run(1000) == 0


def test_charged_total_is_in_flash_before_the_limit_rises(authority):
    """At every LIMIT commit, a device rebooted from the flash as it is at that
    instant already counts the whole new limit as consumed (charged ahead)."""
    dev = licensed(authority)
    staged = [0, 0, 0]
    checked = []
    original = dev.hal.reg_write
    limit_regs = [getattr(regmap, f"REG_LIMIT_{i}") for i in range(3)]

    def spy(offset, value):
        if offset in limit_regs:
            staged[limit_regs.index(offset)] = value
        if offset == regmap.REG_LIMIT_3:
            limit = value << 96 | staged[2] << 64 | staged[1] << 32 | staged[0]
            rebooted = Device(Flash(image=dev.flash.image()))
            checked.append((limit, rebooted.attest().consumed_msflop))
        original(offset, value)

    dev.hal.reg_write = spy
    dev.run(5000, ops_per_cycle=16)
    assert len(checked) >= 4
    for limit, durable in checked:
        assert durable >= limit


def test_exhaustion_is_logged_once_in_the_hash_chain(authority):
    dev = licensed(authority)
    dev.run(10_000, ops_per_cycle=1)
    dev.firmware.poll()
    dev.firmware.poll()
    attestation = dev.attest()

    head = bytes(32)
    head = link(head, 0x01, struct.pack("<I", 1))  # RESET, boot 1
    genesis = struct.pack("<I", 1) + authority.policy().digest
    head = link(head, 0x05, genesis)  # POLICY_INSTALLED (genesis): version, digest
    head = link(head, 0x02, dev.device_id)  # PROVISIONED
    head = link(head, 0x08, struct.pack("<Q", dev.hal.now))  # TIME_SET
    head = link(head, 0x03, dev.license.license_id + struct.pack("<Q", 1))  # LICENSE_INSTALLED
    consumed = attestation.consumed_msflop.to_bytes(16, "little")
    head = link(head, 0x04, dev.license.license_id + consumed)  # EXHAUSTED
    assert attestation.log_head == head

    dev.power_up(sync_time=False)
    assert dev.attest().log_head == link(head, 0x01, struct.pack("<I", 2))


def test_consumption_survives_reboot_and_never_goes_down(authority):
    dev = licensed(authority)
    dev.run(2500)
    before = dev.attest().consumed_msflop
    assert before == 2500 * WEIGHT
    seen = [before]
    for _ in range(3):
        dev.power_up()  # the meter's accumulator restarts at 0
        consumed = dev.attest().consumed_msflop
        assert consumed >= seen[-1]
        seen.append(consumed)
        dev.run(700)
        consumed = dev.attest().consumed_msflop
        assert consumed == seen[-1] + 700 * WEIGHT
        seen.append(consumed)
    # Reboots never charge twice: the total stays within the allocation but for the ops in
    # flight (64 a cycle, dev.run's rate) as the gate closes on the last chunk.
    in_flight = (1 + METERING_LATENCY_EDGES) * 64 * WEIGHT
    assert dev.attest().consumed_msflop <= ALLOCATION + in_flight


def test_reboot_rearms_the_gate_of_an_active_license(authority):
    dev = licensed(authority)
    dev.power_up()
    assert dev.hal.meter.gate_enable == regmap.GATE_ENABLE_OPEN
    assert dev.run(100) == 100


def test_report_counter_resumes_past_its_reserved_block_after_a_reboot(authority):
    """Boot reserves a block of report counters durably before any is signed;
    the next boot resumes past the whole block (tests/firmware/test_attest_wear.py
    cuts power at every point)."""
    dev = licensed(authority)
    counters = [dev.attest().report_counter for _ in range(3)]
    assert counters == [1, 2, 3]
    dev.power_up()
    assert dev.attest().report_counter == wire.REPORT_COUNTER_BLOCK + 1


@pytest.mark.parametrize("cut", range(1, 7))
def test_power_cut_during_metering_never_refunds(authority, cut):
    dev = licensed(authority)
    dev.run(1200, ops_per_cycle=1)
    dev.flash.cut_after(cut)
    try:
        dev.run(4000, ops_per_cycle=1)
    except PowerCut:
        pass
    else:
        pytest.fail("the run should have needed more flash writes than the cut allows")
    metered = dev.hal.meter.acc  # what the hardware let through this boot
    dev.power_up()
    consumed = dev.attest().consumed_msflop
    assert consumed >= metered - METERING_LATENCY_EDGES * WEIGHT  # the ops in the pipeline
    assert dev.info().license_sequence == 1


@pytest.mark.parametrize("cut", [1, 2])
def test_power_cut_during_install_keeps_old_or_new_license(authority, cut):
    dev = licensed(authority)
    image = dev.flash.image()
    dev = Device(Flash(image=image))
    dev.authority = authority
    dev.sync_time()
    dev.flash.cut_after(cut)
    newer = authority.license(dev.device_id, 2)
    with pytest.raises(PowerCut):
        dev.request(C.INSTALL_LICENSE, newer.to_bytes())
    dev.power_up()
    info = dev.info()
    assert info.state == wire.DeviceState.PROVISIONED
    assert info.license_sequence in (1, 2)
    # And the device still works: the newer license installs (or is already there).
    status = dev.status_of(C.INSTALL_LICENSE, newer.to_bytes())
    assert status == (S.OK if info.license_sequence == 1 else S.REPLAYED)
    assert dev.info().license_sequence == 2


def _shutdown(dev: Device) -> int:
    edges = 0
    while not dev.firmware.shutdown():
        dev.hal.meter.idle(1)
        edges += 1
        assert edges < 5
    return edges


def test_orderly_shutdown_settles_exactly_and_forfeits_nothing(authority):
    dev = licensed(authority)
    dev.run(2500)
    consumed = dev.attest().consumed_msflop
    assert _shutdown(dev) == 1  # the gate decision is registered: one edge to close
    assert not dev.hal.meter.enable
    assert dev.status_of(C.INFO) == S.WRONG_STATE  # halted until the next boot
    dev.power_up()
    assert dev.attest().consumed_msflop == consumed == 2500 * WEIGHT
    # And the whole allocation stays usable across planned power cycles.
    total = 2500
    while True:
        step = dev.run(1500, ops_per_cycle=1)
        total += step
        _shutdown(dev)
        dev.power_up()
        if step < 1500:
            break
    assert ALLOCATION // WEIGHT <= total <= ALLOCATION // WEIGHT + METERING_LATENCY_EDGES


def test_shutdown_does_not_settle_while_the_gate_is_still_open(authority):
    dev = licensed(authority)
    dev.run(100)
    before = dev.flash.image()
    assert dev.firmware.shutdown() is False
    assert dev.flash.image() == before
    assert dev.hal.meter.gate_enable == regmap.GATE_ENABLE_CLOSED


def test_power_cut_while_settling_keeps_the_charged_total(authority):
    dev = licensed(authority)
    dev.run(2500)
    charged = Device(Flash(image=dev.flash.image())).attest().consumed_msflop
    dev.hal.meter.write(regmap.REG_GATE, regmap.GATE_ENABLE_CLOSED)
    dev.hal.meter.idle(1)
    dev.flash.cut_after(2)
    with pytest.raises(PowerCut):
        dev.firmware.shutdown()
    dev.power_up()
    assert dev.attest().consumed_msflop >= 2500 * WEIGHT
    assert dev.attest().consumed_msflop in (2500 * WEIGHT, charged)


def test_shutdown_of_an_unlicensed_device(provisioned):
    assert provisioned.firmware.shutdown() is True
    provisioned.power_up()
    assert provisioned.info().reset_count == 2


# Review finding 6 (regression): what a replaced license consumed was signed nowhere
# but in the cumulative lane counters, and the ledger counted a license only by the
# reports made while it was in force, so L1's compute left the report, trusted.
def test_compute_under_a_license_replaced_between_collects_is_in_the_report(authority,
                                                                           tmp_path):
    from openheg.ledger import Ledger
    from openheg.report import build_report

    dev = Device()
    provision(dev, authority)
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.record_workload("w", b"W" * 16, 4 * ALLOCATION, 0, "STANDARD")
    l1 = authority.license(dev.device_id, 1, allocation=ALLOCATION)
    l2 = authority.license(dev.device_id, 2, allocation=ALLOCATION, license_id=b"L2" * 8)
    for lic in (l1, l2):
        ledger.record_license(lic)
    assert dev.status_of(C.INSTALL_LICENSE, l1.to_bytes()) == S.OK
    assert dev.run(4000) == 4000  # 4,000,000 milli-sFLOP under L1, between two collects
    assert dev.status_of(C.INSTALL_LICENSE, l2.to_bytes()) == S.OK
    assert dev.run(1000) == 1000  # 1,000,000 under L2
    ledger.record_attestation(dev.ok(C.ATTEST, b"n" * 32), received_at=dev.now)
    report = build_report(ledger, "w", authority.policy(), now=dev.now)
    assert report["trusted"]
    assert report["metered_msflop"] >= 5 * WEIGHT * 1000
