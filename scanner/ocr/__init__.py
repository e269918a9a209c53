"""Vietnamese OCR of cleaned pages: text, word boxes and confidences.

Tesseract's TSV is kept as words with their boxes (for the PDF text layer and
later field extraction) and joined into text in Tesseract's reading order:
block by block, so the two-column header of an administrative document (the
issuing body at left, the national motto at right) is read one block at a
time before the body. All text leaves this stage in NFC: Tesseract may emit
decomposed tone marks, and a search for "giấy" must find what it wrote.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from scanner.model import OcrPage, Word
from scanner.tools import tesseract


@dataclass(frozen=True)
class OcrOptions:
    languages: tuple[str, ...] = ("vie",)
    timeout_seconds: float = 180.0


def parse_tsv(data: str, width: int, height: int) -> OcrPage:
    """Turn Tesseract's TSV into an :class:`OcrPage`."""
    words: list[Word] = []
    lines: dict[tuple[int, int, int, int], list[Word]] = {}
    line_ids: dict[tuple[int, int, int, int], int] = {}
    reader = csv.reader(io.StringIO(data), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return OcrPage(text="", words=(), confidence=0.0, width=width, height=height)
    col = {name: i for i, name in enumerate(header)}
    for row in reader:
        if len(row) < len(header) or row[col["level"]] != "5":
            continue
        text = unicodedata.normalize("NFC", row[col["text"]]).strip()
        if not text:
            continue
        conf = float(row[col["conf"]])
        key = (
            int(row[col["page_num"]]),
            int(row[col["block_num"]]),
            int(row[col["par_num"]]),
            int(row[col["line_num"]]),
        )
        word = Word(
            text=text,
            left=int(row[col["left"]]),
            top=int(row[col["top"]]),
            width=int(row[col["width"]]),
            height=int(row[col["height"]]),
            conf=max(conf, 0.0),
            block=key[1],
            line=line_ids.setdefault(key, len(line_ids)),
        )
        lines.setdefault(key, []).append(word)
        words.append(word)
    text = "\n".join(" ".join(w.text for w in line) for line in lines.values())
    confidence = sum(w.conf * len(w.text) for w in words) / max(1, sum(len(w.text) for w in words))
    return OcrPage(text=text, words=tuple(words), confidence=round(confidence, 2), width=width, height=height)


def ocr_page(image: Path, *, width: int, height: int, dpi: float, options: OcrOptions = OcrOptions()) -> OcrPage:
    """Recognize one cleaned page image."""
    data = tesseract.tsv(image, languages=options.languages, dpi=int(round(dpi)), timeout=options.timeout_seconds)
    return parse_tsv(data, width, height)
