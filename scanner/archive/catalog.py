"""The catalog: one SQLite database holding dossiers, documents, files, jobs and the search index.

SQLite in WAL mode lets the watcher, a CLI search and a second worker process
use the catalog at once. Writes that must not interleave — issuing the next
dossier number of an agency, filing a dossier — run inside ``BEGIN
IMMEDIATE`` so that two processes never get the same number.

Search folds Vietnamese to its base letters (``đ`` → ``d``, tone marks
removed) in Python before the text reaches FTS5, because SQLite's unicode61
tokenizer removes combining marks but keeps ``đ`` as its own letter, and
clerks type without diacritics. Snippets are cut from the original text, so
what the clerk reads keeps every mark.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scanner.errors import ArchiveError

SCHEMA_VERSION = 2

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


@dataclass(frozen=True)
class DocumentRecord:
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


@dataclass(frozen=True)
class DossierRecord:
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

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
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

    def close(self) -> None:
        self.db.close()

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
                for statement in _MIGRATIONS[v].split(";"):
                    if statement.strip():
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
        """File a dossier, its documents, its files and its search entries at once (idempotent)."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM dossiers WHERE code = ?", (dossier.code,)).fetchone():
                return
            db.execute(
                "INSERT INTO dossiers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    dossier.code,
                    dossier.agency_code,
                    dossier.agency_name,
                    dossier.counter,
                    dossier.procedure_code,
                    dossier.owner_id,
                    dossier.receipt_date,
                    dossier.title,
                    dossier.path,
                    dossier.doc_total,
                    dossier.page_total,
                    dossier.job_id,
                    json.dumps(list(dossier.warnings), ensure_ascii=False),
                    dossier.created,
                ),
            )
            for d in documents:
                db.execute(
                    "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        d.code,
                        d.dossier_code,
                        d.ordinal,
                        d.title,
                        d.path,
                        d.pages,
                        d.sha256,
                        d.size,
                        d.pdfa,
                        d.signer,
                        d.signed_at,
                        d.signature_level,
                        d.ocr_confidence,
                        d.text,
                    ),
                )
                db.execute(
                    "INSERT INTO documents_fts (code, title, body) VALUES (?, ?, ?)",
                    (d.code, fold(d.title), fold(d.text)),
                )
            for path, doc_code, role, sha, size in files:
                db.execute(
                    "INSERT INTO files (path, document_code, dossier_code, role, sha256, size) VALUES (?,?,?,?,?,?)",
                    (path, doc_code, dossier.code, role, sha, size),
                )
            db.execute(
                "INSERT INTO events (time, kind, subject, outcome, detail) VALUES (?, 'ingest', ?, 'ok', ?)",
                (now_iso(), dossier.code, f"{len(documents)} văn bản, {dossier.page_total} trang"),
            )

    def dossier(self, code: str) -> DossierRecord | None:
        row = self.db.execute("SELECT * FROM dossiers WHERE code = ?", (code,)).fetchone()
        if row is None:
            return None
        data = dict(row)
        data["warnings"] = tuple(json.loads(data["warnings"]))
        return DossierRecord(**data)

    def documents(self, dossier_code: str) -> list[DocumentRecord]:
        rows = self.db.execute("SELECT * FROM documents WHERE dossier_code = ? ORDER BY ordinal", (dossier_code,))
        return [DocumentRecord(**dict(r)) for r in rows]

    def document(self, code: str) -> DocumentRecord | None:
        row = self.db.execute("SELECT * FROM documents WHERE code = ?", (code,)).fetchone()
        return DocumentRecord(**dict(row)) if row else None

    def all_documents(self) -> list[DocumentRecord]:
        return [DocumentRecord(**dict(r)) for r in self.db.execute("SELECT * FROM documents ORDER BY code")]

    def files_of(self, dossier_code: str) -> list[tuple[str, str]]:
        """(path relative to the archive root, sha256) of every stored file of a dossier."""
        rows = self.db.execute("SELECT path, sha256 FROM files WHERE dossier_code = ? ORDER BY path", (dossier_code,))
        return [(r["path"], r["sha256"]) for r in rows]

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

    # --- search -----------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 10) -> list[SearchHit]:
        """Documents whose title or text contain every word of QUERY, with or without diacritics.

        Words in double quotes must appear as a phrase. Among the matches,
        documents that contain the query exactly as typed (with its
        diacritics) rank first, then FTS5's bm25 order.
        """
        match = _fts_query(query)
        if not match:
            return []
        rows = self.db.execute(
            "SELECT d.code, d.title, d.path, d.text, d.dossier_code FROM documents_fts f "
            "JOIN documents d ON d.code = f.code WHERE documents_fts MATCH ? ORDER BY bm25(documents_fts) LIMIT ?",
            (match, max(limit * 5, 50)),
        ).fetchall()
        needles = [w.lower() for w in _query_words(query)]

        def exact(row: sqlite3.Row) -> int:
            text = unicodedata.normalize("NFC", f"{row['title']} {row['text']}").lower()
            return -sum(1 for n in needles if n in text)

        ranked = sorted(rows, key=exact)  # stable: bm25 order kept within each group
        return [
            SearchHit(
                code=r["code"],
                title=r["title"],
                path=r["path"],
                snippet=snippet(r["text"], query),
                dossier_code=r["dossier_code"],
            )
            for r in ranked[:limit]
        ]


_WORD = re.compile(r"\w+", re.UNICODE)


def _query_words(query: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", query))


def _fts_query(query: str) -> str:
    """An FTS5 MATCH expression for QUERY: every word required, quoted phrases kept."""
    parts: list[str] = []
    for i, chunk in enumerate(unicodedata.normalize("NFC", query).split('"')):
        words = [fold(w) for w in _WORD.findall(chunk)]
        if not words:
            continue
        if i % 2 == 1:
            parts.append('"' + " ".join(words) + '"')
        else:
            parts.extend(f'"{w}"' for w in words)
    return " ".join(parts)


def snippet(text: str, query: str, width: int = 160) -> str:
    """A piece of TEXT around the first query word, the matched words in [brackets]."""
    words = {fold(w) for w in _query_words(query)}
    flat = " ".join(text.split())
    tokens = list(_WORD.finditer(flat))
    hits = [m for m in tokens if fold(m.group()) in words]
    if not hits:
        return flat[:width]
    start = max(0, hits[0].start() - width // 3)
    end = min(len(flat), start + width)
    out, pos = [], start
    for m in hits:
        if m.start() < start or m.end() > end:
            continue
        out.append(flat[pos : m.start()])
        out.append(f"[{m.group()}]")
        pos = m.end()
    out.append(flat[pos:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(flat) else "")


def _job(row: sqlite3.Row) -> JobRecord:
    data = dict(row)
    data["detail"] = json.loads(data["detail"] or "{}")
    return JobRecord(**data)
