"""``scanner worker``: one machine of the province's pool, carrying queued dossiers (clean, OCR, build, sign, file).

Any number run at once, on any machine that mounts the shared work folder
(``[queue] work``) and the archive. Each takes one dossier at a time from
the queue and carries it with its own page pool (``[workers] processes``),
so a machine's cores read one dossier's pages together.

A worker that dies (SIGKILL, power cut, the network gone) leaves its queue
job ``doing`` and its heartbeat growing old; every live worker looks for
such jobs each heartbeat and puts them back in line once the dead one has
been silent ``stalled_seconds``. Its catalog claim ended with its
connection, so the next worker takes the dossier at its first unfinished
step: what was saved is not done again, and filing is exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass

from procrastinate import App

from scanner.archive import open_catalog
from scanner.config import Config
from scanner.errors import EXIT_OK, ConfigError
from scanner.pipeline import JobOutcome, JobState, Pipeline, make_pool
from scanner.queue import QUEUE, RETRY_WAITING_SECONDS, make_app
from scanner.tools import check_programs

log = logging.getLogger(__name__)


@dataclass
class Carrier:
    """What a worker needs to carry a dossier: its pipeline (catalog, page pool) and its name in the listing."""

    config: Config
    pipeline: Pipeline
    name: str

    def carry(self, job_id: str) -> float | None:
        """Run JOB_ID under the catalog's claim; seconds before it should run again, or None when nothing is owed.

        Another process holding the claim (a queue job retried while its
        first worker still lives) is left to finish; the job is looked at
        again a heartbeat later, and by then is usually done.
        """
        assert self.config.queue is not None
        with self.pipeline.catalog.claim_job(job_id, self.name) as mine:
            if not mine:
                log.info("công việc %s đang do một máy khác xử lý; xem lại sau", job_id)
                return self.config.queue.heartbeat_seconds
            outcome = self.pipeline.run(job_id)
        _report(outcome)
        if outcome.state == JobState.FAILED:  # an attempt counted by the pipeline: its pause grows with them
            job = self.pipeline.catalog.job(job_id)
            return 30.0 * max(1, job.attempts if job is not None else 1)
        if outcome.state == JobState.WAITING:  # the machine's fault, never the file's: tried again, no attempt
            return RETRY_WAITING_SECONDS
        return None

    def read(self, job_id: str, index: int, counter: str) -> None:
        """Open file INDEX of a dossier not yet carried and read its pages into the job folder.

        Only while the dossier is still open at the counter, and under the
        catalog's claim like a carry: what this saves, the run finds done; a
        file that cannot be opened is in quarantine before the clerk looks
        up. Once the dossier is closed its own run (in line right behind)
        reads what is left, so a closed dossier never waits for its pages to
        go through the queue one file at a time. A page that fails here is
        simply read again by the run, which reports it.
        """
        with self.pipeline.catalog.claim_job(job_id, self.name) as mine:
            job = self.pipeline.catalog.job(job_id)
            if not mine or job is None or job.state != JobState.COLLECTING:
                return
            prepared = self.pipeline.open_input(job_id, index, counter)
            folder = self.pipeline.folder(job_id)
            for page in prepared.pages if prepared is not None else ():
                try:
                    self.pipeline.queue.result(folder, page, self.pipeline.clean_options, self.pipeline.ocr_options)
                except Exception:  # the dossier's run reads the page again and says what is wrong with it
                    log.debug("trang %s của công việc %s chưa đọc được", page.path.name, job_id, exc_info=True)


def _report(outcome: JobOutcome) -> None:
    state = JobState(outcome.state)
    if state is JobState.ARCHIVED:
        log.info("hồ sơ %s đã lưu trữ: %d văn bản", outcome.dossier_code, len(outcome.documents))
    elif state is JobState.REVIEWING:
        log.info("hồ sơ %s chờ cán bộ kiểm tra trước khi ký số", outcome.dossier_code)
    elif state in (JobState.FAILED, JobState.WAITING, JobState.QUARANTINED):
        log.error("công việc %s không hoàn thành (%s): %s", outcome.job_id, state.label_vi, outcome.error or "")


def worker_name() -> str:
    """How the listing names this worker: the machine and the process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def work(config: Config, *, name: str = "") -> int:
    """Carry queued dossiers until SIGINT/SIGTERM (the dossier in hand is finished first)."""
    if config.queue is None:
        raise ConfigError(
            "scanner worker cần hàng đợi chung: khai báo [queue] work = thư mục dùng chung (và danh mục PostgreSQL)",
            "scanner worker needs the shared queue: set [queue] work to a shared folder (and a PostgreSQL catalog)",
        )
    for problem in check_programs(languages_needed=config.tesseract_languages):
        # dossiers are still taken; those this worker carries wait (no attempt counted) until the program is back
        log.error("sự cố máy trạm: %s", problem.message_vi)
    asyncio.run(_work(config, name or worker_name()))
    log.info("đã dừng máy xử lý %s", name)
    return EXIT_OK


async def _work(config: Config, name: str) -> None:
    q = config.queue
    assert q is not None
    app = make_app(config)
    with open_catalog(config.archive) as catalog, make_pool(config.processes) as pool:
        carrier = Carrier(config, Pipeline(config, catalog, pool), name)
        async with app.open_async():
            reaper = asyncio.create_task(_reap(app, q.stalled_seconds, q.heartbeat_seconds))
            log.info("máy xử lý %s đang chờ hồ sơ trong hàng đợi", name)
            try:
                await app.run_worker_async(
                    queues=[QUEUE],
                    name=name,
                    concurrency=1,  # one dossier (or one open dossier's file) at a time; its pages fill the pool
                    wait=True,
                    listen_notify=True,
                    fetch_job_polling_interval=q.poll_seconds,
                    update_heartbeat_interval=q.heartbeat_seconds,
                    stalled_worker_timeout=q.stalled_seconds,
                    delete_jobs="successful",
                    additional_context={"carrier": carrier},
                )
            finally:
                reaper.cancel()


async def _reap(app: App, stalled_seconds: float, every: float) -> None:
    """Every heartbeat, put back in line the queue jobs of workers silent for STALLED_SECONDS."""
    while True:
        try:
            await retry_stalled(app, stalled_seconds)
        except Exception as exc:  # the database away for a moment: the next heartbeat tries again
            log.warning("chưa kiểm tra được máy xử lý đã dừng: %s", type(exc).__name__)
        await asyncio.sleep(every)


async def retry_stalled(app: App, stalled_seconds: float) -> list[int]:
    """Retry the queue jobs whose worker stopped sending heartbeats; return their queue ids."""
    retried = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_seconds):
        try:
            await app.job_manager.retry_job(job)
        except Exception:  # another worker put it back first
            continue
        log.warning("máy xử lý %s đã im lặng quá %.0f giây: công việc %s trở lại hàng đợi", job.worker_id,
                    stalled_seconds, job.task_kwargs.get("job_id"))  # fmt: skip
        assert job.id is not None
        retried.append(job.id)
    return retried
