"""Record the Tesseract output the OCR tests replay: ``.venv/bin/python tests/ocr/data/record.py``.

Each fixture is a small generated administrative page (``samples/pagegen``),
cleaned by ``scanner.clean`` and recognized by the real Tesseract once; the
TSV is stored with the page's ground truth so the default test run checks
parsing, reading order and scaling without running the engine. Re-record
after upgrading Tesseract or changing the cleaning, and look at the diff.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path[:0] = [str(REPO), str(REPO / "samples")]

from pagegen import PageSpec, page_text, render_page  # noqa: E402

from scanner.clean import clean_page  # noqa: E402
from scanner.model import PageImage  # noqa: E402
from scanner.tools import tesseract  # noqa: E402

# Invented for the tests: a ward's notice with a long issuing body, so Tesseract's
# line finder joins the header's two columns row by row.
THONG_BAO = PageSpec(
    issuer_parent="UBND QUẬN HẢI CHÂU",
    issuer="ỦY BAN NHÂN DÂN\nPHƯỜNG THẠCH THANG",
    number_line="Số: 41/TB-UBND",
    place_date="Thạch Thang, ngày 09 tháng 01 năm 2026",
    type_name="THÔNG BÁO",
    subject="Lịch tiếp nhận hồ sơ tại Bộ phận Một cửa",
    body=[
        "Ủy ban nhân dân phường thông báo lịch tiếp nhận và trả kết quả giải quyết thủ tục hành chính "
        "từ thứ Hai đến sáng thứ Bảy hằng tuần, buổi sáng từ 07 giờ 30 phút, buổi chiều từ 13 giờ 30 phút.",
        "Hồ sơ nộp trực tuyến được thẩm định trong ngày làm việc kế tiếp; phần giấy tờ còn thiếu "
        "được thông báo qua số điện thoại người nộp đã đăng ký.",
    ],
    signer_position="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
    signer_name="Phan Thị Hồng Nhung",
    recipients=("- Như trên;", "- Lưu: VT."),
)

FIXTURES = {"thong-bao-200dpi": (THONG_BAO, 200)}


def main() -> None:
    for name, (spec, dpi) in FIXTURES.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.png"
            img = render_page(spec, dpi, seal=True)
            img.save(path, dpi=(dpi, dpi))
            page = PageImage(path=path, width=img.width, height=img.height, dpi=dpi, source=path.name)
            cleaned = clean_page(page, Path(tmp) / "clean")
            tsv = tesseract.tsv(cleaned.ocr_image, languages=("vie",), dpi=dpi, timeout=120)
        (HERE / f"{name}.tsv").write_text(tsv, encoding="utf-8")
        meta = {"width": img.width, "height": img.height, "dpi": dpi, "tesseract": tesseract.version()}
        (HERE / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        (HERE / f"{name}.txt").write_text(page_text(spec) + "\n", encoding="utf-8")
        print(name, len(tsv.splitlines()), "rows")


if __name__ == "__main__":
    main()
