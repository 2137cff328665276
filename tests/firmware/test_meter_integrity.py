"""The meter's reset is the MCU's reset (issue 9, item 6).

A retrofit that lets the operator reset the metering block alone restarts its
accumulator below the base the firmware measures consumption from. Before the
fix the firmware counted the difference as zero: a 2,000-op license ran about
200,000 ops and its attestations reported less than ran. The firmware now reads
what a reset leaves behind in the block itself (configuration unlocked although
boot locked it, a watchdog disarmed although armed, the accumulator or a lane
counter below an earlier reading, a LIMIT it did not write) as tamper: latched
in flash, logged (EventType.TAMPER with the MeterEvidence bits), the gate
closed for good, and everything charged counted as consumed. Each adversary
move below resets or rewrites one part of the block alone between two firmware
readings, on the RTL's reference model (sim/openheg_sim/meter_model.py; a
partial reset, which the RTL's single reset cannot do, is made with the model's
fault-injection hooks)."""

from __future__ import annotations

import struct

import pytest

from openheg import regmap, wire
from openheg.errors import DeviceStatus
from openheg_sim.flash import Flash
from openheg_sim.meter_model import METERING_LATENCY_EDGES

from fwkit import FP8, Device, provision

S = DeviceStatus
C = wire.Command
E = wire.MeterEvidence
K = wire.OrderKind
WEIGHT = regmap.DEFAULT_WEIGHTS_MILLI["FP8"]
SMALL_OPS = 2_000  # the license the operator wants to overrun
EARLIER_OPS = 200_000  # what earlier licenses metered since this boot
# The ops in the metering pipeline as the gate closes, at 64 ops per cycle.
LATENCY_OPS = METERING_LATENCY_EDGES * 64


def _install(dev: Device, authority, sequence: int, ops: int) -> wire.License:
    # Each license is its own workload: the device bounds what one workload is
    # granted across licenses by its declared total (test_license_grants.py).
    lic = authority.license(dev.device_id, sequence, allocation=ops * WEIGHT,
                            workload_id=b"workload %7d" % sequence)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    return lic


def _order(dev: Device, kind: wire.OrderKind) -> None:
    dev.order_sequence = getattr(dev, "order_sequence", 0) + 1
    order = dev.authority.order(kind, dev.device_id, dev.order_sequence)
    assert dev.status_of(C.ORDER, order.to_bytes()) == S.OK


def _reopen_by_halt_and_lift(dev: Device) -> None:
    """Any legitimate close and re-open of the gate (here the board's halt and
    lift-halt orders, which Device.request sends without a metering poll in
    between) makes the firmware arm the meter again."""
    _order(dev, K.HALT)
    assert not dev.hal.meter.enable
    _order(dev, K.LIFT_HALT)


def _after_big_license(authority, **policy) -> Device:
    """A device that has metered EARLIER_OPS under a first license since it
    booted, then took a 2,000-op license."""
    if policy:
        authority.policy_overrides.update(policy)
    dev = Device()
    provision(dev, authority)
    _install(dev, authority, 1, EARLIER_OPS)
    assert dev.run(EARLIER_OPS, ops_per_cycle=4096) == EARLIER_OPS
    dev.small = _install(dev, authority, 2, SMALL_OPS)
    dev.acc_at_install = dev.hal.meter.acc
    return dev


def _tamper_events(dev: Device) -> list[tuple[int, int, int]]:
    """(GATE_CAUSE, MeterEvidence, STATUS) of each TAMPER entry among the newest."""
    total = dev.read_log(0, 0).next_index
    first = max(total - wire.MAX_LOG_ENTRIES_PER_READ, 0)
    return [struct.unpack("<III", bytes(e.payload)) for e in dev.read_log(first, 8).entries
            if e.event_type == wire.EventType.TAMPER]


def _assert_closed_for_good(dev: Device, authority, evidence: int) -> None:
    assert dev.hal.meter.gate_enable == regmap.GATE_ENABLE_CLOSED
    dev.hal.meter.idle(1)  # the gate decision is registered: it shows after one edge
    assert dev.run(10_000) == 0
    att = dev.attest()
    assert att.gate_state == wire.GateState.CLOSED
    assert att.gate_causes & wire.GateCause.TAMPER
    events = _tamper_events(dev)
    assert len(events) == 1 and events[0][1] & evidence == evidence, events
    # Latched in flash: a reboot (which resets meter and MCU together) keeps it.
    dev.power_up()
    assert dev.run(10_000) == 0
    assert dev.attest().gate_causes & wire.GateCause.TAMPER
    # And no newer license lifts it.
    dev.sync_time()
    _install(dev, authority, 3, SMALL_OPS)
    assert dev.run(10_000) == 0


def test_meter_only_reset_between_polls_yields_no_unmetered_compute(authority):
    """The reviewer's case: reset the block alone, then let the firmware open
    the gate again. Failed before the fix: 202,612 ops ran on the 2,000-op
    license and the attestation reported 2,112,000 milli-sFLOP (2,112 ops)."""
    dev = _after_big_license(authority)
    ran = dev.run(500)
    dev.hal.meter.reset()
    _reopen_by_halt_and_lift(dev)
    ran += dev.run(400_000)
    assert ran <= SMALL_OPS + LATENCY_OPS
    # What the attestation reports is never less than what ran.
    assert dev.attest().consumed_msflop >= ran * WEIGHT
    _assert_closed_for_good(dev, authority, E.CONFIG_UNLOCKED)


