"""Hostile files against a running service: each must cost its own job, never the watcher.

A throw-away workstation made by `scanner init` (review never waits,
``dossier_idle_seconds = 0`` so every file is a dossier of its own) runs
`scanner watch` in a memory cgroup of 1 GB (``prlimit --as`` where none can be made) — the 1 GB a counter PC's
service is given. For each file of the hostile corpus
(``tests/capture/hostile.py``) the script drops the file into the counter's
inbox, then a good scan, and reports per case:

- the reason code the hostile file ended with (read from its quarantine
  ``.reason.txt``; ``archived`` if it went through, ``-`` if neither in time);
- seconds from the drop to the quarantine note (settling included);
- the service's peak memory: VmHWM of the watch process, and the peak of its
  whole process tree's RSS sampled every 0.2 s during the case;
- seconds from dropping the good scan until it is archived — the proof that
  the service is still serving;
- how often the watcher died and was started again during the case.

    .venv/bin/python -m benchmarks.hostile.run [--cases double-flate,huge-png] [--out benchmarks/out/hostile]

Intake opens every file with :func:`scanner.capture.judge.open_isolated` and
peeks for a receipt with ``peek_receipt_isolated``: the decoding happens in a
child with its own limits, never in the watcher.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]

from scanner.archive import Catalog  # noqa: E402
from scanner.config import load_config  # noqa: E402
from scanner.pipeline import JobState  # noqa: E402
from tests.capture import hostile  # noqa: E402
from tests.conftest import PAGE_LINES, render_lines  # noqa: E402

SCANNER = [sys.executable, "-m", "scanner"]
MEMORY_CAP = 1024 * 1024 * 1024


def _memory_cgroup() -> Path | None:
    """A memory cgroup holding the service and its children to MEMORY_CAP of real memory, if one can be made.

    A cgroup limit is what a service manager gives a service (systemd's
    ``MemoryMax=``): it counts the memory actually used by the watcher, its page
    workers and the decoding children together. ``prlimit --as`` caps address
    space per process instead, and a multithreaded watcher reserves close to
    1 GB of it (thread stacks, allocator arenas) while using 150 MB, so its own
    index writer then fails to allocate — a limit no deployment would set.
    """
    for base, limit in (("/sys/fs/cgroup/memory", "memory.limit_in_bytes"), ("/sys/fs/cgroup", "memory.max")):
        root = Path(base)
        if not (root / "cgroup.procs").exists():
            continue
        group = root / f"scanner-hostile-{os.getpid()}"
        try:
            group.mkdir(exist_ok=True)
            (group / limit).write_text(str(MEMORY_CAP))
            return group
        except OSError:
            continue
    return None


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ROOT and all its descendants, in kB (one pass over /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == current and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree)


def _status_kb(pid: int, key: str) -> int:
    """A memory figure of PID's /proc status: VmHWM (peak resident), VmPeak (peak address space)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Service:
    """`scanner watch` under the memory cap, started again whenever it dies, its memory sampled."""

    def __init__(self, config_path: Path, log: IO[bytes]) -> None:
        self.config_path = config_path
        self.entry = SCANNER
        self.log = log
        self.deaths = 0
        self.peak_tree_kb = 0
        self.peak_hwm_kb = 0
        self.peak_vm_kb = 0
        self._stop = threading.Event()
        self.proc = self._start()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _start(self) -> subprocess.Popen[bytes]:
        argv = [*self.entry, "--config", str(self.config_path), "watch"]
        group = _memory_cgroup()
        if group is None:  # no writable memory cgroup: cap the address space instead (harsher, see above)
            argv = ["prlimit", f"--as={MEMORY_CAP}", *argv]
            self.cap = f"prlimit --as={MEMORY_CAP}"
            return subprocess.Popen(argv, stdout=self.log, stderr=self.log, start_new_session=True)
        self.cap = f"cgroup {group}"

        def enter() -> None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

        return subprocess.Popen(argv, stdout=self.log, stderr=self.log, start_new_session=True, preexec_fn=enter)

    def _sample(self) -> None:
        while not self._stop.is_set():
            proc = self.proc
            if proc.poll() is None:
                self.peak_tree_kb = max(self.peak_tree_kb, _tree_rss_kb(proc.pid))
                self.peak_hwm_kb = max(self.peak_hwm_kb, _status_kb(proc.pid, "VmHWM"))
                self.peak_vm_kb = max(self.peak_vm_kb, _status_kb(proc.pid, "VmPeak"))
            else:
                self.deaths += 1
                self.proc = self._start()
                time.sleep(1)
            time.sleep(0.2)

    def reset_peaks(self) -> None:
        self.peak_tree_kb = self.peak_hwm_kb = self.peak_vm_kb = 0
        self.deaths = 0

    def stop(self) -> None:
        self._stop.set()
        self._sampler.join(timeout=5)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def _drop(src: Path, inbox: Path) -> float:
    """Place SRC in INBOX as a scanner would (write aside, then rename); the moment it appeared."""
    hidden = inbox / f".{src.name}.part"
    hidden.write_bytes(src.read_bytes())
    os.rename(hidden, inbox / src.name)
    return time.monotonic()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(catalog_path: Path, sha: str) -> str | None:
    """The state of the job that took this content, failed ones included (``find_intake`` skips those)."""
    with Catalog(catalog_path) as cat:
        row = cat.db.execute(
            "SELECT j.state FROM intake i JOIN jobs j ON j.id = i.job_id WHERE i.sha256 = ? ORDER BY i.id DESC LIMIT 1",
            (sha,),
        ).fetchone()
    return str(row[0]) if row else None


