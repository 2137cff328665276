"""Policy updates, trusted time, license classes, orders, the event log ring,
the failed-attempt lockout, and the meter's watchdog, lock and tamper."""

from __future__ import annotations

import pytest

from openheg import regmap, wire
from openheg.errors import DeviceStatus
from openheg.series import chain_head

from fwkit import FRONTIER, HORIZON, NOW, Authority, Device, _key, power_cuts, provision, pub, \
    provision_request

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
G = wire.GateCause


def install(dev: Device, record) -> DeviceStatus:
    return dev.status_of(C.INSTALL_LICENSE, record.to_bytes())


def order(dev: Device, record) -> DeviceStatus:
    status = dev.status_of(C.ORDER, record.to_bytes())
    dev.firmware.poll()
    return status


def settle(dev: Device) -> None:
    """One poll and one clock edge: the gate decision is registered, so a close
    the firmware decides takes effect at the next edge."""
    dev.firmware.poll()
    dev.hal.meter.idle(1)


def licensed(authority: Authority, **policy) -> Device:
    authority.policy_overrides.update(policy)
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1)
    assert install(dev, lic) == S.OK
    dev.license = lic
    return dev


# ------------------------------------------------------------------ provisioning
def test_genesis_policy_is_the_root_of_trust(device, authority):
    assert device.status_of(C.PROVISION, provision_request(
        authority, authority.policy(signers=authority.board_members[:1]))) == S.QUORUM_NOT_MET
    outsider = authority.policy(signers=(authority.issuer, authority.inspector))
    assert device.status_of(C.PROVISION, provision_request(authority, outsider)) \
        == S.QUORUM_NOT_MET
    assert device.status_of(C.PROVISION, provision_request(
        authority, authority.policy(version=2))) == S.SEQUENCE_JUMP
    assert device.info().state == wire.DeviceState.UNPROVISIONED
    provision(device, authority)
    info = device.info()
    assert info.policy_version == 1 and info.issuer_key == authority.issuer_key


def test_policy_parser_refuses_what_the_spec_refuses(device, authority):
    good = authority.policy().to_bytes()
    cleared = bytearray(good)
    cleared[wire.field_offsets(wire.PolicyFixedFormat)["baselines"][0]] &= 0xFE
    zero_weight = bytearray(good)
    weights = wire.field_offsets(wire.PolicyFixedFormat)["weights_milli"][0]
    zero_weight[weights:weights + 4] = bytes(4)
    for data, expected in ((good[:-1], S.RECORD_LENGTH), (good + b"\0", S.RECORD_LENGTH),
                           (bytes(cleared), S.RECORD_FIELD), (bytes(zero_weight), S.RECORD_FIELD),
                           (good[:4] + b"\x01" + good[5:], S.RECORD_HEADER)):
        assert device.status_of(C.PROVISION, authority.vendor_key + data) == expected


# ------------------------------------------------------------------ policy updates
def test_policy_goes_exactly_n_to_n_plus_one(provisioned, authority):
    dev = provisioned
    assert dev.status_of(C.INSTALL_POLICY, authority.policy(1).to_bytes()) == S.REPLAYED
    assert dev.status_of(C.INSTALL_POLICY, authority.policy(3).to_bytes()) == S.SEQUENCE_JUMP
    weak = authority.policy(2, signers=authority.board_members[:1])
    assert dev.status_of(C.INSTALL_POLICY, weak.to_bytes()) == S.QUORUM_NOT_MET
    v2 = authority.policy(2, allowance_chunk_msflop=500_000)
    assert dev.status_of(C.INSTALL_POLICY, v2.to_bytes()) == S.OK
    assert dev.info().policy_version == 2
    assert dev.attest().policy_version == 2
    assert dev.status_of(C.INSTALL_POLICY, v2.to_bytes()) == S.REPLAYED


def test_board_rotation_needs_old_and_new_quorum(provisioned, authority):
    new_members = tuple(_key(f"new member {i}") for i in range(3))
    new_board = tuple(sorted(pub(k) for k in new_members))
    only_old = authority.policy(2, board_keys=new_board)
    assert provisioned.status_of(C.INSTALL_POLICY, only_old.to_bytes()) == S.QUORUM_NOT_MET
    only_new = authority.policy(2, board_keys=new_board, signers=new_members[:2])
    assert provisioned.status_of(C.INSTALL_POLICY, only_new.to_bytes()) == S.QUORUM_NOT_MET
    # A new board also moves the Horizon veto (test_governance_veto): its
    # holders, the old board's Horizon quorum and the party, assent too.
    both = authority.policy(2, board_keys=new_board, signers=authority.board_members
                            + (authority.party,) + new_members[:2])
    assert provisioned.status_of(C.INSTALL_POLICY, both.to_bytes()) == S.OK
    # From now on the new board rules alone.
    rotated = Authority(board_members=new_members)
    assert provisioned.status_of(C.INSTALL_POLICY, authority.policy(3).to_bytes()) \
        == S.QUORUM_NOT_MET
    assert provisioned.status_of(C.INSTALL_POLICY, rotated.policy(3).to_bytes()) == S.OK


