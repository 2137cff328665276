"""An authority's directory: its published policies and, for a single-office
setup, its role keys; and a vendor's directory with its endorsement list.

Layout of an authority directory::

    policies/v0001.bin ...   every published policy, genesis first; each
                             must follow the one before (openheg.board rules)
    keys/NAME.key(.pub)      role keys kept here: issuer, time, board-N,
                             inspector-N, party-N (a real board keeps each
                             member's key on that member's own machine and
                             only the .pub files here)

A vendor directory holds ``vendor.key`` and ``endorsements.json``: the public
list of every device key it endorsed, which verifiers load.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from . import wire
from .board import Proposal, check_policy_chain, check_policy_update, combine, sign_proposal
from .crypto import SigningKey, load_public_key, public_path
from .device import Device
from .errors import DeviceStateError, KeyFileError, OpenhegError
from .policy import genesis_draft
from .roles import VENDOR_KEY, Role, endorse_device
from .verify import EndorsementList
from .wire import DeviceState, Endorsement, Policy

POLICY_DIR = "policies"
KEY_DIR = "keys"
# A key's name is its file name in keys/: never a path, never empty.
KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ENDORSEMENT_LIST = "endorsements.json"
_POLICY_FILE = re.compile(r"^v(\d{4,})\.bin$")


class AuthorityError(OpenhegError):
    """An authority directory that is missing, incomplete or inconsistent."""


@dataclass(frozen=True)
class Authority:
    directory: Path

    # ---------------------------------------------------------- creation
    @classmethod
    def create(cls, directory: Path, *, board_size: int = 3, board_threshold: int = 2,
               horizon_threshold: int | None = None, inspectors: int = 1, parties: int = 2,
               passphrase: bytes | None = None, now: int | None = None, **policy: int
               ) -> "Authority":
        """Make every role key here and the genesis policy signed by the board."""
        directory = Path(directory)
        if (directory / POLICY_DIR).exists():
            raise AuthorityError(f"{directory} already holds an authority")
        if not 1 <= board_threshold <= board_size:
            raise AuthorityError("the board threshold must be between 1 and the board size")
        authority = cls(directory)
        make = lambda name: authority._create_key(name, passphrase)  # noqa: E731
        board = [make(f"board-{i + 1}") for i in range(board_size)]
        issuer, time_key = make("issuer"), make("time")
        inspector_keys = [make(f"inspector-{i + 1}").public_key for i in range(inspectors)]
        party_keys = [make(f"party-{i + 1}").public_key for i in range(parties)]
        draft = genesis_draft(board_keys=[k.public_key for k in board],
                              board_threshold=board_threshold,
                              horizon_board_threshold=horizon_threshold,
                              issuer_key=issuer.public_key, time_authority_key=time_key.public_key,
                              inspector_keys=inspector_keys, party_keys=party_keys, now=now,
                              **policy)
        proposal = Proposal(draft, "genesis policy")
        signed = combine(proposal, [sign_proposal(proposal, k) for k in board[:board_threshold]],
                         allowed=draft.board_keys)
        authority.publish(signed)
        return authority

    def _create_key(self, name: str, passphrase: bytes | None) -> SigningKey:
        key = SigningKey.generate()
        key.save(self.key_path(name), passphrase)
        return key

    # ------------------------------------------------------------- keys
    def key_path(self, name: str) -> Path:
        if not KEY_NAME.fullmatch(name):
            raise KeyFileError(f"{name[:40]!r} is not a key name: names are 1 to 64 letters, "
                               "digits, '-', '_' or '.', like board-1 or inspector-1")
        return self.directory / KEY_DIR / f"{name}.key"

    def key(self, name: str, passphrase: bytes | None = None) -> SigningKey:
        path = self.key_path(name)
        if not path.exists():
            raise KeyFileError(f"{path} not found: this authority keeps no {name} key here")
        return SigningKey.load(path, passphrase)

    def public_key(self, name: str) -> bytes:
        return load_public_key(public_path(self.key_path(name)))

    def board_member_names(self) -> list[str]:
        names = sorted(p.name[:-4] for p in (self.directory / KEY_DIR).glob("board-*.key"))
        return sorted(names, key=lambda n: int(n.split("-")[1]))

    # --------------------------------------------------------- policies
    def policy_files(self) -> list[Path]:
        folder = self.directory / POLICY_DIR
        if not folder.is_dir():
            raise AuthorityError(f"{self.directory} is not an authority directory "
                                 f"(no {POLICY_DIR}/): create one with `openheg authority create`")
        return sorted((p for p in folder.iterdir() if _POLICY_FILE.match(p.name)),
                      key=lambda p: int(_POLICY_FILE.match(p.name).group(1)))

    def policies(self) -> list[Policy]:
        return [Policy.from_bytes(p.read_bytes()) for p in self.policy_files()]

    def policy_in_force(self) -> Policy:
        """The newest policy; the whole chain from genesis is checked first."""
        return check_policy_chain(self.policies())

    def genesis(self) -> Policy:
        return self.policies()[0]

    def publish(self, policy: Policy) -> Path:
        """Add the next policy after checking it against the one in force."""
        folder = self.directory / POLICY_DIR
        current = self.policy_in_force() if folder.is_dir() and self.policy_files() else None
        check_policy_update(current, policy)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"v{policy.policy_version:04d}.bin"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(policy.to_bytes())
        return path


# ----------------------------------------------------------------- vendor
def endorsement_list_path(vendor_dir: Path) -> Path:
    return Path(vendor_dir) / ENDORSEMENT_LIST


def load_vendor_list(vendor_dir: Path, vendor_key: bytes) -> EndorsementList:
    path = endorsement_list_path(vendor_dir)
    return EndorsementList.load([path], {vendor_key}) if path.exists() else EndorsementList()


def provision(device: Device, vendor: Role, genesis: Policy, *, url: str | None = None,
              now: int | None = None) -> Endorsement:
    """Factory provisioning: the device makes its key and takes the genesis
    policy as its root; the vendor endorses the key; the endorsement goes into
    the vendor's public list."""
    info = device.info()
    if info.state != DeviceState.UNPROVISIONED:
        raise DeviceStateError(f"{url or 'the device'} is already "
                               f"{info.state.name.lower()}: provisioning runs once per device")
    device_id = device.provision(vendor.public_key, genesis)
    endorsement = endorse_device(vendor, device_id, now=now)
    device.endorse(endorsement)
    listing = load_vendor_list(vendor.directory, vendor.public_key)
    listing.add(endorsement)
    listing.save(endorsement_list_path(vendor.directory))
    return endorsement


def create_vendor(directory: Path, passphrase: bytes | None = None) -> Role:
    role = Role.create(directory, VENDOR_KEY, passphrase)
    EndorsementList().save(endorsement_list_path(directory))
    return role


def timestamp() -> int:
    return int(time.time())


__all__ = ["Authority", "AuthorityError", "provision", "create_vendor", "load_vendor_list",
           "endorsement_list_path", "wire"]
