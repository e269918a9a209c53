"""Reading order, noise words and box scaling, on Tesseract output recorded once (tests/ocr/data/record.py).

Tesseract's line finder reads the two-column header of an administrative page
row by row ("UBND QUẬN …  CỘNG HÒA XÃ HỘI …" as one line); the page must come
out block by block, as a reader reads it and as the ground truth is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.model import Word
from scanner.ocr import OcrOptions, ocr_page, page_confidence, parse_tsv, reading_order
from tests.ocr.hocr import hocr_page

DATA = Path(__file__).parent / "data"
HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"


def _recorded(name: str) -> tuple[str, dict[str, int], list[str]]:
    meta = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    truth = (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return (DATA / f"{name}.tsv").read_text(encoding="utf-8"), meta, truth


def test_recorded_header_is_read_block_by_block() -> None:
    tsv, meta, truth = _recorded("thong-bao-200dpi")
    page = parse_tsv(tsv, meta["width"], meta["height"])
    lines = page.text.splitlines()
    assert lines[:7] == truth[:7]  # issuing body, motto, number, place-date
    assert lines[7:9] == truth[7:9]  # type name and subject follow
    assert "Nơi nhận:" in lines and lines.index("Nơi nhận:") < lines.index("TM. ỦY BAN NHÂN DÂN")


def test_tesseract_alone_interleaves_the_header() -> None:
    tsv, meta, _ = _recorded("thong-bao-200dpi")
    raw = parse_tsv(tsv, meta["width"], meta["height"], order=False)
    assert raw.text.splitlines()[0] == "UBND QUẬN HẢI CHÂU CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def test_line_numbers_follow_the_new_order() -> None:
    tsv, meta, _ = _recorded("thong-bao-200dpi")
    page = parse_tsv(tsv, meta["width"], meta["height"])
    assert [w.line for w in page.words] == sorted(w.line for w in page.words)
    first_line = [w.text for w in page.words if w.line == 0]
    assert first_line == ["UBND", "QUẬN", "HẢI", "CHÂU"]


def _w(text: str, left: int, top: int, width: int = 80, height: int = 40, conf: float = 95.0) -> Word:
    return Word(text=text, left=left, top=top, width=width, height=height, conf=conf)


def test_two_column_rows_and_full_width_body() -> None:
    # A4 at 200 dpi is 1654 px wide; the header's left column ends near 700, the right starts near 760.
    rows = [
        [_w("SỞ", 250, 100), _w("TƯ", 340, 100), _w("PHÁP", 430, 100), _w("CỘNG", 800, 100), _w("HÒA", 900, 100)],
        [_w("Độc", 820, 150), _w("lập", 910, 150)],
        [_w("Số:", 260, 260), _w("12/TB", 350, 260), _w("Huế,", 850, 262), _w("ngày", 940, 262)],
        [_w(f"từ{i}", 240 + 100 * i, 400) for i in range(12)],  # a justified body line across the page
        [_w("Nơi", 200, 600), _w("nhận:", 290, 600), _w("CHỦ", 1000, 602), _w("TỊCH", 1090, 602)],
        [_w("-", 200, 650, 20), _w("Lưu.", 240, 650)],
        [_w("Lê", 1000, 800), _w("An", 1090, 800)],
    ]
    text = [" ".join(w.text for w in ln) for ln in reading_order(rows, 1654)]
    body = " ".join(f"từ{i}" for i in range(12))
    assert text == ["SỞ TƯ PHÁP", "CỘNG HÒA", "Độc lập", "Số: 12/TB", "Huế, ngày", body,
                    "Nơi nhận:", "- Lưu.", "CHỦ TỊCH", "Lê An"]  # fmt: skip


def test_a_sure_accent_alone_in_the_gutter_does_not_join_the_columns() -> None:
    row = [_w("UBND", 250, 100), _w("HÀ", 340, 100), _w("NỘI", 430, 100), _w("ˆ", 620, 95, 20, 15, conf=88.0)]
    row += [_w("CỘNG", 800, 100), _w("HÒA", 900, 100)]
    text = [" ".join(w.text for w in ln) for ln in reading_order([row, [_w("Độc", 820, 150)]], 1654)]
    assert text == ["UBND HÀ NỘI", "CỘNG HÒA", "Độc"]


def test_single_column_page_keeps_top_to_bottom_order() -> None:
    rows = [[_w("một", 200, 100 + 60 * i, 1200)] for i in range(5)]
    assert [ln[0].top for ln in reading_order(rows, 1654)] == [100, 160, 220, 280, 340]


def test_stray_accents_and_signature_scribbles_are_dropped() -> None:
    body = "".join(f"5\t1\t1\t1\t1\t{i}\t{100 + 90 * i}\t500\t80\t40\t96\tchữ\n" for i in range(1, 9))
    tsv = (
        HEADER
        + body
        + "".join(
            [
                "5\t1\t1\t1\t1\t9\t1000\t500\t30\t40\t53.4\tˆ\n",  # an accent read off a seal's ring
                "5\t1\t2\t1\t1\t1\t900\t900\t400\t160\t8.2\tL\n",  # a signature read as a letter
                "5\t1\t2\t1\t2\t1\t900\t1100\t20\t8\t91.0\t-\n",  # a real dash, read surely
            ]
        )
    )
    page = parse_tsv(tsv, 1654, 2339)
    assert [w.text for w in page.words if w.text != "chữ"] == ["-"]


def test_scale_maps_boxes_to_the_archival_grid() -> None:
    tsv = HEADER + "5\t1\t1\t1\t1\t1\t100\t200\t50\t20\t90\tSố\n"
    (word,) = parse_tsv(tsv, 3308, 4678, scale=2.0).words
    assert (word.left, word.top, word.width, word.height) == (200, 400, 100, 40)


def test_page_confidence_weighs_long_words() -> None:
    words = [_w("Quyết", 0, 0, conf=90.0), _w(".", 0, 0, conf=10.0)]
    assert page_confidence(words) == pytest.approx((90 * 5 + 10) / 6, abs=0.01)
    assert page_confidence([]) == 0.0


def test_ocr_page_recognizes_a_reduced_copy_and_scales_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 600 dpi scan recognized from its 300 dpi copy: Tesseract is told 300 dpi, boxes come back doubled."""
    from PIL import Image

    from scanner.tools import tesseract

    small = tmp_path / "p-ocr.png"
    Image.new("L", (827, 1170), 255).save(small)
    seen: dict[str, object] = {}

    def fake_hocr(image: Path, *, languages: tuple[str, ...], dpi: int, timeout: float, psm: int = 3) -> str:
        seen.update(image=image, dpi=dpi, languages=languages)
        return hocr_page([[("Giấy", (100, 100, 140, 120), 93)]])

    monkeypatch.setattr(tesseract, "hocr", fake_hocr)
    page = ocr_page(small, width=1654, height=2340, dpi=200, options=OcrOptions(languages=("vie", "eng")))
    assert seen == {"image": small, "dpi": 100, "languages": ("vie", "eng")}
    assert (page.words[0].left, page.words[0].width) == (200, 80)
    assert page.width == 1654 and page.text == "Giấy"
