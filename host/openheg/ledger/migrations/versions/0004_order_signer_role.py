"""Orders are keyed by their signer role too: each role (inspector, board,
issuer) counts its own orders on the device, so one device can have an order
of sequence 1 from each role.

Orders recorded before this revision predate the per-role counters (one
counter per device) and keep a NULL role: they were unique per device already.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("signer_role", sa.String(16), nullable=True))
        batch.drop_constraint("uq_orders_device_id", type_="unique")
        batch.create_unique_constraint("uq_orders_device_role_sequence",
                                       ["device_id", "signer_role", "sequence"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("uq_orders_device_role_sequence", type_="unique")
        batch.create_unique_constraint("uq_orders_device_id", ["device_id", "sequence"])
        batch.drop_column("signer_role")
