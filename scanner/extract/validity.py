"""How long a paper is valid, from the phrase that says so ("có giá trị đến hết ngày 31 tháng 12 năm 2026").

The reuse lookup offers a citizen's papers that are still valid; a paper
whose end date is missed is offered forever as "không thời hạn", which is
worse than asking. So a phrase that announces a term ("có giá trị",
"có hiệu lực", "có giá trị sử dụng") is read in its three forms:

- an end date: "… đến (hết) ngày D tháng M năm Y", "… đến D/M/Y";
- a start and an end: "… (kể) từ ngày … đến (hết) ngày …";
- a term from the signing: "… (trong thời hạn) 06 tháng kể từ ngày ký/cấp",
  whose end is the issue date plus the term. Without a read issue date there
  is no end to give: the term is kept and ``valid_until`` is named for review.

Phrases are matched twice: as printed (full confidence), then with marks
dropped and each word reduced to the letters OCR rarely loses ("gia tri",
"hiêu luc", "thang"), like the loose date of the place-date line; a loose
match keeps its value but is lowered under the review threshold.

A term counted in months or years ends on the corresponding day of the last
month, or on that month's last day when it has none (how Bộ luật Dân sự 2015
Điều 147-148 count a term, as we read them); days are added as days.
"Không thời hạn", "vô thời hạn" or no phrase give no field and no flag.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from scanner.extract.page import REVIEW_BELOW, Field, PageText

LOOSE_PENALTY = 0.8

# Patterns run on the folded text (lower case, no marks, one character per original character).
_VALID = r"\bc\w{0,2}\s+(?:gi\w{0,2}\s+tr\w{0,2}|hi\w{0,3}\s+l\w{1,3})(?:\s+s\w{0,2}\s+d\w{2,4})?(?:\s+thi\s+h\w{2,4})?"
_TILL = r"(?:d\w{1,3}|t\w{1,2}i)\s+(?:h\w{1,3}\s+)?"  # đến (hết), tới
_FROM = r"(?:k\w{0,2}\s+)?t\w{1,2}\s+"  # (kể) từ
_DATE = (
    r"(?:ng\w{{0,3}}\s+)?(?:(?P<{p}d>\d{{1,2}})\s+th\w{{1,4}}\s+(?P<{p}m>\d{{1,2}})\s+n\w{{1,3}}\s+(?P<{p}y>\d{{4}})"
    r"|(?P<{p}d2>\d{{1,2}})\s*[/.-]\s*(?P<{p}m2>\d{{1,2}})\s*[/.-]\s*(?P<{p}y2>\d{{4}}))"
)
_SIGNING = r"(?:ng\w{0,3}\s+)?(?:k\w{0,2}|c\w{1,2}p|ban\s+h\w{2,4})\b"  # (ngày) ký / cấp / ban hành
_COUNT = r"(?P<n>\d{1,3}|mot|hai|ba|bon|sau|bay|tam|chin|muoi|muoi\s+hai)(?:\s*\([^)\n]{1,15}\))?"
_UNIT = r"(?P<unit>th\w{2,4}|ng\w{1,3}|n\w{1,3})"

_SPAN = re.compile(_VALID + r"\s+" + _FROM + _DATE.format(p="a") + r"\s*,?\s*" + _TILL + _DATE.format(p="b"))
_UNTIL = re.compile(_VALID + r"\s+" + _TILL + _DATE.format(p="b"))
_TERM = re.compile(
    _VALID
    + r"\s+(?:tr\w{1,3}\s+)?(?:v\w{1,3}\s+)?(?:th\w{1,3}\s+h\w{1,3}\s+(?:l\w\s+)?)?"
    + _COUNT
    + r"\s+"
    + _UNIT
    + r"\s+"
    + _FROM
    + r"(?:"
    + _SIGNING
    + r"|"
    + _DATE.format(p="a")
    + r")"
)
_FROM_SIGNING = re.compile(_VALID + r"\s+" + _FROM + _SIGNING)
_FROM_DATE = re.compile(_VALID + r"\s+" + _FROM + _DATE.format(p="a"))

# The words of these phrases as printed: a match made only of them (and numbers) keeps full confidence.
_PHRASE_WORDS = frozenset((
    "có", "giá", "trị", "hiệu", "lực", "sử", "dụng", "thi", "hành", "trong", "vòng", "thời", "hạn", "là", "kể", "từ",
    "đến", "hết", "tới", "ngày", "tháng", "năm", "ký", "cấp", "ban", "một", "hai", "ba", "bốn", "sáu", "bảy", "tám",
    "chín", "mười",
))  # fmt: skip
_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10}


@dataclass(frozen=True)
class Validity:
    """What the page says about its term; every part may be missing."""

    valid_from: Field | None = None
    valid_until: Field | None = None
    term: Field | None = None  # ISO 8601 duration as stated: "P6M", "P5Y", "P30D"
    until_unknown: bool = False  # a term is stated but its end could not be computed


def read_validity(text: PageText, issued: Field | None) -> Validity:
    """The term the page states, with ISSUED (the document's date as read) for terms counted from the signing."""
    folded = text.folded
    for m in _SPAN.finditer(folded):
        start, end = _date(m, "a"), _date(m, "b")
        if start and end:
            conf = _conf(text, m)
            if end < start:
                conf = min(conf, REVIEW_BELOW - 10)
            return Validity(Field(start.isoformat(), conf), Field(end.isoformat(), conf))
    for m in _UNTIL.finditer(folded):
        end = _date(m, "b")
        if end:
            conf = _conf(text, m)
            if issued is not None and end.isoformat() < issued.value:
                conf = min(conf, REVIEW_BELOW - 10)
            return Validity(valid_until=Field(end.isoformat(), conf))
    term = _TERM.search(folded)
    if term:
        return _term(text, term, issued)
    for m in _FROM_DATE.finditer(folded):
        start = _date(m, "a")
        if start:
            return Validity(valid_from=Field(start.isoformat(), _conf(text, m)))
    for m in _FROM_SIGNING.finditer(folded):
        if issued is not None:
            return Validity(valid_from=Field(issued.value, min(_conf(text, m), issued.confidence)))
    return Validity()


def _term(text: PageText, m: re.Match[str], issued: Field | None) -> Validity:
    count = m["n"].replace(" ", "")
    n = int(count) if count.isdigit() else 12 if count == "muoihai" else _NUMBER_WORDS[count]
    unit = m["unit"]
    kind = "M" if unit.startswith("th") else "D" if unit.startswith("ng") else "Y"
    conf = _conf(text, m)
    term = Field(f"P{n}{kind}", conf)
    explicit = _date(m, "a")
    if explicit is None and m["ad"] is None and m["ad2"] is None:
        start: date | None = date.fromisoformat(issued.value) if issued is not None else None
        conf = min(conf, issued.confidence) if issued is not None else conf
    else:
        start = explicit
    if start is None or n == 0:
        return Validity(term=term, until_unknown=True)
    end = start + timedelta(days=n) if kind == "D" else _add_months(start, n * (12 if kind == "Y" else 1))
    return Validity(Field(start.isoformat(), conf), Field(end.isoformat(), conf), term)


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date(m: re.Match[str], p: str) -> date | None:
    d, mo, y = (m[p + "d"], m[p + "m"], m[p + "y"]) if m[p + "d"] else (m[p + "d2"], m[p + "m2"], m[p + "y2"])
    if not d:
        return None
    try:
        day = date(int(y), int(mo), int(d))
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2200 else None


def _conf(text: PageText, m: re.Match[str]) -> float:
    """The phrase's least certain word, lowered when its words were only recognised with their marks dropped."""
    conf = text.conf(m.start(), m.end())
    words = (w.strip("(),.;:").lower() for w in text.text[m.start() : m.end()].split())
    exact = all(not w or w in _PHRASE_WORDS or re.fullmatch(r"[\d/.-]+", w) for w in words)
    return conf if exact else round(conf * LOOSE_PENALTY, 1)
