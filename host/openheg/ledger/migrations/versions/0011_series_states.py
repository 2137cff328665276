"""Per-device series state (schema.SeriesStateRow): the verifier service checks
each batch's reports against it instead of re-reading and re-checking the
device's whole history. It follows 0010, the fleet orders.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "series_states",
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("check_version", sa.Integer(), nullable=True),
        sa.Column("reports", sa.BigInteger(), nullable=True),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("last_received_at", sa.BigInteger(), nullable=True),
        sa.Column("last_record", sa.LargeBinary(), nullable=True),
        sa.Column("anomalies", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name="pk_series_states"),
    )


def downgrade() -> None:
    op.drop_table("series_states")
