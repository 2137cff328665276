"""The verifier service's configuration: a TOML file, then command-line flags.

With no file and no flags the service starts on 127.0.0.1 with the SQLite
ledger under $OPENHEG_HOME and the trust anchors registered there, which are
none at first: every attestation is then refused with a 4xx that says why.

    # $OPENHEG_HOME/verifier.toml (or --config FILE)
    ledger = "postgresql://openheg@127.0.0.1:5432/registry"   # default: HOME/ledger.sqlite
    host = "127.0.0.1"
    port = 8642
    workers = 1                                    # service processes on that port, each
                                                   #   stateless: all state is in the ledger
    vendor_keys = ["vendor/vendor.key.pub"]        # files or 64 hex digits
    endorsement_lists = ["vendor/endorsements.json"]
    authority = "auth"                             # optional: the authority's folder;
                                                   #   its published policy chain is read
    policy_version = 2                             # optional: reports must run it (default:
                                                   #   the authority's policy in force)
    nonce_lifetime_s = 300
    silence_deadline_s = 86400                     # /metrics counts devices silent past it
    [tokens]                                       # SHA-256 (hex) of each API token
    regulator = ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    [tokens.inspectors]                            # an inspector's public key (hex) =
    "3b6a27bc...(64 hex digits)" = ["60303ae2..."]  #   the SHA-256 of its tokens

Relative paths are taken from the file's folder. Tokens are stored as their
SHA-256, so the file holds no secret; a token is any string of at least 32
characters, e.g. `openssl rand -hex 32`, hashed with `sha256sum`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..authority import Authority
from ..crypto import SigningKey, load_public_key
from ..errors import OpenhegError
from ..ledger import ledger_url
from ..wire import Policy

DEFAULT_PORT = 8642
ROLES = ("regulator", "inspectors")
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_KNOWN = {"ledger", "host", "port", "workers", "vendor_keys", "endorsement_lists", "authority",
          "policy_version",
          "nonce_lifetime_s", "silence_deadline_s", "tokens"}


class ConfigError(OpenhegError):
    """The verifier's configuration cannot be used as written."""


@dataclass(frozen=True)
class VerifierConfig:
    home: Path
    ledger: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    workers: int = 1
    vendor_keys: frozenset[bytes] = frozenset()
    endorsement_lists: tuple[Path, ...] = ()
    authority: Path | None = None
    policy_version: int | None = None
    nonce_lifetime_s: int = 300
    silence_deadline_s: int = 86_400
    token_hashes: dict[str, frozenset[str]] = field(default_factory=dict)
    # Each inspector's public key -> the SHA-256 of its tokens.
    inspector_tokens: dict[bytes, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, home: Path, path: Path | None = None, *, ledger: str | None = None,
             host: str | None = None, port: int | None = None,
             workers: int | None = None) -> VerifierConfig:
        """``path`` (else HOME/verifier.toml when it exists), then the flags."""
        if path is None and (home / "verifier.toml").exists():
            path = home / "verifier.toml"
        data: dict = {}
        if path is not None:
            try:
                data = tomllib.loads(Path(path).read_text())
            except OSError as error:
                raise ConfigError(f"cannot read {path}: {error.strerror}") from None
            except tomllib.TOMLDecodeError as error:
                raise ConfigError(f"{path} is not valid TOML: {error}") from None
            except UnicodeDecodeError:
                raise ConfigError(f"{path} is not valid TOML: it is not UTF-8 text") from None
            unknown = set(data) - _KNOWN
            if unknown:
                raise ConfigError(f"{path}: unknown settings {sorted(unknown)} "
                                  f"(known: {sorted(_KNOWN)})")
        base = Path(path).parent if path is not None else home

        def setting(name, kind, default):
            value = data.get(name, default)
            if value is not None and not isinstance(value, kind):
                raise ConfigError(f"{path}: {name} must be a {kind.__name__}")
            return value

        keys = frozenset(_vendor_key(base, item) for item in setting("vendor_keys", list, []))
        lists = tuple(base / item for item in setting("endorsement_lists", list, []))
        authority = setting("authority", str, None)
        tokens = setting("tokens", dict, {})
        token_hashes, inspector_tokens = {}, {}
        for role, hashes in tokens.items():
            if role not in ROLES:
                raise ConfigError(f"{path}: [tokens] {role}: the roles are {ROLES}")
            if role == "inspectors":
                if not isinstance(hashes, dict) or not all(
                        isinstance(k, str) and _HEX_KEY.fullmatch(k) for k in hashes):
                    raise ConfigError(f"{path}: [tokens.inspectors] maps each inspector's "
                                      "public key (64 hex digits) to its token digests")
                inspector_tokens = {bytes.fromhex(k): _digests(path, f"inspector {k[:16]}", v)
                                    for k, v in hashes.items()}
            else:
                token_hashes[role] = _digests(path, role, hashes)
        lifetime = setting("nonce_lifetime_s", int, 300)
        deadline = setting("silence_deadline_s", int, 86_400)
        version = setting("policy_version", int, None)
        processes = workers or setting("workers", int, 1)
        if (lifetime < 1 or deadline < 1 or processes < 1
                or (version is not None and version < 1)):
            raise ConfigError(f"{path}: nonce_lifetime_s, silence_deadline_s, workers and "
                              "policy_version must be positive")
        return cls(home=home,
                   ledger=ledger_url(ledger or setting("ledger", str, None)
                                     or home / "ledger.sqlite"),
                   host=host or setting("host", str, "127.0.0.1"),
                   port=port or setting("port", int, DEFAULT_PORT), workers=processes,
                   vendor_keys=keys,
                   endorsement_lists=lists,
                   authority=base / authority if authority is not None else None,
                   policy_version=version, nonce_lifetime_s=lifetime,
                   silence_deadline_s=deadline, token_hashes=token_hashes,
                   inspector_tokens=inspector_tokens)

    def authority_policy(self) -> Policy | None:
        """The authority's policy in force, its whole published chain checked."""
        chain = self.authority_policies()
        return chain[-1] if chain else None

    def authority_policies(self) -> list[Policy]:
        """The authority's published policy chain from genesis, checked whole
        (empty without an authority): the policies a fleet order may be bound to."""
        if self.authority is None:
            return []
        try:
            authority = Authority(self.authority)
            authority.policy_in_force()
            return authority.policies()
        except OpenhegError as error:
            raise ConfigError(f"authority {self.authority}: {error}") from None

    def ear_key(self) -> SigningKey:
        """The key that signs the service's EAR results: HOME/verifier/ear.key,
        made on first use (readable by the service's account only)."""
        path = self.home / "verifier" / "ear.key"
        if path.exists():
            return SigningKey.load(path)
        key = SigningKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        key.save(path)
        return key


def _digests(path, who: str, hashes) -> frozenset[str]:
    if not isinstance(hashes, list) or not all(
            isinstance(h, str) and _HEX_KEY.fullmatch(h) for h in hashes):
        raise ConfigError(f"{path}: [tokens] {who} must be a list of SHA-256 digests "
                          "(64 hex digits)")
    return frozenset(h.lower() for h in hashes)


def _vendor_key(base: Path, item) -> bytes:
    if not isinstance(item, str):
        raise ConfigError("vendor_keys: each is a key file or 64 hex digits")
    if _HEX_KEY.fullmatch(item):
        return bytes.fromhex(item)
    try:
        return load_public_key(base / item)
    except OpenhegError as error:
        raise ConfigError(f"vendor key {item}: {error}") from None
