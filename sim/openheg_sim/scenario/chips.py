"""One worker's share of the fleet: the real firmware per chip, day by day.

Each chip is an EmulatedChip (the C firmware through cffi on the meter's
reference model) on a simulated clock. A simulated day is a handful of calls
per chip: the time beacon (nonce, then the signed beacon), the day's ops in
bulk per precision lane (the meter runs them in closed form; the firmware's
metering loop runs when a charged-ahead chunk is spent), and the attestation,
which the verifier checks (openheg.verify) before it counts. Every event is a
signed record or a withheld message delivered through the firmware's own
commands; the operator's bypasses (replaying a license, computing while
paused, halted, revoked or without trusted time, installing a Horizon license
without its signers) are attempted for real, and what the firmware refuses
is recorded as it answered.

Nothing here depends on which other chips share the worker: a chip's run
follows from the fleet plan, the scenario's seed and its own index alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from openheg import regmap, wire
from openheg.authority import Authority
from openheg.board import Proposal, combine, sign_proposal
from openheg.device import Device
from openheg.errors import DeviceError, DeviceStatus, VerificationError
from openheg.licensing import (
    DeviceSlot,
    issue_order,
    issue_revocation,
    plan_workload,
    sign_order,
    time_beacon,
)
from openheg.policy import SECONDS_PER_DAY
from openheg.roles import VENDOR_KEY, Role, endorse_device
from openheg.transport import Transport
from openheg.verify import verify_attestation
from openheg.wire import GateCause, LicenseClass, OrderKind, SignerRole

from ..emulator import EmulatedChip
from ..firmware import NativeFlash
from ..flash import Flash
from ..meter_model import MeterModel
from .fleet import (
    ATTEST_AT_S,
    BEACON_AT_S,
    CYCLES_PER_SECOND,
    INSPECTOR,
    METER_COUNT_BITS,
    PARTIES,
    ChipSpec,
    Fleet,
)
from .recording import record_chips
from .telemetry import day_demand

# Gate causes a verifier reads as an order or a refusal at work (not the
# workload simply being done, which EXHAUSTED alone means).
_REFUSING_CAUSES = (GateCause.PAUSED | GateCause.HALTED | GateCause.TIME_UNTRUSTED
                    | GateCause.LICENSE_REVOKED | GateCause.NO_LICENSE
                    | GateCause.LICENSE_WINDOW | GateCause.WATCHDOG | GateCause.TAMPER
                    | GateCause.FATAL)


IDLE_CYCLES_BETWEEN_MESSAGES = 2


class SeededEntropy:
    """The HAL's entropy for one chip: SHAKE-256 of the scenario's seed, the
    chip's index and a counter, so a run is reproducible (a real part has a
    hardware RNG; nothing in the simulation relies on these being secret)."""

    def __init__(self, seed: int, index: int) -> None:
        self._prefix = f"openheg-sim {seed} {index} ".encode()
        self._counter = 0

    def __call__(self, length: int) -> bytes:
        self._counter += 1
        return hashlib.shake_256(self._prefix + str(self._counter).encode()).digest(length)


class FirmwareLink(Transport):
    """A transport straight into the chip's firmware: one exchange, and the
    metering loop runs when the simulation next lets the meter's clock run
    (ChipRun._between_messages), not once per message as ChipLink does; the
    loop has nothing to meter between messages, as no ops are issued then."""

    url = "sim-link"

    def __init__(self, chip: EmulatedChip) -> None:
        self.chip = chip

    def exchange(self, request: bytes) -> bytes:
        return self.chip.firmware.request(request)


class SimulatedClock:
    """Unix seconds as the simulation sets them; the chip's HAL reads it."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class ChipResult:
    """What one chip did and what the verifier saw of it (plain data: it is
    sent back from worker processes)."""

    index: int
    endorsement: bytes = b""
    licenses: list = field(default_factory=list)       # wire bytes, as installed
    orders: list = field(default_factory=list)         # (day, wire bytes) as accepted
    attestations: list = field(default_factory=list)   # (day, wire bytes), verified
    metered_msflop: list = field(default_factory=list)  # per day: the meter's count
    refused_ops: list = field(default_factory=list)     # per day: ops the gate held back
    # Per day: the interconnect bytes the workload's ops needed, and those the
    # locked limiter let through (a closed gate passes none).
    wire_bytes_wanted: list = field(default_factory=list)
    wire_bytes_passed: list = field(default_factory=list)
    refusals: list = field(default_factory=list)        # (day, what, device status name)
    anomalies: list = field(default_factory=list)       # (day, what the verifier saw)


