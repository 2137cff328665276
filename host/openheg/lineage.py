"""The lineage registry and a workload's compute graph size.

A registry holds runs, models and data sets, each with its own compute and
its parents: what it is a fine-tune of, which models generated its training
data, what it was distilled from. The compute graph size of a proposed
workload is its planned compute plus the compute of every node in its causal
history, each node counted once however many paths reach it.

Whose word it is (``LineageTrust``, from the authority's checked policy chain):

* The registry file is signed by the authority's issuer (any issuer of the
  chain, unless the policy in force revokes it), over every node's content.
  The issuer is the role that already declares a workload's totals in each
  license it signs; its signature makes the registry that license cites
  checkable and attributable, and an unsigned or altered file is refused.
* Safe harbor: a node provably existing before 2021-09-01 contributes zero,
  and so does its own history, which is older still. "Provably" means a
  claim (a creation date before the cutoff and the evidence, described)
  signed by the signers a Horizon license needs under the policy in force:
  ``horizon_board_threshold`` members of its board and every party
  representative. Safe harbor can take unbounded compute out of a workload's
  size, and so take a workload below the Horizon threshold; anything less
  than the Horizon signers would be a way around them (the issuer alone, an
  inspector, or the ordinary board quorum without the parties). The set of
  things that existed before the cutoff is closed, so each claim is signed
  once. A claim without those signatures counts in full: the rule fails
  closed.
* No node predates a parent: a model cannot be trained on, or fine-tuned
  from, something that did not yet exist.

Cycles and parents that are not in the registry are errors: a size computed
from a broken graph would be a guess.

A license binds the lineage it declares by ``lineage_digest``: SHA-256 over
the content of the workload's node and of every node in its whole ancestry
(``Registry.lineage``), so that later additions to the registry leave it
unchanged while any change to a node it depends on does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from .crypto import SigningKey, verify_strict
from .errors import OpenhegError, SignatureError, VerificationError
from .wire import DIGEST_SIZE, KEY_SIZE, SIGNATURE_SIZE, Policy

SAFE_HARBOR_DATE = dt.date(2021, 9, 1)
REGISTRY_FORMAT = "openheg-lineage/v2"
# Domain strings: a signature made for one of these can never verify as
# another, nor as any wire record (whose domains are openheg/<record>/v1).
REGISTRY_DOMAIN = b"openheg/lineage-registry/v1\x00"
SAFE_HARBOR_DOMAIN = b"openheg/lineage-safe-harbor/v1\x00"
LINEAGE_DIGEST_DOMAIN = b"openheg/lineage-digest/v1\x00"
NO_LINEAGE = bytes(DIGEST_SIZE)  # a license's lineage_digest when it cites no registry
# A new family version needs a full report above 120 % of the family's best.
FAMILY_MARGIN_NUM, FAMILY_MARGIN_DEN = 6, 5


class LineageError(OpenhegError):
    """A lineage graph that cannot give a size: a cycle, an unknown parent, bad input."""


class UntrustedRegistry(LineageError, VerificationError):
    """A registry file that is not the authority's word: unsigned, signed by a
    key that is no issuer, or changed after it was signed."""


class Relation(str, Enum):
    FINE_TUNE_OF = "fine-tune-of"
    DATA_GENERATED_BY = "data-generated-by"
    DISTILLED_FROM = "distilled-from"
    TRAINED_ON = "trained-on"


def canonical(value: Any) -> bytes:
    """The one encoding of a JSON value that is signed and hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class Parent:
    name: str
    relation: Relation


