"""The two-step answer of large queries against the full query, on an index already built.

    python -m benchmarks.search.lead --index /var/tmp/province-bench/index/gen-000001 [--queries 100]

``SearchIndex.search`` answers a query expected to match a large share of
the archive in two steps (its rarest term's best documents, then the full
query on them: ``SearchIndex._lead``). This times the engine alone both ways
on the search benchmark's query classes (``benchmarks/search/bench.py``,
imported; the same seed as the province benchmark) and says how often the
two-step answer is the full query's: the same ten codes in the same order,
and the share of the full answer's codes it holds. The full query is what
the engine does with the thresholds raised out of reach. Any index the
province or search benchmark left behind will do (the catalog is not
needed); prints a Markdown table and writes it as JSON beside ``--out``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import scanner.archive.index as ix
from benchmarks.search.bench import Corpus, pct, queries
from scanner.archive.index import SearchIndex, parse_query

CLASSES = ("phrase", "two words, diacritics", "no diacritics", "no-diacritic phrase")


def timed(idx: SearchIndex, q: str, *, full: bool) -> tuple[float, list[str]]:
    saved = ix.PREFILTER_ABOVE, ix.WORDS_PREFILTER_ABOVE
    if full:
        ix.PREFILTER_ABOVE = ix.WORDS_PREFILTER_ABOVE = 10**15
    try:
        t0 = time.perf_counter()
        found = idx.search(parse_query(q), limit=10)
        return (time.perf_counter() - t0) * 1000, [c for c, _ in found]
    finally:
        ix.PREFILTER_ABOVE, ix.WORDS_PREFILTER_ABOVE = saved


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="a generation folder of a built index")
    ap.add_argument("--queries", type=int, default=100, help="queries per class")
    ap.add_argument("--seed", type=int, default=1_000_000, help="the province benchmark seeds its queries with N")
    ap.add_argument("--out", type=Path, default=None, help="JSON file to write (default: print only)")
    args = ap.parse_args()
    idx = SearchIndex(args.index, readonly=True)
    docs = int(idx.index.searcher().num_docs)
    classes = queries(Corpus(words=300), random.Random(args.seed), ["000000000000"], args.queries)
    rows: dict[str, Any] = {}
    for name in CLASSES:
        qs = [q for q, _ in classes[name]]
        for q in qs[:10]:  # warm the caches both ways
            timed(idx, q, full=False)
            timed(idx, q, full=True)
        led_ms, full_ms, same, share = [], [], 0, []
        for q in qs:  # alternately, so that the machine's load weighs on both alike
            ms, led = timed(idx, q, full=False)
            led_ms.append(ms)
            ms, full = timed(idx, q, full=True)
            full_ms.append(ms)
            same += led == full
            share.append(len(set(led) & set(full)) / max(1, len(full)))
        rows[name] = {
            "two_step_p50_ms": round(pct(led_ms, 50), 2),
            "two_step_p95_ms": round(pct(led_ms, 95), 2),
            "full_p50_ms": round(pct(full_ms, 50), 2),
            "full_p95_ms": round(pct(full_ms, 95), 2),
            "same_answer": f"{same}/{len(qs)}",
            "mean_share": round(sum(share) / len(share), 3),
            "min_share": round(min(share), 2),
        }
    print(f"{docs:,} documents, {args.queries} queries per class\n")
    head = ("query class", "two-step p50", "two-step p95", "full p50", "full p95", "same ten, same order",
            "share of the full ten (mean / min)")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows.items():
        print(f"| {name} | {r['two_step_p50_ms']} ms | {r['two_step_p95_ms']} ms | {r['full_p50_ms']} ms | "
              f"{r['full_p95_ms']} ms | {r['same_answer']} | {r['mean_share']} / {r['min_share']} |")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps({"docs": docs, "queries": args.queries, "classes": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
