"""Pages per hour through the shared queue with 1 and 2 ``scanner worker`` processes, real OCR.

    .venv/bin/python -m benchmarks.queue.throughput --pages 36 --workers 1 2

Generated administrative documents (``benchmarks.backfill.bench.generate``:
200 dpi, skewed, noisy JPEGs, one to three pages each) are submitted as one
dossier each into a province of one throwaway PostgreSQL catalog
(``tests/postgres.py``) and a shared work folder, and put in the queue; N
worker processes (``[workers] processes`` page processes each) carry them
through clean, Tesseract, PDF/A, PAdES signing and filing. Timed from the
moment the dossiers are in line (the workers already started and waiting)
until the last is archived. Each run starts from a fresh database and
folders, so no result is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.backfill.bench import generate
from scanner.archive import open_catalog
from scanner.cli import main as scanner
from scanner.config import load_config
from scanner.pipeline import JobState, Pipeline
from scanner.queue import enqueue, make_app
from tests.conftest import configure


def dossiers(src: Path) -> list[list[Path]]:
    """The generated results: a file is a one-page dossier, a folder's pages (in name order) one dossier."""
    out = []
    for entry in sorted(src.iterdir()):
        out.append(sorted(entry.iterdir()) if entry.is_dir() else [entry])
    return out


def run(server: Any, scans: list[list[Path]], workers: int, processes: int, tmp: Path) -> tuple[float, int]:
    root = tmp / f"w{workers}"
    assert scanner(["init", "--root", str(root / "ws")]) == 0
    config_path = root / "ws" / "scanner.toml"
    _, service = server.fresh_database()
    configure(config_path, "review", mode="never")
    configure(config_path, "workers", processes=processes)
    configure(config_path, "catalog", url=service.set(drivername="postgresql").render_as_string(hide_password=False),
              station="may-1", index=str(root / "index"))  # fmt: skip
    configure(config_path, "queue", work=str(root / "chung"), heartbeat_seconds=2.0, stalled_seconds=10.0,
              poll_seconds=0.5)  # fmt: skip
    config = load_config(config_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "scanner", "--config", str(config_path), "worker", "--name", f"w{i}"],
            stdout=subprocess.DEVNULL,
            stderr=(root / f"w{i}.log").open("wb"),
            start_new_session=True,
        )
        for i in range(workers)
    ]
    try:
        with open_catalog(config.archive) as cat:
            pipeline = Pipeline(config, cat)
            jobs = [pipeline.submit(files, config.counters[0]) for files in scans]
            app = make_app(config)
            with app.open():
                while len(_workers_alive(app)) < workers:  # every worker up and waiting before the clock starts
                    time.sleep(0.2)
            started = time.monotonic()
            enqueue(config, [j for j in (cat.job(i) for i in jobs) if j is not None])
            while True:
                states = [JobState(j.state) for j in cat.jobs(every_station=True)]
                if all(s.finished for s in states):
                    break
                time.sleep(0.5)
            took = time.monotonic() - started
            pages = sum(d.pages for d in cat.all_documents())
            assert all(s is JobState.ARCHIVED for s in states), states
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=120)
    return took, pages


def _workers_alive(app: Any) -> list[int]:
    rows = app.connector.get_sync_connector().execute_query_all("SELECT id FROM procrastinate_workers")
    return [r["id"] for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=36, help="pages generated (one to three per dossier)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes, one run each")
    ap.add_argument("--processes", type=int, default=1, help="page processes per worker ([workers] processes)")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"),
                    help="the runs as JSON, what benchmarks/capacity.py reads")  # fmt: skip
    args = ap.parse_args()
    from tests import postgres

    server = postgres.start()
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            src, _, made = generate(tmp / "gen", args.pages)
            scans = dossiers(src)
            load = os.getloadavg()[0]
            print(f"{made} trang, {len(scans)} hồ sơ; tải máy lúc bắt đầu: {load:.1f} ({os.cpu_count()} nhân)")
            print("| workers | page processes each | dossiers | pages | wall | pages/hour |")
            print("| ---: | ---: | ---: | ---: | ---: | ---: |")
            runs = []
            for n in args.workers:
                took, pages = run(server, scans, n, args.processes, tmp)
                print(f"| {n} | {args.processes} | {len(scans)} | {pages} | {took:.1f} s | {pages / took * 3600:.0f} |",
                      flush=True)  # fmt: skip
                runs.append({"workers": n, "processes": args.processes, "dossiers": len(scans), "pages": pages,
                             "seconds": round(took, 1), "pages_per_hour": round(pages / took * 3600)})  # fmt: skip
            print(f"tải máy lúc kết thúc: {os.getloadavg()[0]:.1f}")
            summary = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "load_start": round(load, 1),
                       "load_end": round(os.getloadavg()[0], 1), "runs": runs}  # fmt: skip
            args.out.write_text(json.dumps(summary, indent=2) + "\n")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
