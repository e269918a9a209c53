"""The province benchmark's sizes as one curve, extrapolated to the size a province reaches.

    python -m benchmarks.province.curve [--results benchmarks/province/results] [--to 10000000]

Reads every ``<docs>.json`` the benchmark wrote and prints its table with
one more row, extrapolated, and how: bytes per document grow linearly in N
(a least-squares line through the measured sizes, so a constant per-document
cost stays constant and an index that grows more than linearly shows it);
a p95 latency is fitted as a + b·ln N (a search or a B-tree lookup costs
about the depth of what it walks, which grows with the logarithm of N;
with one size measured there is nothing to fit and the row says so). A
latency line that falls with N says the machine was busier at the smaller
size, not that a larger archive is faster: it is held at the largest p95
measured instead (load average in each row).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.province.bench import markdown


def fit(xs: list[float], ys: list[float], at: float, *, rising: bool = False) -> float:
    """Y at AT on the least-squares line through (XS, YS); the one Y when there is one point.

    RISING: a latency does not fall as the archive grows, so a falling line
    (the machine was busier at the smaller size) is taken as flat at the
    largest Y measured rather than extrapolated down.
    """
    if len(xs) < 2:
        return ys[0]
    b, a = np.polyfit(xs, ys, 1)
    if rising and b < 0:
        return max(ys)
    return float(a + b * at)


def extrapolate(rows: list[dict[str, Any]], docs: int) -> dict[str, Any]:
    """A result row at DOCS, from ROWS: bytes linear in N, p95 linear in ln N, rates of the largest size."""
    n = [float(r["docs"]) for r in rows]
    ln = [math.log(x) for x in n]
    top = max(rows, key=lambda r: r["docs"])
    out: dict[str, Any] = {
        "docs": docs,
        "indexing": {"how": f"extrapolated from {len(rows)} size{'s' if len(rows) > 1 else ''}"},
        # one size: bytes proportional to N (the line through the origin)
        "index_bytes_per_doc": round(fit(n, [r["index_bytes"] for r in rows], docs) / docs)
        if len(rows) > 1
        else top["index_bytes_per_doc"],
        "catalog_bytes_per_doc": round(fit(n, [r["catalog_bytes"] for r in rows], docs) / docs)
        if len(rows) > 1
        else top["catalog_bytes_per_doc"],
        "queries": {
            c: {"p95_ms": round(fit(ln, [r["queries"][c]["p95_ms"] for r in rows], math.log(docs), rising=True), 1)}
            for c in top["queries"]
        },
        "owner_lookup": {
            k: {
                "p95_ms": round(fit(ln, [r["owner_lookup"][k]["p95_ms"] for r in rows], math.log(docs), rising=True), 1)
            }
            for k in ("known", "unknown")
        },
        "load_average": ["–"],
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=Path(__file__).with_name("results"))
    ap.add_argument("--to", type=int, default=10_000_000)
    ap.add_argument("--fit-from", type=int, default=0, help="fit only the sizes from this one (e.g. leave out a size "
                    "measured under another load)")  # fmt: skip
    args = ap.parse_args(argv)
    rows = sorted((json.loads(p.read_text()) for p in args.results.glob("*.json")), key=lambda r: r["docs"])
    if not rows:
        raise SystemExit(f"no results in {args.results}")
    if rows[-1]["docs"] < args.to:
        rows.append(extrapolate([r for r in rows if r["docs"] >= args.fit_from] or rows, args.to))
    print(markdown(rows))
    print()
    for r in rows:
        worst = max(r["queries"].items(), key=lambda kv: kv[1]["p95_ms"])
        owner = max(r["owner_lookup"][k]["p95_ms"] for k in ("known", "unknown"))
        print(f"- {r['docs']:,}: worst search p95 {worst[1]['p95_ms']} ms ({worst[0]}) — target ≤ 100 ms "
              f"{'met' if worst[1]['p95_ms'] <= 100 else 'NOT met'}; owner lookup p95 {owner} ms — target ≤ 20 ms "
              f"{'met' if owner <= 20 else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