def _reason(quarantine: Path, name: str) -> str | None:
    for note in quarantine.glob(f"*/{name}.reason.txt"):
        for line in note.read_text(encoding="utf-8").splitlines():
            if line.startswith("Mã lý do:"):
                return line.split(":", 1)[1].strip()
    return None


def run_case(
    name: str, bad: Path, good: Path, *, inbox: Path, work: Path, catalog_path: Path, service: Service, wait: float
) -> dict[str, Any]:
    service.reset_peaks()
    bad_sha, good_sha = _sha256(bad), _sha256(good)
    dropped = _drop(bad, inbox)
    code, quarantined_after = "-", None
    while time.monotonic() - dropped < wait:
        reason = _reason(work / "quarantine", bad.name)
        if reason is not None:
            code, quarantined_after = reason, time.monotonic() - dropped
            break
        if _state(catalog_path, bad_sha) == JobState.ARCHIVED:
            code = "archived"
            break
        time.sleep(0.2)
    good_dropped = _drop(good, inbox)
    archived_after, good_state = None, None
    while time.monotonic() - good_dropped < wait:
        good_state = _state(catalog_path, good_sha)
        if good_state == JobState.ARCHIVED:
            archived_after = time.monotonic() - good_dropped
            break
        time.sleep(0.2)
    return {
        "case": name,
        "expected": hostile.CASES[name][2],
        "code": code,
        "to_quarantine_s": round(quarantined_after, 1) if quarantined_after is not None else None,
        "watch_vmhwm_mb": round(service.peak_hwm_kb / 1024),
        "watch_vmpeak_mb": round(service.peak_vm_kb / 1024),
        "tree_peak_rss_mb": round(service.peak_tree_kb / 1024),
        "good_scan_archived_s": round(archived_after, 1) if archived_after is not None else None,
        "good_scan_state": good_state,
        "watcher_deaths": service.deaths,
    }


def _configure(config_path: Path) -> None:
    text = config_path.read_text(encoding="utf-8")
    text = text.replace("# [capture]", "[capture]", 1)
    text = text.replace("# dossier_idle_seconds = 600", "dossier_idle_seconds = 0", 1)
    text = text.replace('mode = "flagged"', 'mode = "never"', 1)
    config_path.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hostile_names = [n for n, (_f, _b, code) in hostile.CASES.items() if code]
    ap.add_argument("--cases", default=",".join(hostile_names), help="comma-separated names from CASES")
    ap.add_argument("--wait", type=float, default=180.0, help="seconds to wait for each outcome")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "hostile")
    ap.add_argument("--keep", action="store_true", help="keep the throw-away workstation and corpus")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
    corpus = hostile.build_all(tmp / "corpus")
    config_path = Path(
        subprocess.run(
            [*SCANNER, "init", "--root", str(tmp / "ws")], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    _configure(config_path)
    config = load_config(config_path)
    inbox = config.counters[0].inbox
    results = []
    with (args.out / "watch.log").open("wb") as log:
        service = Service(config_path, log)
        try:
            time.sleep(3)
            for i, name in enumerate(args.cases.split(",")):
                good = tmp / f"trang-tot-{i:02d}.jpg"
                render_lines([*PAGE_LINES, f"Bản quét kiểm tra số {i + 1}"]).save(good, dpi=(200, 200), quality=85)
                result = run_case(
                    name,
                    corpus[name],
                    good,
                    inbox=inbox,
                    work=config.archive.work,
                    catalog_path=config.archive.catalog_path,
                    service=service,
                    wait=args.wait,
                )
                results.append(result)
                print(json.dumps(result, ensure_ascii=False), flush=True)
        finally:
            service.stop()
        if service.cap.startswith("cgroup "):
            with contextlib.suppress(OSError):
                Path(service.cap.removeprefix("cgroup ")).rmdir()
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    (args.out / "hostile.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    head = f"{'case':15} {'expected':16} {'got':16} {'quar.s':>6} {'HWM MB':>6} {'VM MB':>6} {'tree MB':>7}"
    print(f"\nmemory cap: {service.cap}")
    print(f"{head} {'good s':>6} {'good state':10} deaths")
    for r in results:
        print(
            f"{r['case']:15} {r['expected']:16} {r['code']:16} {r['to_quarantine_s'] or '-':>6} "
            f"{r['watch_vmhwm_mb']:>6} {r['watch_vmpeak_mb']:>6} {r['tree_peak_rss_mb']:>7} "
            f"{r['good_scan_archived_s'] or '-':>6} {r['good_scan_state'] or '-':10} {r['watcher_deaths']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
