"""A power cut in the middle of any flash program or erase of the first boot
(the firmware commits the reset count to the SPI NOR flash): the harness
cuts power with the operation part done (a prefix of the page programmed or
the sector erased), powers up again, and the device on the RTL boots into a
consistent state, the old one or the new one: it answers, unprovisioned,
with its reset counted at most once per boot that finished its commit, and
its event log reads back from the start.

The flash operations of a first boot are counted from the run without a cut;
every one of them is cut once."""

from __future__ import annotations

from pathlib import Path

from openheg import wire
from openheg.device import Device
from openheg.transport import SerialTransport
from soc_device import SocDevice

EXCHANGE_TIMEOUT_S = 120
CUT_TIMEOUT_S = 120


def first_boot(flash: Path, cut: int | None = None) -> tuple[dict, list[str], wire.DeviceState,
                                                             int, list[int]]:
    extra = ("--cut", str(cut)) if cut else ()
    with SocDevice(flash, extra_args=extra) as soc:
        if cut:
            # A request sent before the cut would be lost with the power: ask after it.
            soc.wait_for_event("power-cut", CUT_TIMEOUT_S)
        with SerialTransport(soc.path, timeout=EXCHANGE_TIMEOUT_S) as link:
            device = Device(link)
            info = device.info()
            log = device.read_whole_log()
        stats = soc.stats()
        events = list(soc.events)
        assert soc.stop() == 0
    return stats, events, info.state, info.reset_count, [int(e.event_type) for e in log.entries]


def test_a_cut_at_any_flash_operation_of_the_first_boot(soc_build, tmp_path):
    stats, events, state, resets, log = first_boot(tmp_path / "nocut.flash")
    assert not events and state == wire.DeviceState.UNPROVISIONED and resets == 1
    assert log == [wire.EventType.RESET]
    operations = int(stats["flash_ops"])
    assert operations > 0
    outcomes = set()
    for cut in range(1, operations + 1):
        stats, events, state, resets, log = first_boot(tmp_path / f"cut{cut}.flash", cut)
        assert len(events) == 1 and events[0].startswith("power-cut "), (cut, events)
        assert state == wire.DeviceState.UNPROVISIONED, cut
        # The cut boot's commit either landed (its reset counted) or left the old state.
        assert resets in (1, 2), (cut, resets)
        assert log == [wire.EventType.RESET] * resets, (cut, log)
        outcomes.add(resets)
    print(f"\n{operations} flash operations in a first boot, each cut once: "
          f"reset counts after the cut {sorted(outcomes)}")
