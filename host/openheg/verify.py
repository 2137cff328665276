"""Verify what a device reports, failing closed.

An attestation is trusted only when every link holds: the vendor key is one
the verifier trusts, the vendor endorsed this device key, the device signed
these exact bytes, the nonce is the verifier's own fresh one, the device runs
the policy the verifier expects (its version and, given the authority's policy,
its digest), and (when a license is given) the
license is authentic under the authority's policy, as the device checks it
before running it, and the report is about that license on that device and
its numbers add up. Any broken link raises VerificationError naming it.

A license is evidence only once authenticated: the attestation names a
license by id and sequence alone, so a license file with the same id and
sequence but another workload, totals, inspector or window would otherwise
be taken for the one the device runs.

Endorsements reach verifiers as the vendor's public endorsement list
(``EndorsementList``): every entry is a vendor-signed record, so the list
needs no signature of its own, and a verifier keeps only entries by vendor
keys it trusts.
"""

from __future__ import annotations

from hmac import compare_digest
import itertools
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import struct

from construct import Array, Bytes, BytesInteger, Const, FormatField, Struct

from . import wire
from .board import VoteError, check_license_signatures
from .crypto import verify_record, verify_signed
from .errors import RecordError, SignatureError, VerificationError
from .licensing import workload_id_for
from .lineage import NO_LINEAGE, Registry
from .wire import (SIGNATURE_SIZE, Attestation, Endorsement, GateCause, GateState, License,
                   Policy, RecordType)

ENDORSEMENT_LIST_FORMAT = "openheg-endorsements/v1"

def _check_plain_frozen(cls: type, names: Sequence[str]) -> None:
    """A record made without its __init__ (its dict filled, then made its own)
    is the one __init__ makes only for a plain dataclass of exactly these
    fields, in order: with a __post_init__, slots or other fields it would
    skip what __init__ does."""
    if ([f.name for f in fields(cls)] != list(names) or hasattr(cls, "__post_init__")
            or hasattr(cls, "__slots__")):
        raise TypeError(f"{cls.__name__} is no longer a plain frozen dataclass of the fields "
                        f"{', '.join(names)}: its fast constructor must follow it")


def _maker(cls: type, names: Sequence[str]):
    """cls(**values) for a plain frozen dataclass of exactly these fields, for
    a caller that fills a fresh dict of them: the generated __init__ sets the
    fields one object.__setattr__ at a time, dearer than making the dict the
    record's own."""
    _check_plain_frozen(cls, names)
    new, set_dict = object.__new__, object.__setattr__

    def make(values: dict):
        record = new(cls)
        set_dict(record, "__dict__", values)
        return record
    return make


