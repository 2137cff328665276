"""Power cut at every flash program and erase (and OTP program) of every
state-changing command (mcuboot style): cut at the 1st, 2nd, ... operation until
the command runs through uncut; after each cut, reboot and check the state is
the old one or the new one, no counter went back and no consumption was
refunded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from openheg import wire
from openheg.errors import DeviceStatus
from openheg_sim.flash import PowerCut

from fwkit import Authority, Device, provision, provision_request, recover_request

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
MAX_OPS = 64


@dataclass(frozen=True)
class View:
    """What must be the old or the new value after a cut."""

    state: int
    policy_version: int
    license_sequence: int
    order_sequences: tuple[int, int, int]  # inspector, board, issuer


def view(dev: Device) -> View:
    info = dev.info()
    return View(info.state, info.policy_version, info.license_sequence,
                (info.inspector_order_sequence, info.board_order_sequence,
                 info.issuer_order_sequence))


def counters(dev: Device) -> tuple[int, int, int]:
    """(log entries, report counter, consumed) -- none may go back. Reading the
    report counter moves it, so this is taken once per device."""
    log_count = dev.read_log(0, 0).next_index
    if dev.info().state != wire.DeviceState.PROVISIONED:
        return log_count, 0, 0
    att = dev.attest()
    return log_count, att.report_counter, att.consumed_msflop


def clone(dev: Device, authority: Authority) -> Device:
    copy = Device(dev.flash.clone(), seed=dev.seed)  # pages and OTP area
    copy.now = dev.now
    copy.hal.now = dev.now
    if copy.info().state == wire.DeviceState.PROVISIONED:
        copy.authority = authority
        copy.sync_time()
    return copy


def fresh(authority: Authority) -> Device:
    return Device()


def keyed(authority: Authority) -> Device:
    dev = Device()
    dev.ok(C.PROVISION, provision_request(authority))
    return dev


def provisioned(authority: Authority) -> Device:
    dev = Device()
    provision(dev, authority)
    return dev


def store_lost(authority: Authority) -> Device:
    """Provisioned (OTP anchored), then every flash page erased."""
    dev = provisioned(authority)
    flash = dev.flash.clone()
    for page in range(flash.page_count):
        flash.erase(page)
    return Device(flash, seed=b"after the loss")


def licensed(authority: Authority) -> Device:
    dev = provisioned(authority)
    dev.license = authority.frontier_license(dev.device_id, 1, allocation=8_000_000)
    dev.ok(C.INSTALL_LICENSE, dev.license.to_bytes())
    dev.run(300)
    return dev


def _beacon(dev: Device) -> None:
    nonce = wire.TimeNonceResponseFormat.parse(dev.ok(C.TIME_NONCE)).device_nonce
    beacon = dev.authority.beacon(dev.device_id, nonce, dev.hal.now)
    dev.request(C.TIME_BEACON, beacon.to_bytes())


def _order(dev: Device) -> None:
    wid = wire.License.from_bytes(dev.license_bytes).workload_id
    dev.request(C.ORDER, dev.authority.order(K.PAUSE, dev.device_id, 1, wid).to_bytes())


def _shutdown(dev: Device) -> None:
    for _ in range(4):
        if dev.firmware.shutdown():
            return
        dev.hal.meter.idle(1)


# name, setup, action (may raise PowerCut)
SCENARIOS: dict[str, tuple[Callable, Callable]] = {
    "provision": (fresh, lambda d, a: d.request(C.PROVISION, provision_request(a))),
    "endorse": (keyed, lambda d, a: d.request(C.ENDORSE, a.endorsement(d.device_id))),
    "install_policy": (provisioned, lambda d, a: d.request(C.INSTALL_POLICY,
                                                           a.policy(2).to_bytes())),
    "time_beacon": (provisioned, lambda d, a: _beacon(d)),
    "install_license": (provisioned, lambda d, a: d.request(
        C.INSTALL_LICENSE, a.frontier_license(d.device_id, 1).to_bytes())),
    "order": (licensed, lambda d, a: _order(d)),
    # ATTEST writes flash only when its block of report counters is used up.
    "attest_block": (licensed, lambda d, a: [d.request(C.ATTEST, b"n" * 32)
                                             for _ in range(wire.REPORT_COUNTER_BLOCK + 1)]),
    "chunk_grant": (licensed, lambda d, a: d.run(3000, ops_per_cycle=1)),
    "shutdown": (licensed, lambda d, a: _shutdown(d)),
    "boot": (licensed, lambda d, a: d.power_up(sync_time=False)),
    "recover": (store_lost, lambda d, a: d.request(C.RECOVER, recover_request(a, d.info()))),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_power_cut_at_every_flash_operation(name):
    authority = Authority(policy_overrides={"lockout_threshold": 5})
    setup, action = SCENARIOS[name]
    base = setup(authority)
    base.license_bytes = getattr(base, "license", None) and base.license.to_bytes()

    def prepared() -> Device:
        dev = clone(base, authority)
        dev.authority = authority
        dev.license_bytes = base.license_bytes
        return dev

    # The uncut run gives the new state.
    dev = prepared()
    old = view(dev)
    action(dev, authority)
    new = view(Device(dev.flash.clone(), seed=dev.seed))
    completed = False
    for cut in range(1, MAX_OPS):
        dev = prepared()
        before_view = view(dev)
        assert before_view == old
        before = counters(dev)
        metered_before = dev.hal.meter.acc
        dev.flash.cut_after(cut)
        try:
            action(dev, authority)
        except PowerCut:
            pass
        else:
            assert not dev.flash.cut_pending or cut > 1
            dev.flash.cancel_cut()
            completed = True
            break
        metered = dev.hal.meter.acc - metered_before
        after_dev = Device(dev.flash.clone(), seed=dev.seed)
        after = view(after_dev)
        assert after in (old, new), f"cut {cut}: {after} is neither {old} nor {new}"
        log_count, report, consumed = counters(after_dev)
        assert log_count >= before[0] and report >= before[1], f"cut {cut}: a counter went back"
        # Never refunded: at least what was consumed before plus what the meter
        # let through before the cut, less the ops in flight as the gate closed
        # (the registered gate: two cycles of one FP8 op each here).
        assert consumed >= before[2] + max(metered - 2 * 1000, 0), f"cut {cut}: refund"
    assert completed, f"{name} did not complete within {MAX_OPS} flash operations"
