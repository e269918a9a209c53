"""Search bookkeeping: the index outbox, catching the index up with the catalog, and search itself.

The catalog is the source of truth; the full-text index beside it
(``scanner/archive/index.py``) is derived. Filing a document also puts its
code in ``index_outbox``, in the same transaction; the code leaves the outbox
only after the index has committed the document. Whatever a crash left
unindexed is sent again when a catalog is next opened, and a search also
scans those few pending documents directly, so a stored document is never
unfindable. (The outbox is its own small table: marking rows of
``documents`` would rewrite every page of text on each rebuild.)
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import unicodedata
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, select

from scanner.archive.access import access_level
from scanner.archive.catalog.custody import CustodyStore
from scanner.archive.catalog.db import Database
from scanner.archive.catalog.rows import SearchHit
from scanner.archive.catalog.schema import documents, dossiers, index_outbox
from scanner.archive.index import (
    EXACT_BONUS,
    NO_END,
    Filters,
    IndexBusy,
    IndexEntry,
    Page,
    QueryPart,
    SearchIndex,
    day_number,
    fold_keyword,
    parse_query,
    validity_range,
)
from scanner.archive.snippets import snippet
from scanner.errors import ArchiveError
from scanner.text import fold

log = logging.getLogger(__name__)

_ENTRY_DOCUMENT_COLUMNS = (
    "code", "title", "text", "type_name", "type_abbr", "kind", "issued_date", "valid_until", "holder_id", "identifiers",
)  # fmt: skip

# built once: asked on every search
_ANY_PENDING = select(index_outbox.c.id).limit(1)
_HIT_COLUMNS = (
    "code",
    "title",
    "path",
    "text",
    "dossier_code",
    "type_name",
    "issued_date",
    "kind",
    "valid_until",
    "review",
)
_HITS = (
    select(*(documents.c[k] for k in _HIT_COLUMNS), dossiers.c.agency_code, dossiers.c.access)
    .select_from(documents.join(dossiers, dossiers.c.code == documents.c.dossier_code))
    .where(documents.c.code.in_(bindparam("codes", expanding=True)))
)


@dataclass(frozen=True)
class SearchPage:
    """A page of search hits as the catalog has them, the number matching in all, and the facets' counts."""

    hits: list[SearchHit]
    total: int
    facets: dict[str, list[tuple[str, int]]]


