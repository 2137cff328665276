"""Emulated chips: serial transport over a pty, many chips per process, persistence."""

from __future__ import annotations

import os
import pty
import tty
from pathlib import Path

import pytest

from openheg.crypto import SigningKey
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus, TransportError
from openheg.licensing import issue_license
from openheg.roles import Role
from openheg.series import chain_head
from openheg.transport import SerialTransport, open_transport
from openheg.verify import verify_attestation
from openheg.wire import Attestation, DeviceState, GateCause
from openheg_sim.emulator import ChipLink, EmulatedChip

from host_world import make_world
from openheg_sim.serial_server import PtyServer


@pytest.fixture
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def roles(world):
    return world.issuer, world.vendor


def test_serial_transport_over_a_pty_reaches_the_firmware(tmp_path, world, roles):
    issuer, vendor = roles
    chip = EmulatedChip.open("tty0", tmp_path)
    with PtyServer(chip) as server, SerialTransport(server.path, timeout=2.0) as link:
        device = Device(link)
        device_id = world.provision(device)
        license_ = issue_license(issuer.key, device_id=device_id, workload="w", sequence=1,
                                 allocation_msflop=50_000)
        device.install_license(license_)
        nonce = bytes(range(32))
        verified = verify_attestation(device.attest(nonce), nonce=nonce,
                                      endorsement=device.read_endorsement(),
                                      vendor_keys={vendor.public_key}, license=license_)
        assert verified.attestation.license_sequence == 1
        assert server.dropped_frames == 0


def test_serial_garbage_is_dropped_and_the_link_resynchronises(tmp_path):
    chip = EmulatedChip.open("tty1", tmp_path)
    with PtyServer(chip) as server, SerialTransport(server.path, timeout=2.0) as link:
        link._port.write(b"\x05garbage\x00")  # not a valid frame: COBS/CRC fail
        assert Device(link).info().state == DeviceState.UNPROVISIONED
        assert server.dropped_frames == 1


def test_a_silent_device_is_a_timeout_not_a_hang():
    controller, peripheral = pty.openpty()
    tty.setraw(peripheral)
    try:
        with SerialTransport(os.ttyname(peripheral), timeout=0.2) as link:
            with pytest.raises(TransportError, match="no response within 0.2 s"):
                Device(link).info()
    finally:
        os.close(controller)
        os.close(peripheral)


def test_many_chips_in_one_process_are_independent(tmp_path, world, roles):
    issuer, vendor = roles
    chips = [EmulatedChip.open(f"c{i}", tmp_path) for i in range(16)]
    ids = [world.provision(Device(ChipLink(c))) for c in chips[:8]]
    assert len(set(ids)) == 8
    states = [Device(ChipLink(c)).info().state for c in chips]
    assert states == [DeviceState.PROVISIONED] * 8 + [DeviceState.UNPROVISIONED] * 8
    license_ = issue_license(issuer.key, device_id=ids[0], workload="w", sequence=1,
                             allocation_msflop=12_000)
    Device(ChipLink(chips[0])).install_license(license_)
    assert not chips[0].run("FP8", 100, 4).gate_open
    assert chips[1].run("FP8", 100, 4).issued_ops == 0  # no license: the gate never opened


def test_state_survives_power_cycles_and_is_never_refunded(tmp_path, world, roles):
    issuer, vendor = roles
    with open_transport("emu://p0", tmp_path) as link:
        device_id = world.provision(Device(link))
        license_ = issue_license(issuer.key, device_id=device_id, workload="w", sequence=1,
                                 allocation_msflop=80_000_000)
        Device(link).install_license(license_)
        link.chip.run("FP32", 10_000, 16)
    consumed = []
    for cycle in range(3):
        with open_transport("emu://p0", tmp_path) as link:
            device = Device(link)
            info = device.info()
            assert info.state == DeviceState.PROVISIONED and info.license_sequence == 1
            assert info.reset_count == cycle + 2
            world.set_time(device, info.device_id)  # trusted time does not survive a reset
            link.chip.run("FP32", 1_000, 16)
            nonce = bytes(32)
            att = verify_attestation(device.attest(nonce), nonce=nonce,
                                     endorsement=device.read_endorsement(),
                                     vendor_keys={vendor.public_key}).attestation
            consumed.append(att.consumed_msflop)
            assert att.gate_causes & GateCause.NO_LICENSE == 0
    assert consumed == sorted(consumed) and consumed[0] >= 11_000 * 1300


