"""The party veto cannot be voted away by the ordinary board quorum (issue 9,
item 4): a policy that changes who holds the Horizon veto (the party
representatives, the board, its Horizon quorum) or that raises the Horizon
threshold needs the assent of those who hold the veto now: every current party
representative and the current board's Horizon quorum. Host and device agree."""

from __future__ import annotations

import pytest

from openheg import wire
from openheg.board import VoteError, check_policy_update
from openheg.errors import DeviceStatus

from fwkit import HORIZON, NOW, Authority, Device, _key, provision, pub

S = DeviceStatus
C = wire.Command
DAY = NOW // 86_400


def provisioned(authority: Authority) -> Device:
    dev = Device()
    provision(dev, authority)
    return dev


def horizon_license(authority: Authority, dev: Device, sequence: int, signers) -> wire.License:
    return authority.frontier_license(dev.device_id, sequence, workload_total_msflop=HORIZON,
                                      license_class=wire.LicenseClass.HORIZON, signers=signers)


def test_the_review_s_attack_is_refused(authority):
    """With board_threshold signatures and no party's: empty the party list and
    lower the Horizon quorum, then run a Horizon license on two board members."""
    dev = provisioned(authority)
    ordinary = authority.board_members[:2]
    veto_gone = authority.policy(2, party_keys=(), horizon_board_threshold=2, signers=ordinary)
    with pytest.raises(VoteError, match="veto"):
        check_policy_update(authority.policy(1), veto_gone)
    before = dev.snapshot()
    assert dev.status_of(C.INSTALL_POLICY, veto_gone.to_bytes()) == S.PARTY_VETO
    assert dev.snapshot()[0] == before[0]  # policy version unchanged
    two_members = horizon_license(authority, dev, 1,
                                  (authority.issuer, authority.inspector) + ordinary)
    assert dev.status_of(C.INSTALL_LICENSE, two_members.to_bytes()) == S.QUORUM_NOT_MET
    assert dev.run(10) == 0


def _veto_holders(authority: Authority) -> tuple:
    return authority.board_members + (authority.party,)


# Edits of the policy in force (fwkit: a 3-member board, threshold 2, Horizon
# quorum 3, one party) that move the veto, each needing the veto holders.
VETO_EDITS = {
    "party removed": dict(party_keys=()),
    "party added": dict(party_keys=tuple(sorted((pub(_key("party")), pub(_key("new party")))))),
    "party replaced": dict(party_keys=(pub(_key("new party")),)),
    "Horizon quorum lowered": dict(horizon_board_threshold=2),
    "Horizon base raised": dict(horizon_base_msflop=HORIZON + 1),
    "Horizon daily increase raised": dict(horizon_daily_increase_msflop=1),
    "Horizon epoch moved earlier under a daily increase": dict(
        horizon_daily_increase_msflop=1, schedule_epoch_day=DAY - 10),
    "board member replaced": dict(board_keys=tuple(sorted(
        pub(k) for k in (_key("board member 0"), _key("board member 1"), _key("newcomer"))))),
}
# Edits that leave the veto where it is: the ordinary board quorum suffices.
ORDINARY_EDITS = {
    "Frontier base raised": dict(frontier_base_msflop=10**12 + 1),
    "Horizon quorum raised to the board": dict(horizon_board_threshold=3),
    "Horizon base lowered": dict(horizon_base_msflop=HORIZON - 1),
    "epoch moved later": dict(schedule_epoch_day=DAY + 10),
    "chunk changed": dict(allowance_chunk_msflop=500_000),
}


def _holders_for(authority: Authority, edit: dict) -> tuple:
    """Every current veto holder, plus the new board's members where the edit
    changes the board (its own quorum is needed too)."""
    signers = _veto_holders(authority)
    if "board_keys" in edit:
        signers += (_key("newcomer"),)
    return signers


@pytest.mark.parametrize("name", VETO_EDITS)
def test_moving_the_veto_needs_its_holders(authority, name):
    edit = VETO_EDITS[name]
    if name == "Horizon epoch moved earlier under a daily increase":
        # The policy in force already rises daily, from today, so the only
        # change is the earlier epoch.
        authority.policy_overrides.update(horizon_daily_increase_msflop=1)
        edit = dict(schedule_epoch_day=DAY - 10)
    dev = provisioned(authority)
    current = authority.policy(1)
    ordinary = authority.policy(2, signers=authority.board_members[:2], **edit)
    if "board_keys" in edit:
        ordinary = authority.policy(2, signers=authority.board_members[:2] + (_key("newcomer"),),
                                    **edit)
    with pytest.raises(VoteError, match="veto"):
        check_policy_update(current, ordinary)
    assert dev.status_of(C.INSTALL_POLICY, ordinary.to_bytes()) == S.PARTY_VETO
    without_party = authority.policy(2, signers=tuple(
        k for k in _holders_for(authority, edit) if k is not authority.party), **edit)
    with pytest.raises(VoteError, match="veto"):
        check_policy_update(current, without_party)
    assert dev.status_of(C.INSTALL_POLICY, without_party.to_bytes()) == S.PARTY_VETO
    assented = authority.policy(2, signers=_holders_for(authority, edit), **edit)
    check_policy_update(current, assented)
    assert dev.status_of(C.INSTALL_POLICY, assented.to_bytes()) == S.OK
    assert dev.info().policy_version == 2


@pytest.mark.parametrize("name", ORDINARY_EDITS)
def test_other_changes_need_only_the_board_quorum(authority, name):
    dev = provisioned(authority)
    update = authority.policy(2, signers=authority.board_members[:2], **ORDINARY_EDITS[name])
    check_policy_update(authority.policy(1), update)
    assert dev.status_of(C.INSTALL_POLICY, update.to_bytes()) == S.OK


def test_once_the_holders_agree_the_new_rule_binds(authority):
    """The veto holders themselves may lower the Horizon quorum: then a
    Horizon license with that quorum and every party runs, and one without the
    party still does not."""
    dev = provisioned(authority)
    lowered = authority.policy(2, horizon_board_threshold=2, signers=_veto_holders(authority))
    assert dev.status_of(C.INSTALL_POLICY, lowered.to_bytes()) == S.OK
    base = (authority.issuer, authority.inspector) + authority.board_members[:2]
    assert dev.status_of(C.INSTALL_LICENSE,
                         horizon_license(authority, dev, 1, base).to_bytes()) == S.QUORUM_NOT_MET
    assert dev.status_of(C.INSTALL_LICENSE, horizon_license(
        authority, dev, 1, base + (authority.party,)).to_bytes()) == S.OK
