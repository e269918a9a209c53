"""The records clerk's manifest of old, still-valid results to digitize in bulk.

A manifest is a UTF-8 CSV that the clerk keeps in a spreadsheet, so it is
read the way spreadsheets write it: a byte-order mark, Vietnamese column
names (``Mã TTHC``, ``Số định danh``…) or the English ones, dates as
``2021-06-29`` or ``29/06/2021``. It is streamed row by row: a manifest of a
province's hundred thousand results is checked in constant memory (only a
64-bit fingerprint per row is kept, to find duplicate rows).

Every problem names its row number (the spreadsheet's: the header is row 1)
and the reason in Vietnamese, so the clerk can fix the sheet and run again.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from scanner import codes
from scanner.errors import InputError

# column → accepted headers, compared after folding (lower case, no diacritics, "_" for spaces)
COLUMNS: dict[str, tuple[str, ...]] = {
    "file": ("file", "tep", "tep_tin", "duong_dan"),
    "procedure_code": ("procedure_code", "ma_tthc", "ma_thu_tuc"),
    "result_number": ("result_number", "so_ky_hieu", "so_hieu", "so_van_ban", "so"),
    "issued_date": ("issued_date", "ngay_cap", "ngay_ban_hanh", "ngay_ky"),
    "valid_until": ("valid_until", "hieu_luc_den", "co_gia_tri_den", "ngay_het_han"),
    "owner_id": ("owner_id", "so_dinh_danh", "ma_so_thue", "so_dinh_danh_ma_so_thue"),
    "owner_name": ("owner_name", "ho_ten", "ten_chu_so_huu", "ho_va_ten", "ten_to_chu_ca_nhan"),
    "document_type": ("document_type", "loai_giay_to", "loai_van_ban", "ten_ket_qua"),
    "dossier_code": ("dossier_code", "ma_ho_so"),
    "agency_code": ("agency_code", "ma_co_quan", "ma_don_vi"),
    "retention": ("retention", "thoi_han_bao_quan"),
    "access_level": ("access_level", "che_do_su_dung", "muc_do_tiep_can"),
}
REQUIRED = ("file", "procedure_code", "result_number", "issued_date", "owner_id")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "_".join(text.replace("/", " ").replace("-", " ").split())


_HEADER = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}


@dataclass(frozen=True)
class ManifestRow:
    """One result as the clerk described it; values NFC, dates parsed."""

    number: int  # the spreadsheet's row number (header = 1)
    file: str
    procedure_code: str
    result_number: str
    issued_date: date
    valid_until: date | None
    owner_id: str
    owner_name: str = ""
    document_type: str = ""
    dossier_code: str = ""
    agency_code: str = ""
    retention: str = ""
    access_level: str = ""

    def paths(self, src: Path) -> list[Path]:
        """The page files of this row: the file itself, or a folder's files in name order."""
        target = src / self.file
        if target.is_dir():
            return sorted((p for p in target.iterdir() if p.is_file() and not p.name.startswith(".")), key=_natural)
        return [target]


@dataclass(frozen=True)
class RowProblem:
    number: int
    reason_vi: str
    code: str  # machine-readable: missing-file, bad-id, bad-date, duplicate, bad-procedure, ...

    def __str__(self) -> str:
        return f"dòng {self.number}: {self.reason_vi}"


def _natural(path: Path) -> tuple[object, ...]:
    """Name order as a person reads it: trang-2 before trang-10."""
    parts: list[object] = []
    digits = ""
    for ch in path.name:
        if ch.isdigit():
            digits += ch
            continue
        if digits:
            parts.append((0, int(digits)))
            digits = ""
        parts.append((1, ch))
    if digits:
        parts.append((0, int(digits)))
    return tuple(parts)


