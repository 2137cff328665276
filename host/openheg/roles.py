"""The signing roles of the spine: the authority's license issuer and the vendor.

Each role is a directory holding one Ed25519 key (PKCS#8 PEM, 0600, optionally
passphrase-encrypted) and its public half beside it as ``NAME.key.pub``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from . import wire
from .crypto import SigningKey, load_public_key, public_path
from .errors import KeyFileError
from .licensing import validity_window, workload_id_for
from .wire import Endorsement, License, LicenseClass, RecordType, SignatureEntry

ISSUER_KEY = "issuer.key"
VENDOR_KEY = "vendor.key"


@dataclass(frozen=True)
class Role:
    """A directory with one signing key."""

    directory: Path
    key: SigningKey

    @classmethod
    def create(cls, directory: Path, filename: str, passphrase: bytes | None = None) -> "Role":
        key = SigningKey.generate()
        key.save(Path(directory) / filename, passphrase)
        return cls(Path(directory), key)

    @classmethod
    def load(cls, directory: Path, filename: str, passphrase: bytes | None = None) -> "Role":
        path = Path(directory) / filename
        if not path.exists():
            raise KeyFileError(f"{path} not found: is {directory} the right directory?")
        return cls(Path(directory), SigningKey.load(path, passphrase))

    @property
    def public_key(self) -> bytes:
        return self.key.public_key


def issuer_public_key(authority_directory: Path) -> bytes:
    return load_public_key(public_path(Path(authority_directory) / ISSUER_KEY))


def issue_license(issuer: Role, *, device_id: bytes, workload: str, sequence: int,
                  allocation_msflop: int, valid_days: float = 30.0,
                  workload_total_msflop: int | None = None, lineage_msflop: int = 0,
                  now: int | None = None) -> License:
    """A standard-class license for one device, signed by the issuer.

    Workloads across a fleet, and the Frontier and Horizon classes with their
    co-signatures, are openheg.licensing's job; this is the one-device shortcut.
    """
    not_before, not_after = validity_window(int(time.time()) if now is None else now,
                                            valid_days)
    body = License(
        license_id=os.urandom(wire.ID_SIZE), device_id=device_id,
        workload_id=workload_id_for(workload), sequence=sequence,
        allocation_msflop=allocation_msflop,
        workload_total_msflop=allocation_msflop if workload_total_msflop is None
        else workload_total_msflop,
        lineage_msflop=lineage_msflop, not_before=not_before, not_after=not_after,
        license_class=LicenseClass.STANDARD, oversight_ppm=0, inspector_key=bytes(wire.KEY_SIZE),
        signatures=())
    signature = issuer.key.sign_record(RecordType.LICENSE, body.body())
    return replace(body, signatures=(SignatureEntry(issuer.public_key, signature),))


def endorse_device(vendor: Role, device_id: bytes, now: int | None = None) -> Endorsement:
    """The vendor's statement that ``device_id`` is a key made inside its chip."""
    body = Endorsement(device_id=device_id, vendor_key=vendor.public_key,
                       issued_at=int(time.time()) if now is None else now)
    return replace(body, signature=vendor.key.sign_record(RecordType.ENDORSEMENT, body.body()))