class _FixedLayout:
    """A fixed-size construct Struct of the wire spec, read with one
    ``struct.unpack_from``: the layout is derived from the spec itself (field
    by field), so the spec stays the one source, and this is only its fast
    reader. A spec element it does not know makes construction fail, and
    callers then use the spec's own parser.

    ``read`` gives a ``record``, a plain frozen dataclass whose fields are the
    spec's, in its order (checked here), its own rules (check()) not yet run:
    a u128 is read as its two little-endian u64 halves and made one int, an
    array of them a tuple; ``convert`` names the fields made something else
    (an enum) by a function of the value."""

    def __init__(self, fmt: Struct, record: type, convert: dict | None = None):
        self.convert = convert or {}
        self.record = record
        codes, self.consts, self.names = ["<"], [], []
        # Each field's value as an expression over the unpacked items, which
        # are named v0, v1, ... in unpack order.
        self._values: list[str] = []
        position = 0
        items = itertools.count()

        def u128() -> str:
            low, high = f"v{next(items)}", f"v{next(items)}"
            codes.append("QQ")
            # Counts and msFLOP totals fit 64 bits in practice: the high half
            # is then 0, and the shift and or are skipped.
            return f"({low} | {high} << 64 if {high} else {low})"

        for sub in fmt.subcons:
            inner = sub.subcon
            size = sub.sizeof()
            if isinstance(inner, Const):
                constant = inner.subcon.build(inner.value)
                # Adjacent constants (the header's tag, type and version) are
                # compared as one run of bytes.
                if self.consts and self.consts[-1][0] + len(self.consts[-1][1]) == position:
                    start, before = self.consts.pop()
                    self.consts.append((start, before + constant))
                else:
                    self.consts.append((position, constant))
                codes.append(f"{size}x")
                position += size
                continue
            if isinstance(inner, FormatField) and inner.fmtstr[0] == "<":
                codes.append(inner.fmtstr[1:])
                value = f"v{next(items)}"
            elif _is_u128(inner):
                value = u128()
            elif isinstance(inner, Bytes) and isinstance(inner.length, int):
                codes.append(f"{inner.length}s")
                value = f"v{next(items)}"
            elif (isinstance(inner, Array) and isinstance(inner.count, int)
                  and inner.count > 1 and _is_u128(inner.subcon)):
                value = "(" + ", ".join(u128() for _ in range(inner.count)) + ")"
            else:
                raise TypeError(f"no fast layout for {sub.name}")
            self.names.append(sub.name)
            self._values.append(value)
            position += size
        self.struct = struct.Struct("".join(codes))
        if self.struct.size != fmt.sizeof():
            raise TypeError("the fast layout's size is not the spec's")
        self.size = self.struct.size
        _check_plain_frozen(record, self.names)
        self.read = self._reader(next(items))

    def _reader(self, item_count: int):
        """``read`` as one function written for this layout (as dataclasses
        writes __init__): the constants compared, the items unpacked into
        locals, then a copy of a dict of the fields' names filled in place,
        each u128 made an int and each field in ``convert`` passed through its
        function, and the dict made the record's own (as _maker does). A loop
        over the fields cost several times the unpack itself, and a dict
        display of this many keys twice the copy and the stores (it grows its
        table as it goes; the copy starts at the final size)."""
        stores = []
        for name, value in zip(self.names, self._values):
            if name in self.convert:
                value = f"convert_{name}({value})"
            stores.append(f"    fields[{name!r}] = {value}\n")
        checks = "".join(f"    if data[{offset}:{offset + len(value)}] != consts[{i}]:\n"
                         "        raise ValueError('header')\n"
                         for i, (offset, value) in enumerate(self.consts))
        targets = ", ".join(f"v{i}" for i in range(item_count))
        source = (f"def read(data):\n{checks}    {targets}, = unpack_from(data)\n"
                  f"    fields = names.copy()\n{''.join(stores)}"
                  "    record = new(cls)\n    set_dict(record, '__dict__', fields)\n"
                  "    return record\n")
        scope = {"consts": [value for _, value in self.consts],
                 "unpack_from": self.struct.unpack_from, "names": dict.fromkeys(self.names),
                 "new": object.__new__, "set_dict": object.__setattr__, "cls": self.record}
        scope.update((f"convert_{name}", function) for name, function in self.convert.items())
        exec(compile(source, f"<fixed layout of {self.record.__name__}>", "exec"), scope)
        return scope["read"]


def _is_u128(construct) -> bool:
    return (isinstance(construct, BytesInteger) and construct.length == 16
            and construct.swapped and not construct.signed)


_GATE_STATES = {int(state): state for state in GateState}
_KNOWN_CAUSE_BITS = sum(int(cause) for cause in GateCause)


class _GateCauses(dict):
    """Gate-cause values seen, as flags: an IntFlag built from an int decomposes
    it bit by bit, every time; only values of known bits are kept (at most one
    per combination of the defined causes), so the table stays small. A dict
    that makes what it lacks: a value seen before costs one lookup in C."""

    def __missing__(self, value: int) -> GateCause:
        causes = GateCause(value)
        if value & ~_KNOWN_CAUSE_BITS == 0:
            self[value] = causes
        return causes