@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # "run", "model" or "dataset"
    compute_msflop: int
    created: dt.date
    parents: tuple[Parent, ...] = ()
    safe_harbor_evidence: str = ""  # what shows it existed before the cutoff
    family: str = ""
    parameters: int = 0
    training_tokens: int = 0

    @property
    def claims_safe_harbor(self) -> bool:
        """Dated before the cutoff with evidence described: the claim a board
        quorum must sign before it counts (Registry.in_safe_harbor)."""
        return self.created < SAFE_HARBOR_DATE and bool(self.safe_harbor_evidence.strip())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"] = self.created.isoformat()
        data["parents"] = [{"name": p.name, "relation": p.relation.value} for p in self.parents]
        return data

    def safe_harbor_message(self) -> bytes:
        """What a board member signs to put this node in safe harbor."""
        return SAFE_HARBOR_DOMAIN + canonical(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Node":
        try:
            parents = tuple(Parent(str(p["name"]), Relation(p["relation"]))
                            for p in data.get("parents", ()))
            node = cls(name=str(data["name"]), kind=str(data.get("kind", "model")),
                       compute_msflop=int(data["compute_msflop"]),
                       created=dt.date.fromisoformat(str(data["created"])), parents=parents,
                       safe_harbor_evidence=str(data.get("safe_harbor_evidence", "")),
                       family=str(data.get("family", "")),
                       parameters=int(data.get("parameters", 0)),
                       training_tokens=int(data.get("training_tokens", 0)))
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            name = data.get("name", "?") if isinstance(data, Mapping) else "?"
            raise LineageError(f"lineage node {name!r} is malformed: {error}") from None
        node.check()
        return node

    def check(self) -> None:
        if not self.name:
            raise LineageError("a lineage node needs a name")
        if min(self.compute_msflop, self.parameters, self.training_tokens) < 0:
            raise LineageError(f"{self.name}: compute, parameters and tokens must not be negative")
        if any(p.name == self.name for p in self.parents):
            raise LineageError(f"{self.name} lists itself as a parent (cycle)")
        if len({p.name for p in self.parents}) != len(self.parents):
            raise LineageError(f"{self.name} lists a parent twice")
        if self.safe_harbor_evidence.strip() and self.created >= SAFE_HARBOR_DATE:
            raise LineageError(f"{self.name}: safe-harbor evidence is only for what existed "
                               f"before {SAFE_HARBOR_DATE.isoformat()}, and it is dated "
                               f"{self.created.isoformat()}")


@dataclass(frozen=True)
class LineageTrust:
    """Whose signatures a registry needs, from the authority's policy chain
    (checked by the caller: openheg.authority.Authority.policy_in_force)."""

    issuer_keys: frozenset[bytes]  # every issuer of the chain the policy in force does not revoke
    # The Horizon signers of the policy in force; a revoked key's signature
    # counts for nothing (a revoked party then blocks, as on a Horizon license).
    board_keys: frozenset[bytes]
    horizon_board_threshold: int
    party_keys: frozenset[bytes]
    revoked_keys: frozenset[bytes]

    @classmethod
    def from_policies(cls, policies: Sequence[Policy]) -> "LineageTrust":
        if not policies:
            raise LineageError("no policy to check the lineage registry against")
        current = policies[-1]
        revoked = set(current.revoked_keys)
        return cls(frozenset({p.issuer_key for p in policies} - revoked),
                   frozenset(current.board_keys), current.horizon_board_threshold,
                   frozenset(current.party_keys), frozenset(revoked))

    def harbor_signers(self) -> frozenset[bytes]:
        """Keys whose safe-harbor signature counts."""
        return (self.board_keys | self.party_keys) - self.revoked_keys

    def harbor_missing(self, signers: set[bytes]) -> str:
        """What a safe-harbor claim signed by ``signers`` still lacks ('' if nothing)."""
        signers = signers - self.revoked_keys
        board = len(signers & self.board_keys)
        parties = len(self.party_keys - signers)
        lacks = ([f"{self.horizon_board_threshold - board} more board signatures"]
                 if board < self.horizon_board_threshold else []) + (
            [f"{parties} party representatives"] if parties else [])
        return " and ".join(lacks)


@dataclass(frozen=True)
class GraphSize:
    total_msflop: int  # planned compute plus the counted history
    planned_msflop: int
    history_msflop: int
    counted_nodes: tuple[str, ...]
    safe_harbor_nodes: tuple[str, ...]
    # Dated before the cutoff with evidence, but not signed by the board
    # quorum: counted in full.
    unproven_harbor_claims: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Lineage:
    """A registered workload's lineage, as a license declares and binds it."""

    workload: str
    digest: bytes  # the license's lineage_digest
    history_msflop: int  # the license's lineage_msflop
    own_msflop: int  # the workload's own compute: the license's workload_total_msflop
    size: GraphSize


@dataclass
class Registry:
    """Nodes by name, and the safe-harbor signatures each has gathered.

    ``trust``: whose signatures count (None: nobody's, so no node is in safe
    harbor). Every change keeps the registry whole: parents known, no cycle,
    no node dated before a parent; a refused change changes nothing."""

    nodes: dict[str, Node] = field(default_factory=dict)
    trust: LineageTrust | None = None
    harbor_signatures: dict[str, dict[bytes, bytes]] = field(default_factory=dict)
    # (signer, signature): the issuer's over signed_message(), as last signed or read.
    issuer_signature: tuple[bytes, bytes] | None = None

    def __post_init__(self) -> None:
        self._harbor: frozenset[str] | None = None

    def add(self, node: Node, *, replace_existing: bool = False) -> None:
        node.check()
        if node.name in self.nodes and not replace_existing:
            raise LineageError(f"{node.name} is already registered")
        for parent in node.parents:
            if parent.name not in self.nodes:
                raise LineageError(f"{node.name} names unknown parent {parent.name!r}: "
                                   "register it first (openheg lineage add)")
        self._check_dates(node)
        before = self.nodes.get(node.name)
        self.nodes[node.name] = node
        self._harbor = None
        if before is not None:
            try:
                self.check()
            except LineageError:
                self.nodes[node.name] = before
                raise
            self.harbor_signatures.pop(node.name, None)  # they signed the old content

    def _check_dates(self, node: Node) -> None:
        for parent in node.parents:
            known = self.nodes[parent.name]
            if node.created < known.created:
                raise LineageError(f"{node.name} is dated {node.created.isoformat()}, before "
                                   f"its parent {parent.name} ({known.created.isoformat()}): "
                                   "nothing can come of what did not yet exist")

    # -------------------------------------------------------- safe harbor
    def sign_safe_harbor(self, name: str, key: SigningKey) -> None:
        """Add one board member's signature to a node's safe-harbor claim."""
        node = self._get(name, "node")
        if not node.claims_safe_harbor:
            raise LineageError(f"{name} claims no safe harbor: only a node dated before "
                               f"{SAFE_HARBOR_DATE.isoformat()} with evidence can")
        if self.trust is None or key.public_key not in self.trust.harbor_signers():
            raise LineageError(f"key {key.public_key.hex()[:16]}... is neither on the board nor a "
                               "party representative of the policy in force: only the signers "
                               "of a Horizon license put a node in safe harbor")
        self.harbor_signatures.setdefault(name, {})[key.public_key] = key.sign(
            node.safe_harbor_message())
        self._harbor = None

    def _add_harbor_signature(self, name: str, signer: bytes, signature: bytes) -> None:
        """A signature read from a file: it must verify over the node it names."""
        node = self._get(name, "node")
        try:
            verify_strict(signer, node.safe_harbor_message(), signature)
        except SignatureError:
            raise UntrustedRegistry(f"the safe-harbor signature by {signer.hex()[:16]}... on "
                                    f"{name} does not verify: the node or the signature was "
                                    "changed after signing") from None
        self.harbor_signatures.setdefault(name, {})[signer] = signature
        self._harbor = None

    def harbor_signers(self, name: str) -> set[bytes]:
        """Horizon signers of the policy in force whose signature the claim carries."""
        if self.trust is None:
            return set()
        return set(self.harbor_signatures.get(name, {})) & self.trust.harbor_signers()

    def harbor_missing(self, name: str) -> str:
        """What the node's safe-harbor claim still lacks ('' if nothing)."""
        if self.trust is None:
            return "the authority's policy to count signatures against"
        return self.trust.harbor_missing(self.harbor_signers(name))

    def in_safe_harbor(self, name: str) -> bool:
        return name in self._harbor_nodes()

    def _harbor_nodes(self) -> frozenset[str]:
        if self._harbor is None:
            self._harbor = frozenset(
                n for n, node in self.nodes.items()
                if node.claims_safe_harbor and not self.harbor_missing(n))
        return self._harbor

    # ------------------------------------------------------------ sizes
    def graph_size(self, planned_msflop: int, parents: Iterable[str]) -> GraphSize:
        """Size of a proposed workload with these direct parents."""
        if planned_msflop < 0:
            raise LineageError("planned compute must not be negative")
        counted, harbored = self._history(list(parents), cut_at_harbor=True)
        nodes = self.nodes
        history = sum(nodes[name].compute_msflop for name in counted)
        unproven = tuple(name for name in counted if nodes[name].claims_safe_harbor)
        return GraphSize(planned_msflop + history, planned_msflop, history,
                         tuple(counted), tuple(harbored), unproven)

    def node_size(self, name: str) -> GraphSize:
        """Size of a registered node: its own compute plus its history."""
        node = self._get(name, "node")
        if self.in_safe_harbor(name):
            return GraphSize(0, 0, 0, (), (name,))
        return self.graph_size(node.compute_msflop, [p.name for p in node.parents])

    def lineage(self, workload: str) -> Lineage:
        """A registered workload's lineage, for a license: its history (the
        workload's own node is never in safe harbor here: it is being licensed
        now) and the digest over it and its whole ancestry."""
        node = self._get(workload, "workload")
        size = self.graph_size(node.compute_msflop, [p.name for p in node.parents])
        ancestry = self._ancestry(workload)
        digest = hashlib.sha256(LINEAGE_DIGEST_DOMAIN + canonical(
            {"workload": workload,
             "nodes": [self.nodes[n].to_json() for n in sorted(ancestry)]})).digest()
        return Lineage(workload, digest, size.history_msflop, node.compute_msflop, size)

    def _ancestry(self, name: str) -> set[str]:
        seen, stack = {name}, [name]
        while stack:
            for parent in self.nodes[stack.pop()].parents:
                if parent.name not in seen:
                    seen.add(parent.name)
                    stack.append(parent.name)
        return seen

    def _get(self, name: str, what: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            raise LineageError(f"unknown {what} {name!r}: register it first "
                               "(openheg lineage add)") from None

    def _history(self, roots: list[str], *, cut_at_harbor: bool) -> tuple[list[str], list[str]]:
        """Every ancestor reachable from ``roots``, once each, by an iterative
        depth-first walk that also finds cycles (a node met again while it is
        still on the walk's path); with ``cut_at_harbor`` the walk stops at
        nodes in safe harbor."""
        nodes = self.nodes
        harbor_nodes = self._harbor_nodes() if cut_at_harbor else frozenset()
        state: dict[str, int] = {}  # 1: on the path, 2: done
        counted: list[str] = []
        harbored: list[str] = []
        for root in roots:
            if root not in nodes:
                raise LineageError(f"unknown parent {root!r}: register it first "
                                   "(openheg lineage add)")
            if root in state:
                continue
            stack: list[tuple[str, int]] = [(root, 0)]
            state[root] = 1
            while stack:
                name, position = stack[-1]
                node = nodes[name]
                harbor = name in harbor_nodes
                parents = () if harbor else node.parents
                if position < len(parents):
                    stack[-1] = (name, position + 1)
                    parent = parents[position].name
                    seen = state.get(parent)
                    if seen == 1:
                        path = [n for n, _ in stack]
                        cycle = path[path.index(parent):] + [parent]
                        raise LineageError("lineage has a cycle: " + " -> ".join(cycle))
                    if seen is None:
                        if parent not in nodes:
                            raise LineageError(f"{name} names unknown parent {parent!r}: "
                                               "register it first (openheg lineage add)")
                        state[parent] = 1
                        stack.append((parent, 0))
                    continue
                stack.pop()
                state[name] = 2
                (harbored if harbor else counted).append(name)
        return counted, harbored

    def check(self) -> None:
        """Every parent known, no cycle, and no node dated before a parent,
        anywhere in the registry (the walk ignores safe harbor here: a
        harbored node's own history must be sound too)."""
        self._history(list(self.nodes), cut_at_harbor=False)
        for node in self.nodes.values():
            self._check_dates(node)

    # ---------------------------------------------------------- families
    def family_check(self, candidate: Node) -> dict[str, Any]:
        """Does a new version of a family need a full report (> 120 % of the
        family's most capable version in compute, parameters or data) or only
        a name update?"""
        if not candidate.family:
            raise LineageError(f"{candidate.name} names no family")
        members = [n for n in self.nodes.values()
                   if n.family == candidate.family and n.name != candidate.name]
        if not members:
            return {"family": candidate.family, "decision": "full-report",
                    "reasons": ["first version of the family"]}
        size = self.graph_size(candidate.compute_msflop,
                               [p.name for p in candidate.parents]).total_msflop
        metrics = {"compute_msflop": (size, max(self.node_size(m.name).total_msflop
                                                for m in members)),
                   "parameters": (candidate.parameters, max(m.parameters for m in members)),
                   "training_tokens": (candidate.training_tokens,
                                       max(m.training_tokens for m in members))}
        reasons = [f"{metric} {value} exceeds 120% of the family's best {best}"
                   for metric, (value, best) in metrics.items()
                   if value * FAMILY_MARGIN_DEN > best * FAMILY_MARGIN_NUM]
        return {"family": candidate.family,
                "decision": "full-report" if reasons else "name-only-update",
                "reasons": reasons or ["within 120% of the family's most capable version"],
                "metrics": {k: {"candidate": v, "family_best": b} for k, (v, b) in metrics.items()}}

    # -------------------------------------------------------------- files
    def signed_message(self) -> bytes:
        """What the issuer signs: every node's content, by name (not the
        safe-harbor signatures, which carry their own)."""
        return REGISTRY_DOMAIN + canonical([self.nodes[n].to_json() for n in sorted(self.nodes)])

    def to_json(self) -> dict[str, Any]:
        if self.issuer_signature is None:
            raise LineageError("the registry is not signed: the issuer signs it (save with the "
                               "issuer's key)")
        nodes = []
        for name in sorted(self.nodes):
            data = self.nodes[name].to_json()
            signatures = self.harbor_signatures.get(name, {})
            if signatures:
                data["safe_harbor_signatures"] = [
                    {"signer": k.hex(), "signature": signatures[k].hex()} for k in sorted(signatures)]
            nodes.append(data)
        signer, signature = self.issuer_signature
        return {"format": REGISTRY_FORMAT, "nodes": nodes, "signer": signer.hex(),
                "signature": signature.hex()}

    def save(self, path: Path, issuer: SigningKey | None = None) -> None:
        """Write atomically, signed by the authority's issuer key; without it
        (a board member adding a safe-harbor signature) the issuer's signature
        is kept, which holds only while no node has changed."""
        if issuer is not None:
            if self.trust is not None and issuer.public_key not in self.trust.issuer_keys:
                raise LineageError(f"key {issuer.public_key.hex()[:16]}... is not the "
                                   "authority's issuer: only the issuer signs the lineage "
                                   "registry")
            self.issuer_signature = (issuer.public_key, issuer.sign(self.signed_message()))
        elif self.issuer_signature is not None:
            signer, signature = self.issuer_signature
            try:
                verify_strict(signer, self.signed_message(), signature)
            except SignatureError:
                raise LineageError("the registry's nodes changed since the issuer signed it: "
                                   "the issuer must sign it again") from None
        path = Path(path)
        data = json.dumps(self.to_json(), indent=1) + "\n"
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(data)
            tmp.replace(path)  # atomic: a crash leaves the old registry or the new one
        except OSError as error:
            raise LineageError(f"cannot write lineage registry {path}: {error.strerror}") from None

    @classmethod
    def load(cls, path: Path, trust: LineageTrust, *, missing_ok: bool = False) -> "Registry":
        """Read a registry, refusing one that is not whole or not the authority's."""
        path = Path(path)
        if not path.exists():
            if missing_ok:
                return cls(trust=trust)
            raise LineageError(f"lineage registry {path} not found")
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            raise LineageError(f"cannot read lineage registry {path}: {error.strerror}") from None
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past any use
            raise LineageError(f"{path} is not a lineage registry (not JSON)") from None
        if not isinstance(data, dict) or data.get("format") != REGISTRY_FORMAT \
                or not isinstance(data.get("nodes"), list):
            raise LineageError(f"{path} is not a lineage registry ({REGISTRY_FORMAT})")
        registry = cls(trust=trust)
        signatures = []
        for item in data["nodes"]:
            if not isinstance(item, dict):
                raise LineageError(f"{path}: every node is a JSON object")
            node = Node.from_json(item)
            if node.name in registry.nodes:
                raise LineageError(f"{path}: {node.name} is registered twice")
            registry.nodes[node.name] = node
            signatures += [(node.name, entry) for entry in item.get("safe_harbor_signatures", ())]
        if "signer" not in data or "signature" not in data:
            raise UntrustedRegistry(f"{path} is unsigned: the authority's issuer signs the "
                                    "lineage registry (openheg lineage add --authority)")
        signer = _hex_field(data, "signer", KEY_SIZE, path)
        signature = _hex_field(data, "signature", SIGNATURE_SIZE, path)
        try:
            verify_strict(signer, registry.signed_message(), signature)
        except SignatureError:
            raise UntrustedRegistry(f"{path} was changed after it was signed (its signature "
                                    "does not verify over its nodes)") from None
        if signer not in trust.issuer_keys:
            raise UntrustedRegistry(f"{path} is signed by {signer.hex()[:16]}..., which is no "
                                    "issuer of the authority's policies")
        registry.issuer_signature = (signer, signature)
        for name, entry in signatures:
            if not isinstance(entry, dict):
                raise LineageError(f"{path}: a safe-harbor signature of {name} is malformed")
            registry._add_harbor_signature(name, _hex_field(entry, "signer", KEY_SIZE, path),
                                           _hex_field(entry, "signature", SIGNATURE_SIZE, path))
        registry.check()
        return registry


def _hex_field(data: Mapping[str, Any], key: str, size: int, path: Path) -> bytes:
    try:
        raw = bytes.fromhex(data.get(key))
    except (TypeError, ValueError):
        raise LineageError(f"{path}: {key} must be hex digits") from None
    if len(raw) != size:
        raise LineageError(f"{path}: {key} must be {size} bytes, got {len(raw)}")
    return raw
