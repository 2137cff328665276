"""A provisioned device that loses its store fails closed (issue 9, item 9).

Before the fix a device whose store was lost or corrupt booted factory fresh,
and anyone could provision it with their own genesis policy and vendor key,
endorse it themselves and license it themselves. Now, when the device first
becomes PROVISIONED, it programs an anchor into its one-time-programmable area
(the vendor key and its first device id, never the seed). A device whose
anchor is programmed but whose store is gone boots into RECOVERY_REQUIRED:
gate closed, only INFO, READ_LOG and RECOVER, and RECOVER needs the anchored
vendor's signature over this boot's nonce and the exact genesis policy to take.
It then makes a new device key, so nothing signed for the old identity (whose
replay floors were lost with the store) ever binds it again.

Adversary moves tested: erase or corrupt the store and provision with one's
own keys; replay a recovery authorization (other boot, after use); sign it
with a key one owns; name another device; swap the genesis policy; cut power
at every flash and OTP operation of ENDORSE, of the first boot after the loss
and of RECOVER."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import nacl.signing
import pytest

from openheg import wire
from openheg.errors import DeviceStatus
from openheg_sim.flash import Flash, PowerCut

from fwkit import Authority, Device, _key, provision, provision_request, pub, recover, \
    recover_request

S = DeviceStatus
C = wire.Command
ST = wire.DeviceState


def _operator() -> Authority:
    """Keys the operator owns: its own board, issuer, vendor, time authority."""
    return Authority(issuer=_key("op issuer"), vendor=_key("op vendor"),
                     board_members=tuple(_key(f"op board {i}") for i in range(3)),
                     inspector=_key("op inspector"), party=_key("op party"),
                     time_authority=_key("op time"))


def _store_lost(dev: Device) -> Device:
    """The same part with every flash page erased: the OTP area survives."""
    flash = dev.flash.clone()
    for page in range(flash.page_count):
        flash.erase(page)
    return Device(flash, seed=dev.seed + b" after")


def _store_corrupt(dev: Device) -> Device:
    """Both records fail their digest (one bit flipped in each slot)."""
    image = bytearray(dev.flash.image())
    magic = (0x54534748).to_bytes(4, "little")
    starts = [p * dev.flash.page_size for p in range(dev.flash.page_count)
              if image[p * dev.flash.page_size:p * dev.flash.page_size + 4] == magic]
    assert len(starts) == 2
    for start in starts:
        image[start + 300] ^= 0x10
    return Device(Flash(dev.flash.page_size, dev.flash.page_count, image=bytes(image),
                        otp=dev.flash.otp_read()), seed=dev.seed)


@pytest.fixture
def anchored(authority) -> Device:
    dev = Device()
    provision(dev, authority)
    dev.first_id = dev.device_id
    return dev


@pytest.mark.parametrize("lose", [_store_lost, _store_corrupt])
def test_a_lost_store_cannot_be_provisioned_by_the_operator(anchored, lose):
    """Failed before the fix: the device booted UNPROVISIONED and took the
    operator's genesis policy, vendor endorsement and license, and computed."""
    dev = lose(anchored)
    op = _operator()
    assert dev.info().state == ST.RECOVERY_REQUIRED
    assert dev.status_of(C.PROVISION, provision_request(op)) == S.RECOVERY_REQUIRED
    assert dev.status_of(C.ENDORSE, op.endorsement(dev.info().device_id)) == \
        S.RECOVERY_REQUIRED
    lic = op.license(dev.info().device_id, 1)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.RECOVERY_REQUIRED
    assert dev.run(1000) == 0
    assert not dev.hal.meter.enable


def test_recovery_required_answers_only_info_read_log_and_recover(anchored):
    dev = _store_lost(anchored)
    info = dev.info()
    assert info.state == ST.RECOVERY_REQUIRED
    assert info.device_id == bytes(32)  # no key: the seed was in the lost store
    assert info.first_device_id == anchored.first_id
    assert info.vendor_key == anchored.authority.vendor_key
    assert info.recovery_nonce != bytes(32)
    assert dev.read_log(0, 8).entries[0].event_type == wire.EventType.RESET
    for command in wire.Command:
        if command in (C.INFO, C.READ_LOG, C.RECOVER):
            continue
        before = dev.snapshot()
        assert dev.status_of(command, b"\x00" * 40) == S.RECOVERY_REQUIRED, command.name
        assert dev.snapshot() == before
    # Persisted: a reboot stays in RECOVERY_REQUIRED, with a fresh nonce.
    dev.power_up(sync_time=False)
    assert dev.info().state == ST.RECOVERY_REQUIRED
    assert dev.info().recovery_nonce not in (info.recovery_nonce, bytes(32))


