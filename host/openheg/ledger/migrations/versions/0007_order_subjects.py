"""Orders name what they act on (issue 9, review findings 1 and 7): a pause or a
resume names a workload, a release of the oversight reserve a license by id and
sequence. The ledger keeps both beside the license id (orders recorded before
this revision have neither: NULL).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("workload_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("license_sequence", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("license_sequence")
        batch.drop_column("workload_id")
