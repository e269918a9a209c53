"""The province's shared job queue: intake machines enqueue dossiers, ``scanner worker`` machines carry them.

The queue is procrastinate's, in the catalog's own PostgreSQL database (its
tables in the schema ``queue``, made by revision 0005): no broker to run,
and a dossier's state and its place in the queue live in one database.

What stays the truth is the pipeline's: the job's state in the catalog
(each step saved before the state moves on, so any worker resumes at the
first unfinished step), its attempts (``max_attempts``, then quarantine),
exactly-once filing. The queue only decides who runs what next:

- one queue job per dossier at a time: intake defers a dossier only when no
  queue job for it is waiting or running (``queueing_lock`` = the job id),
  and procrastinate never runs two queue jobs with one ``lock`` at once;
- a worker holds the catalog's claim on the job for the whole run
  (``Catalog.claim_job``), so even a queue job retried while its first
  worker still lives cannot run the same steps twice at the same time;
- a worker killed mid-job stops sending heartbeats; after
  ``stalled_seconds`` any other worker puts its queue job back in line
  (``retry_stalled``), and the job resumes where the dead worker left it;
- counter dossiers go before backfill rows (``priority_of``), and the pages
  of a dossier still open at a counter before both (``read_input``): a
  worker opens each file as it is taken, quarantines a broken one at once,
  and reads its pages into the shared job folder, so the clerk sees them
  recognized while the citizen waits and closing the dossier finds them
  done. Its queue jobs carry the dossier's ``lock``, so they and the
  dossier's own run one after the other, never at once;
- a failed attempt or a workstation fault is deferred again by the worker
  with the pipeline's own pause (30 s × attempts, or 30 s while waiting).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued

from scanner.archive.catalog import JobRecord
from scanner.config import Config
from scanner.pipeline.run import is_backfill

log = logging.getLogger(__name__)

SCHEMA = "queue"  # revision 0005
QUEUE = "dossiers"
TASK = "scanner.carry"
READ_TASK = "scanner.read"
READ_PRIORITY = 20  # a clerk watches the page appear
COUNTER_PRIORITY = 10  # a citizen waits at the counter
BACKFILL_PRIORITY = 0  # old results by the thousand: whenever no counter dossier waits
RETRY_WAITING_SECONDS = 30.0  # the pipeline's pause for a job waiting on a workstation fault


def conninfo(config: Config) -> str:
    """The libpq URL of the catalog's database (with its password, read from env or file): never shown or logged."""
    url = config.archive.catalog()
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def make_app(config: Config) -> App:
    """A procrastinate app on the catalog's database, its connections looking in the queue's schema."""
    connector = PsycopgConnector(
        conninfo=conninfo(config),
        kwargs={"options": f"-c search_path={SCHEMA}", "application_name": "scanner-queue", "connect_timeout": 10},
        min_size=1,
        max_size=4,
    )
    app = App(connector=connector)
    app.task(name=TASK, queue=QUEUE, pass_context=True)(_carry)
    app.task(name=READ_TASK, queue=QUEUE, pass_context=True)(_read)
    return app


async def _read(context: Any, job_id: str, index: int, counter: str) -> None:
    """The pages of one file of a dossier still open at a counter, read by the worker that took it."""
    import asyncio

    from scanner.queue.worker import Carrier

    carrier: Carrier = context.additional_context["carrier"]
    await asyncio.to_thread(carrier.read, job_id, index, counter)


def read_input(app: App, job_id: str, index: int, counter: str) -> None:
    """Put file INDEX of an open dossier in line to be opened and read (once, however often asked)."""
    task = app.tasks[READ_TASK].configure(lock=_lock(job_id), queueing_lock=f"{job_id}#{index}", priority=READ_PRIORITY)
    with contextlib.suppress(AlreadyEnqueued):
        task.defer(job_id=job_id, index=index, counter=counter)


