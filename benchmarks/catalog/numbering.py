"""Dossier numbers issued at once by several processes, on SQLite and on PostgreSQL: rate, and checked gapless.

    .venv/bin/python -m benchmarks.catalog.numbering --processes 4 --codes 250
    .venv/bin/python -m benchmarks.catalog.numbering --url postgresql://role@host/db   # a server of your own

Each process opens its own catalog connection (on PostgreSQL: as a separate
machine would) and, per code, creates a job and issues its dossier code for
one agency and day, the two write transactions a counter makes per dossier.
Without --url, PostgreSQL is the throwaway cluster the test suite uses
(``tests/postgres.py``: fsync off, so the figure is the locking, not the disk).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from scanner import codes
from scanner.archive import Catalog

DAY = date(2026, 12, 1)
AGENCY = "000.00.00.H32"


def issue_codes(where: Any, index: Path, worker: int, n: int, agency: str = AGENCY) -> list[str]:
    """N dossier codes of AGENCY's day, each for a new job, as one counter process issues them."""
    out = []
    with Catalog(where, index_path=index) as cat:
        for i in range(n):
            job = f"w{worker}-{i}"
            cat.create_job(job, "quay-1", {})
            out.append(cat.issue_dossier_code(job, agency, DAY, codes.dossier_code))
    return out


def run(where: Any, index: Path, processes: int, per_process: int) -> tuple[float, int]:
    """(seconds, codes) for PROCESSES issuing PER_PROCESS codes each; raises if a number repeats or is skipped."""
    Catalog(where, index_path=index).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        pool.starmap(issue_codes, [(where, index, w, 1) for w in range(processes)])  # start-up and imports, not timed
        start = time.perf_counter()
        parts = pool.starmap(issue_codes, [(where, index, w + processes, per_process) for w in range(processes)])
        took = time.perf_counter() - start
    numbers = sorted(int(c.rsplit("-", 1)[1]) for part in parts for c in part)
    expected = list(range(processes + 1, processes + processes * per_process + 1))
    if numbers != expected:
        raise SystemExit(f"numbers not unique and gapless: {len(set(numbers))} distinct of {len(numbers)}")
    return took, len(numbers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--codes", type=int, default=250, help="codes per process")
    ap.add_argument("--url", help="a PostgreSQL database of your own (its tables are created if missing)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = None
        if args.url:
            pg: Any = args.url
        else:
            from tests import postgres

            server = postgres.start()
            pg = server.fresh_database()[1]
        try:
            for name, where in (("SQLite", folder / "c.sqlite"), ("PostgreSQL", pg)):
                took, n = run(where, folder / f"{name}.index", args.processes, args.codes)
                print(f"| {name} | {args.processes} | {n} | {took:.2f} s | {n / took:.0f} | unique, gapless |")
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
