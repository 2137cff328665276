"""What each event-log read proved: the head before its oldest entry (an anchor
the series check starts a stretch of the chain from), and, per attestation, how
many entries the device had logged when its log was read right after it.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "log_anchors",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("entry_index", sa.BigInteger(), primary_key=True),
        sa.Column("head_before", sa.String(64), primary_key=True))
    with op.batch_alter_table("attestations") as batch:
        batch.add_column(sa.Column("log_length_after", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attestations") as batch:
        batch.drop_column("log_length_after")
    op.drop_table("log_anchors")
