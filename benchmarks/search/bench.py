"""Search benchmark: fill a catalog and its index with N synthetic documents, then time queries.

    .venv/bin/python benchmarks/search/bench.py --docs 1000000 --work /tmp/search-bench

Documents are ~300 Zipf-distributed Vietnamese syllables (``vocab.py``) in a
real catalog (``scanner.archive.Catalog``); indexing is ``Catalog.reindex``,
the same path as ``scanner reindex``. Each query class is timed twice: the
engine alone (``SearchIndex.search``, top 10 codes) and the whole
``Catalog.search`` (index + rows + snippet from SQLite), which is what
``scanner search`` does. Prints a Markdown table and writes ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vocab import PHRASES, TYPES, Corpus  # noqa: E402

from scanner.app import SYSTEM  # noqa: E402
from scanner.archive import Catalog, fold  # noqa: E402
from scanner.archive.index import Filters, parse_query  # noqa: E402

AGENCIES = [f"000.00.{i:02d}.H{p:02d}" for p in (21, 26, 32, 42, 46, 48, 49, 55) for i in range(5)]
PROCEDURES = [f"{1 + i % 3}.{i * 37 % 999999:06d}" for i in range(1, 201)]
DOCS_PER_DOSSIER = 3


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fill(catalog: Catalog, n: int, corpus: Corpus, rng: random.Random) -> tuple[float, list[str]]:
    """Write N documents straight into the catalog tables (bulk SQL: filing them one by one would measure fsync)."""
    db = catalog.db
    db.execute("PRAGMA synchronous=OFF")
    owners: list[str] = []
    t0 = time.perf_counter()
    start = date(2015, 1, 1)
    done = 0
    db.execute("BEGIN")
    while done < n:
        texts = corpus.batch(min(10_000, n - done))
        dossiers, documents = [], []
        for i, text in enumerate(texts):
            k = done + i
            dossier = f"{AGENCIES[k // DOCS_PER_DOSSIER % len(AGENCIES)]}-B{k // DOCS_PER_DOSSIER:07d}"
            if k % DOCS_PER_DOSSIER == 0:
                day = start + timedelta(days=rng.randrange(4000))
                province, century = rng.choice((1, 37, 44, 56, 64, 79)), rng.choice((0, 1, 2, 3))
                owner = f"0{province:02d}{century}{rng.randrange(10**8):08d}"
                owners.append(owner)
                dossiers.append(
                    (dossier, AGENCIES[k // DOCS_PER_DOSSIER % len(AGENCIES)], "UBND", "bench", rng.choice(PROCEDURES),
                     owner, day.isoformat(), "", f"bench/{dossier}", DOCS_PER_DOSSIER, DOCS_PER_DOSSIER, "bench", "[]",
                     day.isoformat())
                )  # fmt: skip
            kind_type = TYPES[rng.randrange(len(TYPES))]
            issued = start + timedelta(days=rng.randrange(4000))
            valid_until = (issued + timedelta(days=rng.randrange(365 * 8))).isoformat() if k % 5 == 0 else None
            documents.append(
                (f"{dossier}.{k % DOCS_PER_DOSSIER + 1:02d}", dossier, k % DOCS_PER_DOSSIER + 1, kind_type.upper(),
                 f"bench/{dossier}/{k}.pdf", 1, "0" * 64, 1, "2b", "", None, "B-B", 90.0, text, kind_type,
                 issued.isoformat(), valid_until)
            )  # fmt: skip
        db.executemany(
            "INSERT INTO dossiers (code, agency_code, agency_name, counter, procedure_code, owner_id, receipt_date, "
            "title, path, doc_total, page_total, job_id, warnings, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            dossiers,
        )
        db.executemany(
            "INSERT INTO documents (code, dossier_code, ordinal, title, path, pages, sha256, size, pdfa, signer, "
            "signed_at, signature_level, ocr_confidence, text, type_name, issued_date, valid_until) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            documents,
        )
        done += len(texts)
        if done % 100_000 == 0 or done == n:
            print(f"  catalog: {done:,} documents, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    db.execute("COMMIT")
    db.execute("PRAGMA synchronous=FULL")
    return time.perf_counter() - t0, owners


def queries(corpus: Corpus, rng: random.Random, owners: list[str], n: int) -> dict[str, list[tuple[str, Filters]]]:
    vocab = corpus.vocab
    common = vocab[:40]
    rare = vocab[3000:8000]
    mid = vocab[40:600]
    sample = corpus.batch(50)
    bigrams = []
    for text in sample:
        w = text.split()
        j = rng.randrange(10, len(w) - 12)
        bigrams.append(f'"{w[j]} {w[j + 1]}"')
    today = date(2026, 1, 1)
    out: dict[str, list[tuple[str, Filters]]] = {
        "common word": [(rng.choice(common), Filters()) for _ in range(n)],
        "rare word": [(rng.choice(rare), Filters()) for _ in range(n)],
        "phrase": [(f'"{rng.choice(PHRASES)}"' if i % 2 else rng.choice(bigrams), Filters()) for i in range(n)],
        "two words, diacritics": [(f"{rng.choice(common)} {rng.choice(mid)}", Filters()) for _ in range(n)],
        "no diacritics": [(fold(f"{rng.choice(mid)} {rng.choice(common)}"), Filters()) for _ in range(n)],
        "no-diacritic phrase": [(fold(f'"{rng.choice(PHRASES)}"'), Filters()) for _ in range(n)],
    }
    filtered = []
    for i in range(n):
        y = rng.randrange(2015, 2026)
        f = [
            Filters(agency=rng.choice(AGENCIES)),
            Filters(doc_type=rng.choice(TYPES), date_from=date(y, 1, 1), date_to=date(y, 12, 31)),
            Filters(procedure=rng.choice(PROCEDURES), valid_on=today),
            Filters(owner=rng.choice(owners)),
        ][i % 4]
        filtered.append((rng.choice(common) if i % 4 != 3 else "", f))
    out["filtered"] = filtered
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--words", type=int, default=300)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--queries", type=int, default=200, help="queries per class")
    ap.add_argument("--work", type=Path, default=Path("/tmp/scanner-search-bench"))
    ap.add_argument("--keep", action="store_true", help="reuse catalog and index of the same size in --work")
    ap.add_argument("--reuse-catalog", action="store_true", help="reuse a filled catalog of the same size, re-index it")
    args = ap.parse_args()

    rng = random.Random(5)
    corpus = Corpus(vocab_size=args.vocab, words=args.words)
    db_path = args.work / "catalog.sqlite"
    stamp = args.work / "filled.json"
    results: dict[str, object] = {"docs": args.docs, "words": args.words, "vocab": len(corpus.vocab)}
    if args.keep and stamp.exists() and json.loads(stamp.read_text())["docs"] == args.docs:
        catalog = Catalog(db_path)
        owners = json.loads(stamp.read_text())["owners"]
        results.update(json.loads(stamp.read_text())["build"])
    else:
        catalog = Catalog(db_path, catch_up=False) if args.reuse_catalog and db_path.exists() else None
        if catalog is not None and catalog.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == args.docs:
            fill_s = 0.0
            owners = [r[0] for r in catalog.db.execute("SELECT owner_id FROM dossiers LIMIT 2000")]
        else:
            if catalog is not None:
                catalog.close()
            shutil.rmtree(args.work, ignore_errors=True)
            args.work.mkdir(parents=True)
            catalog = Catalog(db_path)
            print(f"filling the catalog with {args.docs:,} documents…", file=sys.stderr)
            fill_s, owners = fill(catalog, args.docs, corpus, rng)
        print("indexing (Catalog.reindex)…", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        n = catalog.reindex(actor=SYSTEM.label)
        index_s = time.perf_counter() - t0
        assert n == args.docs, n
        build = {
            "catalog_fill_s": round(fill_s, 1),
            "index_s": round(index_s, 1),
            "index_docs_per_s": round(n / index_s),
            "index_bytes": du(catalog.index_path),
            "index_bytes_per_doc": round(du(catalog.index_path) / n),
            "catalog_bytes": db_path.stat().st_size,
        }
        results.update(build)
        stamp.write_text(json.dumps({"docs": args.docs, "owners": owners[:2000], "build": build}))
    print(json.dumps(results), file=sys.stderr)

    index = catalog.index
    classes = queries(corpus, rng, owners, args.queries)
    timings: dict[str, dict[str, float]] = {}
    for name, qs in classes.items():
        for q, f in qs[:20]:  # warm the page cache the way a working day would
            index.search(parse_query(q), f)
        engine, full, hits = [], [], []
        for q, f in qs:
            t0 = time.perf_counter()
            found = index.search(parse_query(q), f, limit=10)
            engine.append((time.perf_counter() - t0) * 1000)
            hits.append(len(found))
            t0 = time.perf_counter()
            catalog.search(q, limit=10, filters=f)
            full.append((time.perf_counter() - t0) * 1000)
        timings[name] = {
            "engine_p50_ms": round(pct(engine, 50), 2),
            "engine_p95_ms": round(pct(engine, 95), 2),
            "search_p50_ms": round(pct(full, 50), 2),
            "search_p95_ms": round(pct(full, 95), 2),
            "mean_hits": round(statistics.mean(hits), 1),
            "example": qs[0][0] or "(filter only)",
        }
    results["queries"] = timings
    (args.work / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))

    print(f"\n{args.docs:,} documents of ~{args.words} words, vocabulary {len(corpus.vocab):,} syllables (Zipf)")
    if "index_s" in results:
        print(
            f"indexing: {results['index_docs_per_s']:,} documents/s ({results['index_s']} s); "
            f"index {results['index_bytes'] / 1e6:,.0f} MB = {results['index_bytes_per_doc']} bytes/document; "
            f"catalog {results['catalog_bytes'] / 1e6:,.0f} MB"
        )
    print("\n| query class | example | engine p50 | engine p95 | search p50 | search p95 | hits |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, t in timings.items():
        print(
            f"| {name} | `{t['example']}` | {t['engine_p50_ms']} ms | {t['engine_p95_ms']} ms | "
            f"{t['search_p50_ms']} ms | {t['search_p95_ms']} ms | {t['mean_hits']} |"
        )
    worst = max(t["search_p95_ms"] for t in timings.values())
    print(f"\nworst p95 (whole search): {worst} ms — target ≤ 50 ms: {'met' if worst <= 50 else 'NOT met'}")
    catalog.close()
    return 0 if worst <= 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
