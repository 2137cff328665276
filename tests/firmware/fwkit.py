"""Helpers for the firmware tests: the C firmware (cffi build) on the meter's
reference model and the NOR flash model, plus an authority that signs records."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import nacl.signing
from openheg import regmap, wire
from openheg.errors import DeviceStatus
from openheg.licensing import DEFAULT_SIGNER_ROLES
from openheg_sim.emulator import ChipHal
from openheg_sim.firmware import Firmware
from openheg_sim.flash import Flash, PowerCut
from openheg_sim.meter_model import MeterModel

NOW = 1_800_000_000
FP8 = regmap.LANES.index("FP8")


class Oscillator:
    """A clock that counts true time (``true_clock``, seconds) at ``rate``:
    1.0 for an honest one; the operator may slow (0.1), stop (0.0) or speed
    (2.0) the board's clock input, and a failing reference may stop."""

    def __init__(self, true_clock, rate: float = 1.0) -> None:
        self._true_clock = true_clock
        self._rate = rate
        self._at = true_clock()
        self._count = 0.0

    def __call__(self) -> float:
        now = self._true_clock()
        self._count += max(now - self._at, 0) * self._rate
        self._at = now
        return self._count

    def set_rate(self, rate: float) -> None:
        self()  # what ran so far ran at the old rate
        self._rate = rate


class RecordingHal(ChipHal):
    """The emulator's platform with a fixed clock and a seeded RNG, so runs
    repeat; every register write is logged so a test can prove the meter was
    not touched. ``now`` is the true time; uptime counts the board's clock
    (``board_clock``) and the reference counts the oscillator inside the
    package (``reference``), each following it at a rate a test sets."""

    def __init__(self, flash: Flash, seed: bytes = b"device", now: int = NOW,
                 board_clock_rate: float = 1.0, reference_rate: float = 1.0) -> None:
        self.now = now
        self.board_clock = Oscillator(lambda: self.now, board_clock_rate)
        self.reference = Oscillator(lambda: self.now, reference_rate)
        super().__init__(MeterModel(), flash, clock=lambda: self.now,
                         uptime_clock=self.board_clock, reference_clock=self.reference)
        self.writes: list[tuple[int, int]] = []
        self._seed = seed
        self._counter = 0

    def reg_write(self, offset: int, value: int) -> None:
        self.writes.append((offset, value))
        super().reg_write(offset, value)

    def random(self, length: int) -> bytes:
        self._counter += 1
        out = b""
        while len(out) < length:
            out += hashlib.sha256(self._seed + struct.pack("<QI", self._counter, len(out))).digest()
        return out[:length]


@dataclass
class Response:
    command: int
    request_id: int
    status: int
    payload: bytes