async def _carry(context: Any, job_id: str) -> None:
    """The queue's one task: carry one dossier as far as it goes, on the worker that took it."""
    import asyncio

    from scanner.queue.worker import Carrier

    carrier: Carrier = context.additional_context["carrier"]
    later = await asyncio.to_thread(carrier.carry, job_id)
    if later is not None:
        record = await asyncio.to_thread(carrier.pipeline.catalog.job, job_id)
        await _defer_async(context.app, job_id, priority_of(record), later)


def priority_of(job: JobRecord | None) -> int:
    """Counter dossiers before backfill: the applicant is waiting for the first."""
    return BACKFILL_PRIORITY if job is not None and is_backfill(job.detail) else COUNTER_PRIORITY


def _lock(job_id: str) -> str:
    return job_id


def _configure(app: App, job_id: str, priority: int, delay: float) -> Any:
    options: dict[str, Any] = {"lock": _lock(job_id), "queueing_lock": _lock(job_id), "priority": priority}
    if delay > 0:
        options["schedule_in"] = {"seconds": round(delay)}
    return app.tasks[TASK].configure(**options)


async def _defer_async(app: App, job_id: str, priority: int, delay: float) -> None:
    with contextlib.suppress(AlreadyEnqueued):  # already in line: once is enough
        await _configure(app, job_id, priority, delay).defer_async(job_id=job_id)


_LIVE = (
    f"SELECT lock FROM {SCHEMA}.procrastinate_jobs "
    f"WHERE queue_name = '{QUEUE}' AND task_name = '{TASK}' AND lock = ANY(%(ids)s) AND status IN ('todo', 'doing')"
)


def dispatch(app: App, jobs: Sequence[JobRecord]) -> list[str]:
    """Put in line each of JOBS (runnable dossiers) that no queue job is waiting for or running; return those put.

    Called every round by the intake service and by a clerk's command: a
    dossier closed, confirmed, or left runnable by a crash is in line within
    a second, exactly once.
    """
    if not jobs:
        return []
    connector = app.connector.get_sync_connector()
    live = {row["lock"] for row in connector.execute_query_all(_LIVE, ids=[j.id for j in jobs])}  # type: ignore[arg-type]
    put = []
    for job in jobs:
        if job.id in live:
            continue
        try:
            _configure(app, job.id, priority_of(job), 0).defer(job_id=job.id)
            put.append(job.id)
        except AlreadyEnqueued:
            continue
    return put


@dataclass(frozen=True)
class QueueEntry:
    """One dossier in the shared queue, as the records team and the clerks see it."""

    job_id: str
    status: str  # todo (waiting) | doing (running) | failed (the task itself broke)
    priority: int
    scheduled_at: datetime | None  # not before (a retry's pause)
    attempts: int  # the queue's tries (kills included); the pipeline's attempts are the job's own
    worker_id: int | None
    heartbeat: datetime | None  # the worker's last sign of life


_ENTRIES = (
    f"SELECT j.lock, j.status::text AS status, j.priority, j.scheduled_at, j.attempts, j.worker_id, "
    f"w.last_heartbeat FROM {SCHEMA}.procrastinate_jobs j "
    f"LEFT JOIN {SCHEMA}.procrastinate_workers w ON w.id = j.worker_id "
    f"WHERE j.queue_name = '{QUEUE}' AND j.task_name = '{TASK}' AND j.status IN ('todo', 'doing', 'failed') "
    f"ORDER BY j.status DESC, j.priority DESC, j.id"
)


def entries(app: App) -> list[QueueEntry]:
    """What is waiting, running and broken in the queue now, running first, then by the order it will run."""
    rows = app.connector.get_sync_connector().execute_query_all(_ENTRIES)  # type: ignore[arg-type]
    return [
        QueueEntry(
            job_id=r["lock"],
            status=r["status"],
            priority=r["priority"],
            scheduled_at=r["scheduled_at"],
            attempts=r["attempts"],
            worker_id=r["worker_id"],
            heartbeat=r["last_heartbeat"],
        )
        for r in rows
    ]


def enqueue(config: Config, jobs: Sequence[JobRecord]) -> list[str]:
    """``dispatch`` from a short-lived command (a clerk's confirm, ``scanner process``): the app opened for it."""
    app = make_app(config)
    with app.open():
        return dispatch(app, jobs)
