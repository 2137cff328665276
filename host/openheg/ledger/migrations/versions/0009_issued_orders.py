"""Order sequences are recorded when the order is issued (schema.IssuedOrderRow),
so the next order of a role is numbered past every order issued, delivered or
not (second review, finding 1).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "issued_orders",
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("signer_role", sa.String(16), nullable=False),
        sa.Column("sequence", sa.String(20), nullable=False),
        sa.Column("order_kind", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "signer_role", "sequence",
                                name="pk_issued_orders"),
    )


def downgrade() -> None:
    op.drop_table("issued_orders")
