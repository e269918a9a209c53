from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner import codes
from scanner.errors import CodeError

AGENCIES = st.sampled_from(["000.00.53.H48", "000.00.00.H32", "H26", "G01.05", "H21.12.03", "000.00.21.H21"])


def test_real_dossier_code_parses() -> None:
    assert codes.parse_dossier_code("000.00.53.H48-220921-0099") == ("000.00.53.H48", date(2022, 9, 21), 99)


@given(AGENCIES, st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(1, 9999))
def test_dossier_code_round_trips(agency: str, day: date, n: int) -> None:
    code = codes.dossier_code(agency, day, n)
    assert re.fullmatch(r"[0-9A-Z.]{1,35}-\d{6}-\d{4}", code)
    assert codes.parse_dossier_code(code) == (agency, day, n)
    assert codes.document_code(code, 3) == f"{code}.03"
    assert codes.RESULT_CODE.fullmatch(codes.result_code(code, 2))


@pytest.mark.parametrize("n", [0, 10000])
def test_daily_ceiling(n: int) -> None:
    with pytest.raises(CodeError):
        codes.dossier_code("000.00.00.H32", date(2026, 11, 24), n)


@pytest.mark.parametrize("bad", ["h32", "000.00.00.h32", "X" * 36, "", "Z99", "000.00.H32"])
def test_invalid_agency_codes(bad: str) -> None:
    assert not codes.is_agency_code(bad)


def test_invalid_dossier_codes() -> None:
    assert codes.parse_dossier_code("000.00.53.H48-221321-0099") is None  # month 13
    assert codes.parse_dossier_code("000.00.53.H48-220921-0000") is None
    assert codes.parse_dossier_code("000.00.53.H48-220921-099") is None


# --- owner identifiers --------------------------------------------------------------------

PROVINCE_CODES = st.sampled_from(sorted(codes.PROVINCES))


@given(PROVINCE_CODES, st.integers(1900, 2099), st.sampled_from(["nam", "nữ"]), st.integers(0, 999_999))
def test_personal_id_structure(province: str, year: int, sex: str, rest: int) -> None:
    g = (year - 1900) // 100 * 2 + (1 if sex == "nữ" else 0)
    value = f"{province}{g}{year % 100:02d}{rest:06d}"
    parsed = codes.parse_personal_id(value, birth_year=year)
    assert parsed is not None
    assert parsed.sex == sex and parsed.birth_year_min == year
    assert parsed.province == codes.PROVINCES[province]
    assert codes.parse_personal_id(value, birth_year=year + 1) is None


def test_personal_id_examples() -> None:
    assert codes.parse_personal_id("079203001234").province == "Hồ Chí Minh"  # type: ignore[union-attr]
    assert codes.parse_personal_id("056185000001").sex == "nữ"  # type: ignore[union-attr]
    assert codes.parse_personal_id("003203001234") is None  # 003 is no province
    assert codes.parse_personal_id("07920300123") is None
    assert codes.parse_personal_id("079203001234", today=date(2002, 1, 1)) is None  # born in the future


def _with_check(nine: str) -> str | None:
    s = sum(int(d) * w for d, w in zip(nine, (31, 29, 23, 19, 17, 13, 7, 5, 3), strict=True)) % 11
    return None if s == 0 else nine + str(10 - s)


@given(st.integers(0, 999_999_999), st.integers(1, 999))
def test_tax_code_check_digit(n: int, branch: int) -> None:
    code = _with_check(f"{n:09d}")
    if code is None:  # no digit can check this prefix
        return
    assert codes.is_tax_code(code)
    assert codes.is_tax_code(f"{code}-{branch:03d}")
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    assert not codes.is_tax_code(wrong)
    assert not codes.is_tax_code(f"{code}-000")


def test_known_tax_code() -> None:
    assert codes.is_tax_code("0100109106")  # a well-known enterprise code
    assert not codes.is_tax_code("0100109107")
