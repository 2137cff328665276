"""Device event logs read with READ_LOG, for series verification.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("entry_index", sa.BigInteger(), primary_key=True),
        sa.Column("event_type", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False))


def downgrade() -> None:
    op.drop_table("log_entries")