_GATE_CAUSES = _GateCauses()


# The whole record: its body, then its signature.
_ATTESTATION_LAYOUT = _FixedLayout(Struct(*wire.AttestationBodyFormat.subcons,
                                          "signature" / Bytes(SIGNATURE_SIZE)),
                                   Attestation, {"gate_state": _GATE_STATES.__getitem__,
                                                 "gate_causes": _GATE_CAUSES.__getitem__})
# Module names, not attribute reads, on the path every attestation takes (as
# an enum member read from its class costs a lookup).
_ATTESTATION_DOMAIN = wire.DOMAINS[RecordType.ATTESTATION]
_ATTESTATION_SIZE, _read_attestation = _ATTESTATION_LAYOUT.size, _ATTESTATION_LAYOUT.read


def decode_attestation(data: bytes) -> Attestation:
    """Attestation.from_bytes, fast on the common path; the same verdicts
    (tests/test_verify.py holds the two to each other)."""
    try:
        if type(data) is not bytes:  # bytes(data) of bytes costs a call
            data = bytes(data)
        if len(data) != _ATTESTATION_SIZE:
            raise ValueError("length")
        record = _read_attestation(data)
        record.check()
        return record
    except Exception:  # noqa: BLE001 - the spec's parser names the error, or accepts
        return Attestation.from_bytes(data)


@dataclass(frozen=True)
class VerifiedAttestation:
    attestation: Attestation
    endorsement: Endorsement
    license: License | None


_verified_of = _maker(VerifiedAttestation, ["attestation", "endorsement", "license"])


def verify_endorsement(endorsement: Endorsement, vendor_keys: Collection[bytes]) -> None:
    if endorsement.vendor_key not in vendor_keys:
        raise VerificationError("endorsement is by a vendor key the verifier does not trust")
    try:
        verify_record(RecordType.ENDORSEMENT, endorsement.vendor_key, endorsement.body(),
                      endorsement.signature)
    except SignatureError:
        raise VerificationError("endorsement signature does not verify") from None


def authenticate_license(policy: Policy, license: License,
                         registry: Registry | None = None) -> None:
    """Check a license taken as evidence as the device checks it before running
    it: its class's signers under the authority's policy in force
    (openheg.board.check_license_signatures); and, given the lineage registry,
    its declared lineage against the one it binds (check_license_lineage).
    Raises VerificationError."""
    try:
        check_license_signatures(policy, license)
    except VoteError as error:
        raise VerificationError(f"license {license.license_id.hex()[:16]}... is not authentic "
                                f"under the authority's policy v{policy.policy_version}: "
                                f"{error}") from None
    if registry is not None:
        check_license_lineage(license, registry)


def check_license_lineage(license: License, registry: Registry) -> None:
    """The lineage a license declares (lineage_msflop, workload_total_msflop)
    must be the registered workload's, in the registry whose lineage it binds
    (lineage_digest). A license that binds no lineage is checked too when the
    registry records its workload: declaring no history is no way around it."""
    workload = next((name for name in registry.nodes
                     if workload_id_for(name) == license.workload_id), None)
    cites = license.lineage_digest != NO_LINEAGE
    if workload is None:
        if cites:
            raise VerificationError("the lineage registry given has no node for the license's "
                                    "workload: it is not the registry the license cites")
        return
    lineage = registry.lineage(workload)
    if lineage.digest != license.lineage_digest:
        raise VerificationError(
            f"the registry's lineage of workload {workload} (digest {lineage.digest.hex()[:16]}"
            f"...) is not the one the license binds ("
            + (f"{license.lineage_digest.hex()[:16]}...): the registry was changed since, or is "
               "not the one the license cites" if cites else
               "none): the license declares no registered lineage for a workload the registry "
               "records"))
    if lineage.history_msflop != license.lineage_msflop:
        unproven = lineage.size.unproven_harbor_claims
        raise VerificationError(
            f"the license declares a lineage of {license.lineage_msflop} milli-sFLOP; the "
            f"registry it binds gives {lineage.history_msflop}"
            + (f" (safe harbor of {', '.join(unproven)} is not signed by the Horizon signers "
               "of the policy in force, so it counts in full)" if unproven else ""))
    if lineage.own_msflop != license.workload_total_msflop:
        raise VerificationError(f"the license declares a workload total of "
                                f"{license.workload_total_msflop} milli-sFLOP; the registry "
                                f"records {lineage.own_msflop} for {workload}")


