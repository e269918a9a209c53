"""The page generator and the checked-in samples.

The generator is what other tests and the benchmarks trust for ground truth,
so its promises are checked here: pages are reproducible to the byte, sizes
follow the resolution, the text is NFC in reading order, degradations are
pure, and the sample files are what the script writes. One slow test runs
Tesseract on the JPEG sample to show the rendering is legible, not just
deterministic.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pagegen
import pytest
from make_samples import GIAY_XAC_NHAN, KE_HOACH, QUYET_DINH
from pagegen import MOTTO, MOTTO_SUB, PAGE_BREAK, PageSpec, Para
from PIL import Image, ImageSequence

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SPECS = {"giay-xac-nhan": GIAY_XAC_NHAN, "quyet-dinh": QUYET_DINH, "ho-so-2-trang": KE_HOACH}
FILES = {"giay-xac-nhan": "giay-xac-nhan.jpg", "quyet-dinh": "quyet-dinh.png", "ho-so-2-trang": "ho-so-2-trang.tif"}
PAGES = {"giay-xac-nhan": 1, "quyet-dinh": 1, "ho-so-2-trang": 2}


def _small_spec(**changes: object) -> PageSpec:
    fields: dict[str, object] = {
        "issuer_parent": "UBND TỈNH KHÁNH HÒA",
        "issuer": "SỞ TƯ PHÁP",
        "number_line": "Số: 796/KH-STP",
        "place_date": "Khánh Hòa, ngày 29 tháng 6 năm 2021",
        "type_name": "KẾ HOẠCH",
        "subject": "Thử nghiệm",
        "body": ["Một đoạn văn ngắn."],
        "signer_position": "GIÁM ĐỐC",
        "signer_name": "Nguyễn Văn A",
    }
    fields.update(changes)
    return PageSpec(**fields)  # type: ignore[arg-type]


def test_render_is_deterministic() -> None:
    a = pagegen.render_page(GIAY_XAC_NHAN, 200, seal=True)
    b = pagegen.render_page(GIAY_XAC_NHAN, 200, seal=True)
    assert a.mode == "RGB"
    assert a.tobytes() == b.tobytes()
    assert pagegen.page_text(GIAY_XAC_NHAN) == pagegen.page_text(GIAY_XAC_NHAN)


@pytest.mark.parametrize(("dpi", "size"), [(200, (1654, 2339)), (300, (2480, 3508)), (150, (1240, 1754))])
def test_size_follows_dpi(dpi: int, size: tuple[int, int]) -> None:
    page = pagegen.render_page(_small_spec(), dpi)
    assert page.size == size
    assert page.info["dpi"] == (dpi, dpi)


def test_other_paper_sizes() -> None:
    legal = pagegen.render_page(_small_spec(), 200, paper=(216, 356))
    assert legal.size == (1701, 2803)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_page_text_is_nfc_in_reading_order(name: str) -> None:
    spec = SPECS[name]
    text = pagegen.page_text(spec)
    assert unicodedata.is_normalized("NFC", text)
    lines = text.split("\n")
    for needed in (MOTTO, MOTTO_SUB, spec.number_line, spec.place_date, spec.type_name):
        assert needed in lines
    order = [lines.index(x) for x in (MOTTO, MOTTO_SUB, spec.number_line, spec.place_date, spec.type_name)]
    assert order == sorted(order)
    assert lines.index(spec.issuer.split("\n")[0]) < lines.index(MOTTO)
    assert lines[-1] == spec.signer_name


def test_nfd_input_comes_out_nfc() -> None:
    spec = _small_spec(
        subject=unicodedata.normalize("NFD", "Về việc xác nhận"), body=[unicodedata.normalize("NFD", "Hồ sơ đầy đủ.")]
    )
    text = pagegen.page_text(spec)
    assert unicodedata.is_normalized("NFC", text)
    assert "Về việc xác nhận" in text and "Hồ sơ đầy đủ." in text


def test_wrapped_lines_rejoin_to_the_paragraph() -> None:
    """Every rendered line is one text line: the wrapped lines of a paragraph give back its words."""
    paragraph = " ".join(["Ủy ban nhân dân phường xác nhận hồ sơ của công dân."] * 8)
    spec = _small_spec(body=[paragraph, Para("Một dòng cuối.", lead="Điều 2.")])
    lines = pagegen.page_text(spec).split("\n")
    start = lines.index(spec.subject) + 1
    wrapped = lines[start:]
    end = next(i for i, ln in enumerate(wrapped) if ln.startswith("Điều 2."))
    assert end > 3
    assert " ".join(wrapped[:end]) == paragraph
    assert wrapped[end] == "Điều 2. Một dòng cuối."


def test_long_document_flows_onto_numbered_pages() -> None:
    pages = pagegen.pages_text(KE_HOACH)
    assert len(pages) == 2
    assert pages[1].split("\n")[0] == "2"
    assert pagegen.page_text(KE_HOACH).count(f"\n{PAGE_BREAK}\n") == 1
    assert len(pagegen.render_pages(KE_HOACH, 100)) == 2
    with pytest.raises(ValueError, match="render_pages"):
        pagegen.render_page(KE_HOACH, 100)


def test_rows_order_joins_the_header_columns() -> None:
    rows = pagegen.page_text(QUYET_DINH, order="rows").split("\n")
    assert rows[0] == f"UBND TỈNH KHÁNH HÒA {MOTTO}"
    assert rows[2] == f"{QUYET_DINH.number_line} {QUYET_DINH.place_date}"


@pytest.mark.parametrize("dpi", [150, 200, 300])
def test_text_stays_inside_the_margins(dpi: int) -> None:
    """Lines are broken with unhinted widths; hinted glyphs at DPI must still end inside the right margin."""
    for spec in SPECS.values():
        for page in pagegen.render_pages(spec, dpi, signature=False):
            grey = np.asarray(page.convert("L"))
            right = round((210 - 15) / 25.4 * dpi) + 2
            left = round(25 / 25.4 * dpi) - 2
            assert grey[:, right:].min() > 200
            assert grey[:, :left].min() > 200


def test_rotate_180_twice_is_the_original() -> None:
    page = pagegen.render_page(_small_spec(), 100)
    assert pagegen.rotate(pagegen.rotate(page, 180), 180).tobytes() == page.tobytes()
    quarter = pagegen.rotate(page, 90)
    assert quarter.size == (page.height, page.width)
    assert pagegen.rotate(quarter, 270).tobytes() == page.tobytes()
    with pytest.raises(ValueError):
        pagegen.rotate(page, 45)


def test_degradations_are_pure_and_seeded() -> None:
    page = pagegen.render_page(_small_spec(), 100)
    before = page.tobytes()
    noisy = pagegen.add_noise(page, 6, seed=3)
    assert noisy.tobytes() == pagegen.add_noise(page, 6, seed=3).tobytes()
    assert noisy.tobytes() != pagegen.add_noise(page, 6, seed=4).tobytes()
    outputs = [
        noisy,
        pagegen.skew(page, 1.5),
        pagegen.blur(page, 1.0),
        pagegen.jpeg_roundtrip(page, 60),
        pagegen.tint_paper(page, (245, 240, 225)),
        pagegen.lid_shadow(page, "right", 0.1),
    ]
    assert page.tobytes() == before
    for out in outputs:
        assert out.size == page.size and out.mode == "RGB"
        assert out.info["dpi"] == (100, 100)
    tinted = np.asarray(outputs[4])
    assert tuple(tinted[0, 0]) == (245, 240, 225)
    shadow = np.asarray(outputs[5].convert("L"), dtype=np.float64)
    assert shadow[:, -1].mean() < shadow[:, page.width // 2].mean() - 50


def test_blank_backside_is_blank_for_the_pipeline() -> None:
    from scanner.clean import ink_ratio

    a = pagegen.blank_backside(150, seed=7)
    assert a.tobytes() == pagegen.blank_backside(150, seed=7).tobytes()
    grey = np.asarray(a.convert("L"))
    assert ink_ratio(grey) < 0.002
    assert grey.std() > 0.5  # not a flat white image: there is noise and bleed-through


def test_qr_payload_is_readable() -> None:
    from scanner.capture.barcodes import parse_receipt, read_codes

    payload = '{"maHoSo": "000.00.32.H32-261124-0001", "maTTHC": "1.000894", "soDinhDanh": "056303001234"}'
    page = pagegen.render_page(_small_spec(qr_payload=payload), 200)
    receipt = parse_receipt(read_codes(page)[0])
    assert receipt is not None and receipt.dossier_code == "000.00.32.H32-261124-0001"
    assert payload not in pagegen.page_text(_small_spec(qr_payload=payload))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_sample_files_match_the_script(name: str) -> None:
    path = SAMPLES / FILES[name]
    with Image.open(path) as im:
        frames = [(f.size, f.info.get("dpi")) for f in ImageSequence.Iterator(im)]
        fmt = im.format
        info = dict(im.info)
    assert len(frames) == PAGES[name]
    for size, dpi in frames:
        assert size == (1654, 2339)
        assert dpi is not None and round(float(dpi[0])) == 200 and round(float(dpi[1])) == 200
    if fmt == "JPEG":
        assert info.get("jfif_unit") == 1 and info.get("jfif_density") == (200, 200)
    truth = (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")
    assert truth == pagegen.page_text(SPECS[name]) + "\n", "sample text is stale: run samples/make_samples.py"
    assert truth.count(f"\n{PAGE_BREAK}\n") == PAGES[name] - 1


def test_samples_stay_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.iterdir() if p.is_file())
    assert total < 3 * 1024 * 1024


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def _levenshtein(a: str, b: str) -> int:
    """Edit distance, one row at a time; the insertion chain is a running minimum, so numpy does each row."""
    if not a or not b:
        return len(a) + len(b)
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(len(b) + 1)
    prev = idx.copy()
    for i, ch in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (codes != ord(ch)))
        prev = np.minimum.accumulate(cur - idx) + idx
    return int(prev[-1])


def test_levenshtein() -> None:
    assert _levenshtein("kitten", "sitting") == 3
    assert _levenshtein("Hòa", "Hoà") == 2
    assert _levenshtein("", "abc") == 3


@pytest.mark.slow
def test_jpeg_sample_is_legible_to_tesseract() -> None:
    """Tesseract (vie, default settings) reads the JPEG sample with a character error rate under 5%.

    The truth is taken in row order (``order="rows"``): Tesseract reads the
    two header columns row by row, and scoring that against the block order
    would measure its layout analysis (about 6 points of CER) rather than
    whether the page is legible. What remains is mostly the seal: text under
    it (the signer's last lines) is lost, as it is on real scans.
    """
    pytesseract = pytest.importorskip("pytesseract")
    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError:
        pytest.skip("tesseract is not installed")
    if "vie" not in pytesseract.get_languages():
        pytest.skip("tesseract has no vie language data")
    with Image.open(SAMPLES / "giay-xac-nhan.jpg") as im:
        ocr = pytesseract.image_to_string(im.convert("RGB"), lang="vie")
    truth = _fold(pagegen.page_text(GIAY_XAC_NHAN, order="rows"))
    cer = _levenshtein(truth, _fold(ocr)) / len(truth)
    assert cer < 0.05, f"CER {cer:.3f}\n{ocr}"
