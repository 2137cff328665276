"""Board votes: offline propose/sign/combine, and the signature rules of policies,
licenses and orders (unit and property tests, no device)."""

from __future__ import annotations

import stat
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openheg import wire
from openheg.authority import Authority, AuthorityError
from openheg.board import (
    Proposal,
    Share,
    VoteError,
    check_license_signatures,
    check_order_signatures,
    check_policy_chain,
    check_policy_update,
    combine,
    license_cosigners,
    sign_proposal,
)
from openheg.crypto import SigningKey
from openheg.licensing import DeviceSlot, issue_order, plan_workload
from openheg.policy import PolicyError, genesis_draft, next_draft
from openheg.wire import LicenseClass, OrderKind, SignatureEntry, SignerRole

KEYS = [SigningKey(bytes([i + 1]) * 32) for i in range(12)]


def board_policy(n: int, k: int, horizon: int | None = None, **overrides):
    board = KEYS[:n]
    return board, genesis_draft(board_keys=[b.public_key for b in board], board_threshold=k,
                                horizon_board_threshold=horizon, issuer_key=KEYS[10].public_key,
                                time_authority_key=KEYS[11].public_key,
                                inspector_keys=[KEYS[9].public_key],
                                party_keys=[KEYS[8].public_key, KEYS[7].public_key], now=0,
                                **overrides)


def signed(record, signers):
    proposal = Proposal(record)
    return combine(proposal, [sign_proposal(proposal, key) for key in signers])


def test_offline_round_trip_through_files(tmp_path):
    board, draft = board_policy(3, 2)
    Proposal(draft, "genesis").save(tmp_path / "p.json")
    for i, member in enumerate(board[:2]):  # each on their own machine: only the file travels
        sign_proposal(Proposal.load(tmp_path / "p.json"), member).save(tmp_path / f"{i}.share")
    shares = [Share.load(tmp_path / f"{i}.share") for i in range(2)]
    policy = combine(Proposal.load(tmp_path / "p.json"), shares, allowed=draft.board_keys)
    check_policy_update(None, policy)
    assert wire.Policy.from_bytes(policy.to_bytes()) == policy


def test_duplicate_unknown_and_forged_shares_are_named():
    board, draft = board_policy(3, 2)
    proposal = Proposal(draft)
    share = sign_proposal(proposal, board[0])
    with pytest.raises(VoteError, match="signed twice"):
        combine(proposal, [share, share], allowed=draft.board_keys)
    with pytest.raises(VoteError, match="not entitled.*unknown signer"):
        combine(proposal, [share, sign_proposal(proposal, KEYS[6])], allowed=draft.board_keys)
    forged = Share(share.record_type, share.digest,
                   SignatureEntry(board[1].public_key, share.entry.signature))
    with pytest.raises(VoteError, match="does not verify"):
        combine(proposal, [share, forged])
    other = Proposal(replace(draft, issued_at=1))
    with pytest.raises(VoteError, match="signs another proposal"):
        combine(proposal, [sign_proposal(other, board[1])])


def test_genesis_needs_its_own_board_threshold():
    board, draft = board_policy(4, 3)
    with pytest.raises(VoteError, match="has 2 board signatures.*needs 3"):
        check_policy_update(None, signed(draft, board[:2]))
    check_policy_update(None, signed(draft, board[:3]))


def test_rotation_needs_both_thresholds():
    board, draft = board_policy(3, 2)
    genesis = signed(draft, board[:2])
    new_board = KEYS[3:7]  # four new members, threshold 3
    proposal = next_draft(genesis, now=5, board_keys=[k.public_key for k in new_board],
                          board_threshold=3, horizon_board_threshold=4)
    with pytest.raises(VoteError, match="changes the board.*needs 3 signatures of the new"):
        check_policy_update(genesis, signed(proposal, board[:2] + new_board[:2]))
    with pytest.raises(VoteError, match="current board, which needs 2"):
        check_policy_update(genesis, signed(proposal, board[:1] + new_board[:3]))
    # A new board moves the Horizon veto: every party and the old board's
    # Horizon quorum (all three) must assent as well.
    with pytest.raises(VoteError, match="moves the Horizon veto"):
        check_policy_update(genesis, signed(proposal, board[:2] + new_board[:3]))
    parties = [KEYS[7], KEYS[8]]
    rotated = signed(proposal, board[:3] + new_board[:3] + parties)
    assert check_policy_chain([genesis, rotated]) == rotated
    # After the rotation the old board has no say.
    later = next_draft(rotated, now=6, frontier_base_msflop=1)
    with pytest.raises(VoteError, match="current board"):
        check_policy_update(rotated, signed(later, board[:3]))
    # Outsiders count for nothing, and combine refuses them by name.
    check_policy_update(rotated, signed(later, new_board[:3] + board[:1]))
    with pytest.raises(VoteError, match="unknown signer"):
        combine(Proposal(later), [sign_proposal(Proposal(later), k) for k in board[:1]],
                allowed=rotated.board_keys)
    check_policy_update(rotated, signed(later, new_board[1:4]))


def test_versions_must_follow_exactly_and_revoked_members_do_not_count():
    board, draft = board_policy(3, 2)
    genesis = signed(draft, board[:2])
    skip = replace(next_draft(genesis, now=1), policy_version=3)
    with pytest.raises(VoteError, match="cannot follow version 1"):
        check_policy_update(genesis, signed(skip, board[:2]))
    revoking = next_draft(genesis, now=1, revoked_keys=[board[0].public_key])
    with pytest.raises(VoteError, match="signed by revoked key"):
        check_policy_update(genesis, signed(revoking, board[:2]))
    v2 = signed(revoking, board[1:3])
    check_policy_update(genesis, v2)
    v3 = next_draft(v2, now=2, frontier_base_msflop=5)
    with pytest.raises(VoteError, match="revoked key"):
        check_policy_update(v2, signed(v3, board[:2]))
    check_policy_update(v2, signed(v3, board[1:3]))