def verify_attestation(data: bytes, *, nonce: bytes, endorsement: Endorsement,
                       vendor_keys: Collection[bytes], license: License | None = None,
                       authority_policy: Policy | None = None,
                       registry: Registry | None = None,
                       policy_version: int | None = None,
                       policies: Sequence[Policy] | None = None,
                       endorsement_checked: bool = False,
                       decoded: Attestation | None = None) -> VerifiedAttestation:
    """``license``: the license the report must be about. With
    ``authority_policy`` it is first authenticated (authenticate_license, with
    its lineage against ``registry`` when given): every verifier given a
    license by someone else must pass the policy, and the CLI always does;
    without it only the binding is checked, for a caller that made or
    installed the license itself.

    The policy the device runs is named by version and digest: with
    ``authority_policy`` of the attested version, or ``policies`` (the
    authority's published chain, which must hold the attested version), the
    digest must be that policy's (check_policy_identity).

    ``endorsement_checked``: the endorsement came from an EndorsementList
    already verified against ``vendor_keys``, so its signature is not checked again.

    ``decoded``: decode_attestation(data), where the caller made it already (to
    find the device's endorsement): it is not decoded twice. It must be of
    these very bytes: the signature is checked over ``data``."""
    if decoded is not None:
        attestation = decoded
    else:
        try:
            attestation = decode_attestation(data)
        except RecordError as error:
            raise VerificationError(f"attestation is malformed: {error}") from None
    if not endorsement_checked:
        verify_endorsement(endorsement, vendor_keys)
    elif endorsement.vendor_key not in vendor_keys:
        raise VerificationError("endorsement is by a vendor key the verifier does not trust")
    if endorsement.device_id != attestation.device_id:
        raise VerificationError("attestation is from a device the endorsement does not cover")
    try:
        # The encoding is canonical, so the signed body is exactly the bytes
        # before the signature: no need to encode it again. The signature, the
        # domain and the body joined once, as libsodium takes them.
        verify_signed(attestation.device_id,
                      attestation.signature + _ATTESTATION_DOMAIN + data[:-SIGNATURE_SIZE])
    except SignatureError:
        raise VerificationError("attestation signature does not verify "
                                "(altered in transit, or not made by this device)") from None
    if not compare_digest(attestation.nonce, nonce):
        raise VerificationError("attestation answers a different nonce (replayed or stale report)")
    if policy_version is not None and attestation.policy_version != policy_version:
        raise VerificationError(f"device runs policy version {attestation.policy_version}, "
                                f"the verifier expects version {policy_version}")
    if license is not None:
        if authority_policy is not None:
            authenticate_license(authority_policy, license, registry)
        _check_license_binding(attestation, license)
    if policies is not None or authority_policy is not None:
        check_policy_identity(attestation, ([] if policies is None else list(policies))
                              + ([authority_policy] if authority_policy is not None else []),
                              chain=policies is not None)
    return _verified_of({"attestation": attestation, "endorsement": endorsement,
                         "license": license})


