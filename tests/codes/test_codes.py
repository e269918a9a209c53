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
