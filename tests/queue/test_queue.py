"""The shared queue's parts on a real PostgreSQL: its schema and grants, order, one queue job per dossier,
the catalog's claim surviving nothing but its holder, and a dead worker's job put back in line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from scanner.app import Actor
from scanner.app.queue import queue_status
from scanner.archive import Catalog, open_catalog
from scanner.config import load_config
from scanner.errors import ConfigError
from scanner.pipeline import JobState
from scanner.queue import BACKFILL_PRIORITY, COUNTER_PRIORITY, QUEUE, dispatch, entries, make_app
from scanner.queue.worker import retry_stalled
from tests.conftest import configure
from tests.queue.helpers import shared_workstation


@pytest.fixture
def province(tmp_path: Path, workstation: Path, postgres_server: Any) -> Any:
    """One intake machine of a province: its config (PostgreSQL catalog, [queue]) and the owner's URL."""
    owner, service = postgres_server.fresh_database()
    config = shared_workstation(workstation, tmp_path / "may-1", service, tmp_path / "chung", "may-1")
    return load_config(config), owner


def _job(config: Any, job_id: str, detail: dict[str, Any] | None = None) -> Any:
    with open_catalog(config.archive) as cat:
        cat.create_job(job_id, config.counters[0].name, detail or {}, state=JobState.RECEIVED)
        return cat.job(job_id)


def test_a_queue_needs_the_postgresql_catalog(workstation: Path, tmp_path: Path) -> None:
    configure(workstation, "queue", work=str(tmp_path / "chung"))
    with pytest.raises(ConfigError, match="PostgreSQL"):
        load_config(workstation)


def test_a_heartbeat_late_once_is_not_a_death(province: Any, tmp_path: Path) -> None:
    config, _ = province
    configure(config.source, "queue", heartbeat_seconds=10.0, stalled_seconds=15.0)
    with pytest.raises(ConfigError, match="stalled_seconds"):
        load_config(config.source)


def test_queued_jobs_and_their_quarantine_live_in_the_shared_folder(province: Any, tmp_path: Path) -> None:
    config, _ = province
    assert config.job_area == tmp_path / "chung" / "work"
    assert config.archive.work == tmp_path / "may-1" / "work"  # the machine's lock and staging stay its own


def test_counter_dossiers_are_taken_before_backfill_and_each_dossier_is_in_line_once(province: Any) -> None:
    config, _ = province
    backfill = _job(config, "bf-1", {"one_document": True, "sidecar": {"kind": "result"}})
    counter = _job(config, "quay-1")
    app = make_app(config)  # the service's role: what it may do on the queue's tables is what revision 0005 grants
    with app.open():
        assert dispatch(app, [backfill]) == ["bf-1"]
        assert dispatch(app, [counter, backfill]) == ["quay-1"]  # bf-1 already waits: not put twice
        assert dispatch(app, [counter, backfill]) == []
        waiting = entries(app)
    assert [(e.job_id, e.priority) for e in waiting] == [("quay-1", COUNTER_PRIORITY), ("bf-1", BACKFILL_PRIORITY)]

    async def fetch_two() -> list[str]:
        async with make_app(config).open_async() as a:
            worker = await a.job_manager.register_worker()
            first = await a.job_manager.fetch_job(queues=[QUEUE], worker_id=worker)
            second = await a.job_manager.fetch_job(queues=[QUEUE], worker_id=worker)
            return [j.task_kwargs["job_id"] for j in (first, second) if j is not None]

    assert asyncio.run(fetch_two()) == ["quay-1", "bf-1"]  # the older backfill row waits for the counter's


_HOLDER = """
import sys, time
from scanner.archive import Catalog
from sqlalchemy import make_url
cat = Catalog(make_url(sys.argv[1]), index_path=__import__("pathlib").Path(sys.argv[2]), catch_up=False)
with cat.claim_job("job-1", "may-chet") as mine:
    print("held" if mine else "refused", flush=True)
    time.sleep(120)
"""


