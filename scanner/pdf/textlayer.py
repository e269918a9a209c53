"""The invisible text layer: OCR words drawn over the page image in render mode 3.

Each word is placed on its box: the font size is the height of its line and
the horizontal scaling (Tz) stretches the word's glyphs, all of the same
width, to the width of its box. A text selection then covers the printed
word, and ``pdftotext`` finds the words where the eye sees them.

Words of one line share one baseline and one font size, because text
extractors join glyphs into a line only when both agree; the words' own
heights vary with accents and descenders ("Giấy" is taller than "ngày").
Between two words of a line a space character is drawn, stretched over the
gap, so extractors need not guess word breaks from distances.

Lines come from the recognizer's ``block``/``line`` numbers. Words that
share numbers but do not overlap vertically (hand-made words that left them
at 0, say) start a new line, so a missing numbering degrades to one line per
row of words instead of one line per page.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from scanner.model import Word
from scanner.pdf.font import ADVANCE, DESCENT, UNITS_PER_EM

_SPACE = " "


@dataclass(frozen=True)
class _Line:
    words: tuple[Word, ...]
    top: int
    bottom: int


def encode_text(text: str) -> bytes:
    """The two-byte codes (CID == Unicode code point) that draw TEXT with the glyphless font.

    Text is normalized to NFC so that Vietnamese letters are single precomposed
    code points, as search and ``pdftotext`` users expect. Characters outside
    the Basic Multilingual Plane cannot be CIDs of an Identity-H font and are
    dropped, as are control characters, which carry no text.
    """
    kept = [c for c in unicodedata.normalize("NFC", text) if ord(c) <= 0xFFFF and unicodedata.category(c)[0] != "C"]
    return "".join(kept).encode("utf-16-be")


def _lines(words: Sequence[Word]) -> Iterator[_Line]:
    """Group consecutive words into lines by their block/line numbers and vertical overlap."""
    current: list[Word] = []
    key: tuple[int, int] | None = None
    top = bottom = 0
    for word in words:
        if word.width <= 0 or word.height <= 0:
            continue
        w_top, w_bottom = word.top, word.top + word.height
        same = key == (word.block, word.line) and w_top < bottom and w_bottom > top
        if current and not same:
            yield _Line(tuple(current), top, bottom)
            current = []
        if not current:
            key, top, bottom = (word.block, word.line), w_top, w_bottom
        current.append(word)
        top, bottom = min(top, w_top), max(bottom, w_bottom)
    if current:
        yield _Line(tuple(current), top, bottom)


def _num(value: float) -> str:
    """A PDF number with at most three decimals and no exponent."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _show(codes: bytes, width_pt: float, size_pt: float) -> str:
    """Tz and Tj that draw CODES exactly WIDTH_PT wide at SIZE_PT."""
    natural = len(codes) // 2 * size_pt * ADVANCE / UNITS_PER_EM
    return f"{_num(100 * width_pt / natural)} Tz <{codes.hex()}> Tj"


def text_content(words: Sequence[Word], *, page_height_px: int, pt_per_px: float, font: str) -> bytes:
    """The content-stream operators of the text layer (empty when there is no word).

    WORDS have boxes in pixels of the page image (origin top left); the page
    is PAGE_HEIGHT_PX tall and PT_PER_PX is 72 / dpi. FONT is the resource
    name of the glyphless font (``/F1``).
    """
    ops: list[str] = []
    space = encode_text(_SPACE)
    for line in _lines(words):
        size = (line.bottom - line.top) * pt_per_px
        # The glyph box spans DESCENT..ASCENT around the baseline: put it on the line box.
        baseline = (page_height_px - line.bottom) * pt_per_px - size * DESCENT / UNITS_PER_EM
        encoded = [(w, encode_text(w.text)) for w in line.words]
        encoded = [(w, codes) for w, codes in encoded if codes]
        if encoded:
            ops.append(f"{font} {_num(size)} Tf")
        for i, (word, codes) in enumerate(encoded):
            ops.append(f"1 0 0 1 {_num(word.left * pt_per_px)} {_num(baseline)} Tm")
            ops.append(_show(codes, word.width * pt_per_px, size))
            if i + 1 < len(encoded):
                gap = encoded[i + 1][0].left - (word.left + word.width)
                # Overlapping boxes still get a (narrow) space, so the words stay apart.
                ops.append(_show(space, max(gap, 1) * pt_per_px, size))
    if not ops:
        return b""
    return ("q\nBT\n3 Tr\n" + "\n".join(ops) + "\nET\nQ\n").encode("ascii")
