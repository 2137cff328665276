"""The interconnect cap: the firmware loads the signed policy's link rate and
burst into the stream limiter (heg_link) and locks them until reset; the
attestation carries what the limiter holds and the wire bytes it let through.

The adversary is the operator, who wants more bandwidth than the policy in
force allows: it installs a policy that tightens the cap and never resets,
cuts power between a policy and the reset, writes the limiter's registers
after the lock, or offers more traffic than the bucket holds."""

from __future__ import annotations

import pytest

from openheg import linkmap, wire
from openheg.errors import DeviceStatus

from fwkit import Authority, Device, power_cuts, provision
from openheg_sim.stream_limiter_model import EMULATED_LINK_CLOCK_HZ

S = DeviceStatus
C = wire.Command
G = wire.GateCause
U32_MAX = (1 << 32) - 1
expected_rate = wire.link_rate_register


def test_the_rate_rule_rounds_down_and_saturates():
    # 1 MB/s at 1 GHz is 0.001 wire bytes a cycle: 65.536 x 2^-16, kept as 65.
    assert expected_rate(1, 10**9) == 65
    assert expected_rate(0, 10**9) == 0
    assert expected_rate(900_000, 25_000_000) == 36_000 << 16
    assert expected_rate(wire.LINK_MAX_MB_PER_S, 25_000_000) == U32_MAX


def licensed(authority: Authority, **policy) -> Device:
    authority.policy_overrides.update(policy)
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    dev.firmware.poll()
    dev.hal.meter.idle(1)
    return dev


def test_before_any_policy_the_link_passes_nothing_and_stays_unlocked():
    dev = Device()
    link = dev.hal.link
    assert (link.rate, link.burst, link.regwen) == (0, 0, 1)
    assert link.carry(10**6, 10**6) == 0
    dev.power_up()  # and boot does not lock it either: no policy is in force
    assert dev.info().state == wire.DeviceState.UNPROVISIONED
    assert (dev.hal.link.rate, dev.hal.link.burst, dev.hal.link.regwen) == (0, 0, 1)


@pytest.mark.parametrize("mb_per_s,burst", [(900_000, 1 << 20), (1, 10), (0, 0),
                                            (wire.LINK_MAX_MB_PER_S,
                                             wire.LINK_MAX_BURST_WIRE_BYTES)])
def test_provisioning_loads_the_genesis_cap_and_locks_it(authority, mb_per_s, burst):
    dev = Device()
    authority.policy_overrides.update(link_wire_mb_per_s=mb_per_s, link_burst_wire_bytes=burst)
    provision(dev, authority)
    link = dev.hal.link
    assert link.rate == expected_rate(mb_per_s, EMULATED_LINK_CLOCK_HZ)
    assert link.burst == burst and link.regwen == 0
    attestation = dev.attest()
    assert (attestation.link_clock_hz, attestation.link_rate, attestation.link_burst) == (
        EMULATED_LINK_CLOCK_HZ, link.rate, burst)
    assert G.LINK_PENDING not in attestation.gate_causes


def test_a_rate_past_the_register_saturates_at_the_link_s_own_width(authority):
    """On a slow limiter clock 10 TB/s is more than 65,535 wire bytes a cycle:
    RATE holds its maximum (every beat the link can carry), never wraps to a
    small number or to 0."""
    dev = Device()
    dev.hal.link_clock_hz = lambda: 25_000_000
    authority.policy_overrides.update(link_wire_mb_per_s=wire.LINK_MAX_MB_PER_S)
    provision(dev, authority)
    assert expected_rate(wire.LINK_MAX_MB_PER_S, 25_000_000) == U32_MAX
    assert dev.hal.link.rate == U32_MAX
    assert dev.attest().link_rate == U32_MAX


def test_the_bytes_let_through_are_attested_and_bounded_by_the_cap(authority):
    # 1 MB/s at 1 GHz: 65 (x 2^-16) wire bytes a cycle, 4,096 bytes of burst.
    authority.policy_overrides.update(link_wire_mb_per_s=1, link_burst_wire_bytes=4096)
    dev = Device()
    provision(dev, authority)
    link = dev.hal.link
    cycles = 10**6  # a millisecond at the link's clock
    passed = link.carry(10**9, cycles)  # the operator offers far more than the cap
    assert 0 < passed <= 4096 + (link.rate * cycles >> 16)
    assert dev.attest().link_wire_bytes == passed
    more = link.carry(10**9, cycles)
    assert dev.attest().link_wire_bytes == passed + more
    dev.power_up()  # the limiter restarts at 0 with the rest of the part
    assert dev.attest().link_wire_bytes == 0


