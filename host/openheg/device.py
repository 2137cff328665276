"""The device driver: typed calls over the request/response protocol.

Each call builds one request message (openheg.wire), hands it to a
Transport, checks that the response answers this request, and turns any
status other than OK into a DeviceError. Nothing here returns a silent
failure value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import count

from . import wire
from .errors import DeviceError, DeviceStatus, RecordError, TransportError
from .transport import Transport
from .wire import Command, DeviceState, EventType

_REQUEST_HEADER = struct.Struct("<BH")  # command, request id (wire.RequestFormat)
_RESPONSE_HEADER = struct.Struct("<BHH")  # command, request id, status (wire.ResponseFormat)


@dataclass(frozen=True)
class DeviceInfo:
    state: DeviceState
    device_id: bytes
    firmware_measurement: bytes
    policy_version: int
    license_sequence: int
    order_sequences: dict[wire.SignerRole, int]  # each signer role's last accepted order
    reset_count: int
    issuer_key: bytes
    vendor_key: bytes
    first_device_id: bytes  # the id the OTP anchor recorded (zeros: none)
    recovery_nonce: bytes  # RECOVERY_REQUIRED: the nonce a wire.Recovery must name

    def next_order_sequence(self, role: wire.SignerRole) -> int:
        """The sequence the device accepts next for an order given by ``role``."""
        return self.order_sequences[role] + 1


@dataclass(frozen=True)
class LogEntry:
    index: int
    event_type: EventType
    payload: bytes


@dataclass(frozen=True)
class LogPage:
    """Consecutive event-log entries and the chain head just before the first."""

    next_index: int
    head_before: bytes
    entries: tuple[LogEntry, ...]


class Device:
    def __init__(self, transport: Transport):
        self.transport = transport
        self._request_ids = count(1)

    def call(self, command: Command, payload: bytes = b"") -> bytes:
        request_id = next(self._request_ids) & 0xFFFF
        # The request and response headers are wire.RequestFormat and
        # wire.ResponseFormat, packed with struct: every message passes here, and
        # construct costs more than the rest of the call (tests/test_device.py
        # holds the two to each other).
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise RecordError(f"request: cannot encode a {type(payload).__name__} payload")
        request = _REQUEST_HEADER.pack(int(command), request_id) + bytes(payload)
        raw = bytes(self.transport.exchange(request))
        if len(raw) < _RESPONSE_HEADER.size:
            raise TransportError(f"{self.transport.url}: malformed response to "
                                 f"{command.name} ({len(raw)} bytes)")
        answered, answered_id, status = _RESPONSE_HEADER.unpack_from(raw)
        if answered != command or answered_id != request_id:
            raise TransportError(f"{self.transport.url}: response does not answer this "
                                 f"{command.name} request (stale or crossed messages)")
        if status != DeviceStatus.OK:
            raise DeviceError(status, command.name)
        return raw[_RESPONSE_HEADER.size:]

    def info(self) -> DeviceInfo:
        payload = self.call(Command.INFO)
        parsed = _parse_payload(wire.InfoResponseFormat, payload, "INFO response")
        try:
            state = DeviceState(parsed.state)
        except ValueError:
            raise TransportError(f"device reported unknown state 0x{parsed.state:02x}") from None
        sequences = {wire.SignerRole.INSPECTOR: parsed.inspector_order_sequence,
                     wire.SignerRole.BOARD: parsed.board_order_sequence,
                     wire.SignerRole.ISSUER: parsed.issuer_order_sequence}
        return DeviceInfo(state, parsed.device_id, parsed.firmware_measurement,
                          parsed.policy_version, parsed.license_sequence, sequences,
                          parsed.reset_count, parsed.issuer_key, parsed.vendor_key,
                          parsed.first_device_id, parsed.recovery_nonce)

    def provision(self, vendor_key: bytes, genesis_policy: wire.Policy) -> bytes:
        """Have the device make its key and take the genesis policy as its root of
        trust; returns the device's public key (its id)."""
        payload = wire.build_message(wire.ProvisionRequestFormat, {
            "vendor_key": vendor_key, "genesis_policy": genesis_policy.to_bytes()},
            "provision request")
        response = self.call(Command.PROVISION, payload)
        return _parse_payload(wire.ProvisionResponseFormat, response, "PROVISION response").device_id

    def recover(self, recovery: wire.Recovery, genesis_policy: wire.Policy) -> bytes:
        """Re-provision a device in RECOVERY_REQUIRED under its anchored vendor's
        authorization (for the nonce INFO shows now) with the genesis policy it
        names; returns the device's new public key (its id), to be endorsed."""
        payload = wire.build_message(wire.RecoverRequestFormat, {
            "recovery": recovery.to_bytes(), "genesis_policy": genesis_policy.to_bytes()},
            "recover request")
        response = self.call(Command.RECOVER, payload)
        return _parse_payload(wire.ProvisionResponseFormat, response, "RECOVER response").device_id

    def endorse(self, endorsement: wire.Endorsement) -> None:
        self.call(Command.ENDORSE, endorsement.to_bytes())

    def read_endorsement(self) -> wire.Endorsement:
        return wire.Endorsement.from_bytes(self.call(Command.READ_ENDORSEMENT))

    def install_license(self, license_: wire.License) -> None:
        self.call(Command.INSTALL_LICENSE, license_.to_bytes())

    def install_policy(self, policy: wire.Policy) -> None:
        self.call(Command.INSTALL_POLICY, policy.to_bytes())

    def time_nonce(self) -> bytes:
        """A fresh nonce the device will expect the next time beacon to echo."""
        response = self.call(Command.TIME_NONCE)
        if len(response) == wire.NONCE_SIZE:  # the whole of a well-formed response
            return response
        return _parse_payload(wire.TimeNonceResponseFormat, response,
                              "TIME_NONCE response").device_nonce

    def time_beacon(self, beacon: wire.TimeBeacon) -> None:
        self.call(Command.TIME_BEACON, beacon.to_bytes())

    def order(self, order: wire.Order) -> None:
        self.call(Command.ORDER, order.to_bytes())

    def read_log(self, first_index: int = 0,
                 max_entries: int = wire.MAX_LOG_ENTRIES_PER_READ) -> LogPage:
        payload = wire.build_message(wire.ReadLogRequestFormat, {
            "first_index": first_index, "max_entries": max_entries}, "read-log request")
        parsed = _parse_payload(wire.ReadLogResponseFormat, self.call(Command.READ_LOG, payload),
                                "READ_LOG response")
        try:
            entries = tuple(LogEntry(e.index, EventType(e.event_type), bytes(e.payload))
                            for e in parsed.entries)
        except ValueError:
            raise TransportError("device returned a log entry of unknown type") from None
        return LogPage(parsed.next_index, parsed.head_before, entries)

    def read_whole_log(self) -> LogPage:
        """Every entry the device still keeps (its ring holds the newest ones), read
        page by page, with the chain head just before the first of them."""
        page = self.read_log(0)
        head_before, entries = page.head_before, list(page.entries)
        while page.entries and entries[-1].index + 1 < page.next_index:
            # Ask from the last entry seen: after the ring has wrapped, the first
            # page starts at the oldest kept entry, not at index 0.
            page = self.read_log(entries[-1].index + 1)
            entries += page.entries
        return LogPage(page.next_index, head_before, tuple(entries))

    def attest(self, nonce: bytes) -> bytes:
        """Ask for a signed attestation over ``nonce``; returns the record's exact bytes."""
        return self.call(Command.ATTEST, _attest_request(nonce))

    def attest_eat(self, nonce: bytes) -> bytes:
        """The same report as ``attest``, as an EAT (openheg.eat, docs/eat.md);
        returns the token's exact bytes."""
        return self.call(Command.ATTEST_EAT, _attest_request(nonce))


def _attest_request(nonce: bytes) -> bytes:
    """wire.AttestRequestFormat of ``nonce``: the nonce itself when it is one
    (construct, which costs more than the rest of the call, names the error
    otherwise)."""
    if isinstance(nonce, bytes) and len(nonce) == wire.NONCE_SIZE:
        return nonce
    return wire.build_message(wire.AttestRequestFormat, {"nonce": nonce}, "attest request")


def _parse_payload(fmt, payload: bytes, what: str):
    try:
        return wire.parse_message(fmt, payload, what)
    except RecordError as error:
        raise TransportError(f"malformed {what}: {error}") from None
