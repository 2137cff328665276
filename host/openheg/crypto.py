"""Ed25519 keys, signatures and key files.

Verification is strict and identical to the firmware's: both call libsodium
(PyNaCl here, the fetched libsodium there), which rejects non-canonical S,
non-canonical or small-order A and R. pyca/cryptography is used only for key
file formats, never to verify, because it accepts some small-order cases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nacl.bindings
from nacl._sodium import ffi as _sodium_ffi
from nacl._sodium import lib as _sodium
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import KeyFileError, SignatureError
from .wire import KEY_SIZE, SIGNATURE_SIZE, RecordType, signing_message

SEED_SIZE = 32
# Bound once: looked up on cffi's lib object, the function costs a lookup per call.
_sign_open, _NULL = _sodium.crypto_sign_open, _sodium_ffi.NULL


def verify_strict(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise SignatureError unless ``signature`` is a strict Ed25519 signature."""
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError(f"signature must be {SIGNATURE_SIZE} bytes, got {len(signature)}")
    # Only another buffer is copied to bytes: bytes() of bytes is a call as
    # dear as any other step of an attestation's check but the signature's.
    # Bytes plus any buffer is bytes.
    verify_signed(public_key, (signature if type(signature) is bytes else bytes(signature))
                  + message)


def verify_signed(public_key: bytes, signed: bytes) -> None:
    """verify_strict of ``signed``: the signature, then the message (as
    libsodium's crypto_sign_open takes them), for a caller that holds the two
    in its own layout and joins them once; SignatureError unless the signature
    verifies (a ``signed`` shorter than a signature never does)."""
    if len(public_key) != KEY_SIZE:
        raise SignatureError(f"public key must be {KEY_SIZE} bytes, got {len(public_key)}")
    # libsodium's crypto_sign_open, as PyNaCl's VerifyKey.verify calls it, but
    # straight through PyNaCl's own binding of libsodium (pinned in
    # pyproject.toml) with no buffer for the opened message: given none, it only
    # verifies (libsodium's crypto_sign_verify_detached, the same strict rules),
    # and a verifier then spends no allocation or copy on a message it holds.
    if type(public_key) is not bytes:
        public_key = bytes(public_key)
    if _sign_open(_NULL, _NULL, signed, len(signed), public_key) != 0:
        raise SignatureError("signature does not verify under strict Ed25519 rules")


def verify_record(record_type: RecordType, public_key: bytes, body: bytes, signature: bytes) -> None:
    """Verify a signature over a record body under that record type's domain."""
    verify_strict(public_key, signing_message(record_type, body), signature)


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key held as its 32-byte seed."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_SIZE:
            raise KeyFileError(f"an Ed25519 seed is {SEED_SIZE} bytes, got {len(self.seed)}")

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(os.urandom(SEED_SIZE))

    @cached_property
    def _keypair(self) -> tuple[bytes, bytes]:
        # (public key, libsodium's secret key), derived once per key object:
        # the derivation costs about as much as the signature itself.
        return nacl.bindings.crypto_sign_seed_keypair(self.seed)

    @property
    def public_key(self) -> bytes:
        return self._keypair[0]

    def sign(self, message: bytes) -> bytes:
        return nacl.bindings.crypto_sign(bytes(message), self._keypair[1])[:SIGNATURE_SIZE]

    def sign_record(self, record_type: RecordType, body: bytes) -> bytes:
        return self.sign(signing_message(record_type, body))

    def save(self, path: Path, passphrase: bytes | None = None) -> None:
        """Write PKCS#8 PEM, encrypted when a passphrase is given; the file is 0600."""
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                      else serialization.NoEncryption())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                encryption)
        _write_private(path, pem)
        public_path(path).write_text(public_key_openssh(self.public_key) + "\n")

    @classmethod
    def load(cls, path: Path, passphrase: bytes | None = None) -> "SigningKey":
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise KeyFileError(f"cannot read private key {path}: {error.strerror}") from None
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError:
            raise KeyFileError(f"{path} is encrypted: give its passphrase"
                               if passphrase is None else
                               f"{path} is not encrypted: do not give a passphrase") from None
        except ValueError:
            raise KeyFileError(f"{path} is not a PEM private key, or the passphrase is wrong") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
        return cls(key.private_bytes_raw())


def public_path(private_key_path: Path) -> Path:
    return Path(str(private_key_path) + ".pub")


def public_key_openssh(public_key: bytes) -> str:
    key = Ed25519PublicKey.from_public_bytes(public_key)
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def usable_public_key(raw: bytes, source: str) -> bytes:
    """`raw` if it is a point strict verification can ever accept, else KeyFileError.

    An all-zero, identity or other small-order key, or a non-canonical encoding, is
    refused up front: verify_strict refuses every signature under it, so naming one
    as an issuer, time authority, inspector or party would only create a role that
    can never sign (and hide the mistake until the first record is refused).
    """
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(raw):
        raise KeyFileError(f"{source} is not a usable Ed25519 public key (a small-order, "
                           "non-canonical or off-curve point, such as all zeros): give the "
                           "key's .pub file")
    return raw


def load_public_key(path: Path) -> bytes:
    """Read an Ed25519 public key from an OpenSSH line, a PEM file or 64 hex digits."""
    try:
        text = Path(path).read_bytes().strip()
    except OSError as error:
        raise KeyFileError(f"cannot read public key {path}: {error.strerror}") from None
    try:
        if text.startswith(b"ssh-ed25519 "):
            key = serialization.load_ssh_public_key(text)
        elif text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        else:
            raw = bytes.fromhex(text.decode("ascii"))
            if len(raw) != KEY_SIZE:
                raise ValueError
            return usable_public_key(raw, str(path))
    except (ValueError, UnicodeDecodeError):
        raise KeyFileError(f"{path} is not an Ed25519 public key "
                           "(OpenSSH, PEM or 64 hex digits)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return usable_public_key(key.public_bytes_raw(), str(path))


def _write_private(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key by accident; 0600 from the first byte.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
