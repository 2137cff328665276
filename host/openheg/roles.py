"""Signing roles kept as key directories: the authority's issuer and the vendor.

Each role is a directory holding one Ed25519 key (PKCS#8 PEM, 0600, optionally
passphrase-encrypted) and its public half beside it as ``NAME.key.pub``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from .crypto import SigningKey, load_public_key, public_path
from .errors import KeyFileError
from .wire import Endorsement, RecordType

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


def endorse_device(vendor: Role, device_id: bytes, now: int | None = None) -> Endorsement:
    """The vendor's statement that ``device_id`` is a key made inside its chip."""
    body = Endorsement(device_id=device_id, vendor_key=vendor.public_key,
                       issued_at=int(time.time()) if now is None else now)
    return replace(body, signature=vendor.key.sign_record(RecordType.ENDORSEMENT, body.body()))
