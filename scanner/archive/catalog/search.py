"""Search itself, over the live index generation, and the documents filed but not yet in it.

The catalog is the source of truth; the full-text index beside it
(``scanner/archive/index.py``) is derived. Filing a document also puts its
code in ``index_outbox``, in the same transaction; the index generation
searches use reads that log with its cursor (``indexer.py``). Until its
commit has passed a document, a search scans that document directly, so a
stored document is never unfindable — as long as few are waiting. A backlog
of thousands (a province's index service catching up, an index being made
anew) is not scanned on every search: the result says how many recent
documents are not searchable yet.

Who writes: in a ward office (the embedded default) whoever files or
searches brings the live generation up to date in its own process, under
tantivy's writer lock (another process holding it: the documents stay
pending). In a province (``[index] service = true``) only the index service
(``scanner indexer``) writes; everyone else opens the index read-only and
sees its commits at the next search.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import bindparam, select

from scanner.archive.catalog.custody import CustodyStore
from scanner.archive.catalog.db import Database
from scanner.archive.catalog.indexer import Cursor, Indexer, entries_statement, read_entries
from scanner.archive.catalog.rows import SearchHit
from scanner.archive.catalog.schema import documents, dossiers, index_outbox
from scanner.archive.index import (
    EXACT_BONUS,
    NO_END,
    Filters,
    IndexBusy,
    IndexEntry,
    IndexMissing,
    Page,
    QueryPart,
    SearchIndex,
    day_number,
    fold_keyword,
    parse_query,
    validity_range,
)
from scanner.archive.snippets import snippet
from scanner.config import IndexConfig
from scanner.errors import ArchiveError
from scanner.text import fold

log = logging.getLogger(__name__)

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
    """A page of search hits as the catalog has them, the number matching in all, and the facets' counts.

    UNSEARCHABLE: documents filed recently that the index does not hold yet
    and that were too many to scan (0 when every filed document was searched).
    """

    hits: list[SearchHit]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    unsearchable: int = 0


class SearchStore:
    def __init__(
        self, db: Database, custody: CustodyStore, index_path: Path, options: IndexConfig | None = None
    ) -> None:
        self.db = db
        self.custody = custody
        self.index_path = index_path
        self.options = options or IndexConfig()
        self.indexer = Indexer(db, custody, index_path, self.options)
        self._index: SearchIndex | None = None
        self._generation: str | None = None
        self._reset = False  # the index was just made anew: what the caller read of the outbox is stale
        # built once (the row key depends on the engine): every search may scan the pending documents
        self._pending = entries_statement(
            db, documents.c.code.in_(select(index_outbox.c.code).where(index_outbox.c.id > bindparam("after")))
        )

    @property
    def writes(self) -> bool:
        """Whether this process brings the index up to date itself (not in a province, where the service does)."""
        return not self.options.service

    def close(self) -> None:
        self._index = None

    def _live(self) -> tuple[Cursor, int]:
        """The live cursor and the outbox's last id, in one read: what is live, and how much it lacks."""
        with self.db.read() as c:
            return self.indexer.live(c), self.indexer.top(c)

    def _open(self, live: Cursor) -> SearchIndex | None:
        """The live generation, opened again if a rebuild has switched it; None for a reader when there is none yet."""
        if self._index is not None and self._generation == live.generation:
            # another process's commit is already behind the cursor: the reader must see it before the
            # pending scan leaves it out (tantivy alone would notice it only within a second)
            self._index.refresh()
            return self._index
        path = self.indexer.path_of(live.generation)
        if not self.writes:
            try:
                self._index = SearchIndex(path, readonly=True)
            except IndexMissing:
                return None
        else:
            self._index = SearchIndex(path)
            if self._index.created:  # a new (or discarded) index knows nothing: every document is pending again
                self.indexer.reset(live.generation)
                self._reset = True
        self._generation = live.generation
        return self._index

    @property
    def index(self) -> SearchIndex:
        found = self._open(self._live()[0])
        if found is None:
            raise IndexMissing(f"chưa có chỉ mục tìm kiếm {self.index_path}", f"no search index at {self.index_path}")
        return found

    def has_unindexed(self) -> bool:
        live, top = self._live()
        return top > live.position

    def unsearchable(self) -> int:
        """How many filed documents a search would not find now: not yet indexed, and too many to scan (else 0)."""
        live, top = self._live()
        return self._too_many(top - live.position)

    def _too_many(self, backlog: int) -> int:
        return backlog if backlog > self.options.pending_limit else 0

    def catch_up(self) -> int:
        """Index the documents the index does not have yet; 0 if another process holds it, or the service writes it."""
        if not self.writes:
            return 0
        try:
            live = self._live()[0]
            index = self._open(live)
            assert index is not None  # a writer opens (or makes) it
            with self.db.read() as c:
                live = self.indexer.live(c)  # a new index has just moved its cursor
            return self.indexer.catch_up(index, live)
        except IndexBusy as exc:
            log.info("%s", exc.message_vi)
            return 0
        except (ArchiveError, ValueError, OSError) as exc:
            # the catalog is the source of truth: a failing index never fails a filing; the documents
            # stay pending and the next catch-up (or `scanner reindex`) indexes them
            log.warning("chỉ mục tìm kiếm chưa cập nhật được, sẽ thử lại sau: %s", exc)
            self._index = None
            return 0

    def reindex(self, *, actor: str, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the index from the catalog beside the live one, then make it live; returns the documents indexed.

        The live index keeps answering meanwhile; a rebuild interrupted at
        any point continues where it stopped when run again (``Indexer.rebuild``).
        """
        n = self.indexer.rebuild(actor=actor, progress=progress)
        self._index = None
        return n

    def search(self, query: str, *, limit: int = 10, filters: Filters | None = None) -> list[SearchHit]:
        """Documents containing every word of QUERY, with or without diacritics, best first.

        Words in double quotes must appear as a phrase. Documents that
        contain the query exactly as typed (with its diacritics) rank first.
        Documents filed but not yet in the index are scanned directly (up to
        ``[index] pending_limit`` of them), so a search never misses a
        stored document while the index keeps up.
        """
        parts = parse_query(unicodedata.normalize("NFC", query))
        filters = filters or Filters()
        if not parts and filters.empty:
            return []
        live, top, index = self._searchable()
        found = index.search(parts, filters, limit=limit) if index is not None else []
        found += self._scan_unindexed(parts, filters, live, top)[0]
        found.sort(key=lambda h: -h[1])
        codes = list(dict.fromkeys(c for c, _ in found))[:limit]
        scores = dict(found)
        if not codes:
            return []
        return self._hits(codes, scores, query)

    def _searchable(self) -> tuple[Cursor, int, SearchIndex | None]:
        """The live generation, caught up first where this process writes, and the cursor searches trust."""
        live, top = self._live()
        index = self._open(live)
        if self.writes and (self._reset or top > live.position):
            self._reset = False
            self.catch_up()
            live, top = self._live()  # what is still pending (another process holding the writer, a reset)
            index = self._open(live)
        return live, top, index

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
        live, top, index = self._searchable()
        found = Page([], 0, {})
        if index is not None:
            found = index.page(parts, filters, sort=sort, offset=offset, limit=limit)
        extra, unsearchable = self._scan_unindexed(parts, filters, live, top)
        codes = [c for c, _ in found.hits]
        scores = {c: float(k) for c, k in found.hits if isinstance(k, float)}
        if extra and sort == "relevance" and offset == 0:
            ranked = sorted([*extra, *scores.items()], key=lambda h: -h[1])[:limit]
            codes, scores = list(dict.fromkeys(c for c, _ in ranked)), dict(ranked)
        hits = self._hits(codes, scores, query, snippets)
        return SearchPage(hits, found.total + len(extra), found.facets, unsearchable)

    def _scan_unindexed(
        self, parts: Sequence[QueryPart], filters: Filters, live: Cursor, top: int
    ) -> tuple[list[tuple[str, float]], int]:
        """Match the few documents not yet indexed in Python, by the same rules as the index.

        Returns the matches and, when too many are waiting to scan them on
        every search, how many are waiting (then nothing is scanned).
        """
        out: list[tuple[str, float]] = []
        backlog = top - live.position
        if backlog <= 0:
            return out, 0
        if self._too_many(backlog):
            return out, backlog
        with closing(read_entries(self.db, self._pending, {"after": live.position})) as entries:
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
        return out, 0


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