def test_revoked_key_is_refused_even_with_a_valid_signature(provisioned, authority):
    revoked = pub(authority.board_members[2])
    v2 = authority.policy(2, revoked_keys=(revoked,))
    assert provisioned.status_of(C.INSTALL_POLICY, v2.to_bytes()) == S.OK
    v3 = authority.policy(3, revoked_keys=(revoked,), signers=authority.board_members)
    assert provisioned.status_of(C.INSTALL_POLICY, v3.to_bytes()) == S.KEY_REVOKED
    v3 = authority.policy(3, revoked_keys=(revoked,))
    assert provisioned.status_of(C.INSTALL_POLICY, v3.to_bytes()) == S.OK


def test_new_weights_reach_the_meter_at_the_next_boot_and_are_locked(provisioned, authority):
    weights = tuple(w + 1 for w in (regmap.DEFAULT_WEIGHTS_MILLI[lane] for lane in regmap.LANES))
    assert provisioned.status_of(C.INSTALL_POLICY,
                                 authority.policy(2, weights_milli=weights).to_bytes()) == S.OK
    assert G.WEIGHTS_PENDING not in provisioned.attest().gate_causes  # no license: moot
    provisioned.power_up()
    meter = provisioned.hal.meter
    assert tuple(meter.read(getattr(regmap, f"REG_WEIGHT_{lane}")) for lane in regmap.LANES) \
        == weights
    assert meter.read(regmap.REG_STATUS) & regmap.STATUS_CFG_LOCKED_MASK
    meter.write(regmap.REG_WEIGHT_FP8, 1)  # locked: ignored
    assert meter.read(regmap.REG_WEIGHT_FP8) == weights[regmap.LANES.index("FP8")]


def test_a_licensed_device_meters_nothing_with_stale_weights(authority):
    """A policy that changes the weights closes the gate until the reset that
    loads them (the meter's configuration is locked after boot); a policy that
    keeps them does not."""
    dev = licensed(authority)
    settle(dev)
    assert dev.run(10) == 10
    same = authority.policy(2)
    assert dev.status_of(C.INSTALL_POLICY, same.to_bytes()) == S.OK
    settle(dev)
    assert G.WEIGHTS_PENDING not in dev.attest().gate_causes and dev.run(10) == 10
    weights = tuple(2 * regmap.DEFAULT_WEIGHTS_MILLI[lane] for lane in regmap.LANES)
    assert dev.status_of(C.INSTALL_POLICY,
                         authority.policy(3, weights_milli=weights).to_bytes()) == S.OK
    settle(dev)
    attestation = dev.attest()
    assert G.WEIGHTS_PENDING in attestation.gate_causes
    assert attestation.gate_state == wire.GateState.CLOSED
    assert dev.run(10) == 0
    dev.power_up()
    settle(dev)
    assert G.WEIGHTS_PENDING not in dev.attest().gate_causes
    before = dev.attest().consumed_msflop
    assert dev.run(10) == 10
    fp8 = regmap.LANES.index("FP8")
    assert dev.attest().consumed_msflop - before == 10 * weights[fp8]


# ------------------------------------------------------------------ time
def test_beacon_must_echo_the_outstanding_nonce_once(provisioned, authority):
    dev = provisioned
    nonce = wire.TimeNonceResponseFormat.parse(dev.ok(C.TIME_NONCE)).device_nonce
    forged = authority.beacon(dev.device_id, nonce, NOW, signer=authority.issuer)
    assert dev.status_of(C.TIME_BEACON, forged.to_bytes()) == S.SIGNATURE_INVALID
    other = authority.beacon(bytes(32), nonce, NOW)
    assert dev.status_of(C.TIME_BEACON, other.to_bytes()) == S.WRONG_DEVICE
    stale = authority.beacon(dev.device_id, b"\x01" * 32, NOW)
    assert dev.status_of(C.TIME_BEACON, stale.to_bytes()) == S.REPLAYED
    good = authority.beacon(dev.device_id, nonce, NOW)
    assert dev.status_of(C.TIME_BEACON, good.to_bytes()) == S.OK
    assert dev.status_of(C.TIME_BEACON, good.to_bytes()) == S.REPLAYED  # single use