def test_the_anchored_vendor_recovers_it_under_a_new_identity(anchored, authority):
    dev = _store_lost(anchored)
    new_id = recover(dev, authority)
    assert new_id not in (anchored.first_id, bytes(32))
    info = dev.info()
    assert info.state == ST.PROVISIONED and info.device_id == new_id
    assert info.first_device_id == anchored.first_id  # the anchor keeps the first id
    assert info.recovery_nonce == bytes(32)
    assert info.policy_version == 1 and info.issuer_key == authority.issuer_key
    kinds = [e.event_type for e in dev.read_log(0, 8).entries]
    assert kinds[:4] == [wire.EventType.RESET, wire.EventType.RECOVERED,
                         wire.EventType.PROVISIONED, wire.EventType.TIME_SET]
    assert bytes(dev.read_log(1, 1).entries[0].payload) == anchored.first_id
    # It computes again under the authority's licenses for its new identity.
    lic = authority.license(new_id, 1, allocation=2_000_000)
    assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
    assert dev.run(500) == 500
    # And a second loss is recovered the same way (the anchor stays as it was).
    again = _store_lost(dev)
    assert again.info().first_device_id == anchored.first_id
    assert recover(again, authority) not in (new_id, anchored.first_id)


def test_nothing_signed_for_the_old_identity_binds_the_recovered_device(anchored, authority):
    old = authority.license(anchored.first_id, 5)
    assert anchored.status_of(C.INSTALL_LICENSE, old.to_bytes()) == S.OK
    dev = _store_lost(anchored)
    recover(dev, authority)
    # Its sequence floor is zero again, but the old licenses name the old id.
    assert dev.info().license_sequence == 0
    for sequence in (1, 5):
        assert dev.status_of(C.INSTALL_LICENSE, authority.license(
            anchored.first_id, sequence).to_bytes()) == S.WRONG_DEVICE
    order = authority.order(wire.OrderKind.HALT, anchored.first_id, 1)
    assert dev.status_of(C.ORDER, order.to_bytes()) == S.WRONG_DEVICE


def _refusal_cases(authority: Authority, dev: Device):
    info = dev.info()
    genesis = authority.policy()
    good = authority.recovery(info.first_device_id, info.recovery_nonce, genesis)
    op = _operator()
    op_genesis = op.policy()
    yield "operator's vendor key", authority.recovery(
        info.first_device_id, info.recovery_nonce, genesis, vendor=op.vendor).to_bytes() + \
        genesis.to_bytes(), S.SIGNATURE_INVALID
    yield "operator's genesis under the vendor's authorization", good.to_bytes() + \
        op_genesis.to_bytes(), S.GENESIS_MISMATCH
    yield "another device", authority.recovery(
        hashlib.sha256(b"another").digest(), info.recovery_nonce, genesis).to_bytes() + \
        genesis.to_bytes(), S.WRONG_DEVICE
    yield "another nonce", authority.recovery(
        info.first_device_id, hashlib.sha256(b"old boot").digest(), genesis).to_bytes() + \
        genesis.to_bytes(), S.RECOVERY_NONCE_MISMATCH
    yield "altered after signing", replace(good, genesis_policy_digest=wire.Recovery.
                                          policy_digest(op_genesis)).to_bytes() + \
        op_genesis.to_bytes(), S.SIGNATURE_INVALID
    # The vendor named a policy that is no genesis policy (version 2): refused
    # by the genesis check, as PROVISION refuses it on a fresh device.
    v2 = authority.policy(version=2)
    yield "not a genesis policy", authority.recovery(
        info.first_device_id, info.recovery_nonce, v2).to_bytes() + v2.to_bytes(), \
        Device().status_of(C.PROVISION, provision_request(authority, v2))
    yield "truncated", good.to_bytes()[:-1], S.RECORD_LENGTH
    yield "bad header", good.to_bytes()[:4] + bytes([wire.RecordType.LICENSE]) + \
        good.to_bytes()[5:] + genesis.to_bytes(), S.RECORD_HEADER


