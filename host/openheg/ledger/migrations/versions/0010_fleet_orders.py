"""The fleet orders the verifier service recorded (schema.FleetOrderRow): a
board's HALT or LIFT_HALT for every device under one policy, as posted to
POST /v1/admin/fleet-orders, with the board keys whose signatures it bears.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "fleet_orders",
        sa.Column("policy_digest", sa.String(64), nullable=False),
        sa.Column("sequence", sa.String(20), nullable=False),
        sa.Column("order_kind", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.String(20), nullable=False),
        sa.Column("signers", sa.Text(), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("policy_digest", "sequence", name="pk_fleet_orders"),
    )


def downgrade() -> None:
    op.drop_table("fleet_orders")