class Device:
    """One emulated device: firmware + HAL, with helpers for each command."""

    def __init__(self, flash: Flash | None = None, seed: bytes = b"device") -> None:
        self.flash = flash if flash is not None else Flash()
        self.seed = seed
        self.authority: "Authority | None" = None
        self.now = NOW
        # The board's clock input (the operator's) and the reference inside
        # the package, as rates of true time; they outlast power cycles.
        self.board_clock_rate = 1.0
        self.reference_rate = 1.0
        self.power_up(sync_time=False)

    def power_up(self, sync_time: bool = True) -> None:
        """A power cycle: the meter resets and a new firmware context boots from
        flash. Uptime restarts, so trusted time is gone: with ``sync_time`` (and
        a device provisioned by ``provision``) a fresh beacon is sent."""
        # A real entropy source never repeats across power-ups: each boot of
        # this object draws a stream of its own (the first one from ``seed``
        # alone, so devices made with one seed get one key).
        self.boots = getattr(self, "boots", -1) + 1
        stream = self.seed if self.boots == 0 else self.seed + b"/boot %d" % self.boots
        self.hal = RecordingHal(self.flash, stream, now=self.now,
                                board_clock_rate=self.board_clock_rate,
                                reference_rate=self.reference_rate)
        self.firmware = Firmware(self.hal)
        self.firmware.boot()
        self.device_id = self.info().device_id
        if sync_time and self.authority is not None:
            self.sync_time()

    def advance(self, seconds: int) -> None:
        """True time passes; the device's clocks count it at their rates
        (both 1.0, honest, unless ``set_clock_rates`` says otherwise)."""
        self.hal.now += seconds
        self.now = self.hal.now

    def set_clock_rates(self, board: float | None = None, reference: float | None = None
                        ) -> None:
        """From now on (and across power cycles) the board's clock input runs
        at ``board`` times true time, the reference at ``reference``."""
        if board is not None:
            self.board_clock_rate = board
            self.hal.board_clock.set_rate(board)
        if reference is not None:
            self.reference_rate = reference
            self.hal.reference.set_rate(reference)

    def sync_time(self, unix_time: int | None = None) -> None:
        """TIME_NONCE then a beacon from the authority's time key."""
        nonce = wire.TimeNonceResponseFormat.parse(self.ok(wire.Command.TIME_NONCE)).device_nonce
        beacon = self.authority.beacon(self.device_id, nonce,
                                       self.hal.now if unix_time is None else unix_time)
        self.ok(wire.Command.TIME_BEACON, beacon.to_bytes())
        self.firmware.poll()

    def request(self, command: int, payload: bytes = b"", request_id: int = 0x1234) -> Response:
        raw = self.firmware.request(wire.RequestFormat.build(
            {"command": command, "request_id": request_id, "payload": payload}))
        parsed = wire.ResponseFormat.parse(raw)
        return Response(parsed.command, parsed.request_id, parsed.status, parsed.payload)

    def ok(self, command: int, payload: bytes = b"") -> bytes:
        response = self.request(command, payload)
        assert DeviceStatus(response.status) == DeviceStatus.OK
        return response.payload

    def info(self):
        return wire.InfoResponseFormat.parse(self.ok(wire.Command.INFO))

    def attest(self, nonce: bytes = b"n" * 32) -> wire.Attestation:
        data = self.ok(wire.Command.ATTEST, nonce)
        attestation = wire.Attestation.from_bytes(data)
        nacl.signing.VerifyKey(attestation.device_id).verify(
            attestation.signing_message(), attestation.signature)
        return attestation

    def status_of(self, command: int, payload: bytes = b"") -> DeviceStatus:
        return DeviceStatus(self.request(command, payload).status)

    def read_log(self, first: int = 0, count: int = 8):
        return wire.ReadLogResponseFormat.parse(self.ok(
            wire.Command.READ_LOG, wire.ReadLogRequestFormat.build(
                {"first_index": first, "max_entries": count})))

    def snapshot(self):
        """Everything a refused request must leave alone."""
        return (bytes(self.ok(wire.Command.INFO)), self.flash.image(), len(self.hal.writes),
                self.hal.meter.limit, self.hal.meter.gate_enable)

    def computes(self) -> bool:
        """Whether the accelerator computes now: one poll and one clock edge
        (the gate decision is registered), then ten ops tried; all or none
        run (any other count is an error here)."""
        self.firmware.poll()
        self.hal.meter.idle(1)
        ran = self.run(10)
        assert ran in (0, 10), f"{ran} of 10 ops ran"
        return ran == 10

    def run(self, ops: int, lane: int = FP8, ops_per_cycle: int = 64) -> int:
        """The accelerator issues ops while the gate lets it; the metering loop
        runs whenever the gate closes (as emulator.EmulatedChip.run does)."""
        meter = self.hal.meter
        issued = 0
        self.firmware.poll()
        while issued < ops:
            if not meter.enable:
                meter.idle(1)
                if not meter.enable:
                    break
            issued += meter.drive(lane, ops - issued, ops_per_cycle)
            self.firmware.poll()
        return issued


