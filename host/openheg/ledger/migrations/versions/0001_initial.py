"""Devices, workloads, licenses, orders and attestations.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from openheg.ledger.schema import U128

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text()),
        sa.Column("vendor_key", sa.String(64), nullable=False),
        sa.Column("endorsement", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False))
    op.create_table(
        "workloads",
        sa.Column("workload_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("planned_msflop", U128(), nullable=False),
        sa.Column("lineage_msflop", U128(), nullable=False),
        sa.Column("license_class", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False))
    op.create_table(
        "licenses",
        sa.Column("license_id", sa.String(32), primary_key=True),
        sa.Column("device_id", sa.String(64), nullable=False, index=True),
        sa.Column("workload_id", sa.String(32), nullable=False, index=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("license_class", sa.String(16), nullable=False),
        sa.Column("allocation_msflop", U128(), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger()),
        sa.Column("revoked_reason", sa.Text()))
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("order_kind", sa.String(16), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("license_id", sa.String(32), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("device_id", "sequence", name="uq_orders_device_id"))
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("record_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("device_id", sa.String(64), nullable=False, index=True),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("report_counter", sa.BigInteger(), nullable=False),
        sa.Column("reset_count", sa.BigInteger(), nullable=False),
        sa.Column("policy_version", sa.BigInteger(), nullable=False),
        sa.Column("license_id", sa.String(32), nullable=False, index=True),
        sa.Column("consumed_msflop", U128(), nullable=False),
        sa.Column("remaining_msflop", U128(), nullable=False),
        sa.Column("gate_state", sa.String(16), nullable=False),
        sa.Column("gate_causes", sa.BigInteger(), nullable=False),
        sa.Column("log_head", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False))


def downgrade() -> None:
    for table in ("attestations", "orders", "licenses", "workloads", "devices"):
        op.drop_table(table)