def test_no_beacon_means_no_grant(authority):
    dev = Device()
    provision(dev, authority, sync_time=False)
    lic = authority.license(dev.device_id, 1)
    assert install(dev, lic) == S.TIME_UNTRUSTED
    dev.sync_time()
    assert install(dev, lic) == S.OK
    assert dev.run(100) == 100


def test_gate_fails_closed_when_the_beacon_gets_stale(authority):
    dev = licensed(authority)
    assert dev.run(100) == 100
    dev.advance(3600)  # beacon_max_age_s, and the drift pushes it over
    settle(dev)
    assert dev.run(100) == 0
    assert G.TIME_UNTRUSTED in dev.attest().gate_causes
    dev.sync_time()
    assert dev.run(100) == 100


def test_reboot_loses_trusted_time(authority):
    dev = licensed(authority)
    dev.power_up(sync_time=False)
    assert dev.run(10) == 0
    causes = dev.attest().gate_causes
    assert G.TIME_UNTRUSTED in causes and G.NO_LICENSE not in causes
    dev.sync_time()
    assert dev.run(10) == 10


def test_gate_closes_at_the_end_of_the_license_window(authority):
    dev = Device()
    provision(dev, authority)
    lic = authority.license(dev.device_id, 1, not_before=NOW - 10, not_after=NOW + 100)
    assert install(dev, lic) == S.OK
    assert dev.run(10) == 10
    dev.advance(101)
    settle(dev)
    assert dev.run(10) == 0
    assert G.LICENSE_WINDOW in dev.attest().gate_causes


def test_window_checks_use_the_conservative_bound(authority):
    dev = Device()
    provision(dev, authority)
    dev.advance(1000)  # drift 100 ppm over 1000 s: +-0.1 s, rounded outward to 1 s
    late = authority.license(dev.device_id, 1, not_before=NOW - 10, not_after=NOW + 1000)
    assert install(dev, late) == S.EXPIRED
    early = authority.license(dev.device_id, 1, not_before=NOW + 1000, not_after=NOW + 5000)
    assert install(dev, early) == S.NOT_YET_VALID


# ------------------------------------------------------------------ classes
def test_class_is_computed_from_compute_and_thresholds(provisioned, authority):
    dev = provisioned
    under = authority.license(dev.device_id, 1, workload_total_msflop=FRONTIER - 1)
    assert install(dev, under) == S.OK
    lineage = authority.license(dev.device_id, 2, workload_total_msflop=FRONTIER - 1,
                                lineage_msflop=1)
    assert install(dev, lineage) == S.CLASS_TOO_LOW
    assert install(dev, authority.frontier_license(dev.device_id, 2)) == S.OK
    horizon_total = authority.frontier_license(dev.device_id, 3, workload_total_msflop=HORIZON)
    assert install(dev, horizon_total) == S.CLASS_TOO_LOW


def test_frontier_needs_the_named_listed_inspector_and_oversight(provisioned, authority):
    dev = provisioned
    assert install(dev, authority.frontier_license(dev.device_id, 1, signers=(
        authority.issuer,))) == S.SIGNER_UNTRUSTED
    stranger = _key("stranger")
    assert install(dev, authority.frontier_license(
        dev.device_id, 1, inspector_key=pub(stranger),
        signers=(authority.issuer, stranger))) == S.SIGNER_UNTRUSTED
    assert install(dev, authority.frontier_license(dev.device_id, 1, oversight_ppm=9_999)) \
        == S.OVERSIGHT_TOO_LOW
    assert install(dev, authority.frontier_license(dev.device_id, 1, signers=(
        authority.inspector,))) == S.SIGNER_UNTRUSTED
    assert install(dev, authority.frontier_license(dev.device_id, 1)) == S.OK


def test_horizon_needs_board_quorum_and_every_party(provisioned, authority):
    dev = provisioned
    base = dict(workload_total_msflop=HORIZON, license_class=wire.LicenseClass.HORIZON)
    everyone = (authority.issuer, authority.inspector, authority.party) + authority.board_members
    assert install(dev, authority.frontier_license(
        dev.device_id, 1, signers=everyone[:-1], **base)) == S.QUORUM_NOT_MET
    assert install(dev, authority.frontier_license(
        dev.device_id, 1, signers=(authority.issuer, authority.inspector)
        + authority.board_members, **base)) == S.QUORUM_NOT_MET
    assert install(dev, authority.frontier_license(dev.device_id, 1, signers=everyone,
                                                   **base)) == S.OK


