"""The persistent record's key lists and event-log ring live in flash only
(firmware/src/store.c): every commit streams them from the current slot into
the other one, a new policy's lists straight from the request. These tests pin
what that must keep: the lists of the policy in force survive any number of
later commits and reboots, a failed install leaves the old lists in force, a
power cut during a multi-chunk streamed commit leaves the old or the new
record, and the context really holds no copy of the lists."""

from __future__ import annotations


import pytest

from openheg import wire
from openheg.errors import DeviceStatus
from openheg.series import chain_head
from openheg_sim.firmware import lib
from openheg_sim.flash import Flash, PowerCut

from fwkit import Authority, Device, _key, provision, pub

S = DeviceStatus
C = wire.Command
K = wire.OrderKind

# A second board of 9 (288 bytes: more than one 256-byte copy chunk, store.c
# HEG_STORE_CHUNK), a second inspector and a revoked key; the request stays
# within HEG_MAX_MESSAGE_SIZE. The new board keeps one old member (board member
# 0), so three signatures carry both boards' quorums.
NEW_MEMBERS = tuple(_key(f"new board member {i}") for i in range(8))
EXTRA_INSPECTORS = (_key("inspector 2"),)
REVOKED = (_key("revoked 0"),)


@pytest.fixture
def authority() -> Authority:
    """No party representative and a Horizon quorum equal to the board
    threshold: a policy that changes the board moves the Horizon veto, and here
    its holders are the board quorum alone, so big_policy (a 9-member board)
    still fits one message with no more signatures than the two quorums."""
    return Authority(policy_overrides={"horizon_board_threshold": 2, "party_keys": ()})


def big_policy(authority: Authority, version: int = 2, signers=None) -> wire.Policy:
    """Policy `version` with the new board (threshold 2), signed by the current
    board's quorum and the new board's (it changes the board; with this
    module's authority the Horizon veto it moves is held by that same quorum)."""
    signers = signers if signers is not None else (authority.board_members[:2] + NEW_MEMBERS[:1])
    return authority.policy(
        version, signers=signers, board_threshold=2, horizon_board_threshold=3,
        board_keys=tuple(sorted(pub(k) for k in (authority.board,) + NEW_MEMBERS)),
        inspector_keys=tuple(sorted([pub(authority.inspector)] +
                                    [pub(k) for k in EXTRA_INSPECTORS])),
        revoked_keys=tuple(sorted(pub(k) for k in REVOKED)))


def _halt(dev: Device, authority: Authority, sequence: int, signers) -> DeviceStatus:
    return dev.status_of(C.ORDER, authority.order(K.HALT, dev.device_id, sequence,
                                                  signers=signers).to_bytes())


def _lift(dev: Device, authority: Authority, sequence: int, signers) -> DeviceStatus:
    return dev.status_of(C.ORDER, authority.order(K.LIFT_HALT, dev.device_id, sequence,
                                                  signers=signers).to_bytes())


def _frontier(dev: Device, authority: Authority, sequence: int, inspector, extra=()):
    lic = authority.frontier_license(dev.device_id, sequence, inspector_key=pub(inspector),
                                     signers=(authority.issuer, inspector) + tuple(extra))
    return dev.status_of(C.INSTALL_LICENSE, lic.to_bytes())


def _assert_new_lists_in_force(dev: Device, authority: Authority, sequence: int) -> int:
    """Checks every list of big_policy against the device; returns the next
    order sequence."""
    assert dev.info().policy_version == 2
    # Board: old members 1 and 2 no longer make a quorum, the new ones do
    # (keys from both ends of the 9-key list, across the copy chunks).
    assert _halt(dev, authority, sequence, authority.board_members[1:3]) == S.QUORUM_NOT_MET
    assert _halt(dev, authority, sequence, NEW_MEMBERS[6:8]) == S.OK
    assert _lift(dev, authority, sequence + 1, (authority.board,) + NEW_MEMBERS[3:4]) == S.OK
    return sequence + 2


def test_context_holds_no_copy_of_the_key_lists():
    # Four lists of 16/16/16/32 keys would be 2560 bytes, the ring 1280.
    assert lib.heg_ctx_size() < 2560


def test_key_lists_survive_many_streamed_commits_and_reboots(authority):
    dev = Device()
    provision(dev, authority)
    assert dev.status_of(C.INSTALL_POLICY, big_policy(authority).to_bytes()) == S.OK
    seq = _assert_new_lists_in_force(dev, authority, 1)
    # Many commits that do not touch the policy: each one copies the lists
    # (and the ring) from the slot in force into the other slot.
    for i in range(6):
        dev.attest(nonce=bytes([i]) * 32)
        dev.power_up()
    seq = _assert_new_lists_in_force(dev, authority, seq)
    # Inspector list: every listed inspector may back a Frontier license, an
    # unlisted one may not.
    assert _frontier(dev, authority, 1, EXTRA_INSPECTORS[0]) == S.OK
    assert _frontier(dev, authority, 2, _key("not an inspector")) == S.SIGNER_UNTRUSTED
    # Revoked list: a signature by a revoked key is refused outright.
    assert _frontier(dev, authority, 2, authority.inspector, extra=(REVOKED[0],)) \
        == S.KEY_REVOKED
    rebooted = Device(Flash(image=dev.flash.image()), seed=dev.seed)
    rebooted.authority = authority
    rebooted.device_id = dev.device_id
    rebooted.sync_time()
    _assert_new_lists_in_force(rebooted, authority, seq)
    assert _frontier(rebooted, authority, 2, EXTRA_INSPECTORS[0]) == S.OK


