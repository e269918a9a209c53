"""The digitization-rate figures of the periodic reports under Decision 468/QĐ-TTg.

The plans ask, per agency, what share of the results it issued that are
still valid exists in digitized form. The archive knows the numerator; the
denominator (how many still-valid results the agency has issued in all)
comes from the agency's own books, as a small CSV of totals.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scanner.archive import Catalog
from scanner.errors import InputError


@dataclass(frozen=True)
class CountRow:
    agency: str
    procedure: str
    month: str
    backfilled: int
    new: int
    still_valid: int
    pages: int


@dataclass(frozen=True)
class RateRow:
    agency: str
    digitized_valid: int
    total_valid: int

    @property
    def rate(self) -> float:
        return 100.0 * self.digitized_valid / self.total_valid if self.total_valid else 0.0


def counts(catalog: Catalog, *, since: date, until: date, agency: str | None, today: date) -> list[CountRow]:
    merged: dict[tuple[str, str, str], dict[str, int]] = {}
    for r in catalog.result_counts(
        since=since.isoformat(), until=until.isoformat(), agency=agency, today=today.isoformat()
    ):
        key = (r.agency, r.procedure or "", r.month)
        m = merged.setdefault(key, {"backfilled": 0, "new": 0, "still_valid": 0, "pages": 0})
        m["backfilled" if r.backfilled else "new"] += r.results
        m["still_valid"] += r.still_valid or 0
        m["pages"] += r.pages or 0
    return [CountRow(a, p, mo, **v) for (a, p, mo), v in sorted(merged.items())]


def read_totals(path: Path) -> dict[str, int]:
    """``agency_code,total`` (or ``mã cơ quan,tổng số``): still-valid results each agency has issued."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path.name, f"không đọc được tệp tổng số ({exc})", f"cannot read totals ({exc})") from None
    out: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[0].strip():
            continue
        try:
            out[unicodedata.normalize("NFC", row[0].strip())] = int(row[1].strip())
        except ValueError:
            if number == 1:
                continue  # the header
            raise InputError(
                path.name, f"dòng {number}: tổng số '{row[1]}' không phải số", f"row {number}: not a number"
            ) from None
    return out


def rates(rows: list[CountRow], totals: dict[str, int]) -> list[RateRow]:
    digitized: dict[str, int] = {}
    for r in rows:
        digitized[r.agency] = digitized.get(r.agency, 0) + r.still_valid
    return [RateRow(a, digitized.get(a, 0), t) for a, t in sorted(totals.items())]