def test_thresholds_rise_daily_so_an_old_frontier_workload_becomes_standard(authority):
    authority.policy_overrides.update(frontier_daily_increase_msflop=10**9,
                                      schedule_epoch_day=NOW // 86400 - 10)
    dev = Device()
    provision(dev, authority)
    # F today = FRONTIER + 10 * 1e9: this workload is below it, though above
    # F's base value.
    lic = authority.license(dev.device_id, 1, workload_total_msflop=FRONTIER + 5 * 10**9)
    assert install(dev, lic) == S.OK
    above = authority.license(dev.device_id, 2, workload_total_msflop=FRONTIER + 10 * 10**9)
    assert install(dev, above) == S.CLASS_TOO_LOW


# ------------------------------------------------------------------ orders
def test_pause_and_resume_by_the_named_inspector(authority):
    dev = licensed(authority)
    wid = dev.license.workload_id
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, wid,
                                      signers=(authority.issuer,))) == S.SIGNER_UNTRUSTED
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, wid)) == S.OK
    assert dev.hal.meter.pause == regmap.PAUSE_REQUEST_PAUSE
    assert dev.run(10) == 0
    att = dev.attest()
    assert att.gate_state == wire.GateState.CLOSED and G.PAUSED in att.gate_causes
    assert dev.info().inspector_order_sequence == 1
    # Survives a reboot.
    dev.power_up()
    assert dev.run(10) == 0
    resume = dict(issued_at=NOW - 30)
    assert order(dev, authority.order(K.RESUME, dev.device_id, 1, wid, **resume)) == S.REPLAYED
    assert order(dev, authority.order(K.RESUME, dev.device_id, 2 + wire.MAX_SEQUENCE_JUMP,
                                      wid, **resume)) == S.SEQUENCE_JUMP
    assert order(dev, authority.order(K.RESUME, dev.device_id, 2, wid, **resume)) == S.OK
    assert dev.run(10) == 10


def test_board_quorum_can_resume_halt_and_lift(authority):
    dev = licensed(authority)
    wid = dev.license.workload_id
    board = authority.board_members
    by_board = dict(role=wire.SignerRole.BOARD, issued_at=NOW - 30)
    assert order(dev, authority.order(K.PAUSE, dev.device_id, 1, wid)) == S.OK
    assert order(dev, authority.order(K.RESUME, dev.device_id, 1, wid,
                                      signers=board[:1], **by_board)) == S.QUORUM_NOT_MET
    assert order(dev, authority.order(K.RESUME, dev.device_id, 1, wid, **by_board)) == S.OK
    assert order(dev, authority.order(K.HALT, dev.device_id, 2,
                                      signers=(authority.inspector,))) == S.QUORUM_NOT_MET
    assert order(dev, authority.order(K.HALT, dev.device_id, 2)) == S.OK
    assert dev.run(10) == 0
    assert G.HALTED in dev.attest().gate_causes
    # A halt binds every license, new ones too.
    assert install(dev, authority.frontier_license(dev.device_id, 2)) == S.OK
    assert dev.run(10) == 0
    assert order(dev, authority.order(K.LIFT_HALT, dev.device_id, 3)) == S.OK
    assert dev.run(10) == 10
    info = dev.info()
    assert (info.inspector_order_sequence, info.board_order_sequence) == (1, 3)


# ------------------------------------------------------------------ event log
def _chain(head: bytes, entries) -> bytes:
    for entry in entries:
        head = chain_head(head, entry.event_type, bytes(entry.payload))
    return head


def test_log_reads_out_and_chains_to_the_attested_head(authority):
    dev = licensed(authority)
    wid = dev.license.workload_id
    order(dev, authority.order(K.PAUSE, dev.device_id, 1, wid))
    page = dev.read_log(0, 8)
    kinds = [wire.EventType(e.event_type) for e in page.entries]
    assert kinds[:5] == [wire.EventType.RESET, wire.EventType.POLICY_INSTALLED,
                         wire.EventType.PROVISIONED, wire.EventType.TIME_SET,
                         wire.EventType.LICENSE_INSTALLED]
    assert kinds[5] == wire.EventType.ORDER_APPLIED
    assert page.head_before == bytes(32) and page.next_index == 6
    assert _chain(page.head_before, page.entries) == dev.attest().log_head
    second = dev.read_log(3, 2)
    assert [e.index for e in second.entries] == [3, 4]
    assert _chain(second.head_before, second.entries) == _chain(bytes(32), page.entries[:5])


