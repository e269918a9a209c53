"""Rebuild benchmark: the rate and the peak memory of ``scanner reindex`` at two archive sizes.

    .venv/bin/python benchmarks/index/rebuild.py --docs 50000 200000 --work /tmp/rebuild-bench
    .venv/bin/python benchmarks/index/rebuild.py --docs 20000 --profile      # where the time goes (cProfile)

Each size gets a SQLite catalog of N synthetic documents of ~300 Vietnamese
syllables, filled by ``benchmarks/search/bench.py``'s own ``fill`` (so the
documents are those of the search benchmark), kept in WORK and reused. The
rebuild (``Catalog.reindex``, the path of ``scanner reindex``) runs in a
fresh child process, which reports its peak resident memory
(``ru_maxrss``) and its resident memory before the rebuild started: what a
rebuild adds must not grow with the archive. Prints a Markdown table and
writes ``results.json`` in WORK.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "search"))
sys.path.insert(0, str(HERE.parents[1]))

from bench import fill  # noqa: E402
from vocab import Corpus  # noqa: E402

from scanner.app import SYSTEM  # noqa: E402
from scanner.archive import Catalog  # noqa: E402
from scanner.config import IndexConfig  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def catalog_of(work: Path, n: int) -> Path:
    """A catalog of N documents in WORK, made once."""
    path = work / f"catalog-{n}.sqlite"
    if path.exists():
        return path
    part = path.with_suffix(".part")
    for p in (part, part.with_name(part.name + "-wal"), part.with_name(part.name + "-shm")):
        p.unlink(missing_ok=True)
    with Catalog(part, index_path=work / f"unused-{n}.index", catch_up=False) as cat:
        fill(cat, n, Corpus(words=300), random.Random(7))
    part.rename(path)
    return path


def child(path: Path, heap_mb: int, batch: int, profile: bool) -> None:
    """Rebuild PATH's index from scratch, then print what it took as JSON."""
    import shutil

    index = path.with_suffix(".index")
    shutil.rmtree(index, ignore_errors=True)
    with Catalog(path, index_path=index, catch_up=False, index=IndexConfig(heap_mb=heap_mb, batch=batch)) as cat:
        with cat.search_store.db.write() as c:  # a rebuild from scratch each run
            c.exec_driver_sql("DELETE FROM index_cursors")
        before = rss_mb()
        # the main thread's own CPU time: on 2 shared cores, wall time would blame whatever was descheduled
        profiler = cProfile.Profile(time.thread_time) if profile else None
        t0, cpu0, main0 = time.perf_counter(), time.process_time(), time.thread_time()
        if profiler:
            profiler.enable()
        at_commits: list[float] = []  # resident memory after each commit: the scan's, before the last merges
        n = cat.reindex(actor=SYSTEM.label, progress=lambda _: at_commits.append(rss_mb()))
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - t0
        cpu, main_cpu = time.process_time() - cpu0, time.thread_time() - main0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    out = {"docs": n, "seconds": seconds, "rate": n / seconds, "rss_before_mb": before, "peak_rss_mb": peak,
           "index_bytes_per_doc": size / max(1, n), "max_rss_at_commits_mb": max(at_commits, default=0.0),
           "cpu_seconds": cpu, "main_thread_cpu_seconds": main_cpu,
           "load": os.getloadavg()[0]}  # fmt: skip
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        out["profile"] = text.getvalue()
    print(json.dumps(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="+", default=[50_000, 200_000])
    ap.add_argument("--work", type=Path, default=Path("/tmp/rebuild-bench"))
    ap.add_argument("--heap-mb", type=int, default=IndexConfig().heap_mb)
    ap.add_argument("--batch", type=int, default=IndexConfig().batch, help="documents per commit")
    ap.add_argument("--profile", action="store_true", help="print where the rebuild's time goes (cProfile)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.heap_mb, args.batch, args.profile)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.docs:
        path = catalog_of(args.work, n)
        argv = [sys.executable, __file__, "--child", str(path), "--heap-mb", str(args.heap_mb)]
        argv += ["--batch", str(args.batch)]
        done = subprocess.run(argv + (["--profile"] if args.profile else []), capture_output=True, text=True)
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return 1
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        if args.profile:
            print(row.pop("profile"))
    (args.work / "results.json").write_text(json.dumps(rows, indent=2))
    print(f"Rebuild (`Catalog.reindex`), writer heap {args.heap_mb} MB, a commit every {args.batch:,} documents:\n")
    print("| documents | time | documents/s | CPU (all threads) | CPU (Python thread) | load | RSS before "
          "| RSS at commits (max) | peak RSS | index bytes/doc |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['docs']:,} | {r['seconds']:.0f} s | {r['rate']:,.0f} | {r['cpu_seconds']:.1f} s "
              f"| {r['main_thread_cpu_seconds']:.1f} s | {r['load']:.1f} | {r['rss_before_mb']:.0f} MB "
              f"| {r['max_rss_at_commits_mb']:.0f} MB "
              f"| {r['peak_rss_mb']:.0f} MB | {r['index_bytes_per_doc']:,.0f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
