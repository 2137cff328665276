"""Trusted time against an operator who controls when each beacon arrives
(issue 9, items 2 and 10): a beacon's upper bound runs from the tick its nonce
was issued, nonces expire, and no license computes without trusted time."""

from __future__ import annotations

import struct

import pytest

from openheg import wire
from openheg.errors import DeviceStatus

from fwkit import NOW, Authority, Device, power_cuts, provision

S = DeviceStatus
C = wire.Command
G = wire.GateCause
DAY = 86_400


def settle(dev: Device) -> None:
    dev.firmware.poll()
    dev.hal.meter.idle(1)


def nonce_of(dev: Device) -> bytes:
    return wire.TimeNonceResponseFormat.parse(dev.ok(C.TIME_NONCE)).device_nonce


def closed_by(dev: Device, cause: wire.GateCause) -> bool:
    return not dev.computes() and cause in dev.attest().gate_causes


def deliver_late(dev: Device, authority: Authority, delay: int) -> DeviceStatus:
    """A nonce answered at once by the time authority, its beacon delivered
    ``delay`` seconds later (the operator chooses when)."""
    nonce = nonce_of(dev)
    beacon = authority.beacon(dev.device_id, nonce, dev.hal.now)
    dev.advance(delay)
    return dev.status_of(C.TIME_BEACON, beacon.to_bytes())


def licensed(authority: Authority, **window) -> tuple[Device, wire.License]:
    dev = Device()
    provision(dev, authority)
    lic = authority.license(dev.device_id, 1, **window)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    settle(dev)
    return dev, lic


# ------------------------------------------------------------------ item 2
def test_a_beacon_withheld_for_days_cannot_stretch_the_window(authority):
    """The review's attack: the time authority answers a nonce at once, the
    operator holds the answer back for ten days and then delivers it, so that
    the device would believe it is still the day the nonce was issued."""
    dev, lic = licensed(authority, not_before=NOW - 3600, not_after=NOW + 3600)
    assert dev.computes()
    nonce = nonce_of(dev)
    prompt = authority.beacon(dev.device_id, nonce, dev.hal.now)  # signed at once
    dev.advance(10 * DAY)
    before = dev.snapshot()
    assert dev.status_of(C.TIME_BEACON, prompt.to_bytes()) == S.NONCE_EXPIRED
    assert dev.snapshot() == before
    assert closed_by(dev, G.TIME_UNTRUSTED)
    # With time that is really fresh, the window has ended.
    dev.sync_time()
    assert closed_by(dev, G.LICENSE_WINDOW)


def test_the_upper_bound_runs_from_the_nonce_not_from_the_arrival(authority):
    """A beacon delivered late but inside the nonce's lifetime: the device must
    count the whole delay as time that may have passed."""
    dev, _ = licensed(authority, not_before=NOW - 3600, not_after=NOW + 100)
    assert deliver_late(dev, authority, wire.NONCE_LIFETIME_S - 10) == S.OK
    # True time may be NOW + 290, past not_after: closed, although the beacon
    # itself says NOW.
    assert closed_by(dev, G.LICENSE_WINDOW)


def test_a_late_beacon_is_trusted_only_for_what_is_left_of_its_age(authority):
    authority.policy_overrides.update(beacon_max_age_s=600)
    dev, _ = licensed(authority, not_before=NOW - 3600, not_after=NOW + 7200)
    assert deliver_late(dev, authority, 200) == S.OK
    assert dev.computes()
    # The most that may have passed counts the reference's tolerance (wider
    # than the crystal's drift): 575 s since the nonce may be 586.5 s, inside 600.
    dev.advance(375)
    assert dev.computes()
    dev.advance(35)  # 610 s since the nonce: no trusted time any more
    assert closed_by(dev, G.TIME_UNTRUSTED)


def test_an_expired_nonce_stays_refused_and_a_fresh_one_works(authority):
    dev = Device()
    provision(dev, authority, sync_time=False)
    nonce = nonce_of(dev)
    dev.advance(wire.NONCE_LIFETIME_S + 1)
    late = authority.beacon(dev.device_id, nonce, dev.hal.now)
    assert dev.status_of(C.TIME_BEACON, late.to_bytes()) == S.NONCE_EXPIRED
    assert dev.status_of(C.TIME_BEACON, late.to_bytes()) == S.NONCE_EXPIRED
    dev.sync_time()
    assert dev.status_of(C.INSTALL_LICENSE, authority.license(dev.device_id, 1).to_bytes()) \
        == S.OK


def test_a_new_nonce_does_not_move_the_anchor_of_the_beacon_in_force(authority):
    """Asking for a nonce (anyone may) must not change the bounds the beacon
    already in force gives."""
    dev, _ = licensed(authority, not_before=NOW - 3600, not_after=NOW + 100)
    assert deliver_late(dev, authority, 150) == S.OK
    nonce_of(dev)  # a fresh nonce, never answered
    assert closed_by(dev, G.LICENSE_WINDOW)


