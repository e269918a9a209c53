"""The real engine on generated pages (marked slow: a few seconds of Tesseract each; CI still runs them).

A page turned, tilted and stamped as a counter scans it must come back with
its text in reading order, the words under the red seal read, and the same
text from ``scanner ocr --sidecar`` as from the stages.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from scanner.clean import clean_page
from scanner.model import PageImage
from scanner.ocr import ocr_page

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))

pytestmark = pytest.mark.slow


def _cer(reference: str, hypothesis: str) -> float:
    ref, hyp = " ".join(reference.split()), " ".join(hypothesis.split())
    prev = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1] / max(1, len(ref))


def _scan(tmp_path: Path, dpi: int) -> tuple[PageImage, str]:
    from pagegen import add_noise, jpeg_roundtrip, page_text, render_page, rotate, skew, tint_paper
    from record import THONG_BAO  # the recorded fixture's document

    img = render_page(THONG_BAO, dpi, seal=True)
    img = rotate(skew(add_noise(tint_paper(img, (246, 240, 222)), 5, seed=2), 2.5), 90)
    img = jpeg_roundtrip(img, 75)
    path = tmp_path / "scan.jpg"
    img.save(path, quality=75, dpi=(dpi, dpi))
    return PageImage(path=path, width=img.width, height=img.height, dpi=dpi, source=path.name), page_text(THONG_BAO)


def test_turned_tilted_sealed_page_is_read_in_order(tmp_path: Path) -> None:
    page, truth = _scan(tmp_path, 300)
    cleaned = clean_page(page, tmp_path / "clean")
    assert cleaned.rotation == 90 and abs(cleaned.skew - 2.5) < 0.2
    with Image.open(cleaned.image.path) as im:  # the archival copy is upright and still in colour
        assert im.mode == "RGB" and im.width < im.height
    result = ocr_page(cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=300)
    assert unicodedata.is_normalized("NFC", result.text)
    assert result.text.splitlines()[:7] == truth.splitlines()[:7]
    assert _cer(truth, result.text) < 0.02
    assert "Phan Thị Hồng Nhung" in result.text  # the name the seal overlaps
    assert result.confidence > 85


def test_scanner_ocr_writes_pdf_and_sidecar(tmp_path: Path) -> None:
    from scanner.cli import main

    page, truth = _scan(tmp_path, 200)
    out, sidecar = tmp_path / "out.pdf", tmp_path / "out.txt"
    assert main(["ocr", str(page.path), "-o", str(out), "--sidecar", str(sidecar), "--jobs", "1"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    text = sidecar.read_text(encoding="utf-8")
    assert _cer(truth, text) < 0.03
    assert text.splitlines()[0] == "UBND QUẬN HẢI CHÂU"


def test_pages_read_in_one_run_read_as_each_alone(tmp_path: Path) -> None:
    # `scanner ocr` reads its pages with one Tesseract run per resolution: each page must come back the same
    # as read alone, and in its own place, even when pages of two resolutions are mixed.
    from pagegen import render_page
    from record import THONG_BAO

    from scanner.ocr import ocr_pages

    page = render_page(THONG_BAO, 300)
    bands = [page.crop((0, top, page.width, top + 500)) for top in (150, 700, 1250)]
    pages = []
    for i, band in enumerate(bands):
        dpi = 200 if i == 1 else 300
        if dpi != 300:
            band = band.resize((band.width * 2 // 3, band.height * 2 // 3), Image.Resampling.LANCZOS)
        path = tmp_path / f"trang-{i}.png"
        band.convert("L").save(path)
        pages.append((path, band.width, band.height, float(dpi)))
    together = ocr_pages(pages)
    alone = [ocr_page(p, width=w, height=h, dpi=d) for p, w, h, d in pages]
    assert [r.text for r in together] == [r.text for r in alone]
    assert len({r.text for r in together}) == 3 and all(r.text.strip() for r in together)
