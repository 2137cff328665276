"""Compute graph size of a workload over a 100,000-node lineage graph.

openheg.lineage.Registry.graph_size walks the whole causal history (each node
once, cycle detection on the walk's path, safe harbor, unknown parents). The
baseline, in the same run on the same graph, is the least any such walk costs:
a plain breadth-first reachability over the same parent lists with a Python
set and deque, summing compute, with none of the checks. The graph is a
layered DAG: every node has 1-3 parents in earlier layers, a few are in the
safe harbor, and the workload's parents are the last layer, so nearly every
node is in its history.

Run: .venv/bin/python bench/host/lineage_size.py [--nodes N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections import deque

from openheg.crypto import SigningKey
from openheg.lineage import LineageTrust, Node, Parent, Registry, Relation
from openheg.policy import genesis_draft

# Safe harbor counts only with the Horizon signers' signatures: here a
# one-member board and no party representatives.
BOARD_MEMBER = SigningKey(b"\x01" * 32)
TRUST = LineageTrust.from_policies([genesis_draft(
    board_keys=[BOARD_MEMBER.public_key], board_threshold=1,
    issuer_key=SigningKey(b"\x02" * 32).public_key, time_authority_key=bytes([3]) * 32, now=0)])


def build(n: int, seed: int = 1) -> tuple[Registry, list[str]]:
    rng = random.Random(seed)
    registry = Registry(trust=TRUST)
    width = 100
    for i in range(n):
        layer = i // width
        parents = ()
        if layer:
            lo, hi = (layer - 1) * width, layer * width
            parents = tuple(Parent(f"n{p}", Relation.FINE_TUNE_OF)
                            for p in sorted(set(rng.randrange(lo, min(hi, i))
                                                for _ in range(rng.randint(1, 3)))))
        harbor = layer == 0 and i % 10 == 0
        registry.nodes[f"n{i}"] = Node(f"n{i}", "model", rng.randrange(10**24),
                                       dt.date(2020, 1, 1) if harbor else dt.date(2024, 1, 1),
                                       parents, "archived" if harbor else "")
        if harbor:
            registry.sign_safe_harbor(f"n{i}", BOARD_MEMBER)
    last = [f"n{i}" for i in range(max(n - width, 0), n)]
    return registry, last


def baseline(registry: Registry, roots: list[str]) -> int:
    nodes = registry.nodes
    seen = set(roots)
    queue = deque(roots)
    total = 0
    while queue:
        node = nodes[queue.popleft()]
        total += node.compute_msflop
        for parent in node.parents:
            if parent.name not in seen:
                seen.add(parent.name)
                queue.append(parent.name)
    return total


def best_of(rounds: int, function) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    registry, roots = build(args.nodes)
    base_time, _ = best_of(args.rounds, lambda: baseline(registry, roots))
    size_time, size = best_of(args.rounds, lambda: registry.graph_size(0, roots))
    print(f"graph: {args.nodes:,} nodes, {len(size.counted_nodes):,} counted, "
          f"{len(size.safe_harbor_nodes)} in safe harbor")
    print(f"baseline (bare BFS, no checks): {base_time * 1000:8.1f} ms")
    print(f"openheg graph_size:             {size_time * 1000:8.1f} ms")
    print(f"ratio (openheg / baseline):     {size_time / base_time:8.2f}")


if __name__ == "__main__":
    main()