# ------------------------------------------------------------------ item 10
def test_an_open_ended_license_needs_trusted_time_to_install(authority):
    dev = Device()
    provision(dev, authority, sync_time=False)
    timeless = authority.license(dev.device_id, 1, not_before=0, not_after=wire.MAX_U64)
    before = dev.snapshot()
    assert dev.status_of(C.INSTALL_LICENSE, timeless.to_bytes()) == S.TIME_UNTRUSTED
    assert dev.snapshot() == before


def test_an_open_ended_license_stops_when_time_cannot_be_trusted(authority):
    """No trusted time, no compute, whatever the window: a stale beacon and a
    reboot both close the gate of a license without a window."""
    dev, _ = licensed(authority, not_before=0, not_after=wire.MAX_U64)
    assert dev.computes()
    dev.advance(3600)  # beacon_max_age_s, and the drift pushes it over
    assert closed_by(dev, G.TIME_UNTRUSTED)
    dev.sync_time()
    assert dev.computes()
    dev.power_up(sync_time=False)
    assert closed_by(dev, G.TIME_UNTRUSTED)
    dev.sync_time()
    assert dev.computes()


# ------------------------------------------------------------ review finding 10
# The board's clock input (uptime) is the operator's to slow, stop or speed;
# the reference oscillator is inside the package (heg_hal.h).
E = wire.MeterEvidence
TOLERANCE = wire.REFERENCE_TOLERANCE_PPM / 1e6
WINDOW_S = wire.CLOCK_MONITOR_WINDOW_MS // 1000


def clock_tamper_latched(dev: Device) -> bool:
    """TAMPER in the attestation, and a TAMPER entry whose evidence is the clock's."""
    if wire.GateCause.TAMPER not in dev.attest().gate_causes:
        return False
    total = dev.read_log(0, 0).next_index
    first = max(total - wire.MAX_LOG_ENTRIES_PER_READ, 0)
    evidence = [struct.unpack("<III", bytes(e.payload))[1]
                for e in dev.read_log(first, 8).entries if e.event_type == wire.EventType.TAMPER]
    return any(bits & E.CLOCK_DISAGREES for bits in evidence)


def test_a_slowed_clock_cannot_stretch_the_window(authority):
    """The review's attack: the board's clock at a tenth of its rate."""
    dev, lic = licensed(authority, not_before=NOW - 3600, not_after=NOW + 3600)
    assert dev.computes()
    dev.set_clock_rates(board=0.1)
    for _ in range(30):  # 30,000 s of true time; the device's clock counts 3,000
        dev.advance(1000)
        settle(dev)
    assert dev.hal.now > lic.not_after + 7 * 3600
    assert not dev.computes()
    assert clock_tamper_latched(dev)


def test_a_clock_slowed_within_the_monitor_s_tolerance_cannot_stretch_the_window(authority):
    """Slowed by 1.5 %, less than the monitor can tell from an honest pair of
    clocks: no tamper, and the bounds still hold, since they take the most
    time the reference allows."""
    dev, lic = licensed(authority, not_before=NOW - 3600, not_after=NOW + 1000)
    dev.set_clock_rates(board=0.985)
    dev.advance(900)
    assert dev.computes()
    dev.advance(101)  # true time past not_after; uptime says 986 s
    assert closed_by(dev, G.LICENSE_WINDOW)
    assert not clock_tamper_latched(dev)


def test_a_stopped_clock_latches_tamper(authority):
    dev, lic = licensed(authority, not_before=NOW - 3600, not_after=NOW + 3600)
    dev.set_clock_rates(board=0.0)
    dev.advance(WINDOW_S - 1)
    assert dev.computes()  # not yet a whole window on the reference
    dev.advance(2)
    # One window apart is what a counter read late once looks like: the
    # next window decides (the bounds follow the reference meanwhile).
    assert dev.computes() and not clock_tamper_latched(dev)
    dev.advance(WINDOW_S)
    assert closed_by(dev, G.TAMPER) and clock_tamper_latched(dev)
    # For good: the clock running again, a reboot and a fresh beacon change nothing.
    dev.set_clock_rates(board=1.0)
    dev.power_up()
    assert closed_by(dev, G.TAMPER)


def test_a_sped_up_clock_never_opens_a_window_early_and_latches_tamper(authority):
    """Faster is conservative: the upper bound (expiry) runs ahead, which only
    shortens windows, and the lower bound (not_before) takes the least time the
    reference allows, so no license starts early. And it is tamper."""
    dev = Device()
    provision(dev, authority)
    dev.set_clock_rates(board=2.0)
    dev.advance(4)  # uptime says 8 s
    early = authority.license(dev.device_id, 1, not_before=NOW + 6, not_after=NOW + 3600)
    assert dev.status_of(C.INSTALL_LICENSE, early.to_bytes()) == S.NOT_YET_VALID
    dev.advance(3)  # 7 s: past not_before, and uptime says 14 s, a whole window
    settle(dev)
    dev.advance(6)  # uptime says 26 s: a second window, uptime ahead again
    settle(dev)
    assert clock_tamper_latched(dev)
    assert dev.status_of(C.INSTALL_LICENSE, early.to_bytes()) == S.OK
    assert closed_by(dev, G.TAMPER)


