"""Never lose a scan: the service is SIGKILLed at random moments, 30 times, over a stream of files.

Dossiers stay open until the clerk closes them and then wait for the clerk's
review, so the kills land while a dossier is open, while pages are being
recognized, while a dossier waits for review and while it is signed and
filed. At the end every input is archived or quarantined exactly once, no
archived file is partial, and dossier numbers are unique and gapless.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest

from scanner.app import Actor
from scanner.app import counter as clerk
from scanner.archive import Catalog
from scanner.config import load_config
from scanner.errors import NotFoundError
from scanner.pipeline import JobState
from tests.conftest import assert_numbered_per_day, configure, render_lines

KILLS = 30


def _fast_config(config_path: Path) -> None:
    text = config_path.read_text(encoding="utf-8").replace("settle_seconds = 2 ", "settle_seconds = 0.3 ")
    config_path.write_text(text.replace("processes = 0 ", "processes = 1 "), encoding="utf-8")
    configure(config_path, "capture", dossier_idle_seconds=600)
    configure(config_path, "clean", orientation=False)
    configure(config_path, "review", mode="always")


def _start(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "scanner", "--config", str(config_path), "watch"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        start_new_session=True,  # the page workers die with the service
    )


def _kill(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    proc.wait(timeout=60)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_doubles_nothing(workstation: Path, tmp_path: Path) -> None:
    _fast_config(workstation)
    config = load_config(workstation)
    inbox = config.counters[0].inbox
    log = tmp_path / "service.log"
    rng = random.Random(20261124)

    expected: dict[str, str] = {}  # sha256 -> name

    def drop(i: int) -> None:
        name = f"trang-{i:03d}.png"
        img = render_lines([f"Hồ sơ thử nghiệm số {i}", "Ủy ban nhân dân phường Bến Nghé"], dpi=100)
        tmp = inbox / f".{name}"
        img.save(tmp, format="PNG", dpi=(100, 100))
        tmp.rename(inbox / name)
        expected[hashlib.sha256((inbox / name).read_bytes()).hexdigest()] = name

    bad = {"rong.jpg": b"", "hong.png": b"\x89PNG\r\n\x1a\nxx", "khong-phai-anh.pdf": b"%PDF-1.4 no"}
    for name, data in bad.items():
        (inbox / name).write_bytes(data)
        expected[hashlib.sha256(data).hexdigest()] = name

    clerk_actor = Actor("thu.nguyen", display_name="Nguyễn Thị Thu", counter=config.counters[0].name)

    def act(close: bool) -> None:
        """The clerk at the counter: confirm what waits for review, and maybe close the open dossier."""
        with Catalog(config.archive.catalog_path) as cat:
            station = clerk.Station(config, cat)
            for job in cat.jobs(states=(JobState.REVIEWING,)):
                clerk.confirm(clerk_actor, station, job.id)
            if close:
                with contextlib.suppress(NotFoundError):
                    clerk.close_dossier(clerk_actor, station, config.counters[0].name)

    n = 0
    for _ in range(KILLS):
        for _ in range(rng.choice((1, 1, 2))):
            drop(n)
            n += 1
        act(close=rng.random() < 0.5)
        proc = _start(workstation, log)
        time.sleep(rng.uniform(0.5, 4.0))
        act(close=rng.random() < 0.3)
        time.sleep(rng.uniform(0.0, 1.5))
        _kill(proc)

    proc = _start(workstation, log)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(1)
            act(close=not list(inbox.iterdir()))
            with Catalog(config.archive.catalog_path) as cat:
                busy = [j for j in cat.jobs() if not JobState(j.state).finished]
            if not busy and not list(inbox.iterdir()):
                break
        else:
            raise AssertionError("service did not finish: " + log.read_text(encoding="utf-8")[-3000:])
    finally:
        _kill(proc, signal.SIGTERM)

    archived: list[str] = []
    codes: list[str] = []
    for manifest in config.archive.root.glob("*/*/*/dossier.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        codes.append(data["dossier_code"])
        for doc in data["documents"]:
            archived.extend(s["sha256"] for s in doc["sources"])
            pdf = manifest.parent / f"{doc['code']}.pdf"
            with pikepdf.open(pdf) as p:  # complete, parseable, signed
                assert len(p.pages) == doc["pages"]
                assert any(f.get("/FT") == "/Sig" for f in p.Root.AcroForm.Fields)
    quarantined = [
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (config.archive.work / "quarantine").glob("*/*")
        if not p.name.endswith(".reason.txt")
    ]
    everything = archived + quarantined
    assert sorted(everything) == sorted(expected), {
        "missing": [expected[s] for s in set(expected) - set(everything)],
        "twice": [expected.get(s, s) for s in everything if everything.count(s) > 1],
    }
    assert set(quarantined) == {s for s, name in expected.items() if name in bad}
    assert_numbered_per_day(codes)  # unique and without gaps, day by day (a run may cross midnight)
    assert len(archived) == n  # every good scan, in some dossier
    assert not list(config.archive.root.glob("**/.staging/*"))
    print(
        f"\n{KILLS} lần SIGKILL: {len(expected)} tệp vào, {len(archived)} đã lưu trữ trong {len(codes)} hồ sơ, "
        f"{len(quarantined)} cách ly; không mất, không trùng"
    )
    with Catalog(config.archive.catalog_path) as cat:
        for doc in cat.all_documents():
            assert hashlib.sha256((config.archive.root / doc.path).read_bytes()).hexdigest() == doc.sha256
