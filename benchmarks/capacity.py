"""Capacity sheet for a province: storage, index, catalog and worker cores, computed from measured results.

    python -m benchmarks.capacity --pages-per-year 5000000 --years 10

Every rate comes from a file a benchmark wrote, never from a figure typed
here, so a new measurement changes the sheet by being run again:

- bytes per stored page, colour/grey and bitonal: the compact storage's
  one-page PDFs (``benchmarks/storage/RESULTS.md``, ``benchmarks.storage.run``);
- bytes a signature adds to each document (PAdES B-B with the visible
  mark, ``benchmarks/storage/signing.json``, ``benchmarks.storage.signing``);
- index and catalog bytes per document, and the index rebuild rate: the
  largest size of the province benchmark (``benchmarks/province/results/*.json``),
  the rebuild rate from its ``Catalog.reindex`` size;
- pages per hour per worker core: ``benchmarks/queue/results.json``
  (``benchmarks.queue.throughput``, one page process per worker, so one worker
  is one core), shown beside the issue's 1,400 pages/hour/core target.

What a province tells (pages a year, how many are bitonal, documents per
page, years kept, the busiest hour against the average one) are options.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_PAGES_PER_HOUR_PER_CORE = 1400  # the target, shown beside the measured rate


@dataclass(frozen=True)
class Measured:
    colour_bytes_per_page: float  # compact colour and grey pages
    bilevel_bytes_per_page: float  # compact bitonal pages
    signature_bytes_per_doc: float  # signature and visible mark, once per document
    index_bytes_per_doc: float
    catalog_bytes_per_doc: float
    at_docs: int  # the catalog size the bytes were measured at
    rebuild_docs_per_s: float
    rebuild_at_docs: int
    pages_per_hour_per_core: float
    sources: tuple[str, ...]
    rate_note: str = ""  # the load the throughput was measured under: a shared machine's rate is a floor


@dataclass(frozen=True)
class Province:
    pages_per_year: int = 5_000_000
    docs_per_page: float = 0.5  # a document of two pages on average
    bilevel_share: float = 0.2  # pages scanned bitonal (black and white)
    years: int = 10
    peak_factor: float = 2.0  # the busiest hour's pages against the average working hour's
    hours_per_day: float = 8.0
    days_per_year: int = 250
    cores_per_machine: int = 4


def storage_bytes(results_md: Path) -> tuple[float, float]:
    """Mean compact bytes per page of (colour and grey, bitonal) pages in the storage benchmark's table."""
    colour: list[int] = []
    bilevel: list[int] = []
    header: list[str] = []
    for line in results_md.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "compact bytes" in cells:
            header = cells
        elif header and len(cells) == len(header) and cells[0] and not cells[0].startswith("-"):
            kind, size = cells[header.index("kind")], int(cells[header.index("compact bytes")])
            (bilevel if kind == "bilevel" else colour).append(size)
    if not colour or not bilevel:
        raise SystemExit(f"{results_md}: no colour/grey or bitonal rows with 'compact bytes'")
    return sum(colour) / len(colour), sum(bilevel) / len(bilevel)


def measured(storage: Path, signing: Path, province: Path, queue: Path) -> Measured:
    colour, bilevel = storage_bytes(storage)
    runs = [json.loads(p.read_text()) for p in sorted(province.glob("*.json"))]
    if not runs:
        raise SystemExit(f"no results in {province}: run python -m benchmarks.province.bench first")
    top = max(runs, key=lambda r: r["docs"])
    rebuilds = [r for r in runs if r["indexing"]["how"].startswith("rebuild")]
    rebuild = max(rebuilds or runs, key=lambda r: r["docs"])
    q = json.loads(queue.read_text())
    one = min(q["runs"], key=lambda r: r["workers"] * r["processes"])
    return Measured(
        colour_bytes_per_page=colour,
        bilevel_bytes_per_page=bilevel,
        signature_bytes_per_doc=json.loads(signing.read_text())["visible_mark_overhead_bytes"],
        index_bytes_per_doc=top["index_bytes_per_doc"],
        catalog_bytes_per_doc=top["catalog_bytes_per_doc"],
        at_docs=top["docs"],
        rebuild_docs_per_s=rebuild["indexing"]["docs_per_s"],
        rebuild_at_docs=rebuild["docs"],
        pages_per_hour_per_core=one["pages_per_hour"] / (one["workers"] * one["processes"]),
        sources=(str(storage), str(signing), str(province), str(queue)),
        rate_note=f"{q['date']}, load {q['load_start']}–{q['load_end']} on {q['cores']} cores" if "cores" in q else "",
    )