def parse_date(text: str) -> date:
    """``2021-06-29``, ``29/06/2021`` or ``29-06-2021``; ValueError otherwise."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def is_owner_id(value: str) -> bool:
    """A citizen's 12-digit personal identifier or an organisation's tax code."""
    return codes.parse_personal_id(value) is not None or codes.is_tax_code(value)


def read_manifest(path: Path, src: Path) -> Iterator[ManifestRow | RowProblem]:
    """Each row of the manifest, checked: a ManifestRow, or one RowProblem per thing wrong with it.

    A manifest that cannot be read at all (not UTF-8, no header, a required
    column missing) is an InputError naming the file.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(
            path.name,
            f"không mở được bảng kê ({exc.strerror})",
            f"cannot open manifest ({exc.strerror})",
            code="missing",
        ) from None
    seen: set[int] = set()
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise InputError(path.name, "bảng kê trống", "manifest is empty", code="bad-manifest")
            columns = [_HEADER.get(_fold(unicodedata.normalize("NFC", h))) for h in header]
            missing = [c for c in REQUIRED if c not in columns]
            if missing:
                raise InputError(
                    path.name,
                    f"bảng kê thiếu cột: {', '.join(missing)}",
                    f"manifest lacks columns: {', '.join(missing)}",
                    code="bad-manifest",
                )
            for number, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue
                values = {
                    col: unicodedata.normalize("NFC", cell.strip())
                    for col, cell in zip(columns, cells, strict=False)
                    if col is not None
                }
                yield from _check(number, values, src, seen)
        except UnicodeDecodeError:
            raise InputError(
                path.name, "bảng kê không phải UTF-8", "manifest is not UTF-8", code="bad-manifest"
            ) from None


def _check(number: int, v: dict[str, str], src: Path, seen: set[int]) -> Iterator[ManifestRow | RowProblem]:
    problems: list[RowProblem] = []

    def bad(code: str, reason: str) -> None:
        problems.append(RowProblem(number, reason, code))

    for col in REQUIRED:
        if not v.get(col):
            bad("missing-value", f"thiếu giá trị cột {col}")
    file = v.get("file", "")
    if file:
        rel = Path(file)
        if rel.is_absolute() or ".." in rel.parts:
            bad("bad-path", f"đường dẫn '{file}' phải nằm trong thư mục nguồn")
        elif not (src / rel).exists():
            bad("missing-file", f"không tìm thấy tệp '{file}'")
        elif (src / rel).is_dir() and not any(p.is_file() for p in (src / rel).iterdir()):
            bad("missing-file", f"thư mục '{file}' không có trang nào")
    owner = v.get("owner_id", "")
    if owner and not is_owner_id(owner):
        bad("bad-id", f"số định danh/mã số thuế '{owner}' không hợp lệ")
    procedure = v.get("procedure_code", "")
    if procedure and not codes.is_procedure_code(procedure):
        bad("bad-procedure", f"mã thủ tục '{procedure}' không đúng định dạng")
    dates: dict[str, date | None] = {}
    for col in ("issued_date", "valid_until"):
        text = v.get(col, "")
        dates[col] = None
        if text:
            try:
                dates[col] = parse_date(text)
            except ValueError:
                bad("bad-date", f"ngày '{text}' ở cột {col} không đúng (dùng 2021-06-29 hoặc 29/06/2021)")
    issued, until = dates["issued_date"], dates["valid_until"]
    if issued and until and until < issued:
        bad("bad-date", f"ngày hết hiệu lực {until:%d/%m/%Y} trước ngày cấp {issued:%d/%m/%Y}")
    if issued and issued > date.today():
        bad("bad-date", f"ngày cấp {issued:%d/%m/%Y} ở tương lai")
    dossier = v.get("dossier_code", "")
    if dossier and codes.parse_dossier_code(dossier) is None:
        bad("bad-dossier-code", f"mã hồ sơ '{dossier}' không đúng quy tắc")
    agency = v.get("agency_code", "")
    if agency and not codes.is_agency_code(agency):
        bad("bad-agency-code", f"mã cơ quan '{agency}' không đúng quy tắc")
    key = int.from_bytes(
        hashlib.blake2b(
            "\x1f".join((file, procedure, v.get("result_number", ""), owner)).encode(), digest_size=8
        ).digest()
    )
    file_key = int.from_bytes(hashlib.blake2b(b"file\x1f" + file.encode(), digest_size=8).digest())
    if key in seen or (file and file_key in seen):
        bad("duplicate", "dòng trùng với một dòng phía trên (cùng tệp hoặc cùng kết quả)")
    seen.update((key, file_key))
    if problems:
        yield from problems
        return
    assert issued is not None
    yield ManifestRow(
        number=number,
        file=file,
        procedure_code=procedure,
        result_number=v["result_number"],
        issued_date=issued,
        valid_until=until,
        owner_id=owner,
        owner_name=v.get("owner_name", ""),
        document_type=v.get("document_type", ""),
        dossier_code=dossier,
        agency_code=agency,
        retention=v.get("retention", ""),
        access_level=v.get("access_level", ""),
    )
