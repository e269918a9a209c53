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
``exact`` only lower-cases. A query must match in ``fold``; documents that
also match every query word in ``exact`` get a large constant added to the
score, so an exact-diacritic match always ranks before a folded-only one and
bm25 orders each group.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import tantivy

from scanner.errors import ArchiveError

# Bump when the fields or analyzers below change: an index of another version is rebuilt.
INDEX_VERSION = 1
EXACT_BONUS = 1000.0
NO_END = 99991231  # valid_until of a paper valid indefinitely

_FOLD = "vi_fold"
_EXACT = "vi_exact"
_KEYWORDS = ("agency", "procedure", "type", "owner", "kind")


def _analyzer(fold: bool) -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(60))
    builder = builder.filter(tantivy.Filter.lowercase())
    if fold:
        builder = builder.filter(tantivy.Filter.ascii_fold())
    return builder.build()


FOLD_ANALYZER = _analyzer(fold=True)
EXACT_ANALYZER = _analyzer(fold=False)


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
    agency: str = ""
    procedure: str = ""
    types: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    kind: str = "paper"
    issued: date | str | None = None
    valid_until: date | str | None = None


@dataclass(frozen=True)
class Filters:
    agency: str | None = None
    procedure: str | None = None
    doc_type: str | None = None
    owner: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    valid_on: date | None = None  # still valid on this day

    @property
    def empty(self) -> bool:
        return not any(v is not None for v in self.__dict__.values())


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


class SearchIndex:
    """An on-disk tantivy index of document codes; open one per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        version_file = path / "scanner-index-version"
        if path.exists() and (not version_file.exists() or version_file.read_text().strip() != str(INDEX_VERSION)):
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
        version_file.write_text(f"{INDEX_VERSION}\n")
        self.schema = self.index.schema

    def _writer(self, heap: int, threads: int) -> tantivy.IndexWriter:
        try:
            return self.index.writer(heap_size=heap, num_threads=threads)
        except ValueError as exc:
            raise IndexBusy(
                "chỉ mục tìm kiếm đang được tiến trình khác ghi; văn bản sẽ được đưa vào chỉ mục sau",
                f"search index is locked by another writer: {exc}",
            ) from None

    def put(self, entries: Iterable[IndexEntry], *, replace: bool = True, bulk: bool = False) -> int:
        """Add ENTRIES (replacing any earlier entry with the same code) and commit; returns how many.

        Replacing makes a repeated put harmless, which is what lets the
        catalog re-send every document it is not sure the index has.
        """
        writer = self._writer(1_000_000_000 if bulk else 60_000_000, 2 if bulk else 1)
        n = 0
        try:
            for e in entries:
                if replace:
                    writer.delete_documents_by_term("code", e.code)
                writer.add_document(_document(e))
                n += 1
            writer.commit()
            if bulk:
                writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        finally:
            del writer
        self.index.reload()
        return n

    def clear(self) -> None:
        writer = self._writer(60_000_000, 1)
        writer.delete_all_documents()
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def count(self) -> int:
        self.index.reload()
        return int(self.index.searcher().num_docs)

    def query(self, parts: Sequence[QueryPart], filters: Filters | None = None) -> tantivy.Query | None:
        """The tantivy query for PARTS and FILTERS; None when nothing is asked."""
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        exact: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for part in parts:
            folded = [t for w in part.words for t in FOLD_ANALYZER.analyze(w)]
            plain = [t for w in part.words for t in EXACT_ANALYZER.analyze(w)]
            if not folded:
                continue
            clauses.append((tantivy.Occur.Must, self._words("fold", folded)))
            exact.append((tantivy.Occur.Must, self._words("exact", plain)))
        if clauses:
            bonus = tantivy.Query.const_score_query(tantivy.Query.boolean_query(exact), EXACT_BONUS)
            clauses.append((tantivy.Occur.Should, bonus))
        for q in self._filters(filters or Filters()):
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)))
        if not clauses:
            return None
        if all(occur == tantivy.Occur.Must for occur, _ in clauses) and not parts:
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

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
        return out

    def search(
        self, parts: Sequence[QueryPart], filters: Filters | None = None, *, limit: int = 10
    ) -> list[tuple[str, float]]:
        """(document code, score) of the best LIMIT matches."""
        q = self.query(parts, filters)
        if q is None:
            return []
        searcher = self.index.searcher()
        result = searcher.search(q, limit=limit, count=False)
        return [(str(searcher.doc(addr)["code"][0]), float(score)) for score, addr in result.hits]


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("code", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("fold", stored=False, tokenizer_name=_FOLD, index_option="position")
    b.add_text_field("exact", stored=False, tokenizer_name=_EXACT, index_option="position")
    for name in _KEYWORDS:
        b.add_text_field(name, stored=False, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("issued", stored=False, indexed=True, fast=True)
    b.add_integer_field("valid_until", stored=False, indexed=True, fast=True)
    return b.build()


def _document(e: IndexEntry) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("code", e.code)
    doc.add_text("fold", e.text)
    doc.add_text("exact", e.text)
    for name, value in (("agency", e.agency), ("procedure", e.procedure), ("kind", e.kind)):
        if value:
            doc.add_text(name, fold_keyword(value))
    for t in e.types:
        if t:
            doc.add_text("type", fold_keyword(t))
    for o in e.owners:
        if o:
            doc.add_text("owner", fold_keyword(o))
    doc.add_integer("issued", day_number(e.issued))
    doc.add_integer("valid_until", day_number(e.valid_until, NO_END))
    return doc