def test_refused_licenses_change_no_license_state(tmp_path, world, roles):
    """Refusals may count towards the lockout (persisted), but change nothing else."""
    issuer, vendor = roles
    chip = EmulatedChip.open("r0", tmp_path)
    device = Device(ChipLink(chip))
    device_id = world.provision(device)
    before = device.info()
    rogue = Role(Path("."), SigningKey.generate())
    with pytest.raises(DeviceError) as refused:
        device.install_license(issue_license(rogue.key, device_id=device_id, workload="w",
                                             sequence=1, allocation_msflop=10))
    assert refused.value.status == DeviceStatus.SIGNER_UNTRUSTED
    with pytest.raises(DeviceError) as refused:
        device.install_license(issue_license(issuer.key, device_id=device_id, workload="w",
                                             sequence=1, allocation_msflop=10, now=10))
    assert refused.value.status == DeviceStatus.EXPIRED
    with pytest.raises(DeviceError) as refused:
        device.install_license(issue_license(issuer.key, device_id=device_id, workload="w",
                                             sequence=1 << 21, allocation_msflop=10))
    assert refused.value.status == DeviceStatus.SEQUENCE_JUMP
    assert device.info() == before
    device.install_license(issue_license(issuer.key, device_id=device_id, workload="w", sequence=1,
                                         allocation_msflop=10))
    assert device.info().license_sequence == 1



def _attested_consumed(chip: EmulatedChip, vendor: Role) -> int:
    device = Device(ChipLink(chip))
    nonce = bytes(32)
    return verify_attestation(device.attest(nonce), nonce=nonce,
                              endorsement=device.read_endorsement(),
                              vendor_keys={vendor.public_key}).attestation.consumed_msflop


@pytest.mark.parametrize("power_off", ["orderly", "cut"])
def test_compute_past_the_limit_is_never_forgotten(tmp_path, world, roles, power_off):
    """Ops in flight when the gate closes are metered past the allocation; after
    an orderly power-off or a cut, the device still reports every one of them."""
    issuer, vendor = roles
    chip = EmulatedChip.open("o0", tmp_path)
    device_id = world.provision(Device(ChipLink(chip)))
    allocation = 1_000_000
    Device(ChipLink(chip)).install_license(issue_license(
        issuer.key, device_id=device_id, workload="w", sequence=1, allocation_msflop=allocation))
    result = chip.run("FP64", 10_000, 100)
    metered = result.issued_ops * 1330
    assert metered > allocation and not result.gate_open
    assert _attested_consumed(chip, vendor) == metered
    if power_off == "orderly":
        chip.close()
    reopened = EmulatedChip.open("o0", tmp_path)
    assert _attested_consumed(reopened, vendor) == metered
    assert reopened.run("FP64", 10, 1).issued_ops == 0


def test_the_whole_log_reads_out_after_the_ring_has_wrapped(tmp_path, world):
    """40 boots log 40 RESETs past the 32-entry ring: read_whole_log returns the
    kept entries in order from the oldest kept, and they chain from its head to
    the head the device attests."""
    chip = EmulatedChip.open("wrap", tmp_path)
    world.provision(Device(ChipLink(chip)))
    for _ in range(40):
        chip.close()
        chip = EmulatedChip.open("wrap", tmp_path)
    device = Device(ChipLink(chip))
    log = device.read_whole_log()
    indices = [entry.index for entry in log.entries]
    assert len(indices) == 32 and indices == list(range(log.next_index - 32, log.next_index))
    head = log.head_before
    for entry in log.entries:
        head = chain_head(head, entry.event_type, entry.payload)
    assert Attestation.from_bytes(device.attest(bytes(32))).log_head == head
    chip.close()
