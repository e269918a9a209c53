"""How results look on a terminal and in JSON.

On screen: Vietnamese labels, dates as written on papers (``05/02/2024``),
times in the agency's zone with the offset shown (as on the signature mark),
lists joined, and an em dash for "nothing" — never ``None`` or a Python
tuple, which a clerk would read as part of the record. In JSON: the same
fields under their English names, times in ISO 8601 with their offset, for
scripts to compare and sort.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scanner.app.clock import agency_day, agency_time

DASH = "—"

# Extracted field names as a clerk knows them (for review flags).
FIELD_VI = {
    "number": "số",
    "notation": "ký hiệu",
    "code_number": "số và ký hiệu",
    "type_abbr": "loại văn bản (viết tắt)",
    "type_name": "loại văn bản",
    "issuer_abbr": "cơ quan ban hành (viết tắt)",
    "issued_date": "ngày ban hành",
    "place": "địa danh",
    "issuer": "cơ quan ban hành",
    "subject": "trích yếu",
    "holder_name": "họ tên người được cấp",
    "holder_id": "số định danh người được cấp",
}


def plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    return value


def print_json(value: Any) -> None:
    print(json.dumps(plain(value), ensure_ascii=False, indent=2))


def text(value: Any) -> str:
    """One value as a person reads it: lists joined, nothing shown as a dash."""
    if value is None or value == "" or value == () or value == []:
        return DASH
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def day(value: str | date | None) -> str:
    return agency_day(value) or DASH


def time(value: str | datetime | None) -> str:
    return agency_time(value) or DASH


def review(names: Iterable[str]) -> str:
    return text([FIELD_VI.get(n, n) for n in names])


def fields(rows: Iterable[tuple[str, Any]], indent: str = "") -> None:
    """Label: value lines, labels aligned."""
    rows = list(rows)
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        print(f"{indent}{label + ':':<{width + 1}} {text(value)}")
