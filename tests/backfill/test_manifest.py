"""Checking the records clerk's manifest: every problem named with its row, in constant memory."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from scanner.backfill import ManifestRow, RowProblem, read_manifest
from scanner.cli import main

HEADER_EN = ["file", "procedure_code", "result_number", "issued_date", "valid_until", "owner_id", "owner_name"]
HEADER_VI = ["Tệp", "Mã TTHC", "Số ký hiệu", "Ngày cấp", "Hiệu lực đến", "Số định danh", "Họ tên"]
GOOD_ID = "079203001234"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def src(tmp_path: Path) -> Path:
    d = tmp_path / "nguon"
    (d / "gcn-02").mkdir(parents=True)
    for name in ("gks-01.jpg", "gcn-02/trang-10.png", "gcn-02/trang-2.png", "kq-03.tif"):
        (d / name).write_bytes(b"x")
    return d


def test_vietnamese_headers_dates_and_folders(tmp_path: Path, src: Path) -> None:
    manifest = _write(
        tmp_path / "bang-ke.csv",
        HEADER_VI,
        [
            ["gks-01.jpg", "1.000894", "123/GKS", "29/06/2021", "", GOOD_ID, "Nguyễn Thị Hồng"],
            ["gcn-02", "2.000123", "45/GCN-STP", "2020-01-15", "2030-01-15", "0100109106", "Công ty Sông Hồng"],
        ],
    )
    rows = list(read_manifest(manifest, src))
    assert all(isinstance(r, ManifestRow) for r in rows), rows
    first, second = rows
    assert isinstance(first, ManifestRow) and isinstance(second, ManifestRow)
    assert first.number == 2 and first.issued_date == date(2021, 6, 29) and first.valid_until is None
    assert first.owner_name == "Nguyễn Thị Hồng"
    assert [p.name for p in second.paths(src)] == ["trang-2.png", "trang-10.png"]  # a person's name order


def test_dry_run_names_every_row_and_reason(tmp_path: Path, src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        ["gks-01.jpg", "1.000894", "1/GKS", "2021-06-29", "", GOOD_ID, "A"],  # 2: fine
        ["khong-co.jpg", "1.000894", "2/GKS", "2021-06-29", "", GOOD_ID, "B"],  # 3: missing file
        ["kq-03.tif", "1.000894", "3/GKS", "2021-06-29", "", "079203001", "C"],  # 4: invalid identifier
        ["kq-03.tif", "1.000894", "4/GKS", "31/02/2021", "", GOOD_ID, "D"],  # 5: bad date
        ["gks-01.jpg", "1.000894", "1/GKS", "2021-06-29", "", GOOD_ID, "A"],  # 6: duplicate of row 2
        ["gcn-02", "TTHC-15", "5/GCN", "2021-06-29", "", GOOD_ID, "E"],  # 7: unknown procedure code format
    ]
    manifest = _write(tmp_path / "bang-ke.csv", HEADER_EN, rows)
    assert main(["backfill", str(src), "--manifest", str(manifest), "--dry-run"]) == 1
    out = capsys.readouterr().out
    expected = {
        3: "missing-file",
        4: "bad-id",
        5: "bad-date",
        6: "duplicate",
        7: "bad-procedure",
    }
    for row, code in expected.items():
        assert any(line.startswith(f"bang-ke.csv: dòng {row}:") and f"[{code}]" in line for line in out.splitlines()), (
            row,
            out,
        )
    assert "dòng 2:" not in out
    assert "khong-co.jpg" in out and "079203001" in out and "31/02/2021" in out and "TTHC-15" in out


def test_clean_manifest_dry_run_exits_0(tmp_path: Path, src: Path) -> None:
    manifest = _write(
        tmp_path / "m.csv", HEADER_EN, [["gks-01.jpg", "1.000894", "1/GKS", "2021-06-29", "", GOOD_ID, ""]]
    )
    assert main(["backfill", str(src), "--manifest", str(manifest), "--dry-run"]) == 0


def test_missing_column_is_a_clear_error(tmp_path: Path, src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _write(tmp_path / "m.csv", ["file", "owner_id"], [["gks-01.jpg", GOOD_ID]])
    assert main(["backfill", str(src), "--manifest", str(manifest), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "m.csv" in err and "procedure_code" in err


def test_problems_are_values_not_exceptions(tmp_path: Path, src: Path) -> None:
    manifest = _write(tmp_path / "m.csv", HEADER_EN, [["", "", "", "", "", "", ""], ["x", "", "", "", "", "", ""]])
    problems = list(read_manifest(manifest, src))
    assert problems and all(isinstance(p, RowProblem) and p.number == 3 for p in problems)


# VmHWM, not ru_maxrss: the latter survives exec and would report the forking test runner's size
_MEMORY_PROBE = """
import re, sys
from pathlib import Path
from scanner.backfill import read_manifest
n = sum(1 for _ in read_manifest(Path(sys.argv[1]), Path(sys.argv[2])))
status = Path("/proc/self/status").read_text()
print(n, re.search(r"VmHWM:\\s+(\\d+)", status).group(1))
"""


@pytest.mark.parametrize("rows", [10_000, 100_000])
def test_memory_stays_flat_with_manifest_size(tmp_path: Path, src: Path, rows: int) -> None:
    """100,000 rows are checked in about the memory of 10,000 (only a fingerprint per row is kept)."""
    manifest = tmp_path / f"m{rows}.csv"
    with manifest.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER_EN)
        for i in range(rows):
            w.writerow(["gks-01.jpg", "1.000894", f"{i}/GKS", "2021-06-29", "", GOOD_ID, f"Người số {i}"])
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(manifest), str(src)], capture_output=True, text=True, check=True
    ).stdout.split()
    count, peak_kb = int(out[0]), int(out[1])
    assert count >= rows  # one item per row: valid, or its problem (the repeated file is a duplicate)
    assert peak_kb < 80_000, f"peak {peak_kb} KiB for {rows} rows"
