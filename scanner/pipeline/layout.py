"""The dossier's documents: the counter's grouping of its pages, then the clerk's edits on top.

Grouping follows the counter's way of working (receipts, separator sheets,
one document per file; see ``scanner.capture.group``). The clerk's edits —
rotate, delete, move, replace a page, split or merge documents — are kept
as a list and replayed in order on the grouping, so they hold while pages
are still arriving and after a restart, and the documents are the same
whoever computes them: the service when it files, the counter's screen
when it shows the open dossier.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scanner.capture.group import DroppedPage, GroupRules, PageMarks, group_pages
from scanner.model import PageImage, SourceFile
from scanner.pipeline.job import Capture, CapturedDocument, Edits, PreparedSource


@dataclass(frozen=True)
class Layout:
    capture: Capture
    owner: dict[str, SourceFile]  # page stem -> the input it came from
    pinned: frozenset[str]  # pages the clerk turned by hand: their orientation is not guessed again


def layout(
    prepared: list[tuple[SourceFile, PreparedSource]],
    edits: Edits,
    rules: GroupRules,
    *,
    one_document: bool = False,
    extra: dict[str, tuple[SourceFile, PageImage]] | None = None,
) -> Layout:
    """Documents of the dossier from its opened inputs (in scan order) and the clerk's EDITS.

    EXTRA holds pages that edits refer to but grouping never sees: a page
    turned by the clerk, a rescanned page that replaces another.
    """
    pages: list[PageImage] = []
    marks: list[PageMarks] = []
    owner: dict[str, SourceFile] = {}
    signed: list[SourceFile] = []
    for src, prep in prepared:
        if prep.signed:
            signed.append(src)
        for page, codes in zip(prep.pages, prep.codes, strict=True):
            pages.append(page)
            owner[page.path.stem] = src
            marks.append(PageMarks(codes=codes, file_index=0 if one_document else prep.index, source=page.source))
    for stem, (src, _) in (extra or {}).items():
        owner[stem] = src
    grouping = group_pages(marks, rules)
    docs: list[list[PageImage]] = [[pages[i] for i in d] for d in grouping.documents]
    dropped = list(grouping.dropped)
    pinned: set[str] = set()
    by_stem = {**{p.path.stem: p for p in pages}, **{s: p for s, (_, p) in (extra or {}).items()}}

    def find(stem: str) -> tuple[int, int] | None:
        for d, doc in enumerate(docs):
            for i, p in enumerate(doc):
                if p.path.stem == stem:
                    return d, i
        return None

    for e in edits.edits:
        at = find(e.page)
        if at is None and e.op != "field":
            continue  # the page is gone (deleted, or its file quarantined): the edit has nothing to act on
        if e.op in ("rotate", "replace") and at is not None and e.value in by_stem:
            d, i = at
            docs[d][i] = by_stem[e.value]
            if e.op == "rotate":
                pinned.add(e.value)
        elif e.op == "delete" and at is not None:
            d, i = at
            page = docs[d].pop(i)
            dropped.append(DroppedPage(page.source, "deleted", f"trang do cán bộ xóa ({e.actor})"))
        elif e.op == "move" and at is not None:
            d, i = at
            page = docs[d].pop(i)
            target = find(e.before) if e.before else None
            if target is None:
                docs[d].append(page)
            else:
                docs[target[0]].insert(target[1], page)
        elif e.op == "split" and at is not None:
            d, i = at
            if i > 0:
                docs[d : d + 1] = [docs[d][:i], docs[d][i:]]
        elif e.op == "merge" and at is not None:
            d, i = at
            if i == 0 and d > 0:
                docs[d - 1 : d + 1] = [docs[d - 1] + docs[d]]
        docs = [doc for doc in docs if doc]
    documents = tuple(
        CapturedDocument(
            sources=tuple(dict.fromkeys(owner[p.path.stem] for p in doc)),
            pages=tuple(doc),
        )
        for doc in docs
    )
    capture = Capture(documents, grouping.receipt, tuple(dropped), tuple(grouping.warnings), tuple(signed))
    return Layout(capture=capture, owner=owner, pinned=frozenset(pinned))


def without_pages(capture: Capture, keep: set[str], dropped: list[DroppedPage]) -> Capture:
    """CAPTURE with only the pages whose stem is in KEEP; documents left empty disappear."""
    docs = []
    for doc in capture.documents:
        pages = tuple(p for p in doc.pages if p.path.stem in keep)
        if pages:
            docs.append(replace(doc, pages=pages))
    return replace(capture, documents=tuple(docs), dropped=(*capture.dropped, *dropped))
