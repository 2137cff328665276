"""Lineage: compute graph size aggregated transitively, once per node; the
pre-2021-09 safe harbor only with the Horizon signers' signatures; no node dated
before a parent; cycles and unknown parents are errors; the registry file is
signed by the issuer and refused when unsigned, altered or signed by anyone
else; the lineage digest a license binds; families."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg.crypto import SigningKey
from openheg.errors import VerificationError
from openheg.lineage import LineageError, LineageTrust, Node, Parent, Registry, Relation
from openheg.lineage import UntrustedRegistry
from openheg.policy import genesis_draft

NEW = dt.date(2024, 1, 1)
OLD = dt.date(2020, 1, 1)
BOARD = [SigningKey(bytes([0x31 + i]) * 32) for i in range(3)]
PARTIES = [SigningKey(bytes([0x41 + i]) * 32) for i in range(2)]
ISSUER, INSPECTOR, OUTSIDER = (SigningKey(bytes([b]) * 32) for b in (0x51, 0x52, 0x53))
POLICY = genesis_draft(board_keys=[k.public_key for k in BOARD], board_threshold=2,
                       horizon_board_threshold=2, issuer_key=ISSUER.public_key,
                       time_authority_key=bytes([9]) * 32, inspector_keys=[INSPECTOR.public_key],
                       party_keys=[k.public_key for k in PARTIES], now=0)
TRUST = LineageTrust.from_policies([POLICY])
HORIZON_SIGNERS = BOARD[:2] + PARTIES


def node(name, compute, parents=(), created=NEW, evidence="", **extra):
    return Node(name, "model", compute, created,
                tuple(Parent(p, Relation.FINE_TUNE_OF) for p in parents), evidence, **extra)


def harbor(registry: Registry, name: str, signers=HORIZON_SIGNERS) -> None:
    for key in signers:
        registry.sign_safe_harbor(name, key)


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


def test_safe_harbor_needs_the_horizon_signers_and_cuts_the_history():
    reg = Registry(trust=TRUST)
    reg.add(node("ancient", 10**6, created=dt.date(2019, 1, 1), evidence="paper"))
    reg.add(node("old", 1000, ["ancient"], created=OLD, evidence="archived release"))
    reg.add(node("old-unproven", 500, created=OLD, evidence="a blog post"))
    reg.add(node("old-no-claim", 300, created=OLD))
    harbor(reg, "old")
    size = reg.graph_size(1, ["old", "old-unproven", "old-no-claim"])
    assert size.total_msflop == 1 + 500 + 300
    assert size.safe_harbor_nodes == ("old",)
    assert size.unproven_harbor_claims == ("old-unproven",)
    # Fewer than the Horizon signers is no safe harbor: the claim counts in full.
    for partial in (BOARD[:2], BOARD + PARTIES[:1], BOARD[:1] + PARTIES):
        fresh = Registry(trust=TRUST)
        fresh.add(node("old", 1000, created=OLD, evidence="archived release"))
        harbor(fresh, "old", partial)
        assert fresh.graph_size(0, ["old"]).total_msflop == 1000
        assert fresh.harbor_missing("old")


def test_only_horizon_signers_of_the_policy_in_force_can_sign_safe_harbor():
    reg = Registry(trust=TRUST)
    reg.add(node("old", 1000, created=OLD, evidence="archived release"))
    reg.add(node("new", 7))
    for key in (ISSUER, INSPECTOR, OUTSIDER):
        with pytest.raises(LineageError, match="only the signers of a Horizon license"):
            reg.sign_safe_harbor("old", key)
    with pytest.raises(LineageError, match="claims no safe harbor"):
        reg.sign_safe_harbor("new", BOARD[0])
    assert reg.harbor_signatures == {}
    # A board member the policy in force revokes counts for nothing.
    revoked = LineageTrust.from_policies([replace(POLICY, revoked_keys=(BOARD[1].public_key,))])
    strict = Registry(trust=revoked)
    strict.add(node("old", 1000, created=OLD, evidence="archived release"))
    harbor(strict, "old", BOARD[:1] + PARTIES)
    with pytest.raises(LineageError):
        strict.sign_safe_harbor("old", BOARD[1])
    assert not strict.in_safe_harbor("old")
    harbor(strict, "old", BOARD[2:])
    assert strict.in_safe_harbor("old")
    # Without an authority to count against, nothing is in safe harbor.
    untrusted = Registry()
    untrusted.add(node("old", 1000, created=OLD, evidence="archived release"))
    assert untrusted.graph_size(0, ["old"]).total_msflop == 1000


def test_the_review_s_laundering_no_longer_launders():
    """`lineage add X --created 2021-08-31 --parent Z --evidence "trust me"` put
    Z's 6e25 sFLOP in safe harbor."""
    reg = Registry(trust=TRUST)
    reg.add(node("Z", 6 * 10**28, created=dt.date(2021, 1, 1)))
    reg.add(node("X", 10**23, ["Z"], created=dt.date(2021, 8, 31), evidence="trust me"))
    size = reg.graph_size(10**12, ["X"])
    assert size.total_msflop == 10**12 + 10**23 + 6 * 10**28
    assert size.unproven_harbor_claims == ("X",)


