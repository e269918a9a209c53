"""Counter latency: how soon the clerk sees each page, and how soon a closed dossier is signed and filed.

A throw-away workstation made by `scanner init` (its default configuration:
settle 2 s, dossiers open until the clerk closes them, review of flagged
fields) runs `scanner watch` as a separate process. Each run drops three
one-page 200 dpi scans of a real-looking administrative page 5 s apart into
the counter's inbox, then closes the dossier with `scanner close` as the
clerk would. Measured, over N runs:

- page → visible: from the moment a file has settled (written, then
  ``settle_seconds`` quiet) until the counter's status (the use case that
  `scanner status --json` renders) shows it recognized;
- close → filed: from starting `scanner close` until the dossier is archived.
  If the dossier stops for the clerk's review (a flagged field), the script
  confirms it at once with `scanner confirm` and the figure includes that.

    .venv/bin/python -m benchmarks.counter.latency [--runs 20] [--out benchmarks/out/counter]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "samples"))

from pagegen import PageSpec, render_pages  # noqa: E402

from scanner.app import Actor  # noqa: E402
from scanner.app import counter as clerk  # noqa: E402
from scanner.archive import Catalog  # noqa: E402
from scanner.config import load_config  # noqa: E402
from scanner.pipeline import JobState  # noqa: E402

SCANNER = [sys.executable, "-m", "scanner"]
CLERK = Actor("benchmark", display_name="Đo độ trễ tại quầy", counter="quay-1")


def _page(i: int) -> PageSpec:
    return PageSpec(
        issuer_parent="UBND THÀNH PHỐ NHA TRANG",
        issuer="ỦY BAN NHÂN DÂN\nPHƯỜNG LỘC THỌ",
        number_line=f"Số: {100 + i}/GXN-UBND",
        place_date=f"Lộc Thọ, ngày {1 + i % 27} tháng 11 năm 2026",
        type_name="GIẤY XÁC NHẬN",
        subject="Xác nhận nơi cư trú",
        body=[
            f"Ủy ban nhân dân phường Lộc Thọ xác nhận ông Nguyễn Văn An, số định danh 05608500{i:04d},",
            "thường trú tại tổ dân phố số 12, phường Lộc Thọ, thành phố Nha Trang, tỉnh Khánh Hòa.",
            "Giấy xác nhận này có giá trị đến hết ngày 31 tháng 12 năm 2026.",
        ],
        signer_position="CHỦ TỊCH",
        signer_name="Trần Thị Hồng Nhung",
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--gap", type=float, default=5.0, help="seconds between the three scans")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "counter")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="counter-latency-"))
    config_path = Path(
        subprocess.run(
            [*SCANNER, "init", "--root", str(work / "ws")], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    config = load_config(config_path)
    inbox, settle = config.counters[0].inbox, config.counters[0].settle_seconds
    scans = []
    for i in range(3 * args.runs):
        path = work / f"scan-{i:03d}.jpg"
        render_pages(_page(i), dpi=200)[0].save(path, dpi=(200, 200), quality=85)
        scans.append(path)
    log = (args.out / "watch.log").open("wb")
    service = subprocess.Popen([*SCANNER, "--config", str(config_path), "watch"], stderr=log, start_new_session=True)
    visible: list[float] = []
    filed: list[float] = []
    filed_direct: list[float] = []  # closed and filed at once (no flagged field)
    filed_after_review: list[float] = []  # stopped for review; the figure includes `scanner confirm`
    reviewed = 0
    try:
        time.sleep(3)
        for run in range(args.runs):
            settled: dict[str, float] = {}
            seen: set[str] = set()  # pages already timed in this run
            for k in range(3):
                src = scans[3 * run + k]
                (inbox / f".{src.name}").write_bytes(src.read_bytes())
                os.rename(inbox / f".{src.name}", inbox / src.name)
                settled[src.name] = time.monotonic() + settle
                deadline = time.monotonic() + (args.gap if k < 2 else 30)
                while time.monotonic() < deadline:
                    with Catalog(config.archive.catalog_path) as cat:
                        now = clerk.status(CLERK, clerk.Station(config, cat), counter="quay-1")
                    stamp = time.monotonic()
                    open_ = [d for d in now.dossiers if d.state is JobState.COLLECTING]
                    for page in (p for d in open_ for doc in d.documents for p in doc.pages if p.recognized):
                        name = page.source.split("#")[0]
                        if name in settled and name not in seen:
                            seen.add(name)
                            visible.append(max(0.0, stamp - settled[name]))
                    if k == 2 and len(seen) == 3:
                        break
                    time.sleep(0.1)
            start = time.monotonic()
            subprocess.run(
                [*SCANNER, "--config", str(config_path), "close", "--counter", "quay-1"],
                check=True,
                capture_output=True,
            )
            stopped = False
            while time.monotonic() - start < 120:
                with Catalog(config.archive.catalog_path) as cat:
                    job = cat.jobs(counter="quay-1", limit=1)[0]
                if job.state == JobState.REVIEWING:
                    stopped = True
                    reviewed += 1
                    subprocess.run(
                        [*SCANNER, "--config", str(config_path), "confirm", job.id], check=True, capture_output=True
                    )
                if job.state == JobState.ARCHIVED:
                    filed.append(time.monotonic() - start)
                    (filed_after_review if stopped else filed_direct).append(filed[-1])
                    break
                time.sleep(0.05)
            print(f"run {run + 1}/{args.runs}: pages {visible[-3:]}, close→filed {filed[-1:]}", flush=True)
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    result = {
        "date": date.today().isoformat(),
        "runs": args.runs,
        "pages": len(visible),
        "page_visible_p50": round(statistics.median(visible), 2),
        "page_visible_p95": round(_p95(visible), 2),
        "page_visible_max": round(max(visible), 2),
        "close_filed_p50": round(statistics.median(filed), 2),
        "close_filed_p95": round(_p95(filed), 2),
        "close_filed_max": round(max(filed), 2),
        "stopped_for_review": reviewed,
        "close_filed_direct_p50": round(statistics.median(filed_direct), 2) if filed_direct else None,
        "close_filed_direct_p95": round(_p95(filed_direct), 2) if filed_direct else None,
        "close_confirm_filed_p50": round(statistics.median(filed_after_review), 2) if filed_after_review else None,
        "close_confirm_filed_p95": round(_p95(filed_after_review), 2) if filed_after_review else None,
    }
    (args.out / "latency.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
