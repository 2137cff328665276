"""The campaign's scenarios: a device brought into a state by the real
firmware on the harness (provisioned, booted again from its storage, time
from a fresh beacon, and maybe a license, a pause or a halt in force), then
one forged or under-signed record that must be refused.

Every record is made at run time by the test kit's Authority
(tests/firmware/fwkit.py, on openheg.wire), so a change of a record format
reaches the campaign without a change here.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, replace
from typing import Callable

import nacl.signing
from openheg import wire
from openheg.errors import DeviceStatus

from fault_harness import ROOT, HarnessError, Machine, Snapshot

sys.path.insert(0, str(ROOT / "tests/firmware"))

from fwkit import HORIZON, NOW, Authority, provision_request  # noqa: E402

# A key the operator holds: it signs what it likes, and nothing trusts it.
OPERATOR = nacl.signing.SigningKey(hashlib.sha256(b"operator").digest())


class HarnessDevice:
    """The harness as one device, driven the way a host drives a board."""

    def __init__(self, machine: Machine, authority: Authority) -> None:
        self.machine = machine
        self.authority = authority
        self.device_id = b""

    def ok(self, command: int, payload: bytes = b"") -> bytes:
        response = self.machine.request(command, payload)
        if response.status != DeviceStatus.OK:
            raise HarnessError(f"setup: {wire.Command(command).name} refused with "
                               f"{DeviceStatus(response.status).name}")
        return response.payload

    def provision(self) -> None:
        """Factory-fresh to PROVISIONED: genesis policy, vendor endorsement."""
        self.machine.boot()
        payload = self.ok(wire.Command.PROVISION, provision_request(self.authority))
        self.device_id = wire.ProvisionResponseFormat.parse(payload).device_id
        self.ok(wire.Command.ENDORSE, self.authority.endorsement(self.device_id))

    def reboot(self) -> None:
        """A power cycle: RAM and the meter start again, the storage stays."""
        self.machine.boot(self.machine.storage())

    def sync_time(self) -> None:
        nonce = wire.TimeNonceResponseFormat.parse(
            self.ok(wire.Command.TIME_NONCE)).device_nonce
        self.ok(wire.Command.TIME_BEACON,
                self.authority.beacon(self.device_id, nonce, NOW).to_bytes())

    def frontier_license(self) -> wire.License:
        return self.authority.frontier_license(self.device_id, sequence=1)


def corrupted(record, signer: bytes):
    """The record with one bit of signer's signature flipped (a forgery)."""
    entries = tuple(
        wire.SignatureEntry(e.signer, bytes([e.signature[0] ^ 1]) + e.signature[1:])
        if e.signer == signer else e for e in record.signatures)
    if entries == record.signatures:
        raise HarnessError("corrupted: the record has no signature by that key")
    return replace(record, signatures=entries)


@dataclass(frozen=True)
class Scenario:
    name: str
    state: str    # the device's state, in words
    summary: str  # the record, in words
    refusal: DeviceStatus  # what the firmware answers without a fault
    # Requests after provisioning, with trusted time, before the reboot.
    prepare: Callable[[HarnessDevice], None]
    # The record under attack: (command, payload).
    record: Callable[[HarnessDevice], tuple[int, bytes]]


def _nothing(_device: HarnessDevice) -> None:
    return None


def _licensed(device: HarnessDevice) -> None:
    device.ok(wire.Command.INSTALL_LICENSE, device.frontier_license().to_bytes())


def _paused(device: HarnessDevice) -> None:
    _licensed(device)
    order = device.authority.order(wire.OrderKind.PAUSE, device.device_id, 1,
                                   device.frontier_license().workload_id)
    device.ok(wire.Command.ORDER, order.to_bytes())


def _halted(device: HarnessDevice) -> None:
    _licensed(device)
    order = device.authority.order(wire.OrderKind.HALT, device.device_id, 1)
    device.ok(wire.Command.ORDER, order.to_bytes())


def _fleet_halted(device: HarnessDevice) -> None:
    _licensed(device)
    order = device.authority.fleet_order(wire.OrderKind.HALT, 1)
    device.ok(wire.Command.ORDER, order.to_bytes())


