"""Model-based test: random sequences of licenses, meter events, orders, time
beacons, clock advances, reboots and power cuts against the C firmware, with a
Python model of the device's security-relevant observable state.

The model is of the invariants, not of every byte: which license and order
sequences are in force, whether a pause or halt is in force, whether the
device holds trusted time, and the bounds consumption must stay in. After
every step it checks (through INFO, ATTEST and the meter's enable output):

* sequences (license, order, report counter, reset count) never go back;
* consumption of a license never goes down and never exceeds its allocation
  by more than the ops in flight as the gate closes;
* the gate is closed whenever a pause or halt is in force, the license is
  revoked or exhausted, there is no license, or trusted time is missing or
  stale, and the attestation's PAUSED / HALTED / LICENSE_REVOKED / NO_LICENSE /
  TIME_UNTRUSTED causes say exactly what the model says.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from openheg import wire
from openheg.errors import DeviceStatus
from openheg_sim.flash import PowerCut
from openheg_sim.meter_model import METERING_LATENCY_EDGES

from fwkit import LOCKOUT_THRESHOLD, Authority, Device, provision, signed_unchecked

S = DeviceStatus
C = wire.Command
K = wire.OrderKind
G = wire.GateCause
OPS_PER_CYCLE = 4
WEIGHT = 1000  # FP8
# Ops in flight as the gate closes: the cycle that reaches the limit and the metering pipeline.
MARGIN = (1 + METERING_LATENCY_EDGES) * OPS_PER_CYCLE * WEIGHT
MAX_AGE = 3600
WORKLOAD = b"W" * 16  # every license here is for it (fwkit's default)


class FirmwareMachine(RuleBasedStateMachine):
    @initialize()
    def boot(self):
        self.authority = Authority(policy_overrides={"allowance_chunk_msflop": 50_000,
                                                     "beacon_max_age_s": MAX_AGE})
        self.dev = Device()
        provision(self.dev, self.authority)
        self.license = None  # (sequence, id, allocation)
        self.license_seq = 0
        self.order_seq = {role: 0 for role in wire.SignerRole}
        self.paused = False
        self.workload_known = False  # in the device's workload table
        self.halted = False
        self.revoked = False
        self.beacon_at: int | None = self.dev.hal.now
        self.consumed = 0
        self.report = 0
        self.resets = self.dev.info().reset_count

    # ------------------------------------------------------------ helpers
    def time_trusted(self) -> bool:
        # The most time that may have passed counts the reference oscillator's
        # tolerance (wider than the crystal's 100 ppm drift): it shortens the
        # trusted span; stay clear of the edge.
        span = MAX_AGE * 1_000_000 / (1_000_000 + wire.REFERENCE_TOLERANCE_PPM)
        return self.beacon_at is not None and self.dev.hal.now - self.beacon_at < span - 1

    def reboot(self):
        self.dev.power_up(sync_time=False)
        self.beacon_at = None
        self.resets += 1

    # ------------------------------------------------------------ rules
    @rule(jump=st.integers(1, 3), allocation=st.integers(1, 400_000), good=st.booleans())
    def install_license(self, jump, allocation, good):
        seq = self.license_seq + jump
        signers = (self.authority.issuer, self.authority.inspector) if good else \
            (self.authority.inspector,)
        now = self.dev.hal.now
        lic = self.authority.frontier_license(self.dev.device_id, seq, allocation=allocation,
                                              signers=signers, not_before=now - 3600,
                                              not_after=now + 10**7)
        status = self.dev.status_of(C.INSTALL_LICENSE, lic.to_bytes())
        if not self.time_trusted():
            assert status == S.TIME_UNTRUSTED  # checked before any signature
        elif not good:
            assert status == S.SIGNER_UNTRUSTED
        else:
            assert status == S.OK
            self.license = (seq, lic.license_id, allocation)
            self.workload_known = True
            self.license_seq = seq
            self.revoked = False
            # A pause binds the workload, and every license here is for the
            # same one: it stays paused (test_governance_pause).
            self.consumed = 0

    @rule(ops=st.integers(0, 200))
    def compute(self, ops):
        self.dev.run(ops, ops_per_cycle=OPS_PER_CYCLE)

    @rule(kind=st.sampled_from(list(K)), by_board=st.booleans(), jump=st.integers(1, 2))
    def give_order(self, kind, by_board, jump):
        role = wire.SignerRole.BOARD if by_board else wire.SignerRole.INSPECTOR
        seq = self.order_seq[role] + jump
        names_license = kind in wire.ORDERS_NAMING_A_LICENSE
        lid = (self.license[1] if self.license else b"\x07" * 16) if names_license else bytes(16)
        license_sequence = self.license[0] if self.license and kind == K.RELEASE_OVERSIGHT \
            else int(kind == K.RELEASE_OVERSIGHT)
        workload = WORKLOAD if kind in wire.ORDERS_NAMING_A_WORKLOAD else bytes(16)
        signers = self.authority.board_members[:2] if by_board else (self.authority.inspector,)
        order = wire.Order(order_kind=kind, signer_role=role, device_id=self.dev.device_id,
                           license_id=lid, license_sequence=license_sequence,
                           workload_id=workload, sequence=seq, issued_at=self.dev.hal.now - 1)
        status = self.dev.status_of(C.ORDER, signed_unchecked(order, signers))
        if role not in wire.ORDER_SIGNER_ROLES[kind]:
            assert status == S.RECORD_FIELD  # this role never gives this order
            return
        if kind == K.RELEASE_OVERSIGHT and self.license is None:
            assert status == S.WRONG_STATE  # it acts on the license in force
            return
        if kind not in wire.RESTRICTIVE_ORDERS and not self.time_trusted():
            assert status == S.TIME_UNTRUSTED  # only a restricting order needs no time
            return
        if kind == K.RESUME and not self.workload_known:
            assert status == S.WRONG_STATE  # the device holds no pause of the workload
            return
        assert status == S.OK
        self.order_seq[role] = seq
        if kind == K.PAUSE:
            self.paused = True
            self.workload_known = True  # recorded in the table, licensed or not
        elif kind == K.RESUME:
            self.paused = False
        elif kind == K.HALT:
            self.halted = True
        elif kind == K.LIFT_HALT:
            self.halted = False
        elif kind == K.REVOKE and self.license is not None and lid == self.license[1]:
            self.revoked = True  # REVOKE of the license in force: it stops for good

    @rule()
    def beacon(self):
        self.dev.sync_time()
        self.beacon_at = self.dev.hal.now

    @rule(seconds=st.sampled_from([1, 60, 1800, 3000]))
    def time_passes(self, seconds):
        self.dev.advance(seconds)

    @rule()
    def power_cycle(self):
        self.reboot()

    @rule(cut=st.integers(1, 6), ops=st.integers(1, 400))
    def power_cut_while_computing(self, cut, ops):
        self.dev.flash.cut_after(cut)
        try:
            self.dev.run(ops, ops_per_cycle=OPS_PER_CYCLE)
            self.dev.attest()
        except PowerCut:
            pass
        self.dev.flash.cancel_cut()
        self.reboot()

    # ------------------------------------------------------------ invariants
    @invariant()
    def agrees_with_the_model(self):
        info = self.dev.info()
        assert info.license_sequence == self.license_seq
        assert info.inspector_order_sequence == self.order_seq[wire.SignerRole.INSPECTOR]
        assert info.board_order_sequence == self.order_seq[wire.SignerRole.BOARD]
        assert info.reset_count == self.resets
        self.dev.firmware.poll()
        self.dev.hal.meter.idle(1)  # let a close the firmware decided take effect
        att = self.dev.attest()
        assert att.report_counter > self.report
        self.report = att.report_counter
        causes = att.gate_causes
        assert (G.PAUSED in causes) == (self.paused and self.license is not None)
        assert (G.HALTED in causes) == (self.halted and self.license is not None)
        assert (G.NO_LICENSE in causes) == (self.license is None)
        if self.license is not None:
            assert (G.TIME_UNTRUSTED in causes) == (not self.time_trusted()) or \
                abs(self.dev.hal.now - (self.beacon_at or 0) - MAX_AGE) <= 1
            assert att.license_sequence == self.license[0]
            assert att.consumed_msflop >= self.consumed
            assert att.consumed_msflop <= self.license[2] + MARGIN + 50_000
            self.consumed = att.consumed_msflop
            exhausted = att.consumed_msflop >= self.license[2]
        else:
            exhausted = False
        if self.license is not None:
            assert (G.LICENSE_REVOKED in causes) == self.revoked
        must_close = (self.license is None or self.paused or self.halted or self.revoked
                      or exhausted or not self.time_trusted())
        if must_close:
            assert att.gate_state == wire.GateState.CLOSED
            assert not self.dev.hal.meter.enable


STEPS = 20
# Fewer steps than the lockout threshold: the bad installs of one run never
# lock the device out, which the model does not follow.
assert STEPS < LOCKOUT_THRESHOLD
TestFirmwareModel = FirmwareMachine.TestCase
TestFirmwareModel.settings = settings(max_examples=25, stateful_step_count=STEPS, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
