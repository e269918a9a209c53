"""A counter's batch becomes one dossier: the receipt's code, documents split by separators, blanks dropped.

These run the real pipeline (clean, OCR, PDF/A, sign, archive) on a handful
of small pages, so what is checked is what the archive officer finds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pikepdf
import pytest
import zxingcpp
from PIL import Image

from scanner.archive import Catalog, sha256_file
from scanner.cli import main
from scanner.config import load_config
from scanner.pipeline import Pipeline
from scanner.sign import sign_pdf
from tests.capture.test_barcodes import CODE, receipt_page
from tests.conftest import render_lines

DPI = 150


def _separator(text: str = "PHAN-CACH-VAN-BAN") -> Image.Image:
    """The separator sheet a counter keeps at hand: one big QR code holding the agreed text."""
    page = Image.new("RGB", (round(8.27 * DPI), round(11.69 * DPI)), "white")
    qr = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    page.paste(Image.fromarray(np.asarray(qr.to_image(scale=12))).convert("RGB"), (DPI * 2, DPI * 3))
    return page


def _text(title: str, n: int) -> Image.Image:
    return render_lines([title, f"Trang {n} của văn bản", "Nội dung được số hóa tại Bộ phận Một cửa"], dpi=DPI)


def test_receipt_three_pages_separator_two_pages_blank(
    workstation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = json.dumps({"maHoSo": CODE, "maTTHC": "1.000894", "soDinhDanh": "079203001234"}, ensure_ascii=False)
    # the receipt was fed sideways and a little crooked: the QR must still be found
    receipt = receipt_page(payload, dpi=DPI).rotate(90, expand=True)
    receipt = receipt.rotate(3, resample=Image.Resampling.BICUBIC, fillcolor="white")
    pages = [
        receipt,
        _text("TỜ KHAI ĐĂNG KÝ KHAI SINH", 1),
        _text("TỜ KHAI ĐĂNG KÝ KHAI SINH", 2),
        _text("TỜ KHAI ĐĂNG KÝ KHAI SINH", 3),
        _separator(),
        _text("GIẤY CHỨNG SINH", 1),
        _text("GIẤY CHỨNG SINH", 2),
        Image.new("RGB", (round(8.27 * DPI), round(11.69 * DPI)), (250, 250, 248)),  # blank backside
    ]
    batch = tmp_path / "lô-quét.tif"
    pages[0].save(batch, save_all=True, append_images=pages[1:], dpi=(DPI, DPI), compression="tiff_lzw")

    broken = tmp_path / "hỏng.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)

    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([batch, broken], config.counters[0]))
        assert outcome.state == "archived", outcome.error
        assert outcome.dossier_code == CODE
        assert [d.pages for d in outcome.documents] == [1, 3, 2]  # receipt kept as the first document
        assert [d.code for d in outcome.documents] == [f"{CODE}.01", f"{CODE}.02", f"{CODE}.03"]
        dossier = catalog.dossier(CODE)
        assert dossier is not None
    # every dropped page is listed in the dossier's record, with its reason
    folder = outcome.documents[0].path.parent
    manifest = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
    reasons = sorted(d["reason_code"] for d in manifest["dropped_pages"])
    assert reasons == ["blank", "separator"]
    assert {d["source"] for d in manifest["dropped_pages"]} == {"lô-quét.tif#5", "lô-quét.tif#8"}
    assert sum(d.pages for d in outcome.documents) + len(reasons) == len(pages)
    with pikepdf.open(outcome.documents[1].path) as pdf, pdf.open_metadata() as xmp:
        assert len(pdf.pages) == 3
        assert "1.000894" in str(xmp)  # the receipt's procedure code travels into the XMP

    # what the clerk sees at once: the dossier, its pages, what was dropped, and the refused file
    assert main(["--config", str(workstation), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (dossier_row,) = status["dossiers"]
    assert (dossier_row["dossier_code"], len(dossier_row["documents"]), dossier_row["pages"]) == (CODE, 3, 6)
    assert any("trang trắng" in w for w in dossier_row["warnings"])
    assert any("hỏng.png" in w for w in dossier_row["warnings"])
    (file_row,) = status["quarantined"]
    assert file_row["name"] == "hỏng.png" and file_row["reason_code"] == "corrupt-image"


@pytest.fixture
def signed_pdf(tmp_path: Path, workstation: Path) -> Path:
    """A PDF that arrived already signed by someone (here: the workstation's own test key)."""
    config = load_config(workstation)
    page = tmp_path / "kq.jpg"
    render_lines(["QUYẾT ĐỊNH", "Về việc cấp giấy phép"], dpi=DPI).save(page, dpi=(DPI, DPI))
    import img2pdf

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(img2pdf.convert(str(page)))
    out = tmp_path / "đã-ký.pdf"
    password = config.signing.password()
    assert config.signing.pkcs12 is not None
    sign_pdf(plain, out, pkcs12=config.signing.pkcs12, password=password)
    return out


def test_signed_pdf_is_kept_byte_for_byte_and_digitized_beside(
    workstation: Path, signed_pdf: Path, tmp_path: Path
) -> None:
    config = load_config(workstation)
    original = sha256_file(signed_pdf)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([signed_pdf], config.counters[0]))
    assert outcome.state == "archived", outcome.error
    (doc,) = outcome.documents
    kept = doc.path.parent / f"{outcome.dossier_code}.goc-01.pdf"
    assert sha256_file(kept) == original  # its signature is never altered
    assert any("chữ ký số" in w and "nguyên vẹn" in w for w in outcome.warnings)
    assert sha256_file(doc.path) != original  # the digitized copy is a new PDF/A, signed by the agency