def _forged_standard_license(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    return wire.Command.INSTALL_LICENSE, corrupted(
        a.license(device.device_id, sequence=1), a.issuer_key).to_bytes()


def _frontier_without_inspector(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    return wire.Command.INSTALL_LICENSE, a.frontier_license(
        device.device_id, sequence=1, signers=(a.issuer,)).to_bytes()


def _horizon(device: HarnessDevice, signers) -> tuple[int, bytes]:
    a = device.authority
    return wire.Command.INSTALL_LICENSE, a.frontier_license(
        device.device_id, sequence=1, workload_total_msflop=HORIZON,
        license_class=wire.LicenseClass.HORIZON, signers=signers).to_bytes()


def _horizon_without_party(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    return _horizon(device, (a.issuer, a.inspector, *a.board_members))


def _horizon_board_short(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    return _horizon(device, (a.issuer, a.inspector, a.party, *a.board_members[:2]))


def _resume(device: HarnessDevice, signers) -> wire.Order:
    return device.authority.order(wire.OrderKind.RESUME, device.device_id, 2,
                                  device.frontier_license().workload_id, signers=signers)


def _forged_resume(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    order = corrupted(_resume(device, (a.inspector,)), bytes(a.inspector.verify_key))
    return wire.Command.ORDER, order.to_bytes()


def _operator_resume(device: HarnessDevice) -> tuple[int, bytes]:
    return wire.Command.ORDER, _resume(device, (OPERATOR,)).to_bytes()


def _lift_halt_one_member(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    order = a.order(wire.OrderKind.LIFT_HALT, device.device_id, 2,
                    signers=a.board_members[:1])
    return wire.Command.ORDER, order.to_bytes()


def _fleet_lift_halt_one_member(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    order = a.fleet_order(wire.OrderKind.LIFT_HALT, 2, signers=a.board_members[:1])
    return wire.Command.ORDER, order.to_bytes()


def _policy_one_member(device: HarnessDevice) -> tuple[int, bytes]:
    a = device.authority
    return wire.Command.INSTALL_POLICY, a.policy(version=2,
                                                 signers=a.board_members[:1]).to_bytes()


SCENARIOS = (
    Scenario("license-forged-signature", "provisioned, no license",
             "STANDARD license whose issuer signature has one bit flipped",
             DeviceStatus.SIGNATURE_INVALID, _nothing, _forged_standard_license),
    Scenario("license-frontier-no-inspector", "provisioned, no license",
             "Frontier license signed by the issuer alone, not by its named inspector",
             DeviceStatus.SIGNER_UNTRUSTED, _nothing, _frontier_without_inspector),
    Scenario("license-horizon-no-party", "provisioned, no license",
             "Horizon license with the whole board but not the party representative",
             DeviceStatus.QUORUM_NOT_MET, _nothing, _horizon_without_party),
    Scenario("license-horizon-board-short", "provisioned, no license",
             "Horizon license with 2 of the 3 board signatures its Horizon quorum needs",
             DeviceStatus.QUORUM_NOT_MET, _nothing, _horizon_board_short),
    Scenario("resume-forged-while-paused", "Frontier license, paused by its inspector",
             "RESUME while paused, the inspector's signature with one bit flipped",
             DeviceStatus.SIGNATURE_INVALID, _paused, _forged_resume),
    Scenario("resume-operator-key-while-paused", "Frontier license, paused by its inspector",
             "RESUME while paused, validly signed by a key the operator holds",
             # The order names the inspector role; its signer is not that inspector.
             DeviceStatus.SIGNER_UNTRUSTED, _paused, _operator_resume),
    Scenario("lift-halt-short-quorum", "Frontier license, halted by the board",
             "LIFT_HALT while halted, signed by 1 board member (quorum 2)",
             DeviceStatus.QUORUM_NOT_MET, _halted, _lift_halt_one_member),
    Scenario("fleet-lift-halt-short-quorum", "Frontier license, halted by the board's fleet halt",
             "fleet LIFT_HALT while fleet-halted, signed by 1 board member (quorum 2)",
             DeviceStatus.QUORUM_NOT_MET, _fleet_halted, _fleet_lift_halt_one_member),
    Scenario("policy-short-quorum", "provisioned, policy version 1",
             "policy version 2 signed by 1 board member (quorum 2)",
             DeviceStatus.QUORUM_NOT_MET, _nothing, _policy_one_member),
)


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(f"no scenario {name!r}; known: {', '.join(s.name for s in SCENARIOS)}")


def prepare(machine: Machine, scenario: Scenario) -> Snapshot:
    """Brings a fresh harness into the scenario's state and posts its record:
    the snapshot every run of the scenario starts from (the CPU at READY,
    the request in the mailbox)."""
    device = HarnessDevice(machine, Authority())
    device.provision()
    device.sync_time()
    scenario.prepare(device)
    device.reboot()
    device.sync_time()
    machine.post(*scenario.record(device))
    return machine.snapshot()
