"""Where the time of ``Catalog.search`` goes, per query class, on a catalog and index already filled.

    python -m benchmarks.province.split --url postgresql+psycopg://… --index /path/to/index [--queries 200]

Each class of the search benchmark (its query sets, imported; seeded as the
province benchmark seeds them at that size) is timed through
``Catalog.search`` with its parts timed inside: ``live`` (the live cursor and
the outbox's last id, the index reopened or refreshed), ``index``
(``SearchIndex`` answering, both passes), ``rows`` (the hits' catalog rows),
``snippet`` and ``pending`` (documents not yet indexed, scanned). Run it on
the catalog the province benchmark filled (keep its cluster running) or any
other; to compare two versions of the code, run each with its tree first on
``PYTHONPATH``, one after the other, so that the machine's load weighs on
both alike.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.search.bench import Corpus, pct, queries
from scanner.archive import Catalog
from scanner.archive.catalog import search as search_module

PARTS = ("live", "index", "rows", "snippet", "pending")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="the catalog's database URL (the service role)")
    ap.add_argument("--index", type=Path, required=True, help="the catalog's index folder")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1_000_000, help="the province benchmark seeds its queries with N")
    args = ap.parse_args()
    catalog = Catalog(args.url, index_path=args.index, catch_up=False)
    store = catalog.search_store
    spent: dict[str, float] = defaultdict(float)

    def timed(owner: Any, name: str, part: str) -> None:
        inner: Callable[..., Any] = getattr(owner, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                spent[part] += time.perf_counter() - t0

        setattr(owner, name, wrapper)

    timed(store, "_searchable", "live")
    timed(store, "_scan_unindexed", "pending")
    timed(search_module, "snippet", "snippet")
    timed(store, "_hits", "hits")  # rows and snippets: the rows are the rest
    timed(store.index, "search", "index")
    classes = queries(Corpus(words=300), random.Random(args.seed), ["000000000000"], args.queries)
    print("| query class | p50 | p95 | mean | " + " | ".join(PARTS) + " |")
    print("| --- |" + " ---: |" * (3 + len(PARTS)))
    for name, qs in classes.items():
        if not qs[0][0]:  # the owner filters need the benchmark's citizen IDs
            qs = [(q, f) for q, f in qs if q]
        for q, f in qs[:10]:
            catalog.search(q, limit=10, filters=f)
        total: list[float] = []
        parts: dict[str, float] = defaultdict(float)
        for q, f in qs:
            spent.clear()
            t0 = time.perf_counter()
            catalog.search(q, limit=10, filters=f)
            total.append((time.perf_counter() - t0) * 1000)
            spent["rows"] = spent.get("hits", 0.0) - spent.get("snippet", 0.0)
            for p in PARTS:
                parts[p] += spent.get(p, 0.0) * 1000
        means = " | ".join(f"{parts[p] / len(qs):.1f}" for p in PARTS)
        mean = sum(total) / len(total)
        print(f"| {name} | {pct(total, 50):.1f} ms | {pct(total, 95):.1f} ms | {mean:.1f} ms | {means} |")
    catalog.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
