"""The catalog: dossiers, documents, files, jobs, owners and the audit log, in one database.

``Catalog`` is a thin facade over small stores, one per concern, sharing one
connection:

- ``jobs``: jobs, the intake journal, the agencies' daily dossier numbers
- ``records``: dossiers, documents, owners, stored files
- ``custody``: the hash-chained audit log, fixity checks, events
- ``search``: the index outbox, catch-up and search over ``index.py``
- ``accounts``: people, their sessions, the systems calling the REST API
- ``saved``: officers' saved searches

The tables are SQLAlchemy Core ``Table``s in ``schema.py``; their history is
Alembic revisions in ``scanner/archive/migrations``, applied when a catalog
is opened (``migrate.py``, which also upgrades catalogs of the previous,
pre-Alembic release in place). What SQLite spells its own way is kept in
``db.py`` behind a dialect check, so another engine can follow.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import URL, make_url

from scanner.archive.catalog import migrate
from scanner.archive.catalog.accounts import AccountStore
from scanner.archive.catalog.custody import AUDIT_ACTIONS, GENESIS, CustodyStore
from scanner.archive.catalog.db import Database, masked, now_iso
from scanner.archive.catalog.jobs import JobStore
from scanner.archive.catalog.records import EDITABLE, FileRow, RecordStore
from scanner.archive.catalog.rows import (
    AuditEntry,
    DocumentRecord,
    DossierRecord,
    EventEntry,
    FixityEntry,
    IndicatorCount,
    IntakeEntry,
    JobRecord,
    OwnerDocument,
    ResultCount,
    SavedSearch,
    SearchHit,
    StoredFile,
)
from scanner.archive.catalog.saved import SavedSearchStore
from scanner.archive.catalog.search import SearchPage, SearchStore, fold, snippet
from scanner.archive.index import Filters, SearchIndex
from scanner.config import IndexConfig

__all__ = [
    "AUDIT_ACTIONS",
    "EDITABLE",
    "GENESIS",
    "AuditEntry",
    "Catalog",
    "DocumentRecord",
    "DossierRecord",
    "EventEntry",
    "FixityEntry",
    "IndicatorCount",
    "IntakeEntry",
    "JobRecord",
    "OwnerDocument",
    "ResultCount",
    "SavedSearch",
    "SearchHit",
    "SearchPage",
    "StoredFile",
    "fold",
    "now_iso",
    "open_catalog",
    "snippet",
]


def catalog_url(where: Path | str | URL) -> URL:
    """The database URL of WHERE: a URL as given, a path as a SQLite file (never parsed: any name is a name).

    ``postgresql://`` means psycopg 3, the driver installed with the program
    (SQLAlchemy alone would pick psycopg2).
    """
    if isinstance(where, URL) or (isinstance(where, str) and "://" in where):
        url = make_url(where)
        return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url
    return URL.create("sqlite", database=str(where))


def open_catalog(archive: Any, **options: Any) -> Catalog:
    """The catalog an ``ArchiveConfig`` names (its engine, password and index), opened."""
    return Catalog(
        archive.catalog(), index_path=archive.index_path, station=archive.station, index=archive.index, **options
    )


class Catalog:
    """An open catalog: it holds one connection, so each process or thread that files or searches opens its own.

    WHERE is a database URL (``sqlite:///…``, ``postgresql://…``) or the
    path of a SQLite file. STATION names the workstation whose jobs this
    process carries (see ``JobStore``); a workstation's own catalog has one.
    The search index lives beside a SQLite catalog (``<stem>.index``) unless
    INDEX_PATH says otherwise; a catalog on a server has no "beside", so it
    needs INDEX_PATH. INDEX (``[index]``) says whether this process writes
    the index (a ward office) or only the index service does (a province).
    """

    def __init__(
        self,
        where: Path | str | URL,
        *,
        index_path: Path | None = None,
        catch_up: bool = True,
        station: str = "",
        index: IndexConfig | None = None,
    ) -> None:
        url = catalog_url(where)
        self.path = Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if index_path is None:
            if self.path is None:
                raise ValueError("index_path is required for a catalog that is not a SQLite file")
            index_path = self.path.with_name(self.path.stem + ".index")
        self.index_path = index_path
        self.label = str(self.path) if self.path is not None else masked(url)  # never with a password
        self._db = Database(url)
        try:
            migrate.upgrade(self._db, str(self.path or masked(url)))
        except BaseException:
            self._db.close()
            raise
        self.custody_store = CustodyStore(self._db)
        self.job_store = JobStore(self._db, station)
        self.record_store = RecordStore(self._db, self.custody_store)
        self.search_store = SearchStore(self._db, self.custody_store, index_path, index)
        self.account_store = AccountStore(self._db, self.custody_store)  # people, sessions, API clients
        self.saved_searches = SavedSearchStore(self._db)
        if catch_up and self.search_store.has_unindexed():
            self.search_store.catch_up()

    def close(self) -> None:
        self.search_store.close()
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db(self) -> Any:
        """The raw DB-API connection, for tests and benchmarks that work behind the program's back."""
        return self._db.conn.connection.dbapi_connection

    # --- jobs, intake journal, dossier numbers -----------------------------------------------------

    def create_job(self, job_id: str, counter: str, detail: dict[str, Any], state: str = "received") -> None:
        self.job_store.create_job(job_id, counter, detail, state)

    def update_job_detail(self, job_id: str, **values: Any) -> None:
        self.job_store.update_job_detail(job_id, **values)

    def count_attempt(self, job_id: str) -> int:
        return self.job_store.count_attempt(job_id)

    def open_job(self, counter: str) -> JobRecord | None:
        return self.job_store.open_job(counter)

    def idle_open_jobs(self, older_than: str) -> list[JobRecord]:
        return self.job_store.idle_open_jobs(older_than)

    def set_job_state(self, job_id: str, state: str, *, error: str | None = None) -> None:
        self.job_store.set_job_state(job_id, state, error=error)

    def job(self, job_id: str) -> JobRecord | None:
        return self.job_store.job(job_id)

    def job_of_dossier(self, dossier_code: str) -> JobRecord | None:
        """The job that was issued (or claimed) DOSSIER_CODE."""
        return self.job_store.job_of_dossier(dossier_code)

    def jobs(
        self,
        *,
        states: Sequence[str] | None = None,
        counter: str | None = None,
        limit: int = 1000,
        every_station: bool = False,
    ) -> list[JobRecord]:
        return self.job_store.jobs(states=states, counter=counter, limit=limit, every_station=every_station)

    def claim_job(self, job_id: str, worker: str) -> AbstractContextManager[bool]:
        return self.job_store.claim(job_id, worker)

    def intake_begin(
        self,
        sha256: str,
        job_id: str,
        counter: str,
        original_name: str,
        origin: str,
        stored_as: str,
        *,
        while_open: bool = False,
    ) -> int | None:
        return self.job_store.intake_begin(
            sha256, job_id, counter, original_name, origin, stored_as, while_open=while_open
        )

    def taking_into(self, job_id: str) -> bool:
        return self.job_store.taking_into(job_id)

    def intake_done(self, intake_id: int) -> None:
        self.job_store.intake_done(intake_id)

    def intake_drop(self, intake_id: int) -> None:
        self.job_store.intake_drop(intake_id)

    def intakes_in_progress(self) -> list[IntakeEntry]:
        return self.job_store.intakes_in_progress()

    def find_intake(self, sha256: str) -> tuple[str, str | None] | None:
        return self.job_store.find_intake(sha256)

    def claim_dossier_code(self, job_id: str, code: str, day: date) -> bool:
        return self.job_store.claim_dossier_code(job_id, code, day)

    def issue_dossier_code(self, job_id: str, agency_code: str, day: date, fmt: Any) -> str:
        return self.job_store.issue_dossier_code(job_id, agency_code, day, fmt)

    # --- records -------------------------------------------------------------------------------

    def record_dossier(
        self,
        dossier: DossierRecord,
        documents: Sequence[DocumentRecord],
        files: Sequence[FileRow],
        *,
        actor: str,
    ) -> None:
        """File a dossier, its documents, owners and files at once (idempotent), then index the documents.

        The catalog transaction commits first; the index follows. If the
        process dies in between, the documents are still in the outbox and
        the next catalog opened catches up.
        """
        if self.record_store.record_dossier(dossier, documents, files, actor=actor):
            self.search_store.catch_up()

    def dossier(self, code: str) -> DossierRecord | None:
        return self.record_store.dossier(code)

    def documents(self, dossier_code: str) -> list[DocumentRecord]:
        return self.record_store.documents(dossier_code)

    def document(self, code: str) -> DocumentRecord | None:
        return self.record_store.document(code)

    def all_documents(self) -> list[DocumentRecord]:
        return self.record_store.all_documents()

    def result_counts(self, *, since: str, until: str, agency: str | None, today: str) -> list[ResultCount]:
        return self.record_store.result_counts(since=since, until=until, agency=agency, today=today)

    def edit_dossier(self, code: str, changes: dict[str, str], *, actor: str) -> dict[str, tuple[str, str]] | None:
        """Edit a dossier's retention, access level or description (audited); the index follows a new access level."""
        diff = self.record_store.edit_dossier(code, changes, actor=actor)
        if diff and "access" in diff:
            self.search_store.catch_up()
        return diff

    def record_reuse(self, agency: str, procedure: str, dossier_code: str, document_code: str, *, actor: str) -> bool:
        return self.record_store.record_reuse(agency, procedure, dossier_code, document_code, actor=actor)

    def indicator_counts(self, *, since: str, until: str, agency: str | None) -> list[IndicatorCount]:
        return self.record_store.indicator_counts(since=since, until=until, agency=agency)

    def files_of(self, dossier_code: str) -> list[tuple[str, str]]:
        return self.record_store.files_of(dossier_code)

    def stored_files(self, dossier_codes: Sequence[str] | None = None) -> list[StoredFile]:
        return self.record_store.stored_files(dossier_codes)

    def owner_documents(self, owner_id: str, *, on: date | None = None) -> list[OwnerDocument]:
        return self.record_store.owner_documents(owner_id, on=on)

    # --- custody -------------------------------------------------------------------------------

    def record_event(self, kind: str, subject: str, outcome: str, detail: str = "") -> None:
        self.custody_store.record_event(kind, subject, outcome, detail)

    def recent_events(self, kind: str, *, prefix: str = "", limit: int = 50) -> list[EventEntry]:
        return self.custody_store.recent_events(kind, prefix=prefix, limit=limit)

    def record_fixity(
        self,
        path: str,
        document_code: str | None,
        expected: str,
        actual: str | None,
        signature: str,
        outcome: str,
        detail: str = "",
        *,
        actor: str,
    ) -> None:
        self.custody_store.record_fixity(path, document_code, expected, actual, signature, outcome, detail, actor=actor)

    def fixity_history(self, path: str) -> list[FixityEntry]:
        return self.custody_store.fixity_history(path)

    def audit(self, action: str, subject: str, detail: str = "", *, actor: str) -> None:
        self.custody_store.audit(action, subject, detail, actor=actor)

    def audit_entries(self, *, limit: int | None = None) -> list[AuditEntry]:
        return self.custody_store.audit_entries(limit=limit)

    def audit_entries_about(self, subjects: list[str], *, limit: int = 500) -> list[AuditEntry]:
        return self.custody_store.audit_about(subjects, limit=limit)

    def verify_audit(self) -> list[str]:
        return self.custody_store.verify_audit()

    # --- search --------------------------------------------------------------------------------

    @property
    def index(self) -> SearchIndex:
        return self.search_store.index

    def catch_up(self) -> int:
        return self.search_store.catch_up()

    def reindex(self, *, actor: str, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the search index beside the live one (resumable, bounded memory); returns the documents indexed."""
        return self.search_store.reindex(actor=actor, progress=progress)

    def serve_index(self, stop: threading.Event, *, actor: str, on_batch: Callable[[int], None] | None = None) -> None:
        """Be the index service (``scanner indexer``) until STOP is set: the one writer of the index."""
        self.search_store.indexer.serve(stop, actor=actor, on_batch=on_batch)

    def unsearchable(self) -> int:
        """Documents filed recently that a search cannot find yet (too many waiting for the index to scan)."""
        return self.search_store.unsearchable()

    def search(self, query: str, *, limit: int = 10, filters: Filters | None = None) -> list[SearchHit]:
        return self.search_store.search(query, limit=limit, filters=filters)

    def search_page(
        self,
        query: str,
        filters: Filters,
        *,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 20,
        snippets: Callable[[SearchHit], bool] | None = None,
    ) -> SearchPage:
        return self.search_store.page(query, filters, sort=sort, offset=offset, limit=limit, snippets=snippets)