def sheet(m: Measured, p: Province) -> list[tuple[str, str, str, str]]:
    """(quantity, per year, over the years kept, how) rows of the capacity sheet."""
    docs_year = p.pages_per_year * p.docs_per_page
    docs_all = docs_year * p.years
    page_bytes = p.bilevel_share * m.bilevel_bytes_per_page + (1 - p.bilevel_share) * m.colour_bytes_per_page
    storage_year = p.pages_per_year * page_bytes + docs_year * m.signature_bytes_per_doc
    peak_pages_hour = p.pages_per_year / (p.days_per_year * p.hours_per_day) * p.peak_factor
    cores = math.ceil(peak_pages_hour / m.pages_per_hour_per_core)
    cores_target = math.ceil(peak_pages_hour / TARGET_PAGES_PER_HOUR_PER_CORE)
    rebuild_h = docs_all / m.rebuild_docs_per_s / 3600

    def gb(n: float) -> str:
        return f"{n / 1e9:,.1f} GB" if n < 1e12 else f"{n / 1e12:,.2f} TB"

    return [
        ("pages", f"{p.pages_per_year:,}", f"{p.pages_per_year * p.years:,}", "input"),
        ("documents", f"{docs_year:,.0f}", f"{docs_all:,.0f}", f"pages × {p.docs_per_page} documents/page"),
        ("archive storage (signed compact PDFs)", gb(storage_year), gb(storage_year * p.years),
         f"{p.bilevel_share:.0%} bitonal at {m.bilevel_bytes_per_page / 1e3:.0f} KB/page, the rest colour/grey at "
         f"{m.colour_bytes_per_page / 1e3:.0f} KB/page; {m.signature_bytes_per_doc / 1e3:.0f} KB/document signature"),
        ("search index", gb(docs_year * m.index_bytes_per_doc), gb(docs_all * m.index_bytes_per_doc),
         f"{m.index_bytes_per_doc:,.0f} B/document (measured at {m.at_docs:,} documents)"),
        ("catalog (PostgreSQL)", gb(docs_year * m.catalog_bytes_per_doc), gb(docs_all * m.catalog_bytes_per_doc),
         f"{m.catalog_bytes_per_doc:,.0f} B/document (measured at {m.at_docs:,} documents)"),
        ("pages/hour at peak", f"{peak_pages_hour:,.0f}", "",
         f"{p.days_per_year} days × {p.hours_per_day:g} h, peak × {p.peak_factor:g}"),
        ("worker cores at peak (measured rate)", f"{cores}", "",
         f"{m.pages_per_hour_per_core:,.0f} pages/hour/core measured"
         + (f" ({m.rate_note})" if m.rate_note else "")),
        ("worker machines at peak (measured rate)", f"{math.ceil(cores / p.cores_per_machine)}", "",
         f"{p.cores_per_machine} cores each"),
        ("worker cores at peak (target rate)", f"{cores_target}", "",
         f"{TARGET_PAGES_PER_HOUR_PER_CORE:,} pages/hour/core, the issue's target"),
        ("index rebuild, whole archive", "", f"{rebuild_h:,.1f} h",
         f"{m.rebuild_docs_per_s:,.0f} documents/s (Catalog.reindex at {m.rebuild_at_docs:,} documents)"),
    ]  # fmt: skip


def render(rows: list[tuple[str, str, str, str]], years: int) -> str:
    lines = [f"| quantity | per year | over {years} years | from |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = Province()
    ap.add_argument("--pages-per-year", type=int, default=d.pages_per_year)
    ap.add_argument("--docs-per-page", type=float, default=d.docs_per_page)
    ap.add_argument("--bilevel-share", type=float, default=d.bilevel_share, help="share of pages scanned bitonal")
    ap.add_argument("--years", type=int, default=d.years, help="years of filings the archive holds")
    ap.add_argument("--peak-factor", type=float, default=d.peak_factor, help="busiest hour / average working hour")
    ap.add_argument("--hours-per-day", type=float, default=d.hours_per_day)
    ap.add_argument("--days-per-year", type=int, default=d.days_per_year, help="working days")
    ap.add_argument("--cores-per-machine", type=int, default=d.cores_per_machine)
    ap.add_argument("--storage", type=Path, default=HERE / "storage" / "RESULTS.md")
    ap.add_argument("--signing", type=Path, default=HERE / "storage" / "signing.json")
    ap.add_argument("--province", type=Path, default=HERE / "province" / "results")
    ap.add_argument("--queue", type=Path, default=HERE / "queue" / "results.json")
    args = ap.parse_args(argv)
    p = Province(args.pages_per_year, args.docs_per_page, args.bilevel_share, args.years, args.peak_factor,
                 args.hours_per_day, args.days_per_year, args.cores_per_machine)  # fmt: skip
    print(render(sheet(measured(args.storage, args.signing, args.province, args.queue), p), p.years))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
