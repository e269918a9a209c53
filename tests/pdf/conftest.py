"""Pages for the PDF builder, drawn in code with their word boxes known.

A page is rendered with a serif font that has the Vietnamese glyphs, and
each word's box is measured from the same drawing, so the OcrPage is what a
perfect recognizer would return: the tests exercise the builder, not Tesseract.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from scanner.model import OcrPage, PageImage, PdfMetadata, PdfPage, Word

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"

LINES = (
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Cộng hòa xã hội chủ nghĩa Việt Nam",
    "Giấy khai sinh",
    "Ủy ban nhân dân phường Bến Nghé xác nhận",
    "ông Nguyễn Văn Thẩm, sinh ngày 12 tháng 3 năm 1985.",
)

MakePage = Callable[..., PdfPage]


def fold(text: str) -> str:
    """TEXT with every run of whitespace made one space: what a search index sees."""
    return re.sub(r"\s+", " ", text).strip()


def draw_page(
    lines: Sequence[str], *, dpi: int = 200, mode: str = "RGB", size: tuple[float, float] = (8.27, 11.69)
) -> tuple[Image.Image, OcrPage]:
    """A page with LINES in 14 pt type one inch from the top left, and the OcrPage of its words."""
    width, height = round(size[0] * dpi), round(size[1] * dpi)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, round(14 * dpi / 72))
    space = draw.textlength(" ", font=font)
    words: list[Word] = []
    y = dpi
    for number, line in enumerate(lines):
        x = float(dpi)
        for text in line.split():
            left, top, right, bottom = (round(v) for v in draw.textbbox((x, y), text, font=font))
            draw.text((x, y), text, font=font, fill=(20, 20, 120))
            words.append(Word(text, left, top, right - left, bottom - top, 95.0, block=1, line=number))
            x += draw.textlength(text, font=font) + space
        y += round(14 * 1.8 * dpi / 72)
    ocr = OcrPage(text="\n".join(lines), words=tuple(words), confidence=95.0, width=width, height=height)
    return image.convert(mode), ocr


@pytest.fixture
def make_page(tmp_path: Path) -> MakePage:
    """Write a drawn page as FMT ("JPEG" or "PNG") and return its PdfPage."""
    counter = iter(range(1_000_000))

    def make(
        lines: Sequence[str] = LINES, *, dpi: int = 200, fmt: str = "JPEG", mode: str = "RGB", words: bool = True
    ) -> PdfPage:
        image, ocr = draw_page(lines, dpi=dpi, mode=mode)
        path = tmp_path / f"page-{next(counter)}.{'jpg' if fmt == 'JPEG' else 'png'}"
        image.save(path, format=fmt, dpi=(dpi, dpi), **({"quality": 85} if fmt == "JPEG" else {}))
        if not words:
            ocr = OcrPage(text="", words=(), confidence=0.0, width=ocr.width, height=ocr.height)
        page = PageImage(path=path, width=image.width, height=image.height, dpi=dpi, source=path.name)
        return PdfPage(image=page, ocr=ocr)

    return make


@pytest.fixture
def metadata() -> PdfMetadata:
    return PdfMetadata(
        title="Giấy khai sinh — Nguyễn Văn Thẩm",
        creator="Ủy ban nhân dân phường Bến Nghé",
        subject="Hồ sơ 000.00.53.H48-220921-0099",
        keywords=("000.00.53.H48-220921-0099", "000.00.53.H48-220921-0099.01"),
        properties={
            "dossier_code": "000.00.53.H48-220921-0099",
            "document_code": "000.00.53.H48-220921-0099.01",
            "agency_code": "000.00.53.H48",
            "procedure_code": "1.000894",
            "owner_id": "001085012345",
            "retention": "vĩnh viễn",
        },
    )
