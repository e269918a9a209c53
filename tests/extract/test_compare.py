"""The page against what a manifest or a clerk gave: one Disagreement per field, with the officer's sentence."""

from __future__ import annotations

from datetime import date

from scanner.extract import Checked, DocumentFields, Field, disagreements

READ = DocumentFields(
    number=Field("100", 95.0),
    notation=Field("GXN-UBND", 95.0),
    issued_date=Field("2021-03-10", 88.0),
    valid_until=Field("2026-12-31", 91.0),
)


def test_agreeing_values_give_nothing() -> None:
    assert disagreements(READ, result_number="100/GXN-UBND", issued_date=date(2021, 3, 10)) == ()
    assert disagreements(READ, result_number="100", issued_date="2021-03-10") == ()  # the number alone
    assert disagreements(READ, result_number="100 / GXN-UBND", issued_date=None) == ()


def test_a_wrong_number_names_both() -> None:
    (d,) = disagreements(READ, result_number="999/GXN-UBND", issued_date=date(2021, 3, 10))
    assert (d.field, d.on_page, d.given, d.confidence) == (Checked.CODE_NUMBER, "100/GXN-UBND", "999/GXN-UBND", 95.0)
    assert d.text_vi() == "khác trang: số/ký hiệu trên trang là 100/GXN-UBND, bảng kê ghi 999/GXN-UBND"
    assert d.field.field_name == "code_number"


def test_a_wrong_date_is_shown_as_papers_write_it() -> None:
    (d,) = disagreements(READ, result_number="100/GXN-UBND", issued_date=date(2021, 3, 11))
    assert d.field is Checked.ISSUED_DATE and d.confidence == 88.0
    assert d.text_vi("hồ sơ") == "khác trang: ngày ban hành trên trang là 10/03/2021, hồ sơ ghi 11/03/2021"


def test_the_catalog_form_of_the_fields_is_read_the_same() -> None:
    found = disagreements(READ.as_dict(), result_number="999/GXN-UBND", issued_date="2021-03-11")
    assert [d.field for d in found] == [Checked.CODE_NUMBER, Checked.ISSUED_DATE]


def test_what_the_page_does_not_show_is_no_disagreement() -> None:
    assert disagreements(DocumentFields(), result_number="1/QĐ", issued_date=date(2020, 1, 1), valid_until=None) == ()
    assert disagreements({}, result_number="", issued_date=None) == ()


def test_validity_is_compared_only_when_given() -> None:
    assert disagreements(READ, result_number="100", issued_date=None) == ()
    assert disagreements(READ, result_number="100", issued_date=None, valid_until="2026-12-31") == ()
    (d,) = disagreements(READ, result_number="100", issued_date=None, valid_until=None)
    assert d.field is Checked.VALID_UNTIL
    assert d.text_vi() == "khác trang: thời hạn hiệu lực trên trang là 31/12/2026, bảng kê ghi không thời hạn"
    (d,) = disagreements(READ, result_number="100", issued_date=None, valid_until=date(2025, 12, 31))
    assert (d.on_page, d.given) == ("31/12/2026", "31/12/2025")


def test_a_term_whose_end_is_unknown_disagrees_with_no_term() -> None:
    fields = DocumentFields(validity_term=Field("P6M", 90.0), review=("valid_until",))
    (d,) = disagreements(fields, result_number="", issued_date=None, valid_until=None)
    assert d.text_vi() == "khác trang: thời hạn hiệu lực trên trang là 6 tháng, bảng kê ghi không thời hạn"
    assert disagreements(fields, result_number="", issued_date=None, valid_until="2022-01-01") == ()
