"""Lineage: compute graph size aggregated transitively, once per node, with the
pre-2021-09 safe harbor; cycles and unknown parents are errors; families."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg.lineage import LineageError, Node, Parent, Registry, Relation

NEW = dt.date(2024, 1, 1)
OLD = dt.date(2020, 1, 1)


def node(name, compute, parents=(), created=NEW, evidence="", **extra):
    return Node(name, "model", compute, created,
                tuple(Parent(p, Relation.FINE_TUNE_OF) for p in parents), evidence, **extra)


def test_diamond_counts_each_ancestor_once():
    reg = Registry()
    reg.add(node("root", 100))
    reg.add(node("a", 10, ["root"]))
    reg.add(node("b", 20, ["root"]))
    reg.add(node("c", 1, ["a", "b"]))
    size = reg.graph_size(5, ["c", "a"])
    assert size.total_msflop == 5 + 1 + 10 + 20 + 100
    assert sorted(size.counted_nodes) == ["a", "b", "c", "root"]
    assert reg.node_size("c").total_msflop == 131


def test_safe_harbor_needs_evidence_and_cuts_the_history():
    reg = Registry()
    reg.add(node("ancient", 10**6, created=dt.date(2019, 1, 1), evidence="paper"))
    reg.add(node("old", 1000, ["ancient"], created=OLD, evidence="archived release"))
    reg.add(node("old-unproven", 500, created=OLD))
    reg.add(node("edge", 7, created=dt.date(2021, 9, 1), evidence="too late"))
    size = reg.graph_size(1, ["old", "old-unproven", "edge"])
    assert size.total_msflop == 1 + 500 + 7
    assert size.safe_harbor_nodes == ("old",)


def test_cycles_and_unknown_parents_are_errors():
    reg = Registry()
    reg.add(node("a", 1, ["c"]))
    reg.add(node("b", 1, ["a"]))
    reg.add(node("c", 1, ["b"]))
    with pytest.raises(LineageError, match="cycle: .*a -> .*a|cycle"):
        reg.graph_size(0, ["a"])
    with pytest.raises(LineageError, match="unknown parent 'x'"):
        reg.graph_size(0, ["x"])
    reg2 = Registry()
    reg2.add(node("d", 1, ["missing"]))
    with pytest.raises(LineageError, match="names unknown parent 'missing'"):
        reg2.graph_size(0, ["d"])
    with pytest.raises(LineageError, match="itself"):
        reg2.add(node("e", 1, ["e"]))


def test_registry_round_trips_through_a_file(tmp_path):
    reg = Registry()
    reg.add(node("a", 3, family="f", parameters=7, training_tokens=9))
    reg.add(Node("b", "run", 4, NEW, (Parent("a", Relation.DATA_GENERATED_BY),)))
    reg.save(tmp_path / "l.json")
    loaded = Registry.load(tmp_path / "l.json")
    assert loaded.nodes == reg.nodes
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(LineageError, match="not a lineage registry"):
        Registry.load(tmp_path / "bad.json")


def test_family_rule_twenty_percent():
    reg = Registry()
    reg.add(node("v1", 1000, family="acme", parameters=100, training_tokens=100))
    reg.add(node("v2", 900, family="acme", parameters=110, training_tokens=50))
    within = node("v3", 1200, family="acme", parameters=132, training_tokens=120)
    assert reg.family_check(within)["decision"] == "name-only-update"
    over = node("v3", 1201, family="acme", parameters=10, training_tokens=10)
    result = reg.family_check(over)
    assert result["decision"] == "full-report" and "compute_msflop" in result["reasons"][0]
    more_params = node("v3", 1, family="acme", parameters=133)
    assert reg.family_check(more_params)["decision"] == "full-report"
    assert reg.family_check(node("x", 1, family="new"))["decision"] == "full-report"


@st.composite
def dags(draw):
    n = draw(st.integers(1, 40))
    nodes = []
    for i in range(n):
        parents = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=4)) if i else []
        compute = draw(st.integers(0, 10**30))
        harbor = draw(st.booleans()) and draw(st.booleans())
        nodes.append((f"n{i}", compute, [f"n{p}" for p in parents], harbor))
    return nodes


def reference_size(nodes, roots):
    """Plain recursive definition: the set of ancestors, harbor nodes stop the walk."""
    by_name = {name: (compute, parents, harbor) for name, compute, parents, harbor in nodes}
    seen: set[str] = set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        if not by_name[name][2]:
            for parent in by_name[name][1]:
                visit(parent)
    for root in roots:
        visit(root)
    return sum(by_name[n][0] for n in seen if not by_name[n][2])


@settings(max_examples=150, deadline=None)
@given(nodes=dags(), data=st.data())
def test_property_aggregation_matches_the_definition(nodes, data):
    reg = Registry()
    for name, compute, parents, harbor in nodes:
        reg.add(node(name, compute, parents, created=OLD if harbor else NEW,
                     evidence="proof" if harbor else ""))
    roots = data.draw(st.lists(st.sampled_from([n[0] for n in nodes]), max_size=5))
    planned = data.draw(st.integers(0, 10**20))
    size = reg.graph_size(planned, roots)
    assert size.total_msflop == planned + reference_size(nodes, roots)
    assert len(set(size.counted_nodes)) == len(size.counted_nodes)


@settings(max_examples=60, deadline=None)
@given(nodes=dags(), data=st.data())
def test_property_any_back_edge_is_a_cycle_error(nodes, data):
    if len(nodes) < 2:
        return
    reg = Registry()
    for name, compute, parents, _ in nodes:
        reg.add(node(name, compute, parents))
    # Make an ancestor depend on a descendant: n_j gets parent n_i with i > j,
    # where n_i already reaches n_j.
    i = data.draw(st.integers(1, len(nodes) - 1))
    ancestors = reg.node_size(f"n{i}").counted_nodes
    candidates = [a for a in ancestors if a != f"n{i}"]
    if not candidates:
        return
    j = data.draw(st.sampled_from(candidates))
    old = reg.nodes[j]
    reg.add(Node(old.name, old.kind, old.compute_msflop, old.created,
                 old.parents + (Parent(f"n{i}", Relation.DISTILLED_FROM),)),
            replace_existing=True)
    with pytest.raises(LineageError, match="cycle"):
        reg.graph_size(0, [f"n{i}"])
    with pytest.raises(LineageError, match="cycle"):
        reg.check()
