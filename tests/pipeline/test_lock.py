"""One process carries a workstation's jobs: a second service is refused, `process` hands its dossier over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scanner.app import Actor
from scanner.app import counter as clerk
from scanner.archive import Catalog
from scanner.capture.watch import serve
from scanner.config import load_config
from scanner.pipeline.lock import Busy, hold, is_held
from tests.conftest import render_lines

HOLD = (
    "import sys, time; from pathlib import Path; from scanner.pipeline.lock import hold\n"
    "with hold(Path(sys.argv[1]), 'thử nghiệm'):\n    print('ok', flush=True); time.sleep(60)\n"
)


def test_a_second_holder_is_refused_and_a_killed_one_leaves_no_stale_lock(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline().strip() == b"ok"
    with pytest.raises(Busy) as refused, hold(tmp_path, "lần hai"):
        pass
    assert "thử nghiệm" in refused.value.message_vi and f"pid {child.pid}" in refused.value.message_vi
    assert is_held(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert not is_held(tmp_path)
    with hold(tmp_path, "sau khi tiến trình kia chết"):
        assert is_held(tmp_path)


def test_a_second_watch_on_the_same_workstation_exits_with_a_clear_message(workstation: Path) -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "scanner", "--config", str(workstation), "watch"],
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        work = load_config(workstation).archive.work
        deadline = time.monotonic() + 60
        while not is_held(work) and time.monotonic() < deadline:
            time.sleep(0.1)
        second = subprocess.run(
            [sys.executable, "-m", "scanner", "--config", str(workstation), "watch"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 3
        assert "máy trạm đang được một tiến trình khác xử lý (scanner watch" in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.wait(timeout=60)


def test_process_while_the_service_runs_hands_the_dossier_over(workstation: Path, tmp_path: Path) -> None:
    config = load_config(workstation)
    scan = tmp_path / "giấy xác nhận.png"
    render_lines(dpi=150).save(scan, dpi=(150, 150))
    stop = threading.Event()
    service = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.1})
    service.start()
    try:
        deadline = time.monotonic() + 60
        while not is_held(config.archive.work) and time.monotonic() < deadline:
            time.sleep(0.1)
        with Catalog(config.archive.catalog_path) as catalog:
            outcome = clerk.process(Actor("lan.tran"), clerk.Station(config, catalog), [scan], "quay-1", timeout=120)
            assert outcome.state == "archived", outcome.error
            assert len(outcome.documents) == 1 and outcome.documents[0].path.exists()
            assert len(catalog.jobs(states=("archived",))) == 1  # filed once, by the service
            # the same content again is refused, not filed a second time
            with pytest.raises(Exception, match="đã được nhận trước đó"):
                clerk.process(Actor("lan.tran"), clerk.Station(config, catalog), [scan], "quay-1")
    finally:
        stop.set()
        service.join(timeout=60)
    assert scan.exists()
