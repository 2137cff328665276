"""Room on each page of nonces for every row's answer (PostgreSQL's fillfactor
40): the verifier service answers a batch's nonces in one UPDATE, and a row
updated where its page has room for the new version is updated without
touching the table's indexes (a heap-only tuple); on a full page every index
gets a new entry, and the batch's UPDATE of its nonces cost about twice as
much. A nonce row grows by its answer (the attestation's digest), so 40 % full
leaves room for all of a page's rows to be answered. Pages filled from now on
keep the room; SQLite has no such setting, and nothing changes there. It
follows 0011, the series states.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE nonces SET (fillfactor = 40)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE nonces RESET (fillfactor)")
