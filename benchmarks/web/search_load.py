"""The officer's search page under load: one officer alone, then 50 at once, through HTTP on loopback.

    .venv/bin/python -m benchmarks.web.search_load --catalog /tmp/search-bench/catalog.sqlite

CATALOG is a catalog filled by ``benchmarks/search/bench.py`` (its index
beside it); the 1,000,000-document one is what the target is stated for. A
workstation made by ``scanner init`` in ``--work`` is pointed at it, two
accounts are added (an officer of the corpus's first agency, and an auditor,
who sees every agency), and ``scanner serve --without-service`` runs as its
own process on 127.0.0.1. Then:

1. *one officer*: each query of the mix once, one after another, on one
   kept-alive connection; with nothing else on the line, the time measured is
   the server's time plus a loopback round trip (well under a millisecond).
   Also run as the auditor, whose facets count all agencies.
2. *50 officers*: 50 sessions (logged in beforehand, one after another: a
   log-in costs an Argon2 hash by design), each with its own connection,
   searching, reading the page for a while (``--think``: uniformly 0.4–1.6 ×
   the mean, 5 s by default: an officer reads a result list before the next
   search), and searching again. The officers start spread over one think
   time, as people do, not all in the same millisecond.
3. *capacity* (run before 2, which it warms): the same 50 sessions with no
   think time at all, back to back: how many pages a second the server gives,
   and the latency queueing for them costs (no target: no office searches so).

The mix: a common word, a rare word, two words with and without diacritics,
a phrase, a facet chosen (year, document type), page 2, sorted by date.
Each request is a full page: search, facets with counts, snippets, the HTML.
Requests are bounded (``--requests``, ``--per-user``) and time-limited.
Results go to ``benchmarks/out/web/search_load.json`` and standard output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "search"))

from vocab import PHRASES, TYPES, Corpus  # noqa: E402

from scanner.app import SYSTEM, Role, accounts  # noqa: E402
from scanner.archive import Catalog, fold  # noqa: E402

PASSWORD = "mat-khau-do-tai"
AGENCY = "000.00.00.H21"  # the first agency of benchmarks/search/bench.py
OFFICER, AUDITOR = "can-bo-do-tai", "kiem-toan-do-tai"
TIME_LIMIT = 600.0  # seconds for the whole concurrent run, whatever --per-user says


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def workstation(work: Path, catalog: Path) -> Path:
    """A workstation made by ``scanner init`` whose catalog is CATALOG; its config path."""
    from scanner.cli import main

    config = work / "ws" / "scanner.toml"
    if not config.exists():
        assert main(["init", "--root", str(work / "ws")]) == 0
    text = config.read_text(encoding="utf-8")
    line = f'catalog = "sqlite:///{catalog.resolve()}"'
    text = (
        re.sub(r"(?m)^#? *catalog *=.*$", line, text, count=1)
        if re.search(r"(?m)^#? *catalog *=", text)
        else (text.replace("[archive]\n", f"[archive]\n{line}\n", 1))
    )
    config.write_text(text, encoding="utf-8")
    with Catalog(catalog) as cat:
        known = {u.name for u in accounts.users(SYSTEM, cat)}
        for name, role, agency in ((OFFICER, Role.OFFICER, AGENCY), (AUDITOR, Role.AUDITOR, None)):
            if name not in known:
                accounts.add_user(SYSTEM, cat, name=name, password=PASSWORD, role=role, agency=agency,
                                  display_name=name)  # fmt: skip
    return config


def queries(n: int, seed: int = 3) -> list[dict[str, str]]:
    rng = random.Random(seed)
    corpus = Corpus()
    vocab = corpus.vocab
    common, mid, rare = vocab[:40], vocab[40:600], vocab[3000:8000]
    kinds = [
        lambda: {"q": rng.choice(common)},
        lambda: {"q": rng.choice(rare)},
        lambda: {"q": f"{rng.choice(common)} {rng.choice(mid)}"},
        lambda: {"q": fold(f"{rng.choice(mid)} {rng.choice(common)}")},
        lambda: {"q": f'"{rng.choice(PHRASES)}"'},
        lambda: {"q": rng.choice(common), "year": str(rng.randrange(2015, 2026))},
        lambda: {"q": rng.choice(mid), "type": rng.choice(TYPES)},
        lambda: {"q": rng.choice(common), "page": "2"},
        lambda: {"q": rng.choice(mid), "sort": "date"},
        lambda: {"q": "giay khai sinh"},
    ]
    return [kinds[i % len(kinds)]() for i in range(n)]


def log_in(client: httpx.Client, name: str) -> None:
    client.get("/dang-nhap")
    token = client.cookies.get("csrftoken") or ""
    r = client.post("/dang-nhap", data={"name": name, "password": PASSWORD, "csrftoken": token})
    if r.status_code != 303:
        raise SystemExit(f"log-in of {name} refused: {r.status_code} {r.text[:200]}")


def serve(config: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "--config", str(config), "serve", "--without-service",
         "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/dang-nhap", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("the server did not start")


def one_by_one(base: str, name: str, mix: list[dict[str, str]]) -> dict[str, object]:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        log_in(client, name)
        for q in mix[:10]:  # warm the page cache and the catalog pool, as a working day would
            client.get("/luu-tru?" + urlencode(q))
        times, totals = [], []
        for q in mix:
            t0 = time.perf_counter()
            r = client.get("/luu-tru?" + urlencode(q))
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (q, r.status_code, r.text[:300])
            found = re.search(r'class="total">([\d.]+)<', r.text)
            totals.append(int(found.group(1).replace(".", "")) if found else 0)
    return {
        "requests": len(times),
        "p50_ms": round(pct(times, 50), 1),
        "p95_ms": round(pct(times, 95), 1),
        "max_ms": round(max(times), 1),
        "mean_total_hits": round(statistics.mean(totals)),
    }


async def crowd(
    base: str, users: int, per_user: int, mix: list[dict[str, str]], think: float, seed: int = 9
) -> dict[str, object]:
    sessions = []
    for _ in range(users):
        c = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        log_in(c, OFFICER)
        sessions.append(dict(c.cookies))
        c.close()
    times: list[float] = []
    errors = 0
    deadline = time.monotonic() + TIME_LIMIT

    rng = random.Random(seed)

    async def officer(i: int, cookies: dict[str, str]) -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60, limits=limits) as client:
            await asyncio.sleep(rng.uniform(0, think))
            for k in range(per_user):
                if time.monotonic() > deadline:
                    return
                if k:
                    await asyncio.sleep(rng.uniform(0.4 * think, 1.6 * think))
                q = mix[(i * per_user + k) % len(mix)]
                t0 = time.perf_counter()
                r = await client.get("/luu-tru?" + urlencode(q))
                times.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(officer(i, s) for i, s in enumerate(sessions)))
    wall = time.perf_counter() - t0
    return {
        "users": users,
        "think_s": think,
        "requests": len(times),
        "errors": errors,
        "p50_ms": round(pct(times, 50), 1),
        "p95_ms": round(pct(times, 95), 1),
        "max_ms": round(max(times), 1),
        "requests_per_s": round(len(times) / wall, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, required=True, help="a catalog filled by benchmarks/search/bench.py")
    ap.add_argument("--work", type=Path, default=Path("/tmp/scanner-web-bench"))
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--requests", type=int, default=200, help="requests of the one-officer runs")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--think", type=float, default=5.0, help="mean seconds an officer reads a page")
    args = ap.parse_args()

    config = workstation(args.work, args.catalog)
    with Catalog(args.catalog, catch_up=False) as cat:
        docs = cat.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    mix = queries(max(args.requests, args.users * args.per_user))
    proc = serve(config, args.port)
    base = f"http://127.0.0.1:{args.port}"
    try:
        results: dict[str, object] = {"documents": docs}
        results["one_officer"] = one_by_one(base, OFFICER, mix[: args.requests])
        results["one_auditor"] = one_by_one(base, AUDITOR, mix[: args.requests])
        # capacity first: its bursts also fill the server's pool of opened catalogs (one per request in flight),
        # as a working day would have, so the officers' run does not pay for opening them
        results["capacity"] = asyncio.run(crowd(base, args.users, max(2, args.per_user // 2), mix, 0.0))
        results["concurrent"] = asyncio.run(crowd(base, args.users, args.per_user, mix, args.think))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    out = ROOT / "benchmarks" / "out" / "web"
    out.mkdir(parents=True, exist_ok=True)
    (out / "search_load.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))
    one, many = results["one_officer"], results["concurrent"]
    assert isinstance(one, dict) and isinstance(many, dict)
    ok = one["p95_ms"] <= 150 and many["p95_ms"] <= 300 and not many["errors"]
    print(f"\n{docs:,} documents: one officer p95 {one['p95_ms']} ms (target ≤ 150), "
          f"{args.users} officers p95 {many['p95_ms']} ms (target ≤ 300): {'met' if ok else 'NOT met'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
