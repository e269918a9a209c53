"""Personal names on the page: the holder a certificate is about, and the person who signed it.

A Vietnamese personal name is two to five syllables, each capitalised
("Nguyễn Thị Thẩm"); certificates often print it in capitals, which are
turned into that form so the catalog finds one spelling. What follows the
name on its line (", sinh ngày …", "Giới tính: Nữ") is cut off at the first
word that is not a capitalised syllable.

The holder is the value of a "Họ và tên" / "Họ, chữ đệm, tên" label, or the
name after "Ông/Bà" at the start of a line or after "cấp cho", "chứng nhận".

The signer stands at the bottom of the right-hand column: one to three
title lines in capitals ("TM. ỦY BAN NHÂN DÂN" / "KT. CHỦ TỊCH" /
"PHÓ CHỦ TỊCH"), the space for the signature and seal, then the name. The
seal and the signature come back from OCR as stray words, so the name is the
first name-shaped line under the titles, not simply the next line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from scanner.extract.page import REVIEW_BELOW, Field, Line, PageText, is_upper

_HOLDER_LABEL = re.compile(
    r"(?:Họ,?\s+chữ\s+đệm,?\s+(?:và\s+)?tên|Họ\s+và\s+tên|Họ\s+tên)(?:\s+khai\s+sinh)?[^:\n]{0,30}:\s*",
    re.IGNORECASE,
)
_HOLDER_TITLE = re.compile(
    r"(?:^|\n|\b(?i:cấp\s+cho|chứng\s+nhận|xác\s+nhận|cho)\s+)"
    r"(?:[Ôô]ng\s*/\s*[Bb]à|[Ôô]ng\s*\(\s*[Bb]à\s*\)|[Ôô]ng|[Bb]à)\s*:?\s+"
)
# The first words of a signer's title block: who signs for whom (TM., KT., Q., TL., TUQ.) or the office itself.
_SIGNER_TITLE = re.compile(
    r"^(?:TM|KT|Q|TL|TUQ|T/M)\s*\.|^(?:PHÓ\s+)?(?:CHỦ\s+TỊCH|GIÁM\s+ĐỐC|TRƯỞNG|CHÁNH|BỘ\s+TRƯỞNG|THỨ\s+TRƯỞNG|"
    r"CỤC\s+TRƯỞNG|VỤ\s+TRƯỞNG|TỔNG\s+GIÁM\s+ĐỐC|HIỆU\s+TRƯỞNG|VIỆN\s+TRƯỞNG|THỦ\s+TRƯỞNG|CÔNG\s+CHỨNG\s+VIÊN|"
    r"NGƯỜI\s+KÝ|NGƯỜI\s+CẤP|CÁN\s+BỘ|CÔNG\s+CHỨC)\b"
)
_SYLLABLE_MAX = 7  # "nghiêng" is the longest Vietnamese syllable


@dataclass(frozen=True)
class Signer:
    name: Field | None
    title: Field | None


def personal_name(words: list[str]) -> tuple[str, int, bool] | None:
    """The name at the start of WORDS in its capitalised NFC form, how many words it took, and whether one of
    them is odd (capitalised but not a well-formed syllable: "NNam", "Nguyễnn", as OCR garbles); None when the
    words do not start with a name of two to five syllables."""
    out: list[str] = []
    odd = False
    for i, raw in enumerate(words):
        w = unicodedata.normalize("NFC", raw).strip(",.;")
        if i >= 2 and _starts_label(words, i):
            break
        if _is_syllable(w):
            out.append(w if not w.isupper() or len(w) == 1 else w.capitalize())
        elif w.isalpha() and w[0].isupper() and len(w) <= _SYLLABLE_MAX + 2:
            out.append(w)
            odd = True
        else:
            break
        if raw.endswith((",", ";", ".")) or len(out) == 5:
            break
    if len(out) < 2 or (len(out) == 5 and len(words) > 5 and _is_syllable(words[5].strip(",.;"))):
        return None
    return " ".join(out), len(out), odd


def _is_syllable(w: str) -> bool:
    return bool(w) and w.isalpha() and len(w) <= _SYLLABLE_MAX and w[0].isupper() and (w[1:].islower() or w.isupper())


def _starts_label(words: list[str], i: int) -> bool:
    """Whether WORDS[i] opens the next label on the same line ("… Nguyễn Văn An Giới tính: Nam")."""
    for j in range(i, min(i + 4, len(words))):
        if words[j].endswith(":"):
            return all(w.islower() for w in words[i + 1 : j + 1] if w.strip(":"))
        if j > i and not words[j].islower():
            return False
    return False


def read_holder(text: PageText) -> Field | None:
    """The holder's name from its label, or from "Ông/Bà" where no label is printed."""
    for pattern, penalty in ((_HOLDER_LABEL, 1.0), (_HOLDER_TITLE, 0.9)):
        for m in pattern.finditer(text.text):
            rest = text.text[m.end() :].split("\n", 1)[0]
            found = personal_name(rest.split())
            if found is None:
                continue
            name, count, odd = found
            end = m.end() + len(" ".join(rest.split()[:count]))
            conf = round(text.conf(m.end(), end) * penalty, 1)
            after = rest.split()[count : count + 1]
            if after and after[0].isalpha() and text.conf(end + 1, end + 1 + len(after[0])) < REVIEW_BELOW:
                odd = True  # an unsure word right after the name may be its misread last syllable ("dức")
            return Field(name, min(conf, REVIEW_BELOW - 5) if odd else conf)
    return None


