"""The catalog: one SQLite database holding dossiers, documents, files, jobs, owners and the audit log.

SQLite in WAL mode lets the watcher, a CLI search and a second worker process
use the catalog at once. Writes that must not interleave — issuing the next
dossier number of an agency, filing a dossier — run inside ``BEGIN
IMMEDIATE`` so that two processes never get the same number.

The catalog is the source of truth; the full-text index beside it
(``index.py``) is derived. Filing a document also puts its code in
``index_outbox``, in the same transaction; the code leaves the outbox only
after the index has committed the document. Whatever a crash left unindexed
is sent again when a catalog is next opened, and a search also scans those
few pending documents directly, so a stored document is never unfindable.
(The outbox is its own small table: marking rows of ``documents`` would
rewrite every page of text on each rebuild.)

The audit log is a hash chain: each entry stores the SHA-256 of the previous
entry and of itself, and triggers refuse UPDATE and DELETE, so an edit made
behind the program's back (or a removed entry) breaks the chain and
``scanner audit verify`` names where.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scanner.archive.index import EXACT_BONUS, Filters, IndexBusy, IndexEntry, QueryPart, SearchIndex, parse_query
from scanner.archive.snippets import snippet
from scanner.errors import ArchiveError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
GENESIS = "0" * 64

_MIGRATIONS: dict[int, str] = {
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
    # Nghị định 30/2020 Phụ lục VI metadata, owners, validity, the index outbox, fixity and audit.
    # The FTS5 table goes: the tantivy index beside the catalog replaces it (README, "Search").
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
    # The index outbox replaces documents.indexed_at (kept, unused: dropping it would rewrite the table).
    4: """
    CREATE TABLE index_outbox (id INTEGER PRIMARY KEY, code TEXT NOT NULL);
    INSERT INTO index_outbox (code) SELECT code FROM documents WHERE indexed_at IS NULL;
    DROP INDEX documents_unindexed;
    """,
}

AUDIT_ACTIONS = {
    "ingest": "lưu trữ",
    "view": "xem",
    "download": "tải về",
    "verify": "kiểm tra toàn vẹn",
    "export": "xuất gói",
    "delete-request": "đề nghị hủy",
    "reindex": "dựng lại chỉ mục",
}


def fold(text: str) -> str:
    """Vietnamese text without tone marks or diacritics, lower case: what a clerk may type."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class SearchHit:
    code: str
    title: str
    path: str
    snippet: str
    dossier_code: str
    type_name: str = ""
    issued_date: str | None = None
    score: float = 0.0


@dataclass(frozen=True)
class DocumentRecord:
    """A document (văn bản) of a dossier with the metadata of Nghị định 30/2020 Phụ lục VI.

    ``code_number`` and ``code_notation`` are the document's own number
    (``796``) and notation (``KH-STP``) read from the page; ``code`` is
    the archive's document code (``<dossier>.<NN>`` or ``<dossier>-KQ<n>``).
    ``kind`` is ``paper`` (handed in) or ``result`` (kết quả giải quyết);
    ``valid_until`` None means valid indefinitely. ``fields`` keeps every
    extracted value with its confidence; ``review`` names those a clerk
    should confirm.
    """

    code: str
    dossier_code: str
    ordinal: int
    title: str
    path: str
    pages: int
    sha256: str
    size: int
    pdfa: str
    signer: str
    signed_at: str | None
    signature_level: str
    ocr_confidence: float | None
    text: str
    type_name: str = ""
    type_abbr: str = ""
    code_number: str = ""
    code_notation: str = ""
    issued_date: str | None = None
    organ_name: str = ""
    subject: str = ""
    language: str = "vi"
    description: str = ""
    signer_position: str = ""
    signer_name: str = ""
    mode: str = "số hóa"
    kind: str = "paper"
    valid_from: str | None = None
    valid_until: str | None = None
    holder_name: str = ""
    holder_id: str = ""
    identifiers: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    review: tuple[str, ...] = ()


