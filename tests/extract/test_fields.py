"""Metadata read from the first page's OCR words, laid out as Nghị định 30/2020 prescribes."""

from __future__ import annotations

from scanner.extract import extract_fields
from tests.extract.pages import layout

PLAN = layout(
    [
        ("UBND TỈNH KHÁNH HÒA", 120, 150),
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 850, 150),
        ("SỞ TƯ PHÁP", 180, 200),
        ("Độc lập - Tự do - Hạnh phúc", 950, 200),
        ("Số: 796/KH-STP", 160, 300),
        ("Khánh Hòa, ngày 29 tháng 6 năm 2021", 900, 300),
        ("KẾ HOẠCH", 720, 450),
        ("Triển khai công tác số hóa hồ sơ thủ tục hành chính", 300, 510),
        ("năm 2021", 700, 560),
        ("Căn cứ Quyết định số 468/QĐ-TTg ngày 27/3/2021 của Thủ tướng Chính phủ;", 200, 700),
    ]
)


def test_plan_header_fields() -> None:
    f = extract_fields(PLAN)
    assert f.number and f.number.value == "796"
    assert f.notation and f.notation.value == "KH-STP"
    assert f.type_abbr and f.type_abbr.value == "KH"
    assert f.type_name and f.type_name.value == "Kế hoạch"
    assert f.issuer_abbr and f.issuer_abbr.value == "STP"
    assert f.issued_date and f.issued_date.value == "2021-06-29"
    assert f.place and f.place.value == "Khánh Hòa"
    assert f.issuer and f.issuer.value == "UBND TỈNH KHÁNH HÒA / SỞ TƯ PHÁP"
    assert f.subject and f.subject.value == "Triển khai công tác số hóa hồ sơ thủ tục hành chính năm 2021"
    assert f.review == ()


def test_official_letter_has_no_type_part_and_legal_number_with_year() -> None:
    letter = layout([("ỦY BAN NHÂN DÂN", 120, 150), ("Số: 123/UBND-KT", 120, 250), ("V/v cấp bản sao", 120, 300)])
    f = extract_fields(letter)
    assert f.number.value == "123" and f.type_abbr is None  # type: ignore[union-attr]
    assert f.issuer_abbr.value == "UBND-KT"  # type: ignore[union-attr]
    assert f.subject.value == "V/v cấp bản sao"  # type: ignore[union-attr]
    decision = layout(
        [("Số: 05/2024/QĐ-UBND", 120, 250), ("QUYẾT ĐỊNH", 700, 400), ("Về việc ban hành quy chế", 500, 460)]
    )
    f = extract_fields(decision)
    assert f.code_number.value == "05/2024/QĐ-UBND"  # type: ignore[union-attr]
    assert f.type_name.value == "Quyết định"  # type: ignore[union-attr]


def test_certificate_holder_and_identifiers() -> None:
    cert = layout(
        [
            ("GIẤY KHAI SINH", 600, 300),
            ("Họ, chữ đệm, tên: Nguyễn Thị Thẩm", 150, 400),
            ("Số định danh cá nhân: 056185000001", 150, 450),
            ("Mã số thuế của cha: 0100109106", 150, 500),
            ("Số lạ 123456789012 không hợp lệ", 150, 550),
        ]
    )
    f = extract_fields(cert)
    assert f.type_name.value == "Giấy khai sinh"  # type: ignore[union-attr]
    assert f.holder_name.value == "Nguyễn Thị Thẩm"  # type: ignore[union-attr]
    assert f.holder_id.value == "056185000001"  # type: ignore[union-attr]
    assert f.personal_ids == ("056185000001",)
    assert f.tax_codes == ("0100109106",)


def test_low_confidence_fields_are_flagged() -> None:
    f = extract_fields(layout([("Số: 796/KH-STP", 160, 300)], conf=55.0))
    assert f.number.needs_review and "number" in f.review  # type: ignore[union-attr]


def test_invalid_date_is_not_a_date() -> None:
    f = extract_fields(layout([("Hà Nội, ngày 31 tháng 2 năm 2021", 900, 300)]))
    assert f.issued_date is None


def test_a_date_in_the_body_is_not_the_documents_date() -> None:
    page = layout(
        [
            ("Số: 12/QĐ-UBND", 160, 300),
            ("QUYẾT ĐỊNH", 720, 450),
            ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", 200, 600),
        ]
    )
    assert extract_fields(page).issued_date is None


def test_a_misread_place_date_line_still_gives_its_date_for_review() -> None:
    f = extract_fields(layout([("Hà Nội, ngàyy 05 thang 02 năm 2024", 900, 300)]))
    assert f.issued_date is not None and f.issued_date.value == "2024-02-05"
    assert "issued_date" in f.review


def test_a_certificate_has_no_subject_and_one_unsure_word_flags_the_field() -> None:
    cert = layout(
        [
            ("ỦY BAN NHÂN DÂN", 120, 150),
            ("Số: 15/GXN-UBND", 120, 250),
            ("GIẤY XÁC NHẬN", 650, 400),
            ("Họ và tên: Lê Thị Lan", 150, 470),
            ("Số định danh cá nhân: 056185000001", 150, 520),
        ]
    )
    f = extract_fields(cert)
    assert f.subject is None and f.holder_name.value == "Lê Thị Lan"  # type: ignore[union-attr]
    words = [w if w.text != "NHÂN" else type(w)(**{**w.__dict__, "conf": 40.0}) for w in cert.words]
    unsure = extract_fields(type(cert)(cert.text, tuple(words), cert.confidence, cert.width, cert.height))
    assert "issuer" in unsure.review


def test_a_body_date_is_not_taken_even_when_its_opening_words_are_misread() -> None:
    page = layout(
        [
            ("Số: 12/QĐ-UBND", 160, 300),
            ("Khánh Hòa, ngàyy O5 thang 02 nămm 2024", 900, 300),  # the real date, unreadable
            ("QUYẾT ĐỊNH", 720, 450),
            ("Cănn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", 200, 520),
        ]
    )
    assert extract_fields(page).issued_date is None


def test_a_date_outside_the_right_hand_column_is_flagged() -> None:
    page = layout([("Số: 12/QĐ-UBND", 160, 300), ("Cănn cứ Luật ngày 19 tháng 6 năm 2015;", 200, 400)])
    f = extract_fields(page)
    assert f.issued_date is not None and "issued_date" in f.review
