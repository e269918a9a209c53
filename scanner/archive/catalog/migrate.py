"""Bring a catalog to the schema this program expects, in place, when it is opened.

Schema changes are Alembic revisions in ``scanner/archive/migrations``; the
program runs them itself, so no workstation needs an ``alembic.ini``.

Catalogs made before Alembic (``PRAGMA user_version`` 1 to 4, no
``alembic_version`` table) are first brought to version 4 by the old
release's own steps, kept here verbatim, then stamped with revision 0001,
which is exactly that schema, and upgraded like any other. Afterwards
``user_version`` is set to 5, which the old release reads as "made by a
newer program" and refuses, instead of half-migrating it.

Everything runs inside one write transaction (SQLite DDL is transactional),
so two processes opening a new catalog at once can't both create it, and a
crash mid-upgrade leaves the catalog as it was.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import ProgrammingError

from scanner.archive.catalog.db import Database
from scanner.errors import ArchiveError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
LEGACY_VERSION = 4
LEGACY_REVISION = "0001"
MANAGED_BY_ALEMBIC = 5  # the user_version an Alembic-managed SQLite catalog carries

_LEGACY_STEPS: dict[int, str] = {
    1: """
    CREATE TABLE daily_numbers (
        agency_code TEXT NOT NULL,
        day TEXT NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (agency_code, day)
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        counter TEXT NOT NULL,
        state TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        dossier_code TEXT UNIQUE,
        receipt_date TEXT,
        error TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX jobs_state ON jobs(state);
    CREATE TABLE dossiers (
        code TEXT PRIMARY KEY,
        agency_code TEXT NOT NULL,
        agency_name TEXT NOT NULL,
        counter TEXT NOT NULL,
        procedure_code TEXT NOT NULL DEFAULT '',
        owner_id TEXT NOT NULL DEFAULT '',
        receipt_date TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL,
        doc_total INTEGER NOT NULL,
        page_total INTEGER NOT NULL,
        job_id TEXT NOT NULL,
        warnings TEXT NOT NULL DEFAULT '[]',
        created TEXT NOT NULL
    );
    CREATE TABLE documents (
        code TEXT PRIMARY KEY,
        dossier_code TEXT NOT NULL REFERENCES dossiers(code),
        ordinal INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL,
        pages INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        pdfa TEXT NOT NULL,
        signer TEXT NOT NULL DEFAULT '',
        signed_at TEXT,
        signature_level TEXT NOT NULL DEFAULT '',
        ocr_confidence REAL,
        text TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX documents_dossier ON documents(dossier_code);
    CREATE TABLE files (
        path TEXT PRIMARY KEY,
        document_code TEXT,
        dossier_code TEXT NOT NULL,
        role TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE VIRTUAL TABLE documents_fts USING fts5(
        code UNINDEXED, title, body, tokenize = "unicode61 remove_diacritics 0"
    );
    """,
    2: """
    CREATE TABLE intake (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sha256 TEXT NOT NULL,
        job_id TEXT NOT NULL,
        counter TEXT NOT NULL,
        original_name TEXT NOT NULL,
        origin TEXT NOT NULL,
        stored_as TEXT NOT NULL,
        state TEXT NOT NULL,
        time TEXT NOT NULL
    );
    CREATE INDEX intake_sha ON intake(sha256);
    CREATE INDEX intake_job ON intake(job_id);
    ALTER TABLE jobs ADD COLUMN last_input TEXT;
    ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0
    """,
    3: """
    DROP TABLE documents_fts;
    ALTER TABLE dossiers ADD COLUMN file_catalog INTEGER;
    ALTER TABLE dossiers ADD COLUMN file_notation TEXT NOT NULL DEFAULT '';
    ALTER TABLE dossiers ADD COLUMN retention TEXT NOT NULL DEFAULT '';
    ALTER TABLE dossiers ADD COLUMN access TEXT NOT NULL DEFAULT 'công khai';
    ALTER TABLE dossiers ADD COLUMN creator TEXT NOT NULL DEFAULT '';
    ALTER TABLE dossiers ADD COLUMN language TEXT NOT NULL DEFAULT 'vi';
    ALTER TABLE dossiers ADD COLUMN start_date TEXT;
    ALTER TABLE dossiers ADD COLUMN end_date TEXT;
    ALTER TABLE dossiers ADD COLUMN description TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN type_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN type_abbr TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN code_number TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN code_notation TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN issued_date TEXT;
    ALTER TABLE documents ADD COLUMN organ_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN subject TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN language TEXT NOT NULL DEFAULT 'vi';
    ALTER TABLE documents ADD COLUMN description TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN signer_position TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN signer_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN mode TEXT NOT NULL DEFAULT 'số hóa';
    ALTER TABLE documents ADD COLUMN kind TEXT NOT NULL DEFAULT 'paper';
    ALTER TABLE documents ADD COLUMN valid_from TEXT;
    ALTER TABLE documents ADD COLUMN valid_until TEXT;
    ALTER TABLE documents ADD COLUMN holder_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN holder_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN identifiers TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE documents ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE documents ADD COLUMN review TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE documents ADD COLUMN indexed_at TEXT;
    CREATE INDEX documents_unindexed ON documents(code) WHERE indexed_at IS NULL;
    UPDATE dossiers SET file_catalog = CAST(substr(receipt_date, 1, 4) AS INTEGER), creator = agency_name;
    CREATE TABLE owners (
        owner_id TEXT NOT NULL,
        dossier_code TEXT NOT NULL,
        document_code TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL,
        PRIMARY KEY (owner_id, dossier_code, document_code, role)
    );
    INSERT OR IGNORE INTO owners (owner_id, dossier_code, role)
        SELECT owner_id, code, 'applicant' FROM dossiers WHERE owner_id != '';
    CREATE TABLE fixity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        path TEXT NOT NULL,
        document_code TEXT,
        expected TEXT NOT NULL,
        actual TEXT,
        signature TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX fixity_path ON fixity(path);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm toán chỉ được ghi thêm (audit log is append-only)'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'nhật ký kiểm toán chỉ được ghi thêm (audit log is append-only)'); END;
    """,
    4: """
    CREATE TABLE index_outbox (id INTEGER PRIMARY KEY, code TEXT NOT NULL);
    INSERT INTO index_outbox (code) SELECT code FROM documents WHERE indexed_at IS NULL;
    DROP INDEX documents_unindexed;
    """,
}


def _config(conn: Connection | None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert head is not None
    return head


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, where: str) -> None:
    """Upgrade the catalog at WHERE (named in messages) to the newest revision; cheap when it is current."""
    head = head_revision()
    with db.read() as conn:
        if _current(conn) == head:
            return
    with db.write() as conn:
        current = _current(conn)  # again, under the lock: another process may have just done it
        if current == head:
            return
        known = {s.revision for s in ScriptDirectory.from_config(_config(conn)).walk_revisions()}
        if current is not None and current not in known:
            raise ArchiveError(
                f"danh mục {where} thuộc phiên bản mới hơn ({current}) của phần mềm",
                f"catalog {where} has a newer schema ({current}) than this program ({head})",
            )
        if current is None and db.dialect == "sqlite":
            _upgrade_legacy(conn, where)
        try:
            command.upgrade(_config(conn), "head")
        except ProgrammingError as exc:
            if db.dialect != "postgresql" or getattr(exc.orig, "sqlstate", "") != "42501":
                raise
            # the service's role may not create tables, by design (see revision 0002): the owner upgrades
            raise ArchiveError(
                f"danh mục {where} cần được tạo hoặc nâng cấp lên {head} bởi vai trò chủ cơ sở dữ liệu "
                "(mở danh mục một lần bằng vai trò đó), vai trò của dịch vụ không có quyền này",
                f"catalog {where} must be created or upgraded to {head} by the database owner's role, "
                "not the service's",
            ) from None
        if db.dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {MANAGED_BY_ALEMBIC}")


def _upgrade_legacy(conn: Connection, where: str) -> None:
    """A catalog of the previous release: finish its own steps, then record that it is revision 0001."""
    version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    if version == 0:
        return  # a new, empty catalog: revision 0001 creates everything
    if version > LEGACY_VERSION:
        raise ArchiveError(
            f"danh mục {where} có phiên bản {version} nhưng thiếu bảng alembic_version",
            f"catalog {where} has user_version {version} but no alembic_version table",
        )
    import sqlite3

    for v in range(version + 1, LEGACY_VERSION + 1):
        buf = ""
        for piece in _LEGACY_STEPS[v].split(";"):
            buf += piece + ";"
            if sqlite3.complete_statement(buf):  # a trigger's body keeps its inner semicolons
                if buf.strip(" \n;"):
                    conn.exec_driver_sql(buf)
                buf = ""
        conn.exec_driver_sql(f"PRAGMA user_version = {v}")
    command.stamp(_config(conn), LEGACY_REVISION)
