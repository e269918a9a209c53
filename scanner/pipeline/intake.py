"""Taking files into jobs: the intake journal, durable moves, opening each file at once, and recovery.

Taking a file: the catalog first notes where the file is going, then the
file is moved (a rename within one file system, else copy, flush, rename,
and only then removal from the inbox), then the note is closed. After a
crash ``recover`` finishes or undoes every half-done take, so a scan is
never lost and never taken twice.

Each file is opened as soon as it is taken (``prepare``), in a child
process with its own memory and time limits (``scanner.capture.judge``), so a
hostile file costs its own job and never the watcher: its pages are
written out and their barcodes read, and a truncated JPEG is in quarantine,
with its reason on the counter's screen, seconds after the scanner wrote
it — not when the dossier closes and the applicant has left.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner import jsonio
from scanner.archive import Catalog, sha256_file
from scanner.capture import quarantine
from scanner.capture.barcodes import Receipt
from scanner.capture.judge import open_isolated, peek_receipt_isolated
from scanner.capture.load import LoadLimits, check_arrival
from scanner.config import Config, CounterConfig
from scanner.errors import InputError, ScannerError
from scanner.files import disk_nearly_full
from scanner.model import SourceFile
from scanner.pipeline.job import (
    JobFolder,
    PreparedSource,
    Sidecar,
    TakeResult,
    copy_durably,
    move_durably,
    read_sidecar,
    safe_suffix,
)
from scanner.pipeline.lock import is_receiving, receiving
from scanner.pipeline.states import JobState

log = logging.getLogger(__name__)


@dataclass
class Intake:
    config: Config
    catalog: Catalog
    now: Callable[[], datetime]

    @property
    def jobs_root(self) -> Path:
        return self.config.job_area / "jobs"

    @property
    def limits(self) -> LoadLimits:
        c = self.config.capture
        return LoadLimits(max_megapixels=c.max_megapixels, max_bytes=int(c.max_file_mb * 1024 * 1024))

    def folder(self, job_id: str) -> JobFolder:
        return JobFolder(self.jobs_root / job_id)

    def _new_id(self) -> str:
        return f"{self.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"

    def new_job(self, counter: CounterConfig, state: str, detail: dict[str, Any], *, empty: bool = False) -> str:
        """A new job folder and its catalog row; EMPTY for a dossier a clerk opens before any file.

        The empty dossier's manifest is written before the catalog knows the
        job: the service's start-up recovery drops a collecting job without
        one as a take cut short, and must not drop a clerk's dossier opened
        in the same instant from another process.
        """
        job_id = self._new_id()
        folder = self.folder(job_id)
        folder.inputs.mkdir(parents=True)
        if empty:
            folder.save_sources([])
        self.catalog.create_job(job_id, counter.name, detail, state=state)
        return job_id

    def submit(
        self,
        inputs: Sequence[Path],
        counter: CounterConfig,
        *,
        job_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> str:
        """Copy INPUTS into a new, closed job of COUNTER (the clerk's own files stay where they are).

        A caller that names the job (backfill: one job per manifest row) can
        submit again after a crash: a job caught while still receiving is
        emptied and filled again.
        """
        detail = {"inputs": [p.name for p in inputs], **(detail or {})}
        journal = job_id is None  # a clerk's files: refused if already taken, and noted so they are not taken twice
        if job_id is None:
            for src in inputs:
                seen = self.catalog.find_intake(sha256_file(src))
                if seen is not None:
                    raise _duplicate(src.name, seen)
            job_id, existing = self._new_id(), None
        else:
            existing = self.catalog.job(job_id)
            if existing is not None and existing.state != JobState.RECEIVING:
                return job_id
        folder = self.folder(job_id)
        # held before the catalog row says "receiving", so a recovery never takes a live copy for a crashed one
        with receiving(folder.root):
            for leftover in folder.root.iterdir():  # a resubmission after a crash starts afresh
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            folder.inputs.mkdir()
            if existing is None:
                self.catalog.create_job(job_id, counter.name, detail, state=JobState.RECEIVING)
            sources: list[SourceFile] = []
            for src in inputs:
                dest = folder.inputs / f"{len(sources) + 1:03d}{safe_suffix(src)}"
                copy_durably(src, dest)
                sources.append(SourceFile(dest, src.name, sha256_file(dest), dest.stat().st_size))
                if journal:
                    # no origin: recovery must never remove the clerk's own file, which `submit` only copies
                    note = self.catalog.intake_begin(sources[-1].sha256, job_id, counter.name, src.name, "", str(dest))
                    assert note is not None  # noted whatever the job's state (not `while_open`)
                    self.catalog.intake_done(note)
            folder.save_sources(sources)
            self.catalog.set_job_state(job_id, JobState.RECEIVED)
        return job_id

    def refuse(self, path: Path, counter: CounterConfig, exc: InputError) -> TakeResult:
        """Quarantine a file from COUNTER's inbox with its reason, and say so where the counter sees it."""
        held = quarantine.put(self.config.job_area, path, path.name, exc, now=self.now(), counter=counter.name)
        self.catalog.record_event("quarantine", f"{counter.name}/{path.name}", exc.code, exc.message_vi)
        log.warning("%s — đã cách ly: %s", exc.message_vi, held)
        if path.is_symlink():
            path.unlink()
        return TakeResult(None, message=exc.message_vi)

    def take(self, path: Path, counter: CounterConfig) -> tuple[TakeResult, int | None]:
        """Take one settled file from COUNTER's inbox into the counter's open dossier.

        Returns the take and the new input's number in its job. Broken or
        refused files go to quarantine with their reason; content already
        taken (same SHA-256) is not processed twice: the duplicate is
        quarantined with the code of the dossier that holds it.
        """
        try:
            check_arrival(path, self.limits)
            sha = sha256_file(path)
            seen = self.catalog.find_intake(sha)
            if seen is not None:
                raise _duplicate(path.name, seen)
            sidecar_path = path.with_name(path.name + ".json")
            sidecar = read_sidecar(sidecar_path)
        except InputError as exc:
            return self.refuse(path, counter, exc), None

        receipt = self.peek_receipt(path)
        starts_dossier = receipt is not None or bool(sidecar and sidecar.dossier_code)
        closed: list[str] = []
        one_file_dossiers = self.config.capture.dossier_idle_seconds == 0
        index: int | None = None
        while index is None:  # again only if the clerk closed the chosen dossier (another process) meanwhile
            open_job = self.catalog.open_job(counter.name)
            if open_job is not None and (starts_dossier or one_file_dossiers):
                self.catalog.set_job_state(open_job.id, JobState.RECEIVED)
                closed.append(open_job.id)
                open_job = None
            job_id = open_job.id if open_job is not None else self.new_job(counter, JobState.COLLECTING, {})
            index = self.move_in(
                job_id, path, counter, sha, sidecar_path if sidecar else None, receipt=receipt, sidecar=sidecar
            )
        if one_file_dossiers:
            self.catalog.set_job_state(job_id, JobState.RECEIVED)
            closed.append(job_id)
        return TakeResult(job_id, tuple(closed)), index

    def peek_receipt(self, path: Path) -> Receipt | None:
        """The receipt QR on the file's first page, read in a bounded child: the watcher never decodes a file."""
        return peek_receipt_isolated(path, self.limits)

    def move_in(
        self,
        job_id: str,
        path: Path,
        counter: CounterConfig,
        sha: str,
        sidecar_path: Path | None,
        *,
        receipt: Receipt | None,
        sidecar: Sidecar | None,
    ) -> int | None:
        """Move a settled scan into the open dossier JOB_ID; None if that dossier is no longer open.

        The note comes first and only while the dossier still collects: a
        clerk closing it from another process at this moment either made us
        choose another dossier or finds the note, and its run waits for the
        scan (``taking_into``) instead of giving up a dossier it reads empty.
        """
        folder = self.folder(job_id)
        sources = folder.sources()
        index = _next_index(sources)
        dest = folder.inputs / f"{index:03d}{safe_suffix(path)}"
        intake = self.catalog.intake_begin(sha, job_id, counter.name, path.name, str(path), str(dest), while_open=True)
        if intake is None:
            return None
        if sidecar is not None:
            self.catalog.update_job_detail(job_id, sidecar=sidecar.__dict__)
        if receipt is not None:
            self.catalog.update_job_detail(job_id, receipt_code=receipt.dossier_code)
        size = path.stat().st_size
        try:
            move_durably(path, dest)
        except Exception:  # the file is still whole in the inbox: the take is undone and tried again later
            self.catalog.intake_drop(intake)
            raise
        sources.append(SourceFile(dest, path.name, sha, size))
        folder.save_sources(sources)
        if sidecar_path is not None:
            move_durably(sidecar_path, folder.root / f"{dest.stem}.sidecar.json")
        self.catalog.intake_done(intake)
        return index

    def add_file(self, job_id: str, path: Path, counter: CounterConfig) -> int:
        """Copy a file the clerk picked (a rescanned page) into JOB_ID; the clerk's file stays where it is."""
        check_arrival(path, self.limits)
        folder = self.folder(job_id)
        sources = folder.sources()
        index = _next_index(sources)
        dest = folder.inputs / f"{index:03d}{safe_suffix(path)}"
        copy_durably(path, dest)
        sources.append(SourceFile(dest, path.name, sha256_file(dest), dest.stat().st_size))
        folder.save_sources(sources)
        return index

    def prepare(self, job_id: str, index: int, counter: str) -> PreparedSource | None:
        """Open input INDEX of JOB_ID: write its pages, read their barcodes, note a signature.

        A file that cannot be opened goes to quarantine now, with its reason
        recorded where the counter's status shows it; None is returned.
        """
        folder = self.folder(job_id)
        done = folder.load_prepared(index)
        if done is not None:
            return done
        src = next((s for s in folder.sources() if s.path.name.startswith(f"{index:03d}")), None)
        if src is None or not src.path.exists():
            return None
        try:
            opened = open_isolated(src, folder.pages, self.limits)  # in a child with its own memory and time limits
        except InputError as exc:
            if (fault := disk_nearly_full(folder.root)) is not None:
                raise fault from None  # a page that could not be written is the disk's fault, not the scan's
            self.reject(job_id, src, exc, counter)
            return None
        prepared = PreparedSource(index=index, pages=opened.pages, codes=opened.codes, signed=opened.signed)
        folder.prepared.mkdir(parents=True, exist_ok=True)
        jsonio.save(folder.prepared_at(index), prepared)
        return prepared

    def reject(self, job_id: str, src: SourceFile, exc: ScannerError, counter: str) -> Path:
        """Move one input of a job to quarantine and drop it from the job; the rest of the dossier goes on.

        The file is moved first and dropped from the job's list after, so a
        crash in between leaves an entry whose file is gone, which ``recover``
        drops: the file is in quarantine exactly once.
        """
        folder = self.folder(job_id)
        where = quarantine.put(self.config.job_area, src.path, src.original_name, exc, now=self.now(), counter=counter)
        folder.save_sources([s for s in folder.sources() if s.path != src.path])
        note = f"{exc.message_vi} — đã chuyển vào khu cách ly: {where}"
        folder.save_rejected([*folder.rejected(), note])  # told again in the dossier's warnings
        self.catalog.record_event("quarantine", f"{counter}/{src.original_name}", exc.code, exc.message_vi)
        log.warning("%s", note)
        return where

    def recover(self) -> None:
        """Settle the takes a crash left half-done, and drop inputs already moved to quarantine.

        A take caught mid-move either has its file complete in the work area
        (the take is finished: the inbox copy, if still there, is removed) or
        still in the inbox (the note is dropped and the file is taken again).
        """
        for row in self.catalog.intakes_in_progress():
            origin, dest = Path(row.origin), Path(row.stored_as)
            folder = JobFolder(dest.parent.parent)
            sources = folder.sources()
            if dest.exists():
                if all(s.path != dest for s in sources):
                    sources.append(SourceFile(dest, row.original_name, row.sha256, dest.stat().st_size))
                    folder.save_sources(sources)
                if row.origin:
                    origin.unlink(missing_ok=True)
                self.catalog.intake_done(row.id)
            else:
                dest.with_name(dest.name + ".part").unlink(missing_ok=True)
                self.catalog.intake_drop(row.id)
        for job in self.catalog.jobs(states=(JobState.RECEIVING,)):
            if is_receiving(self.jobs_root / job.id):
                continue  # a live `submit` in another process (a clerk's `process` while the service starts)
            # `submit` copies; the clerk's files were never touched, so the job is simply dropped.
            shutil.rmtree(self.jobs_root / job.id, ignore_errors=True)
            self.catalog.set_job_state(job.id, JobState.ABANDONED, error="bị gián đoạn khi sao chép tệp đầu vào")
        for job in self.catalog.jobs(states=(JobState.COLLECTING,)):
            folder = self.folder(job.id)
            if not folder.manifest.exists():
                shutil.rmtree(folder.root, ignore_errors=True)
                self.catalog.set_job_state(job.id, JobState.ABANDONED, error="chưa nhận được tệp nào")
                continue
            sources = folder.sources()
            kept = [s for s in sources if s.path.exists()]
            if len(kept) != len(sources):
                folder.save_sources(kept)  # moved to quarantine just before the crash


def input_index(src: SourceFile) -> int:
    return int(src.path.name[:3])


def _next_index(sources: list[SourceFile]) -> int:
    return max((input_index(s) for s in sources), default=0) + 1


def _duplicate(name: str, seen: tuple[str, str | None]) -> InputError:
    where = f"hồ sơ {seen[1]}" if seen[1] else f"công việc {seen[0]}"
    return InputError(
        name,
        f"nội dung này đã được nhận trước đó ({where}); không xử lý lại",
        f"same content already taken ({seen[1] or seen[0]})",
        code="duplicate",
    )
