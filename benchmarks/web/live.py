"""Live thumbnail latency: from a page's recognition to the server-sent event that shows it reaching a client.

A workstation made by ``scanner init`` runs ``scanner serve`` (the service
loop inside it, as at a ward office). A clerk's client logs in and listens to
the counter's event stream (``/quay/su-kien``), as the station page does;
one-page scans (200 dpi) are dropped into the counter's inbox a few seconds
apart, and every five pages the clerk presses "Hoàn tất" once those pages
are on the screen (so the next scans start a new dossier). For each page the
benchmark takes

- *recognized*: the modification time of the page's recognition result in
  the job folder (``ocr/<page>.json``, written when the page is recognized);
- *shown*: the time the first event whose panel shows that page recognized
  (its thumbnail with a confidence, no longer "đang đọc…") reached the client.

Both clocks are this machine's. Results: ``benchmarks/out/web/live.json``
and a table on stdout.

    .venv/bin/python -m benchmarks.web.live --pages 30
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.web.live import CLERK, CLERK_PASSWORD, drop, scan, workstation  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "out" / "web"
SHOWN = re.compile(r'<li class="thumb\s*" data-page="([^"]+)">')  # recognized: neither pending nor failed


def _log_in(client: httpx.Client) -> str:
    client.get("/dang-nhap")
    token = client.cookies["csrftoken"]
    r = client.post("/dang-nhap", data={"name": CLERK, "password": CLERK_PASSWORD, "csrftoken": token})
    if r.status_code != 303:
        raise RuntimeError(f"log-in refused: {r.status_code} {r.text[:200]}")
    return token


FINISH = re.compile(r"/quay/ho-so/([^/\"]+)/hoan-tat")


def _listen(url: str, cookies: httpx.Cookies, seen: dict[str, float], panel: list[str], stop: threading.Event) -> None:
    with (
        httpx.Client(base_url=url, cookies=cookies, timeout=None) as client,
        client.stream("GET", "/quay/su-kien") as stream,
    ):
        data: list[str] = []
        for line in stream.iter_lines():
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line and data:
                now = time.time()
                html = "\n".join(data)
                for page in SHOWN.findall(html):
                    seen.setdefault(page, now)
                panel[:] = [html]
                data = []
            if stop.is_set():
                return


def _recognitions(work: Path, found: dict[str, float], stop: threading.Event) -> None:
    """Note each page's recognition time while its job folder exists (a filed dossier's folder is removed)."""
    while not stop.is_set():
        for result in work.glob("jobs/*/ocr/*.json"):
            if result.stem not in found:
                with contextlib.suppress(FileNotFoundError):  # its dossier was just filed
                    found[result.stem] = result.stat().st_mtime
        time.sleep(0.05)


def _finish(client: httpx.Client, token: str, seen: dict[str, float], panel: list[str], dropped: int) -> None:
    """ "Hoàn tất" on the open dossier, once every page dropped so far is shown recognized (as a clerk would)."""
    deadline = time.monotonic() + 60
    while len(seen) < dropped and time.monotonic() < deadline:
        time.sleep(0.2)
    job = FINISH.search(panel[0])
    if job:
        r = client.post(f"/quay/ho-so/{job[1]}/hoan-tat", headers={"x-csrftoken": token})
        if r.status_code != 303:
            raise RuntimeError(f"Hoàn tất refused: {r.status_code} {r.text[:200]}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--gap", type=float, default=3.0, help="seconds between two scans")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with workstation(tmp / "ws", tmp / "serve.log") as ws:
            work = ws.config.parent / "work"
            client = httpx.Client(base_url=ws.url, timeout=60)
            token = _log_in(client)
            seen: dict[str, float] = {}
            panel: list[str] = [""]
            stop = threading.Event()
            listener = threading.Thread(target=_listen, args=(ws.url, client.cookies, seen, panel, stop), daemon=True)
            listener.start()
            results: dict[str, float] = {}
            threading.Thread(target=_recognitions, args=(work, results, stop), daemon=True).start()
            time.sleep(1.0)
            for n in range(args.pages):
                drop(ws.inbox, scan(tmp / f"trang-{n:03d}.png", n, dpi=200))
                time.sleep(args.gap)
                if n % 5 == 4:
                    _finish(client, token, seen, panel, n + 1)
            deadline = time.monotonic() + 120
            while len(seen) < args.pages and time.monotonic() < deadline:
                time.sleep(0.5)
            stop.set()
            client.close()
    latencies = [seen[page] - results[page] for page in results if page in seen]
    missing = sorted(set(results) - set(seen))
    summary = {
        "pages": args.pages,
        "recognized": len(results),
        "shown": len(latencies),
        "missing": missing,
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
        "min_s": round(min(latencies), 3),
        "latencies_s": [round(x, 3) for x in latencies],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "live.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print("| measure | pages | p50 | p95 | max | target |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| page recognized → SSE event showing it at the client | {len(latencies)} | {summary['p50_s']:.2f} s "
        f"| {summary['p95_s']:.2f} s | {summary['max_s']:.2f} s | ≤ 2 s |"
    )
    return 0 if not missing and summary["p95_s"] <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
