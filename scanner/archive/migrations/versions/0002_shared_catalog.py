"""A catalog shared by many machines: each job's station; on PostgreSQL a row key, the audit head, guards, grants.

On every engine ``jobs`` and ``intake`` get ``station``: the workstation
whose work folder holds the job. On a shared catalog each machine lists,
resumes and recovers only its own (``JobStore``); rows of a workstation's
own catalog keep ``''``, which is what it asks for, so it works as before.

Beyond that, SQLite catalogs are left as they were: rowid already names a
row, ``sqlite_sequence`` already keeps the highest audit id, and 0001's
triggers already refuse changes to the log.

On PostgreSQL:

- ``documents.row_key``, an identity column, is the integer the search
  index stores for each document (SQLite's rowid has no stable equivalent).
- ``audit_head`` is one row holding the highest audit id ever given. An
  append moves it on by one in its own transaction, which also locks it:
  two machines appending queue on that row and never chain onto the same
  entry, and a removed tail still shows (the head is ahead of the last
  row). A trigger lets it move only forward, one at a time. ``prev`` is
  unique, so even a program ignoring the head cannot fork the chain.
- Triggers refuse UPDATE, DELETE and TRUNCATE on ``audit`` for everyone,
  owner included. A trigger is the table owner's to drop, so the service
  must not be the owner: the role ``scanner_app`` (created by the database
  administrator; the service logs in as a member of it) may only SELECT
  and INSERT on the log, and change the other tables. When that role does
  not exist the grants are skipped, and ``scanner verify --all`` reports that
  the service can still rewrite the log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "scanner_app"
APPEND_ONLY = "nhật ký kiểm toán chỉ được ghi thêm (audit log is append-only)"
FORWARD_ONLY = "đầu nhật ký kiểm toán chỉ tiến từng mục một (audit head only moves forward by one)"

_GUARDS = f"""
ALTER TABLE documents ADD COLUMN row_key bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE documents ADD CONSTRAINT documents_row_key UNIQUE (row_key);
CREATE UNIQUE INDEX audit_prev_once ON audit (prev);

CREATE TABLE audit_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last bigint NOT NULL
);
INSERT INTO audit_head (last) SELECT coalesce(max(id), 0) FROM audit;

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY}';
END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_no_removal BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last <> OLD.last + 1 THEN
        RAISE EXCEPTION '{FORWARD_ONLY}';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward();

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
"""

_GRANTS = f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
        REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM {APP_ROLE};
        REVOKE INSERT, DELETE, TRUNCATE ON audit_head FROM {APP_ROLE};
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {APP_ROLE};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
        -- tables a later revision adds (made by the same owner) are the service's too; a revision adding
        -- another append-only table revokes from it as above
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE};
    END IF;
END $$;
"""


def upgrade() -> None:
    import sqlalchemy as sa

    for table in ("jobs", "intake"):
        op.add_column(table, sa.Column("station", sa.Text(), server_default=sa.text("''"), nullable=False))
    op.create_index("jobs_station", "jobs", ["station", "state"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_GUARDS)
    op.execute(_GRANTS)


def downgrade() -> None:
    op.drop_index("jobs_station", table_name="jobs")
    for table in ("jobs", "intake"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("station")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        DROP TABLE audit_head;
        DROP TRIGGER audit_no_change ON audit;
        DROP TRIGGER audit_no_truncate ON audit;
        DROP FUNCTION audit_head_forward();
        DROP FUNCTION audit_append_only();
        DROP INDEX audit_prev_once;
        ALTER TABLE documents DROP COLUMN row_key;
        """
    )
