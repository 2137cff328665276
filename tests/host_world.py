"""A small authority for device tests: a one-member board, an issuer, a vendor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openheg.authority import Authority
from openheg.crypto import SigningKey
from openheg.device import Device
from openheg.licensing import time_beacon
from openheg.roles import Role, endorse_device
from openheg.wire import Policy


@dataclass
class World:
    authority: Authority
    issuer: Role
    vendor: Role
    genesis: Policy

    def provision(self, device: Device) -> bytes:
        """Provision, endorse, and give the device trusted time (licenses need it)."""
        device_id = device.provision(self.vendor.public_key, self.genesis)
        device.endorse(endorse_device(self.vendor, device_id))
        self.set_time(device, device_id)
        return device_id

    def set_time(self, device: Device, device_id: bytes) -> None:
        device.time_beacon(time_beacon(self.authority.key("time"), device_id=device_id,
                                       device_nonce=device.time_nonce()))


def make_world(directory: Path, **policy: int) -> World:
    authority = Authority.create(Path(directory) / "authority", board_size=1, board_threshold=1,
                                 inspectors=1, parties=1, **policy)
    issuer = Role(Path(directory), authority.key("issuer"))
    vendor = Role(Path(directory) / "vendor", SigningKey.generate())
    return World(authority, issuer, vendor, authority.genesis())