@dataclass(frozen=True)
class DossierRecord:
    """A dossier (hồ sơ); FileCode of Phụ lục VI = agency code + ``file_catalog`` (year) + ``file_notation``."""

    code: str
    agency_code: str
    agency_name: str
    counter: str
    procedure_code: str
    owner_id: str
    receipt_date: str
    title: str
    path: str
    doc_total: int
    page_total: int
    job_id: str
    warnings: tuple[str, ...]
    created: str
    file_catalog: int | None = None
    file_notation: str = ""
    retention: str = ""
    access: str = "công khai"
    creator: str = ""
    language: str = "vi"
    start_date: str | None = None
    end_date: str | None = None
    description: str = ""


_JSON_TUPLES = ("warnings", "identifiers", "review")


def _record(cls: Any, row: sqlite3.Row) -> Any:
    """A dataclass of CLS from a row, decoding the JSON columns; columns CLS does not know are ignored."""
    data = dict(row)
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in _JSON_TUPLES:
            value = tuple(json.loads(value or "[]"))
        elif f.name == "fields":
            value = json.loads(value or "{}")
        out[f.name] = value
    return cls(**out)


def _row_values(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, tuple | dict):
            value = json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
        out[f.name] = value
    return out


@dataclass(frozen=True)
class JobRecord:
    id: str
    counter: str
    state: str
    created: str
    updated: str
    dossier_code: str | None
    receipt_date: str | None
    error: str | None
    detail: dict[str, Any]
    last_input: str | None = None
    attempts: int = 0


