"""The first page as the rules see it: lines of positioned words, a searchable text, and the Field a rule returns.

The recognizer reports words with boxes and a line number; the rules need
lines ordered top to bottom (their geometry decides what is a subject, a body
or a signer block) and one text to run phrases over that may wrap across
lines. A value's confidence must come from the words it was read from, not
from the whole line: one unsure letter in a date spoils the date, an unsure
word elsewhere on its line does not. ``PageText`` keeps each character's word
so a regular-expression match can be traced back to its words.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from scanner.model import OcrPage, Word

REVIEW_BELOW = 80.0


@dataclass(frozen=True)
class Field:
    """One extracted value, its confidence, and whether a person should confirm it."""

    value: str
    confidence: float

    @property
    def needs_review(self) -> bool:
        return self.confidence < REVIEW_BELOW


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.top + w.height for w in self.words)

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.left + w.width for w in self.words)

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2

    @property
    def height(self) -> int:
        return max(w.height for w in self.words)

    @property
    def conf(self) -> float:
        return sum(w.conf for w in self.words) / len(self.words)

    @property
    def low(self) -> float:
        return min(w.conf for w in self.words)


def page_lines(page: OcrPage) -> list[Line]:
    """The page's lines top to bottom, their words composed (NFC): the rules and the catalog spell one way."""
    groups: dict[int, list[Word]] = {}
    for w in page.words:
        text = unicodedata.normalize("NFC", w.text)
        groups.setdefault(w.line, []).append(w if text == w.text else replace(w, text=text))
    lines = [Line(tuple(sorted(ws, key=lambda w: w.left))) for ws in groups.values()]
    return sorted(lines, key=lambda ln: (ln.top, ln.left))


def conf_of(line: Line, text: str) -> float:
    """Confidence of TEXT on LINE: that of its least certain word (one misread letter spoils a value)."""
    parts = set(text.split())
    ws = [w for w in line.words if w.text in parts or any(p in w.text for p in parts)]
    return round(min(w.conf for w in ws), 1) if ws else round(line.low, 1)


def is_upper(text: str, share: float = 0.9) -> bool:
    """Whether TEXT is in capitals; a lower SHARE lets a line with a letter OCR lowered still count."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > share


def fold(text: str) -> str:
    """Upper case without tone marks, for comparing words whose marks OCR may have lost."""
    d = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in d if not unicodedata.combining(c)).upper()


def fold_chars(text: str) -> str:
    """Lower case without marks, one character for each of TEXT's, so a match's offsets fit the original."""
    out = []
    for c in text:
        base = unicodedata.normalize("NFD", "d" if c in "đĐ" else c)[0].lower()
        out.append(base if len(base) == 1 else c)
    return "".join(out)


class PageText:
    """The page's lines joined by newlines, each character knowing its word, for phrases that wrap."""

    def __init__(self, lines: list[Line]) -> None:
        parts: list[str] = []
        owners: list[Word | None] = []
        for ln in lines:
            for i, w in enumerate(ln.words):
                if i:
                    parts.append(" ")
                    owners.append(None)
                parts.append(w.text)
                owners.extend([w] * len(w.text))
            parts.append("\n")
            owners.append(None)
        self.text = "".join(parts)
        self.folded = fold_chars(self.text)
        self._owners = owners

    def words(self, start: int, end: int) -> list[Word]:
        seen: dict[int, Word] = {}
        for w in self._owners[start:end]:
            if w is not None:
                seen[id(w)] = w
        return list(seen.values())

    def conf(self, start: int, end: int) -> float:
        ws = self.words(start, end)
        return round(min(w.conf for w in ws), 1) if ws else 0.0