def test_no_node_is_dated_before_a_parent_and_a_refused_change_changes_nothing():
    reg = Registry(trust=TRUST)
    reg.add(node("parent", 1, created=dt.date(2024, 5, 1)))
    with pytest.raises(LineageError, match="dated 2024-01-01, before its parent parent"):
        reg.add(node("child", 1, ["parent"], created=dt.date(2024, 1, 1)))
    reg.add(node("child", 1, ["parent"], created=dt.date(2024, 5, 1)))  # the same day is fine
    before = dict(reg.nodes)
    with pytest.raises(LineageError, match="before its parent"):
        reg.add(node("parent", 1, created=dt.date(2024, 6, 1)), replace_existing=True)
    assert reg.nodes == before
    with pytest.raises(LineageError, match="only for what existed before 2021-09-01"):
        reg.add(node("late", 1, created=dt.date(2021, 9, 1), evidence="too late"))
    with pytest.raises(LineageError, match="unknown parent 'x'"):
        reg.add(node("orphan", 1, ["x"]))
    with pytest.raises(LineageError, match="itself"):
        reg.add(node("e", 1, ["e"]))
    assert reg.nodes == before


def signed_file(tmp_path, nodes: list[Node], issuer=ISSUER, name="l.json") -> dict:
    """A registry file the issuer signed over whatever nodes it was given,
    whole or not (the library never writes a broken one itself)."""
    reg = Registry(nodes={n.name: n for n in nodes})
    reg.issuer_signature = (issuer.public_key, issuer.sign(reg.signed_message()))
    data = reg.to_json()
    (tmp_path / name).write_text(json.dumps(data))
    return data


def test_a_signed_registry_that_is_not_whole_is_refused(tmp_path):
    cases = [
        ([node("a", 1, ["c"]), node("b", 1, ["a"]), node("c", 1, ["b"])], "cycle: "),
        ([node("d", 1, ["missing"])], "names unknown parent 'missing'"),
        ([node("p", 1, created=dt.date(2024, 5, 1)),
          node("q", 1, ["p"], created=dt.date(2024, 1, 1))], "before its parent"),
    ]
    for nodes, fragment in cases:
        signed_file(tmp_path, nodes)
        with pytest.raises(LineageError, match=fragment) as refused:
            Registry.load(tmp_path / "l.json", TRUST)
        assert not isinstance(refused.value, VerificationError)


