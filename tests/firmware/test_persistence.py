"""Persistent state: reboots, backing files, torn and corrupt records, wear,
and many independent devices in one process."""

from __future__ import annotations

import pytest

from openheg import wire
from openheg.errors import DeviceStatus
from openheg_sim.flash import Flash, PowerCut

from fwkit import Device, provision, provision_request

S = DeviceStatus
C = wire.Command
MAGIC = (0x54534748).to_bytes(4, "little")  # firmware/src/internal.h HEG_STORE_MAGIC


def test_state_survives_reboot(provisioned, authority):
    lic = authority.license(provisioned.device_id, 7)
    assert provisioned.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    before = provisioned.info()
    endorsement = provisioned.ok(C.READ_ENDORSEMENT)

    rebooted = Device(provisioned.flash)  # a new firmware context on the same flash
    after = rebooted.info()
    assert after.state == wire.DeviceState.PROVISIONED
    assert after.device_id == before.device_id
    assert after.issuer_key == before.issuer_key and after.vendor_key == before.vendor_key
    assert after.license_sequence == 7
    assert after.reset_count == before.reset_count + 1
    assert rebooted.ok(C.READ_ENDORSEMENT) == endorsement
    # The device key survived: its attestations verify under the same id.
    assert rebooted.attest().device_id == before.device_id
    # The replay floor survived too.
    assert rebooted.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.REPLAYED


def test_backing_file_persists_across_flash_objects(tmp_path, authority):
    path = tmp_path / "chip.flash"
    first = Device(Flash(path=path))
    device_id = provision(first, authority)
    first.flash.close()
    second = Device(Flash(path=path))
    assert second.info().device_id == device_id
    assert second.info().reset_count == 2


def _slot_pages(flash: Flash) -> int:
    """Pages per record slot: where the second slot's record starts (both
    slots must have been written)."""
    return next(p for p in range(1, flash.page_count)
                if flash.read(p * flash.page_size, 4) == MAGIC)


def _newest_slot_offset(flash: Flash) -> int:
    size = _slot_pages(flash) * flash.page_size
    counters = [int.from_bytes(flash.read(s * size + 8, 8), "little") for s in range(2)]
    return 0 if counters[0] > counters[1] else size


def test_corrupt_newest_record_falls_back_to_the_previous_one(authority):
    dev = Device()
    dev.ok(C.PROVISION, provision_request(authority))
    device_id = dev.info().device_id
    dev.ok(C.ENDORSE, authority.endorsement(device_id))  # newest record: PROVISIONED
    image = bytearray(dev.flash.image())
    image[_newest_slot_offset(dev.flash) + 100] ^= 0x01  # flip one bit of the newest record
    rebooted = Device(Flash(image=bytes(image)))
    info = rebooted.info()
    assert info.state == wire.DeviceState.KEYED  # the record before ENDORSE
    assert info.device_id == device_id


def test_erased_or_garbage_flash_is_not_a_record():
    assert Device(Flash()).info().state == wire.DeviceState.UNPROVISIONED
    flash = Flash()
    flash.program(0, bytes(flash.page_size))  # all zeros: magic and digest fail
    assert Device(flash).info().state == wire.DeviceState.UNPROVISIONED


def test_writes_alternate_pages_and_spread_wear(provisioned):
    for _ in range(10):
        provisioned.power_up(sync_time=False)  # each boot commits its reset count
    counts = provisioned.flash.erase_counts
    pages = _slot_pages(provisioned.flash)
    # Each slot's pages are erased together; the two slots take turns.
    assert len(set(counts[:pages])) == 1 and len(set(counts[pages:2 * pages])) == 1
    assert abs(counts[0] - counts[pages]) <= 1
    assert sum(counts[2 * pages:]) == 0


@pytest.mark.parametrize("cut", [1, 2])
@pytest.mark.parametrize("phase", ["boot", "provision", "endorse", "attest"])
def test_power_cut_in_any_write_leaves_old_or_new_state(authority, phase, cut):
    dev = Device()
    if phase in ("endorse", "attest"):
        dev.ok(C.PROVISION, provision_request(authority))
    if phase == "attest":
        dev.ok(C.ENDORSE, authority.endorsement(dev.info().device_id))
    before = dev.info()
    dev.flash.cut_after(cut)
    with pytest.raises(PowerCut):
        if phase == "boot":
            dev.power_up()
        elif phase == "provision":
            dev.request(C.PROVISION, provision_request(authority))
        elif phase == "endorse":
            dev.request(C.ENDORSE, authority.endorsement(before.device_id))
        else:  # a block of report counters used up: the next one is reserved
            for _ in range(wire.REPORT_COUNTER_BLOCK + 1):
                dev.request(C.ATTEST, b"n" * 32)
    dev.power_up()
    after = dev.info()
    assert after.reset_count in (before.reset_count + 1, before.reset_count + 2)
    if phase == "provision":
        assert after.state in (wire.DeviceState.UNPROVISIONED, wire.DeviceState.KEYED)
    else:
        assert after.state == before.state
        assert after.device_id == before.device_id


def test_hal_exception_propagates_and_later_calls_fail_fast():
    class Boom(Exception):
        pass

    dev = Device()
    calls = []
    original = dev.hal.storage_erase

    def erase(page):
        calls.append(page)
        raise Boom("injected")

    dev.hal.storage_erase = erase
    programs, writes = dev.flash.program_count, len(dev.hal.writes)
    with pytest.raises(Boom):
        dev.firmware.boot()
    assert len(calls) == 1
    # After the failure nothing more reached the platform (as after a real power loss).
    assert dev.flash.program_count == programs
    assert len(dev.hal.writes) == writes + 1  # only the boot's gate-close before the store
    dev.hal.storage_erase = original
    dev.firmware.boot()  # the exception was consumed; the device boots again
    assert dev.info().state == wire.DeviceState.UNPROVISIONED


def test_two_devices_in_one_process_are_independent(authority):
    a, b = Device(seed=b"a"), Device(seed=b"b")
    id_a, id_b = provision(a, authority), provision(b, authority)
    assert id_a != id_b
    assert a.status_of(C.INSTALL_LICENSE, authority.license(id_a, 3).to_bytes()) == S.OK
    # A license for a is not valid on b.
    assert b.status_of(C.INSTALL_LICENSE, authority.license(id_a, 3).to_bytes()) == S.WRONG_DEVICE
    a.run(400)
    att_a, att_b = a.attest(), b.attest()
    assert att_a.consumed_msflop == 400_000 and att_a.license_sequence == 3
    assert att_b.consumed_msflop == 0 and att_b.license_sequence == 0
    assert att_a.device_id == id_a and att_b.device_id == id_b
    assert b.info().license_sequence == 0 and a.info().license_sequence == 3
    many = [Device(seed=bytes([i])) for i in range(50)]
    ids = {provision(d, authority) for d in many}
    assert len(ids) == 50
