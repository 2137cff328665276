"""The ledger's tables (SQLAlchemy), as of the newest migration.

Compute amounts are u128 milli-sFLOP: more than any SQL integer type holds,
and SQLite's NUMERIC would round them through floating point. They are stored
as fixed-width decimal strings (``U128``), exact and ordered as numbers. The
wire's u64 fields (sequences, report counters, times a record carries) do not
fit a signed BIGINT either: a sequence of 2**63 or more is valid on the wire,
so they are fixed-width decimal strings too (``U64``, since migration 0005).
Record bytes are kept exactly as received, so anything in the ledger can be
verified again from scratch.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

U128_DIGITS = 39  # 2**128 - 1 has 39 decimal digits
U64_DIGITS = 20  # 2**64 - 1 has 20


class _FixedWidthUnsigned(TypeDecorator):
    """An unsigned integer of BITS bits as a zero-padded decimal string of DIGITS
    digits: exact on every database, and ordered as the number it holds."""

    BITS = 0
    DIGITS = 0

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not 0 <= int(value) < 1 << self.BITS:
            raise ValueError(f"{value} does not fit u{self.BITS}")
        return str(int(value)).rjust(self.DIGITS, "0")

    def process_result_value(self, value, dialect):
        return None if value is None else int(value)


class U128(_FixedWidthUnsigned):
    impl = String(U128_DIGITS)
    cache_ok = True
    BITS, DIGITS = 128, U128_DIGITS


class U64(_FixedWidthUnsigned):
    impl = String(U64_DIGITS)
    cache_ok = True
    BITS, DIGITS = 64, U64_DIGITS


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s"})


class DeviceRow(Base):
    __tablename__ = "devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str | None] = mapped_column(Text)
    vendor_key: Mapped[str] = mapped_column(String(64))
    endorsement: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[int] = mapped_column(BigInteger)


class WorkloadRow(Base):
    __tablename__ = "workloads"
    workload_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    planned_msflop: Mapped[int] = mapped_column(U128)
    lineage_msflop: Mapped[int] = mapped_column(U128)
    license_class: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[int] = mapped_column(BigInteger)


class LicenseRow(Base):
    __tablename__ = "licenses"
    license_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    workload_id: Mapped[str] = mapped_column(String(32), index=True)
    sequence: Mapped[int] = mapped_column(U64)
    license_class: Mapped[str] = mapped_column(String(16))
    allocation_msflop: Mapped[int] = mapped_column(U128)
    not_before: Mapped[int] = mapped_column(U64)
    not_after: Mapped[int] = mapped_column(U64)
    record: Mapped[bytes] = mapped_column(LargeBinary)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class OrderRow(Base):
    __tablename__ = "orders"
    # Each signer role has its own anti-replay counter on the device.
    __table_args__ = (UniqueConstraint("device_id", "signer_role", "sequence",
                                       name="uq_orders_device_role_sequence"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    order_kind: Mapped[str] = mapped_column(String(16))
    signer_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sequence: Mapped[int] = mapped_column(U64)
    license_id: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[int] = mapped_column(U64)
    # Added by migration 0007: what a pause or resume names (the workload), and
    # the license sequence a release names (None on orders recorded before).
    workload_id: Mapped[str | None] = mapped_column(String(32))
    license_sequence: Mapped[int | None] = mapped_column(U64)
    record: Mapped[bytes] = mapped_column(LargeBinary)


class AttestationRow(Base):
    __tablename__ = "attestations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[int] = mapped_column(BigInteger)
    report_counter: Mapped[int] = mapped_column(U64)
    reset_count: Mapped[int] = mapped_column(BigInteger)
    policy_version: Mapped[int] = mapped_column(BigInteger)
    license_id: Mapped[str] = mapped_column(String(32), index=True)
    consumed_msflop: Mapped[int] = mapped_column(U128)
    remaining_msflop: Mapped[int] = mapped_column(U128)
    gate_state: Mapped[str] = mapped_column(String(16))
    gate_causes: Mapped[int] = mapped_column(BigInteger)
    log_head: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    record: Mapped[bytes] = mapped_column(LargeBinary)
    # Added by migration 0003: the device's log length when its log was read
    # right after this attestation (None: not read with it).
    log_length_after: Mapped[int | None] = mapped_column(BigInteger)
    # Added by migration 0008 (None on attestations recorded before): the
    # policy's digest, what the workload in force consumed under all its
    # licenses, what the device's replaced licenses consumed in all.
    policy_digest: Mapped[str | None] = mapped_column(String(64))
    workload_msflop: Mapped[int | None] = mapped_column(U128)
    retired_msflop: Mapped[int | None] = mapped_column(U128)


class LogEntryRow(Base):
    """Added by migration 0002: the device event logs read with READ_LOG."""

    __tablename__ = "log_entries"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_type: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class LogAnchorRow(Base):
    """Added by migration 0003: the chain head a log read reported just before its
    oldest entry. Every head reported for an index is kept, so a device that
    reports two is caught."""

    __tablename__ = "log_anchors"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    head_before: Mapped[str] = mapped_column(String(64), primary_key=True)


class NonceRow(Base):
    """Added by migration 0006: the verifier service's nonces. The verifier
    decides freshness (RATS): a nonce is bound to one device, good until its
    expiry, and answered by at most one attestation. On PostgreSQL its pages
    are filled to 40 % (migration 0012), so that answering a row rewrites it
    in its own page and touches no index."""

    __tablename__ = "nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    # The SHA-256 of the attestation that answered it (None: not answered yet).
    answered_by: Mapped[str | None] = mapped_column(String(64))


class IssuedOrderRow(Base):
    """Added by migration 0009: every order sequence the authority's CLI numbered
    for a device and signer role, recorded when the order is issued (signed or
    proposed), before anyone can deliver it. The next order of the role is
    numbered past these, never from the device's own counter alone: an order the
    operator holds back is one the device never counted (second review, finding 1)."""

    __tablename__ = "issued_orders"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    signer_role: Mapped[str] = mapped_column(String(16), primary_key=True)
    sequence: Mapped[int] = mapped_column(U64, primary_key=True)
    order_kind: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[int] = mapped_column(BigInteger)


class FleetOrderRow(Base):
    """Added by migration 0010: the fleet orders the verifier service accepted,
    a board's HALT or LIFT_HALT for every device under one policy. Sequences
    count per policy and only rise: the service records an order only above
    every one recorded for its policy (Ledger.record_fleet_order)."""

    __tablename__ = "fleet_orders"
    policy_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(U64, primary_key=True)
    order_kind: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[int] = mapped_column(U64)
    # The board keys (hex, comma-separated, sorted) whose signatures verified.
    signers: Mapped[str] = mapped_column(Text)
    record: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[int] = mapped_column(BigInteger)


class SeriesStateRow(Base):
    """Added by migration 0011: per device, where its series check stood after
    the last batch the verifier service recorded (series.SeriesTally), so the
    next batch checks only its own reports against it. The row is also the
    device's series lock: every write of what the series check reads
    (attestations, log entries and anchors, orders) takes it FOR UPDATE in its
    transaction and either advances the state or clears it (``check_version``
    NULL: no state, the next batch runs the full check)."""

    __tablename__ = "series_states"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The SeriesTally encoding the state was written in; another (or NULL) is no state.
    check_version: Mapped[int | None] = mapped_column(Integer)
    reports: Mapped[int | None] = mapped_column(BigInteger)
    # The newest report the state covers: its row id, arrival time and bytes.
    last_id: Mapped[int | None] = mapped_column(BigInteger)
    last_received_at: Mapped[int | None] = mapped_column(BigInteger)
    last_record: Mapped[bytes | None] = mapped_column(LargeBinary)
    # JSON: the anomalies of consecutive pairs, and the tamper anomaly (or null).
    anomalies: Mapped[str | None] = mapped_column(Text)
