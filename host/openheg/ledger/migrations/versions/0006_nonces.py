"""The verifier service's nonces (openheg.verifier): bound to a device, with an
expiry, answered by at most one attestation.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "nonces",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("answered_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name="pk_nonces"),
    )
    op.create_index("ix_nonces_device_id", "nonces", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_nonces_device_id", "nonces")
    op.drop_table("nonces")
