"""Backfill: every valid manifest row through the counter pipeline, in parallel, resumable, reported.

Each row becomes one job whose id is derived from the row's identity (its
result number and owner) and the SHA-256 of its page files. Started again
after a kill with the same arguments, a row whose job is archived is
reported as done, a row whose job was interrupted resumes at its first
unfinished stage, and nothing is archived twice.

Rows run concurrently in threads (each with its own catalog connection);
their pages go to the shared pool of JOBS worker processes. Twice as many
rows as workers are in flight, so the workers recognize pages while other
rows are built, signed and filed. At most a few rows per worker are queued, so memory
does not grow with the manifest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from scanner.archive import Catalog, open_catalog, sha256_file
from scanner.backfill import ManifestRow, RowProblem, read_manifest
from scanner.config import Config, CounterConfig
from scanner.extract import disagreements
from scanner.pipeline import JobOutcome, JobState, Pipeline, Sidecar
from scanner.pipeline.lock import hold
from scanner.pipeline.states import RUNNABLE

REPORT_COLUMNS = (
    "dong",
    "tep",
    "trang_thai",
    "ma_ho_so",
    "ma_van_ban",
    "ma_ket_qua",
    "duong_dan",
    "so_trang",
    "canh_bao",
)
STATUS_VI = {
    "archived": "đã lưu",
    "already": "đã lưu trước đó",
    "invalid": "bỏ qua (dòng lỗi)",
    "failed": "lỗi",
}


@dataclass(frozen=True)
class RowResult:
    row: int
    file: str
    status: str  # archived | already | invalid | failed
    dossier_code: str = ""
    result_code: str = ""
    path: str = ""
    pages: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class Summary:
    rows: int = 0
    archived: int = 0
    already: int = 0
    invalid: int = 0
    failed: int = 0
    pages: int = 0
    flagged: int = 0  # rows whose page disagrees with the manifest
    seconds: float = 0.0
    report: Path | None = None

    @property
    def ok(self) -> bool:
        return not (self.invalid or self.failed)


def job_id_for(row: ManifestRow, files: list[Path]) -> str:
    """The row's job: the same row with the same page files is the same job, whatever the run."""
    h = hashlib.sha256()
    for part in (row.procedure_code, row.result_number, row.owner_id):
        h.update(part.encode() + b"\x1f")
    for f in files:
        h.update(sha256_file(f).encode())
    return f"bf-{h.hexdigest()[:24]}"


def report_path(manifest: Path) -> Path:
    return manifest.with_name(f"{manifest.stem}.bao-cao.csv")


def backfill(
    config: Config,
    manifest: Path,
    src: Path,
    counter: CounterConfig,
    pool: Executor | None,
    *,
    jobs: int,
    on_row: Callable[[RowResult], None] = lambda r: None,
) -> Summary:
    """Digitize every valid row of MANIFEST; bad rows are skipped and reported, never dropped silently.

    Holds the workstation's job lock for the whole run: the service must not
    pick up the rows' jobs meanwhile (stop `scanner watch` first).
    """
    with hold(config.archive.work, f"scanner backfill {manifest.name}"):
        summary = Summary(report=report_path(manifest))
        started = time.monotonic()
        local = threading.local()

        def pipeline() -> Pipeline:
            if not hasattr(local, "pipeline"):
                local.pipeline = Pipeline(config, open_catalog(config.archive), pool)
            return local.pipeline  # type: ignore[no-any-return]

        def work(row: ManifestRow) -> RowResult:
            return _run_row(pipeline(), row, src, counter, manifest)

        tmp = summary.report.with_name(summary.report.name + ".tmp")  # type: ignore[union-attr]
        # twice as many rows in flight as workers: while one row is built, signed and filed in this
        # process, another row's pages keep the workers busy
        rows_at_once = 2 * max(1, jobs)
        with tmp.open("w", encoding="utf-8-sig", newline="") as out, ThreadPoolExecutor(rows_at_once) as threads:
            writer = csv.writer(out)
            writer.writerow(REPORT_COLUMNS)

            def record(result: RowResult) -> None:
                summary.rows += 1
                setattr(summary, result.status, getattr(summary, result.status) + 1)
                summary.pages += result.pages
                if any(w.startswith("khác trang") for w in result.warnings):
                    summary.flagged += 1
                writer.writerow(
                    (
                        result.row,
                        result.file,
                        STATUS_VI[result.status],
                        result.dossier_code,
                        result.result_code,
                        result.result_code,
                        result.path,
                        result.pages,
                        " | ".join(result.warnings),
                    )
                )
                out.flush()
                on_row(result)

            in_flight: set[Future[RowResult]] = set()
            limit = 2 * rows_at_once
            for item in read_manifest(manifest, src):
                if isinstance(item, RowProblem):
                    record(RowResult(item.number, "", "invalid", warnings=(item.reason_vi,)))
                    continue
                in_flight.add(threads.submit(work, item))
                if len(in_flight) >= limit:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for f in done:
                        record(f.result())
            while in_flight:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for f in done:
                    record(f.result())
        tmp.replace(summary.report)  # type: ignore[arg-type]
        summary.seconds = time.monotonic() - started
        return summary


