"""The shared queue as people follow it: what waits, what runs on which worker, what failed.

``scanner status --queue`` shows it.

The queue says where a dossier stands in line; the catalog says what the
dossier is (its code, counter, state, the pipeline's attempts and error) and
which worker holds its claim. Dossiers failing or waiting on a workstation
fault are listed from the catalog, whose state is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scanner.app import Actor
from scanner.archive import Catalog
from scanner.archive.catalog import JobRecord
from scanner.config import Config
from scanner.errors import ConfigError
from scanner.pipeline import JobState
from scanner.pipeline.run import is_backfill

_QUEUE_VI = {"todo": "đang chờ", "doing": "đang xử lý", "failed": "lỗi hàng đợi"}


@dataclass(frozen=True)
class QueuedDossier:
    job_id: str
    counter: str
    station: str  # the intake machine that took it
    dossier_code: str
    state: JobState  # the pipeline's
    queue: str  # todo | doing | failed | "" (not in the queue: failed or waiting in the pipeline)
    worker: str  # the worker holding it (doing), by machine and process
    backfill: bool
    not_before: datetime | None  # a retry's pause
    attempts: int  # the pipeline's
    error: str

    @property
    def queue_vi(self) -> str:
        return _QUEUE_VI.get(self.queue, self.state.label_vi)


@dataclass(frozen=True)
class QueueStatus:
    running: tuple[QueuedDossier, ...]
    waiting: tuple[QueuedDossier, ...]  # in the order workers will take them
    failed: tuple[QueuedDossier, ...]  # failed attempts, waiting on a workstation fault, given up, broken tasks


def queue_status(actor: Actor, config: Config, catalog: Catalog, *, limit: int = 50) -> QueueStatus:
    """The province's queue now, across every intake machine."""
    if config.queue is None:
        raise ConfigError(
            "chưa cấu hình hàng đợi chung ([queue]): máy trạm tự xử lý hồ sơ của mình, xem scanner status",
            "no shared queue configured ([queue]): this workstation carries its own jobs, see scanner status",
        )
    from scanner.queue import entries, make_app

    app = make_app(config)
    with app.open():
        queued = entries(app)
    running: list[QueuedDossier] = []
    waiting: list[QueuedDossier] = []
    failed: list[QueuedDossier] = []
    seen: set[str] = set()
    for e in queued:
        job = catalog.job(e.job_id)
        if job is None:
            continue
        seen.add(job.id)
        worker = str(job.detail.get("worker", "")) if e.status == "doing" else ""
        item = _view(job, e.status, worker, e.scheduled_at)
        {"doing": running, "todo": waiting}.get(e.status, failed).append(item)
    trouble = (JobState.FAILED, JobState.WAITING, JobState.QUARANTINED)
    for job in catalog.jobs(states=trouble, every_station=True, limit=limit):
        if job.id not in seen:
            failed.append(_view(job, "", "", None))
    return QueueStatus(tuple(running), tuple(waiting[:limit]), tuple(failed[:limit]))


def _view(job: JobRecord, queue: str, worker: str, not_before: datetime | None) -> QueuedDossier:
    return QueuedDossier(
        job_id=job.id,
        counter=job.counter,
        station=job.station,
        dossier_code=job.dossier_code or "",
        state=JobState(job.state),
        queue=queue,
        worker=worker,
        backfill=is_backfill(job.detail),
        not_before=not_before,
        attempts=job.attempts,
        error=job.error or "",
    )