def test_the_claim_is_one_holders_and_ends_with_its_process(province: Any, tmp_path: Path) -> None:
    config, _ = province
    _job(config, "job-1")
    _job(config, "job-2")
    url = config.archive.catalog().render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_HOLDER), url, str(config.archive.index_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with open_catalog(config.archive) as cat:
            with cat.claim_job("job-1", "may-2") as mine:
                assert not mine  # a live holder keeps it, whatever the queue believes
            with cat.claim_job("job-2", "may-2") as mine:
                assert mine  # other jobs are free
            assert cat.job("job-1").detail["worker"] == "may-chet"  # type: ignore[union-attr]
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
            deadline = time.monotonic() + 10
            while True:  # the server notices the dead connection at once; allow it a moment
                with cat.claim_job("job-1", "may-2") as mine:
                    if mine or time.monotonic() > deadline:
                        break
                time.sleep(0.1)
            assert mine
            assert cat.job("job-1").detail["worker"] == "may-2"  # type: ignore[union-attr]
    finally:
        holder.kill()
        holder.wait()


def test_a_silent_workers_job_goes_back_in_line_and_the_listing_says_where_things_stand(
    province: Any, postgres_server: Any
) -> None:
    config, owner = province
    job = _job(config, "job-1")
    _job(config, "job-2")
    with open_catalog(config.archive) as cat:
        cat.set_job_state("job-2", JobState.FAILED, error="lỗi thử")
    app = make_app(config)
    with app.open():
        dispatch(app, [job])

    async def take_then_die() -> tuple[list[int], list[int]]:
        async with make_app(config).open_async() as a:
            worker = await a.job_manager.register_worker()
            taken = await a.job_manager.fetch_job(queues=[QUEUE], worker_id=worker)
            assert taken is not None
            fresh = await retry_stalled(a, 30)  # its heartbeat is new: nobody touches its job
            postgres_server.sql(
                "UPDATE queue.procrastinate_workers SET last_heartbeat = now() - interval '1 hour'",
                database=owner.database,
            )
            return fresh, await retry_stalled(a, 30)

    fresh, stale = asyncio.run(take_then_die())
    assert fresh == [] and len(stale) == 1
    with Catalog(config.archive.catalog(), index_path=config.archive.index_path) as cat:
        now = queue_status(Actor("lan", display_name="Lê Thị Lan"), config, cat)
    assert [d.job_id for d in now.waiting] == ["job-1"] and now.waiting[0].queue_vi == "đang chờ"
    assert not now.running
    assert [(d.job_id, d.state, d.error) for d in now.failed] == [("job-2", JobState.FAILED, "lỗi thử")]


def test_scanner_status_queue_shows_running_on_which_worker(province: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.cli import main

    config, _ = province
    job = _job(config, "job-1")
    app = make_app(config)
    with app.open():
        dispatch(app, [job])

    async def take() -> None:
        async with make_app(config).open_async() as a:
            worker = await a.job_manager.register_worker()
            assert await a.job_manager.fetch_job(queues=[QUEUE], worker_id=worker) is not None

    asyncio.run(take())
    with open_catalog(config.archive) as cat, cat.claim_job("job-1", "may-xu-ly-3:4242") as mine:
        assert mine
        assert main(["--config", str(config.source), "status", "--queue"]) == 0
    out = capsys.readouterr().out
    assert "Đang xử lý (1):" in out and "job-1  may-1/quay-1 (quầy)  đang xử lý trên may-xu-ly-3:4242" in out
    assert "Đang chờ (0):" in out


def test_a_lost_catalog_connection_is_the_machines_fault_not_the_scans(
    province: Any, postgres_server: Any, page_png: Path
) -> None:
    """A worker talks to the catalog over the network: a drop parks the dossier, never costs it an attempt."""
    from scanner.pipeline import Pipeline

    config, _ = province
    with open_catalog(config.archive) as cat:
        pipeline = Pipeline(config, cat)
        job_id = pipeline.submit([page_png], config.counters[0])

        def lose_connection(ctx: Any) -> Any:
            postgres_server.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = 'scanner_service' AND pid <> pg_backend_pid()"
            )
            return cat.job(ctx.job_id)  # the next statement finds the connection gone

        pipeline.capture = lose_connection  # type: ignore[method-assign]
        outcome = pipeline.run(job_id)
        job = cat.job(job_id)  # made again on its next use
    assert outcome.state == JobState.WAITING
    assert job is not None and job.state == JobState.WAITING and job.attempts == 0
    assert job.error == "mất kết nối tới sổ danh mục"


@pytest.mark.slow
def test_an_open_dossiers_pages_are_read_by_a_worker_while_the_citizen_waits(province: Any, tmp_path: Path) -> None:
    """A counter PC only takes files, yet the clerk sees each page recognized and a broken scan refused while the
    dossier is still open: a worker opens and reads each file as it is taken; closing then files the dossier."""
    import threading

    from scanner.app import counter as clerk
    from scanner.capture.watch import serve
    from tests.conftest import render_lines, wait_until

    config, _ = province
    text = config.source.read_text(encoding="utf-8").replace("settle_seconds = 2 ", "settle_seconds = 0.3 ")
    config.source.write_text(text, encoding="utf-8")
    configure(config.source, "queue", heartbeat_seconds=0.5, stalled_seconds=2.0, poll_seconds=0.5)
    config = load_config(config.source)
    who = Actor("thu.nguyen", display_name="Nguyễn Thị Thu", counter="quay-1")
    inbox = config.counters[0].inbox

    def status() -> clerk.CounterStatus:
        with open_catalog(config.archive) as cat:
            return clerk.status(who, clerk.Station(config, cat), counter="quay-1")

    worker = subprocess.Popen(
        [sys.executable, "-m", "scanner", "--config", str(config.source), "worker"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "worker.log").open("ab"), start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    stop = threading.Event()
    intake = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.1})
    intake.start()
    try:
        good = tmp_path / "trang-1.jpg"
        render_lines(dpi=150).save(good, dpi=(150, 150), quality=85)
        (inbox / good.name).write_bytes(good.read_bytes())
        wait_until(lambda: any(p.recognized for d in status().dossiers for doc in d.documents for p in doc.pages))
        (inbox / "trang-2.jpg").write_bytes(good.read_bytes()[: good.stat().st_size // 3])  # stopped half way
        wait_until(lambda: [q.name for q in status().quarantined] == ["trang-2.jpg"])
        (open_dossier,) = status().dossiers
        assert open_dossier.state.value == "collecting" and open_dossier.pages == 1  # still open at the counter
        with open_catalog(config.archive) as cat:
            clerk.close_dossier(who, clerk.Station(config, cat), "quay-1")

        def filed() -> bool:
            with open_catalog(config.archive) as cat:
                return bool(cat.jobs(states=("archived",)))

        wait_until(filed)
    finally:
        stop.set()
        intake.join(timeout=60)
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    with open_catalog(config.archive) as cat:
        (job,) = cat.jobs(states=("archived",))
        assert [d.pages for d in cat.documents(job.dossier_code)] == [1]  # type: ignore[arg-type]
    assert "Traceback" not in (tmp_path / "worker.log").read_text(encoding="utf-8")