def test_recovery_refusals_change_nothing(anchored, authority):
    dev = _store_lost(anchored)
    for name, payload, expected in _refusal_cases(authority, dev):
        before = dev.snapshot()
        status = dev.status_of(C.RECOVER, payload)
        assert status == expected, f"{name}: {status.name}"
        assert dev.snapshot() == before, name
    assert dev.info().state == ST.RECOVERY_REQUIRED
    recover(dev, authority)  # the real authorization still works afterwards


def test_an_authorization_is_good_for_one_boot_and_once(anchored, authority):
    dev = _store_lost(anchored)
    payload = recover_request(authority, dev.info())
    dev.power_up(sync_time=False)  # a new boot, a new nonce
    assert dev.status_of(C.RECOVER, payload) == S.RECOVERY_NONCE_MISMATCH
    payload = recover_request(authority, dev.info())
    assert dev.status_of(C.RECOVER, payload) == S.OK
    assert dev.status_of(C.RECOVER, payload) == S.WRONG_STATE  # used up: KEYED now


def test_after_recovery_only_the_anchored_vendor_endorses(anchored, authority):
    dev = _store_lost(anchored)
    payload = dev.ok(C.RECOVER, recover_request(authority, dev.info()))
    new_id = wire.ProvisionResponseFormat.parse(payload).device_id
    op = _operator()
    assert dev.status_of(C.ENDORSE, op.endorsement(new_id)) == S.SIGNER_UNTRUSTED
    assert dev.status_of(C.ENDORSE, op.endorsement(new_id, vendor_key=authority.vendor_key)) \
        == S.SIGNATURE_INVALID
    assert dev.status_of(C.ENDORSE, authority.endorsement(new_id)) == S.OK


def test_a_device_never_provisioned_still_boots_factory_fresh():
    """No anchor (never endorsed): a lost store is a fresh device, as before."""
    dev = Device()
    dev.ok(C.PROVISION, provision_request(Authority()))  # KEYED, not anchored
    assert not dev.flash.otp_programmed
    fresh = _store_lost(dev)
    assert fresh.info().state == ST.UNPROVISIONED
    assert fresh.info().first_device_id == bytes(32)


def _endorse(dev: Device, authority: Authority):
    return dev.request(C.ENDORSE, authority.endorsement(dev.device_id))


def test_power_cut_at_every_operation_of_endorse_and_its_otp_program(authority):
    """Cut at the OTP program and at every flash operation of the commit. The
    OTP is programmed before the device is ever PROVISIONED: after any cut the
    device is KEYED or PROVISIONED; PROVISIONED only with a whole anchor; a
    torn anchor leaves it KEYED for good (fail closed); and a store lost after
    the cut never boots factory fresh once the OTP was touched."""
    base = Device()
    base.ok(C.PROVISION, provision_request(authority))
    base.device_id = base.info().device_id
    outcomes = set()
    for cut in range(1, 64):
        dev = Device(base.flash.clone(), seed=base.seed)
        dev.flash.cut_after(cut)
        try:
            _endorse(dev, authority)
        except PowerCut:
            done = False
        else:
            dev.flash.cancel_cut()
            done = True
        after = Device(dev.flash.clone(), seed=base.seed)
        state, first = after.info().state, after.info().first_device_id
        anchor_whole = first == base.device_id
        if state == ST.PROVISIONED:
            assert anchor_whole, f"cut {cut}: PROVISIONED without its anchor"
            outcomes.add("provisioned")
        else:
            assert state == ST.KEYED, f"cut {cut}: {state.name}"
            retry = _endorse(after, authority).status
            if dev.flash.otp_programmed and not anchor_whole:
                assert retry == S.OTP_INVALID, f"cut {cut}"
                outcomes.add("torn anchor")
            else:
                assert retry == S.OK, f"cut {cut}"
                outcomes.add("anchored, commit lost" if anchor_whole else "nothing")
        lost = _store_lost(after).info().state
        assert lost == (ST.RECOVERY_REQUIRED if dev.flash.otp_programmed
                        else ST.UNPROVISIONED), f"cut {cut}"
        if done:
            break
    assert done
    assert outcomes == {"provisioned", "torn anchor", "anchored, commit lost"}


