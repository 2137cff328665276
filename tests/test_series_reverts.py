"""The series check flags a rise of the attested store revert count (issue 9,
item 14): the device booted from its older state record because the newest
one failed its check. Honest after a power cut during a commit, so flagged but
not severe; a fall of the count is a rollback of the device's state."""

from __future__ import annotations

from dataclasses import replace

from openheg.crypto import SigningKey
from openheg.series import CHAIN_START, Report, check_series
from openheg.wire import Attestation, GateCause, GateState, RecordType

DEVICE = SigningKey(b"\x09" * 32)


def _report(counter: int, reverts: int, received_at: int) -> Report:
    body = Attestation(
        device_id=DEVICE.public_key, nonce=bytes(32), firmware_measurement=bytes(32),
        policy_version=1, license_id=b"\x05" * 16, license_sequence=1,
        lane_ops=(0, 7, 0, 0, 0, 0), consumed_msflop=7000, remaining_msflop=1000,
        gate_state=GateState.OPEN, gate_causes=GateCause(0), report_counter=counter,
        reset_count=1, log_head=CHAIN_START, store_reverts=reverts)
    signed = replace(body, signature=DEVICE.sign_record(RecordType.ATTESTATION, body.body()))
    return Report(Attestation.from_bytes(signed.to_bytes()), received_at)


def _anomalies(*reports: Report):
    return check_series("dev", reports, log=[]).anomalies


def test_a_rise_of_the_revert_count_is_flagged_not_severe():
    found = [a for a in _anomalies(_report(1, 0, 10), _report(2, 0, 20), _report(3, 2, 30))
             if a.kind == "revert"]
    assert len(found) == 1 and not found[0].severe
    assert "2 time(s)" in found[0].detail and "reports 2 and 3" in found[0].detail


def test_a_steady_revert_count_is_no_anomaly():
    assert not [a for a in _anomalies(_report(1, 1, 10), _report(2, 1, 20))
                if a.kind in ("revert", "rollback")]


def test_a_fall_of_the_revert_count_is_a_severe_rollback():
    result = check_series("dev", [_report(1, 3, 10), _report(2, 1, 20)], log=[])
    assert [a.kind for a in result.anomalies if a.severe] == ["rollback"]
    assert not result.trusted
