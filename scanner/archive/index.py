"""The search engine's edge: the one module that talks to tantivy.

The catalog (SQLite) is the source of truth; this index only answers "which
document codes match, best first". It can be thrown away and rebuilt from
the catalog at any time (``scanner reindex``), which is why nothing is
stored in it but the code.

Why tantivy and not SQLite FTS5: measured on this machine (README, section
"Search benchmark"), FTS5 with bm25 needs about 180 ms for the top ten of a
common word over 200,000 documents, tantivy about 1 ms over 1,000,000;
tantivy's block-max WAND skips most of a common word's postings, FTS5 reads
them all.

Vietnamese: a syllable is a word, so the ``simple`` tokenizer (split on
anything that is not a letter or digit) is the right unit. Every text is
indexed twice: ``fold`` lower-cases and folds to ASCII (``đ`` → ``d``, tone
marks removed), which is what a clerk typing without diacritics needs;
``exact`` only lower-cases. A search runs as two plain queries: first every
query word in ``exact`` (matches with the diacritics as typed), then in
``fold`` for the rest of the page. Exact matches thus always rank before
folded-only ones, bm25 orders each group, and each query stays a plain term
query or conjunction, which tantivy answers without scoring every match of a
common word (block-max WAND). One combined query with a constant bonus
clause for exact matches measured several times slower on common words.

Phrases of frequent syllables (``ủy ban nhân dân``, ``của các``) are the slow
case of any inverted index: their words are in nearly every document, and
positions must be checked in all of them. As Lucene's "common grams" do,
every adjacent pair in which one syllable is among the most frequent ones
(``COMMON``) is also indexed, folded, as one term (``uy_ban``, ``cua_cac``)
in ``fold_pairs``. A two-word phrase is then a single term
(answered by WAND), and a longer one is checked for positions only in the few
documents that hold all its pairs; pairs of two rare syllables are not
needed, their postings are short anyway.

A query expected to match a large share of the archive (two common words,
a phrase of common pairs) still has that many matches to score: tantivy's
block-max pruning of a conjunction skips little when every block holds good
matches of every term, so its cost grows with the archive (measured: 21 ms
for two words in 80-95% of 1M documents, 4 ms for one of them alone). Such a
query is answered in two steps: block-max WAND picks the best few hundred
documents of its rarest single term (a phrase's rarest pair; a lone term is
what block-max skips best), then the full query (positions, exact
diacritics) runs restricted to those candidates; only if too few survive does
the full query run on everything. For a phrase the rarest pair's best
documents are the phrase's (measured at 1M: the same ten, in the same order,
for every phrase of the benchmark); for separate words they are nearly so,
which is why separate words take this path only above a higher expected
count (``WORDS_PREFILTER_ABOVE``), where the full conjunction is slow.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import tantivy

from scanner.errors import ArchiveError

# Bump when the fields or analyzers below change: an index of another version is rebuilt.
INDEX_VERSION = 8
SMALL_HEAP = 60_000_000  # the writer of a few documents filed at a counter
PREFILTER_ABOVE = 50_000  # expected matches above which a phrase is answered in two steps (crossover measured at 1M)
WORDS_PREFILTER_ABOVE = 300_000  # the same for separate words, whose conjunction prunes better (measured at 1M)
EXACT_BONUS = 1000.0
LEAD_DEPTH = (20, 100)  # candidates the lead term offers per hit asked, then again if too few of them match
NO_END = 99991231  # valid_until of a paper valid indefinitely

_FOLD = "vi_fold"
_EXACT = "vi_exact"
_KEYWORDS = ("agency", "procedure", "type", "owner", "kind")
VALIDITY = ("valid", "expired", "indefinite")  # còn hiệu lực (có thời hạn), hết hiệu lực, không thời hạn
FACET_SIZE = 50

# The most frequent syllables of Vietnamese administrative text (folded): function words, and the words of
# the names of bodies, procedures and papers. Changing the list changes the index: bump INDEX_VERSION.
_COMMON_TEXT = """
    va cua co cac la duoc trong cho nguoi khong nam voi nay mot da nhung ngay theo ve viec tai so nhan dan uy ban
    tinh huyen xa phuong quyet dinh thuc hien cong tac quan ly ho thu tuc hanh chinh giay chung dang ky khai sinh
    ket hon van ban co quan cap tu phap bao cao ke hoach noi vu tai nguyen moi truong dat dai xay dung giao thong
    y te duc lao dong hoi ong ba ten dia chi cu tru thuong tam dien thoai can cuoc danh ca gia dinh quy dieu
    khoan luat nghi thi huong dan de xac tinh trang thua tich nha o quyen su dung huu san don vi trach nhiem thoi
    han hieu luc ke tu hanh noi luu sao phu thu tuong bo truong chu tich pho giam doc phong can vien de nghi
    den tren duoi sau truoc khi neu thi ma nhu cung con se dang phai can bi boi vao ra len lai het tat ca moi
