"""Fake OCR pages for the extraction tests: words placed where a typed page puts them, 20 px per character."""

from __future__ import annotations

from scanner.model import OcrPage, Word

WIDTH, HEIGHT = 1654, 2339  # A4 at 200 dpi
LEFT, RIGHT = 236, 1535  # 30 mm and 15 mm margins
CENTRE = (LEFT + RIGHT) // 2
Row = tuple[str, int, int] | tuple[str, int, int, int]  # (text, left, top) or (text, left, top, right): justified


def text_width(text: str) -> int:
    tokens = text.split()
    return sum(20 * len(t) for t in tokens) + 15 * (len(tokens) - 1)


def centred(text: str, top: int, centre: int = CENTRE) -> Row:
    return (text, centre - text_width(text) // 2, top)


def justified(text: str, top: int, left: int = LEFT, right: int = RIGHT) -> Row:
    """A body line spread from LEFT to RIGHT, as a justified paragraph prints it."""
    return (text, left, top, right)


def layout(rows: list[Row], *, conf: float = 95.0, width: int = WIDTH, height: int = HEIGHT) -> OcrPage:
    """An OcrPage from rows, one line each; words 40 px high."""
    words = []
    for line, row in enumerate(rows):
        text, left, top = row[0], row[1], row[2]
        tokens = text.split()
        space = 15.0
        if len(row) == 4 and len(tokens) > 1:
            space = (row[3] - left - sum(20 * len(t) for t in tokens)) / (len(tokens) - 1)  # type: ignore[misc]
        x = float(left)
        for token in tokens:
            words.append(Word(token, round(x), top, 20 * len(token), 40, conf, block=line, line=line))
            x += 20 * len(token) + space
    return OcrPage(text="\n".join(r[0] for r in rows), words=tuple(words), confidence=conf, width=width, height=height)


def with_conf(page: OcrPage, conf: float, *texts: str) -> OcrPage:
    """PAGE with the words TEXTS recognised at CONF."""
    words = tuple(
        Word(w.text, w.left, w.top, w.width, w.height, conf, w.block, w.line) if w.text in texts else w
        for w in page.words
    )
    return OcrPage(page.text, words, page.confidence, page.width, page.height)


HEADER: list[Row] = [
    ("ỦY BAN NHÂN DÂN", 300, 150),
    ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 800, 150),
    ("TỈNH KHÁNH HÒA", 310, 200),
    ("Độc lập - Tự do - Hạnh phúc", 900, 200),
    ("Số: 1250/QĐ-UBND", 290, 300),
    ("Khánh Hòa, ngày 29 tháng 6 năm 2021", 850, 300),
]
