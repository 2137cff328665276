"""Helpers for the firmware tests: the C firmware (cffi build) on the meter's
reference model and the NOR flash model, plus an authority that signs records."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field, replace

import nacl.signing
from openheg import regmap, wire
from openheg.errors import DeviceStatus
from openheg_sim.emulator import ChipHal
from openheg_sim.firmware import Firmware
from openheg_sim.flash import Flash
from openheg_sim.meter_model import MeterModel

NOW = 1_800_000_000
FP8 = regmap.LANES.index("FP8")


class RecordingHal(ChipHal):
    """The emulator's platform with a fixed clock and a seeded RNG, so runs
    repeat; every register write is logged so a test can prove the meter was
    not touched."""

    def __init__(self, flash: Flash, seed: bytes = b"device", now: int = NOW) -> None:
        super().__init__(MeterModel(), flash, clock=lambda: self.now)
        self.now = now
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
        self.power_up()

    def power_up(self) -> None:
        """A power cycle: the meter resets and a new firmware context boots from flash."""
        self.hal = RecordingHal(self.flash, self.seed)
        self.firmware = Firmware(self.hal)
        self.firmware.boot()
        self.device_id = self.info().device_id

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

    def snapshot(self):
        """Everything a refused request must leave alone."""
        return (bytes(self.ok(wire.Command.INFO)), self.flash.image(), len(self.hal.writes),
                self.hal.meter.limit, self.hal.meter.gate_enable)

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


@dataclass
class Authority:
    issuer: nacl.signing.SigningKey = field(default_factory=lambda: _key("issuer"))
    vendor: nacl.signing.SigningKey = field(default_factory=lambda: _key("vendor"))
    board: nacl.signing.SigningKey = field(default_factory=lambda: _key("board member"))
    inspector: nacl.signing.SigningKey = field(default_factory=lambda: _key("inspector"))

    @property
    def issuer_key(self) -> bytes:
        return bytes(self.issuer.verify_key)

    @property
    def vendor_key(self) -> bytes:
        return bytes(self.vendor.verify_key)

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
        message = unsigned.signing_message()
        signers = signers if signers is not None else (self.issuer,)
        entries = sorted((wire.SignatureEntry(bytes(k.verify_key), k.sign(message).signature)
                          for k in signers), key=lambda e: e.signer)
        return replace(unsigned, signatures=tuple(entries))


def provision(device: Device, authority: Authority) -> bytes:
    payload = device.ok(wire.Command.PROVISION, authority.issuer_key + authority.vendor_key)
    device.device_id = wire.ProvisionResponseFormat.parse(payload).device_id
    device.ok(wire.Command.ENDORSE, authority.endorsement(device.device_id))
    return device.device_id