class Catalog:
    """A connection to the catalog; open one per process (SQLite connections are not shared)."""

    def __init__(self, path: Path, *, index_path: Path | None = None, catch_up: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.index_path = index_path or path.with_name(path.stem + ".index")
        self._index: SearchIndex | None = None
        try:
            self.db = sqlite3.connect(path, timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise ArchiveError(f"không mở được danh mục {path}: {exc}", f"cannot open catalog {path}: {exc}") from None
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=60000")
        self._migrate()
        if catch_up and self._has_unindexed():
            self.catch_up()

    def close(self) -> None:
        self.db.close()
        self._index = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An IMMEDIATE transaction: the write lock is taken at once, so reads inside it are current."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ArchiveError(
                    f"danh mục {self.path} thuộc phiên bản mới hơn ({version}) của phần mềm",
                    f"catalog {self.path} has a newer schema ({version}) than this program ({SCHEMA_VERSION})",
                )
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _statements(_MIGRATIONS[v]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {v}")

    # --- jobs -------------------------------------------------------------------------------

    def create_job(self, job_id: str, counter: str, detail: dict[str, Any], state: str = "received") -> None:
        t = now_iso()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO jobs (id, counter, state, created, updated, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, counter, state, t, t, json.dumps(detail, ensure_ascii=False)),
            )

    def update_job_detail(self, job_id: str, **values: Any) -> None:
        with self.transaction() as db:
            row = db.execute("SELECT detail FROM jobs WHERE id = ?", (job_id,)).fetchone()
            detail = json.loads(row["detail"] or "{}")
            detail.update(values)
            db.execute(
                "UPDATE jobs SET detail = ?, updated = ? WHERE id = ?",
                (json.dumps(detail, ensure_ascii=False), now_iso(), job_id),
            )

    def count_attempt(self, job_id: str) -> int:
        with self.transaction() as db:
            db.execute("UPDATE jobs SET attempts = attempts + 1 WHERE id = ?", (job_id,))
            return int(db.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])

    def open_job(self, counter: str) -> JobRecord | None:
        """The counter's dossier still collecting files, if any."""
        row = self.db.execute(
            "SELECT * FROM jobs WHERE counter = ? AND state = 'collecting' ORDER BY created DESC LIMIT 1", (counter,)
        ).fetchone()
        return _job(row) if row else None

    def idle_open_jobs(self, older_than: str) -> list[JobRecord]:
        rows = self.db.execute(
            "SELECT * FROM jobs WHERE state = 'collecting' AND COALESCE(last_input, created) <= ?", (older_than,)
        )
        return [_job(r) for r in rows]

    # --- intake journal ---------------------------------------------------------------------

    def intake_begin(
        self, sha256: str, job_id: str, counter: str, original_name: str, origin: str, stored_as: str
    ) -> int:
        """Note, before the file moves, where it is going: recovery finishes or undoes the move."""
        t = now_iso()
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO intake (sha256, job_id, counter, original_name, origin, stored_as, state, time) "
                "VALUES (?, ?, ?, ?, ?, ?, 'taking', ?)",
                (sha256, job_id, counter, original_name, origin, stored_as, t),
            )
            db.execute("UPDATE jobs SET last_input = ?, updated = ? WHERE id = ?", (t, t, job_id))
            return int(cur.lastrowid or 0)

    def intake_done(self, intake_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE intake SET state = 'taken' WHERE id = ?", (intake_id,))

    def intake_drop(self, intake_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM intake WHERE id = ?", (intake_id,))

    def intakes_in_progress(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM intake WHERE state = 'taking' ORDER BY id")]

    def find_intake(self, sha256: str) -> tuple[str, str | None] | None:
        """(job id, dossier code) of live work that already took this content, if any."""
        row = self.db.execute(
            "SELECT i.job_id, j.dossier_code FROM intake i JOIN jobs j ON j.id = i.job_id "
            "WHERE i.sha256 = ? AND i.state = 'taken' AND j.state NOT IN ('failed', 'abandoned') "
            "ORDER BY i.id LIMIT 1",
            (sha256,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def set_job_state(self, job_id: str, state: str, *, error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, updated = ?, error = ? WHERE id = ?", (state, now_iso(), error, job_id)
            )

    def job(self, job_id: str) -> JobRecord | None:
        row = self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def jobs(
        self, *, states: Sequence[str] | None = None, counter: str | None = None, limit: int = 1000
    ) -> list[JobRecord]:
        sql, args = "SELECT * FROM jobs WHERE 1=1", list[str]()
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args.extend(states)
        if counter:
            sql += " AND counter = ?"
            args.append(counter)
        sql += " ORDER BY created DESC, id DESC LIMIT ?"
        args.append(str(limit))
        return [_job(r) for r in self.db.execute(sql, args)]

    def claim_dossier_code(self, job_id: str, code: str, day: date) -> bool:
        """Give the job a code read from a receipt; False if another job or dossier already has it."""
        with self.transaction() as db:
            row = db.execute("SELECT dossier_code FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row["dossier_code"]:
                return bool(row["dossier_code"] == code)
            taken = db.execute(
                "SELECT 1 FROM jobs WHERE dossier_code = ? UNION SELECT 1 FROM dossiers WHERE code = ?", (code, code)
            ).fetchone()
            if taken:
                return False
            db.execute(
                "UPDATE jobs SET dossier_code = ?, receipt_date = ?, updated = ? WHERE id = ?",
                (code, day.isoformat(), now_iso(), job_id),
            )
            return True

    def issue_dossier_code(self, job_id: str, agency_code: str, day: date, fmt: Any) -> str:
        """Issue (once) and record the job's dossier code; FMT formats (agency, day, number).

        Asking again for the same job returns the code already issued, so a
        job resumed after a crash keeps its code; the agency's daily counter
        and the job row change in one transaction, so a crash can neither
        skip nor repeat a number, and two processes never share one.
        """
        with self.transaction() as db:
            row = db.execute("SELECT dossier_code FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise ArchiveError(f"không có công việc {job_id}", f"no job {job_id}")
            if row["dossier_code"]:
                return str(row["dossier_code"])
            got = db.execute(
                "INSERT INTO daily_numbers (agency_code, day, last) VALUES (?, ?, 1) "
                "ON CONFLICT (agency_code, day) DO UPDATE SET last = last + 1 RETURNING last",
                (agency_code, day.isoformat()),
            ).fetchone()
            code = str(fmt(agency_code, day, int(got[0])))
            db.execute(
                "UPDATE jobs SET dossier_code = ?, receipt_date = ?, updated = ? WHERE id = ?",
                (code, day.isoformat(), now_iso(), job_id),
            )
            return code

    # --- archive records --------------------------------------------------------------------

    def record_dossier(
        self,
        dossier: DossierRecord,
        documents: Sequence[DocumentRecord],
        files: Sequence[tuple[str, str | None, str, str, int]],
    ) -> None:
        """File a dossier, its documents, owners and files at once (idempotent), then index the documents.

        The catalog transaction commits first; the index follows. If the
        process dies in between, the documents are still in the outbox and
        the next catalog opened catches up.
        """
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM dossiers WHERE code = ?", (dossier.code,)).fetchone():
                return
            issued = sorted(d.issued_date for d in documents if d.issued_date)
            values = _row_values(dossier)
            values["file_catalog"] = dossier.file_catalog or int(dossier.receipt_date[:4])
            values["file_notation"] = dossier.file_notation or dossier.code
            values["creator"] = dossier.creator or dossier.agency_name
            values["start_date"] = dossier.start_date or (issued[0] if issued else dossier.receipt_date)
            values["end_date"] = dossier.end_date or (issued[-1] if issued else dossier.receipt_date)
            _insert(db, "dossiers", values)
            if dossier.owner_id:
                _owner(db, dossier.owner_id, dossier.code, "", "applicant")
            for d in documents:
                _insert(db, "documents", _row_values(d))
                db.execute("INSERT INTO index_outbox (code) VALUES (?)", (d.code,))
                if d.holder_id:
                    _owner(db, d.holder_id, dossier.code, d.code, "holder")
                for ident in d.identifiers:
                    if ident != d.holder_id:
                        _owner(db, ident, dossier.code, d.code, "named")
            for path, doc_code, role, sha, size in files:
                db.execute(
                    "INSERT INTO files (path, document_code, dossier_code, role, sha256, size) VALUES (?,?,?,?,?,?)",
                    (path, doc_code, dossier.code, role, sha, size),
                )
            detail = f"{len(documents)} văn bản, {dossier.page_total} trang"
            db.execute(
                "INSERT INTO events (time, kind, subject, outcome, detail) VALUES (?, 'ingest', ?, 'ok', ?)",
                (now_iso(), dossier.code, detail),
            )
            _append_audit(db, "ingest", dossier.code, detail)
        self.catch_up()

    def dossier(self, code: str) -> DossierRecord | None:
        row = self.db.execute("SELECT * FROM dossiers WHERE code = ?", (code,)).fetchone()
        return _record(DossierRecord, row) if row else None

    def documents(self, dossier_code: str) -> list[DocumentRecord]:
        rows = self.db.execute("SELECT * FROM documents WHERE dossier_code = ? ORDER BY ordinal", (dossier_code,))
        return [_record(DocumentRecord, r) for r in rows]

    def document(self, code: str) -> DocumentRecord | None:
        row = self.db.execute("SELECT * FROM documents WHERE code = ?", (code,)).fetchone()
        return _record(DocumentRecord, row) if row else None

    def all_documents(self) -> list[DocumentRecord]:
        return [_record(DocumentRecord, r) for r in self.db.execute("SELECT * FROM documents ORDER BY code")]

    def result_counts(self, *, since: str, until: str, agency: str | None, today: str) -> list[dict[str, Any]]:
        """Digitized results per agency, procedure and month of digitization, backfilled apart from new.

        ``still_valid`` counts those with no expiry or an expiry on or after
        TODAY: the figure the plans' digitization rate is made of.
        """
        sql = (
            "SELECT s.agency_code AS agency, s.procedure_code AS procedure, substr(s.created, 1, 7) AS month, "
            "json_extract(j.detail, '$.backfill') IS NOT NULL AS backfilled, COUNT(*) AS results, "
            "SUM(d.valid_until IS NULL OR d.valid_until = '' OR d.valid_until >= ?) AS still_valid, "
            "SUM(d.pages) AS pages "
            "FROM documents d JOIN dossiers s ON s.code = d.dossier_code LEFT JOIN jobs j ON j.id = s.job_id "
            "WHERE d.kind = 'result' AND substr(s.created, 1, 10) BETWEEN ? AND ?"
        )
        args: list[str] = [today, since, until]
        if agency:
            sql += " AND s.agency_code = ?"
            args.append(agency)
        sql += " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        return [dict(r) for r in self.db.execute(sql, args)]

    def files_of(self, dossier_code: str) -> list[tuple[str, str]]:
        """(path relative to the archive root, sha256) of every stored file of a dossier."""
        rows = self.db.execute("SELECT path, sha256 FROM files WHERE dossier_code = ? ORDER BY path", (dossier_code,))
        return [(r["path"], r["sha256"]) for r in rows]

    def stored_files(self, dossier_codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Every stored file (path, document_code, dossier_code, role, sha256, size), or those of DOSSIER_CODES."""
        if dossier_codes is None:
            rows = self.db.execute("SELECT * FROM files ORDER BY path")
        else:
            marks = ",".join("?" * len(dossier_codes))
            rows = self.db.execute(f"SELECT * FROM files WHERE dossier_code IN ({marks}) ORDER BY path", dossier_codes)
        return [dict(r) for r in rows]

    def record_event(self, kind: str, subject: str, outcome: str, detail: str = "") -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (time, kind, subject, outcome, detail) VALUES (?, ?, ?, ?, ?)",
                (now_iso(), kind, subject, outcome, detail),
            )

    def recent_events(self, kind: str, *, prefix: str = "", limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT time, subject, outcome, detail FROM events WHERE kind = ? AND subject LIKE ? "
            "ORDER BY id DESC LIMIT ?",
            (kind, prefix.replace("%", "") + "%", limit),
        )
        return [dict(r) for r in rows]

    # --- reuse: an owner's papers -----------------------------------------------------------

    def owner_documents(self, owner_id: str, *, on: date | None = None) -> list[dict[str, Any]]:
        """The owner's documents still valid ON (today), newest first: what a counter checks before asking again."""
        day = (on or date.today()).isoformat()
        rows = self.db.execute(
            "SELECT d.code, d.dossier_code, d.title, d.type_name, d.kind, d.code_number, d.code_notation, "
            "d.issued_date, d.valid_from, d.valid_until, d.path, d.holder_name, s.agency_name, s.procedure_code, "
            "s.receipt_date, GROUP_CONCAT(DISTINCT o.role) AS roles "
            "FROM owners o JOIN dossiers s ON s.code = o.dossier_code "
            "JOIN documents d ON d.dossier_code = o.dossier_code "
            "AND (o.document_code = '' OR d.code = o.document_code) "
            "WHERE o.owner_id = ? AND (d.valid_until IS NULL OR d.valid_until >= ?) "
            "AND COALESCE(d.valid_from, d.issued_date, s.receipt_date) <= ? "
            "GROUP BY d.code ORDER BY COALESCE(d.issued_date, s.receipt_date) DESC, d.code DESC",
            (owner_id, day, day),
        )
        return [dict(r) for r in rows]

    # --- fixity -----------------------------------------------------------------------------

    def record_fixity(
        self,
        path: str,
        document_code: str | None,
        expected: str,
        actual: str | None,
        signature: str,
        outcome: str,
        detail: str = "",
    ) -> None:
        """One fixity check of one stored file (PREMIS "fixity check" event), also written to the audit log."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO fixity (time, path, document_code, expected, actual, signature, outcome, detail) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (now_iso(), path, document_code, expected, actual, signature, outcome, detail),
            )
            _append_audit(db, "verify", path, f"{outcome}{': ' + detail if detail else ''}")

    def fixity_history(self, path: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM fixity WHERE path = ? ORDER BY id", (path,))]

    # --- audit log --------------------------------------------------------------------------

    def audit(self, action: str, subject: str, detail: str = "") -> None:
        """Append an entry (view, download, export, deletion request…) to the tamper-evident log."""
        with self.transaction() as db:
            _append_audit(db, action, subject, detail)

    def audit_entries(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM audit ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        return [dict(r) for r in self.db.execute(sql)]

    def verify_audit(self) -> list[str]:
        """Problems of the audit chain, in Vietnamese; empty when every entry is as written.

        An edited entry no longer hashes to its stored hash (or the next
        entry's ``prev`` no longer matches); a removed entry leaves a gap in
        the ids or, for the last one, an id counter ahead of the last row.
        """
        problems: list[str] = []
        prev, expected_id = GENESIS, 1
        for row in self.db.execute("SELECT * FROM audit ORDER BY id"):
            if row["id"] != expected_id:
                problems.append(f"mục {expected_id}–{row['id'] - 1} của nhật ký đã bị xóa")
            if row["prev"] != prev:
                problems.append(f"mục {row['id']}: không nối với mục trước (chuỗi băm bị cắt)")
            values = [row[k] for k in ("id", "time", "action", "subject", "actor", "detail", "prev")]
            if _audit_hash(*values) != row["hash"]:
                problems.append(f"mục {row['id']}: nội dung đã bị sửa (mã băm không khớp)")
            prev, expected_id = row["hash"], row["id"] + 1
        seq = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        if seq is not None and int(seq[0]) >= expected_id:
            problems.append(f"mục {expected_id}–{seq[0]} ở cuối nhật ký đã bị xóa")
        return problems

    # --- search -----------------------------------------------------------------------------

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.index_path)
            if self._index.created:
                # A new (or discarded) index knows nothing: every document is pending again.
                with self.transaction() as db:
                    db.execute("DELETE FROM index_outbox")
                    db.execute("INSERT INTO index_outbox (code) SELECT code FROM documents")
        return self._index

    def _has_unindexed(self) -> bool:
        return self.db.execute("SELECT 1 FROM index_outbox LIMIT 1").fetchone() is not None

    def _entries(self, where: str, args: Sequence[Any] = ()) -> Iterator[IndexEntry]:
        cur = self.db.execute(
            "SELECT d.rowid AS key, d.code, d.title, d.text, d.type_name, d.type_abbr, d.kind, d.issued_date, "
            "d.valid_until, "
            "d.holder_id, d.identifiers, s.agency_code, s.procedure_code, s.owner_id, s.receipt_date "
            f"FROM documents d JOIN dossiers s ON s.code = d.dossier_code WHERE {where}",
            args,
        )
        for r in cur:
            owners = (r["owner_id"], r["holder_id"], *json.loads(r["identifiers"] or "[]"))
            yield IndexEntry(
                code=r["code"],
                key=r["key"],
                text=f"{r['title']}\n{r['text']}",
                agency=r["agency_code"],
                procedure=r["procedure_code"],
                types=(r["type_name"], r["type_abbr"]),
                owners=tuple(o for o in dict.fromkeys(owners) if o),
                kind=r["kind"],
                issued=r["issued_date"] or r["receipt_date"],
                valid_until=r["valid_until"],
            )

    def catch_up(self) -> int:
        """Index the documents the index does not have yet; 0 if another process holds the index."""
        try:
            index = self.index
            top, pending = self.db.execute("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM index_outbox").fetchone()
            where = "d.code IN (SELECT code FROM index_outbox WHERE id <= ?)"
            n = index.put(self._entries(where, (top,)), bulk=pending > 1000)
        except IndexBusy as exc:
            log.info("%s", exc.message_vi)
            return 0
        except (ArchiveError, ValueError, OSError) as exc:
            # the catalog is the source of truth: a failing index never fails a filing; the documents
            # stay pending and the next catch-up (or `scanner reindex`) indexes them
            log.warning("chỉ mục tìm kiếm chưa cập nhật được, sẽ thử lại sau: %s", exc)
            self._index = None
            return 0
        with self.transaction() as db:
            db.execute("DELETE FROM index_outbox WHERE id <= ?", (top,))
        return n

    def reindex(self) -> int:
        """Rebuild the index from the catalog; returns the number of documents indexed."""
        index = self.index
        with self.transaction() as db:  # everything pending first: a crash mid-rebuild hides nothing
            db.execute("DELETE FROM index_outbox")
            db.execute("INSERT INTO index_outbox (code) SELECT code FROM documents")
            top = db.execute("SELECT COALESCE(MAX(id), 0) FROM index_outbox").fetchone()[0]
        index.clear()
        n = index.put(
            self._entries("d.code IN (SELECT code FROM index_outbox WHERE id <= ?)", (top,)), replace=False, bulk=True
        )
        with self.transaction() as db:
            db.execute("DELETE FROM index_outbox WHERE id <= ?", (top,))
            _append_audit(db, "reindex", str(self.index_path), f"{n} văn bản")
        return n

    def search(self, query: str, *, limit: int = 10, filters: Filters | None = None) -> list[SearchHit]:
        """Documents containing every word of QUERY, with or without diacritics, best first.

        Words in double quotes must appear as a phrase. Documents that
        contain the query exactly as typed (with its diacritics) rank first.
        Documents filed but not yet in the index are scanned directly, so a
        search never misses a stored document.
        """
        parts = parse_query(unicodedata.normalize("NFC", query))
        filters = filters or Filters()
        if not parts and filters.empty:
            return []
        if self._has_unindexed():
            self.catch_up()
        try:
            found = self.index.search(parts, filters, limit=limit)
        except IndexBusy:
            found = []
        found += self._scan_unindexed(parts, filters)
        found.sort(key=lambda h: -h[1])
        codes = list(dict.fromkeys(c for c, _ in found))[:limit]
        scores = dict(found)
        if not codes:
            return []
        rows = {
            r["code"]: r
            for r in self.db.execute(
                f"SELECT code, title, path, text, dossier_code, type_name, issued_date FROM documents "
                f"WHERE code IN ({','.join('?' * len(codes))})",
                codes,
            )
        }
        return [
            SearchHit(
                code=c,
                title=rows[c]["title"],
                path=rows[c]["path"],
                snippet=snippet(rows[c]["text"], query),
                dossier_code=rows[c]["dossier_code"],
                type_name=rows[c]["type_name"],
                issued_date=rows[c]["issued_date"],
                score=round(scores[c], 3),
            )
            for c in codes
            if c in rows
        ]

    def _scan_unindexed(self, parts: Sequence[QueryPart], filters: Filters) -> list[tuple[str, float]]:
        """Match the few documents not yet indexed in Python, by the same rules as the index."""
        out: list[tuple[str, float]] = []
        if not self._has_unindexed():
            return out
        for e in self._entries("d.code IN (SELECT code FROM index_outbox)"):
            if not _entry_passes(e, filters):
                continue
            folded = " " + " ".join(_WORD.findall(fold(e.text))) + " "
            exact = " " + " ".join(_WORD.findall(e.text.lower())) + " "
            if not all(f" {' '.join(_WORD.findall(fold(' '.join(p.words))))} " in folded for p in parts):
                continue
            plain = [" ".join(_WORD.findall(" ".join(p.words).lower())) for p in parts]
            bonus = EXACT_BONUS if all(f" {w} " in exact for w in plain) else 0.0
            out.append((e.code, bonus + 0.5))
        return out


def _entry_passes(e: IndexEntry, f: Filters) -> bool:
    from scanner.archive.index import day_number, fold_keyword

    checks = [
        (f.agency, lambda v: fold_keyword(v) == fold_keyword(e.agency)),
        (f.procedure, lambda v: fold_keyword(v) == fold_keyword(e.procedure)),
        (f.doc_type, lambda v: fold_keyword(v) in {fold_keyword(t) for t in e.types}),
        (f.owner, lambda v: fold_keyword(v) in {fold_keyword(o) for o in e.owners}),
        (f.date_from, lambda v: day_number(e.issued) >= day_number(v)),
        (f.date_to, lambda v: day_number(e.issued) <= day_number(v)),
        (f.valid_on, lambda v: day_number(e.valid_until, 99991231) >= day_number(v)),
    ]
    return all(value is None or value == "" or test(value) for value, test in checks)


def _statements(script: str) -> Iterable[str]:
    """The statements of a migration script; a trigger's body keeps its inner semicolons."""
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                yield buf
            buf = ""


def _insert(db: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    cols = ", ".join(values)
    db.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))


def _owner(db: sqlite3.Connection, owner_id: str, dossier_code: str, document_code: str, role: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO owners (owner_id, dossier_code, document_code, role) VALUES (?, ?, ?, ?)",
        (owner_id, dossier_code, document_code, role),
    )


def _audit_hash(*values: Any) -> str:
    return hashlib.sha256(json.dumps(list(values), ensure_ascii=False).encode("utf-8")).hexdigest()


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def _append_audit(db: sqlite3.Connection, action: str, subject: str, detail: str) -> None:
    """Append one chained entry; the caller's IMMEDIATE transaction keeps two writers from sharing a ``prev``."""
    last = db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    entry_id = (int(seq[0]) if seq else 0) + 1
    prev = last[0] if last else GENESIS
    t, actor = now_iso(), _actor()
    h = _audit_hash(entry_id, t, action, subject, actor, detail, prev)
    db.execute(
        "INSERT INTO audit (id, time, action, subject, actor, detail, prev, hash) VALUES (?,?,?,?,?,?,?,?)",
        (entry_id, t, action, subject, actor, detail, prev, h),
    )


_WORD = re.compile(r"\w+", re.UNICODE)


def _job(row: sqlite3.Row) -> JobRecord:
    data = dict(row)
    data["detail"] = json.loads(data["detail"] or "{}")
    return JobRecord(**data)