def test_the_registry_file_is_the_issuer_s_word(tmp_path):
    reg = Registry(trust=TRUST)
    reg.add(node("a", 3, family="f", parameters=7, training_tokens=9))
    reg.add(Node("b", "run", 4, NEW, (Parent("a", Relation.DATA_GENERATED_BY),)))
    reg.add(node("old", 5, created=OLD, evidence="paper"))
    harbor(reg, "old")
    with pytest.raises(LineageError, match="not the authority's issuer"):
        reg.save(tmp_path / "l.json", OUTSIDER)
    assert not (tmp_path / "l.json").exists()
    reg.save(tmp_path / "l.json", ISSUER)
    loaded = Registry.load(tmp_path / "l.json", TRUST)
    assert loaded.nodes == reg.nodes and loaded.in_safe_harbor("old")
    good = json.loads((tmp_path / "l.json").read_text())

    def refused(data, error, fragment):
        (tmp_path / "bad.json").write_text(json.dumps(data))
        with pytest.raises(error, match=fragment):
            Registry.load(tmp_path / "bad.json", TRUST)

    unsigned = {k: v for k, v in good.items() if k not in ("signer", "signature")}
    refused(unsigned, UntrustedRegistry, "is unsigned")
    tampered = json.loads(json.dumps(good))
    tampered["nodes"][0]["compute_msflop"] += 1
    refused(tampered, UntrustedRegistry, "changed after it was signed")
    refused(signed_file(tmp_path, list(reg.nodes.values()), OUTSIDER, "o.json"),
            UntrustedRegistry, "no issuer of the authority's policies")
    moved = json.loads(json.dumps(good))
    moved["nodes"][0]["safe_harbor_signatures"] = moved["nodes"][2]["safe_harbor_signatures"]
    refused(moved, UntrustedRegistry, "safe-harbor signature .* on a does not verify")
    for shape in ({}, {"format": "openheg-lineage/v2", "nodes": {}}, [],
                  {**good, "nodes": ["x"]}, {**good, "signature": "zz"},
                  {**good, "nodes": good["nodes"] + good["nodes"][:1]}):
        (tmp_path / "bad.json").write_text(json.dumps(shape))
        with pytest.raises(LineageError) as error:
            Registry.load(tmp_path / "bad.json", TRUST)
        assert not isinstance(error.value, UntrustedRegistry)
    # An issuer the policy in force revokes no longer vouches for it; a former
    # issuer of the chain, not revoked, still does.
    successor = SigningKey(b"\x61" * 32)
    v2 = replace(POLICY, policy_version=2, issuer_key=successor.public_key)
    assert Registry.load(tmp_path / "l.json", LineageTrust.from_policies([POLICY, v2]))
    v3 = replace(v2, policy_version=3, revoked_keys=(ISSUER.public_key,))
    with pytest.raises(UntrustedRegistry, match="no issuer"):
        Registry.load(tmp_path / "l.json", LineageTrust.from_policies([POLICY, v2, v3]))


def test_a_board_member_adds_a_signature_without_the_issuer(tmp_path):
    reg = Registry(trust=TRUST)
    reg.add(node("old", 5, created=OLD, evidence="paper"))
    reg.save(tmp_path / "l.json", ISSUER)
    for key in HORIZON_SIGNERS:  # each on their own machine, the file passed on
        mine = Registry.load(tmp_path / "l.json", TRUST)
        mine.sign_safe_harbor("old", key)
        mine.save(tmp_path / "l.json")
    assert Registry.load(tmp_path / "l.json", TRUST).in_safe_harbor("old")
    changed = Registry.load(tmp_path / "l.json", TRUST)
    changed.add(node("new", 1))
    with pytest.raises(LineageError, match="the issuer must sign it again"):
        changed.save(tmp_path / "l.json")
    assert "new" not in Registry.load(tmp_path / "l.json", TRUST).nodes


