"""Small letters (a phone photo, a 150 dpi scan) are recognized from a 2× copy; the boxes come back on the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from scanner import clean
from scanner.clean import CleanOptions, clean_page
from scanner.model import PageImage
from scanner.ocr import OcrOptions, ocr_page
from tests.conftest import PAGE_LINES, render_lines
from tests.ocr.hocr import hocr_page

LINES = PAGE_LINES[3:] * 4  # body text, mostly lower case; enough letters for the estimate


def _page(tmp_path: Path, dpi: int, size_pt: float = 12) -> PageImage:
    path = tmp_path / f"scan-{dpi}.png"
    img = render_lines(LINES, dpi=dpi, size_pt=size_pt)
    img.save(path, dpi=(dpi, dpi))
    return PageImage(path=path, width=img.width, height=img.height, dpi=dpi, source=path.name)


@pytest.mark.parametrize(("dpi", "small"), [(120, True), (150, True), (250, False), (300, False)])
def test_letter_height_follows_the_resolution(tmp_path: Path, dpi: int, small: bool) -> None:
    """12 pt body text: small for the recognizer at a phone's 120-150 dpi, not at 250-300 dpi."""
    grey = clean.recognizer_grey(clean._read(_page(tmp_path, dpi).path))
    mask = clean._ink_mask(grey)  # 1200 px wide: at 300 dpi the heights are measured at half size and scaled back
    height = clean.x_height(mask, mask.shape[1] / grey.shape[1])
    assert (0 < height < clean.MIN_X_HEIGHT) == small
    assert abs(height - 0.075 * dpi) <= 0.2 * 0.075 * dpi  # about 5.4 pt of a 12 pt serif


def test_small_letters_are_recognized_from_a_doubled_copy(tmp_path: Path) -> None:
    page = _page(tmp_path, 120)
    cleaned = clean_page(page, tmp_path / "clean")
    with Image.open(cleaned.ocr_image) as im:
        assert im.size == (2 * page.width, 2 * page.height)
    assert cleaned.image.width == page.width  # the archival page keeps the scan's pixels
    off = clean_page(page, tmp_path / "off", CleanOptions(upscale=False))
    with Image.open(off.ocr_image) as im:
        assert im.size == (page.width, page.height)


def test_a_300_dpi_page_is_not_enlarged(tmp_path: Path) -> None:
    page = _page(tmp_path, 300)
    cleaned = clean_page(page, tmp_path / "clean")
    with Image.open(cleaned.ocr_image) as im:
        assert im.size == (page.width, page.height)


def test_boxes_read_on_the_doubled_copy_come_back_on_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tesseract is told twice the dpi and reads at twice the size; the words land where they are on the scan."""
    from scanner.tools import tesseract

    page = _page(tmp_path, 120)
    cleaned = clean_page(page, tmp_path / "clean")
    seen: dict[str, object] = {}

    def fake_hocr(image: Path, *, languages: tuple[str, ...], dpi: int, timeout: float, psm: int = 3) -> str:
        seen["dpi"] = dpi
        return hocr_page([[("Giấy", (240, 400, 400, 440), 93), ("tờ", (420, 400, 480, 440), 93)]])

    monkeypatch.setattr(tesseract, "hocr", fake_hocr)
    ocr = ocr_page(
        cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=page.dpi, options=OcrOptions()
    )
    assert seen["dpi"] == 240
    assert [(w.left, w.top, w.width, w.height) for w in ocr.words] == [(120, 200, 80, 20), (210, 200, 30, 20)]
    assert ocr.width == page.width