class SearchStore:
    def __init__(self, db: Database, custody: CustodyStore, index_path: Path) -> None:
        self.db = db
        self.custody = custody
        self.index_path = index_path
        self._index: SearchIndex | None = None
        # built once (the row key depends on the engine): every search may scan the pending documents
        self._pending = self._entries_of(select(index_outbox.c.code))
        self._pending_up_to = self._entries_of(select(index_outbox.c.code).where(index_outbox.c.id <= bindparam("top")))

    def close(self) -> None:
        self._index = None

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.index_path)
            if self._index.created:
                # A new (or discarded) index knows nothing: every document is pending again.
                with self.db.write() as c:
                    self._all_pending(c)
        return self._index

    @staticmethod
    def _all_pending(c: Connection) -> None:
        c.execute(delete(index_outbox))
        c.execute(index_outbox.insert().from_select(["code"], select(documents.c.code)))

    def has_unindexed(self) -> bool:
        with self.db.read() as c:
            return c.execute(_ANY_PENDING).first() is not None

    def _entries(self, stmt: Select[Any], params: dict[str, Any] | None = None) -> Generator[IndexEntry, None, None]:
        """The index entries STMT selects, read in one short transaction as they are consumed."""
        with self.db.read() as c:
            for r in c.execute(stmt, params or {}).mappings():
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
                    type_label=r["type_name"] or "",
                    access=access_level(r["access"]).value,
                )

    def _entries_of(self, codes: Select[Any]) -> Select[Any]:
        """The statement reading the index entries of the documents whose codes CODES selects."""
        d, s = documents, dossiers
        return (
            select(
                self.db.row_key(d).label("key"),
                *(d.c[k] for k in _ENTRY_DOCUMENT_COLUMNS),
                *(s.c[k] for k in ("agency_code", "procedure_code", "owner_id", "receipt_date", "access")),
            )
            .select_from(d.join(s, s.c.code == d.c.dossier_code))
            .where(d.c.code.in_(codes))
        )

    def catch_up(self) -> int:
        """Index the documents the index does not have yet; 0 if another process holds the index."""
        try:
            index = self.index
            with self.db.read() as c:
                top, pending = c.execute(select(func.coalesce(func.max(index_outbox.c.id), 0), func.count())).one()
            with closing(self._entries(self._pending_up_to, {"top": top})) as entries:
                n = index.put(entries, bulk=pending > 1000)
        except IndexBusy as exc:
            log.info("%s", exc.message_vi)
            return 0
        except (ArchiveError, ValueError, OSError) as exc:
            # the catalog is the source of truth: a failing index never fails a filing; the documents
            # stay pending and the next catch-up (or `scanner reindex`) indexes them
            log.warning("chỉ mục tìm kiếm chưa cập nhật được, sẽ thử lại sau: %s", exc)
            self._index = None
            return 0
        with self.db.write() as c:
            c.execute(delete(index_outbox).where(index_outbox.c.id <= top))
        return n

    def reindex(self, *, actor: str) -> int:
        """Rebuild the index from the catalog; returns the number of documents indexed.

        The index is derived from the catalog, so one that no longer opens (a
        damaged ``meta.json``) is discarded and built again rather than blocking
        the very command that repairs it.
        """
        try:
            index = self.index
        except ArchiveError as exc:
            log.warning("chỉ mục tìm kiếm hỏng, dựng lại từ đầu: %s", exc.message_vi)
            shutil.rmtree(self.index_path, ignore_errors=True)
            self._index = None
            index = self.index
        with self.db.write() as c:  # everything pending first: a crash mid-rebuild hides nothing
            self._all_pending(c)
            top = c.execute(select(func.coalesce(func.max(index_outbox.c.id), 0))).scalar_one()
        index.clear()
        with closing(self._entries(self._pending_up_to, {"top": top})) as entries:
            n = index.put(entries, replace=False, bulk=True)
        with self.db.write() as c:
            c.execute(delete(index_outbox).where(index_outbox.c.id <= top))
            self.custody.append_audit(c, "reindex", str(self.index_path), f"{n} văn bản", actor=actor)
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
        if self.has_unindexed():
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
        return self._hits(codes, scores, query)

    def _hits(
        self,
        codes: Sequence[str],
        scores: dict[str, float],
        query: str,
        allowed: Callable[[SearchHit], bool] | None = None,
    ) -> list[SearchHit]:
        """The catalog rows of CODES as hits, in that order, with their scores and (where ALLOWED) snippets."""
        with self.db.read() as c:
            rows = {r["code"]: r for r in c.execute(_HITS, {"codes": list(codes)}).mappings()}
        hits = [
            SearchHit(
                code=c,
                title=rows[c]["title"],
                path=rows[c]["path"],
                snippet="",
                dossier_code=rows[c]["dossier_code"],
                type_name=rows[c]["type_name"],
                issued_date=rows[c]["issued_date"],
                score=round(scores.get(c, 0.0), 3),
                kind=rows[c]["kind"],
                valid_until=rows[c]["valid_until"],
                review=tuple(json.loads(rows[c]["review"] or "[]")),
                agency_code=rows[c]["agency_code"],
                access=rows[c]["access"],
            )
            for c in codes
            if c in rows
        ]
        return [
            replace(h, snippet=snippet(rows[h.code]["text"], query)) if allowed is None or allowed(h) else h
            for h in hits
        ]

    def page(
        self,
        query: str,
        filters: Filters,
        *,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 20,
        snippets: Callable[[SearchHit], bool] | None = None,
    ) -> SearchPage:
        """One page of hits in SORT order, with the total and the facets' counts (``SearchIndex.page``).

        Documents filed but not yet indexed (the index was busy) are scanned
        as ``search`` does and put on the first page of a relevance search,
        and counted, so a stored document is never missing from a result
        list; facets count the index alone. SNIPPETS says which hits may show
        their text (an access level may forbid it); the others get none.
        """
        parts = parse_query(unicodedata.normalize("NFC", query))
        if self.has_unindexed():
            self.catch_up()
        try:
            found = self.index.page(parts, filters, sort=sort, offset=offset, limit=limit)
        except IndexBusy:
            found = Page([], 0, {})
        extra = self._scan_unindexed(parts, filters)
        codes = [c for c, _ in found.hits]
        scores = {c: float(k) for c, k in found.hits if isinstance(k, float)}
        if extra and sort == "relevance" and offset == 0:
            ranked = sorted([*extra, *scores.items()], key=lambda h: -h[1])[:limit]
            codes, scores = list(dict.fromkeys(c for c, _ in ranked)), dict(ranked)
        return SearchPage(self._hits(codes, scores, query, snippets), found.total + len(extra), found.facets)

    def _scan_unindexed(self, parts: Sequence[QueryPart], filters: Filters) -> list[tuple[str, float]]:
        """Match the few documents not yet indexed in Python, by the same rules as the index."""
        out: list[tuple[str, float]] = []
        if not self.has_unindexed():
            return out
        with closing(self._entries(self._pending)) as entries:
            for e in entries:
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
    checks = [
        (f.agency, lambda v: fold_keyword(v) == fold_keyword(e.agency)),
        (f.procedure, lambda v: fold_keyword(v) == fold_keyword(e.procedure)),
        (f.doc_type, lambda v: fold_keyword(v) in {fold_keyword(t) for t in e.types}),
        (f.owner, lambda v: fold_keyword(v) in {fold_keyword(o) for o in e.owners}),
        (f.date_from, lambda v: day_number(e.issued) >= day_number(v)),
        (f.date_to, lambda v: day_number(e.issued) <= day_number(v)),
        (f.valid_on, lambda v: day_number(e.valid_until, 99991231) >= day_number(v)),
        (f.year, lambda v: day_number(e.issued) // 10000 == v),
        (f.validity, lambda v: _in_range(day_number(e.valid_until, NO_END), validity_range(v, f.today))),
        (f.access, lambda v: e.access == v),
    ]
    return all(value is None or value == "" or test(value) for value, test in checks)


def _in_range(value: int, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


_WORD = re.compile(r"\w+", re.UNICODE)
