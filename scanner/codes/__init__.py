"""The standard codes: the single place where their rules live.

- Dossier code (mã hồ sơ, Thông tư 01/2018/TT-VPCP Điều 19):
  ``<agency code>-<YYMMDD>-<NNNN>``, NNNN counting the agency's dossiers of
  that day from 0001. The counter itself is kept by the catalog (it must be
  atomic across processes); this module only formats and checks.
- Document code within a dossier: ``<dossier code>.<NN>``.
- Result code (Nghị định 45/2020 Điều 14): ``<dossier code>-KQ<n>``.
- Agency codes (Quyết định 20/2020/QĐ-TTg): at most 35 characters of
  ``0-9 A-Z .``, in the new left-to-right layout or the older 13-character
  ``000.00.00.H32`` layout; both are accepted.
- Procedure codes (mã TTHC): ``[1-3].dddddd``, optionally with a provincial suffix.
"""

from __future__ import annotations

import re
from datetime import date

from scanner.errors import CodeError

DAILY_CEILING = 9999

AGENCY_CODE = re.compile(r"[0-9A-Z.]{1,35}")
# Left-to-right: level-1 group first (a letter A-Y and two digits).
AGENCY_CODE_LTR = re.compile(r"[A-Y]\d{2}(\.[0-9A-Z]+)*")
# Right-to-left (older systems, dossier codes): level-1 group last.
AGENCY_CODE_RTL = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[A-Y]\d{2}")
DOSSIER_CODE = re.compile(r"(?P<agency>[0-9A-Z.]{1,35})-(?P<date>\d{6})-(?P<number>\d{4})")
DOCUMENT_CODE = re.compile(rf"(?P<dossier>{DOSSIER_CODE.pattern})\.(?P<ordinal>\d{{2,3}})")
RESULT_CODE = re.compile(rf"(?P<dossier>{DOSSIER_CODE.pattern})-KQ(?P<n>\d{{1,3}})")
PROCEDURE_CODE = re.compile(r"[1-3]\.\d{6}(\.000\.00\.00\.[A-Y]\d{2})?")


def is_agency_code(code: str) -> bool:
    return bool(AGENCY_CODE.fullmatch(code)) and bool(
        AGENCY_CODE_LTR.fullmatch(code) or AGENCY_CODE_RTL.fullmatch(code)
    )


def dossier_code(agency_code: str, day: date, number: int) -> str:
    """Format a dossier code; NUMBER is the agency's count for DAY, from 1."""
    if not is_agency_code(agency_code):
        raise CodeError(
            f"mã định danh cơ quan '{agency_code}' không hợp lệ",
            f"invalid agency code '{agency_code}'",
        )
    if not 1 <= number <= DAILY_CEILING:
        raise CodeError(
            f"cơ quan {agency_code} đã dùng hết {DAILY_CEILING} số hồ sơ của ngày {day:%d/%m/%Y}",
            f"agency {agency_code} has used all {DAILY_CEILING} dossier numbers of {day.isoformat()}",
        )
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


def document_code(dossier: str, ordinal: int) -> str:
    """Code of the ORDINAL-th document (from 1) of a dossier."""
    if not 1 <= ordinal <= 999:
        raise CodeError(f"số thứ tự văn bản {ordinal} ngoài khoảng 1–999", f"document ordinal {ordinal} out of range")
    return f"{dossier}.{ordinal:02d}"


def result_code(dossier: str, n: int) -> str:
    """Code of the N-th result (kết quả) of a dossier."""
    return f"{dossier}-KQ{n}"


def parse_dossier_code(code: str) -> tuple[str, date, int] | None:
    """(agency code, receipt date, number) of a dossier code, or None if it does not follow the rule."""
    m = DOSSIER_CODE.fullmatch(code)
    if not m or not is_agency_code(m["agency"]):
        return None
    d = m["date"]
    try:
        day = date(2000 + int(d[:2]), int(d[2:4]), int(d[4:6]))
    except ValueError:
        return None
    number = int(m["number"])
    return (m["agency"], day, number) if number >= 1 else None