class Offices:
    """The keys each office holds, loaded once per worker from the authority's directory."""

    def __init__(self, fleet: Fleet) -> None:
        authority = Authority(fleet.authority_dir)
        self.issuer = authority.key("issuer")
        self.time = authority.key("time")
        self.inspector = authority.key(INSPECTOR)
        self.inspector_public = self.inspector.public_key
        self.board = [authority.key(n) for n in authority.board_member_names()]
        self.parties = [authority.key(f"party-{i + 1}") for i in range(PARTIES)]
        self.vendor = Role.load(fleet.vendor_dir, VENDOR_KEY)


class ChipRun:
    """One chip through the whole scenario. ``link``: how host messages reach
    the firmware (ChipLink, a metering pass after every message, is the
    unbatched path bench/sim/bench_simulate.py compares against); ``flash``:
    the part's flash (NativeFlash, in C memory; Flash, the Python model, holds
    the same bytes)."""

    def __init__(self, fleet: Fleet, spec: ChipSpec, offices: Offices,
                 link: type[Transport] = FirmwareLink,
                 flash: type[Flash] = NativeFlash) -> None:
        self.fleet, self.spec, self.offices = fleet, spec, offices
        self.result = ChipResult(spec.index)
        self.clock = SimulatedClock(fleet.day_start(0))
        self.chip = EmulatedChip(spec.name, flash(), self.clock,
                                 meter=MeterModel(count_bits=METER_COUNT_BITS),
                                 random=SeededEntropy(fleet.scenario.seed, spec.index))
        self.device = Device(link(self.chip))
        self.policy = fleet.policy_on(0)
        self.license = None          # the license in force on the chip (wire.License)
        self.silent_until = -1       # last day the operator withholds attestations
        self._wire_bytes = (0, 0)    # the day's interconnect bytes: (wanted, passed)
        self.beaconless_until = -1   # last day no beacon reaches the chip
        self.events = [e for e in fleet.scenario.events if self._concerns(e)]

    # ------------------------------------------------------------- set-up
    def _concerns(self, event) -> bool:
        return event.kind == "board-vote" or event.target in (self.spec.site, self.spec.workload)

    def provision(self) -> None:
        """The factory: the device makes its key under the genesis policy and the
        vendor endorses it. The vendor's public list is written once, by the
        engine, from every worker's endorsements (workers share no files)."""
        device_id = self.device.provision(self.offices.vendor.public_key,
                                          self.fleet.policy_objects()[0])
        endorsement = endorse_device(self.offices.vendor, device_id, now=self.fleet.start_unix)
        self.device.endorse(endorsement)
        self.result.endorsement = endorsement.to_bytes()
        self.endorsement = endorsement
        self.device_id = endorsement.device_id

    # ------------------------------------------------------------ records
    def _draft_license(self, day: int):
        w = self.fleet.workload(self.spec.workload)
        info = self.device.info()
        plan = plan_workload(
            self.policy, workload=w.name, planned_msflop=w.planned_msflop,
            lineage_msflop=w.lineage_msflop,
            devices=[DeviceSlot(self.device_id, info.license_sequence + 1)],
            start=self.fleet.day_start(day) + BEACON_AT_S,
            valid_days=self.fleet.days - day + 1, inspector_key=self.offices.inspector_public,
            workload_kind=wire.WORKLOAD_KINDS[w.kind])
        # The workload's planned total is split across its chips by the fleet
        # plan; this chip's license carries its share, and a license id fixed by
        # the chip and day so that a run is reproducible.
        license_id = hashlib.sha256(f"license {self.fleet.scenario.seed} {self.spec.index} "
                                    f"{day}".encode()).digest()[:wire.ID_SIZE]
        return replace(plan.licenses[0], allocation_msflop=self.spec.allocation_msflop,
                       license_id=license_id), plan.license_class

    def _signed(self, draft, signers):
        """Each signer's share, combined; the class's signature rule is left to
        the firmware (licensing.sign_licenses would check it on the host first,
        and so never let the operator try a Horizon license short of signers)."""
        proposal = Proposal(draft, self.spec.workload)
        return combine(proposal, [sign_proposal(proposal, k) for k in signers])

    def _license_signers(self, license_class: LicenseClass, approved: bool) -> list:
        o = self.offices
        if license_class == LicenseClass.STANDARD:
            return [o.issuer]
        if license_class == LicenseClass.FRONTIER:
            return [o.issuer, o.inspector]
        # Horizon: before its approval the request carries only the issuer, the
        # inspector and an ordinary board quorum; approved, a supermajority and
        # every party representative have signed too.
        if approved:
            return [o.issuer, o.inspector] + o.board[:self.policy.horizon_board_threshold] \
                + o.parties
        return [o.issuer, o.inspector] + o.board[:self.policy.board_threshold]

    def _install(self, day: int, approved: bool) -> None:
        draft, license_class = self._draft_license(day)
        record = self._signed(draft, self._license_signers(license_class, approved))
        try:
            self.device.install_license(record)
        except DeviceError as error:
            self._refused(day, f"install {license_class.name.lower()} license", error)
            return
        self.license = record
        self.result.licenses.append(record.to_bytes())
        self._load_link_cap(day)

    def _load_link_cap(self, day: int) -> None:
        """The operator's (orderly) reset after a license whose kind has another link cap
        (docs/security.md G19): the limiter stays locked at the cap it loaded
        at the last reset (the general one, or the inference one while no
        license was in force), and the gate closed (LINK_PENDING), until a
        reset loads the new cap. Trusted time restarts with the part: the day's
        beacon again."""
        mb_per_s, burst = self.policy.link_cap_for(self.license.workload_kind)
        link = self.chip.hal.link
        if (link.rate, link.burst) != (
                wire.link_rate_register(mb_per_s, self.chip.hal.link_clock_hz()), burst):
            self.chip.restart()
            self._beacon(day)

    def _refused(self, day: int, what: str, error: DeviceError) -> None:
        self.result.refusals.append((day, what, DeviceStatus(error.status).name))

    def _order(self, day: int, kind: OrderKind, role: SignerRole, signers, **names) -> None:
        sequence = self.device.info().next_order_sequence(role)
        now = self.clock.now
        if kind == OrderKind.REVOKE:
            order = issue_revocation(self.license, sequence=sequence, signer_role=role, now=now)
        else:
            order = issue_order(kind, device_id=self.device_id, sequence=sequence,
                                signer_role=role, now=now, **names)
        signed = sign_order(order, signers)
        try:
            self.device.order(signed)
        except DeviceError as error:
            self._refused(day, f"{kind.name.lower()} order", error)
            return
        self.result.orders.append((day, signed.to_bytes()))

    # ------------------------------------------------------------- events
    def _apply(self, day: int, event) -> None:
        o = self.offices
        workload_id = self.license.workload_id if self.license is not None else None
        kind = event.kind
        if kind == "board-vote":
            self.policy = self.fleet.policy_on(day)
            try:
                self.device.install_policy(self.policy)
            except DeviceError as error:
                self._refused(day, f"install policy v{self.policy.policy_version}", error)
        elif kind == "horizon-approve":
            if self.license is None:
                self._install(day, approved=True)
        elif kind == "inspector-pause" and workload_id is not None:
            self._order(day, OrderKind.PAUSE, SignerRole.INSPECTOR, [o.inspector],
                        workload_id=workload_id)
        elif kind == "due-process-resume" and workload_id is not None:
            # Due process: a board quorum lifts the inspector's pause.
            self._order(day, OrderKind.RESUME, SignerRole.BOARD,
                        o.board[:self.policy.board_threshold], workload_id=workload_id)
        elif kind == "site-halt":
            self._order(day, OrderKind.HALT, SignerRole.BOARD,
                        o.board[:self.policy.board_threshold])
        elif kind == "revoke" and self.license is not None:
            self._order(day, OrderKind.REVOKE, SignerRole.ISSUER, [o.issuer])
        elif kind == "replay-license" and self.license is not None:
            # The operator installs the license it already holds a second time.
            try:
                self.device.install_license(self.license)
            except DeviceError as error:
                self._refused(day, "replayed license", error)
            else:
                self.result.anomalies.append((day, "the firmware accepted a replayed license"))
        elif kind == "device-silent":
            self.silent_until = day + (event.value or self.fleet.days) - 1
        elif kind == "withhold-beacons":
            self.beaconless_until = day + (event.value or self.fleet.days) - 1

    # --------------------------------------------------------------- days
    def _beacon(self, day: int) -> None:
        if day <= self.beaconless_until:
            return
        nonce = self.device.time_nonce()
        self.device.time_beacon(time_beacon(self.offices.time, device_id=self.device_id,
                                            device_nonce=nonce, unix_time=self.clock.now))

    def _compute(self, day: int) -> tuple[int, int]:
        """The accelerator runs the day's demand (telemetry.day_demand: its
        kind's duty in its precision mix) as far as the link cap lets it;
        returns (milli-sFLOP metered, ops the gate held back).

        Each lane's ops go to the meter in one closed-form drive, which stops at
        the exact edge where the gate closes; only then does the firmware's
        metering loop need its turn (to grant the next charged-ahead chunk, if
        the license has one), and the meter one edge to register the decision.
        As in EmulatedChip.run, but without a loop pass before and after every
        lane: the one at the end of the day's messages (_between_messages) has
        just run, and the attestation reads the meter itself."""
        weights = dict(zip(regmap.LANES, self.policy.weights_milli))
        meter, firmware = self.chip.meter, self.chip.firmware
        metered = held = 0
        for (lane, peak), wanted in zip(self.spec.peak_ops, self._link_held_demand(day)):
            ops_per_cycle = max(1, int(peak) // CYCLES_PER_SECOND)
            index = regmap.LANES.index(lane)
            issued = 0
            while issued < wanted and meter.enable:
                issued += meter.drive(index, wanted - issued, ops_per_cycle)
                if issued < wanted:
                    firmware.poll()
                    meter.idle(1)
            metered += issued * weights[lane]
            held += wanted - issued
        return metered, held

    def _link_held_demand(self, day: int) -> list[int]:
        """The day's ops per lane (ChipSpec.peak_ops order), after the day's
        interconnect traffic went through the chip's locked limiter: a
        data-parallel step waits for its all-reduce, so where the cap lets
        through only part of the traffic, only that part of the ops runs. A
        closed gate stops the accelerator and its traffic with it."""
        spec = self.spec
        demand = day_demand(spec.activity, spec.disguise, spec.peak_ops, spec.mix,
                            self.fleet.scenario.seed, spec.index, day)
        self._wire_bytes = (demand.wire_bytes, 0)
        if not self.chip.meter.enable or demand.wire_bytes == 0:
            return [ops for _, ops in demand.lane_ops]
        cycles = SECONDS_PER_DAY * self.chip.hal.link_clock_hz()
        link = self.chip.hal.link
        passed = link.carry(demand.wire_bytes, cycles)
        self._wire_bytes = (demand.wire_bytes, passed)
        if demand.wire_bytes - passed < link.beat_cost:  # all but the last part-beat
            return [ops for _, ops in demand.lane_ops]
        return [ops * passed // demand.wire_bytes for _, ops in demand.lane_ops]

    def _attest(self, day: int) -> None:
        nonce = hashlib.sha256(f"nonce {self.fleet.scenario.seed} {self.spec.index} "
                               f"{day}".encode()).digest()[:wire.NONCE_SIZE]
        raw = self.device.attest(nonce)
        try:
            verified = verify_attestation(
                raw, nonce=nonce, endorsement=self.endorsement,
                vendor_keys={self.endorsement.vendor_key}, license=self.license,
                policy_version=self.policy.policy_version, endorsement_checked=True)
        except VerificationError as error:
            self.result.anomalies.append((day, f"attestation NOT trusted: {error}"))
            return
        att = verified.attestation
        self.result.attestations.append((day, raw))
        causes = att.gate_causes & _REFUSING_CAUSES
        if not self.spec.workload or day < self.fleet.workload(self.spec.workload).start_day:
            causes &= ~GateCause.NO_LICENSE  # idle by plan: nothing was meant to run yet
        if causes:
            names = ", ".join(c.name.lower() for c in GateCause if c in causes)
            self.result.anomalies.append((day, f"gate closed: {names}"))

    def _between_messages(self) -> None:
        """The meter's clock runs between two host messages, as on a board (a
        round trip lasts far longer than the one edge a gate decision takes to
        register): without it the firmware would read a decision not yet made.
        The firmware's metering loop takes its turn first (what the messages
        changed, an order or a license, reaches the meter's registers)."""
        self.chip.firmware.poll()
        self.chip.meter.idle(IDLE_CYCLES_BETWEEN_MESSAGES)

    def day(self, day: int) -> None:
        start = self.fleet.day_start(day)
        self.clock.now = start + BEACON_AT_S
        # Trusted time first: permissive orders and new licenses need it.
        self._beacon(day)
        for event in self.events:
            if event.day == day:
                self._apply(day, event)
        w = self.spec.workload
        if w and day == self.fleet.workload(w).start_day:
            self._install(day, approved=False)
        self._between_messages()
        self._wire_bytes = (0, 0)
        metered, held = self._compute(day) if w and day >= self.fleet.workload(w).start_day \
            else (0, 0)
        self.result.metered_msflop.append(metered)
        self.result.refused_ops.append(held)
        self.result.wire_bytes_wanted.append(self._wire_bytes[0])
        self.result.wire_bytes_passed.append(self._wire_bytes[1])
        self.clock.now = start + ATTEST_AT_S
        # The day's compute ended on a registered gate decision (_compute ticks
        # the meter after every pass of the loop), and ATTEST reads the meter
        # itself: no pass of the loop is owed before it.
        if day <= self.silent_until:
            self.result.anomalies.append((day, "no attestation: the device is silent"))
        elif day % self.fleet.scenario.attest_every_days == 0 or day == self.fleet.days - 1:
            self._attest(day)

    def close(self) -> None:
        self.chip.close()


def run_chips(fleet: Fleet, indices, progress=None) -> list[ChipResult]:
    """Run the chips ``indices`` through the scenario and record them in the
    fleet's ledger; ``progress(n)`` is told of every n chip-days done."""
    offices = Offices(fleet)
    runs = []
    for i in indices:
        run = ChipRun(fleet, fleet.chips[i], offices)
        run.provision()
        runs.append(run)
    for day in range(fleet.days):
        for run in runs:
            run.day(day)
        if progress is not None:
            progress(len(runs))
    for run in runs:
        run.close()
    results = [run.result for run in runs]
    record_chips(fleet, results, fleet.ledger_path)
    return results
