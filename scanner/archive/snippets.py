"""Search snippets: the passage of a document that best shows why it matched.

A query word typed with its marks (``giấy``) highlights only that word as
written — never ``giày`` or ``giây``, which a clerk would read as a wrong
match — while a word typed without marks (``giay``) highlights every word
that folds to it, as the search itself matched them. The passage shown is
the window holding the most distinct query words (then the most matches), so
a long decision shows the paragraph about the citizen, not its first mention
of a common word in the letterhead. Highlights are cut from the original
text, so the marks the officer sees are those on the paper.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)


def _fold(text: str) -> str:
    # the catalog owns the folding rule and imports this module, so its rule is fetched when first used
    from scanner.archive.catalog import fold

    return fold(text)


@dataclass(frozen=True)
class _Term:
    text: str  # lower case, NFC
    exact: bool  # typed with marks: must match as written

    def matches(self, word: str) -> bool:
        lower = word.lower()
        return lower == self.text if self.exact else _fold(lower) == self.text


def query_terms(query: str) -> list[_Term]:
    """The query's words (quotes and operators dropped), each to be matched exactly or folded."""
    terms: dict[str, _Term] = {}
    for word in _WORD.findall(unicodedata.normalize("NFC", query)):
        lower = word.lower()
        folded = _fold(lower)
        term = _Term(lower, True) if folded != lower else _Term(folded, False)
        terms.setdefault(f"{term.exact}:{term.text}", term)
    return list(terms.values())


def snippet(text: str, query: str, width: int = 160) -> str:
    """About WIDTH characters of TEXT around its best passage, matched words in [brackets]."""
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    terms = query_terms(query)
    hits = [(m.start(), m.end(), i) for m in _WORD.finditer(flat) for i, t in enumerate(terms) if t.matches(m.group())]
    if not hits:
        return _cut(flat, 0, width, [])
    best, best_score = 0, (-1, -1)
    for i, (start, _, _) in enumerate(hits):
        inside = [h for h in hits[i:] if h[1] <= start + width]
        score = (len({h[2] for h in inside}), len(inside))
        if score > best_score:
            best, best_score = i, score
    first = hits[best][0]
    last_end = max(h[1] for h in hits[best:] if h[1] <= first + width)
    lead = max(0, min(width // 4, width - (last_end - first)))  # a little context before, never at the cost of a match
    return _cut(flat, max(0, first - lead), width, hits)


def _cut(flat: str, start: int, width: int, hits: list[tuple[int, int, int]]) -> str:
    while start > 0 and flat[start - 1].isalnum():
        start -= 1
    end = min(len(flat), start + width)
    while end < len(flat) and flat[end].isalnum():
        end += 1
    out, pos = [], start
    for s, e, _ in hits:
        if s < start or e > end:
            continue
        out.append(flat[pos:s])
        out.append(f"[{flat[s:e]}]")
        pos = e
    out.append(flat[pos:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(flat) else "")