def test_a_tighter_cap_closes_the_gate_until_the_reset_that_loads_it(authority):
    """A policy whose cap differs from the locked one: nothing computes until
    the reset loads it, so an operator who never resets gains nothing. A policy
    with the same cap changes nothing."""
    dev = licensed(authority)
    assert dev.run(10) == 10
    assert dev.status_of(C.INSTALL_POLICY, authority.policy(2).to_bytes()) == S.OK
    dev.firmware.poll()
    dev.hal.meter.idle(1)
    assert G.LINK_PENDING not in dev.attest().gate_causes and dev.run(10) == 10
    tighter = authority.policy(3, link_wire_mb_per_s=1_000, link_burst_wire_bytes=1024)
    assert dev.status_of(C.INSTALL_POLICY, tighter.to_bytes()) == S.OK
    dev.firmware.poll()
    dev.hal.meter.idle(1)
    attestation = dev.attest()
    assert G.LINK_PENDING in attestation.gate_causes
    assert attestation.gate_state == wire.GateState.CLOSED
    assert attestation.link_rate == expected_rate(900_000, EMULATED_LINK_CLOCK_HZ)
    assert dev.run(10) == 0
    # The lock holds: writing the limiter's registers does not lift the close.
    dev.hal.link.write(linkmap.REG_RATE, expected_rate(1_000, EMULATED_LINK_CLOCK_HZ))
    assert dev.hal.link.read(linkmap.REG_ERR_STATUS) == 1
    assert G.LINK_PENDING in dev.attest().gate_causes
    # A power cut is a reset: the boot loads the tighter cap and the gate opens.
    dev.power_up()
    dev.firmware.poll()
    dev.hal.meter.idle(1)
    attestation = dev.attest()
    assert G.LINK_PENDING not in attestation.gate_causes
    assert (attestation.link_rate, attestation.link_burst) == (
        expected_rate(1_000, EMULATED_LINK_CLOCK_HZ), 1024)
    assert dev.run(10) == 10


def test_the_looser_policy_cannot_be_put_back(authority):
    """After a tighter cap is in force, reinstalling the looser policy it
    replaced is a rollback: refused, and the cap stays."""
    dev = licensed(authority)
    looser = authority.policy(2)
    tighter = authority.policy(3, link_wire_mb_per_s=1_000)
    assert dev.status_of(C.INSTALL_POLICY, looser.to_bytes()) == S.OK
    assert dev.status_of(C.INSTALL_POLICY, tighter.to_bytes()) == S.OK
    dev.power_up()
    assert dev.status_of(C.INSTALL_POLICY, looser.to_bytes()) != S.OK
    dev.power_up()
    assert dev.hal.link.rate == expected_rate(1_000, EMULATED_LINK_CLOCK_HZ)


# ---- The inference cap (issue 12) ------------------------------------------
# The policy's inference cap holds while the license in force declares
# inference, or while no license is in force; a training or fine-tuning
# license gets the general cap. Each only ever tightens the general one.
# The operator wants training bandwidth under an inference license: it
# installs the inference license and never resets, swaps licenses after the
# reset that loaded the loose cap, cuts power mid-install, or replays the
# policy from before the inference cap.

LOOSE = (900_000, 1 << 20)
TIGHT = (20_000, 1 << 16)
INFERENCE = wire.WorkloadKind.INFERENCE
INFERENCE_CAP = {"inference_link_wire_mb_per_s": TIGHT[0],
                 "inference_link_burst_wire_bytes": TIGHT[1]}


def held(dev: Device) -> tuple[int, int]:
    """(RATE, BURST) as the device attests them."""
    attestation = dev.attest()
    return attestation.link_rate, attestation.link_burst


def cap(mb_per_s: int, burst: int) -> tuple[int, int]:
    return expected_rate(mb_per_s, EMULATED_LINK_CLOCK_HZ), burst


def install(dev: Device, lic: wire.License) -> None:
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK


def training_at_the_loose_cap(authority: Authority) -> Device:
    """A device computing under a pre-training license after the reset that
    loaded its (general, loose) cap."""
    authority.policy_overrides.update(INFERENCE_CAP)
    dev = Device()
    provision(dev, authority)
    install(dev, authority.frontier_license(dev.device_id, 1))
    dev.power_up()
    assert held(dev) == cap(*LOOSE) and dev.computes()
    return dev


def test_without_a_license_the_device_holds_the_inference_cap(authority):
    """No license declares a kind yet: the device takes the tightest cap, and
    a first training license waits for the reset that loosens it."""
    authority.policy_overrides.update(INFERENCE_CAP)
    dev = Device()
    provision(dev, authority)
    assert held(dev) == cap(*TIGHT) and dev.hal.link.regwen == 0
    dev.power_up()
    assert held(dev) == cap(*TIGHT)
    install(dev, authority.frontier_license(dev.device_id, 1))
    assert not dev.computes()
    assert G.LINK_PENDING in dev.attest().gate_causes
    dev.power_up()
    assert held(dev) == cap(*LOOSE) and dev.computes()