def test_log_ring_keeps_the_newest_entries(provisioned):
    dev = provisioned
    for _ in range(40):
        dev.power_up(sync_time=False)  # each boot logs RESET
    total = dev.read_log(0, 0).next_index
    assert total == 4 + 40
    page = dev.read_log(0, 8)
    assert page.entries[0].index == total - 32  # the older ones are gone: a gap
    head, index = page.head_before, page.entries[0].index
    while index < total:
        page = dev.read_log(index, 8)
        assert page.head_before == head
        head = _chain(head, page.entries)
        index = page.entries[-1].index + 1
    assert head == dev.attest().log_head
    assert dev.status_of(C.READ_LOG, wire.ReadLogRequestFormat.build(
        {"first_index": 0, "max_entries": 9})) == S.BAD_REQUEST


# ------------------------------------------------------------------ lockout
def test_failed_attempts_lock_out_across_power_cycles(authority):
    authority.policy_overrides.update(lockout_threshold=3, lockout_duration_s=600)
    dev = Device()
    provision(dev, authority)
    bad = authority.license(dev.device_id, 1, signers=(_key("rogue"),))
    for _ in range(3):
        assert install(dev, bad) == S.SIGNER_UNTRUSTED
    good = authority.license(dev.device_id, 1)
    assert install(dev, good) == S.LOCKED_OUT
    dev.power_up()  # a reboot restarts the wait, it does not end it
    assert install(dev, good) == S.LOCKED_OUT
    dev.advance(601)
    dev.sync_time()
    assert install(dev, good) == S.OK
    # A success clears the count.
    for _ in range(2):
        assert install(dev, authority.license(dev.device_id, 2, signers=(_key("r"),))) \
            == S.SIGNER_UNTRUSTED
    assert install(dev, authority.license(dev.device_id, 2)) == S.OK


# ------------------------------------------------------------------ meter guards
def test_watchdog_is_armed_with_the_policy_period_and_kicked(authority):
    dev = licensed(authority, watchdog_period_cycles=5000)
    meter = dev.hal.meter
    assert meter.wdog_armed and meter.wdog_period == 5000
    assert dev.run(2000) == 2000  # polls keep kicking it
    meter.idle(6000)  # firmware stalled: the gate closes
    assert not meter.enable
    assert G.WATCHDOG in dev.attest().gate_causes


def test_tamper_closes_the_gate_for_good(authority):
    dev = licensed(authority)
    dev.hal.meter.set_tamper(True)
    dev.hal.meter.idle(1)
    dev.firmware.poll()
    dev.hal.meter.set_tamper(False)
    assert dev.run(10) == 0
    assert G.TAMPER in dev.attest().gate_causes
    dev.power_up()  # the meter forgot; the firmware did not
    assert dev.run(10) == 0
    assert dev.attest().gate_causes & G.TAMPER
    assert wire.EventType.TAMPER in [wire.EventType(e.event_type)
                                     for e in dev.read_log(0, 8).entries]


def _two_v2s(authority):
    """Two quorum-signed policies v2: one the board signed and did not publish
    (half the FP8 weight: half the metered compute per op), and the published one."""
    weights = dict(zip(regmap.LANES, authority.policy().weights_milli))
    weights["FP8"] //= 2
    unpublished = authority.policy(2, weights_milli=tuple(weights[lane]
                                                          for lane in regmap.LANES))
    return unpublished, authority.policy(2, allowance_chunk_msflop=500_000)


def _verify(dev, authority, **kwargs):
    import os

    from openheg.verify import verify_attestation

    challenge = os.urandom(32)
    raw = dev.ok(C.ATTEST, challenge)
    endorsement = wire.Endorsement.from_bytes(authority.endorsement(dev.device_id))
    return verify_attestation(raw, nonce=challenge, endorsement=endorsement,
                              vendor_keys={authority.vendor_key}, **kwargs)


