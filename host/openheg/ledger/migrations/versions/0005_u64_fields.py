"""The wire's u64 fields are stored exactly: license sequence, not_before and
not_after, order sequence and issued_at, and the attestation's report counter
become zero-padded 20-digit decimal strings (schema.U64). As signed BIGINT, a
sequence of 2**63 or more failed with a raw database error after the license
file had been written.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

U64_DIGITS = 20
COLUMNS = {
    "licenses": ("sequence", "not_before", "not_after"),
    "orders": ("sequence", "issued_at"),
    "attestations": ("report_counter",),
}


def _convert(to_text: bool) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in COLUMNS.items():
        if postgres:
            for column in columns:
                if to_text:
                    op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE "
                               f"VARCHAR({U64_DIGITS}) USING lpad({column}::text, "
                               f"{U64_DIGITS}, '0')")
                else:
                    op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE BIGINT "
                               f"USING {column}::numeric::bigint")
            continue
        # SQLite: copy the table with the new column types, then rewrite the values
        # (its dynamic typing would keep the old integers unpadded).
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.String(U64_DIGITS) if to_text
                                   else sa.BigInteger(), existing_nullable=False)
        for column in columns:
            expression = (f"printf('%0{U64_DIGITS}d', CAST({column} AS INTEGER))" if to_text
                          else f"CAST({column} AS INTEGER)")
            op.execute(f"UPDATE {table} SET {column} = {expression}")


def upgrade() -> None:
    _convert(to_text=True)


def downgrade() -> None:
    # Values of 2**63 and above cannot go back: the database refuses the cast.
    _convert(to_text=False)
