"""The index outbox as a log read by cursors: one per search index generation (the live one, a rebuild).

A rebuild builds a new index generation beside the live one, so both must
see the documents filed or edited meanwhile: a row leaves the outbox only
once every cursor has passed it (``scanner.archive.catalog.indexer``).

- ``index_cursors``: one row per cursor (``live``, ``rebuild``), with the
  generation it feeds, how far it has read the outbox, and how far a
  rebuild has read the documents.
- On SQLite the outbox becomes ``AUTOINCREMENT``: with rows pruned, a plain
  rowid key would hand out an id again once the table is empty, below a
  cursor that has already passed it, and that document would never be
  indexed. (PostgreSQL's serial never goes back.)
- On PostgreSQL a statement trigger notifies ``scanner_index`` when rows
  are put in the outbox: the index service wakes at the filing's commit
  instead of polling. And the outbox is vacuumed once 10,000 rows are dead
  rather than 20 % of the table: a rebuild or a large catch-up empties it
  at once, and until its dead rows are reclaimed every search's "how far
  is the outbox?" walks them (``python -m benchmarks.province.outbox``:
  up to 138 ms after a million rows were pruned, 0.04 ms once vacuumed).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHANNEL = "scanner_index"

_NOTIFY = f"""
CREATE FUNCTION index_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END $$;
CREATE TRIGGER index_outbox_notify AFTER INSERT ON index_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION index_outbox_notify();
ALTER TABLE index_outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
"""


def upgrade() -> None:
    op.create_table(
        "index_cursors",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("generation", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("scanned", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY)
        return
    op.execute("CREATE TABLE index_outbox_log (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL)")
    op.execute("INSERT INTO index_outbox_log (id, code) SELECT id, code FROM index_outbox")
    op.execute("DROP TABLE index_outbox")
    op.execute("ALTER TABLE index_outbox_log RENAME TO index_outbox")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER index_outbox_notify ON index_outbox")
        op.execute("DROP FUNCTION index_outbox_notify()")
        op.execute("ALTER TABLE index_outbox RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)")
    op.drop_table("index_cursors")
