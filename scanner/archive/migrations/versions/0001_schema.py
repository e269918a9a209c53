"""The catalog schema as the previous release left it (its ``PRAGMA user_version`` 4), plus the audit guards.

A catalog made by that release is stamped with this revision instead of
running it (``scanner.archive.catalog.migrate``), so every column, default
and index here must stay exactly as that release wrote them — down to its
one-column keys, which SQLite was never told are NOT NULL (see ``_key`` in
``scanner/archive/catalog/schema.py``).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=True),
        sa.Column("time", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("prev", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "daily_numbers",
        sa.Column("agency_code", sa.Text(), nullable=False),
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agency_code", "day"),
    )
    op.create_table(
        "dossiers",
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("agency_code", sa.Text(), nullable=False),
        sa.Column("agency_name", sa.Text(), nullable=False),
        sa.Column("counter", sa.Text(), nullable=False),
        sa.Column("procedure_code", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("owner_id", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("receipt_date", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("doc_total", sa.Integer(), nullable=False),
        sa.Column("page_total", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("warnings", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
        sa.Column("file_catalog", sa.Integer(), nullable=True),
        sa.Column("file_notation", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("retention", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("access", sa.Text(), server_default=sa.text("'công khai'"), nullable=False),
        sa.Column("creator", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("language", sa.Text(), server_default=sa.text("'vi'"), nullable=False),
        sa.Column("start_date", sa.Text(), nullable=True),
        sa.Column("end_date", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=True),
        sa.Column("time", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "files",
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("document_code", sa.Text(), nullable=True),
        sa.Column("dossier_code", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("path"),
    )
    op.create_table(
        "fixity",
        sa.Column("id", sa.Integer(), nullable=True),
        sa.Column("time", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("document_code", sa.Text(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("actual", sa.Text(), nullable=True),
        sa.Column("signature", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("fixity_path", "fixity", ["path"])

    op.create_table(
        "index_outbox",
        sa.Column("id", sa.Integer(), nullable=True),
        sa.Column("code", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "intake",
        sa.Column("id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("counter", sa.Text(), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("stored_as", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("time", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("intake_job", "intake", ["job_id"])
    op.create_index("intake_sha", "intake", ["sha256"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.Text(), nullable=True),
        sa.Column("counter", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
        sa.Column("updated", sa.Text(), nullable=False),
        sa.Column("dossier_code", sa.Text(), nullable=True),
        sa.Column("receipt_date", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("last_input", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_code"),
    )
    op.create_index("jobs_state", "jobs", ["state"])

    op.create_table(
        "owners",
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("dossier_code", sa.Text(), nullable=False),
        sa.Column("document_code", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "dossier_code", "document_code", "role"),
    )
    op.create_table(
        "documents",
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("dossier_code", sa.Text(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pdfa", sa.Text(), nullable=False),
        sa.Column("signer", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("signed_at", sa.Text(), nullable=True),
        sa.Column("signature_level", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("ocr_confidence", sa.Float().with_variant(sa.REAL(), "sqlite"), nullable=True),
        sa.Column("text", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("type_name", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("type_abbr", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("code_number", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("code_notation", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("issued_date", sa.Text(), nullable=True),
        sa.Column("organ_name", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("subject", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("language", sa.Text(), server_default=sa.text("'vi'"), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("signer_position", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("signer_name", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("mode", sa.Text(), server_default=sa.text("'số hóa'"), nullable=False),
        sa.Column("kind", sa.Text(), server_default=sa.text("'paper'"), nullable=False),
        sa.Column("valid_from", sa.Text(), nullable=True),
        sa.Column("valid_until", sa.Text(), nullable=True),
        sa.Column("holder_name", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("holder_id", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("identifiers", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("fields", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("review", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("indexed_at", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_code"],
            ["dossiers.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("documents_dossier", "documents", ["dossier_code"])

    _audit_append_only()


APPEND_ONLY = "nhật ký kiểm toán chỉ được ghi thêm (audit log is append-only)"


def _audit_append_only() -> None:
    """Refuse UPDATE and DELETE on the audit log inside the database, whatever program writes to it."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, verb in (("audit_no_update", "UPDATE"), ("audit_no_delete", "DELETE")):
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON audit\n    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    elif dialect != "postgresql":  # PostgreSQL's guards (trigger function, grants) are revision 0002's
        raise NotImplementedError(f"append-only audit guard for {dialect}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_no_update")
        op.execute("DROP TRIGGER audit_no_delete")
    op.drop_index("documents_dossier", table_name="documents")
    op.drop_table("documents")
    op.drop_table("owners")
    op.drop_index("jobs_state", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("intake_sha", table_name="intake")
    op.drop_index("intake_job", table_name="intake")
    op.drop_table("intake")
    op.drop_table("index_outbox")
    op.drop_index("fixity_path", table_name="fixity")
    op.drop_table("fixity")
    op.drop_table("files")
    op.drop_table("events")
    op.drop_table("dossiers")
    op.drop_table("daily_numbers")
    op.drop_table("audit")
