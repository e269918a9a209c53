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
from collections import Counter

from scanner.text import fold

_WORD = re.compile(r"\w+", re.UNICODE)


_TABLES: dict[str, dict[int, str]] = {}


def _table(kind: str) -> dict[int, str]:
    """One character to one character (lower case, or folded): positions in the copy are positions in the text.

    Matching runs as one regular expression over a translated copy of the
    text, which keeps a thousand-hit search from folding word by word.
    """
    if kind not in _TABLES:
        table: dict[int, str] = {}
        for cp in (*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
            mapped = fold(chr(cp)) if kind == "fold" else chr(cp).lower()
            if len(mapped) == 1 and mapped != chr(cp):
                table[cp] = mapped
        _TABLES[kind] = table
    return _TABLES[kind]


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """The query's words (quotes and operators dropped): (typed with marks, lower case; typed without, folded)."""
    exact: dict[str, None] = {}
    folded: dict[str, None] = {}
    for word in _WORD.findall(unicodedata.normalize("NFC", query)):
        lower = word.lower()
        plain = fold(lower)
        if plain != lower:
            exact[lower] = None
        else:
            folded[plain] = None
    return list(exact), list(folded)


def _matches(flat: str, kind: str, words: list[str], offset: int) -> list[tuple[int, int, int]]:
    if not words:
        return []
    copy = flat.lower() if kind == "lower" else ""
    if len(copy) != len(flat):  # lower() is 8× faster than a table, but may change lengths (İ): then the table
        copy = flat.translate(_table(kind))
    alternatives = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    pattern = re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")
    return [(m.start(), m.end(), offset + words.index(m.group())) for m in pattern.finditer(copy)]


def snippet(text: str, query: str, width: int = 160) -> str:
    """About WIDTH characters of TEXT around its best passage, matched words in [brackets]."""
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    exact, folded = query_terms(query)
    hits = sorted(_matches(flat, "lower", exact, 0) + _matches(flat, "fold", folded, len(exact)))
    if not hits:
        return _cut(flat, 0, width, [])
    best, best_end, best_score = 0, 1, (-1, -1)
    end, inside = 0, Counter[int]()  # hits[i:end] fit in a window starting at hit i, by query word
    for i, (start, _, _) in enumerate(hits):
        while end < len(hits) and (end <= i or hits[end][1] <= start + width):
            inside[hits[end][2]] += 1
            end += 1
        score = (len(inside), end - i)
        if score > best_score:
            best, best_end, best_score = i, end, score
        inside[hits[i][2]] -= 1
        if not inside[hits[i][2]]:
            del inside[hits[i][2]]
    first = hits[best][0]
    last_end = hits[best_end - 1][1]
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