# Review finding 9 (regression): the attestation named the policy by its version
# alone, and the verifier given the published v2 trusted a device running the other.
def test_a_verifier_tells_which_v2_the_device_runs(provisioned, authority):
    from openheg.errors import VerificationError

    dev = provisioned
    unpublished, published = _two_v2s(authority)
    assert dev.status_of(C.INSTALL_POLICY, unpublished.to_bytes()) == S.OK
    with pytest.raises(VerificationError, match="another policy v2 than the authority's"):
        _verify(dev, authority, policy_version=2,
                authority_policy=wire.Policy.from_bytes(published.to_bytes()))

def test_the_published_policy_verifies_whichever_quorum_signed_it(provisioned, authority):
    """The digest is the policy's, not its signatures': the operator installing the
    published v2 signed by another quorum of the board is running the published v2."""
    _, published = _two_v2s(authority)
    other_quorum = authority.policy(2, signers=authority.board_members[1:3],
                                    allowance_chunk_msflop=500_000)
    assert other_quorum.signatures != published.signatures
    assert dev_installs(provisioned, other_quorum)
    verified = _verify(provisioned, authority, policy_version=2, authority_policy=published)
    assert verified.attestation.policy_digest == published.digest


def dev_installs(dev, policy) -> bool:
    return dev.status_of(C.INSTALL_POLICY, policy.to_bytes()) == S.OK


def test_a_verifier_given_the_chain_refuses_a_version_the_authority_never_published(
        provisioned, authority):
    from openheg.errors import VerificationError

    unpublished, published = _two_v2s(authority)
    genesis = authority.policy()
    # Still on the genesis policy: the chain holds it, and it is the one published.
    assert _verify(provisioned, authority, policies=[genesis, published]).attestation \
        .policy_digest == genesis.digest
    assert dev_installs(provisioned, unpublished)
    with pytest.raises(VerificationError, match="another policy v2"):
        _verify(provisioned, authority, policies=[genesis, published])
    with pytest.raises(VerificationError, match="never published"):
        _verify(provisioned, authority, policies=[genesis])


def test_the_log_names_the_digest_of_every_policy_installed(provisioned, authority):
    """A fork between two v2s is visible in the log as well: POLICY_INSTALLED
    carries the digest, and the chain over it ends at the attested head."""
    unpublished, _ = _two_v2s(authority)
    assert dev_installs(provisioned, unpublished)
    entries = provisioned.read_log(0, 8).entries
    installed = [wire.PolicyInstalledPayloadFormat.parse(bytes(e.payload)) for e in entries
                 if e.event_type == wire.EventType.POLICY_INSTALLED]
    assert [(p.policy_version, p.policy_digest) for p in installed] == [
        (1, authority.policy().digest), (2, unpublished.digest)]
    head = bytes(32)
    for entry in entries:
        head = chain_head(head, int(entry.event_type), bytes(entry.payload))
    assert provisioned.attest().log_head == head


def test_a_power_cut_during_a_policy_install_attests_the_old_policy_or_the_new(authority):
    unpublished, _ = _two_v2s(authority)
    base = Device()
    provision(base, authority)
    seen = set()
    for _, after, _ in power_cuts(base, lambda dev: dev_installs(dev, unpublished)):
        att = after.attest()
        seen.add((att.policy_version, att.policy_digest))
    assert seen == {(1, authority.policy().digest), (2, unpublished.digest)}


def test_a_report_under_the_published_policy_flags_a_device_on_the_other_v2(authority,
                                                                             tmp_path):
    """`attest collect` has no authority to hold the digest against; the report,
    made under the published policy, does: the ledger keeps each report's digest."""
    from openheg.ledger import Ledger
    from openheg.report import build_report

    unpublished, published = _two_v2s(authority)
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.record_workload("w", b"W" * 16, 4 * 8_000_000, 0, "STANDARD")
    for seed, policy in ((b"honest", published), (b"forked", unpublished)):
        dev = Device(seed=seed)
        provision(dev, authority)
        assert dev_installs(dev, policy)
        dev.power_up()  # the new weights load at reset
        lic = authority.license(dev.device_id, 1, license_id=seed.ljust(16, b"."))
        ledger.record_license(lic)
        assert dev.status_of(C.INSTALL_LICENSE, lic.to_bytes()) == S.OK
        ledger.record_attestation(dev.ok(C.ATTEST, b"n" * 32), received_at=dev.now)
        assert ledger.attestations(dev.device_id.hex())[0].policy_digest == \
            policy.digest.hex()
        forks = [a for a in build_report(ledger, "w", published, now=dev.now)["anomalies"]
                 if a["kind"] == "policy-fork"]
        assert [a["device_id"] for a in forks] == (
            [] if policy is published else [dev.device_id.hex()])
    ledger.close()