def check_policy_identity(attestation: Attestation, policies: Sequence[Policy],
                          chain: bool = False) -> None:
    """Of two quorum-signed policies with one version, the device must run the one
    the verifier was given: the attested digest must be that of each policy in
    ``policies`` of the attested version. ``chain``: ``policies`` is the
    authority's whole published chain, so it must hold the attested version."""
    same = [p for p in policies if p.policy_version == attestation.policy_version]
    if chain and not same:
        raise VerificationError(f"device runs policy v{attestation.policy_version} (digest "
                                f"{attestation.policy_digest.hex()[:16]}...), which the "
                                "authority never published")
    for policy in same:
        if attestation.policy_digest != policy.digest:
            raise VerificationError(
                f"device runs another policy v{attestation.policy_version} than the "
                f"authority's: its digest is {attestation.policy_digest.hex()[:16]}..., the "
                f"published one's {policy.digest.hex()[:16]}... (a policy of that version the "
                "board signed but did not publish)")


def _check_license_binding(attestation: Attestation, license: License) -> None:
    # Field by field, not as tuples, and the reserve worked out only when one
    # is reported: this runs once per attestation of a batch.
    if license.device_id != attestation.device_id:
        raise VerificationError("the license is for another device than the attestation's")
    if (attestation.license_id != license.license_id
            or attestation.license_sequence != license.sequence):
        raise VerificationError("attestation reports another license than the one given "
                                f"(device runs sequence {attestation.license_sequence}, "
                                f"license is sequence {license.sequence})")
    # The device holds the license's oversight share back until the named
    # inspector releases it (then it reports 0): remaining is what the
    # workload may still run besides.
    reserved = attestation.oversight_reserved_msflop
    if reserved:
        reserve = wire.oversight_reserve_msflop(license.allocation_msflop,
                                                license.oversight_ppm)
        if reserved != reserve:
            raise VerificationError(f"attestation's oversight reserve ({reserved} "
                                    f"milli-sFLOP) is not the license's ({reserve}) nor "
                                    "released (0)")
    expected_remaining = license.allocation_msflop - reserved - attestation.consumed_msflop
    if attestation.remaining_msflop != (expected_remaining if expected_remaining > 0 else 0):
        raise VerificationError("attestation's consumed and remaining compute do not add up "
                                "to the license allocation less its oversight reserve")


@dataclass
class EndorsementList:
    """A vendor's published endorsements, by device id."""

    endorsements: dict[bytes, Endorsement] = field(default_factory=dict)

    def add(self, endorsement: Endorsement) -> None:
        self.endorsements[endorsement.device_id] = endorsement

    def for_device(self, device_id: bytes) -> Endorsement:
        try:
            return self.endorsements[device_id]
        except KeyError:
            raise VerificationError(f"device {device_id.hex()[:16]}... is in no trusted "
                                    "vendor's endorsement list") from None

    def to_json(self) -> dict:
        return {"format": ENDORSEMENT_LIST_FORMAT,
                "endorsements": [self.endorsements[k].to_bytes().hex()
                                 for k in sorted(self.endorsements)]}

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, paths: Iterable[Path], vendor_keys: Collection[bytes]) -> "EndorsementList":
        """Load lists, keeping only entries that verify under a trusted vendor key;
        an entry that fails its signature fails the whole load (tampered list)."""
        result = cls()
        for path in paths:
            try:
                data = json.loads(Path(path).read_text())
                entries = [bytes.fromhex(h) for h in data["endorsements"]]
                if data.get("format") != ENDORSEMENT_LIST_FORMAT:
                    raise ValueError
            except OSError as error:
                raise VerificationError(f"cannot read endorsement list {path}: "
                                        f"{error.strerror}") from None
            except (ValueError, KeyError, TypeError, RecursionError):
                raise VerificationError(f"{path} is not an endorsement list "
                                        f"({ENDORSEMENT_LIST_FORMAT})") from None
            for raw in entries:
                try:
                    endorsement = Endorsement.from_bytes(raw)
                except RecordError as error:
                    raise VerificationError(f"{path}: malformed endorsement: {error}") from None
                if endorsement.vendor_key not in vendor_keys:
                    continue
                verify_endorsement(endorsement, vendor_keys)
                result.add(endorsement)
        return result
