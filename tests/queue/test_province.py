"""The must-show of the shared queue: four intake machines, two workers, one of them SIGKILLed ten times mid-job.

Four ``scanner watch`` processes, each with its own work folder and inbox
(four counter PCs), take 25 scans each, all dropped at once, and only put
their dossiers in the PostgreSQL queue; two ``scanner worker`` processes
carry them. Worker B is killed (SIGKILL, its page pool with it) ten times
while it holds a dossier and started again; after the last kill it stays
dead, so what it held is finished by worker A. At the end every input is
archived or quarantined exactly once, dossier numbers are unique and
gapless for the agency's day, every filed PDF is whole and signed, and no
staging folder is left in the archive. B then comes back for good and helps
finish the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from scanner.archive import open_catalog
from scanner.config import Config, load_config
from scanner.pipeline import JobState
from scanner.pipeline.states import RUNNABLE
from tests.conftest import assert_numbered_per_day, configure, render_lines
from tests.queue.helpers import shared_workstation

MACHINES, FILES, KILLS = 4, 25, 10


def _province(workstation: Path, tmp: Path, service: Any, names: list[str]) -> list[Path]:
    text = workstation.read_text(encoding="utf-8").replace("settle_seconds = 2 ", "settle_seconds = 0.3 ")
    workstation.write_text(text.replace("processes = 0 ", "processes = 1 "), encoding="utf-8")
    configure(workstation, "capture", dossier_idle_seconds=0)  # each scan its own dossier: 100 dossiers
    configure(workstation, "clean", orientation=False)
    queue = {"heartbeat_seconds": 0.5, "stalled_seconds": 2.0, "poll_seconds": 0.5}
    return [shared_workstation(workstation, tmp / n, service, tmp / "chung", n, **queue) for n in names]


def _start(args: list[str], config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "scanner", "--config", str(config), *args],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        start_new_session=True,  # its page pool dies with it
    )


def _kill(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    proc.wait(timeout=60)


def _held_by(config: Config, worker: str) -> str | None:
    """The dossier WORKER holds its claim on now, if any."""
    with open_catalog(config.archive) as cat:
        for job in cat.jobs(states=RUNNABLE, every_station=True):
            if job.detail.get("worker") == worker:
                return job.id
    return None


def _finished(config: Config, job_id: str) -> bool:
    with open_catalog(config.archive) as cat:
        job = cat.job(job_id)
    return job is not None and JobState(job.state).finished


@pytest.mark.slow
def test_four_intake_machines_two_workers_one_killed_ten_times(
    workstation: Path, tmp_path: Path, postgres_server: Any
) -> None:
    _, service = postgres_server.fresh_database()
    intake = _province(workstation, tmp_path, service, [f"quay-may-{i}" for i in range(1, MACHINES + 1)])
    worker_a, worker_b = _province(workstation, tmp_path, service, ["xu-ly-a", "xu-ly-b"])
    configs = [load_config(c) for c in intake]
    logs = tmp_path / "logs"
    logs.mkdir()
    watchers = [_start(["watch"], c, logs / f"{c.parent.name}.log") for c in intake]
    a = _start(["worker", "--name", "a"], worker_a, logs / "a.log")
    b: subprocess.Popen[bytes] | None = None
    expected: dict[str, str] = {}
    started = time.monotonic()
    try:
        for m, config in enumerate(configs):  # every machine's 25 scans land at once
            inbox = config.counters[0].inbox
            for i in range(FILES):
                name = f"may{m + 1}-trang-{i:02d}.png"
                if i == FILES - 1:  # one broken scan per machine: quarantined, never lost
                    (inbox / name).write_bytes(b"\x89PNG\r\n\x1a\nhong" + bytes([m]))
                else:
                    img = render_lines([f"Hồ sơ máy {m + 1} số {i}", "Ủy ban nhân dân phường Bến Nghé"], dpi=60)
                    img.save(inbox / f".{name}", format="PNG", dpi=(60, 60))
                    (inbox / f".{name}").rename(inbox / name)
                expected[hashlib.sha256((inbox / name).read_bytes()).hexdigest()] = name
        killed: list[str] = []
        for k in range(KILLS):
            b = _start(["worker", "--name", f"b{k}"], worker_b, logs / "b.log")
            deadline = time.monotonic() + 60
            while (held := _held_by(configs[0], f"b{k}")) is None:
                assert time.monotonic() < deadline, (logs / "b.log").read_text(encoding="utf-8")[-3000:]
                time.sleep(0.05)
            time.sleep(0.1 * (k % 4))  # at different steps of the dossier
            _kill(b)
            b = None
            killed.append(held)
        deadline = time.monotonic() + 120
        while not _finished(configs[0], killed[-1]):  # what B held last, A alone finishes
            assert time.monotonic() < deadline, (logs / "a.log").read_text(encoding="utf-8")[-3000:]
            time.sleep(0.2)
        b = _start(["worker", "--name", "b"], worker_b, logs / "b.log")  # and B, back for good, helps with the rest
        deadline = time.monotonic() + 300
        while True:
            with open_catalog(configs[0].archive) as cat:
                busy = [j for j in cat.jobs(every_station=True) if not JobState(j.state).finished]
            inboxes_empty = not any(list(c.counters[0].inbox.iterdir()) for c in configs)
            if not busy and inboxes_empty:
                break
            assert time.monotonic() < deadline, {p.name: p.read_text(encoding="utf-8")[-2000:] for p in logs.iterdir()}
            time.sleep(0.5)
    finally:
        for proc in [*watchers, a, *([b] if b is not None else [])]:
            _kill(proc, signal.SIGTERM)
    seconds = time.monotonic() - started

    shared = tmp_path / "chung"
    archived: list[str] = []
    codes: list[str] = []
    for manifest in (shared / "archive").glob("*/*/*/dossier.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        codes.append(data["dossier_code"])
        for doc in data["documents"]:
            archived.extend(s["sha256"] for s in doc["sources"])
            with pikepdf.open(manifest.parent / f"{doc['code']}.pdf") as pdf:  # whole, parseable, signed
                assert len(pdf.pages) == doc["pages"]
                assert any(f.get("/FT") == "/Sig" for f in pdf.Root.AcroForm.Fields)
    quarantined = [
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (shared / "work" / "quarantine").glob("*/*")
        if not p.name.endswith(".reason.txt")
    ]
    everything = archived + quarantined
    assert sorted(everything) == sorted(expected), {
        "missing": [expected[s] for s in set(expected) - set(everything)],
        "twice": [expected.get(s, s) for s in everything if everything.count(s) > 1],
    }
    assert len(quarantined) == MACHINES
    assert len(codes) == MACHINES * (FILES - 1)
    assert_numbered_per_day(codes)  # one agency: unique and without gaps, day by day
    assert not list((shared / "archive").glob("**/.staging/*"))
    with open_catalog(configs[0].archive) as cat:
        documents = cat.all_documents()
        assert len(documents) == len(codes)
        for doc in documents:
            assert hashlib.sha256((shared / "archive" / doc.path).read_bytes()).hexdigest() == doc.sha256
        last = cat.job(killed[-1])
        assert last is not None and last.state == JobState.ARCHIVED and last.detail["worker"] == "a"
        assert all(JobState(cat.job(j).state).finished for j in killed)  # type: ignore[union-attr]
    print(
        f"\n{MACHINES} máy tiếp nhận × {FILES} tệp, 2 máy xử lý, {KILLS} lần SIGKILL máy B giữa chừng: "
        f"{len(codes)} hồ sơ lưu trữ, {len(quarantined)} tệp cách ly, số hồ sơ liên tục; {seconds:.0f} giây"
    )


@pytest.mark.slow
def test_backfill_rows_are_carried_by_the_workers(workstation: Path, tmp_path: Path, postgres_server: Any) -> None:
    """With [queue], ``scanner backfill`` puts its rows in line behind counters and reports what the workers filed."""
    from scanner.cli import main
    from tests.backfill.test_run import _report, make_set

    _, service = postgres_server.fresh_database()
    (config_path,) = _province(workstation, tmp_path, service, ["so-hoa"])
    src, manifest = make_set(tmp_path / "bang-ke", 2, bad_row=False)
    worker = _start(["worker", "--name", "w"], config_path, tmp_path / "w.log")
    try:
        assert main(["--config", str(config_path), "backfill", str(src), "--manifest", str(manifest)]) == 0
    finally:
        _kill(worker, signal.SIGTERM)
    assert [r["trang_thai"] for r in _report(manifest)] == ["đã lưu", "đã lưu"]
    config = load_config(config_path)
    with open_catalog(config.archive) as cat:
        jobs = cat.jobs(every_station=True)
        assert len(jobs) == 2 and all(j.state == JobState.ARCHIVED and j.detail["worker"] == "w" for j in jobs)
        assert len(cat.all_documents()) == 2
