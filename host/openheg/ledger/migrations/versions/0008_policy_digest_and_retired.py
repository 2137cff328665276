"""Attestations keep the digest of the policy the device ran (of two policies
with one version, which one), what the workload in force consumed under all
its licenses, and what the device's replaced licenses consumed in all.

Attestations recorded before this revision carry none of these (NULL): their
format predates the fields.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

U128_DIGITS = 39  # openheg.ledger.schema.U128: fixed-width decimal strings


def upgrade() -> None:
    with op.batch_alter_table("attestations") as batch:
        batch.add_column(sa.Column("policy_digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("workload_msflop", sa.String(U128_DIGITS), nullable=True))
        batch.add_column(sa.Column("retired_msflop", sa.String(U128_DIGITS), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attestations") as batch:
        batch.drop_column("retired_msflop")
        batch.drop_column("workload_msflop")
        batch.drop_column("policy_digest")
