"""The province curve's extrapolation: bytes linear in N, p95 linear in ln N."""

from __future__ import annotations

import math

from benchmarks.province.curve import extrapolate


def row(docs: int, index_bytes: int, p95: float) -> dict[str, object]:
    return {
        "docs": docs, "index_bytes": index_bytes, "catalog_bytes": 3 * index_bytes, "index_bytes_per_doc": 0,
        "catalog_bytes_per_doc": 0, "indexing": {}, "queries": {"common word": {"p95_ms": p95}},
        "owner_lookup": {"known": {"p95_ms": p95 / 10}, "unknown": {"p95_ms": p95 / 20}},
    }  # fmt: skip


def test_bytes_linear_and_latency_logarithmic() -> None:
    # 1,000 B/doc plus a fixed 1 MB; p95 grows by 10 ms each time N is multiplied by e
    rows = [row(n, 1000 * n + 10**6, 20 + 10 * math.log(n / 10**6)) for n in (10**6, 3 * 10**6)]
    out = extrapolate(rows, 10**7)
    assert out["index_bytes_per_doc"] == 1000  # (10^10 + 10^6) / 10^7, rounded
    assert out["catalog_bytes_per_doc"] == 3000
    assert out["queries"]["common word"]["p95_ms"] == round(20 + 10 * math.log(10), 1)
    assert out["owner_lookup"]["known"]["p95_ms"] == round(2 + math.log(10), 1)


def test_one_size_is_carried_over() -> None:
    only = row(10**6, 1274 * 10**6, 150.8)
    only["index_bytes_per_doc"], only["catalog_bytes_per_doc"] = 1274, 3822
    out = extrapolate([only], 10**7)
    assert (out["index_bytes_per_doc"], out["catalog_bytes_per_doc"]) == (1274, 3822)
    assert out["queries"]["common word"]["p95_ms"] == 150.8


def test_a_falling_latency_is_held_flat() -> None:
    # the smaller size was measured on a busier machine: no extrapolation below what was seen
    out = extrapolate([row(10**6, 10**9, 150.0), row(2 * 10**6, 2 * 10**9, 30.0)], 10**7)
    assert out["queries"]["common word"]["p95_ms"] == 150.0
