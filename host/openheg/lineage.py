"""The lineage registry and a workload's compute graph size.

A registry holds runs, models and data sets, each with its own compute and
its parents: what it is a fine-tune of, which models generated its training
data, what it was distilled from. The compute graph size of a proposed
workload is its planned compute plus the compute of every node in its causal
history, each node counted once however many paths reach it.

Safe harbor: a node provably existing before 2021-09-01 (a creation date
before then *and* recorded evidence) contributes zero, and so does its own
history, which is older still. A node dated before the cutoff without
evidence counts in full: the rule fails closed.

Cycles and parents that are not in the registry are errors: a size computed
from a broken graph would be a guess.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import OpenhegError

SAFE_HARBOR_DATE = dt.date(2021, 9, 1)
REGISTRY_FORMAT = "openheg-lineage/v1"
# A new family version needs a full report above 120 % of the family's best.
FAMILY_MARGIN_NUM, FAMILY_MARGIN_DEN = 6, 5


class LineageError(OpenhegError):
    """A lineage graph that cannot give a size: a cycle, an unknown parent, bad input."""


class Relation(str, Enum):
    FINE_TUNE_OF = "fine-tune-of"
    DATA_GENERATED_BY = "data-generated-by"
    DISTILLED_FROM = "distilled-from"
    TRAINED_ON = "trained-on"


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
    safe_harbor_evidence: str = ""
    family: str = ""
    parameters: int = 0
    training_tokens: int = 0

    @property
    def in_safe_harbor(self) -> bool:
        return self.created < SAFE_HARBOR_DATE and bool(self.safe_harbor_evidence.strip())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"] = self.created.isoformat()
        data["parents"] = [{"name": p.name, "relation": p.relation.value} for p in self.parents]
        return data

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
        except (KeyError, ValueError, TypeError) as error:
            raise LineageError(f"lineage node {data.get('name', '?')!r} is malformed: "
                               f"{error}") from None
        node.check()
        return node

    def check(self) -> None:
        if not self.name:
            raise LineageError("a lineage node needs a name")
        if min(self.compute_msflop, self.parameters, self.training_tokens) < 0:
            raise LineageError(f"{self.name}: compute, parameters and tokens must not be negative")
        if any(p.name == self.name for p in self.parents):
            raise LineageError(f"{self.name} lists itself as a parent (cycle)")


@dataclass(frozen=True)
class GraphSize:
    total_msflop: int  # planned compute plus the counted history
    planned_msflop: int
    history_msflop: int
    counted_nodes: tuple[str, ...]
    safe_harbor_nodes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Registry:
    nodes: dict[str, Node] = field(default_factory=dict)

    def add(self, node: Node, *, replace_existing: bool = False) -> None:
        node.check()
        if node.name in self.nodes and not replace_existing:
            raise LineageError(f"{node.name} is already registered")
        self.nodes[node.name] = node

    # ------------------------------------------------------------ sizes
    def graph_size(self, planned_msflop: int, parents: Iterable[str]) -> GraphSize:
        """Size of a proposed workload with these direct parents."""
        if planned_msflop < 0:
            raise LineageError("planned compute must not be negative")
        counted, harbored = self._history(list(parents))
        nodes = self.nodes
        history = sum(nodes[name].compute_msflop for name in counted)
        return GraphSize(planned_msflop + history, planned_msflop, history,
                         tuple(counted), tuple(harbored))

    def node_size(self, name: str) -> GraphSize:
        """Size of a registered node: its own compute plus its history."""
        node = self._get(name, "node")
        if node.in_safe_harbor:
            return GraphSize(0, 0, 0, (), (name,))
        return self.graph_size(node.compute_msflop, [p.name for p in node.parents])

    def _get(self, name: str, what: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            raise LineageError(f"unknown {what} {name!r}: register it first "
                               "(openheg lineage add)") from None

    def _history(self, roots: list[str]) -> tuple[list[str], list[str]]:
        """Every ancestor reachable from ``roots``, once each, by an iterative
        depth-first walk that also finds cycles (a node met again while it is
        still on the walk's path)."""
        nodes = self.nodes
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
                parents = () if node.in_safe_harbor else node.parents
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
                (harbored if node.in_safe_harbor else counted).append(name)
        return counted, harbored

    def check(self) -> None:
        """Every parent known and no cycle anywhere in the registry."""
        self._history(list(self.nodes))

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
    def to_json(self) -> dict[str, Any]:
        return {"format": REGISTRY_FORMAT,
                "nodes": [self.nodes[name].to_json() for name in sorted(self.nodes)]}

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        tmp.replace(path)  # atomic: a crash leaves the old registry or the new one

    @classmethod
    def load(cls, path: Path, *, missing_ok: bool = False) -> "Registry":
        path = Path(path)
        if not path.exists():
            if missing_ok:
                return cls()
            raise LineageError(f"lineage registry {path} not found")
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise LineageError(f"cannot read lineage registry {path}: {error}") from None
        if not isinstance(data, dict) or data.get("format") != REGISTRY_FORMAT:
            raise LineageError(f"{path} is not a lineage registry ({REGISTRY_FORMAT})")
        registry = cls()
        for item in data.get("nodes", ()):
            registry.add(Node.from_json(item))
        return registry
