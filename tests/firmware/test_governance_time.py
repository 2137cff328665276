"""Trusted time against an operator who controls when each beacon arrives
(issue 9, item 10): no license computes without trusted time."""

from __future__ import annotations

from openheg import wire
from openheg.errors import DeviceStatus

from fwkit import NOW, Authority, Device, provision

S = DeviceStatus
C = wire.Command
G = wire.GateCause


def settle(dev: Device) -> None:
    dev.firmware.poll()
    dev.hal.meter.idle(1)


def licensed(authority: Authority, **window) -> tuple[Device, wire.License]:
    dev = Device()
    provision(dev, authority)
    lic = authority.license(dev.device_id, 1, **window)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    settle(dev)
    return dev, lic


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
    assert dev.run(10) == 10
    dev.advance(3600)  # beacon_max_age_s, and the drift pushes it over
    settle(dev)
    assert dev.run(10) == 0
    assert G.TIME_UNTRUSTED in dev.attest().gate_causes
    dev.sync_time()
    settle(dev)
    assert dev.run(10) == 10
    dev.power_up(sync_time=False)
    settle(dev)
    assert dev.run(10) == 0
    assert G.TIME_UNTRUSTED in dev.attest().gate_causes
    dev.sync_time()
    settle(dev)
    assert dev.run(10) == 10
