"""Vietnamese OCR of cleaned pages: text, word boxes and confidences, in the document's reading order.

Tesseract's hOCR is kept as words with their boxes (for the PDF text layer
and later field extraction); it is read as hOCR rather than TSV because the
same run then also gives the characters the LSTM weighed, which the tone-mark
correction (:mod:`scanner.ocr.marks`) scores its candidates by. The
correction changes a word's text, never its box. Tesseract's line finder reads the two-column parts of an
administrative page row by row: "UBND TỈNH …  CỘNG HÒA XÃ HỘI …" comes out as
one line, the issuing body and the national motto interleaved. The words are
therefore put back in the order a reader follows (:func:`reading_order`):
the issuing body's block, then the motto's, then the number line, the
place-date line, and further down the "Nơi nhận" block before the signer's.

All text leaves this stage in NFC: Tesseract may emit decomposed tone marks,
and a search for "giấy" must find what it wrote.
"""

from __future__ import annotations

import csv
import html
import io
import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from scanner.model import OcrPage, Word
from scanner.ocr import marks
from scanner.ocr.marks import Choices
from scanner.tools import tesseract

# A "word" without a letter or digit read this unsurely is a speck, a seal's ring or a stroke of a
# signature; dropped, it can neither bridge a column gutter nor add a stray character to the text.
NOISE_CONF = 60.0
# A "word" this many times taller than the page's words and read this unsurely is a signature.
SCRIBBLE_HEIGHT = 2.2
SCRIBBLE_CONF = 50.0


def _is_letter(ch: str) -> bool:
    """Letters and digits, but not the spacing accents (ˆ ˜ ˋ) Tesseract reads off a seal's ring."""
    return unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lo", "Nd")


def _drop_scribbles(lines: list[list[Word]]) -> list[list[Word]]:
    words = [w for ln in lines for w in ln]
    if not words:
        return lines
    limit = SCRIBBLE_HEIGHT * statistics.median(w.height for w in words)
    kept = [[w for w in ln if w.height <= limit or w.conf >= SCRIBBLE_CONF] for ln in lines]
    return [ln for ln in kept if ln]


@dataclass(frozen=True)
class OcrOptions:
    languages: tuple[str, ...] = ("vie",)
    timeout_seconds: float = 180.0
    reading_order: bool = True  # two-column regions block by block; off = Tesseract's own order
    correct_marks: bool = True  # tone and vowel marks corrected (scanner.ocr.marks); the raw reading kept


# --- reading order --------------------------------------------------------------------------

Line = list[Word]


def _height(words: list[Word]) -> float:
    return statistics.median(w.height for w in words) if words else 0.0


def _split_at_gaps(line: Line, page_width: int, height: float) -> list[Line]:
    """Cut a line where a gap is wider than a column gutter: Tesseract joined two columns' rows."""
    words = sorted(line, key=lambda w: w.left)
    limit = max(1.5 * height, 0.03 * page_width)
    # A mark without a letter in a gap as wide as a gutter (an accent read off the column gap) would bridge it.
    words = [
        w
        for i, w in enumerate(words)
        if any(_is_letter(ch) for ch in w.text)
        or i == 0
        or i == len(words) - 1
        or words[i + 1].left - (words[i - 1].left + words[i - 1].width) <= limit
    ]
    out: list[Line] = [[words[0]]]
    for prev, word in zip(words, words[1:], strict=False):
        if word.left - (prev.left + prev.width) > limit:
            out.append([])
        out[-1].append(word)
    return out


@dataclass
class _Seg:
    words: Line
    left: int
    right: int
    top: int
    bottom: int

    @classmethod
    def of(cls, words: Line) -> _Seg:
        return cls(
            words,
            min(w.left for w in words),
            max(w.left + w.width for w in words),
            min(w.top for w in words),
            max(w.top + w.height for w in words),
        )


def _subtract(free: list[tuple[float, float]], lo: float, hi: float, min_width: float) -> list[tuple[float, float]]:
    out = []
    for a, b in free:
        for x, y in ((a, min(b, lo)), (max(a, hi), b)):
            if y - x >= min_width:
                out.append((x, y))
    return out