"""
COMMON = frozenset(_COMMON_TEXT.split())


def _analyzer(fold: bool) -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(60))
    builder = builder.filter(tantivy.Filter.lowercase())
    if fold:
        builder = builder.filter(tantivy.Filter.ascii_fold())
    return builder.build()


FOLD_ANALYZER = _analyzer(fold=True)
EXACT_ANALYZER = _analyzer(fold=False)


@functools.lru_cache(maxsize=8192)  # agencies, procedures, types repeat on every document of a rebuild
def fold_keyword(value: str) -> str:
    """A filter value (agency, type, owner…) as it is indexed: folded, lower case, single spaces."""
    return " ".join(FOLD_ANALYZER.analyze(value))


def day_number(value: date | str | None, default: int = 0) -> int:
    """A date as the integer YYYYMMDD that range filters compare."""
    if value is None or value == "":
        return default
    d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return d.year * 10000 + d.month * 100 + d.day


@dataclass(frozen=True)
class IndexEntry:
    """What the index knows of one document: its searchable text and the values filters look at."""

    code: str
    text: str
    key: int = 0  # the catalog's row id: lets a query be restricted to a set of candidates
    agency: str = ""
    procedure: str = ""
    types: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    kind: str = "paper"
    issued: date | str | None = None
    valid_until: date | str | None = None
    type_label: str = ""  # the document type as written, what a facet shows
    access: str = ""  # the dossier's access level, canonical (``scanner.app.rights.AccessLevel``)


@dataclass(frozen=True)
class Filters:
    agency: str | None = None
    procedure: str | None = None
    doc_type: str | None = None
    owner: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    valid_on: date | None = None  # still valid on this day
    year: int | None = None  # issued in this year
    validity: str | None = None  # one of VALIDITY, judged on ``today``
    access: str | None = None  # access level, canonical
    today: date | None = None  # the day ``validity`` is judged on (today when None)

    @property
    def empty(self) -> bool:
        return not any(v is not None for k, v in self.__dict__.items() if k != "today")


@dataclass(frozen=True)
class Page:
    """One page of a search: (code, sort key) of its hits, how many match in all, and the facets' counts.

    Each facet is a list of (value, count), most frequent first (years
    newest first); agency and procedure values are as filed, document types
    as written.
    """

    hits: list[tuple[str, float | int | str]]
    total: int
    facets: dict[str, list[tuple[str, int]]]


SORTS = ("relevance", "date", "code")


@dataclass(frozen=True)
class QueryPart:
    """A query word, or a quoted phrase (several words that must be adjacent)."""

    words: tuple[str, ...]


def parse_query(query: str) -> list[QueryPart]:
    """Words and ``"quoted phrases"`` of QUERY; a word the analyzer splits (``796/KH-STP``) is a phrase."""
    parts: list[QueryPart] = []
    for i, chunk in enumerate(query.split('"')):
        if i % 2 == 1:
            words = tuple(chunk.split())
            if words:
                parts.append(QueryPart(words))
        else:
            parts.extend(QueryPart((w,)) for w in chunk.split())
    return parts


class IndexBusy(ArchiveError):
    """Another process holds the index writer; the documents stay pending and are indexed later."""


class IndexMissing(ArchiveError):
    """A reader found no index where the live generation should be (the index service has not built it yet)."""


class SearchIndex:
    """An on-disk tantivy index of document codes; open one per process.

    READONLY is how a searcher opens the province's index, which only the
    index service writes: nothing on disk is created, replaced or removed,
    and ``refresh`` picks up the service's commits at once.
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        version_file = path / "scanner-index-version"
        # Only an index known to be of another layout is removed: a folder without the version file (or with
        # an empty one, being written by an older program) may be one another process is creating right now.
        # The web opens several catalogs at once in one process, so the file is replaced atomically and
        # rewritten only when it differs: a reader never sees it half-written, and never removes a good index.
        said = version_file.read_text().strip() if version_file.exists() else ""
        if readonly and (said != str(INDEX_VERSION) or not (path / "meta.json").exists()):
            raise IndexMissing(
                f"chưa có chỉ mục tìm kiếm {path} (dịch vụ chỉ mục chưa dựng xong)", f"no search index at {path} yet"
            )
        if said and said != str(INDEX_VERSION):
            shutil.rmtree(path)  # another layout: the catalog rebuilds it
        self.created = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(_schema(), str(path), reuse=True)
        except ValueError as exc:
            raise ArchiveError(
                f"không mở được chỉ mục tìm kiếm {path}: {exc}", f"cannot open search index {path}: {exc}"
            ) from None
        self.index.register_tokenizer(_FOLD, FOLD_ANALYZER)
        self.index.register_tokenizer(_EXACT, EXACT_ANALYZER)
        if said != str(INDEX_VERSION):
            fresh = path / f".scanner-index-version.{os.getpid()}.{threading.get_ident()}"
            fresh.write_text(f"{INDEX_VERSION}\n")
            os.replace(fresh, version_file)
        self.schema = self.index.schema

    def _writer(self, heap: int, threads: int) -> tantivy.IndexWriter:
        if self.readonly:
            raise IndexBusy(
                "chỉ mục tìm kiếm chỉ do dịch vụ chỉ mục ghi", f"search index {self.path} is opened read-only"
            )
        try:
            return self.index.writer(heap_size=heap, num_threads=threads)
        except ValueError as exc:
            raise IndexBusy(
                "chỉ mục tìm kiếm đang được tiến trình khác ghi; văn bản sẽ được đưa vào chỉ mục sau",
                f"search index is locked by another writer: {exc}",
            ) from None

    def writer(self, heap: int = SMALL_HEAP, threads: int = 1) -> IndexWriter:
        """This index's one writer (tantivy's lock) for batches committed one after another; ``IndexBusy`` if held."""
        return IndexWriter(self, self._writer(heap, threads))

    def put(self, entries: Iterable[IndexEntry], *, replace: bool = True, heap: int = SMALL_HEAP) -> int:
        """Add ENTRIES (replacing any earlier entry with the same code) and commit; returns how many.

        Replacing makes a repeated put harmless, which is what lets the
        catalog re-send every document it is not sure the index has.
        """
        bulk = heap >= 2 * SMALL_HEAP
        w = self.writer(heap, 2 if bulk else 1)
        try:
            n = w.add(entries, replace=replace)
            w.commit()
        finally:
            w.close(wait=bulk)  # a counter's filing does not wait for background merges
        return n

    def refresh(self) -> None:
        """See the commits other processes made (the reader would otherwise notice them within a second)."""
        self.index.reload()

    def max_key(self) -> int:
        """The highest catalog row key this index holds (0 if none): where a rebuild read in key order stopped.

        It is committed with the documents themselves, so a rebuild killed at
        any moment resumes exactly after its last commit, never adding a
        document twice.
        """
        self.index.reload()
        searcher = self.index.searcher()
        if not searcher.num_docs:
            return 0
        hits = searcher.search(
            tantivy.Query.all_query(), limit=1, count=False, order_by_field="key", order=tantivy.Order.Desc
        ).hits
        return int(hits[0][0]) if hits else 0

    def count(self) -> int:
        self.index.reload()
        return int(self.index.searcher().num_docs)

    def query(
        self, parts: Sequence[QueryPart], filters: Filters | None = None, *, field: str = "fold"
    ) -> tantivy.Query | None:
        """The tantivy query for PARTS in FIELD (``fold`` or ``exact``) and FILTERS; None when nothing is asked."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for part in parts:
            text = " ".join(part.words)
            folded = FOLD_ANALYZER.analyze(text)
            tokens = folded if field == "fold" else EXACT_ANALYZER.analyze(text)
            if not tokens:
                continue
            if len(tokens) == 1:
                clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, field, tokens[0])))
                continue
            pairs = _pairs(folded)
            clauses += [(tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "fold_pairs", p)) for p in pairs]
            if field == "exact":
                # ``exact`` keeps no positions (it only ranks): the words as typed, adjacent in ``fold``.
                clauses += [(tantivy.Occur.Must, tantivy.Query.term_query(self.schema, field, t)) for t in tokens]
            if len(pairs) < len(tokens) - 1:  # every adjacent pair indexed: the pairs stand for the positions
                clauses.append((tantivy.Occur.Must, self._words("fold", folded)))
        for q in self._filters(filters or Filters()):
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)))
        if not clauses:
            return None
        return clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)

    def _words(self, field: str, tokens: list[str]) -> tantivy.Query:
        if len(tokens) == 1:
            return tantivy.Query.term_query(self.schema, field, tokens[0])
        return tantivy.Query.phrase_query(self.schema, field, list[str | tuple[int, str]](tokens))

    def _filters(self, f: Filters) -> list[tantivy.Query]:
        out: list[tantivy.Query] = []
        keywords = (("agency", f.agency), ("procedure", f.procedure), ("type", f.doc_type), ("owner", f.owner))
        for field, value in keywords:
            if value:
                out.append(tantivy.Query.term_query(self.schema, field, fold_keyword(value)))
        if f.date_from or f.date_to:
            out.append(
                tantivy.Query.range_query(
                    self.schema,
                    "issued",
                    tantivy.FieldType.Integer,
                    day_number(f.date_from, 0) if f.date_from else None,
                    day_number(f.date_to, NO_END) if f.date_to else None,
                )
            )
        if f.valid_on:
            out.append(
                tantivy.Query.range_query(
                    self.schema, "valid_until", tantivy.FieldType.Integer, day_number(f.valid_on), None
                )
            )
        if f.year:
            out.append(
                tantivy.Query.range_query(
                    self.schema, "issued", tantivy.FieldType.Integer, f.year * 10000 + 101, f.year * 10000 + 1231
                )
            )
        if f.validity:
            low, high = validity_range(f.validity, f.today)
            out.append(tantivy.Query.range_query(self.schema, "valid_until", tantivy.FieldType.Integer, low, high))
        if f.access:
            out.append(tantivy.Query.term_query(self.schema, "access", f.access))
        return out

    def page(
        self,
        parts: Sequence[QueryPart],
        filters: Filters | None = None,
        *,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 20,
        facets: bool = True,
    ) -> Page:
        """The hits OFFSET…OFFSET+LIMIT in SORT order, the total and the facets, from one searcher.

        Relevance pages are cut from the two-pass answer (exact diacritics
        first), so a deep page costs its depth; date (newest first) and code
        order are the index's own sorted collectors. Counts are of the
        folded query, which every exact match also matches; facets are
        counted under the filters already chosen (a drill-down).
        """
        filters = filters or Filters()
        searcher = self.index.searcher()
        q = self.query(parts, filters, field="fold") or tantivy.Query.all_query()
        if sort == "relevance" and parts:
            found = self.search(parts, filters, limit=offset + limit)[offset:]
            hits: list[tuple[str, float | int | str]] = [(c, s) for c, s in found]
        else:
            by, order = ("code", tantivy.Order.Asc) if sort == "code" else ("issued", tantivy.Order.Desc)
            result = searcher.search(q, limit=limit, count=False, order_by_field=by, offset=offset, order=order)
            hits = [(str(searcher.doc(a)["code"][0]), k) for k, a in result.hits]
        if not facets:
            return Page(hits, int(getattr(searcher.search(q, limit=0, count=True), "count", 0) or 0), {})
        return Page(hits, *self._facets(searcher, q, filters.today))

    def _facets(
        self, searcher: tantivy.Searcher, q: tantivy.Query, today: date | None
    ) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        low = day_number(today or date.today())
        aggs = {
            "total": {"value_count": {"field": "key"}},
            "agency": {"terms": {"field": "agency_label", "size": FACET_SIZE}},
            "procedure": {"terms": {"field": "procedure_label", "size": FACET_SIZE}},
            "type": {"terms": {"field": "type_label", "size": FACET_SIZE}},
            "access": {"terms": {"field": "access", "size": 10}},
            "year": {"histogram": {"field": "issued", "interval": 10000, "min_doc_count": 1}},
            "validity": {
                "range": {
                    "field": "valid_until",
                    "ranges": [{"to": low}, {"from": low, "to": NO_END}, {"from": NO_END}],
                }
            },
        }
        r = searcher.aggregate(q, aggs)
        out: dict[str, list[tuple[str, int]]] = {}
        for name in ("agency", "procedure", "type", "access"):
            out[name] = [(str(b["key"]), int(b["doc_count"])) for b in r[name]["buckets"] if b["key"] != ""]
        years = [(str(int(b["key"]) // 10000), int(b["doc_count"])) for b in r["year"]["buckets"]]
        out["year"] = sorted(((y, n) for y, n in years if y != "0" and n), reverse=True)
        by_kind = {"expired": 0, "valid": 0, "indefinite": 0}
        for b in r["validity"]["buckets"]:
            if "from" not in b:
                by_kind["expired"] += int(b["doc_count"])
            elif "to" in b:
                by_kind["valid"] += int(b["doc_count"])
            else:
                by_kind["indefinite"] += int(b["doc_count"])
        out["validity"] = [(k, by_kind[k]) for k in VALIDITY if by_kind[k]]
        return int(r["total"]["value"] or 0), out

    def search(
        self, parts: Sequence[QueryPart], filters: Filters | None = None, *, limit: int = 10
    ) -> list[tuple[str, float]]:
        """(document code, score) of the best LIMIT matches; exact matches first, scored EXACT_BONUS + bm25."""
        searcher = self.index.searcher()
        out: dict[str, float] = {}
        if parts:
            for score, addr in self._run(searcher, parts, filters, "exact", limit):
                out[str(searcher.doc(addr)["code"][0])] = EXACT_BONUS + score
        if len(out) < limit:
            for score, addr in self._run(searcher, parts, filters, "fold", limit + len(out)):
                code = str(searcher.doc(addr)["code"][0])
                if code not in out and len(out) < limit:
                    out[code] = score
        return list(out.items())

    def _run(
        self, searcher: tantivy.Searcher, parts: Sequence[QueryPart], filters: Filters | None, field: str, limit: int
    ) -> list[tuple[float, tantivy.DocAddress]]:
        q = self.query(parts, filters, field=field)
        if q is None:
            return []
        if not parts:  # filters alone: nothing to rank by relevance, newest first
            hits = searcher.search(q, limit=limit, count=False, order_by_field="issued").hits
            return [(0.0, a) for _, a in hits]
        lead = self._lead(searcher, parts, field) if (filters is None or filters.empty) else None
        if lead is not None:
            for k in (limit * LEAD_DEPTH[0], limit * LEAD_DEPTH[1]):
                hits = searcher.search(lead, limit=k, count=False).hits
                keys = searcher.fast_field_values("key", [addr for _, addr in hits])
                # scored 0, so that a document scores the same whichever way it was found
                only = tantivy.Query.const_score_query(
                    tantivy.Query.term_set_query(self.schema, "key", [int(v) for v in keys if v is not None]), 0.0
                )
                within = tantivy.Query.boolean_query([(tantivy.Occur.Must, only), (tantivy.Occur.Must, q)])
                found = searcher.search(within, limit=limit, count=False).hits
                if len(found) >= limit or len(hits) < k:
                    return [(float(s), a) for s, a in found]
        return [(float(s), a) for s, a in searcher.search(q, limit=limit, count=False).hits]

    def _lead(self, searcher: tantivy.Searcher, parts: Sequence[QueryPart], field: str) -> tantivy.Query | None:
        """The query's rarest single term, whose best documents are the full query's likely best ones.

        A single term is what tantivy answers without decoding every
        posting (block-max WAND skips each block whose best score cannot enter
        the top), so its cost barely grows with the archive; the full query,
        a conjunction of terms in most documents, scores every match (its
        block-max pruning skips little when every block holds a good match of
        each term), and a union of its terms nearly as many. The rarest term
        is the one whose good matches are the full query's good matches most
        often: a phrase's rarest pair, or the rarest of separate words.

        None when the full query is cheap: fewer than PREFILTER_ABOVE
        documents are expected to match it (a phrase as frequent as its
        rarest word or pair; separate words, taken as independent, fewer than
        WORDS_PREFILTER_ABOVE: their conjunction prunes better), it is
        a single term, or a phrase has no indexed pair (two rarer words: the
        documents where one of them scores best seldom hold the phrase).
        """
        n = max(1, int(searcher.num_docs))
        expected = float(n)
        units: list[tuple[int, str, str]] = []  # (document frequency, field, term) of every term the query needs
        phrase = False
        positions = False  # a phrase with a pair not indexed: the full query also checks positions
        for part in parts:
            text = " ".join(part.words)
            folded = FOLD_ANALYZER.analyze(text)
            tokens = folded if field == "fold" else EXACT_ANALYZER.analyze(text)
            if not tokens:
                continue
            dfs = [searcher.doc_freq(field, t) for t in tokens]
            if len(tokens) == 1:
                units.append((dfs[0], field, tokens[0]))
                expected *= dfs[0] / n
                continue
            pairs = [(searcher.doc_freq("fold_pairs", p), "fold_pairs", p) for p in _pairs(folded)]
            if not pairs:
                return None
            units += pairs
            phrase = True
            positions = positions or len(pairs) < len(tokens) - 1
            if field == "exact":  # the exact pass also needs the words as typed
                units += [(df, field, t) for df, t in zip(dfs, tokens, strict=True)]
            # a phrase's words are not independent: as frequent as its rarest word or pair, at most
            expected *= min([*dfs, *(df for df, _, _ in pairs)]) / n
        if (len(units) < 2 and not positions) or expected <= (PREFILTER_ABOVE if phrase else WORDS_PREFILTER_ABOVE):
            return None
        _, lead_field, term = min(units)
        return tantivy.Query.term_query(self.schema, lead_field, term)


class IndexWriter:
    """A held tantivy writer: documents added in batches, each batch committed; rolled back if left uncommitted.

    The heap is fixed (``[index] heap_mb``): tantivy flushes a segment
    whenever it is full, so a rebuild's memory does not grow with the
    archive.
    """

    def __init__(self, index: SearchIndex, writer: tantivy.IndexWriter) -> None:
        self.index = index
        self._writer: tantivy.IndexWriter | None = writer
        self._uncommitted = False

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(wait=kind is None)

    @property
    def _w(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise ArchiveError("chỉ mục tìm kiếm đã đóng", "index writer already closed")
        return self._writer

    def add(self, entries: Iterable[IndexEntry], *, replace: bool = True) -> int:
        w = self._w
        n = 0
        self._uncommitted = True
        for e in entries:
            if replace:
                w.delete_documents_by_term("code", e.code)
            w.add_document(_document(e))
            n += 1
        return n

    def commit(self) -> None:
        self._w.commit()
        self._uncommitted = False
        self.index.index.reload()

    def close(self, *, wait: bool = True) -> None:
        """Release the lock: what was not committed is dropped; WAIT lets background merges finish."""
        if self._writer is None:
            return
        w, self._writer = self._writer, None
        try:
            if self._uncommitted:
                w.rollback()
            if wait:
                w.wait_merging_threads()
        finally:
            del w


def validity_range(validity: str, today: date | None) -> tuple[int | None, int | None]:
    """The ``valid_until`` range (YYYYMMDD, ends included) of a validity facet value, judged on TODAY."""
    low = day_number(today or date.today())
    if validity == "expired":
        return None, low - 1
    if validity == "valid":
        return low, NO_END - 1
    if validity == "indefinite":
        return NO_END, None
    raise ArchiveError(f"hiệu lực không hợp lệ: {validity}", f"unknown validity {validity!r}", code="usage")


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("code", stored=True, tokenizer_name="raw", index_option="basic", fast=True)
    b.add_integer_field("key", stored=False, indexed=True, fast=True)
    b.add_text_field("fold", stored=False, tokenizer_name=_FOLD, index_option="position")
    b.add_text_field("exact", stored=False, tokenizer_name=_EXACT, index_option="freq")
    b.add_text_field("fold_pairs", stored=False, tokenizer_name="whitespace", index_option="freq")
    for name in _KEYWORDS:
        b.add_text_field(name, stored=False, tokenizer_name="raw", index_option="basic")
    for name in ("agency_label", "procedure_label", "type_label", "access"):  # as written: facets count them
        b.add_text_field(name, stored=False, tokenizer_name="raw", index_option="basic", fast=True)
    b.add_integer_field("issued", stored=False, indexed=True, fast=True)
    b.add_integer_field("valid_until", stored=False, indexed=True, fast=True)
    return b.build()


def _document(e: IndexEntry) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("code", e.code)
    doc.add_integer("key", e.key)
    doc.add_text("fold", e.text)
    doc.add_text("exact", e.text)
    doc.add_text("fold_pairs", " ".join(_pairs(FOLD_ANALYZER.analyze(e.text))))
    for name, value in (("agency", e.agency), ("procedure", e.procedure), ("kind", e.kind)):
        if value:
            doc.add_text(name, fold_keyword(value))
    for t in e.types:
        if t:
            doc.add_text("type", fold_keyword(t))
    for o in e.owners:
        if o:
            doc.add_text("owner", fold_keyword(o))
    labels = (("agency_label", e.agency), ("procedure_label", e.procedure), ("type_label", e.type_label))
    for name, value in (*labels, ("access", e.access)):
        doc.add_text(name, value)  # empty too: a fast text field with no value would not be counted as "none"
    doc.add_integer("issued", day_number(e.issued))
    doc.add_integer("valid_until", day_number(e.valid_until, NO_END))
    return doc


def _pairs(folded: list[str]) -> list[str]:
    """The common-gram pairs of FOLDED tokens: adjacent tokens of which one is common."""
    common = COMMON  # a local: looked up for every word of every page a rebuild reads
    return [f"{a}_{b}" for a, b in zip(folded, folded[1:], strict=False) if a in common or b in common]