def _run_row(pipeline: Pipeline, row: ManifestRow, src: Path, counter: CounterConfig, manifest: Path) -> RowResult:
    files = row.paths(src)
    job_id = job_id_for(row, files)
    catalog = pipeline.catalog
    job = catalog.job(job_id)
    if job is not None and job.state == "archived" and job.dossier_code:
        return _archived(catalog, row, job.dossier_code, "already", ())
    sidecar = Sidecar(
        dossier_code=row.dossier_code,
        procedure_code=row.procedure_code,
        owner_id=row.owner_id,
        document_type=row.document_type,
        owner_name=row.owner_name,
        agency_code=row.agency_code,
        kind="result",
        result_number=row.result_number,
        issued_date=row.issued_date.isoformat(),
        valid_until=row.valid_until.isoformat() if row.valid_until else "",
        retention=row.retention,
        access_level=row.access_level,
    )
    detail = {
        "sidecar": sidecar.__dict__,
        "one_document": True,
        "backfill": {"manifest": str(manifest.resolve()), "row": row.number},
    }
    pipeline.submit(files, counter, job_id=job_id, detail=detail)
    if pipeline.config.queue is not None:
        outcome = _queued(pipeline, job_id)
    else:
        outcome = pipeline.run(job_id)
        while outcome.state == "failed":  # not the input's fault: the pipeline counts attempts, then quarantines
            outcome = pipeline.run(job_id)
    if outcome.state != "archived" or not outcome.dossier_code:
        return RowResult(row.number, row.file, "failed", warnings=(outcome.error or outcome.state, *outcome.warnings))
    return _archived(catalog, row, outcome.dossier_code, "archived", outcome.warnings)


def _queued(pipeline: Pipeline, job_id: str) -> JobOutcome:
    """The row's job put in the shared queue (behind every counter dossier) and followed until it settles.

    A job waiting on a workstation fault is reported as such: the workers
    carry it on once the fault is fixed, and the row is found ``already``
    archived by the next run.
    """
    from scanner.queue import enqueue

    catalog = pipeline.catalog
    put = 0.0
    while True:
        job = catalog.job(job_id)
        assert job is not None
        state = JobState(job.state)
        if state.finished or state is JobState.WAITING:
            return JobOutcome(job_id, state, job.dossier_code, error=job.error or None)
        if state in RUNNABLE and time.monotonic() - put > 30:  # in line once; looked at again now and then
            enqueue(pipeline.config, [job])
            put = time.monotonic()
        time.sleep(0.5)


def _archived(
    catalog: Catalog, row: ManifestRow, dossier_code: str, status: str, warnings: tuple[str, ...]
) -> RowResult:
    docs = catalog.documents(dossier_code)
    notes = list(warnings)
    for doc in docs:
        found = disagreements(
            doc.fields, result_number=row.result_number, issued_date=row.issued_date, valid_until=row.valid_until
        )
        notes.extend(d.text_vi("bảng kê") for d in found)
    return RowResult(
        row.number,
        row.file,
        status,
        dossier_code=dossier_code,
        result_code=docs[0].code if docs else "",
        path=docs[0].path if docs else "",
        pages=sum(d.pages for d in docs),
        warnings=tuple(notes),
    )


class LineProgress:
    """Quiet, line-oriented progress for logs and cron mails: one line per row and a periodic total."""

    def __init__(self, stream: io.TextIOBase | None = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.rows = self.pages = self.failures = 0

    def __call__(self, result: RowResult) -> None:
        self.rows += 1
        self.pages += result.pages
        if result.status in ("failed", "invalid"):
            self.failures += 1
        minutes = max(1e-9, (time.monotonic() - self.started) / 60)
        print(
            f"dòng {result.row}: {STATUS_VI[result.status]} {result.result_code} "
            f"({self.rows} dòng, {self.pages} trang, {self.pages / minutes:.1f} trang/phút, {self.failures} lỗi)",
            file=self.stream,
            flush=True,
        )