def test_the_lineage_digest_covers_the_whole_ancestry_and_only_it():
    reg = Registry(trust=TRUST)
    reg.add(node("ancient", 9, created=dt.date(2019, 1, 1)))
    reg.add(node("old", 5, ["ancient"], created=OLD, evidence="paper"))
    reg.add(node("base", 100, ["old"]))
    reg.add(Node("ft", "run", 10, NEW, (Parent("base", Relation.FINE_TUNE_OF),)))
    unsigned = reg.lineage("ft")
    assert unsigned.history_msflop == 100 + 5 + 9 and unsigned.own_msflop == 10
    harbor(reg, "old")
    signed = reg.lineage("ft")
    assert signed.history_msflop == 100 and signed.digest == unsigned.digest
    reg.add(node("unrelated", 1))
    assert reg.lineage("ft").digest == signed.digest
    reg.add(node("ancient", 10, created=dt.date(2019, 1, 1)), replace_existing=True)
    assert reg.lineage("ft").digest != signed.digest  # behind safe harbor, still bound
    with pytest.raises(LineageError, match="unknown workload 'nope'"):
        reg.lineage("nope")


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
    """Nodes in date order; an old node (before the cutoff) has only old
    parents, and some old ones are in safe harbor."""
    n = draw(st.integers(1, 30))
    nodes = []
    for i in range(n):
        old = draw(st.booleans())
        allowed = [p for p in range(i) if nodes[p][4] or not old]
        parents = draw(st.lists(st.sampled_from(allowed), unique=True, max_size=4)) \
            if allowed else []
        compute = draw(st.integers(0, 10**30))
        harbored = old and draw(st.booleans())
        nodes.append((f"n{i}", compute, [f"n{p}" for p in parents], harbored, old))
    return nodes


def registry_of(nodes) -> Registry:
    reg = Registry(trust=TRUST)
    for i, (name, compute, parents, harbored, old) in enumerate(nodes):
        created = (dt.date(2015, 1, 1) if old else NEW) + dt.timedelta(days=i)
        reg.add(node(name, compute, parents, created=created, evidence="proof" if old else ""))
        if harbored:
            harbor(reg, name)
    return reg


def reference_size(nodes, roots):
    """Plain recursive definition: the set of ancestors, harbor nodes stop the walk."""
    by_name = {name: (compute, parents, harbor) for name, compute, parents, harbor, _ in nodes}
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


@settings(max_examples=100, deadline=None)
@given(nodes=dags(), data=st.data())
def test_property_aggregation_matches_the_definition(nodes, data):
    reg = registry_of(nodes)
    roots = data.draw(st.lists(st.sampled_from([n[0] for n in nodes]), max_size=5))
    planned = data.draw(st.integers(0, 10**20))
    size = reg.graph_size(planned, roots)
    assert size.total_msflop == planned + reference_size(nodes, roots)
    assert len(set(size.counted_nodes)) == len(size.counted_nodes)


@settings(max_examples=60, deadline=None)
@given(nodes=dags(), data=st.data())
def test_property_any_back_edge_is_a_cycle_error_and_changes_nothing(nodes, data):
    reg = registry_of([(name, c, p, False, False) for name, c, p, _, _ in nodes])
    if len(nodes) < 2:
        return
    # Make an ancestor depend on a descendant: n_j gets parent n_i where n_i
    # already reaches n_j.
    i = data.draw(st.integers(1, len(nodes) - 1))
    candidates = [a for a in reg.node_size(f"n{i}").counted_nodes if a != f"n{i}"]
    if not candidates:
        return
    j = data.draw(st.sampled_from(candidates))
    old = reg.nodes[j]
    before = dict(reg.nodes)
    looped = Node(old.name, old.kind, old.compute_msflop, reg.nodes[f"n{i}"].created,
                  old.parents + (Parent(f"n{i}", Relation.DISTILLED_FROM),))
    with pytest.raises(LineageError, match="cycle"):
        reg.add(looped, replace_existing=True)
    assert reg.nodes == before