def _order_band(band: list[_Seg], gutter: float | None, height: float) -> list[_Seg]:
    """A band's segments in reading order: one column top to bottom, or two columns block by block."""
    band = sorted(band, key=lambda s: (s.top, s.left))
    if gutter is None:
        return band
    left = [s for s in band if s.right <= gutter]
    right = [s for s in band if s.left >= gutter]
    if not left or not right:
        return band
    blocks: list[tuple[int, int, list[_Seg]]] = []  # (top, side, segments)
    for side, segs in enumerate((left, right)):
        current = [segs[0]]
        for seg in segs[1:]:
            if seg.top - current[-1].bottom > 0.6 * height:
                blocks.append((current[0].top, side, current))
                current = []
            current.append(seg)
        blocks.append((current[0].top, side, current))
    blocks.sort(key=lambda b: b[0])
    ordered: list[_Seg] = []
    i = 0
    # Blocks that start on the same row, the left one first. "Same row" allows most of a line's
    # height: the signer's 14 pt capitals with their accents stand taller than "Nơi nhận:" in 12 pt.
    while i < len(blocks):
        j = i
        while j < len(blocks) and blocks[j][0] - blocks[i][0] <= 0.9 * height:
            j += 1
        for _, _, segs in sorted(blocks[i:j], key=lambda b: b[1]):
            ordered.extend(segs)
        i = j
    return ordered


def reading_order(lines: list[Line], page_width: int) -> list[Line]:
    """Lines in the order a reader follows, two-column regions read block by block.

    Lines are cut where Tesseract bridged a column gutter, then grouped top
    to bottom into bands: a band grows while some vertical gutter (in the
    middle half of the page) still separates all of its lines, and a line
    that crosses every gutter, such as a justified body line, closes it. A
    band with lines on both sides of its gutter is read column by column in
    blocks (runs of lines without a blank line between them), blocks that
    start level read left before right: the issuing body, the motto, the
    number, the place-date.
    """
    lines = [ln for ln in lines if ln]
    if not lines:
        return []
    height = _height([w for ln in lines for w in ln]) or 1.0
    segs = [_Seg.of(part) for ln in lines for part in _split_at_gaps(ln, page_width, height)]
    segs.sort(key=lambda s: (s.top, s.left))
    min_gutter = 0.01 * page_width
    pad = 0.2 * height
    middle = [(0.25 * page_width, 0.75 * page_width)]

    out: list[_Seg] = []
    band: list[_Seg] = []
    free = middle
    for seg in segs:
        narrowed = _subtract(free, seg.left - pad, seg.right + pad, min_gutter)
        if band and not narrowed:
            out.extend(_order_band(band, _gutter(free), height))
            band, narrowed = [], _subtract(middle, seg.left - pad, seg.right + pad, min_gutter)
        band.append(seg)
        free = narrowed
    out.extend(_order_band(band, _gutter(free), height))
    return [sorted(s.words, key=lambda w: w.left) for s in out]


def _gutter(free: list[tuple[float, float]]) -> float | None:
    if not free:
        return None
    a, b = max(free, key=lambda iv: iv[1] - iv[0])
    return (a + b) / 2


# --- Tesseract's output ----------------------------------------------------------------------

LineKey = tuple[int, int, int, int]  # page, block, paragraph, line


@dataclass(frozen=True)
class _Read:
    """A word as Tesseract reported it: its line, the word on the recognizer's grid, its alternatives."""

    key: LineKey
    word: Word
    choices: Choices | None = None


def _word(text: str, box: tuple[int, int, int, int], conf: float, block: int, scale: float) -> Word | None:
    """A Word on the archival grid (BOX is left, top, right, bottom), or None for a speck not worth keeping."""
    text = unicodedata.normalize("NFC", text).strip()
    conf = max(conf, 0.0)
    if not text or (conf < NOISE_CONF and not any(_is_letter(ch) for ch in text)):
        return None
    left, top, right, bottom = box
    return Word(
        text=text,
        left=round(left * scale),
        top=round(top * scale),
        width=max(1, round((right - left) * scale)),
        height=max(1, round((bottom - top) * scale)),
        conf=conf,
        block=block,
    )