def test_reset_is_caught_before_the_gate_opens_not_only_at_the_next_poll(authority):
    """No metering step between the reset and the re-opening command: the check
    runs inside the gate opening itself."""
    dev = _after_big_license(authority)
    _order(dev, K.HALT)
    dev.hal.meter.reset()
    _order(dev, K.LIFT_HALT)  # re-arms; Device.request does not poll
    assert not dev.hal.meter.enable and dev.hal.meter.gate_enable == regmap.GATE_ENABLE_CLOSED
    _assert_closed_for_good(dev, authority, E.CONFIG_UNLOCKED)


def test_everything_charged_counts_as_consumed_after_a_reset(authority):
    """Ops that ran between the last reading and the reset are metered by the
    block and then lost with it: the firmware cannot know how many, so it counts
    the whole charged allowance (which bounds them) as consumed."""
    dev = _after_big_license(authority)
    dev.run(300)  # read by the firmware's metering loop
    meter = dev.hal.meter
    meter.drive(FP8, 700, 64)  # runs, but no firmware reading sees it
    ran = meter.acc - dev.acc_at_install
    meter.reset()
    dev.firmware.poll()
    charged = Device(Flash(image=dev.flash.image()), seed=dev.seed).attest().consumed_msflop
    consumed = dev.attest().consumed_msflop
    assert consumed >= ran
    assert consumed == charged


class _PartialReset:
    """Moves a retrofit with a broken reset tree could make: part of the block
    restarts while the rest (configuration, lock, limit) keeps its state."""

    @staticmethod
    def accumulator(meter) -> None:
        meter.poke_accumulator(0)

    @staticmethod
    def lane(meter) -> None:
        meter.poke_count(FP8, 0)

    @staticmethod
    def limit(meter) -> None:
        meter.write_limit(meter.limit + 10**9)


@pytest.mark.parametrize("move, evidence", [
    (_PartialReset.accumulator, E.ACCUMULATOR_BACKWARDS),
    (_PartialReset.lane, E.LANE_BACKWARDS),
    (_PartialReset.limit, E.LIMIT_CHANGED),
])
def test_partial_reset_of_the_block_is_tamper(authority, move, evidence):
    dev = _after_big_license(authority)
    assert dev.run(500) == 500
    move(dev.hal.meter)
    dev.firmware.poll()
    _assert_closed_for_good(dev, authority, evidence)


def test_a_disarmed_watchdog_is_tamper(authority):
    dev = _after_big_license(authority, watchdog_period_cycles=1_000_000)
    assert dev.hal.meter.wdog_armed
    assert dev.run(500) == 500
    dev.hal.meter.wdog_arm = regmap.WDOG_CTRL_ARM_DISARMED  # the arm register alone restarts
    dev.firmware.poll()
    _assert_closed_for_good(dev, authority, E.WATCHDOG_DISARMED)


def test_a_whole_block_reset_shows_all_its_evidence(authority):
    dev = _after_big_license(authority, watchdog_period_cycles=1_000_000)
    assert dev.run(500) == 500
    dev.hal.meter.reset()
    dev.firmware.poll()
    (_, evidence, status), = _tamper_events(dev)
    assert evidence == E.CONFIG_UNLOCKED | E.WATCHDOG_DISARMED | E.ACCUMULATOR_BACKWARDS | \
        E.LANE_BACKWARDS | E.LIMIT_CHANGED
    assert status & regmap.STATUS_CFG_LOCKED_MASK == 0


def test_an_honest_power_cycle_is_not_tamper(authority):
    """Meter and MCU reset together (a power cycle, a reboot): no evidence."""
    authority.policy_overrides["watchdog_period_cycles"] = 1_000_000
    dev = Device()
    provision(dev, authority)
    _install(dev, authority, 1, EARLIER_OPS)  # each unplanned reboot forfeits a chunk
    dev.run(500)
    for _ in range(3):
        dev.power_up()
        assert dev.run(300) == 300
    att = dev.attest()
    assert not att.gate_causes & wire.GateCause.TAMPER
    assert _tamper_events(dev) == []


def test_power_cut_while_latching_never_refunds(authority):
    """Cut power at every flash operation of the tamper latch that follows a
    reset of the block alone. After the reboot (meter and MCU reset together)
    the latch is there or not (old or new record; later commits of the same
    poll, such as the exhaustion it may reach, keep it), and the consumption
    the device reports never falls below what ran."""
    from openheg_sim.flash import PowerCut

    base = _after_big_license(authority)
    assert base.run(500) == 500
    completed = False
    latched = []
    for cut in range(1, 32):
        dev = Device(base.flash.clone(), seed=base.seed)
        dev.authority, dev.now = authority, base.now
        dev.hal.now = base.now
        dev.sync_time()
        ran = dev.run(300)
        dev.hal.meter.reset()
        dev.flash.cut_after(cut)
        try:
            dev.firmware.poll()
        except PowerCut:
            pass
        else:
            dev.flash.cancel_cut()
            completed = True
        after = Device(dev.flash.clone(), seed=base.seed)
        att = after.attest()
        assert att.consumed_msflop >= (500 + ran) * WEIGHT, f"cut {cut}: refund"
        latched.append(bool(att.gate_causes & wire.GateCause.TAMPER))
        if completed:
            break
    assert completed
    # Old record until the latch's commit is whole, the new one from then on.
    assert latched == sorted(latched) and latched[0] is False and latched[-1] is True