def read_signer(lines: list[Line], *, below: float, mid: float) -> Signer:
    """The signer's titles and name, looked for in the right-hand column under BELOW (the end of the header).

    A line in capitals that opens like a title may also be the body's authority line ("CHỦ TỊCH ỦY BAN NHÂN
    DÂN TỈNH", centred on the page): the block with a name under it wins, the lowest one otherwise. The block
    is every line in capitals at title spacing around the one recognised, so a first line OCR garbled
    ("KKT. CHỦ TỊCH") still belongs to it, and its low confidence flags the title.
    """
    right = [ln for ln in lines if ln.top > below and ln.centre > mid * 1.15 and ln.left > mid * 0.75]
    fallback = Signer(None, None)
    i = 0
    while i < len(right):
        if not (is_upper(right[i].text) and _SIGNER_TITLE.match(right[i].text.strip())):
            i += 1
            continue
        first = i
        while first > 0 and first > i - 2 and _title_pair(right[first - 1], right[first]):
            first -= 1
        last = i
        while last + 1 < len(right) and last < first + 3 and _title_pair(right[last], right[last + 1]):
            last += 1
        titles = right[first : last + 1]
        conf = round(min(t.low for t in titles), 1)
        if titles[0].text.startswith("PHÓ"):  # a deputy signs "KT. …" above: that line was missed
            conf = min(conf, REVIEW_BELOW - 5)
        title = Field(" / ".join(t.text.strip() for t in titles), conf)
        i = last + 1
        name = _name_under(right[i:], titles[-1])
        if name is not None:
            return Signer(name, title)
        fallback = Signer(None, title)
    return fallback


def _title_pair(upper: Line, lower: Line) -> bool:
    """Whether LOWER follows UPPER in one title block: both in capitals, at line spacing (the name is further)."""
    return (
        is_upper(upper.text, 0.7)
        and is_upper(lower.text, 0.7)
        and lower.top - upper.top <= 2.2 * max(upper.height, lower.height)
    )


def _name_under(lines: list[Line], last_title: Line) -> Field | None:
    """The first name-shaped line within the signature's space under LAST_TITLE (seal and ink read as words)."""
    reach = last_title.bottom + 14 * last_title.height  # the signature and seal take some 30 mm
    in_capitals: Field | None = None
    for cand in lines:
        if cand.top > reach:
            break
        found = personal_name(cand.text.split())
        if found is None or found[1] != len(cand.words) or _SIGNER_TITLE.match(cand.text.strip()):
            continue
        conf = round(min(w.conf for w in cand.words), 1)
        if found[2]:
            conf = min(conf, REVIEW_BELOW - 5)
        if not cand.text.isupper():
            return Field(found[0], conf)
        # a name in capitals, or the seal's words read as one: the clerk decides
        in_capitals = in_capitals or Field(found[0], min(conf, REVIEW_BELOW - 5))
    return in_capitals
