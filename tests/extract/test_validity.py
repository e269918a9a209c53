"""The term a paper states ("có giá trị đến hết ngày …", "… 06 tháng kể từ ngày ký") as valid_from / valid_until."""

from __future__ import annotations

import pytest

from scanner.extract import extract_fields
from tests.extract.pages import HEADER, LEFT, Row, centred, justified, layout

TYPE_LINE = centred("GIẤY XÁC NHẬN", 450)
HOLDER = ("Họ và tên: Lê Thị Lan", LEFT + 100, 520)
ISSUED = "2021-06-29"  # the place-date line of HEADER


def page(*phrase: str, header: list[Row] = HEADER) -> dict[str, object]:
    rows = [*header, TYPE_LINE, HOLDER]
    rows += [justified(line, 620 + 50 * i, left=LEFT + 100 if i == 0 else LEFT) for i, line in enumerate(phrase)]
    return extract_fields(layout(rows)).as_dict()


def value(fields: dict[str, object], name: str) -> object:
    f = fields.get(name)
    return f["value"] if isinstance(f, dict) else None


@pytest.mark.parametrize(
    ("phrase", "until"),
    [
        (["Giấy xác nhận này có giá trị đến hết ngày 31 tháng 12 năm 2026."], "2026-12-31"),
        (["Giấy này có giá trị đến ngày 05 tháng 02 năm 2027."], "2027-02-05"),
        (["Giấy xác nhận có giá trị đến 31/12/2026."], "2026-12-31"),
        (["Giấy phép có giá trị sử dụng đến hết ngày 15/3/2027 trên toàn quốc."], "2027-03-15"),
        (["Giấy chứng nhận này có giá trị", "đến hết ngày 30 tháng 9 năm 2025."], "2025-09-30"),  # wrapped
    ],
)
def test_an_end_date(phrase: list[str], until: str) -> None:
    f = page(*phrase)
    assert value(f, "valid_until") == until and "valid_from" not in f
    assert "valid_until" not in f["review"]  # type: ignore[operator]


def test_a_start_and_an_end() -> None:
    f = page("Giấy phép có hiệu lực kể từ ngày 01 tháng 7 năm 2021 đến hết ngày 30 tháng 6 năm 2026.")
    assert value(f, "valid_from") == "2021-07-01" and value(f, "valid_until") == "2026-06-30"
    assert f["review"] == []
    f = page("Giấy phép có hiệu lực từ ngày 01/7/2021 đến ngày 30/6/2026.")
    assert value(f, "valid_from") == "2021-07-01" and value(f, "valid_until") == "2026-06-30"


@pytest.mark.parametrize(
    ("phrase", "until", "term"),
    [
        ("Giấy xác nhận có giá trị trong thời hạn 06 tháng kể từ ngày ký.", "2021-12-29", "P6M"),
        ("Giấy này có giá trị 6 tháng kể từ ngày cấp.", "2021-12-29", "P6M"),
        ("Giấy xác nhận có giá trị sử dụng 05 năm kể từ ngày ký.", "2026-06-29", "P5Y"),
        ("Giấy mời có giá trị trong vòng 30 ngày kể từ ngày ký.", "2021-07-29", "P30D"),
        ("Giấy xác nhận có giá trị 06 (sáu) tháng kể từ ngày ký.", "2021-12-29", "P6M"),
        ("Giấy xác nhận có giá trị sáu tháng kể từ ngày ký.", "2021-12-29", "P6M"),
    ],
)
def test_a_term_counted_from_the_signing(phrase: str, until: str, term: str) -> None:
    f = page(phrase)
    assert value(f, "valid_from") == ISSUED and value(f, "valid_until") == until
    assert value(f, "validity_term") == term and f["review"] == []


def test_a_term_ends_on_the_last_day_of_a_shorter_month() -> None:
    header = [*HEADER[:5], ("Khánh Hòa, ngày 31 tháng 8 năm 2021", 850, 300)]
    f = page("Giấy xác nhận có giá trị 6 tháng kể từ ngày ký.", header=header)
    assert value(f, "valid_until") == "2022-02-28"


def test_a_term_without_a_read_issue_date_is_flagged_not_taken_for_no_term() -> None:
    f = page("Giấy xác nhận có giá trị trong thời hạn 06 tháng kể từ ngày ký.", header=HEADER[:5])
    assert "issued_date" not in f and "valid_until" not in f
    assert value(f, "validity_term") == "P6M" and "valid_until" in f["review"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("phrase", "until"),
    [
        ("Giấy xác nhận co gia tri den het ngay 31 thang 12 nam 2026.", "2026-12-31"),  # marks lost
        ("Giấy xác nhận có giá trị đến hết ngàyy 31 thang 12 năm 2026.", "2026-12-31"),  # a doubled letter
        ("Giấy xác nhận có giả trị dến hết ngày 31/12/2026.", "2026-12-31"),  # confused marks
    ],
)
def test_a_misread_phrase_still_gives_its_date_for_review(phrase: str, until: str) -> None:
    f = page(phrase)
    assert value(f, "valid_until") == until and "valid_until" in f["review"]  # type: ignore[operator]


@pytest.mark.parametrize(
    "phrase",
    [
        "Giấy chứng nhận này có giá trị không thời hạn.",
        "Giấy chứng nhận có giá trị vô thời hạn kể từ ngày ký.",
        "Nơi cư trú: số 12 đường Lê Lợi, phường Lộc Thọ.",
        "Hợp đồng có giá trị 500.000.000 đồng.",
        "Giấy xác nhận có giá trị đến hết ngày 31/02/2026.",  # no such day
    ],
)
def test_no_term_gives_no_field_and_no_flag(phrase: str) -> None:
    f = page(phrase)
    assert not {"valid_from", "valid_until", "validity_term"} & set(f)
    assert f["review"] == []


def test_an_end_before_the_issue_date_is_flagged() -> None:
    f = page("Giấy xác nhận có giá trị đến hết ngày 31 tháng 12 năm 2020.")
    assert value(f, "valid_until") == "2020-12-31" and "valid_until" in f["review"]  # type: ignore[operator]


def test_effective_from_the_signing() -> None:
    f = page("Quyết định này có hiệu lực thi hành kể từ ngày ký.")
    assert value(f, "valid_from") == ISSUED and "valid_until" not in f and f["review"] == []
