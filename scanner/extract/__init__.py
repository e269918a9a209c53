"""Reading a document's metadata from its first page: number, type, date, issuer, subject, term, names.

The layout of an administrative document is fixed by Nghị định 30/2020: the
issuing body top left (parent body above it), the national motto top right,
the number line ``Số: 796/KH-STP`` under the issuer, the italic place-date
line under the motto, then the type name in capitals and the subject
(trích yếu). The rules below follow that layout using the OCR words and their
positions, not just the text, because the two header columns are read block
by block and their order in the text is not guaranteed.

Every field carries a confidence (0-100): the recognizer's confidence in
the words it came from, lowered when the rule had to guess. Fields under the
review threshold are flagged for the clerk to confirm; a wrong number or
date copied silently into the catalog is worse than a question.

The subject ends where the body begins, and the body is told by its layout
as much as by its words: the trích yếu is centred under the type line in
lines of even spacing; the body opens after a wider gap, at the left margin
or with a first-line indent, spans the text width, or starts with "Căn cứ",
"Kính gửi", "Điều 1", "1.". A line that shows only one weak sign of being
body (a little off-centre, wide but centred) ends the subject too, but the
subject is then flagged: a subject cut short or run into the body is
better confirmed than trusted.

The term of validity (``validity.py``), the holder and the signer
(``names.py``) and the comparison with given values (``compare.py``) have
their own modules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from scanner import codes
from scanner.extract.compare import NOT_GIVEN, Checked, Disagreement, disagreements
from scanner.extract.names import read_holder, read_signer
from scanner.extract.page import REVIEW_BELOW, Field, Line, PageText, conf_of, fold, is_upper, page_lines
from scanner.extract.validity import read_validity
from scanner.model import OcrPage

__all__ = [
    "NOT_GIVEN",
    "REVIEW_BELOW",
    "Checked",
    "Disagreement",
    "DocumentFields",
    "Field",
    "disagreements",
    "extract_fields",
    "first_page_fields",
]

# Type abbreviation -> type name (Nghị định 30/2020 Phụ lục III).
TYPES: dict[str, str] = {
    "NQ": "Nghị quyết", "QĐ": "Quyết định", "CT": "Chỉ thị", "QC": "Quy chế", "QyĐ": "Quy định",
    "TC": "Thông cáo", "TB": "Thông báo", "HD": "Hướng dẫn", "CTr": "Chương trình", "KH": "Kế hoạch",
    "PA": "Phương án", "ĐA": "Đề án", "DA": "Dự án", "BC": "Báo cáo", "BB": "Biên bản", "TTr": "Tờ trình",
    "HĐ": "Hợp đồng", "CĐ": "Công điện", "BGN": "Bản ghi nhớ", "BTT": "Bản thỏa thuận", "GUQ": "Giấy ủy quyền",
    "GM": "Giấy mời", "GGT": "Giấy giới thiệu", "GNP": "Giấy nghỉ phép", "PG": "Phiếu gửi", "PC": "Phiếu chuyển",
    "PB": "Phiếu báo", "SY": "Bản sao y", "SL": "Bản sao lục", "TrS": "Bản trích sao",
}  # fmt: skip
# Specialised papers seen at counters; their type line has no abbreviation.
SPECIAL_TYPES = (
    "Giấy khai sinh", "Trích lục khai sinh", "Giấy chứng nhận kết hôn", "Trích lục kết hôn",
    "Giấy xác nhận tình trạng hôn nhân", "Giấy chứng tử", "Trích lục khai tử", "Giấy chứng nhận",
    "Giấy phép", "Giấy xác nhận", "Giấy đề nghị", "Tờ khai", "Đơn đề nghị", "Công văn",
)  # fmt: skip
_TYPE_NAMES = sorted({*TYPES.values(), *SPECIAL_TYPES}, key=len, reverse=True)
_ABBR_FOLDED = {codes_key.upper(): codes_key for codes_key in TYPES}

_NUMBER = re.compile(
    r"\bS[ốôoỐÔO]\s*[:.]?\s*(?P<number>\d{1,5})\s*/\s*(?:(?P<year>(?:19|20)\d{2})\s*/\s*)?"
    r"(?P<notation>[0-9A-Za-zĐđƯư.]+(?:\s*-\s*[0-9A-Za-zĐđƯư.]+)*)"
)
_DATE = re.compile(
    r"(?:(?P<place>[^\n,]{2,40}),\s*)?ng[àa]y\s+(?P<d>\d{1,2})\s+th[áa]ng\s+(?P<m>\d{1,2})\s+n[ăa]m\s+(?P<y>\d{4})",
    re.IGNORECASE,
)
# The same line with its words misread (``ngàyy``, ``thang``, ``nam``): the three numbers carry the date; the
# value is then flagged for the clerk.
_LOOSE_DATE = re.compile(
    r"(?:(?P<place>[^\n,]{2,40}),\s*)?ng\w{1,3}\s+(?P<d>\d{1,2})\s+th\w{2,4}\s+(?P<m>\d{1,2})\s+n\w{1,3}\s+(?P<y>\d{4})",
    re.IGNORECASE,
)
_PERSONAL = re.compile(r"(?<!\d)\d{12}(?!\d)")
_TAX = re.compile(r"(?<![\d-])\d{10}(?:-\d{3})?(?![\d-])")
_HOLDER_ID = re.compile(
    r"(?:Số định danh(?: cá nhân)?|Số CCCD|Căn cước công dân(?: số)?|CCCD|Số căn cước)\s*:?\s*(?P<id>\d{12})",
    re.IGNORECASE,
)
# Lines that cannot be a subject: the body's opening words, numbered items, the signer's block, labelled fields.
_NOT_SUBJECT = re.compile(
    r"(Căn cứ|Kính gửi|Điều \d|Hôm nay|TM\.|KT\.|TL\.|TUQ\.|Q\.|Nơi nhận|[^:]{2,40}:\s"
    r"|(?:\d{1,2}|[IVX]{1,4})\s*[.)]\s|[a-zđ]\)\s)"
)
# Words that open a body paragraph but may also open a subject ("Thực hiện cải cách hành chính năm 2025").
_BODY_OPENING = re.compile(r"(Thực hiện|Theo đề nghị|Xét đề nghị|Xét|Để)\b")
_SUBJECT_LINES = 5
_BODY_START = re.compile(r"(Căn cứ|Kính gửi|Điều \d|Hôm nay|Thực hiện|Theo đề nghị)")
_MOTTO = ("CỘNG HÒA", "CỘNG HOÀ", "ĐỘC LẬP", "TỰ DO", "HẠNH PHÚC")


@dataclass(frozen=True)
class DocumentFields:
    number: Field | None = None  # "796"
    notation: Field | None = None  # "KH-STP"
    code_number: Field | None = None  # the whole "796/KH-STP" (CodeNumber + CodeNotation)
    type_abbr: Field | None = None  # "KH"
    type_name: Field | None = None  # "Kế hoạch"
    issuer_abbr: Field | None = None  # "STP"
    issued_date: Field | None = None  # ISO date "2021-06-29"
    place: Field | None = None  # "Khánh Hòa"
    issuer: Field | None = None  # "SỞ TƯ PHÁP" (with the parent body: "UBND TỈNH KHÁNH HÒA / SỞ TƯ PHÁP")
    subject: Field | None = None  # trích yếu
    holder_name: Field | None = None
    holder_id: Field | None = None
    valid_from: Field | None = None  # ISO date the paper is valid from, when the page says so
    valid_until: Field | None = None  # ISO date; None with "valid_until" in review: a term whose end is unknown
    validity_term: Field | None = None  # the stated term as an ISO 8601 duration: "P6M", "P5Y", "P30D"
    signer_name: Field | None = None  # "Nguyễn Văn An"
    signer_title: Field | None = None  # the title lines: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"
    personal_ids: tuple[str, ...] = ()
    tax_codes: tuple[str, ...] = ()
    review: tuple[str, ...] = field(default=())  # names of fields to confirm

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in (
            "number", "notation", "code_number", "type_abbr", "type_name", "issuer_abbr", "issued_date",
            "place", "issuer", "subject", "holder_name", "holder_id", "valid_from", "valid_until",
            "validity_term", "signer_name", "signer_title",
        ):  # fmt: skip
            f = getattr(self, name)
            if f is not None:
                out[name] = {"value": f.value, "confidence": f.confidence, "needs_review": f.needs_review}
        out["personal_ids"] = list(self.personal_ids)
        out["tax_codes"] = list(self.tax_codes)
        out["review"] = list(self.review)
        return out


def extract_fields(page: OcrPage) -> DocumentFields:
    """The metadata fields of the document whose first page is PAGE."""
    lines = page_lines(page)
    values: dict[str, Field] = {}
    mid = page.width / 2 if page.width else max((ln.right for ln in lines), default=0) / 2

    number_line: Line | None = None
    for ln in lines[:30]:
        m = _NUMBER.search(ln.text)
        if m:
            number_line = ln
            conf = conf_of(ln, m.group(0))
            notation = re.sub(r"\s+", "", m["notation"]).strip(".")
            values["number"] = Field(m["number"], conf)
            values["notation"] = Field(notation, conf)
            values["code_number"] = Field(f"{m['number']}/{(m['year'] + '/') if m['year'] else ''}{notation}", conf)
            head, _, rest = notation.partition("-")
            abbr = head if head in TYPES else _ABBR_FOLDED.get(head.upper())
            if abbr and rest:
                values["type_abbr"] = Field(abbr, conf)
                values["type_name"] = Field(TYPES[abbr], conf)
                values["issuer_abbr"] = Field(rest, conf)
            else:
                values["issuer_abbr"] = Field(notation, conf * 0.9)  # công văn: no type part
            break

    type_line_index: int | None = None
    for i, ln in enumerate(lines[:40]):
        text = ln.text.strip()
        if not is_upper(text, 0.7) or any(mk in text for mk in _MOTTO):  # the name is compared folded below
            continue
        folded = fold(text)
        for name in _TYPE_NAMES:
            if folded == fold(name) or (folded.startswith(fold(name)) and len(folded) <= len(name) + 30):
                type_line_index = i
                if "type_name" not in values or fold(values["type_name"].value) != folded:
                    guessed = name if folded == fold(name) else text.capitalize()
                    values["type_name"] = Field(guessed, conf_of(ln, text) * (1.0 if folded == fold(name) else 0.85))
                break
        if type_line_index is not None:
            break

    # The place-date line is in the header (right column, above the type name); a date further down
    # belongs to the body ("Căn cứ Luật … ngày 19 tháng 6 năm 2015") and is not the document's, even when
    # OCR garbled the "Căn cứ" that would tell it: nothing under the type line is looked at.
    header_bottom = (page.height or max((ln.top for ln in lines), default=0) * 3) * 0.3
    if type_line_index is not None:
        header_bottom = min(header_bottom, lines[type_line_index].top)
    for ln in lines[:40]:
        if ln.top > header_bottom or _BODY_START.match(ln.text.strip()):
            break
        m = _DATE.search(ln.text)
        penalty = 1.0
        if not m:
            m, penalty = _LOOSE_DATE.search(ln.text), 0.8
        if not m:
            continue
        try:
            day = date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            continue
        if ln.left < mid * 0.8:  # not in the right-hand column: perhaps a body line whose opening OCR garbled
            penalty *= 0.8
        conf = round(conf_of(ln, m.group(0)) * penalty, 1)
        values["issued_date"] = Field(day.isoformat(), conf)
        place = (m["place"] or "").strip(" .:")
        if place and not re.search(r"\d", place):
            values["place"] = Field(place, conf)
        break

    if type_line_index is not None:
        subject = _subject(lines, type_line_index, mid)
        if subject is not None:
            values["subject"] = subject
    else:
        for ln in lines[:30]:
            if re.match(r"V/v\b|Về việc\b", ln.text.strip()):
                values["subject"] = _letter_subject(lines, lines.index(ln))
                break

    limit = number_line.top if number_line is not None else (page.height or 10**9) * 0.2
    issuer_lines = [
        ln
        for ln in lines
        # 0.7: a line with one letter OCR lowered stays in, and its unsure word flags the issuer; a number
        # line OCR garbled ("S0: 12/QĐ") is not a name
        if ln.top < limit
        and ln.right <= mid * 1.1
        and (is_upper(ln.text) or (is_upper(ln.text, 0.7) and not re.search(r"\d", ln.text)))
        and not any(m in ln.text for m in _MOTTO)
    ]
    if issuer_lines:
        text = " / ".join(ln.text.strip() for ln in issuer_lines)
        values["issuer"] = Field(text, round(min(ln.low for ln in issuer_lines), 1))

    page_text = PageText(lines)
    full = page_text.text
    holder = read_holder(page_text)
    if holder is not None:
        values["holder_name"] = holder
    m = _HOLDER_ID.search(full)
    if m and codes.parse_personal_id(m["id"]):
        values["holder_id"] = Field(m["id"], 90.0)

    personal = tuple(dict.fromkeys(v for v in _PERSONAL.findall(full) if codes.parse_personal_id(v)))
    taxes = tuple(dict.fromkeys(v for v in _TAX.findall(full) if codes.is_tax_code(v)))
    validity = read_validity(page_text, values.get("issued_date"))
    for name, value in (
        ("valid_from", validity.valid_from), ("valid_until", validity.valid_until), ("validity_term", validity.term),
    ):  # fmt: skip
        if value is not None:
            values[name] = value
    signer = read_signer(lines, below=header_bottom, mid=mid)
    if signer.name is not None:
        values["signer_name"] = signer.name
    if signer.title is not None:
        values["signer_title"] = signer.title

    review = tuple(k for k, f in values.items() if f.needs_review)
    if validity.until_unknown:  # a term is printed but its end is not known: "không thời hạn" would be wrong
        review += ("valid_until",)
    return DocumentFields(**values, personal_ids=personal, tax_codes=taxes, review=review)


def _subject(lines: list[Line], type_index: int, mid: float) -> Field | None:
    """The trích yếu under the type line at TYPE_INDEX: centred lines of even spacing, up to the body."""
    base = lines[type_index]
    left_margin = min(ln.left for ln in lines)
    right_margin = max(ln.right for ln in lines)
    width = max(right_margin - left_margin, 1)
    taken: list[Line] = []
    pitch = 0
    sure = True
    for ln in lines[type_index + 1 :]:
        text = ln.text.strip()
        prev = taken[-1] if taken else base
        gap = ln.top - prev.top
        h = max(ln.height, base.height)
        off = abs(ln.centre - base.centre)
        tolerance = max(0.04 * width, 1.2 * h)
        if not taken:
            if gap > 3.5 * h or _NOT_SUBJECT.match(text) or off > 0.15 * 2 * mid:
                return None
            sure = off <= tolerance  # a first line well off the type line's centre may be body
        else:
            if len(taken) == _SUBJECT_LINES:
                sure = False  # five centred lines and still no body: where it ends is a guess
                break
            if _NOT_SUBJECT.match(text) or _BODY_OPENING.match(text) or (is_upper(text) and not is_upper(prev.text)):
                break  # "Căn cứ …", "1. …", "Kính gửi: …", or the authority line "CHỦ TỊCH ỦY BAN NHÂN DÂN …"
            signs = (
                ln.left - left_margin <= 1.2 * h,  # starts at the left margin
                right_margin - ln.right <= 1.2 * h and off > h / 2,  # runs to the right margin: justified
                ln.right - ln.left >= 0.88 * width,  # spans the text width
                off > tolerance,  # not centred under the type line
            )
            wide_gap = gap > 1.6 * pitch or gap > 3.5 * h
            if sum(signs) >= 2 or (wide_gap and any(signs)) or gap > 2.2 * pitch:
                break
            if any(signs) or wide_gap:
                sure = False  # one weak sign of body: stop here, but ask
                break
        taken.append(ln)
        pitch = gap
        if text.endswith((".", ":")):
            break
    if not taken:
        return None
    conf = round(min(ln.low for ln in taken), 1)
    return Field(" ".join(ln.text.strip() for ln in taken), conf if sure else min(conf, REVIEW_BELOW - 5))


def _letter_subject(lines: list[Line], first: int) -> Field:
    """An official letter's "V/v …" under its number, with the lines it wraps onto (same centre, same spacing).

    Without a type line there is less layout to go by, so the value is always lowered a little.
    """
    taken = [lines[first]]
    for ln in lines[first + 1 : first + 4]:
        prev = taken[-1]
        if (
            ln.top - prev.top > 1.6 * prev.height
            or abs(ln.centre - prev.centre) > 1.2 * prev.height
            or _NOT_SUBJECT.match(ln.text.strip())
            or _BODY_OPENING.match(ln.text.strip())
        ):
            break
        taken.append(ln)
    return Field(" ".join(ln.text.strip() for ln in taken), round(min(ln.low for ln in taken) * 0.9, 1))


def first_page_fields(pages: Sequence[OcrPage]) -> DocumentFields:
    return extract_fields(pages[0]) if pages else DocumentFields()
