"""Reading a document's metadata from its first page: number, type, date, issuer, subject, owners.

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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from scanner import codes
from scanner.model import OcrPage, Word

REVIEW_BELOW = 80.0

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
_HOLDER = re.compile(r"(?:Họ,? chữ đệm,? (?:và )?tên|Họ và tên|Họ tên)\s*(?:khai sinh)?\s*:\s*(?P<name>[^\n:]{3,60})")
_HOLDER_ID = re.compile(
    r"(?:Số định danh(?: cá nhân)?|Số CCCD|Căn cước công dân(?: số)?|CCCD|Số căn cước)\s*:?\s*(?P<id>\d{12})",
    re.IGNORECASE,
)
# Lines that end the subject: the body's opening words, the signer's block, labelled fields of a certificate.
_NOT_SUBJECT = re.compile(r"(Căn cứ|Kính gửi|Điều \d|Hôm nay|TM\.|KT\.|TL\.|TUQ\.|Nơi nhận|[^:]{2,40}:\s)")
_BODY_START = re.compile(r"(Căn cứ|Kính gửi|Điều \d|Hôm nay|Thực hiện|Theo đề nghị)")
_MOTTO = ("CỘNG HÒA", "CỘNG HOÀ", "ĐỘC LẬP", "TỰ DO", "HẠNH PHÚC")


@dataclass(frozen=True)
class Field:
    """One extracted value, its confidence, and whether a person should confirm it."""

    value: str
    confidence: float

    @property
    def needs_review(self) -> bool:
        return self.confidence < REVIEW_BELOW


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
    personal_ids: tuple[str, ...] = ()
    tax_codes: tuple[str, ...] = ()
    review: tuple[str, ...] = field(default=())  # names of fields to confirm

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in (
            "number", "notation", "code_number", "type_abbr", "type_name", "issuer_abbr", "issued_date",
            "place", "issuer", "subject", "holder_name", "holder_id",
        ):  # fmt: skip
            f = getattr(self, name)
            if f is not None:
                out[name] = {"value": f.value, "confidence": f.confidence, "needs_review": f.needs_review}
        out["personal_ids"] = list(self.personal_ids)
        out["tax_codes"] = list(self.tax_codes)
        out["review"] = list(self.review)
        return out


@dataclass(frozen=True)
class _Line:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.left + w.width for w in self.words)

    @property
    def height(self) -> int:
        return max(w.height for w in self.words)

    @property
    def conf(self) -> float:
        return sum(w.conf for w in self.words) / len(self.words)

    @property
    def low(self) -> float:
        return min(w.conf for w in self.words)


def _lines(page: OcrPage) -> list[_Line]:
    groups: dict[int, list[Word]] = {}
    for w in page.words:
        groups.setdefault(w.line, []).append(w)
    lines = [_Line(tuple(sorted(ws, key=lambda w: w.left))) for ws in groups.values()]
    return sorted(lines, key=lambda ln: (ln.top, ln.left))


def _conf_of(line: _Line, text: str) -> float:
    """Confidence of TEXT on LINE: that of its least certain word (one misread letter spoils a value)."""
    parts = set(text.split())
    ws = [w for w in line.words if w.text in parts or any(p in w.text for p in parts)]
    return round(min(w.conf for w in ws), 1) if ws else round(line.low, 1)


def _is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.9


def _fold(text: str) -> str:
    d = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in d if not unicodedata.combining(c)).upper()


def extract_fields(page: OcrPage) -> DocumentFields:
    """The metadata fields of the document whose first page is PAGE."""
    lines = _lines(page)
    values: dict[str, Field] = {}
    mid = page.width / 2 if page.width else max((ln.right for ln in lines), default=0) / 2

    number_line: _Line | None = None
    for ln in lines[:30]:
        m = _NUMBER.search(ln.text)
        if m:
            number_line = ln
            conf = _conf_of(ln, m.group(0))
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

    # The place-date line is in the header (right column, above the type name); a date further down
    # belongs to the body ("Căn cứ Luật … ngày 19 tháng 6 năm 2015") and is not the document's.
    header_bottom = (page.height or max((ln.top for ln in lines), default=0) * 3) * 0.3
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
        conf = round(_conf_of(ln, m.group(0)) * penalty, 1)
        values["issued_date"] = Field(day.isoformat(), conf)
        place = (m["place"] or "").strip(" .:")
        if place and not re.search(r"\d", place):
            values["place"] = Field(place, conf)
        break

    type_line_index: int | None = None
    for i, ln in enumerate(lines[:40]):
        text = ln.text.strip()
        if not _is_upper(text) or any(mk in text for mk in _MOTTO):
            continue
        folded = _fold(text)
        for name in _TYPE_NAMES:
            if folded == _fold(name) or (folded.startswith(_fold(name)) and len(folded) <= len(name) + 30):
                type_line_index = i
                if "type_name" not in values or _fold(values["type_name"].value) != folded:
                    guessed = name if folded == _fold(name) else text.capitalize()
                    values["type_name"] = Field(guessed, _conf_of(ln, text) * (1.0 if folded == _fold(name) else 0.85))
                break
        if type_line_index is not None:
            break

    if type_line_index is not None:
        subject_lines: list[_Line] = []
        base = lines[type_line_index]
        for ln in lines[type_line_index + 1 : type_line_index + 6]:
            text = ln.text.strip()
            gap = ln.top - (subject_lines[-1].top if subject_lines else base.top)
            centre = (ln.left + ln.right) / 2
            if (
                gap > 3.5 * max(ln.height, base.height)
                or _NOT_SUBJECT.match(text)
                or abs(centre - mid) > 0.15 * 2 * mid  # the trích yếu is centred; body and labels are not
            ):
                break
            subject_lines.append(ln)
            if text.endswith((".", ":")):
                break
        if subject_lines:
            text = " ".join(ln.text.strip() for ln in subject_lines)
            values["subject"] = Field(text, round(min(ln.low for ln in subject_lines), 1))
    else:
        for ln in lines[:30]:
            if re.match(r"V/v\b|Về việc\b", ln.text.strip()):
                values["subject"] = Field(ln.text.strip(), round(ln.low * 0.9, 1))
                break

    limit = number_line.top if number_line is not None else (page.height or 10**9) * 0.2
    issuer_lines = [
        ln
        for ln in lines
        if ln.top < limit and ln.right <= mid * 1.1 and _is_upper(ln.text) and not any(m in ln.text for m in _MOTTO)
    ]
    if issuer_lines:
        text = " / ".join(ln.text.strip() for ln in issuer_lines)
        values["issuer"] = Field(text, round(min(ln.low for ln in issuer_lines), 1))

    full = "\n".join(ln.text for ln in lines)
    m = _HOLDER.search(full)
    if m:
        name = m["name"].strip()
        holder_line = next((ln for ln in lines if name in ln.text), None)
        values["holder_name"] = Field(name, _conf_of(holder_line, name) if holder_line else 50.0)
    m = _HOLDER_ID.search(full)
    if m and codes.parse_personal_id(m["id"]):
        values["holder_id"] = Field(m["id"], 90.0)

    personal = tuple(dict.fromkeys(v for v in _PERSONAL.findall(full) if codes.parse_personal_id(v)))
    taxes = tuple(dict.fromkeys(v for v in _TAX.findall(full) if codes.is_tax_code(v)))
    review = tuple(k for k, f in values.items() if f.needs_review)
    return DocumentFields(**values, personal_ids=personal, tax_codes=taxes, review=review)


def first_page_fields(pages: Sequence[OcrPage]) -> DocumentFields:
    return extract_fields(pages[0]) if pages else DocumentFields()
