"""Reading the receipt's QR code: payload forms, orientation, skew."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from scanner.capture.barcodes import parse_receipt, read_codes
from tests.conftest import render_lines

CODE = "000.00.53.H48-220921-0099"


@pytest.mark.parametrize(
    "payload",
    [
        CODE,
        f'{{"maHoSo": "{CODE}", "maTTHC": "1.000894", "soDinhDanh": "079203001234", "tenGiayTo": "Giấy tiếp nhận"}}',
        f"mã hồ sơ={CODE}\nmã TTHC=1.000894\nsố định danh=079203001234",
        f"dossier_code={CODE};procedure_code=1.000894;owner_id=079203001234",
        f"https://dichvucong.example/tra-cuu?maHoSo={CODE}&maTTHC=1.000894",
    ],
)
def test_payload_forms(payload: str) -> None:
    receipt = parse_receipt(payload)
    assert receipt is not None and receipt.dossier_code == CODE
    if "1.000894" in payload:
        assert receipt.procedure_code == "1.000894"
    if "0792030" in payload and "://" not in payload:
        assert receipt.owner_id == "079203001234"


@pytest.mark.parametrize("payload", ["", "xin chào", "maHoSo=123", '{"maHoSo": 5}', "{broken json", "H48-2209-1"])
def test_payloads_without_a_dossier_code(payload: str) -> None:
    assert parse_receipt(payload) is None


def receipt_page(payload: str, *, dpi: int = 200) -> Image.Image:
    """A receipt: the QR code top-left (as Thông tư 01/2023 places it) above a few lines of text."""
    page = render_lines(["", "", "", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {CODE}"], dpi=dpi)
    qr = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode)
    img = Image.fromarray(np.asarray(qr.to_image(scale=max(3, dpi // 50)))).convert("RGB")
    page.paste(img, (dpi // 2, dpi // 3))
    return page


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_qr_found_in_any_orientation_and_skewed(angle: int) -> None:
    page = receipt_page(f'{{"maHoSo": "{CODE}"}}').rotate(angle, expand=True)
    page = page.rotate(4, resample=Image.Resampling.BICUBIC, fillcolor="white")
    texts = read_codes(page)
    assert any((r := parse_receipt(t)) and r.dossier_code == CODE for t in texts)


def test_page_without_codes() -> None:
    assert read_codes(render_lines(dpi=100)) == []
