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
from dataclasses import dataclass
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


# --- identifiers of owners (tổ chức, cá nhân) ----------------------------------------------

# Province of birth registration, the first three digits of a personal identifier
# (Thông tư 07/2016/TT-BCA). The 1/7/2025 mergers did not renumber existing identifiers.
PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh",
    "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
    "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

PERSONAL_ID = re.compile(r"\d{12}")
TAX_CODE = re.compile(r"(?P<base>\d{10})(?:-?(?P<branch>\d{3}))?")
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


@dataclass(frozen=True)
class PersonalId:
    """What the structure of a 12-digit personal identifier (số định danh cá nhân) tells."""

    province: str
    sex: str  # "nam" / "nữ"
    birth_year_min: int  # the century and the two year digits give the birth year exactly
    birth_year_max: int


def parse_personal_id(value: str, *, birth_year: int | None = None, today: date | None = None) -> PersonalId | None:
    """The identifier's parts, or None if its structure is invalid.

    There is no check digit: only the province list, the century/sex digit,
    and (when known) agreement with the birth year can be checked.
    """
    if not PERSONAL_ID.fullmatch(value):
        return None
    province = PROVINCES.get(value[:3])
    if province is None:
        return None
    g, yy = int(value[3]), int(value[4:6])
    year = 1900 + (g // 2) * 100 + yy
    if today is not None and year > today.year:
        return None
    if birth_year is not None and birth_year != year:
        return None
    return PersonalId(province=province, sex="nữ" if g % 2 else "nam", birth_year_min=year, birth_year_max=year)


def is_tax_code(value: str) -> bool:
    """A 10-digit tax/enterprise code with a valid check digit, optionally with a -NNN branch (001-999)."""
    m = TAX_CODE.fullmatch(value)
    if not m:
        return False
    if m["branch"] is not None and int(m["branch"]) == 0:
        return False
    digits = [int(c) for c in m["base"]]
    check = 10 - sum(d * w for d, w in zip(digits, _TAX_WEIGHTS, strict=False)) % 11
    return check == digits[9]


def is_procedure_code(value: str) -> bool:
    return bool(PROCEDURE_CODE.fullmatch(value))