def test_an_inference_license_closes_the_gate_until_the_reset_that_tightens_the_cap(authority):
    """Training ran at the loose cap; the operator swaps in an inference
    license and keeps computing without a reset: nothing computes, and writing
    the locked limiter does not help. The reset loads the inference cap."""
    dev = training_at_the_loose_cap(authority)
    install(dev, authority.frontier_license(dev.device_id, 2, workload_kind=INFERENCE))
    assert not dev.computes() and dev.run(1000) == 0
    attestation = dev.attest()
    assert G.LINK_PENDING in attestation.gate_causes
    assert attestation.gate_state == wire.GateState.CLOSED
    assert (attestation.link_rate, attestation.link_burst) == cap(*LOOSE)
    dev.hal.link.write(linkmap.REG_RATE, cap(*TIGHT)[0])
    dev.hal.link.write(linkmap.REG_BURST, TIGHT[1])
    assert held(dev) == cap(*LOOSE) and not dev.computes()
    dev.power_up()
    assert held(dev) == cap(*TIGHT) and dev.computes()
    # Back to training: the loose cap waits for a reset again.
    install(dev, authority.frontier_license(dev.device_id, 3))
    assert not dev.computes()
    dev.power_up()
    assert held(dev) == cap(*LOOSE) and dev.computes()


def test_another_inference_license_keeps_the_cap_and_the_gate(authority):
    """A license of the same kind changes no cap: no reset is needed."""
    dev = training_at_the_loose_cap(authority)
    install(dev, authority.frontier_license(dev.device_id, 2, workload_kind=INFERENCE))
    dev.power_up()
    install(dev, authority.frontier_license(dev.device_id, 3, workload_kind=INFERENCE))
    assert dev.computes() and held(dev) == cap(*TIGHT)
    install(dev, authority.frontier_license(dev.device_id, 4,
                                            workload_kind=wire.WorkloadKind.FINE_TUNING))
    assert not dev.computes()  # fine-tuning is not inference: the loose cap, at reset


def test_a_power_cut_during_an_inference_install_never_opens_the_gate_at_the_loose_cap(
        authority):
    """Cut at every flash operation of the install, and once after it: the
    boot finds the old license (the loose cap, rightly) or the new one (the
    inference cap); whichever is in force, the limiter holds its kind's cap."""
    base = training_at_the_loose_cap(authority)
    lic = authority.frontier_license(base.device_id, 2, workload_kind=INFERENCE)
    outcomes = set()
    for cut, dev, completed in power_cuts(base, lambda dev: install(dev, lic)):
        attestation = dev.attest()
        expected = cap(*TIGHT) if attestation.license_sequence == 2 else cap(*LOOSE)
        assert (attestation.link_rate, attestation.link_burst) == expected, f"cut {cut}"
        assert dev.computes(), f"cut {cut}"
        outcomes.add(attestation.license_sequence)
    assert completed and outcomes == {1, 2}  # power_cuts ends on the run that completed


@pytest.mark.parametrize("inference,effective", [
    (LOOSE, TIGHT),                        # looser in both: the general cap holds
    ((TIGHT[0], LOOSE[1]), TIGHT),         # a looser burst alone loosens nothing
    ((1_000, LOOSE[1]), (1_000, TIGHT[1])),  # each of rate and burst the tighter
])
def test_an_inference_cap_looser_than_the_general_one_loosens_nothing(authority, inference,
                                                                       effective):
    authority.policy_overrides.update(
        link_wire_mb_per_s=TIGHT[0], link_burst_wire_bytes=TIGHT[1],
        inference_link_wire_mb_per_s=inference[0], inference_link_burst_wire_bytes=inference[1])
    assert authority.policy().link_cap_for(INFERENCE) == effective
    dev = Device()
    provision(dev, authority)
    install(dev, authority.frontier_license(dev.device_id, 1, workload_kind=INFERENCE))
    assert held(dev) == cap(*effective) and dev.computes()


def test_the_policy_from_before_the_inference_cap_cannot_be_put_back(authority):
    """Version 1 set no inference cap; version 2 does. Replaying version 1
    is a rollback: refused, and the inference license stays at the cap."""
    dev = Device()
    provision(dev, authority)  # version 1: the general cap alone
    capped = authority.policy(2, **INFERENCE_CAP)
    assert dev.status_of(C.INSTALL_POLICY, capped.to_bytes()) == S.OK
    install(dev, authority.frontier_license(dev.device_id, 1, workload_kind=INFERENCE))
    dev.power_up()
    assert held(dev) == cap(*TIGHT) and dev.computes()
    assert dev.status_of(C.INSTALL_POLICY, authority.policy(1).to_bytes()) == S.REPLAYED
    dev.power_up()
    assert held(dev) == cap(*TIGHT) and dev.computes()