def test_a_torn_anchor_is_never_recovered(authority):
    base = Device()
    base.ok(C.PROVISION, provision_request(authority))
    base.device_id = base.info().device_id
    base.flash.cut_after(1)  # ENDORSE's first operation of the part: the OTP program
    with pytest.raises(PowerCut):
        _endorse(base, authority)
    assert base.flash.otp_programmed
    dev = _store_lost(Device(base.flash.clone(), seed=base.seed))
    info = dev.info()
    assert info.state == ST.RECOVERY_REQUIRED and info.first_device_id == bytes(32)
    payload = authority.recovery(base.device_id, info.recovery_nonce,
                                 authority.policy()).to_bytes() + authority.policy().to_bytes()
    assert dev.status_of(C.RECOVER, payload) == S.OTP_INVALID
    assert dev.run(100) == 0


def test_power_cut_at_every_flash_operation_of_the_first_boot_after_the_loss(anchored):
    lost = _store_lost(anchored)
    for cut in range(1, 32):
        flash = lost.flash.clone()
        for page in range(flash.page_count):
            flash.erase(page)  # back to the moment the store was lost
        flash.cut_after(cut)
        try:
            dev = Device(flash, seed=b"boot")
        except PowerCut:
            flash.cancel_cut()
            assert Device(flash.clone(), seed=b"boot").info().state == ST.RECOVERY_REQUIRED
            continue
        assert dev.info().state == ST.RECOVERY_REQUIRED
        break
    else:
        pytest.fail("the boot never completed")


def test_power_cut_at_every_flash_operation_of_recover(anchored, authority):
    """After any cut: still RECOVERY_REQUIRED (with a new nonce, so the
    authorization the cut interrupted is spent) or KEYED under a new key."""
    lost = _store_lost(anchored)
    image_otp = lost.flash.clone()
    completed = False
    for cut in range(1, 64):
        dev = Device(image_otp.clone(), seed=b"rec")
        info = dev.info()
        payload = recover_request(authority, info)
        dev.flash.cut_after(cut)
        try:
            dev.request(C.RECOVER, payload)
        except PowerCut:
            pass
        else:
            dev.flash.cancel_cut()
            completed = True
        after = Device(dev.flash.clone(), seed=b"after")
        state = after.info().state
        if state == ST.RECOVERY_REQUIRED:
            assert after.info().recovery_nonce != info.recovery_nonce
            assert after.status_of(C.RECOVER, payload) == S.RECOVERY_NONCE_MISMATCH
        else:
            assert state == ST.KEYED and after.info().device_id not in (bytes(32),
                                                                        anchored.first_id)
            assert after.status_of(C.ENDORSE, authority.endorsement(
                after.info().device_id)) == S.OK
        if completed:
            break
    assert completed


def test_the_seed_is_not_in_the_otp_area(anchored):
    """The anchor holds the vendor key and the first device id, never a
    secret: the device key cannot be rebuilt from the OTP area."""
    otp = anchored.flash.otp_read()
    assert anchored.authority.vendor_key in otp and anchored.first_id in otp
    for start in range(len(otp) - 31):
        as_seed = nacl.signing.SigningKey(otp[start:start + 32])
        assert pub(as_seed) != anchored.first_id


def test_a_replayed_pre_provisioning_store_is_not_provisioned_again(authority):
    """Flash content from before the first provisioning (a factory-fresh
    record) beside a programmed OTP area: boot takes the valid record, but
    PROVISION checks the OTP area again and refuses: once anchored, only the
    anchored vendor's RECOVER provisions a device."""
    fresh = Device()  # its first boot wrote an UNPROVISIONED record
    before_provisioning = fresh.flash.image()
    provision(fresh, authority)
    replayed = Device(Flash(image=before_provisioning, otp=fresh.flash.otp_read()),
                      seed=b"replay")
    assert replayed.info().state == ST.UNPROVISIONED
    before = replayed.snapshot()
    assert replayed.status_of(C.PROVISION, provision_request(_operator())) == S.WRONG_STATE
    assert replayed.snapshot() == before