def _key(name: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(hashlib.sha256(name.encode()).digest())


def sign_set(message: bytes, signers) -> tuple[wire.SignatureEntry, ...]:
    return tuple(sorted((wire.SignatureEntry(bytes(k.verify_key), k.sign(message).signature)
                         for k in signers), key=lambda e: e.signer))


def pub(key: nacl.signing.SigningKey) -> bytes:
    return bytes(key.verify_key)


def unchecked_body(record: wire.SignedRecord) -> bytes:
    """A record's body bytes encoded without its field rules (``check``): what a
    buggy or hostile host could send, for tests that the device refuses it."""
    values = {}
    for item in dataclasses.fields(record):
        if item.name not in ("signature", "signatures"):
            value = getattr(record, item.name)
            values[item.name] = int(value) if isinstance(value, int) else value
    return record.BODY_FORMAT.build(values)


def order_names(kind: wire.OrderKind, lic: wire.License) -> dict:
    """The fields by which an order of ``kind`` names what it acts on in ``lic``:
    its workload (pause, resume), its id (revoke) or its id and sequence
    (release-oversight); halt and lift-halt name nothing."""
    return dict(
        license_id=lic.license_id if kind in wire.ORDERS_NAMING_A_LICENSE else bytes(16),
        license_sequence=lic.sequence if kind == wire.OrderKind.RELEASE_OVERSIGHT else 0,
        workload_id=lic.workload_id if kind in wire.ORDERS_NAMING_A_WORKLOAD else bytes(16))


def signed_unchecked(record: wire.SignedRecord, signers) -> bytes:
    """``unchecked_body`` with a signature set by ``signers`` over it."""
    body = unchecked_body(record)
    entries = sign_set(wire.signing_message(record.RECORD_TYPE, body), signers)
    return body + wire.SignatureSetFormat.build(
        [{"signer": e.signer, "signature": e.signature} for e in entries])


# Orders are signed a minute before the device's clock (NOW) by default, so
# that they are neither in its future nor older than wire.ORDER_LIFETIME_S.
ORDER_ISSUED_AT = NOW - 60
FRONTIER = 10**12  # milli-sFLOP: workloads at or above it need oversight
HORIZON = 10**15
# The test policy's watchdog: armed (no policy may leave it off), with a period
# longer than any stretch of meter cycles a test runs without a poll, the RTL
# SoC's signature checks included (the SoC's meter clock runs through them).
WATCHDOG_CYCLES = 1 << 28
# The lockout at its highest bound: every refusal that reaches signature checks
# is counted, and tests that refuse several records in a row stay below it.
LOCKOUT_THRESHOLD = 32


@dataclass
class Authority:
    issuer: nacl.signing.SigningKey = field(default_factory=lambda: _key("issuer"))
    vendor: nacl.signing.SigningKey = field(default_factory=lambda: _key("vendor"))
    board_members: tuple = field(default_factory=lambda: tuple(
        _key(f"board member {i}") for i in range(3)))
    inspector: nacl.signing.SigningKey = field(default_factory=lambda: _key("inspector"))
    party: nacl.signing.SigningKey = field(default_factory=lambda: _key("party"))
    time_authority: nacl.signing.SigningKey = field(default_factory=lambda: _key("time"))
    policy_overrides: dict = field(default_factory=dict)

    @property
    def board(self) -> nacl.signing.SigningKey:
        return self.board_members[0]

    @property
    def issuer_key(self) -> bytes:
        return bytes(self.issuer.verify_key)

    @property
    def vendor_key(self) -> bytes:
        return bytes(self.vendor.verify_key)

    def policy(self, version: int = 1, signers=None, **overrides) -> wire.Policy:
        """A policy signed by the first two board members (the genesis board's
        threshold) unless ``signers`` says otherwise."""
        fields = dict(
            policy_version=version, issued_at=NOW - 1000, board_threshold=2,
            horizon_board_threshold=3, issuer_key=self.issuer_key,
            time_authority_key=pub(self.time_authority),
            weights_milli=tuple(regmap.DEFAULT_WEIGHTS_MILLI[lane] for lane in regmap.LANES),
            frontier_base_msflop=FRONTIER, frontier_daily_increase_msflop=0,
            horizon_base_msflop=HORIZON, horizon_daily_increase_msflop=0,
            schedule_epoch_day=NOW // 86400, oversight_min_ppm=10_000,
            allowance_chunk_msflop=1_000_000, watchdog_period_cycles=WATCHDOG_CYCLES,
            beacon_max_age_s=3600, clock_drift_ppm=100, lockout_threshold=LOCKOUT_THRESHOLD,
            lockout_duration_s=600, baselines=int(wire.ALL_BASELINES),
            board_keys=tuple(sorted(pub(k) for k in self.board_members)),
            inspector_keys=(pub(self.inspector),), party_keys=(pub(self.party),),
            revoked_keys=())
        fields.update(self.policy_overrides)
        fields.update(overrides)
        unsigned = wire.Policy(**fields, signatures=(wire.SignatureEntry(bytes(32), bytes(64)),))
        signers = signers if signers is not None else self.board_members[:2]
        return replace(unsigned, signatures=sign_set(unsigned.signing_message(), signers))

    def endorsement(self, device_id: bytes, vendor: nacl.signing.SigningKey | None = None,
                    vendor_key: bytes | None = None) -> bytes:
        vendor = vendor or self.vendor
        record = wire.Endorsement(device_id=device_id,
                                  vendor_key=vendor_key or bytes(vendor.verify_key),
                                  issued_at=NOW - 100)
        signature = vendor.sign(record.signing_message()).signature
        return replace(record, signature=signature).to_bytes()

    def license(self, device_id: bytes, sequence: int = 1, allocation: int = 8_000_000,
                signers: tuple[nacl.signing.SigningKey, ...] | None = None,
                **overrides) -> wire.License:
        fields = dict(
            license_id=hashlib.sha256(b"license%d" % sequence).digest()[:16],
            device_id=device_id, workload_id=b"W" * 16, sequence=sequence,
            allocation_msflop=allocation, workload_total_msflop=allocation * 4,
            lineage_msflop=0, not_before=NOW - 3600, not_after=NOW + 3600,
            license_class=wire.LicenseClass.STANDARD, oversight_ppm=0,
            inspector_key=bytes(32))
        fields.update(overrides)
        unsigned = wire.License(**fields, signatures=(wire.SignatureEntry(bytes(32), bytes(64)),))
        signers = signers if signers is not None else (self.issuer,)
        return replace(unsigned, signatures=sign_set(unsigned.signing_message(), signers))

    def frontier_license(self, device_id: bytes, sequence: int = 1, **overrides) -> wire.License:
        fields = dict(workload_total_msflop=FRONTIER, license_class=wire.LicenseClass.FRONTIER,
                      oversight_ppm=20_000, inspector_key=pub(self.inspector),
                      signers=(self.issuer, self.inspector))
        fields.update(overrides)
        return self.license(device_id, sequence, **fields)

    def recovery(self, first_device_id: bytes, nonce: bytes, genesis: wire.Policy,
                 vendor: nacl.signing.SigningKey | None = None) -> wire.Recovery:
        """The vendor's authorization to re-provision the device whose OTP
        anchor names first_device_id, for the nonce its INFO shows now."""
        record = wire.Recovery(first_device_id=first_device_id, device_nonce=nonce,
                               genesis_policy_digest=wire.Recovery.policy_digest(genesis))
        vendor = vendor or self.vendor
        return replace(record, signature=vendor.sign(record.signing_message()).signature)

    def beacon(self, device_id: bytes, nonce: bytes, unix_time: int,
               signer: nacl.signing.SigningKey | None = None) -> wire.TimeBeacon:
        record = wire.TimeBeacon(device_id=device_id, device_nonce=nonce, unix_time=unix_time)
        signer = signer or self.time_authority
        return replace(record, signature=signer.sign(record.signing_message()).signature)

    def order(self, kind: wire.OrderKind, device_id: bytes, sequence: int,
              target: bytes = bytes(16), signers=None, role: wire.SignerRole | None = None,
              issued_at: int = ORDER_ISSUED_AT, license_sequence: int = 1) -> wire.Order:
        """An order given by ``role`` (by default the kind's usual one: inspector
        for pause and resume, board for halt and lift-halt), signed by that
        role's keys unless ``signers`` says otherwise; ``sequence`` counts on
        that role's counter. ``target`` is what the kind names: the workload id
        of a pause or resume, the license id of a revocation or a release (a
        release also names ``license_sequence``)."""
        role = DEFAULT_SIGNER_ROLES[kind] if role is None else role
        names_workload = kind in wire.ORDERS_NAMING_A_WORKLOAD
        unsigned = wire.Order(
            order_kind=kind, signer_role=role, device_id=device_id,
            license_id=bytes(16) if names_workload else target,
            license_sequence=license_sequence if kind == wire.OrderKind.RELEASE_OVERSIGHT else 0,
            workload_id=target if names_workload else bytes(16), sequence=sequence,
            issued_at=issued_at, signatures=(wire.SignatureEntry(bytes(32), bytes(64)),))
        if signers is None:
            signers = {wire.SignerRole.INSPECTOR: (self.inspector,),
                       wire.SignerRole.BOARD: self.board_members[:2],
                       wire.SignerRole.ISSUER: (self.issuer,)}[role]
        return replace(unsigned, signatures=sign_set(unsigned.signing_message(), signers))

    def fleet_order(self, kind: wire.OrderKind, sequence: int, policy: wire.Policy | None = None,
                    signers=None, issued_at: int = ORDER_ISSUED_AT) -> wire.Order:
        """A fleet HALT or LIFT_HALT for every device under ``policy`` (default:
        the genesis policy), signed by a board quorum unless ``signers`` says
        otherwise."""
        unsigned = wire.Order(
            order_kind=kind, signer_role=wire.SignerRole.BOARD, device_id=bytes(32),
            license_id=bytes(16), license_sequence=0, workload_id=bytes(16),
            sequence=sequence, issued_at=issued_at,
            policy_digest=(policy or self.policy()).digest,
            signatures=(wire.SignatureEntry(bytes(32), bytes(64)),))
        signers = self.board_members[:2] if signers is None else signers
        return replace(unsigned, signatures=sign_set(unsigned.signing_message(), signers))


def deliver_order(dev: Device, record) -> DeviceStatus:
    """ORDER (a record or its bytes), then one poll and one clock edge so the
    gate shows what the order did."""
    raw = record if isinstance(record, bytes) else record.to_bytes()
    status = dev.status_of(wire.Command.ORDER, raw)
    dev.firmware.poll()
    dev.hal.meter.idle(1)
    return status


def licensed(authority: Authority) -> tuple[Device, wire.License]:
    """A provisioned device computing under the authority's Frontier license 1."""
    dev = Device()
    provision(dev, authority)
    lic = authority.frontier_license(dev.device_id, 1)
    assert dev.status_of(wire.Command.INSTALL_LICENSE, lic.to_bytes()) == DeviceStatus.OK
    assert dev.computes()
    return dev, lic


def provision_request(authority: Authority, policy: wire.Policy | None = None) -> bytes:
    policy = policy if policy is not None else authority.policy()
    return authority.vendor_key + policy.to_bytes()


def _endorse_new_key(device: Device, authority: Authority, response: bytes,
                     sync_time: bool) -> bytes:
    """The device id a PROVISION or RECOVER answered, endorsed by the vendor."""
    device.device_id = wire.ProvisionResponseFormat.parse(response).device_id
    device.ok(wire.Command.ENDORSE, authority.endorsement(device.device_id))
    device.authority = authority
    if sync_time:
        device.sync_time()
    return device.device_id


def provision(device: Device, authority: Authority, sync_time: bool = True) -> bytes:
    response = device.ok(wire.Command.PROVISION, provision_request(authority))
    return _endorse_new_key(device, authority, response, sync_time)


def recover_request(authority: Authority, info, genesis: wire.Policy | None = None,
                    vendor: nacl.signing.SigningKey | None = None) -> bytes:
    """A RECOVER payload for a device in RECOVERY_REQUIRED (info: its INFO)."""
    genesis = genesis if genesis is not None else authority.policy()
    recovery = authority.recovery(info.first_device_id, info.recovery_nonce, genesis, vendor)
    return recovery.to_bytes() + genesis.to_bytes()


def recover(device: Device, authority: Authority, sync_time: bool = True) -> bytes:
    """Recovery under the anchored vendor, then its endorsement of the new key."""
    response = device.ok(wire.Command.RECOVER, recover_request(authority, device.info()))
    return _endorse_new_key(device, authority, response, sync_time)


def power_cuts(base: Device, action, max_operations: int = 64):
    """Cut power at the 1st, 2nd, ... flash operation of ``action`` (called
    with a device booted from ``base``'s flash, time synced) until it runs
    through uncut. Yields (cut, the device rebooted from what the cut left,
    time synced, and whether the action completed); the last has completed,
    else AssertionError."""
    image = base.flash.image()
    for cut in range(1, max_operations):
        dev = Device(Flash(image=image), seed=base.seed)
        dev.authority, dev.device_id = base.authority, base.device_id
        dev.sync_time()
        dev.flash.cut_after(cut)
        try:
            action(dev)
        except PowerCut:
            completed = False
        else:
            dev.flash.cancel_cut()
            completed = True
        after = Device(Flash(image=dev.flash.image()), seed=base.seed)
        after.authority, after.device_id = base.authority, base.device_id
        after.sync_time()
        yield cut, after, completed
        if completed:
            return
    raise AssertionError(f"the action did not complete within {max_operations} flash operations")


def host_session(url: str, authority: Authority, timeout: float = 5) -> dict:
    """The protocol sequence a host runs against a board, through the host
    library over a serial URL (a pty of heg_serve_pty or of QEMU): info,
    provision + endorse (and its OTP anchor), a policy update, a time beacon, a Frontier license
    (and its refused replay), pause, resume, halt and lift-halt orders, an
    attestation checked by openheg.verify, the same report as an EAT (the next
    report counter, checked by openheg.eat), the event log.
    Asserts each step; returns what a caller may compare between devices."""
    from openheg.device import Device as HostDevice
    from openheg.eat import verify_eat
    from openheg.errors import DeviceError
    from openheg.transport import SerialTransport
    from openheg.verify import verify_attestation

    with SerialTransport(url, timeout=timeout) as link:
        dev = HostDevice(link)
        info = dev.info()
        assert info.state == wire.DeviceState.UNPROVISIONED
        device_id = dev.provision(authority.vendor_key, authority.policy())
        endorsement = wire.Endorsement.from_bytes(authority.endorsement(device_id))
        dev.endorse(endorsement)
        endorsed = dev.info()
        assert endorsed.state == wire.DeviceState.PROVISIONED
        # The OTP anchor (heg_hal_otp_*) now names this device: every port's
        # OTP area holds it.
        assert endorsed.first_device_id == device_id
        dev.install_policy(authority.policy(version=2))
        nonce = dev.time_nonce()
        dev.time_beacon(authority.beacon(device_id, nonce, NOW))
        license_ = authority.frontier_license(device_id, sequence=1)
        dev.install_license(license_)
        try:
            dev.install_license(license_)
        except DeviceError as error:
            refused = DeviceStatus(error.status)
        else:
            raise AssertionError("a replayed license was accepted")
        assert refused == DeviceStatus.REPLAYED
        # Due process on the wire: the named inspector pauses and resumes,
        # the board halts every license and lifts the halt; each role counts
        # its own sequence.
        for kind, sequence, issued_at in ((wire.OrderKind.PAUSE, 1, NOW - 60),
                                          (wire.OrderKind.RESUME, 2, NOW - 30),
                                          (wire.OrderKind.HALT, 1, NOW - 60),
                                          (wire.OrderKind.LIFT_HALT, 2, NOW - 30)):
            target = license_.workload_id if kind in wire.ORDERS_NAMING_A_WORKLOAD else bytes(16)
            dev.order(authority.order(kind, device_id, sequence, target, issued_at=issued_at))
        challenge = os.urandom(wire.NONCE_SIZE)
        record = dev.attest(challenge)
        verified = verify_attestation(record, nonce=challenge,
                                      endorsement=dev.read_endorsement(),
                                      vendor_keys={authority.vendor_key}, license=license_,
                                      policy_version=2)
        as_eat = verify_eat(dev.attest_eat(challenge), nonce=challenge,
                            endorsement=dev.read_endorsement(),
                            vendor_keys={authority.vendor_key}, license=license_,
                            policy_version=2)
        log = dev.read_whole_log()
        after = dev.info()
    types = [int(entry.event_type) for entry in log.entries]
    assert after.policy_version == 2 and after.license_sequence == 1
    assert after.order_sequences == {wire.SignerRole.INSPECTOR: 2, wire.SignerRole.BOARD: 2,
                                     wire.SignerRole.ISSUER: 0}
    assert verified.attestation.device_id == device_id
    assert as_eat.attestation == replace(verified.attestation,
                                         report_counter=verified.attestation.report_counter + 1,
                                         signature=as_eat.attestation.signature)
    return {"device_id": device_id, "refused": refused, "log_types": types,
            "policy_version": after.policy_version, "license_sequence": after.license_sequence,
            "reset_count": after.reset_count,
            "measurement": after.firmware_measurement}


REPO = Path(__file__).resolve().parents[2]


def make(*targets: str) -> None:
    """Bring firmware build targets up to date (firmware/firmware.mk), failing with make's
    output."""
    result = subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                             f"FW_PYTHON={sys.executable}", *targets],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
