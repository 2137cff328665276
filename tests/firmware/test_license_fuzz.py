"""Fuzz the C license parser against the canonical Python spec (openheg.wire):
for any bytes, the C parser accepts exactly when wire.License.from_bytes does,
and then reads the same fields."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openheg import wire
from openheg.errors import DeviceError, DeviceStatus, RecordError
from openheg_sim.firmware import parse_license

from fwkit import Authority

_AUTHORITY = Authority()
SEEDS = [
    _AUTHORITY.license(b"\x01" * 32).to_bytes(),
    _AUTHORITY.license(b"\x02" * 32, signers=(_AUTHORITY.issuer, _AUTHORITY.board),
                       license_class=wire.LicenseClass.HORIZON, oversight_ppm=1_000_000,
                       inspector_key=b"\x09" * 32).to_bytes(),
]


def _python_verdict(data: bytes) -> tuple[wire.License | None, DeviceStatus]:
    """The spec's verdict: the record, or None with the status the device must give."""
    try:
        return wire.License.from_bytes(data), DeviceStatus.OK
    except RecordError as error:
        return None, error.kind


def _check(data: bytes) -> None:
    expected, kind = _python_verdict(data)
    try:
        parsed = parse_license(data)
    except DeviceError as error:
        assert expected is None, "C refused a record the spec accepts"
        assert DeviceStatus(error.status) == kind, "C and the spec refuse for different reasons"
        return
    assert expected is not None, "C accepted a record the spec refuses"
    assert parsed["sequence"] == expected.sequence
    assert parsed["allocation_msflop"] == expected.allocation_msflop
    assert parsed["license_class"] == expected.license_class
    assert parsed["inspector_key"] == expected.inspector_key
    assert len(parsed["signatures"]) == len(expected.signatures)


mutation = st.tuples(st.integers(min_value=0, max_value=400), st.integers(0, 255))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), edits=st.lists(mutation, max_size=4),
       cut=st.integers(min_value=-3, max_value=3), tail=st.binary(max_size=3))
def test_mutated_licenses_get_the_spec_verdict(seed, edits, cut, tail):
    data = bytearray(seed)
    for position, value in edits:
        data[position % len(data)] = value
    if cut < 0:
        data = data[:cut]
    elif cut > 0:
        data += tail[:cut]
    _check(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_get_the_spec_verdict(data):
    _check(data)
