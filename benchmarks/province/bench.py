"""Province scale: the shared PostgreSQL catalog and its index at millions of documents, measured as it grows.

    python -m benchmarks.province.bench --docs 1000000 --grow-to 3000000 --out benchmarks/province/results

A throwaway PostgreSQL cluster is started the way the tests start one
(``tests/postgres.py``: initdb as the ``postgres`` user, a Unix socket, the
roles an administrator makes, the catalog created by the project's own
Alembic revisions). Rows are written with COPY in the shape filing writes
them (``RecordStore.record_dossier``): a dossier with its applicant, three
documents each with its signed file, the last a result with its holder (and
every third a second person named inside), owner rows, index outbox rows,
one ingest event and one chained audit entry per dossier. Filing dossiers one
by one through the program would measure the disk's fsync, not the catalog.

At the first size the index is built by ``Catalog.reindex`` (what
``scanner reindex`` runs); each further size of ``--grow-to`` is reached by
filling the difference in steps of ``--step`` documents and letting
``Catalog.catch_up`` index each step, as a working day's filings are. At
every size the run writes ``<out>/<docs>.json`` and prints a Markdown row:
rebuild or catch-up rate, the indexing process's peak RSS (VmHWM, reset
before each phase) and the PostgreSQL server's (sampled), index and catalog
bytes per document, ``Catalog.search`` p50/p95 of each query class of the
search benchmark (``benchmarks/search/bench.py``, imported), and
``Catalog.owner_documents`` p50/p95 over existing and unknown citizen IDs,
with the load average of the machine (shared with other work) beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.search.bench import AGENCIES, DOCS_PER_DOSSIER, PROCEDURES, TYPES, Corpus, du, pct, queries
from scanner.app import SYSTEM
from scanner.archive import Catalog
from scanner.archive.catalog.custody import GENESIS, audit_hash

DOSSIER_COLUMNS = (
    "code", "agency_code", "agency_name", "counter", "procedure_code", "owner_id", "receipt_date", "title", "path",
    "doc_total", "page_total", "job_id", "warnings", "created", "file_catalog", "file_notation", "creator",
    "start_date", "end_date",
)  # fmt: skip
DOCUMENT_COLUMNS = (
    "code", "dossier_code", "ordinal", "title", "path", "pages", "sha256", "size", "pdfa", "signer", "signed_at",
    "signature_level", "ocr_confidence", "text", "type_name", "kind", "issued_date", "valid_until", "holder_name",
    "holder_id", "identifiers",
)  # fmt: skip
TABLES = ("documents", "dossiers", "owners", "files", "index_outbox", "audit", "events")
SIGNER = "CN=Ủy ban nhân dân, O=Bench"


def citizen_id(rng: random.Random) -> str:
    """A 12-digit personal identification number: province code, century-and-sex digit, year and serial."""
    return f"0{rng.choice((1, 37, 44, 56, 64, 79)):02d}{rng.choice((0, 1, 2, 3))}{rng.randrange(10**8):08d}"


class Filler:
    """Writes synthetic dossiers with COPY, continuing where the last call stopped (same codes, same chain)."""

    def __init__(self, conninfo: str, corpus: Corpus, seed: int = 5) -> None:
        self.conninfo = conninfo
        self.corpus = corpus
        self.rng = random.Random(seed)
        self.done = 0
        self.audit_id = 0
        self.prev = GENESIS
        self.owners: list[str] = []  # a sample of the applicants, for the owner queries
        self.dossier, self.owner, self.day = "", "", date(2015, 1, 1)  # the dossier being written

    def fill(self, upto: int, *, chunk: int = 30_000) -> float:
        """Add documents until there are UPTO; returns the seconds taken."""
        t0 = time.perf_counter()
        with psycopg.connect(self.conninfo) as conn:
            # the program appends to the chain too (a rebuild is audited): go on from its head
            self.audit_id = int(conn.execute("SELECT last FROM audit_head").fetchone()[0])  # type: ignore[index]
            last = conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            self.prev = last[0] if last else GENESIS
            while self.done < upto:
                n = min(chunk, upto - self.done)
                self._chunk(conn, n)
                conn.commit()
                if self.done % 300_000 < chunk:
                    print(f"  catalog: {self.done:,} documents, {time.perf_counter() - t0:.0f} s", file=sys.stderr,
                          flush=True)  # fmt: skip
            # audit_head moves by one per entry (a trigger); the bench appended a whole chain at once
            conn.execute("ALTER TABLE audit_head DISABLE TRIGGER audit_head_forward")
            conn.execute("UPDATE audit_head SET last = %s", (self.audit_id,))
            conn.execute("ALTER TABLE audit_head ENABLE TRIGGER audit_head_forward")
            conn.commit()
            conn.execute("ANALYZE")
        return time.perf_counter() - t0

    def _chunk(self, conn: psycopg.Connection[Any], n: int) -> None:
        rng, start = self.rng, date(2015, 1, 1)
        texts = self.corpus.batch(n)
        dossiers, documents, owners, files, outbox, audit, events = [], [], [], [], [], [], []
        dossier, owner, day = self.dossier, self.owner, self.day
        for i, text in enumerate(texts):
            k = self.done + i
            ordinal = k % DOCS_PER_DOSSIER + 1
            agency = AGENCIES[k // DOCS_PER_DOSSIER % len(AGENCIES)]
            if ordinal == 1:
                dossier = f"{agency}-B{k // DOCS_PER_DOSSIER:07d}"
                day = start + timedelta(days=rng.randrange(4000))
                owner = citizen_id(rng)
                if len(self.owners) < 5000:
                    self.owners.append(owner)
                elif rng.random() < 0.01:
                    self.owners[rng.randrange(5000)] = owner
                created = f"{day.isoformat()}T09:{rng.randrange(60):02d}:00+07:00"
                dossiers.append((
                    dossier, agency, "Ủy ban nhân dân", "bench", rng.choice(PROCEDURES), owner, day.isoformat(),
                    "", f"{agency}/{day.year}/{dossier}", DOCS_PER_DOSSIER, 0, f"job-{k // DOCS_PER_DOSSIER}", "[]",
                    created, day.year, dossier, "Ủy ban nhân dân", day.isoformat(), day.isoformat(),
                ))  # fmt: skip
                owners.append((owner, dossier, "", "applicant"))
                detail = f"{DOCS_PER_DOSSIER} văn bản, {2 * DOCS_PER_DOSSIER} trang"
                self.audit_id += 1
                h = audit_hash(self.audit_id, created, "ingest", dossier, SYSTEM.label, detail, self.prev)
                audit.append((self.audit_id, created, "ingest", dossier, SYSTEM.label, detail, self.prev, h))
                self.prev = h
                events.append((created, "ingest", dossier, "ok", detail))
            code = f"{dossier}.{ordinal:02d}"
            result = ordinal == DOCS_PER_DOSSIER
            type_name = TYPES[rng.randrange(len(TYPES))]
            issued = day - timedelta(days=rng.randrange(30)) if not result else day + timedelta(days=rng.randrange(15))
            valid_until = (issued + timedelta(days=rng.randrange(365 * 8))).isoformat() if k % 5 == 0 else None
            named = [owner] if result else []
            if result and k % (3 * DOCS_PER_DOSSIER) == DOCS_PER_DOSSIER - 1:
                named.append(citizen_id(rng))  # a spouse, a child: a second person on the result
            sha = f"{rng.getrandbits(256):064x}"
            pages = rng.choice((1, 1, 2, 2, 3))
            path = f"{agency}/{day.year}/{dossier}/{code}.pdf"
            size = pages * 99_000 + rng.randrange(20_000)
            documents.append((
                code, dossier, ordinal, type_name, path, pages, sha, size, "2b", SIGNER, f"{day.isoformat()}T10:00:00",
                "B-LT", round(rng.uniform(80, 99), 1), text, type_name, "result" if result else "paper",
                issued.isoformat(), valid_until, "Nguyễn Văn An" if result else "", owner if result else "",
                json.dumps(named),
            ))  # fmt: skip
            owners.extend((p, dossier, code, "holder" if p == owner else "named") for p in named)
            files.append((path, code, dossier, "document", sha, size))
            outbox.append((code,))
        for table, columns, rows in (
            ("dossiers", DOSSIER_COLUMNS, dossiers),
            ("documents", DOCUMENT_COLUMNS, documents),
            ("owners", ("owner_id", "dossier_code", "document_code", "role"), owners),
            ("files", ("path", "document_code", "dossier_code", "role", "sha256", "size"), files),
            ("index_outbox", ("code",), outbox),
            ("audit", ("id", "time", "action", "subject", "actor", "detail", "prev", "hash"), audit),
            ("events", ("time", "kind", "subject", "outcome", "detail"), events),
        ):
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[arg-type]
                for row in rows:
                    copy.write_row(row)
        self.done += n
        self.dossier, self.owner, self.day = dossier, owner, day


class Peak:
    """Peak resident memory: this process's (VmHWM, reset on entry) and a process tree's (sampled twice a second)."""

    def __init__(self, root_pid: int | None) -> None:
        self.root_pid = root_pid
        self.tree_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Peak:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux ≥ 4.0)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.self_peak = _status_kb(os.getpid(), "VmHWM") * 1024

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            if self.root_pid:
                self.tree_peak = max(self.tree_peak, sum(_status_kb(p, "VmRSS") for p in _tree(self.root_pid)) * 1024)


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> Iterator[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo = [root]
    while todo:
        pid = todo.pop()
        yield pid
        todo.extend(children.get(pid, ()))


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def sizes(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        out = {t: int(conn.execute(f"SELECT pg_total_relation_size('{t}')").fetchone()[0]) for t in TABLES}  # type: ignore[index]
        out["database"] = int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]
    return out


def explain_owner_lookup(conninfo: str, owner: str) -> str:
    """EXPLAIN ANALYZE of the statement ``owner_documents`` runs, as the engine plans it."""
    from sqlalchemy.dialects import postgresql

    from scanner.archive.catalog import records

    compiled = records._OWNER_DOCUMENTS.compile(dialect=postgresql.psycopg.dialect())
    params = {**compiled.params, "owner_id": owner, "day": date.today().isoformat()}
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", params)  # type: ignore[arg-type]
        return "\n".join(r[0] for r in rows)


def timed(fn: Any, args: list[Any]) -> list[float]:
    out = []
    for a in args:
        t0 = time.perf_counter()
        fn(a)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(catalog: Catalog, filler: Filler, conninfo: str, n_queries: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    classes = queries(filler.corpus, rng, filler.owners, n_queries)
    out: dict[str, Any] = {}
    for name, qs in classes.items():
        for q, f in qs[:20]:  # warm the caches the way a working day would
            catalog.search(q, limit=10, filters=f)
        ms, hits = [], []
        for q, f in qs:
            t0 = time.perf_counter()
            hits.append(len(catalog.search(q, limit=10, filters=f)))
            ms.append((time.perf_counter() - t0) * 1000)
        out[name] = {"p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2),
                     "mean_hits": round(sum(hits) / len(hits), 1), "example": qs[0][0] or "(filter only)"}  # fmt: skip
    known = [rng.choice(filler.owners) for _ in range(n_queries)]
    unknown = [citizen_id(rng)[:-1] + "x" for _ in range(n_queries)]  # never issued: a letter in it
    for ids in (known[:20], unknown[:20]):
        timed(catalog.owner_documents, ids)
    found = [len(catalog.owner_documents(i)) for i in known[:50]]
    lookups = {}
    for label, ids in (("known", known), ("unknown", unknown)):
        ms = timed(catalog.owner_documents, ids)
        lookups[label] = {"p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2)}
    lookups["mean_found"] = round(sum(found) / len(found), 2)  # type: ignore[assignment]
    return {"queries": out, "owner_lookup": lookups, "explain_owner_lookup": explain_owner_lookup(conninfo, known[0])}


def _gib(value: float | None, unit: int) -> str:
    """VALUE in UNIT (bytes in GiB, or a count as it is), "–" where a row has none (an extrapolated one)."""
    if value is None:
        return "–"
    return f"{value / unit:.2f} GiB" if unit > 1 else f"{value:,}"


def markdown(rows: list[dict[str, Any]]) -> str:
    classes = list(rows[0]["queries"])
    head = ["documents", "indexing", "docs/s", "peak RSS indexer", "peak RSS PostgreSQL", "index B/doc",
            "catalog B/doc", *[f"{c} p95" for c in classes], "owner p95 (known/unknown)", "load avg"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" + " ---: |" * (len(head) - 2) + " --- |"]
    for r in rows:
        ix = r["indexing"]
        cells = [
            f"{r['docs']:,}", ix["how"], _gib(ix.get("docs_per_s"), 1), _gib(ix.get("peak_rss_bytes"), 2**30),
            _gib(ix.get("postgres_peak_rss_bytes"), 2**30), f"{r['index_bytes_per_doc']:,}",
            f"{r['catalog_bytes_per_doc']:,}",
            *[f"{r['queries'][c]['p95_ms']} ms" for c in classes],
            f"{r['owner_lookup']['known']['p95_ms']} / {r['owner_lookup']['unknown']['p95_ms']} ms",
            " ".join(str(x) for x in r["load_average"]),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000, help="first size: filled, then indexed by Catalog.reindex")
    ap.add_argument("--grow-to", default="", help="further sizes, comma-separated, each reached by filling + catch-up")
    ap.add_argument("--step", type=int, default=500_000, help="documents filed between two catch-ups while growing")
    ap.add_argument("--queries", type=int, default=200, help="queries per class, owner lookups per kind")
    ap.add_argument("--words", type=int, default=300)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "scanner-province-bench")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/province/results"))
    args = ap.parse_args()
    targets = [args.docs, *(int(x) for x in args.grow_to.split(",") if x.strip())]
    if targets != sorted(set(targets)):
        ap.error("--grow-to sizes must be increasing and above --docs")

    from tests.postgres import start  # the suite's throwaway cluster, started the same way

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    os.environ["TMPDIR"] = str(args.work)  # the cluster's folder: on the disk the run was given
    tempfile.tempdir = None
    server = start()
    rows: list[dict[str, Any]] = []
    try:
        owner_url, service_url = server.fresh_database()
        conninfo = owner_url.set(drivername="postgresql").render_as_string(hide_password=False)
        postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0]) if server.folder else None
        catalog = Catalog(service_url, index_path=args.work / "index", catch_up=False)
        filler = Filler(conninfo, Corpus(words=args.words))
        args.out.mkdir(parents=True, exist_ok=True)
        for size in targets:
            first = size == targets[0]
            fill_s = index_s = 0.0
            indexed = 0
            with Peak(postmaster) as peak:
                if first:
                    print(f"filling the catalog with {size:,} documents…", file=sys.stderr, flush=True)
                    fill_s = filler.fill(size)
                    print("indexing (Catalog.reindex)…", file=sys.stderr, flush=True)
                    t0 = time.perf_counter()
                    indexed = catalog.reindex(actor=SYSTEM.label)
                    index_s = time.perf_counter() - t0
                else:
                    while filler.done < size:
                        fill_s += filler.fill(min(size, filler.done + args.step))
                        print(f"catching the index up at {filler.done:,}…", file=sys.stderr, flush=True)
                        t0 = time.perf_counter()
                        indexed += catalog.catch_up()
                        index_s += time.perf_counter() - t0
            assert indexed == size - (rows[-1]["docs"] if rows else 0), indexed
            db = sizes(conninfo)
            index_bytes = du(catalog.index_path)
            result: dict[str, Any] = {
                "docs": size,
                "date": date.today().isoformat(),
                "fill_s": round(fill_s, 1),
                "indexing": {
                    "how": "rebuild (Catalog.reindex)" if first else f"catch-up every {args.step:,}",
                    "docs": indexed,
                    "seconds": round(index_s, 1),
                    "docs_per_s": round(indexed / index_s),
                    "peak_rss_bytes": peak.self_peak,
                    "postgres_peak_rss_bytes": peak.tree_peak,
                },
                "index_bytes": index_bytes,
                "index_bytes_per_doc": round(index_bytes / size),
                "catalog_bytes": db["database"],
                "catalog_bytes_per_doc": round(db["database"] / size),
                "tables_bytes": db,
                "load_average_indexing": loadavg(),
            }
            print(json.dumps(result), file=sys.stderr, flush=True)
            result.update(measure(catalog, filler, conninfo, args.queries, seed=size))
            result["load_average"] = loadavg()
            (args.out / f"{size}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            rows.append(result)
            print(markdown(rows[-1:]), flush=True)
        catalog.close()
        table = markdown(rows)
        (args.out / "table.md").write_text(table + "\n")
        print("\n" + table)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
