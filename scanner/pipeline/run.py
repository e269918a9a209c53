"""The orchestrator: carries each job through its steps and alone owns the job's state.

    take → open (at once) → clean+ocr (page pool, at once) … close →
    capture → recognize → extract → code → [review] → build → sign → file

A job is one dossier: a folder in the work area plus a row in the catalog.
Each step saves its result in the folder (atomically) before the job's state
moves on, so a restarted service resumes a job at its first unfinished step:
pages already recognized are not recognized again, a dossier code once
issued is kept, a dossier is filed exactly once.

The dossier code is issued before the clerk's review, so the clerk sees it
(and can print the slip) while checking; the PDF is built after the review,
so its XMP carries the confirmed fields.

Faults: an input that cannot be digitized goes to quarantine with its reason
and the rest of the dossier goes on; a fault of the workstation (a program
missing, the disk full, the key absent) parks the job as ``waiting`` — it is
retried while the service runs and never pinned on the citizen's file; any
other failure counts an attempt, and after ``max_attempts`` the inputs go to
quarantine with the reason.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from scanner import codes, jsonio
from scanner.archive import Catalog
from scanner.archive.audit_anchor import maybe_checkpoint
from scanner.capture.group import DroppedPage, GroupRules, is_blank
from scanner.clean import CleanOptions
from scanner.config import Config, CounterConfig, SigningConfig
from scanner.errors import (
    FaultKind,
    InputError,
    OcrError,
    ScannerError,
    SigningError,
    WorkstationError,
    workstation_fault,
)
from scanner.extract import DocumentFields, extract_fields
from scanner.files import disk_nearly_full
from scanner.model import PageImage, PdfMetadata, PdfPage, SignedPdf, SourceFile
from scanner.ocr import OcrOptions
from scanner.pdf import build_pdfa
from scanner.pipeline import filing
from scanner.pipeline.intake import Intake, input_index
from scanner.pipeline.job import (
    Capture,
    CapturedDocument,
    Edits,
    JobFolder,
    JobOutcome,
    PageResult,
    PreparedSource,
    Sidecar,
    TakeResult,
)
from scanner.pipeline.layout import Layout, layout, without_pages
from scanner.pipeline.pages import PageQueue
from scanner.pipeline.states import LINE, RUNNABLE, JobState
from scanner.sign import TokenKey, VisibleMark, certificate_warning, open_identity, sign_pdf, verify_pdf

log = logging.getLogger(__name__)


def make_pool(processes: int) -> ProcessPoolExecutor:
    """Workers for page work; started by forkserver so the watcher's threads are never forked."""
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("forkserver"))


@dataclass
class JobContext:
    """What every step of one run needs to know about its job."""

    job_id: str
    folder: JobFolder
    counter: CounterConfig
    sidecar: Sidecar
    one_document: bool
    backfill: bool
    warnings: list[str] = field(default_factory=list)


class WaitForClerk(Exception):
    """The run stops here: the dossier waits for the clerk's review."""


class PagesInProgress(Exception):
    """The run stops here for now: some pages are still being recognized in the pool."""