def test_a_stopped_reference_fails_closed(authority):
    dev, _ = licensed(authority, not_before=NOW - 3600, not_after=NOW + 3600)
    dev.set_clock_rates(reference=0.0)
    for _ in range(2):  # two windows on uptime
        dev.advance(WINDOW_S + 1)
        settle(dev)
    assert closed_by(dev, G.TAMPER) and clock_tamper_latched(dev)


@pytest.mark.parametrize("board, reference", [(1.0001, 0.9805), (0.9999, 1.0204)])
def test_honest_clocks_at_the_edges_of_their_tolerances_are_not_tamper(authority, board,
                                                                       reference):
    """The policy's drift (100 ppm) on the board's clock and the reference at
    the edge of its tolerance, the two apart as far as honest clocks get: no
    tamper over many windows, and the bounds still contain the true time."""
    dev, lic = licensed(authority, not_before=NOW - 3600, not_after=NOW + 2000)
    dev.set_clock_rates(board=board, reference=reference)
    for _ in range(19):
        dev.advance(100)
        settle(dev)
    assert dev.computes()  # true time NOW + 1900, well inside
    dev.advance(101)
    assert closed_by(dev, G.LICENSE_WINDOW)
    assert not clock_tamper_latched(dev)


def test_a_clock_read_late_once_is_not_tamper(authority):
    """An interrupt taken late (QEMU's SysTick when its host is busy) holds
    uptime back at the end of one window and lets it catch up in the next:
    each window disagrees, the two together agree, and that is no tamper."""
    dev, _ = licensed(authority, not_before=NOW - 3600, not_after=NOW + 3600)
    dev.advance(WINDOW_S - 1)
    dev.set_clock_rates(board=0.0)  # held back for the last second
    dev.advance(1)
    settle(dev)  # the first window: uptime a second behind
    dev.set_clock_rates(board=2.0)  # catching up
    dev.advance(1)
    dev.set_clock_rates(board=1.0)
    dev.advance(WINDOW_S - 1)
    settle(dev)  # the second: a second ahead; together they agree
    assert dev.computes()
    assert not clock_tamper_latched(dev)


def test_a_clock_slowed_every_other_window_is_still_latched(authority):
    """The operator lets every other window run honest: over the window it
    slowed and the honest one before it together, the clocks still disagree."""
    dev, _ = licensed(authority, not_before=NOW - 3600, not_after=NOW + 3600)
    for rate in (0.1, 1.0, 0.1):
        dev.set_clock_rates(board=rate)
        dev.advance(WINDOW_S + 1)
        settle(dev)
    assert clock_tamper_latched(dev)


def test_both_clocks_slowed_together_is_out_of_scope_as_the_docs_say(authority):
    """docs/security.md G9: the reference is inside the package, out of the
    operator's reach (die-level attacks are out of scope). A reference slowed
    with the board's clock, which no honest part does, stretches the window:
    this pins the assumption, it is not a guarantee."""
    dev, lic = licensed(authority, not_before=NOW - 3600, not_after=NOW + 1000)
    dev.set_clock_rates(board=0.5, reference=0.5)
    dev.advance(1500)  # true time past not_after; both clocks say 750 s
    assert dev.computes()
    assert not clock_tamper_latched(dev)


def test_power_cut_while_latching_a_tampered_clock(authority):
    """Cut power at every flash operation of the latch. The record is the old
    one or the new one; after the reboot, the clock still slowed, the monitor
    latches again within a window, and in no case does the license run past
    not_after (the bounds hold before any latch)."""
    base, lic = licensed(authority, not_before=NOW - 3600, not_after=NOW + 600)

    def slowed_for_two_windows(dev: Device) -> None:
        dev.set_clock_rates(board=0.1)
        for _ in range(2):
            dev.advance(WINDOW_S)
            dev.firmware.poll()

    latched = []
    for cut, after, _ in power_cuts(base, slowed_for_two_windows):
        after.set_clock_rates(board=0.1)  # the operator keeps it slowed
        latched.append(clock_tamper_latched(after))
        for _ in range(60):  # ten minutes of true time, past not_after
            after.advance(10)
            settle(after)
            if after.hal.now > lic.not_after:
                assert not after.computes(), f"cut {cut}: ran past not_after"
        assert clock_tamper_latched(after), f"cut {cut}: never latched"
    # Old record until the latch's commit is whole, the new one from then on.
    assert latched == sorted(latched) and latched[0] is False and latched[-1] is True
