"""A lost newest record is reported, never silent (issue 9, item 14).

The store keeps two records and boots from the newest valid one. Before the
fix, a newest record that failed its digest made the device boot from the
older one without a trace: the last charge, sequence or order was undone and
neither the log nor the attestation showed it. Now boot recognises a record
that looks newer (magic, layout, a counter above the one in force) but fails
its check, counts it (Attestation.store_reverts) and logs STORE_REVERTED with
both counters. A power cut during a commit tears the new record in just this
way: that is honest, and it is reported the same way (the verifier's series
check shows it as a non-severe anomaly). The adversary moves: corrupt the
newest record, cut power at every flash operation of a commit."""

from __future__ import annotations

import struct

from openheg import wire
from openheg.errors import DeviceStatus
from openheg_sim.flash import Flash, PowerCut

from fwkit import Device, provision

S = DeviceStatus
C = wire.Command
MAGIC = struct.pack("<I", 0x54534748)  # firmware/src/internal.h HEG_STORE_MAGIC


def _newest_slot_offset(flash: Flash) -> int:
    """Byte offset of the slot holding the record with the higher counter."""
    starts = [p * flash.page_size for p in range(flash.page_count)
              if flash.read(p * flash.page_size, 4) == MAGIC]
    assert len(starts) == 2, "both slots hold a record"
    counters = [struct.unpack("<Q", flash.read(s + 8, 8))[0] for s in starts]
    return starts[counters.index(max(counters))]


def _log(dev: Device) -> list[tuple[int, bytes]]:
    total = dev.read_log(0, 0).next_index
    first = max(total - 8, 0)
    return [(e.event_type, bytes(e.payload)) for e in dev.read_log(first, 8).entries]


def _licensed(authority) -> Device:
    dev = Device()
    provision(dev, authority)
    lic = authority.license(dev.device_id, 1)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    return dev


def test_a_corrupt_newest_record_is_logged_and_attested(authority):
    """Failed before the fix: the device fell back to the record before the
    license install and neither its log nor its attestation said so."""
    dev = _licensed(authority)
    image = bytearray(dev.flash.image())
    newest = _newest_slot_offset(dev.flash)
    lost_counter = struct.unpack("<Q", bytes(image[newest + 8:newest + 16]))[0]
    image[newest + 200] ^= 0x01  # one bit of the newest record
    rebooted = Device(Flash(image=bytes(image)), seed=dev.seed)
    rebooted.authority = authority
    assert rebooted.info().license_sequence == 0  # the install is undone ...
    entries = _log(rebooted)
    reverted = [payload for kind, payload in entries if kind == wire.EventType.STORE_REVERTED]
    assert len(reverted) == 1  # ... and the log says so
    lost, in_force = struct.unpack("<QQ", reverted[0])
    assert lost == lost_counter and in_force == lost_counter - 1
    assert entries[-2][0] == wire.EventType.RESET  # in the boot's own commit
    rebooted.sync_time()
    assert rebooted.attest().store_reverts == 1
    # Counted once: the boot's commit overwrote the lost slot.
    rebooted.power_up()
    assert rebooted.attest().store_reverts == 1
    assert sum(kind == wire.EventType.STORE_REVERTED for kind, _ in _log(rebooted)) == 1


def test_an_honest_history_has_no_revert(authority):
    dev = _licensed(authority)
    for _ in range(3):
        dev.power_up()
    assert dev.attest().store_reverts == 0
    assert all(kind != wire.EventType.STORE_REVERTED for kind, _ in _log(dev))


class _OpLog(Flash):
    """The flash model, noting the kind of each operation as it starts."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ops: list[str] = []

    def program(self, offset: int, data: bytes) -> None:
        self.ops.append("program")
        super().program(offset, data)

    def erase(self, page: int) -> None:
        self.ops.append("erase")
        super().erase(page)


def test_power_cut_during_a_commit_is_reported_as_a_revert(authority):
    """Cut at every flash operation of a license install. A cut during the
    erase of the other slot loses nothing of the new record; a cut once its
    programming began leaves a torn newer record: the device boots the old
    state and reports exactly one revert. Never a silent one."""
    base = Device()
    provision(base, authority)
    lic = authority.license(base.device_id, 1)
    seen = set()
    for cut in range(1, 64):
        dev = Device(_OpLog(image=base.flash.image()), seed=base.seed)
        dev.authority, dev.device_id = authority, base.device_id
        dev.sync_time()
        dev.flash.ops.clear()
        dev.flash.cut_after(cut)
        try:
            dev.request(C.INSTALL_LICENSE, lic.to_bytes())
        except PowerCut:
            torn = dev.flash.ops[-1]
        else:
            dev.flash.cancel_cut()
            torn = None
        after = Device(Flash(image=dev.flash.image()), seed=base.seed)
        after.authority = authority
        after.sync_time()
        att = after.attest()
        if torn is None:
            assert (att.license_sequence, att.store_reverts) == (1, 0)
            break
        expected = 1 if torn == "program" else 0
        assert (att.license_sequence, att.store_reverts) == (0, expected), f"cut {cut} ({torn})"
        seen.add(torn)
    assert torn is None and seen == {"erase", "program"}