@dataclass
class Pipeline:
    config: Config
    catalog: Catalog
    pool: Executor | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())

    def __post_init__(self) -> None:
        self.intake = Intake(self.config, self.catalog, lambda: self.now())
        pdfa = self.config.pdfa
        kept = {pdfa.image_storage, *pdfa.storage_by_agency.values()}
        self.queue = PageQueue(lambda: self.pool, code_ahead="compact" in kept)

    @property
    def jobs_root(self) -> Path:
        return self.intake.jobs_root

    @property
    def rules(self) -> GroupRules:
        c = self.config.capture
        return GroupRules(separator_text=c.separator_text, keep_receipt=c.keep_receipt, blank_ink=c.blank_ink)

    @property
    def clean_options(self) -> CleanOptions:
        return CleanOptions(**vars(self.config.clean))

    @property
    def ocr_options(self) -> OcrOptions:
        ocr = self.config.ocr
        return OcrOptions(languages=ocr.languages, timeout_seconds=ocr.timeout_seconds, correct_marks=ocr.correct_marks)

    def folder(self, job_id: str) -> JobFolder:
        return self.intake.folder(job_id)

    def _new_job(self, counter: CounterConfig, state: str, detail: dict[str, Any]) -> str:
        return self.intake.new_job(counter, state, detail)

    # --- intake -------------------------------------------------------------------------------

    def submit(
        self,
        inputs: Sequence[Path],
        counter: CounterConfig,
        *,
        job_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> str:
        return self.intake.submit(inputs, counter, job_id=job_id, detail=detail)

    def take(self, path: Path, counter: CounterConfig) -> TakeResult:
        """Take a settled file into the counter's open dossier, open it and start recognizing its pages.

        With the shared queue a counter PC only takes: a worker opens the file
        (and quarantines a broken one) and reads its pages (``scanner.queue.read_input``).
        """
        result, index = self.intake.take(path, counter)
        if result.job_id is not None and index is not None and self.config.queue is None:
            self.open_input(result.job_id, index, counter.name)
        return replace(result, index=index)

    def open_input(self, job_id: str, index: int, counter: str) -> PreparedSource | None:
        """Open one input now (a bad file is quarantined at once) and send its pages to the pool."""
        try:
            prepared = self.intake.prepare(job_id, index, counter)
        except ScannerError as exc:  # not the file's fault, or not yet sure: the run opens it again and decides
            log.warning("chưa mở được tệp số %d của công việc %s: %s", index, job_id, exc)
            return None
        if prepared is not None:
            folder = self.folder(job_id)
            for page in prepared.pages:
                self.queue.start(folder, page, self.clean_options, self.ocr_options)
        return prepared

    def close(self, job_id: str) -> None:
        """Close an open dossier: the clerk said so, a receipt started the next one, or it sat idle."""
        self._move(job_id, JobState.RECEIVED)

    def close_idle(self) -> list[str]:
        """Close the open dossiers that received nothing for ``dossier_idle_seconds``."""
        cutoff = (self.now() - timedelta(seconds=self.config.capture.dossier_idle_seconds)).isoformat(
            timespec="seconds"
        )
        closed = []
        for job in self.catalog.idle_open_jobs(cutoff):
            self.close(job.id)
            closed.append(job.id)
        return closed

    def pending(self) -> list[str]:
        """Jobs the service carries forward on its own, oldest first."""
        return [j.id for j in reversed(self.catalog.jobs(states=RUNNABLE))]

    def retry_waiting(self) -> list[str]:
        """Put parked jobs back in line while the service runs, without waiting for a restart.

        A job waiting on a workstation fault goes back each time (the fault may
        be fixed by now); a job whose attempt failed goes back after a pause that
        grows with its attempts (30 s, 60 s, …) until ``max_attempts`` is spent.
        """
        now = self.now()
        jobs = [j.id for j in self.catalog.jobs(states=(JobState.WAITING,))]
        for job in self.catalog.jobs(states=(JobState.FAILED,)):
            try:
                idle = (now - datetime.fromisoformat(job.updated)).total_seconds()
            except (TypeError, ValueError):
                idle = float("inf")
            if job.attempts < self.config.capture.max_attempts and idle >= 30 * max(1, job.attempts):
                jobs.append(job.id)
        for job_id in jobs:
            self._move(job_id, JobState.RECEIVED)
        return jobs

    def anchor_audit(self) -> None:
        """Sign a checkpoint of the audit chain's head when enough is new (see ``archive.audit_anchor``).

        Never fails a filing: a key that cannot be opened now, a time-stamping
        service that is down, or another process taking the same checkpoint
        number is logged, and the next filing or the service's idle loop tries again.
        """
        try:
            maybe_checkpoint(self.catalog, self.config)
        except ScannerError as exc:
            log.warning("chưa ký được điểm neo nhật ký kiểm toán: %s", exc.message_vi)

    # --- restart ------------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Settle what a crash left half-done; return the jobs to carry on, oldest first."""
        self.intake.recover()
        for job in self.catalog.jobs(states=(JobState.COLLECTING,)):
            for src in self.folder(job.id).sources():
                self.open_input(job.id, input_index(src), job.counter)
        retry = [
            j.id for j in self.catalog.jobs(states=(JobState.FAILED,)) if j.attempts < self.config.capture.max_attempts
        ]
        for job_id in retry:
            self._move(job_id, JobState.RECEIVED)
        self.retry_waiting()
        return self.pending()

    # --- state ---------------------------------------------------------------------------------

    def _state(self, job_id: str) -> JobState:
        job = self.catalog.job(job_id)
        if job is None:
            raise ScannerError(f"không có công việc {job_id}", f"no job {job_id}", code="not-found")
        return JobState(job.state)

    def _move(self, job_id: str, to: JobState, *, error: str | None = None) -> None:
        """Record the job's new state.

        Along the main line a job only moves forward (a resumed run finds some
        results saved and skips their states; walking its steps again never
        moves it back); every other move must be one ``JobState`` allows.
        """
        now = self._state(job_id)
        if now == to:
            return
        if now in LINE and to in LINE and to is not JobState.RECEIVED:
            if LINE.index(to) < LINE.index(now):
                return
        elif not now.can_go(to):
            raise ScannerError(
                f"công việc {job_id}: không thể chuyển từ '{now.label_vi}' sang '{to.label_vi}'",
                f"job {job_id}: no move from {now} to {to}",
                code="bad-state",
            )
        self.catalog.set_job_state(job_id, to, error=error)

    # --- the run ------------------------------------------------------------------------------

    def context(self, job_id: str) -> JobContext:
        job = self.catalog.job(job_id)
        if job is None:
            raise ScannerError(f"không có công việc {job_id}", f"no job {job_id}", code="not-found")
        sidecar = Sidecar(**job.detail.get("sidecar", {}))
        return JobContext(
            job_id=job_id,
            folder=self.folder(job_id),
            counter=self.config.counter(job.counter),
            sidecar=sidecar,
            one_document=bool(job.detail.get("one_document")),
            backfill=is_backfill(job.detail),
        )

    def run(self, job_id: str, *, wait: bool = True) -> JobOutcome:
        """Carry JOB_ID through every step not yet done; bad input never raises.

        Stops at ``reviewing`` when the clerk must look first. With WAIT false
        (the service) a dossier whose pages are still in the worker pool is
        left for a later round instead of being waited for: one big dossier
        must not keep the service from taking the other counters' scans.
        ``outcome.ready`` is then False and nothing was changed.
        """
        state = self._state(job_id)
        if state.finished or state is JobState.COLLECTING:  # nothing to carry on (filed, given up, still open)
            job = self.catalog.job(job_id)
            return JobOutcome(job_id, state, job.dossier_code if job else None, error=job.error if job else None)
        if state is JobState.RECEIVED and self.catalog.taking_into(job_id):
            # closed by the clerk while a scan is moving in (a province's worker runs it on another machine)
            return JobOutcome(job_id, state, ready=False)
        folder = self.folder(job_id)
        if state is JobState.RECEIVED and not folder.sources() and not folder.rejected():
            # closed before any file came (the clerk's close): judged by the run, not by the closing process,
            # which could read the manifest a moment before a take wrote it and lose that scan
            error = "đóng khi chưa có trang nào"
            self._move(job_id, JobState.ABANDONED, error=error)
            return JobOutcome(job_id, JobState.ABANDONED, error=error)
        ctx = self.context(job_id)
        if state in (JobState.FAILED, JobState.WAITING):
            self._move(job_id, JobState.RECEIVED)  # asked to run again: this is the next attempt
        try:
            capture = self.capture(ctx)
            results, capture = self.recognize(ctx, capture, wait=wait)
            if not capture.documents:
                return self._give_up(ctx, "; ".join(ctx.warnings) or "không có trang nào để lưu")
            fields = self.extract(ctx, results)
            dossier_code, receipt_day = self.code(ctx, capture)
            edits = ctx.folder.edits()
            self.review_gate(ctx, fields, edits)
            built = self.build(ctx, capture, results, fields, edits, dossier_code)
            signed = self.sign(ctx, built)
            outcome = filing.file_dossier(
                self.config,
                self.catalog,
                ctx,
                capture,
                results,
                fields,
                edits,
                signed,
                dossier_code=dossier_code,
                receipt_day=receipt_day,
            )
            self._move(job_id, JobState.ARCHIVED)
            shutil.rmtree(ctx.folder.root, ignore_errors=True)
            self.anchor_audit()
            return outcome
        except PagesInProgress:
            return JobOutcome(job_id, self._state(job_id), ready=False)
        except WaitForClerk:
            job = self.catalog.job(job_id)
            return JobOutcome(
                job_id, JobState.REVIEWING, job.dossier_code if job else None, warnings=tuple(ctx.warnings)
            )
        except ScannerError as exc:
            return self._failed(ctx, exc)
        except OSError as exc:
            fault = workstation_fault(exc)  # a full disk is the machine's, not the scan's
            if fault is None:
                log.exception("lỗi đọc/ghi ở công việc %s", job_id)
            return self._failed(ctx, fault or ScannerError(f"lỗi đọc/ghi: {exc}", f"I/O error: {exc}"))
        except BrokenProcessPool:
            # a page worker died (killed for memory, crashed in the recognizer): new workers, and the job
            # is tried again like any failure that is not the input's fault
            log.exception("tiến trình nhận dạng bị dừng đột ngột ở công việc %s", job_id)
            self.queue.forget()
            if isinstance(self.pool, ProcessPoolExecutor):
                self.pool = make_pool(self.config.processes)
            return self._failed(ctx, OcrError("tiến trình nhận dạng bị dừng đột ngột", "a page worker died"))
        except Exception as exc:  # a surprise from a library must not stop the counter: retried, then parked
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                # the catalog's server went away (a network drop, a restart): the machine's fault, not the scan's;
                # the connection is made again on its next use. No driver text: it may name the server's address.
                lost = WorkstationError(FaultKind.CATALOG_UNAVAILABLE, "mất kết nối tới sổ danh mục",
                                        "the connection to the catalog was lost")  # fmt: skip
                return self._failed(ctx, lost)
            log.exception("lỗi không lường trước ở công việc %s", job_id)
            return self._failed(ctx, ScannerError(f"lỗi nội bộ: {exc}", f"internal error: {exc}"))

    def _failed(self, ctx: JobContext, exc: ScannerError) -> JobOutcome:
        """Park a workstation fault; otherwise count the attempt and, after ``max_attempts``, quarantine.

        A stage that could not write (the PDF builder, the signer) reports it in
        its own words; with the work area's disk nearly full that is the disk's
        fault whatever the words, and the job waits instead of losing an attempt.
        """
        exc = disk_nearly_full(ctx.folder.root) or exc
        if _is_workstation_fault(exc):
            log.error("công việc %s chờ khắc phục sự cố máy trạm: %s", ctx.job_id, exc)
            kind = str(getattr(exc, "kind", exc.code))
            self.catalog.record_event("workstation", ctx.counter.name, kind, exc.message_vi)
            self._move(ctx.job_id, JobState.WAITING, error=exc.message_vi)
            return JobOutcome(ctx.job_id, JobState.WAITING, error=str(exc))
        attempts = self.catalog.count_attempt(ctx.job_id)
        log.error("công việc %s lỗi (lần %d): %s", ctx.job_id, attempts, exc)
        if attempts >= self.config.capture.max_attempts:
            return self._give_up(ctx, str(exc), error=exc)
        self._move(ctx.job_id, JobState.FAILED, error=str(exc))
        return JobOutcome(ctx.job_id, JobState.FAILED, error=str(exc))

    def _give_up(self, ctx: JobContext, reason: str, *, error: ScannerError | None = None) -> JobOutcome:
        """End a job that cannot produce a dossier; every input still in it goes to quarantine now."""
        error = error or InputError("hồ sơ", reason, code="no-pages")
        for src in ctx.folder.sources():
            if src.path.exists():
                self.intake.reject(ctx.job_id, src, error, ctx.counter.name)
        self._move(ctx.job_id, JobState.QUARANTINED, error=reason)
        shutil.rmtree(ctx.folder.root, ignore_errors=True)
        return JobOutcome(ctx.job_id, JobState.QUARANTINED, warnings=tuple(ctx.warnings), error=reason)

    # --- the steps ----------------------------------------------------------------------------

    def layout(self, ctx: JobContext, *, open_missing: bool = True) -> Layout:
        """The dossier's documents now: every opened input, grouped, with the clerk's edits replayed.

        OPEN_MISSING false (a screen looking at the dossier) leaves out inputs
        not opened yet: only the service opens, and so judges, a citizen's file.
        """
        sources = ctx.folder.sources()
        prepared: list[tuple[SourceFile, PreparedSource]] = []
        for src in sources:
            index = input_index(src)
            if open_missing:
                prep = self.intake.prepare(ctx.job_id, index, ctx.counter.name)
            else:
                prep = ctx.folder.load_prepared(index)
            if prep is not None and not (ctx.folder.root / f"{src.path.name[:3]}.replacement").exists():
                prepared.append((src, prep))
        by_number = {src.path.name[:3]: src for src in sources}
        extra: dict[str, tuple[SourceFile, PageImage]] = {}
        for page_file in sorted(ctx.folder.pages.glob("*.page.json")):
            page = jsonio.load(page_file, PageImage)
            owner = by_number.get(page_file.name[:3])
            if page is not None and owner is not None:
                extra[page.path.stem] = (owner, page)
        return layout(prepared, ctx.folder.edits(), self.rules, one_document=ctx.one_document, extra=extra)

    def capture(self, ctx: JobContext) -> Capture:
        """Group the dossier's pages into documents (once; again after the clerk edits them)."""
        done: Capture | None = jsonio.load(ctx.folder.capture_file, Capture)
        if done is not None:
            ctx.warnings.extend(done.warnings)
            return done
        laid = self.layout(ctx)
        notes = [self._signed_input_note(src) for src in laid.capture.signed_sources]
        rejected = ctx.folder.rejected()
        capture = replace(laid.capture, warnings=(*rejected, *laid.capture.warnings, *notes))
        jsonio.save(ctx.folder.root / "pinned.json", sorted(laid.pinned))
        jsonio.save(ctx.folder.capture_file, capture)
        ctx.warnings.extend(capture.warnings)
        self._move(ctx.job_id, JobState.CAPTURED)
        return capture

    def _signed_input_note(self, src: SourceFile) -> str:
        """Tell the clerk what the signature of an incoming signed PDF is worth; it is kept as it is."""
        reports = verify_pdf(src.path, self.config.signing.trust_roots)
        items = reports if isinstance(reports, list) else [reports]
        states = []
        for r in items:
            if not r.signed:
                continue
            if r.intact and r.valid:
                states.append(f"chữ ký của {r.signer or 'không rõ'} còn nguyên vẹn")
            else:
                states.append(f"chữ ký của {r.signer or 'không rõ'} KHÔNG hợp lệ (tệp đã bị sửa sau khi ký)")
        detail = "; ".join(states) or "không kiểm tra được chữ ký"
        return f"{src.original_name}: PDF đã có chữ ký số — giữ nguyên bản gốc trong hồ sơ; {detail}"

    def recognize(
        self, ctx: JobContext, capture: Capture, *, wait: bool = True
    ) -> tuple[list[list[PageResult]], Capture]:
        """Every page cleaned and read (most already were, at take); confirmed blank backsides dropped.

        An input none of whose pages is kept, because each is blank, goes to
        quarantine with that reason: a file is never silently left out.
        """
        pinned = set(jsonio.load(ctx.folder.root / "pinned.json", list[str]) or [])
        clean, ocr = self.clean_options, self.ocr_options
        pages = [page for doc in capture.documents for page in doc.pages]
        sent = {p.path.stem: self.queue.start(ctx.folder, p, _turned(clean, p, pinned), ocr) for p in pages}
        if not wait and any(f is not None and not f.done() for f in sent.values()):
            raise PagesInProgress
        results = {
            p.path.stem: self.queue.result(ctx.folder, p, _turned(clean, p, pinned), ocr, sent[p.path.stem])
            for p in pages
        }
        keep: set[str] = set()
        dropped: list[DroppedPage] = []
        kept_by_source: dict[Path, int] = {}
        blank_by_source: dict[Path, list[str]] = {}
        for doc in capture.documents:
            for page in doc.pages:
                r = results[page.path.stem]
                src = _source_of(doc, page)
                if is_blank(r.cleaned.ink, r.ocr.text, self.rules):
                    dropped.append(DroppedPage(page.source, "blank", "trang trắng (mặt sau)"))
                    if src is not None:
                        blank_by_source.setdefault(src.path, []).append(page.source)
                    continue
                keep.add(page.path.stem)
                if src is not None:
                    kept_by_source[src.path] = kept_by_source.get(src.path, 0) + 1
        final = without_pages(capture, keep, dropped)
        for doc in capture.documents:
            for src in doc.sources:
                if src.path in blank_by_source and not kept_by_source.get(src.path) and src.path.exists():
                    exc = InputError(
                        src.original_name,
                        "mọi trang của tệp đều trắng, không có trang nào để lưu",
                        "every page of the file is blank",
                        code="blank",
                    )
                    self.intake.reject(ctx.job_id, src, exc, ctx.counter.name)
                    ctx.warnings.append(ctx.folder.rejected()[-1])
        ctx.warnings.extend(f"{d.source}: đã bỏ {d.reason_vi}" for d in dropped)
        self._move(ctx.job_id, JobState.RECOGNIZED)
        ordered = [[results[p.path.stem] for p in doc.pages] for doc in final.documents]
        return ordered, final

    def extract(self, ctx: JobContext, results: list[list[PageResult]]) -> list[DocumentFields]:
        """The fields printed on each document's first page (Phụ lục VI), saved with the job."""
        done: list[DocumentFields] | None = jsonio.load(ctx.folder.fields_file, list[DocumentFields])
        if done is not None and len(done) == len(results):
            return done
        fields = [extract_fields(pages[0].ocr) if pages else DocumentFields() for pages in results]
        jsonio.save(ctx.folder.fields_file, fields)
        self._move(ctx.job_id, JobState.EXTRACTED)
        return fields

    def code(self, ctx: JobContext, capture: Capture) -> tuple[str, date]:
        """The dossier code: the receipt's (or the sidecar's) when it has one, else the next daily number."""
        sidecar, counter = ctx.sidecar, ctx.counter
        given = sidecar.dossier_code or (capture.receipt.dossier_code if capture.receipt else "")
        if given:
            parsed = codes.parse_dossier_code(given)
            day = parsed[1] if parsed else self.now().date()
            if parsed and self.catalog.claim_dossier_code(ctx.job_id, given, day):
                self._move(ctx.job_id, JobState.CODED)
                return given, day
            ctx.warnings.append(f"mã hồ sơ {given} trên giấy tiếp nhận đã có trong kho; hồ sơ này được cấp mã mới")
        # a backfilled result is numbered on the day it was issued, as it would have been then
        day = date.fromisoformat(sidecar.issued_date) if sidecar.issued_date else self.now().date()
        code = self.catalog.issue_dossier_code(
            ctx.job_id, sidecar.agency_code or counter.agency_code, day, codes.dossier_code
        )
        self._move(ctx.job_id, JobState.CODED)
        job = self.catalog.job(ctx.job_id)
        receipt_day = date.fromisoformat(job.receipt_date) if job and job.receipt_date else day
        return code, receipt_day

    def review_gate(self, ctx: JobContext, fields: list[DocumentFields], edits: Edits) -> None:
        """Stop for the clerk when the configuration asks for it and the clerk has not confirmed yet."""
        if edits.confirmed_by or ctx.backfill:
            return
        mode = self.config.review.mode
        flagged = any(set(f.review) - set(edits.fields(i + 1)) for i, f in enumerate(fields))
        if mode == "always" or (mode == "flagged" and flagged):
            self._move(ctx.job_id, JobState.REVIEWING)
            raise WaitForClerk

    def build(
        self,
        ctx: JobContext,
        capture: Capture,
        results: list[list[PageResult]],
        fields: list[DocumentFields],
        edits: Edits,
        dossier_code: str,
    ) -> list[Path]:
        out: list[Path] = []
        counter, sidecar = ctx.counter, ctx.sidecar
        procedure, owner = filing.procedure_and_owner(ctx, capture)
        for d, (doc, pages) in enumerate(zip(capture.documents, results, strict=True)):
            code = (codes.result_code if sidecar.kind == "result" else codes.document_code)(dossier_code, d + 1)
            target = ctx.folder.pdf / f"{code}.pdf"
            if not target.exists():
                values = filing.document_values(fields[d], edits.fields(d + 1), sidecar)
                meta = PdfMetadata(
                    title=filing.title_of(doc, pages, values, sidecar),
                    creator=counter.agency_name,
                    subject=f"Hồ sơ {dossier_code}",
                    keywords=(dossier_code, code),
                    created=self.now(),
                    properties={
                        k: v
                        for k, v in {
                            "dossier_code": dossier_code,
                            "document_code": code,
                            "agency_code": sidecar.agency_code or counter.agency_code,
                            "procedure_code": procedure,
                            "owner_id": owner,
                            **{f"field_{k}": v for k, v in values.items()},
                        }.items()
                        if v
                    },
                )
                ctx.folder.pdf.mkdir(parents=True, exist_ok=True)
                self.queue.await_coding([r.cleaned.image for r in pages])
                build_pdfa(
                    [PdfPage(image=r.cleaned.image, ocr=r.ocr) for r in pages],
                    target,
                    flavour=self.config.pdfa.flavour,
                    metadata=meta,
                    storage=self.config.pdfa.storage_for(sidecar.agency_code or counter.agency_code),
                )
            out.append(target)
        self._move(ctx.job_id, JobState.BUILT)
        return out

    def sign(self, ctx: JobContext, built: list[Path]) -> list[SignedPdf]:
        """Sign each PDF with the agency's key; who signed and when is taken from the signature itself."""
        signing = self.config.signing
        mark = VisibleMark(text=signing.mark_text, agency=signing.mark_agency or ctx.counter.agency_name)
        out: list[SignedPdf] = []
        todo = []
        for pdf in built:
            target = ctx.folder.signed / pdf.name
            done = jsonio.load(target.with_suffix(".json"), SignedPdf) if target.exists() else None
            todo.append((pdf, target, done))
        if any(done is None for _, _, done in todo):
            ctx.folder.signed.mkdir(parents=True, exist_ok=True)
            with open_identity(**_signing_key(signing)) as identity:  # the key opened once for the dossier
                for pdf, target, done in todo:
                    if done is None:
                        done = sign_pdf(
                            pdf,
                            target,
                            identity=identity,
                            level=signing.level,
                            tsa_url=signing.tsa_url,
                            trust_roots=signing.trust_roots,
                            mark=mark if signing.visible else None,
                            reason=signing.reason,
                            location=signing.location,
                        )
                        jsonio.save(target.with_suffix(".json"), done)
                    out.append(done)
                if warning := certificate_warning(cert=identity[1]):
                    ctx.warnings.append(warning)  # told once per dossier, weeks before the certificate stops signing
        else:
            out = [done for _, _, done in todo if done is not None]
        self._move(ctx.job_id, JobState.SIGNED)
        return out


def is_backfill(detail: dict[str, Any]) -> bool:
    """A backfilled result (a manifest row), not a counter's dossier: never waits for review, yields to counters."""
    return Sidecar(**detail.get("sidecar", {})).kind == "result" or bool(detail.get("one_document"))


def _turned(clean: CleanOptions, page: PageImage, pinned: set[str]) -> CleanOptions:
    """A page the clerk turned by hand keeps the clerk's orientation."""
    return replace(clean, orientation=False) if page.path.stem in pinned else clean


def _source_of(doc: CapturedDocument, page: PageImage) -> SourceFile | None:
    name = page.source.split("#", 1)[0]
    return next((s for s in doc.sources if s.original_name == name), doc.sources[0] if doc.sources else None)


def _is_workstation_fault(exc: ScannerError) -> bool:
    """A fault of this machine, never of the citizen's file: parked and retried, no attempt counted.

    Signing is one: we sign our own PDF/A, so an absent token, a wrong
    password or an unreachable time-stamping service is the workstation's.
    """
    return isinstance(exc, WorkstationError | SigningError)


def _signing_key(signing: SigningConfig) -> dict[str, Any]:
    """The key arguments of ``sign_pdf``: the token when one is configured, else the PKCS#12 file."""
    if signing.pkcs11_module is not None:
        token = TokenKey(
            module=signing.pkcs11_module,
            token_label=signing.token_label,
            pin=signing.pin(),
            key_id=signing.key_id,
            key_label=signing.key_label,
        )
        return {"token": token}
    if signing.pkcs12 is None:
        raise WorkstationError(
            FaultKind.KEY_UNAVAILABLE,
            "chưa cấu hình chữ ký số của cơ quan (signing.pkcs12 hoặc signing.pkcs11_module)",
            "no agency signing identity configured (signing.pkcs12 or signing.pkcs11_module)",
        )
    return {"pkcs12": signing.pkcs12, "password": signing.password()}