def _tsv_words(data: str, scale: float) -> list[_Read]:
    reader = csv.reader(io.StringIO(data), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return []
    col = {name: i for i, name in enumerate(header)}
    out = []
    for row in reader:
        if len(row) < len(header) or row[col["level"]] != "5":
            continue
        key = (
            int(row[col["page_num"]]),
            int(row[col["block_num"]]),
            int(row[col["par_num"]]),
            int(row[col["line_num"]]),
        )
        left, top = int(row[col["left"]]), int(row[col["top"]])
        box = (left, top, left + int(row[col["width"]]), top + int(row[col["height"]]))
        word = _word(row[col["text"]], box, float(row[col["conf"]]), key[1], scale)
        if word is not None:
            out.append(_Read(key, word))
    return out


# The hOCR elements read: blocks, paragraphs, lines of every kind, words, and the LSTM's choices
# (``lstm_choice_mode=2``: per character step a group ``lstm_choices_*`` of ``choice_*`` spans).
_HOCR_TAG = re.compile(
    r"<(?:div|p|span) class='(?P<cls>ocr_carea|ocr_par|ocr_line|ocr_header|ocr_caption|ocr_textfloat"
    r"|ocrx_word|ocrx_cinfo)' id='(?P<id>[^']*)'[^>]*?(?: title=[\"'](?P<title>[^\"']*)[\"'])?[^>]*>(?P<text>[^<]*)"
)
_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_WCONF = re.compile(r"x_wconf (-?[\d.]+)")
_XCONF = re.compile(r"x_confs (-?[\d.]+)")


def _hocr_words(data: str, scale: float) -> list[_Read]:
    out: list[_Read] = []
    block = par = line = 0
    pending: tuple[str, tuple[int, int, int, int], float, LineKey] | None = None
    steps: list[list[tuple[str, float]]] = []

    def flush() -> None:
        if pending is None:
            return
        text, box, conf, key = pending
        word = _word(text, box, conf, key[1], scale)
        if word is not None:
            out.append(_Read(key, word, _choices(word.text, steps)))

    for m in _HOCR_TAG.finditer(data):
        cls, ident, title = m["cls"], m["id"], m["title"] or ""
        if cls == "ocrx_cinfo":
            if ident.startswith("lstm_choices"):
                steps.append([])
            elif steps:
                x = _XCONF.search(title)
                steps[-1].append((unicodedata.normalize("NFC", html.unescape(m["text"])), float(x[1]) if x else 0.0))
            continue
        flush()
        pending, steps = None, []
        number = int(ident.rsplit("_", 1)[-1]) if ident.rsplit("_", 1)[-1].isdigit() else 0
        if cls == "ocr_carea":
            block = number
        elif cls == "ocr_par":
            par = number
        elif cls == "ocrx_word":
            box = _BBOX.search(title)
            conf = _WCONF.search(title)
            if box:
                coords = (int(box[1]), int(box[2]), int(box[3]), int(box[4]))
                pending = (html.unescape(m["text"]), coords, float(conf[1]) if conf else 0.0, (1, block, par, line))
        else:
            line = number
    flush()
    return out


def _choices(text: str, steps: list[list[tuple[str, float]]]) -> Choices | None:
    """The alternatives per character of TEXT, when the LSTM's steps spell it (spaces left out), else None."""
    kept = tuple(tuple(s) for s in steps if s and s[0][0].strip())
    if len(kept) != len(text) or "".join(s[0][0] for s in kept) != text:
        return None
    return kept


def _page(reads: list[_Read], width: int, height: int, order: bool, correct: bool) -> OcrPage:
    """Words into lines in reading order, marks corrected line by line when CORRECT, the page's text."""
    lines: dict[LineKey, Line] = {}
    choices: dict[int, Choices | None] = {}  # by identity: two words may be equal dataclasses
    for r in reads:
        lines.setdefault(r.key, []).append(r.word)
        choices[id(r.word)] = r.choices
    kept = _drop_scribbles(list(lines.values()))
    ordered = reading_order(kept, width) if order else kept
    raw = _text(ordered)
    if correct:
        ordered = [
            [
                replace(w, text=t) if t != w.text else w
                for w, t in zip(ln, marks.correct([marks.Token(w.text, choices.get(id(w))) for w in ln]), strict=True)
            ]
            for ln in ordered
        ]
    numbered = [[replace(w, line=i) for w in ln] for i, ln in enumerate(ordered)]
    words = tuple(w for ln in numbered for w in ln)
    return OcrPage(
        text=_text(numbered),
        words=words,
        confidence=page_confidence(words),
        width=width,
        height=height,
        raw_text=raw,
    )


def _text(lines: list[Line]) -> str:
    return "\n".join(" ".join(w.text for w in ln) for ln in lines)


def parse_tsv(data: str, width: int, height: int, *, scale: float = 1.0, order: bool = True) -> OcrPage:
    """Turn Tesseract's TSV into an :class:`OcrPage`.

    SCALE maps the recognizer's pixels to the archival page's (pages
    recognized at a lower resolution than they were scanned at); ORDER puts
    the lines in reading order, else they stay in Tesseract's. TSV carries no
    alternatives, so marks are left as read.
    """
    return _page(_tsv_words(data, scale), width, height, order, correct=False)


def parse_hocr(
    data: str, width: int, height: int, *, scale: float = 1.0, order: bool = True, correct: bool = True
) -> OcrPage:
    """Turn Tesseract's hOCR (with ``lstm_choice_mode=2``) into an :class:`OcrPage`, marks corrected (CORRECT).

    The same words, boxes and lines as the TSV of the same run, plus the
    characters the LSTM weighed at each step, which score the corrections.
    """
    return _page(_hocr_words(data, scale), width, height, order, correct)


def page_confidence(words: tuple[Word, ...] | list[Word]) -> float:
    """Mean word confidence weighted by word length, 0-100: long words weigh more than stray marks."""
    chars = sum(len(w.text) for w in words)
    return round(sum(w.conf * len(w.text) for w in words) / chars, 2) if chars else 0.0


def ocr_page(image: Path, *, width: int, height: int, dpi: float, options: OcrOptions = OcrOptions()) -> OcrPage:
    """Recognize one cleaned page image; word boxes come back on the WIDTH × HEIGHT archival grid.

    The cleaning stage may hand over an image smaller than the archival page
    (high-resolution scans are recognized at 300 dpi): the ratio of the two
    widths scales the resolution given to Tesseract and the boxes it returns.
    """
    return ocr_pages([(image, width, height, dpi)], options)[0]


def ocr_pages(pages: Sequence[tuple[Path, int, int, float]], options: OcrOptions = OcrOptions()) -> list[OcrPage]:
    """:func:`ocr_page` of each (IMAGE, WIDTH, HEIGHT, DPI) of PAGES, with one Tesseract run per resolution.

    For a tool given all its pages at once (``scanner ocr``): Tesseract's
    start-up is paid once per run, not per page (``tesseract.hocr_pages``).
    """
    scales = []
    for image, width, _, _ in pages:
        with Image.open(image) as im:
            scales.append(width / im.width if im.width else 1.0)
    by_dpi: dict[int, list[int]] = {}
    for i, (_, _, _, dpi) in enumerate(pages):
        by_dpi.setdefault(int(round(dpi / scales[i])), []).append(i)
    data: dict[int, str] = {}
    for dpi, indices in by_dpi.items():
        images = [pages[i][0] for i in indices]
        read = tesseract.hocr_pages(images, languages=options.languages, dpi=dpi, timeout=options.timeout_seconds)
        data.update(zip(indices, read, strict=True))
    return [
        parse_hocr(data[i], width, height, scale=scales[i], order=options.reading_order, correct=options.correct_marks)
        for i, (_, width, height, _) in enumerate(pages)
    ]
