"""Backfill end to end: rows archived as results, reported, not repeated, counted in the rates."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner.archive import Catalog
from scanner.cli import main
from scanner.config import load_config
from tests.conftest import render_lines

HEADER = ["Tệp", "Mã TTHC", "Số ký hiệu", "Ngày cấp", "Hiệu lực đến", "Số định danh", "Họ tên", "Loại giấy tờ"]
OWNER = "079203001234"


def result_page(number: str, day: int, month: int, year: int, holder: str):  # type: ignore[no-untyped-def]
    return render_lines(
        [
            "ỦY BAN NHÂN DÂN PHƯỜNG BẾN NGHÉ",
            f"Số: {number}",
            f"Hồ Chí Minh, ngày {day} tháng {month} năm {year}",
            "GIẤY XÁC NHẬN",
            f"Xác nhận ông/bà {holder}",
            f"Số định danh cá nhân: {OWNER}",
        ],
        dpi=150,
    )


def make_set(root: Path, n: int, *, bad_row: bool = True) -> tuple[Path, Path]:
    src = root / "nguon"
    src.mkdir(parents=True)
    rows = []
    for i in range(n):
        number = f"{100 + i}/GXN-UBND"
        result_page(number, 10 + i, 3, 2021, f"Trần Văn Số {i}").save(src / f"kq-{i:02d}.png", dpi=(150, 150))
        until = "" if i % 2 == 0 else "2022-12-31"  # odd rows: expired already
        rows.append(
            [
                f"kq-{i:02d}.png",
                "1.000894",
                number,
                f"{10 + i}/03/2021",
                until,
                OWNER,
                f"Trần Văn Số {i}",
                "Giấy xác nhận",
            ]
        )
    rows[0][2] = "999/GXN-UBND"  # the clerk typed the wrong number: the page disagrees
    if bad_row:
        rows.append(["khong-co.png", "1.000894", "7/GXN", "2021-03-01", "", OWNER, "X", "Giấy xác nhận"])
    manifest = root / "bang-ke.csv"
    with manifest.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return src, manifest


def _report(manifest: Path) -> list[dict[str, str]]:
    with manifest.with_name("bang-ke.bao-cao.csv").open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_backfill_archives_results_reports_and_does_not_repeat(
    workstation: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCANNER_CONFIG", str(workstation))
    src, manifest = make_set(tmp_path, 3)
    assert main(["backfill", str(src), "--manifest", str(manifest), "--jobs", "2"]) == 1  # one bad row
    report = {int(r["dong"]): r for r in _report(manifest)}
    assert [report[i]["trang_thai"] for i in (2, 3, 4)] == ["đã lưu"] * 3
    assert report[5]["trang_thai"] == "bỏ qua (dòng lỗi)" and "khong-co.png" in report[5]["canh_bao"]
    for row, day in ((2, "210310"), (3, "210311"), (4, "210312")):
        # a code issued under the usual rule, dated on the day the result was issued
        assert re.fullmatch(rf"000\.00\.00\.H32-{day}-\d{{4}}-KQ1", report[row]["ma_ket_qua"]), report[row]
    assert "999/GXN-UBND" in report[2]["canh_bao"] and "100/GXN-UBND" in report[2]["canh_bao"]
    assert "khác trang" not in report[3]["canh_bao"]

    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        doc = catalog.document(report[3]["ma_ket_qua"])
        assert doc is not None and doc.kind == "result"
        assert doc.valid_until == "2022-12-31" and doc.holder_id == OWNER
        assert doc.code_number == "101" and doc.code_notation == "GXN-UBND"
        dossier = catalog.dossier(report[3]["ma_ho_so"])
        assert dossier is not None and dossier.procedure_code == "1.000894"
        assert (config.archive.root / doc.path).is_file()

    # the same arguments again: nothing is archived twice
    capsys.readouterr()
    assert main(["backfill", str(src), "--manifest", str(manifest), "--jobs", "2"]) == 1
    again = {int(r["dong"]): r for r in _report(manifest)}
    assert [again[i]["trang_thai"] for i in (2, 3, 4)] == ["đã lưu trước đó"] * 3
    assert [again[i]["ma_ket_qua"] for i in (2, 3, 4)] == [report[i]["ma_ket_qua"] for i in (2, 3, 4)]
    with Catalog(config.archive.catalog_path) as catalog:
        assert len(catalog.all_documents()) == 3

    # the counter's reuse check: still-valid results of the owner, newest first (row 3 expired at the end of 2022)
    capsys.readouterr()
    assert main(["owner", OWNER, "--json"]) == 0
    held = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in held] == [report[4]["ma_ket_qua"], report[2]["ma_ket_qua"]]

    # the rates: 3 backfilled results, 2 still valid (one expired); the agency's books say 8 in all
    totals = tmp_path / "tong-so.csv"
    totals.write_text("mã cơ quan,tổng số\n000.00.00.H32,8\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--totals", str(totals), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    (row,) = figures["rows"]
    assert (row["agency"], row["procedure"], row["backfilled"], row["new"], row["still_valid"]) == (
        "000.00.00.H32",
        "1.000894",
        3,
        0,
        2,
    )
    assert figures["rates"] == [{"agency": "000.00.00.H32", "digitized_valid": 2, "total_valid": 8, "rate": 25.0}]


@pytest.mark.slow
def test_killed_backfill_resumes_and_archives_each_row_once(workstation: Path, tmp_path: Path) -> None:
    src, manifest = make_set(tmp_path, 6)
    text = workstation.read_text(encoding="utf-8").replace("processes = 0 ", "processes = 2 ")
    workstation.write_text(text, encoding="utf-8")
    env = {**os.environ, "SCANNER_CONFIG": str(workstation)}
    cmd = [sys.executable, "-m", "scanner", "backfill", str(src), "--manifest", str(manifest), "--jobs", "2"]
    config = load_config(workstation)

    def archived() -> int:
        with Catalog(config.archive.catalog_path) as catalog:
            return len(catalog.jobs(states=("archived",)))

    for kill_after in (1, 3):  # kill -9 twice, at different points
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 300
        while archived() < kill_after and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # the bad row
    report = {int(r["dong"]): r for r in _report(manifest)}
    assert len(report) == 7
    assert all(report[i]["trang_thai"] in ("đã lưu", "đã lưu trước đó") for i in range(2, 8))
    assert "khong-co.png" in report[8]["canh_bao"]
    codes = [report[i]["ma_ket_qua"] for i in range(2, 8)]
    assert len(set(codes)) == 6
    with Catalog(config.archive.catalog_path) as catalog:
        assert len(catalog.all_documents()) == 6  # each valid row exactly once
        assert len({d.dossier_code for d in catalog.all_documents()}) == 6