class _FailingProgram:
    """Makes the device's storage_program report a failure (a status, not a
    power cut) once armed, so the firmware itself sees the commit fail."""

    def __init__(self, dev: Device) -> None:
        self.armed = False
        self._program = dev.hal.storage_program
        dev.hal.storage_program = self

    def __call__(self, offset: int, data: bytes):
        if self.armed:
            return 1  # any non-zero HAL return is a storage failure
        return self._program(offset, data)


@pytest.mark.parametrize("via", ["install_policy", "provision"])
def test_failed_commit_rolls_back_to_the_old_key_lists(authority, via):
    dev = Device()
    failing = _FailingProgram(dev)
    if via == "provision":
        from fwkit import provision_request
        failing.armed = True
        assert dev.status_of(C.PROVISION, provision_request(authority)) == S.STORAGE
        failing.armed = False
        # Nothing of the genesis policy stayed behind: still unprovisioned,
        # and provisioning works afterwards.
        assert dev.info().state == wire.DeviceState.UNPROVISIONED
        assert dev.info().policy_version == 0
        provision(dev, authority)
        assert _halt(dev, authority, 1, authority.board_members[:2]) == S.OK
        return
    provision(dev, authority)
    failing.armed = True
    assert dev.status_of(C.INSTALL_POLICY, big_policy(authority).to_bytes()) == S.STORAGE
    failing.armed = False
    # The old policy is in force in RAM (no reboot) and in flash: old board,
    # old inspector list, nothing revoked.
    for d in (dev, Device(Flash(image=dev.flash.image()), seed=dev.seed)):
        if d is not dev:
            d.authority, d.device_id = authority, dev.device_id
            d.sync_time()
        assert d.info().policy_version == 1
        assert _halt(d, authority, 1, NEW_MEMBERS[:2]) == S.QUORUM_NOT_MET
        assert _halt(d, authority, 1, authority.board_members[:2]) == S.OK
        assert _frontier(d, authority, 1, EXTRA_INSPECTORS[0]) == S.SIGNER_UNTRUSTED
    # And the same install goes through once the flash works again.
    assert dev.status_of(C.INSTALL_POLICY, big_policy(authority).to_bytes()) == S.OK
    _assert_new_lists_in_force(dev, authority, 2)


def test_refused_install_leaves_the_old_lists_in_force(authority):
    dev = Device()
    provision(dev, authority)
    # Signed by the new board only: the current board's quorum is missing.
    bad = big_policy(authority, signers=NEW_MEMBERS[:2])
    assert dev.status_of(C.INSTALL_POLICY, bad.to_bytes()) == S.QUORUM_NOT_MET
    assert dev.info().policy_version == 1
    assert _halt(dev, authority, 1, authority.board_members[:2]) == S.OK
    assert _halt(dev, authority, 2, NEW_MEMBERS[:2]) == S.QUORUM_NOT_MET


def _log_chain(dev: Device) -> bytes:
    total = dev.read_log(0, 0).next_index
    page = dev.read_log(0, 8)
    head, index = page.head_before, page.entries[0].index
    while index < total:
        page = dev.read_log(index, 8)
        assert page.head_before == head
        for entry in page.entries:
            head = chain_head(head, entry.event_type, bytes(entry.payload))
        index = page.entries[-1].index + 1
    return head


@pytest.mark.parametrize("cut_in", ["install_policy", "license_after_big_policy"])
def test_power_cut_during_a_multi_chunk_streamed_commit(authority, cut_in):
    """Cut at every flash operation of a commit whose lists span several
    chunks: from the request (install_policy) or copied from flash (a later
    license install). After each cut the reboot finds the old or the new
    record, whole: the lists in force work and the log chains to its head."""
    base = Device()
    provision(base, authority)
    for _ in range(30):  # wrap the ring too, so its copy is split around the new entry
        base.power_up()
    if cut_in == "license_after_big_policy":
        assert base.status_of(C.INSTALL_POLICY, big_policy(authority).to_bytes()) == S.OK
        action = lambda d: d.request(  # noqa: E731
            C.INSTALL_LICENSE, authority.frontier_license(
                d.device_id, 1, inspector_key=pub(EXTRA_INSPECTORS[0]),
                signers=(authority.issuer, EXTRA_INSPECTORS[0])).to_bytes())
    else:
        action = lambda d: d.request(C.INSTALL_POLICY,  # noqa: E731
                                     big_policy(authority).to_bytes())
    image = base.flash.image()
    completed = False
    for cut in range(1, 64):
        dev = Device(Flash(image=image), seed=base.seed)
        dev.authority, dev.device_id = authority, base.device_id
        dev.sync_time()
        before = dev.info()
        dev.flash.cut_after(cut)
        try:
            action(dev)
        except PowerCut:
            pass
        else:
            dev.flash.cancel_cut()
            completed = True
        after = Device(Flash(image=dev.flash.image()), seed=base.seed)
        after.authority, after.device_id = authority, base.device_id
        after.sync_time()
        info = after.info()
        if cut_in == "install_policy":
            assert info.policy_version in (1, 2), f"cut {cut}"
            if info.policy_version == 2:
                _assert_new_lists_in_force(after, authority, 1)
            else:
                assert _halt(after, authority, 1, authority.board_members[:2]) == S.OK
        else:
            assert info.license_sequence in (before.license_sequence, 1), f"cut {cut}"
            _assert_new_lists_in_force(after, authority, 1)
        assert _log_chain(after) == after.attest().log_head, f"cut {cut}"
        if completed:
            break
    assert completed
