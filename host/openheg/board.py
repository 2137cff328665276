"""Offline k-of-n votes and the signature rules every multi-signed record obeys.

The workflow works with no network between the signers:

1. propose: the unsigned record's exact body bytes go into a proposal file;
2. each member signs on their own machine: ``sign_proposal`` checks the body
   parses as the record it claims to be and writes one signature share;
3. combine: shares are checked (each verifies, no signer twice, every signer
   entitled), sorted by signer and attached; the result must pass the same
   rules a verifier or the device applies (``check_policy_update``,
   ``check_license_signatures``, ``check_order_signatures``);
4. publish: the combined record's bytes go to devices and verifiers.

The rules (wire.Policy's contract): version N+1 of a policy needs
board_threshold signatures of version N's board; when the board's membership
changes it also needs the new board's threshold; when it moves the Horizon
veto (changes the party representatives or the board, lowers the Horizon
quorum, raises the Horizon threshold) it needs every party representative and
the Horizon quorum of version N; the genesis policy is signed by its own board. Signatures by revoked keys count for nothing, and a
signature that does not verify makes the whole record invalid (fail closed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import wire
from .crypto import SigningKey, verify_record
from .errors import OpenhegError, RecordError, SignatureError
from .wire import (License, LicenseClass, Order, OrderKind, Policy, SignatureEntry, SignedRecord,
                   SignerRole)

PROPOSAL_FORMAT = "openheg-proposal/v1"
SHARE_FORMAT = "openheg-signature-share/v1"


class VoteError(OpenhegError):
    """A vote or signature set that does not satisfy the rules; the message names why."""


def short(key: bytes) -> str:
    return key.hex()[:16] + "..."


# ------------------------------------------------------------- proposals
def record_from_body(cls: type[SignedRecord], body: bytes) -> Any:
    """Parse an unsigned record body (exactly one encoding) of type ``cls``."""
    placeholder = (bytes(wire.SIGNATURE_SIZE) if cls.MAX_SIGNATURES == 1
                   else b"\x01" + bytes(wire.KEY_SIZE + wire.SIGNATURE_SIZE))
    record = cls.from_bytes(bytes(body) + placeholder)
    return replace(record, **({"signature": bytes(wire.SIGNATURE_SIZE)}
                              if cls.MAX_SIGNATURES == 1 else {"signatures": ()}))


@dataclass(frozen=True)
class Proposal:
    """An unsigned record put to its signers."""

    record: SignedRecord
    note: str = ""

    @property
    def body(self) -> bytes:
        return self.record.body()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.record.signing_message()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {"format": PROPOSAL_FORMAT, "record_type": self.record.RECORD_TYPE.name,
                "body": self.body.hex(), "sha256": self.digest, "note": self.note,
                "fields": wire.to_jsonable(self.record)}

    def save(self, path: Path) -> None:
        _write_json(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> "Proposal":
        data = _read_json(path, PROPOSAL_FORMAT, "proposal")
        try:
            record_type = wire.RecordType[data["record_type"]]
            body = bytes.fromhex(data["body"])
        except (KeyError, ValueError, TypeError):
            raise VoteError(f"{path}: proposal has no valid record_type and body") from None
        record = record_from_body(wire.RECORDS[record_type], body)
        return cls(record, str(data.get("note", "")))


@dataclass(frozen=True)
class Share:
    """One signer's signature over a proposal."""

    record_type: wire.RecordType
    digest: str
    entry: SignatureEntry

    def to_json(self) -> dict[str, Any]:
        return {"format": SHARE_FORMAT, "record_type": self.record_type.name,
                "sha256": self.digest, "signer": self.entry.signer.hex(),
                "signature": self.entry.signature.hex()}

    def save(self, path: Path) -> None:
        _write_json(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> "Share":
        data = _read_json(path, SHARE_FORMAT, "signature share")
        try:
            entry = SignatureEntry(bytes.fromhex(data["signer"]), bytes.fromhex(data["signature"]))
            record_type = wire.RecordType[data["record_type"]]
            digest = str(data["sha256"])
        except (KeyError, ValueError, TypeError):
            raise VoteError(f"{path}: not a valid signature share") from None
        if len(entry.signer) != wire.KEY_SIZE or len(entry.signature) != wire.SIGNATURE_SIZE:
            raise VoteError(f"{path}: signer or signature has the wrong length")
        return cls(record_type, digest, entry)


def sign_proposal(proposal: Proposal, key: SigningKey) -> Share:
    """Sign on the member's own machine; the member should first read the fields."""
    signature = key.sign(proposal.record.signing_message())
    return Share(proposal.record.RECORD_TYPE, proposal.digest,
                 SignatureEntry(key.public_key, signature))


def combine(proposal: Proposal, shares: Iterable[Share], *, allowed: Iterable[bytes] | None = None
            ) -> SignedRecord:
    """Attach the shares to the proposal's record, refusing any bad share.

    ``allowed``: the keys entitled to sign (None: any key, for records whose
    rules are checked afterwards). The caller then checks the rule of the
    record's kind; combine only guarantees every signature is sound.
    """
    record = proposal.record
    allowed_set = None if allowed is None else set(allowed)
    seen: dict[bytes, SignatureEntry] = {}
    for share in shares:
        signer = share.entry.signer
        if share.record_type != record.RECORD_TYPE or share.digest != proposal.digest:
            raise VoteError(f"the share by {short(signer)} signs another proposal "
                            f"({share.record_type.name.lower()} {share.digest[:12]}...)")
        if signer in seen:
            raise VoteError(f"{short(signer)} signed twice: each signer counts once; "
                            "drop the duplicate share")
        if allowed_set is not None and signer not in allowed_set:
            raise VoteError(f"{short(signer)} is not entitled to sign this "
                            f"{record.what()} (unknown signer)")
        try:
            verify_record(record.RECORD_TYPE, signer, proposal.body, share.entry.signature)
        except SignatureError:
            raise VoteError(f"the share by {short(signer)} does not verify") from None
        seen[signer] = share.entry
    if not seen:
        raise VoteError("no signature shares given")
    if record.MAX_SIGNATURES == 1:
        if len(seen) != 1:
            raise VoteError(f"a {record.what()} takes exactly one signature")
        return replace(record, signature=next(iter(seen.values())).signature)
    if len(seen) > record.MAX_SIGNATURES:
        raise VoteError(f"a {record.what()} carries at most {record.MAX_SIGNATURES} signatures, "
                        f"{len(seen)} given: leave out the surplus")
    return replace(record, signatures=tuple(seen[k] for k in sorted(seen)))


# ------------------------------------------------------------------ rules
def valid_signers(record: SignedRecord, revoked: Iterable[bytes] = ()) -> set[bytes]:
    """Every signer, after checking each signature; a signature that does not
    verify, or one by a revoked key, fails the whole record (as on the device)."""
    signers = set()
    revoked = set(revoked)
    for entry in record.signatures:
        if entry.signer in revoked:
            raise VoteError(f"this {record.what()} is signed by revoked key "
                            f"{short(entry.signer)}")
        try:
            verify_record(record.RECORD_TYPE, entry.signer, record.body(), entry.signature)
        except SignatureError:
            raise VoteError(f"the signature by {short(entry.signer)} on this {record.what()} "
                            "does not verify") from None
        signers.add(entry.signer)
    return signers


def _count(signers: set[bytes], group: Iterable[bytes]) -> int:
    return len(signers & set(group))


def check_policy_update(current: Policy | None, new: Policy) -> None:
    """Raise VoteError unless ``new`` may follow ``current`` (None: genesis).

    The same verdicts as the firmware's INSTALL_POLICY: signers revoked by the
    current or the new policy fail the record; signers on neither board count
    for nothing (``combine`` refuses to add them in the first place).
    """
    revoked = set(new.revoked_keys) | (set(current.revoked_keys) if current else set())
    signers = valid_signers(new, revoked)
    if current is None:
        if new.policy_version != 1:
            raise VoteError(f"a genesis policy is version 1, this is version {new.policy_version}")
        got = _count(signers, new.board_keys)
        if got < new.board_threshold:
            raise VoteError(f"genesis policy has {got} board signatures, its own board "
                            f"needs {new.board_threshold}")
        return
    if new.policy_version != current.policy_version + 1:
        raise VoteError(f"policy version {new.policy_version} cannot follow version "
                        f"{current.policy_version} (must be exactly the next version)")
    got = _count(signers, current.board_keys)
    if got < current.board_threshold:
        raise VoteError(f"policy v{new.policy_version} has {got} signatures of the "
                        f"current board, which needs {current.board_threshold}")
    if tuple(new.board_keys) != tuple(current.board_keys):
        got_new = _count(signers, new.board_keys)
        if got_new < new.board_threshold:
            raise VoteError(f"policy v{new.policy_version} changes the board: it also needs "
                            f"{new.board_threshold} signatures of the new board, has {got_new}")
    moves = veto_changes(current, new)
    if moves:
        need = current.horizon_board_threshold
        got = _count(signers, current.board_keys)
        missing = set(current.party_keys) - signers
        if got < need or missing:
            raise VoteError(f"policy v{new.policy_version} moves the Horizon veto "
                            f"({', '.join(moves)}): it needs every current party representative "
                            f"({len(missing)} missing) and the current board's Horizon quorum "
                            f"({need} members, has {got})")


def horizon_raised(current: Policy, new: Policy) -> bool:
    """Whether H(day) under ``new`` may exceed H(day) under ``current`` on some
    day: a higher base or daily increase, or an earlier epoch while it rises
    daily (the firmware's over-approximation, which asks for the veto in the
    rare case of an earlier epoch with a low enough base: it fails safe)."""
    return (new.horizon_base_msflop > current.horizon_base_msflop
            or new.horizon_daily_increase_msflop > current.horizon_daily_increase_msflop
            or (new.schedule_epoch_day < current.schedule_epoch_day
                and new.horizon_daily_increase_msflop != 0))


def veto_changes(current: Policy, new: Policy) -> list[str]:
    """How ``new`` moves the Horizon veto, which the party representatives and
    the board's Horizon quorum hold: empty when it does not."""
    moves = []
    if tuple(new.party_keys) != tuple(current.party_keys):
        moves.append("changes the party representatives")
    if tuple(new.board_keys) != tuple(current.board_keys):
        moves.append("changes the board")
    if new.horizon_board_threshold < current.horizon_board_threshold:
        moves.append("lowers the Horizon quorum")
    if horizon_raised(current, new):
        moves.append("raises the Horizon threshold")
    return moves


def check_policy_chain(policies: list[Policy]) -> Policy:
    """Check genesis then each update in order; returns the policy in force."""
    if not policies:
        raise VoteError("no policy given")
    current = None
    for policy in policies:
        check_policy_update(current, policy)
        current = policy
    return current  # type: ignore[return-value]


def license_signers_needed(policy: Policy, license_: License) -> dict[str, Any]:
    """Who must sign a license of this class under ``policy``."""
    need: dict[str, Any] = {"issuer": policy.issuer_key}
    if license_.license_class in (LicenseClass.FRONTIER, LicenseClass.HORIZON):
        need["inspector"] = license_.inspector_key
    if license_.license_class == LicenseClass.HORIZON:
        need["board"] = (policy.board_keys, policy.horizon_board_threshold)
        need["parties"] = policy.party_keys
    return need


def license_cosigners(policy: Policy, license_: License) -> set[bytes]:
    """Every key entitled to sign this license."""
    need = license_signers_needed(policy, license_)
    keys = {need["issuer"]}
    if "inspector" in need:
        keys.add(need["inspector"])
    if "board" in need:
        keys |= set(policy.board_keys) | set(policy.party_keys)
    return keys - set(policy.revoked_keys)


def check_license_signatures(policy: Policy, license_: License) -> None:
    """The firmware's INSTALL_LICENSE signature rule: every signature verifies
    and none is revoked; the class's signers are all there; others count for
    nothing (``combine`` refuses them)."""
    live = valid_signers(license_, policy.revoked_keys)
    if policy.issuer_key not in live:
        raise VoteError("license is not signed by the policy's issuer")
    cls = license_.license_class
    if cls != LicenseClass.STANDARD:
        if license_.inspector_key not in policy.inspector_keys:
            raise VoteError("license names an inspector the policy does not list")
        if license_.inspector_key not in live:
            raise VoteError(f"a {cls.name.lower()} license needs its named inspector's signature")
        if license_.oversight_ppm < policy.oversight_min_ppm:
            raise VoteError(f"license reserves {license_.oversight_ppm} ppm for oversight, the "
                            f"policy's minimum is {policy.oversight_min_ppm}")
    if cls == LicenseClass.HORIZON:
        got = _count(live, policy.board_keys)
        if got < policy.horizon_board_threshold:
            raise VoteError(f"a Horizon license needs {policy.horizon_board_threshold} board "
                            f"signatures, has {got}")
        missing = set(policy.party_keys) - live
        if missing:
            raise VoteError(f"a Horizon license needs every party representative; "
                            f"{len(missing)} missing (e.g. {short(min(missing))})")


def check_order_signatures(policy: Policy, order: Order, license_inspector: bytes | None) -> None:
    """The firmware's ORDER rule: the order's signers must be the signer role it
    names (wire.ORDER_SIGNER_ROLES says which roles may give which kind): an
    inspector (for a pause or resume, one the policy lists: the device then
    holds a resume to the inspector who paused; for a release of the oversight
    reserve, the inspector named in the license, ``license_inspector``), a
    board quorum, or the policy's issuer. Signatures of other keys count for
    nothing."""
    live = valid_signers(order, policy.revoked_keys)
    kind = order.order_kind.name.lower().replace("_", "-")
    role = order.signer_role
    if order.fleet and order.policy_digest != policy.digest:
        raise VoteError(f"the fleet {kind} order is bound to policy "
                        f"{order.policy_digest.hex()[:16]}..., not to the policy in force "
                        f"(v{policy.policy_version}, {policy.digest.hex()[:16]}...)")
    if role == SignerRole.INSPECTOR and order.order_kind == OrderKind.RELEASE_OVERSIGHT and (
            license_inspector is None or license_inspector not in live):
        raise VoteError(f"a {kind} order must be signed by the inspector named in the license")
    if role == SignerRole.INSPECTOR and order.order_kind != OrderKind.RELEASE_OVERSIGHT and \
            not _count(live, policy.inspector_keys):
        raise VoteError(f"a {kind} order given by the inspector must be signed by an inspector "
                        "the policy lists (an order the board gives names the board as its "
                        "signer role)")
    if role == SignerRole.BOARD:
        board = _count(live, policy.board_keys)
        if board < policy.board_threshold:
            raise VoteError(f"a {kind} order given by the board needs a board quorum: "
                            f"{policy.board_threshold} members, has {board}")
    if role == SignerRole.ISSUER and policy.issuer_key not in live:
        raise VoteError(f"a {kind} order given by the issuer must be signed by the policy's "
                        "issuer")


# ------------------------------------------------------------------ files
def _write_json(path: Path, data: dict[str, Any]) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise VoteError(f"cannot write {path}: {error.strerror}") from None


def _read_json(path: Path, expected_format: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise VoteError(f"cannot read {path}: {error.strerror}") from None
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past any use
        raise VoteError(f"{path} is not a {what} file (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise VoteError(f"{path} is not a {what} file (expected format {expected_format})")
    return data


def load_record(path: Path, cls: type[SignedRecord]) -> Any:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise RecordError(f"cannot read {path}: {error.strerror}") from None
    return cls.from_bytes(data)