def test_lowering_thresholds_is_a_vote_and_baselines_cannot_be_voted_away():
    board, draft = board_policy(3, 2)
    genesis = signed(draft, board[:2])
    lower = next_draft(genesis, now=1, frontier_base_msflop=genesis.frontier_base_msflop // 2)
    check_policy_update(genesis, signed(lower, board[1:3]))
    with pytest.raises(PolicyError, match="baseline"):
        next_draft(genesis, baselines=int(wire.Baseline.METERING))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 6), data=st.data())
def test_property_a_policy_passes_exactly_at_threshold(n, data):
    k = data.draw(st.integers(1, n))
    subset = data.draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1))
    board, draft = board_policy(n, k)
    record = signed(draft, [board[i] for i in subset])
    if len(subset) >= k:
        check_policy_update(None, record)
    else:
        with pytest.raises(VoteError):
            check_policy_update(None, record)


def license_of(policy, cls_total, inspector=True):
    plan = plan_workload(policy, workload="w", planned_msflop=cls_total, lineage_msflop=0,
                         devices=[DeviceSlot(bytes(32), 1)], start=0,
                         inspector_key=KEYS[9].public_key if inspector else None)
    return plan.licenses[0]


def test_license_signers_per_class():
    board, draft = board_policy(3, 2, horizon=3, frontier_base_msflop=100,
                                frontier_daily_increase_msflop=0, horizon_base_msflop=1000,
                                horizon_daily_increase_msflop=0)
    policy = signed(draft, board[:2])
    issuer, inspector, parties = KEYS[10], KEYS[9], [KEYS[8], KEYS[7]]
    standard = license_of(policy, 99)
    assert standard.license_class == LicenseClass.STANDARD
    check_license_signatures(policy, signed(standard, [issuer]))
    with pytest.raises(VoteError, match="not signed by the policy's issuer"):
        check_license_signatures(policy, signed(standard, [KEYS[6]]))
    frontier = license_of(policy, 100)
    assert frontier.license_class == LicenseClass.FRONTIER
    with pytest.raises(VoteError, match="named inspector"):
        check_license_signatures(policy, signed(frontier, [issuer]))
    check_license_signatures(policy, signed(frontier, [issuer, inspector]))
    with pytest.raises(VoteError, match="unknown signer"):
        combine(Proposal(frontier), [sign_proposal(Proposal(frontier), k)
                                     for k in (issuer, inspector, board[0])],
                allowed=license_cosigners(policy, frontier))
    horizon = license_of(policy, 1000)
    assert horizon.license_class == LicenseClass.HORIZON
    with pytest.raises(VoteError, match="needs 3 board signatures, has 2"):
        check_license_signatures(policy, signed(horizon, [issuer, inspector, *board[:2],
                                                          *parties]))
    with pytest.raises(VoteError, match="every party representative"):
        check_license_signatures(policy, signed(horizon, [issuer, inspector, *board,
                                                          parties[0]]))
    check_license_signatures(policy, signed(horizon, [issuer, inspector, *board, *parties]))


def test_order_rules():
    board, draft = board_policy(3, 2)
    policy = signed(draft, board[:2])
    inspector = KEYS[9]
    pause = issue_order(OrderKind.PAUSE, device_id=bytes(32), sequence=1,
                        workload_id=b"\x01" * 16, now=0)
    # A pause: any inspector the policy lists, the license's or not.
    check_order_signatures(policy, signed(pause, [inspector]), None)
    with pytest.raises(VoteError, match="an inspector the policy lists"):
        check_order_signatures(policy, signed(pause, board[:3]), inspector.public_key)
    # A release of the oversight reserve: the license's own inspector.
    release = replace(pause, order_kind=OrderKind.RELEASE_OVERSIGHT, license_id=b"\x02" * 16,
                      license_sequence=1, workload_id=bytes(16))
    check_order_signatures(policy, signed(release, [inspector]), inspector.public_key)
    with pytest.raises(VoteError, match="inspector named in the license"):
        check_order_signatures(policy, signed(release, [inspector]), board[0].public_key)
    resume = replace(pause, order_kind=OrderKind.RESUME, signer_role=SignerRole.BOARD,
                     sequence=1)
    check_order_signatures(policy, signed(resume, board[:2]), inspector.public_key)
    halt = issue_order(OrderKind.HALT, device_id=bytes(32), sequence=3, now=0)
    with pytest.raises(VoteError, match="board quorum: 2 members, has 1"):
        check_order_signatures(policy, signed(halt, [board[0], inspector]), None)
    check_order_signatures(policy, signed(halt, board[1:3]), None)


def test_authority_directory_keeps_a_checked_chain(tmp_path):
    auth = Authority.create(tmp_path / "auth", board_size=3, board_threshold=2, now=0)
    key_file = auth.key_path("board-1")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    genesis = auth.policy_in_force()
    v2 = next_draft(genesis, now=1, frontier_base_msflop=7)
    with pytest.raises(VoteError):
        auth.publish(signed(v2, [auth.key("board-1")]))
    auth.publish(signed(v2, [auth.key("board-1"), auth.key("board-3")]))
    assert auth.policy_in_force().frontier_base_msflop == 7
    with pytest.raises(AuthorityError, match="already holds"):
        Authority.create(tmp_path / "auth")
