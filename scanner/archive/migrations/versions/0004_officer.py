"""The archive officer's workspace: saved searches, reused papers, and the audit log read by subject.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("audit_subject", "audit", ["subject"])
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("params", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("saved_searches_person", "saved_searches", ["person"])
    op.create_table(
        "reuses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.Text(), nullable=False),
        sa.Column("agency_code", sa.Text(), nullable=False),
        sa.Column("procedure_code", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("dossier_code", sa.Text(), nullable=False),
        sa.Column("document_code", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("reuses_time", "reuses", ["time"])


def downgrade() -> None:
    op.drop_index("reuses_time", table_name="reuses")
    op.drop_table("reuses")
    op.drop_index("saved_searches_person", table_name="saved_searches")
    op.drop_table("saved_searches")
    op.drop_index("audit_subject", table_name="audit")
