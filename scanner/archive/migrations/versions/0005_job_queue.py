"""The shared job queue on PostgreSQL: procrastinate's tables and functions, in their own schema ``queue``.

A province's intake machines enqueue dossiers and its workers take them
(``scanner.queue``); procrastinate keeps that queue in the catalog's
database, so there is no broker to run. Its objects go into a schema of
their own so that the catalog's schema (``public``, compared with
``schema.py``) stays exactly what it was, and the queue's connections name
it in their ``search_path``.

The SQL is the pinned procrastinate release's own ``schema.sql``, run by the
owner like every other revision; the service's role gets what a worker
needs (rows of the queue's tables, their sequences). A later procrastinate
release is taken on by a revision that runs its migration scripts.

SQLite catalogs are left alone: the embedded default has no shared queue.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "queue"
APP_ROLE = "scanner_app"

_GRANTS = f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        GRANT USAGE ON SCHEMA {SCHEMA} TO {APP_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {APP_ROLE};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {APP_ROLE};
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {SCHEMA} TO {APP_ROLE};
    END IF;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from importlib.resources import files

    sql = files("procrastinate.sql").joinpath("schema.sql").read_text(encoding="utf-8")
    raw: Any = op.get_bind().connection.dbapi_connection  # psycopg's own: its text is run as written
    for statement in (f"CREATE SCHEMA {SCHEMA}", f"SET LOCAL search_path TO {SCHEMA}", sql,
                      "SET LOCAL search_path TO DEFAULT", _GRANTS):  # fmt: skip
        raw.execute(statement)  # no parameters: several statements at once, no placeholders read


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
