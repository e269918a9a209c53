"""Where the page, as read, says something else than the values a clerk or a manifest gave for it.

A result filed from a manifest (backfill) or with a clerk's sidecar is
catalogued under the values given, not the ones read; the read ones stay in
``fields``. When the two disagree, one of them is wrong and only a person
holding the paper can tell which, so each disagreement names the field,
both values and a sentence for the officer.

A number agrees when the whole code matches or when only the number part
was given ("796" for "796/KH-STP"). A value the page does not show is no
disagreement: a missed field is the reader's gap, not a conflict. The
validity is compared only when the caller passes what it was given
(``None`` meaning "không thời hạn"), because most callers know no term.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.extract import DocumentFields


class Checked(enum.Enum):
    """The fields compared, each with how the officer reads its name."""

    CODE_NUMBER = ("code_number", "số/ký hiệu")
    ISSUED_DATE = ("issued_date", "ngày ban hành")
    VALID_UNTIL = ("valid_until", "thời hạn hiệu lực")

    def __init__(self, field_name: str, label_vi: str) -> None:
        self.field_name = field_name
        self.label_vi = label_vi


class _NotGiven(enum.Enum):
    NOT_GIVEN = 0


NOT_GIVEN = _NotGiven.NOT_GIVEN
NO_TERM_VI = "không thời hạn"


@dataclass(frozen=True)
class Disagreement:
    field: Checked
    on_page: str  # as the officer reads it: "796/KH-STP", "29/06/2021"
    given: str
    confidence: float  # of the value read on the page

    def text_vi(self, source_vi: str = "bảng kê") -> str:
        """The sentence for the officer; SOURCE_VI names where the given value came from."""
        return f"khác trang: {self.field.label_vi} trên trang là {self.on_page}, {source_vi} ghi {self.given}"


def disagreements(
    fields: DocumentFields | Mapping[str, object],
    *,
    result_number: str,
    issued_date: date | str | None,
    valid_until: date | str | None | _NotGiven = NOT_GIVEN,
) -> tuple[Disagreement, ...]:
    """FIELDS (read from the page, or their ``as_dict()`` form as the catalog keeps it) against the given values."""
    read = fields.as_dict() if not isinstance(fields, Mapping) else fields
    out: list[Disagreement] = []
    number, number_conf = _value(read, "number")
    notation, _ = _value(read, "notation")
    given_number = result_number.replace(" ", "")
    if number and given_number:
        printed = f"{number}/{notation}" if notation else number
        if not (given_number == printed.replace(" ", "") or given_number.split("/")[0] == number):
            out.append(Disagreement(Checked.CODE_NUMBER, printed, result_number.strip(), number_conf))
    read_date, date_conf = _value(read, "issued_date")
    given_date = _iso(issued_date)
    if read_date and given_date and read_date != given_date:
        out.append(Disagreement(Checked.ISSUED_DATE, _shown(read_date), _shown(given_date), date_conf))
    if valid_until is not NOT_GIVEN:
        until, until_conf = _value(read, "valid_until")
        term, term_conf = _value(read, "validity_term")
        given_until = _iso(valid_until)
        if until and until != given_until:
            out.append(Disagreement(Checked.VALID_UNTIL, _shown(until), _shown(given_until) or NO_TERM_VI, until_conf))
        elif not until and term and not given_until:  # a term whose end could not be computed
            out.append(Disagreement(Checked.VALID_UNTIL, _term_vi(term), NO_TERM_VI, term_conf))
    return tuple(out)


def _value(read: Mapping[str, object], name: str) -> tuple[str, float]:
    value = read.get(name)
    conf = 0.0
    if isinstance(value, Mapping):
        c = value.get("confidence")
        conf = float(c) if isinstance(c, (int, float)) else 0.0
        value = value.get("value")
    return (str(value).strip() if value else ""), conf


def _iso(value: date | str | None) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return (value or "").strip()


def _shown(iso: str) -> str:
    """An ISO date the way Vietnamese papers write it (29/06/2021); anything else unchanged."""
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def _term_vi(term: str) -> str:
    """ "P6M" as the paper says it: "6 tháng"."""
    units = {"D": "ngày", "M": "tháng", "Y": "năm"}
    if term.startswith("P") and term[-1:] in units and term[1:-1].isdigit():
        return f"{term[1:-1]} {units[term[-1]]}"
    return term
