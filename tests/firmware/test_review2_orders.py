"""Second operator review: order attacks that held, kept as adversary tests.

The operator's moves: deliver a pause when the workload table cannot take it,
so that the refusal might spend the order, then license the workload; hold a
restricting order back until its role's highest has moved by exactly the
window, then by one more."""

from __future__ import annotations

from openheg import wire
from openheg.errors import DeviceStatus

from fwkit import Device, licensed, provision

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
G = wire.GateCause
TABLE = 16  # HEG_WORKLOADS
WINDOW = wire.ORDER_REPLAY_WINDOW


def send(dev: Device, record) -> DeviceStatus:
    return dev.status_of(C.ORDER, record.to_bytes())


def test_a_pause_refused_for_a_full_table_binds_the_workload_once_it_is_licensed(authority):
    """WORKLOADS_FULL writes nothing and takes no sequence: the same pause,
    delivered once its workload has a slot, holds it."""
    dev = Device()
    provision(dev, authority)
    for i in range(TABLE):
        lic = authority.frontier_license(dev.device_id, i + 1, workload_id=b"g%015d" % i)
        assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    pause = authority.order(K.PAUSE, dev.device_id, 1, b"N" * 16)
    assert send(dev, pause) == S.WORKLOADS_FULL
    newcomer = authority.frontier_license(dev.device_id, TABLE + 1, workload_id=b"N" * 16)
    assert dev.status_of(C.INSTALL_LICENSE, newcomer.to_bytes()) == S.OK
    assert dev.computes()
    assert send(dev, pause) == S.OK
    assert not dev.computes() and G.PAUSED in dev.attest().gate_causes
    assert send(dev, pause) == S.REPLAYED


def test_a_halt_held_back_exactly_the_window_applies_and_one_more_is_refused(authority):
    """The board's halts 1 and 2 are held back while its lift-halt 65 is
    delivered: halt 1 lies 64 below (the window's last bit), halt 2 63 below.
    Both apply once; after lift-halt 66, nothing held back applies again."""
    dev, _ = licensed(authority)
    held = [authority.order(K.HALT, dev.device_id, s) for s in (1, 2)]
    lift = authority.order(K.LIFT_HALT, dev.device_id, WINDOW + 1)
    assert send(dev, lift) == S.OK and dev.computes()
    assert send(dev, held[0]) == S.OK and not dev.computes()
    assert send(dev, held[1]) == S.OK
    dev.power_up()
    assert send(dev, authority.order(K.LIFT_HALT, dev.device_id, WINDOW + 2)) == S.OK
    assert dev.computes()
    assert send(dev, held[0]) == S.OUTSIDE_REPLAY_WINDOW
    assert send(dev, held[1]) == S.REPLAYED
    assert dev.computes()
