"""The orchestrator: takes files into jobs and carries each job through every stage.

A job is one dossier: a folder in the work area plus a row in the catalog.
Each stage's result is saved in the folder (atomically) before the job's
state moves on, so a restarted service resumes a job at its first unfinished
stage: pages already recognized are not recognized again, a dossier code once
issued is kept, and a dossier is filed exactly once.

    take → capture → clean+ocr (page pool) → codes → pdf → sign → archive

Codes are issued before the PDF is built so that the PDF's XMP carries them.

Taking a file (the intake journal): the catalog first notes where the file is
going, then the file is moved (a rename within one file system, else copy,
flush, rename, and only then removal from the inbox), then the note is
closed. After a crash, ``recover`` finishes or undoes every half-done take,
so a scan is never lost and never taken twice.

In the service, a counter's files join its open dossier (state
``collecting``) until the dossier is idle for ``dossier_idle_seconds`` or a
receipt with a QR code starts the next one.

Only this module touches the catalog, the work folders and the process pool;
the stages are plain functions of their inputs.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from scanner import codes, jsonio
from scanner.app import SYSTEM
from scanner.archive import (
    Catalog,
    DocumentRecord,
    DossierRecord,
    dossier_folder,
    file_folder,
    sha256_file,
    staging_folder,
)
from scanner.capture import quarantine
from scanner.capture.barcodes import Receipt, parse_receipt, read_codes
from scanner.capture.group import DroppedPage, GroupRules, PageMarks, group_pages, is_blank
from scanner.capture.load import LoadLimits, check_arrival, first_page, load_pages, pdf_signatures
from scanner.clean import CleanOptions, clean_page
from scanner.config import Config, CounterConfig, SigningConfig
from scanner.errors import InputError, OcrError, ScannerError
from scanner.extract import DocumentFields, Field, extract_fields
from scanner.model import CleanedPage, OcrPage, PageImage, PdfMetadata, PdfPage, SourceFile
from scanner.ocr import OcrOptions, ocr_page
from scanner.pdf import build_pdfa
from scanner.sign import TokenKey, VisibleMark, certificate_warning, sign_pdf, verify_pdf

log = logging.getLogger(__name__)

ACTIVE_STATES = ("receiving", "received", "captured", "recognized", "coded", "built", "signed")
VN_STATE = {
    "collecting": "đang nhận thêm trang",
    "receiving": "đang nhận",
    "received": "đã nhận",
    "captured": "đã tách trang",
    "recognized": "đã nhận dạng",
    "coded": "đã cấp mã",
    "built": "đã tạo PDF/A",
    "signed": "đã ký số",
    "archived": "đã lưu trữ",
    "failed": "lỗi",
    "quarantined": "đã cách ly",
    "abandoned": "đã hủy",
}


@dataclass(frozen=True)
class PageResult:
    cleaned: CleanedPage
    ocr: OcrPage


@dataclass(frozen=True)
class CapturedDocument:
    """A document of the dossier: its pages and the files they came from."""

    sources: tuple[SourceFile, ...]
    pages: tuple[PageImage, ...]


@dataclass(frozen=True)
class Capture:
    documents: tuple[CapturedDocument, ...]
    receipt: Receipt | None = None
    dropped: tuple[DroppedPage, ...] = ()
    warnings: tuple[str, ...] = ()
    signed_sources: tuple[SourceFile, ...] = ()  # PDFs that arrived signed: kept byte for byte


@dataclass(frozen=True)
class Sidecar:
    """Values given for the dossier from outside the page: a clerk's ``<scan>.json`` or a backfill manifest row.

    Given values take precedence over what is read from the page. A
    manifest row describes a result (``kind = "result"``): its document is
    coded ``<dossier>-KQ<n>`` and carries the result's validity.
    """

    dossier_code: str = ""
    procedure_code: str = ""
    owner_id: str = ""
    document_type: str = ""
    owner_name: str = ""
    agency_code: str = ""
    kind: str = ""  # "result" for a result (kết quả giải quyết)
    result_number: str = ""  # số/ký hiệu printed on the result
    issued_date: str = ""  # ISO date; the date part of a code issued for a backfilled result
    valid_until: str = ""  # ISO date; empty = no expiry
    retention: str = ""
    access_level: str = ""


@dataclass(frozen=True)
class DocumentOutcome:
    code: str
    path: Path
    pages: int
    title: str


@dataclass(frozen=True)
class JobOutcome:
    """What a job ended as, for the CLI and the clerk."""

    job_id: str
    state: str
    dossier_code: str | None = None
    documents: tuple[DocumentOutcome, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "archived" and not self.warnings


@dataclass(frozen=True)
class TakeResult:
    job_id: str | None
    closed: tuple[str, ...] = ()  # jobs the take closed (their dossier is complete)
    message: str = ""


@dataclass
class _JobPaths:
    root: Path

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def pages(self) -> Path:
        return self.root / "pages"

    @property
    def clean(self) -> Path:
        return self.root / "clean"

    @property
    def ocr(self) -> Path:
        return self.root / "ocr"

    @property
    def pdf(self) -> Path:
        return self.root / "pdf"

    @property
    def signed(self) -> Path:
        return self.root / "signed"

    @property
    def manifest(self) -> Path:
        return self.root / "inputs.json"


def _page_work(page: PageImage, clean_dir: Path, clean: CleanOptions, ocr: OcrOptions) -> PageResult:
    """Clean and recognize one page: the unit of work sent to the process pool."""
    cleaned = clean_page(page, clean_dir, clean)
    result = ocr_page(
        cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=cleaned.image.dpi, options=ocr
    )
    return PageResult(cleaned=cleaned, ocr=result)


def read_values(record: DocumentRecord, fields: DocumentFields) -> DocumentRecord:
    """The catalog record with the metadata read from the document's first page (Phụ lục VI fields)."""

    def value(f: Field | None) -> str:
        return f.value if f is not None else ""

    return replace(
        record,
        type_name=value(fields.type_name),
        type_abbr=value(fields.type_abbr),
        code_number=value(fields.number),
        code_notation=value(fields.notation),
        issued_date=value(fields.issued_date) or None,
        organ_name=value(fields.issuer),
        subject=value(fields.subject),
        holder_name=value(fields.holder_name),
        holder_id=value(fields.holder_id),
        identifiers=tuple(dict.fromkeys((*fields.personal_ids, *fields.tax_codes))),
        fields=fields.as_dict(),
        review=fields.review,
    )


def given_values(record: DocumentRecord, sidecar: Sidecar) -> DocumentRecord:
    """The catalog record with the values given from outside the page (a manifest row) in place of read ones.

    What the page said stays in ``fields``, so a disagreement can be shown.
    """
    if sidecar.kind != "result":
        return record
    number, _, notation = sidecar.result_number.partition("/")
    return replace(
        record,
        kind="result",
        type_name=sidecar.document_type or record.type_name,
        code_number=number.strip() if notation else sidecar.result_number,
        code_notation=notation.strip(),
        issued_date=sidecar.issued_date or record.issued_date,
        valid_from=sidecar.issued_date or record.valid_from,
        valid_until=sidecar.valid_until or None,
        holder_id=sidecar.owner_id or record.holder_id,
        holder_name=sidecar.owner_name or record.holder_name,
        title=sidecar.document_type or record.title,
    )


def make_pool(processes: int) -> ProcessPoolExecutor:
    """Workers for page work; started by forkserver so the watcher's threads are never forked."""
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("forkserver"))


def read_sidecar(path: Path) -> Sidecar | None:
    """The ``<scan>.json`` beside a scan, if any; unknown keys are ignored, a broken file is an input error."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            path.name, f"tệp JSON đi kèm không hợp lệ ({exc})", f"invalid sidecar JSON ({exc})", code="bad-sidecar"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            path.name, "tệp JSON đi kèm phải là một đối tượng", "sidecar must be an object", code="bad-sidecar"
        )
    values = {k: str(data.get(k, "")).strip() for k in ("dossier_code", "procedure_code", "owner_id", "document_type")}
    if values["dossier_code"] and not codes.parse_dossier_code(values["dossier_code"]):
        raise InputError(
            path.name,
            f"mã hồ sơ '{values['dossier_code']}' trong tệp JSON không đúng quy tắc",
            "invalid dossier code in sidecar",
            code="bad-sidecar",
        )
    return Sidecar(**values)


@dataclass
class Pipeline:
    config: Config
    catalog: Catalog
    pool: Executor | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())

    @property
    def jobs_root(self) -> Path:
        return self.config.archive.work / "jobs"

    @property
    def limits(self) -> LoadLimits:
        c = self.config.capture
        return LoadLimits(max_megapixels=c.max_megapixels, max_bytes=int(c.max_file_mb * 1024 * 1024))

    @property
    def rules(self) -> GroupRules:
        c = self.config.capture
        return GroupRules(separator_text=c.separator_text, keep_receipt=c.keep_receipt, blank_ink=c.blank_ink)

    def _new_job(self, counter: CounterConfig, state: str, detail: dict[str, Any]) -> str:
        job_id = f"{self.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"
        _JobPaths(self.jobs_root / job_id).inputs.mkdir(parents=True)
        self.catalog.create_job(job_id, counter.name, detail, state=state)
        return job_id

    # --- intake -----------------------------------------------------------------------------

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
        if job_id is None:
            job_id = self._new_job(counter, "receiving", detail)
        else:
            existing = self.catalog.job(job_id)
            if existing is not None and existing.state != "receiving":
                return job_id
            shutil.rmtree(self.jobs_root / job_id, ignore_errors=True)
            _JobPaths(self.jobs_root / job_id).inputs.mkdir(parents=True)
            if existing is None:
                self.catalog.create_job(job_id, counter.name, detail, state="receiving")
        paths = _JobPaths(self.jobs_root / job_id)
        sources: list[SourceFile] = []
        for src in inputs:
            dest = paths.inputs / f"{len(sources) + 1:03d}{_safe_suffix(src)}"
            _copy_durably(src, dest)
            sources.append(SourceFile(dest, src.name, sha256_file(dest), dest.stat().st_size))
        jsonio.save(paths.manifest, sources)
        self.catalog.set_job_state(job_id, "received")
        return job_id

    def take(self, path: Path, counter: CounterConfig) -> TakeResult:
        """Take one settled file from COUNTER's inbox into the counter's open dossier.

        Broken or refused files go to quarantine with their reason; content
        already taken (same SHA-256) is not processed twice: the duplicate is
        quarantined with the code of the dossier that holds it.
        """
        name = path.name
        try:
            check_arrival(path, self.limits)
            sha = sha256_file(path)
            seen = self.catalog.find_intake(sha)
            if seen is not None:
                where = f"hồ sơ {seen[1]}" if seen[1] else f"công việc {seen[0]}"
                raise InputError(
                    name,
                    f"nội dung này đã được nhận trước đó ({where}); không xử lý lại",
                    f"same content already taken ({seen[1] or seen[0]})",
                    code="duplicate",
                )
            sidecar_path = path.with_name(path.name + ".json")
            sidecar = read_sidecar(sidecar_path)
        except InputError as exc:
            held = quarantine.put(self.config.archive.work, path, name, exc, now=self.now())
            self.catalog.record_event("quarantine", f"{counter.name}/{name}", exc.code, exc.message_vi)
            log.warning("%s — đã cách ly: %s", exc.message_vi, held)
            if path.is_symlink():
                path.unlink()
            return TakeResult(None, message=exc.message_vi)

        receipt = self._peek_receipt(path)
        starts_dossier = receipt is not None or bool(sidecar and sidecar.dossier_code)
        closed: list[str] = []
        open_job = self.catalog.open_job(counter.name)
        if open_job is not None and (starts_dossier or self.config.capture.dossier_idle_seconds == 0):
            self.catalog.set_job_state(open_job.id, "received")
            closed.append(open_job.id)
            open_job = None
        if open_job is None:
            state = "received" if self.config.capture.dossier_idle_seconds == 0 else "collecting"
            job_id = self._new_job(counter, "collecting", {})
        else:
            job_id, state = open_job.id, "collecting"
        if sidecar is not None:
            self.catalog.update_job_detail(job_id, sidecar=sidecar.__dict__)
        self._move_in(job_id, path, counter, sha, sidecar_path if sidecar else None)
        if state == "received":
            self.catalog.set_job_state(job_id, "received")
            closed.append(job_id)
        return TakeResult(job_id, tuple(closed))

    def _peek_receipt(self, path: Path) -> Receipt | None:
        image = first_page(path, self.limits)
        if image is None:
            return None
        for text in read_codes(image):
            receipt = parse_receipt(text)
            if receipt is not None:
                return receipt
        return None

    def _move_in(self, job_id: str, path: Path, counter: CounterConfig, sha: str, sidecar: Path | None) -> None:
        paths = _JobPaths(self.jobs_root / job_id)
        sources: list[SourceFile] = jsonio.load(paths.manifest, list[SourceFile]) or []
        dest = paths.inputs / f"{len(sources) + 1:03d}{_safe_suffix(path)}"
        intake = self.catalog.intake_begin(sha, job_id, counter.name, path.name, str(path), str(dest))
        size = path.stat().st_size
        _move_durably(path, dest)
        sources.append(SourceFile(dest, path.name, sha, size))
        jsonio.save(paths.manifest, sources)
        if sidecar is not None:
            _move_durably(sidecar, paths.root / f"{dest.stem}.sidecar.json")
        self.catalog.intake_done(intake)

    def close_idle(self) -> list[str]:
        """Close the open dossiers that received nothing for ``dossier_idle_seconds``."""
        cutoff = (self.now() - timedelta(seconds=self.config.capture.dossier_idle_seconds)).isoformat(
            timespec="seconds"
        )
        closed = []
        for job in self.catalog.idle_open_jobs(cutoff):
            self.catalog.set_job_state(job.id, "received")
            closed.append(job.id)
        return closed

    def pending(self) -> list[str]:
        """Closed jobs not yet finished, oldest first."""
        return [j.id for j in reversed(self.catalog.jobs(states=ACTIVE_STATES[1:]))]

    # --- the stages ---------------------------------------------------------------------------

    def run(self, job_id: str) -> JobOutcome:
        """Carry JOB_ID through every stage not yet done; bad input never raises.

        A failure that is not the input's fault (the recognizer crashed, the
        signing key is unavailable) leaves the job for a later attempt; after
        ``max_attempts`` its inputs go to quarantine with the reason.
        """
        job = self.catalog.job(job_id)
        if job is None:
            raise ScannerError(f"không có công việc {job_id}", f"no job {job_id}")
        counter = self.config.counter(job.counter)
        paths = _JobPaths(self.jobs_root / job_id)
        try:
            sources: list[SourceFile] = jsonio.load(paths.manifest, list[SourceFile]) or []
            capture = self._capture(job_id, paths, sources, counter.name, bool(job.detail.get("one_document")))
            warnings = list(capture.warnings)
            if not capture.documents:
                return self._give_up(
                    job_id, paths, "; ".join(warnings) or "không có trang nào", warnings, quarantined=True
                )
            results, capture = self._recognize(job_id, paths, capture)
            warnings = list(capture.warnings)
            sidecar = Sidecar(**job.detail.get("sidecar", {}))
            dossier_code, receipt_day, code_warning = self._codes(job_id, counter, capture, sidecar)
            if code_warning:
                warnings.append(code_warning)
            built = self._build(job_id, paths, capture, results, counter, dossier_code, sidecar)
            signed = self._sign(job_id, paths, built, counter, warnings)
            return self._archive(
                job_id, paths, capture, results, counter, dossier_code, receipt_day, signed, warnings, sidecar
            )
        except ScannerError as exc:
            return self._failed(job_id, paths, exc)
        except BrokenProcessPool:
            # a page worker died (killed for memory, crashed in the recognizer): new workers, and the job
            # is tried again like any failure that is not the input's fault
            log.exception("tiến trình nhận dạng bị dừng đột ngột ở công việc %s", job_id)
            if isinstance(self.pool, ProcessPoolExecutor):
                self.pool = make_pool(self.config.processes)
            return self._failed(
                job_id,
                paths,
                OcrError("tiến trình nhận dạng bị dừng đột ngột", "a page worker died"),
            )
        except Exception as exc:  # a surprise from a library must not stop the counter: retried, then parked
            log.exception("lỗi không lường trước ở công việc %s", job_id)
            return self._failed(job_id, paths, ScannerError(f"lỗi nội bộ: {exc}", f"internal error: {exc}"))

    def _failed(self, job_id: str, paths: _JobPaths, exc: ScannerError) -> JobOutcome:
        """Count the attempt; leave the job for a later one, or after ``max_attempts`` quarantine its inputs."""
        attempts = self.catalog.count_attempt(job_id)
        log.error("công việc %s lỗi (lần %d): %s", job_id, attempts, exc)
        if attempts >= self.config.capture.max_attempts:
            return self._give_up(job_id, paths, str(exc), [], quarantined=False, error=exc)
        self.catalog.set_job_state(job_id, "failed", error=str(exc))
        return JobOutcome(job_id, "failed", error=str(exc))

    def _give_up(
        self,
        job_id: str,
        paths: _JobPaths,
        reason: str,
        warnings: list[str],
        *,
        quarantined: bool,
        error: ScannerError | None = None,
    ) -> JobOutcome:
        """End a job that cannot produce a dossier; every input not yet quarantined goes there now."""
        if not quarantined and error is not None:
            for src in jsonio.load(paths.manifest, list[SourceFile]) or []:
                if src.path.exists():
                    quarantine.put(self.config.archive.work, src.path, src.original_name, error, now=self.now())
        self.catalog.set_job_state(job_id, "quarantined", error=reason)
        shutil.rmtree(paths.root, ignore_errors=True)
        return JobOutcome(job_id, "quarantined", warnings=tuple(warnings), error=reason)

    def _capture(
        self, job_id: str, paths: _JobPaths, sources: Sequence[SourceFile], counter: str, one_document: bool = False
    ) -> Capture:
        """Split the inputs into pages and group them; ONE_DOCUMENT (a backfill row) keeps all files together."""
        done: Capture | None = jsonio.load(paths.root / "capture.json", Capture)
        if done is not None:
            return done
        warnings: list[str] = []
        pages: list[PageImage] = []
        marks: list[PageMarks] = []
        owners: list[SourceFile] = []
        signed: list[SourceFile] = []
        for index, src in enumerate(sources):
            try:
                loaded = load_pages(src, paths.pages, self.limits)
            except InputError as exc:
                where = quarantine.put(self.config.archive.work, src.path, src.original_name, exc, now=self.now())
                self.catalog.record_event("quarantine", f"{counter}/{src.original_name}", exc.code, exc.message_vi)
                warnings.append(f"{exc.message_vi} — đã chuyển vào khu cách ly: {where}")
                log.warning("%s", warnings[-1])
                continue
            if pdf_signatures(src.path):
                signed.append(src)
                warnings.append(self._signed_input_note(src))
            for page in loaded:
                pages.append(page)
                owners.append(src)
                file_index = 0 if one_document else index
                marks.append(PageMarks(codes=tuple(read_codes(page.path)), file_index=file_index, source=page.source))
        grouping = group_pages(marks, self.rules)
        warnings.extend(grouping.warnings)
        documents = tuple(
            CapturedDocument(
                sources=tuple(dict.fromkeys(owners[i] for i in doc)),
                pages=tuple(pages[i] for i in doc),
            )
            for doc in grouping.documents
        )
        capture = Capture(documents, grouping.receipt, grouping.dropped, tuple(warnings), tuple(signed))
        jsonio.save(paths.root / "capture.json", capture)
        self.catalog.set_job_state(job_id, "captured")
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

    def _recognize(self, job_id: str, paths: _JobPaths, capture: Capture) -> tuple[list[list[PageResult]], Capture]:
        """Clean and OCR every page (in the pool), then drop confirmed blank backsides."""
        clean = CleanOptions(**vars(self.config.clean))
        ocr = OcrOptions(languages=self.config.ocr.languages, timeout_seconds=self.config.ocr.timeout_seconds)
        pending: dict[tuple[int, int], Future[PageResult]] = {}
        results: dict[tuple[int, int], PageResult] = {}

        def saved_at(d: int, p: int) -> Path:
            return paths.ocr / f"{d + 1:03d}-{p + 1:03d}.json"

        for d, doc in enumerate(capture.documents):
            for p, page in enumerate(doc.pages):
                saved = jsonio.load(saved_at(d, p), PageResult)
                if saved is not None:
                    results[(d, p)] = saved
                elif self.pool is not None:
                    pending[(d, p)] = self.pool.submit(_page_work, page, paths.clean, clean, ocr)
                else:
                    results[(d, p)] = _page_work(page, paths.clean, clean, ocr)
                    jsonio.save(saved_at(d, p), results[(d, p)])
        for (d, p), future in pending.items():
            results[(d, p)] = future.result()
            jsonio.save(saved_at(d, p), results[(d, p)])

        kept_docs: list[CapturedDocument] = []
        kept_results: list[list[PageResult]] = []
        dropped = list(capture.dropped)
        for d, doc in enumerate(capture.documents):
            pages, res = [], []
            for p, page in enumerate(doc.pages):
                r = results[(d, p)]
                if is_blank(r.cleaned.ink, r.ocr.text, self.rules):
                    dropped.append(DroppedPage(page.source, "blank", "trang trắng (mặt sau)"))
                    continue
                pages.append(page)
                res.append(r)
            if pages:
                kept_docs.append(replace(doc, pages=tuple(pages)))
                kept_results.append(res)
        warnings = list(capture.warnings) + [f"{d.source}: đã bỏ {d.reason_vi}" for d in dropped]
        self.catalog.set_job_state(job_id, "recognized")
        final = replace(capture, documents=tuple(kept_docs), dropped=tuple(dropped), warnings=tuple(warnings))
        return kept_results, final

    def _codes(
        self, job_id: str, counter: CounterConfig, capture: Capture, sidecar: Sidecar
    ) -> tuple[str, date, str | None]:
        """The dossier code: the receipt's (or the sidecar's) when it has one, else the next daily number."""
        given = sidecar.dossier_code or (capture.receipt.dossier_code if capture.receipt else "")
        warning = None
        if given:
            parsed = codes.parse_dossier_code(given)
            day = parsed[1] if parsed else self.now().date()
            if parsed and self.catalog.claim_dossier_code(job_id, given, day):
                self.catalog.set_job_state(job_id, "coded")
                return given, day, None
            warning = f"mã hồ sơ {given} trên giấy tiếp nhận đã có trong kho; hồ sơ này được cấp mã mới"
        # a backfilled result is numbered on the day it was issued, as it would have been then
        day = date.fromisoformat(sidecar.issued_date) if sidecar.issued_date else self.now().date()
        code = self.catalog.issue_dossier_code(
            job_id, sidecar.agency_code or counter.agency_code, day, codes.dossier_code
        )
        self.catalog.set_job_state(job_id, "coded")
        job = self.catalog.job(job_id)
        receipt_day = date.fromisoformat(job.receipt_date) if job and job.receipt_date else day
        return code, receipt_day, warning

    def _build(
        self,
        job_id: str,
        paths: _JobPaths,
        capture: Capture,
        results: list[list[PageResult]],
        counter: CounterConfig,
        dossier_code: str,
        sidecar: Sidecar,
    ) -> list[Path]:
        out: list[Path] = []
        receipt = capture.receipt
        procedure = sidecar.procedure_code or (receipt.procedure_code if receipt else "") or counter.procedure_code
        owner = sidecar.owner_id or (receipt.owner_id if receipt else "")
        for d, (doc, pages) in enumerate(zip(capture.documents, results, strict=True)):
            code = (codes.result_code if sidecar.kind == "result" else codes.document_code)(dossier_code, d + 1)
            target = paths.pdf / f"{code}.pdf"
            if not target.exists():
                meta = PdfMetadata(
                    title=sidecar.document_type or document_title(doc, pages, first_page_fields(pages)),
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
                        }.items()
                        if v
                    },
                )
                paths.pdf.mkdir(parents=True, exist_ok=True)
                build_pdfa(
                    [PdfPage(image=r.cleaned.image, ocr=r.ocr) for r in pages],
                    target,
                    flavour=self.config.pdfa.flavour,
                    metadata=meta,
                )
            out.append(target)
        self.catalog.set_job_state(job_id, "built")
        return out

    def _sign(
        self, job_id: str, paths: _JobPaths, built: list[Path], counter: CounterConfig, warnings: list[str]
    ) -> list[Path]:
        signing = self.config.signing
        mark = VisibleMark(text=signing.mark_text, agency=signing.mark_agency or counter.agency_name)
        out: list[Path] = []
        key: dict[str, Any] = {}
        for pdf in built:
            target = paths.signed / pdf.name
            if not target.exists():
                key = key or _signing_key(signing)
                paths.signed.mkdir(parents=True, exist_ok=True)
                sign_pdf(
                    pdf,
                    target,
                    **key,
                    level=signing.level,
                    tsa_url=signing.tsa_url,
                    trust_roots=signing.trust_roots,
                    mark=mark if signing.visible else None,
                    reason=signing.reason,
                    location=signing.location,
                )
            out.append(target)
        if key and (note := certificate_warning(**key)):
            warnings.append(note)  # told once per dossier, weeks before the certificate stops signing
        self.catalog.set_job_state(job_id, "signed")
        return out

    def _archive(
        self,
        job_id: str,
        paths: _JobPaths,
        capture: Capture,
        results: list[list[PageResult]],
        counter: CounterConfig,
        dossier_code: str,
        receipt_day: date,
        signed: list[Path],
        warnings: list[str],
        sidecar: Sidecar,
    ) -> JobOutcome:
        root = self.config.archive.root
        agency_code = sidecar.agency_code or counter.agency_code
        final = dossier_folder(root, agency_code, receipt_day.year, dossier_code)
        read = [first_page_fields(pages) for pages in results]  # once: for the titles and the catalog
        titles = [
            sidecar.document_type or document_title(doc, pages, fields)
            for doc, pages, fields in zip(capture.documents, results, read, strict=True)
        ]
        receipt = capture.receipt
        procedure = sidecar.procedure_code or (receipt.procedure_code if receipt else "") or counter.procedure_code
        owner = sidecar.owner_id or (receipt.owner_id if receipt else "")
        originals = {src.sha256: f"{dossier_code}.goc-{i + 1:02d}.pdf" for i, src in enumerate(capture.signed_sources)}
        if not final.exists():
            staging = staging_folder(root, self.config.archive.work, job_id)
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            for pdf in signed:
                shutil.copyfile(pdf, staging / pdf.name)
            for src in capture.signed_sources:
                shutil.copyfile(src.path, staging / originals[src.sha256])
            manifest = {
                "dossier_code": dossier_code,
                "agency_code": agency_code,
                "agency_name": counter.agency_name,
                "counter": counter.name,
                "procedure_code": procedure,
                "owner_id": owner,
                "receipt_date": receipt_day.isoformat(),
                "receipt_qr": receipt.raw if receipt else None,
                "documents": [
                    {
                        "code": pdf.stem,
                        "title": t,
                        "pages": len(doc.pages),
                        "page_sources": [p.source for p in doc.pages],
                        "sources": [{"name": s.original_name, "sha256": s.sha256} for s in doc.sources],
                    }
                    for pdf, t, doc in zip(signed, titles, capture.documents, strict=True)
                ],
                "signed_originals": [
                    {"file": originals[s.sha256], "name": s.original_name, "sha256": s.sha256}
                    for s in capture.signed_sources
                ],
                "dropped_pages": [d.__dict__ for d in capture.dropped],
                "warnings": warnings,
            }
            jsonio.write_atomic(staging / "dossier.json", jsonio.dumps(manifest).encode("utf-8"))
            file_folder(staging, final)

        rel = final.relative_to(root)
        documents: list[DocumentRecord] = []
        files: list[tuple[str, str | None, str, str, int]] = []
        outcomes: list[DocumentOutcome] = []
        signed_at = self.now().isoformat(timespec="seconds")
        for d, (pages, pdf, title) in enumerate(zip(results, signed, titles, strict=True)):
            stored = final / pdf.name
            sha, size = sha256_file(stored), stored.stat().st_size
            text = "\n\f\n".join(r.ocr.text for r in pages)
            conf = sum(r.ocr.confidence for r in pages) / max(1, len(pages))
            documents.append(
                DocumentRecord(
                    code=pdf.stem,
                    dossier_code=dossier_code,
                    ordinal=d + 1,
                    title=title,
                    path=str(rel / pdf.name),
                    pages=len(pages),
                    sha256=sha,
                    size=size,
                    pdfa=self.config.pdfa.flavour,
                    signer=counter.agency_name,
                    signed_at=signed_at,
                    signature_level=self.config.signing.level,
                    ocr_confidence=round(conf, 2),
                    text=text,
                )
            )
            files.append((str(rel / pdf.name), pdf.stem, "document", sha, size))
            outcomes.append(DocumentOutcome(code=pdf.stem, path=stored, pages=len(pages), title=title))
        for name in [*originals.values(), "dossier.json"]:
            p = final / name
            files.append(
                (
                    str(rel / name),
                    None,
                    "original" if name != "dossier.json" else "metadata",
                    sha256_file(p),
                    p.stat().st_size,
                )
            )
        documents = [given_values(read_values(d, fields), sidecar) for d, fields in zip(documents, read, strict=True)]
        self.catalog.record_dossier(
            DossierRecord(
                code=dossier_code,
                agency_code=agency_code,
                agency_name=counter.agency_name,
                counter=counter.name,
                procedure_code=procedure,
                owner_id=owner,
                receipt_date=receipt_day.isoformat(),
                title=titles[0] if titles else "",
                path=str(rel),
                doc_total=len(documents),
                page_total=sum(d.pages for d in documents),
                job_id=job_id,
                warnings=tuple(warnings),
                created=signed_at,
                retention=sidecar.retention,
                access=sidecar.access_level or "công khai",
            ),
            documents,
            files,
            actor=SYSTEM.label,
        )
        self.catalog.set_job_state(job_id, "archived")
        shutil.rmtree(paths.root, ignore_errors=True)
        return JobOutcome(job_id, "archived", dossier_code, tuple(outcomes), tuple(warnings))

    # --- restart ------------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Settle what a crash left half-done; return the jobs to carry on, oldest first.

        A take caught mid-move either has its file complete in the work area
        (the take is finished: the inbox copy, if still there, is removed) or
        still in the inbox (the note is dropped and the file is taken again).
        """
        for row in self.catalog.intakes_in_progress():
            origin, dest = Path(row.origin), Path(row.stored_as)
            paths = _JobPaths(dest.parent.parent)
            sources: list[SourceFile] = jsonio.load(paths.manifest, list[SourceFile]) or []
            if dest.exists():
                if all(s.path != dest for s in sources):
                    sources.append(SourceFile(dest, row.original_name, row.sha256, dest.stat().st_size))
                    jsonio.save(paths.manifest, sources)
                origin.unlink(missing_ok=True)
                self.catalog.intake_done(row.id)
            else:
                dest.with_name(dest.name + ".part").unlink(missing_ok=True)
                self.catalog.intake_drop(row.id)
        for job in self.catalog.jobs(states=("receiving",)):
            # `submit` copies; the clerk's files were never touched, so the job is simply dropped.
            shutil.rmtree(self.jobs_root / job.id, ignore_errors=True)
            self.catalog.set_job_state(job.id, "abandoned", error="bị gián đoạn khi sao chép tệp đầu vào")
        for job in self.catalog.jobs(states=("collecting",)):
            if not (self.jobs_root / job.id / "inputs.json").exists():
                shutil.rmtree(self.jobs_root / job.id, ignore_errors=True)
                self.catalog.set_job_state(job.id, "abandoned", error="chưa nhận được tệp nào")
        retry = [j.id for j in self.catalog.jobs(states=("failed",)) if j.attempts < self.config.capture.max_attempts]
        for job_id in retry:
            self.catalog.set_job_state(job_id, "received")
        return self.pending()


def first_page_fields(pages: Sequence[PageResult]) -> DocumentFields:
    """The metadata printed on a document's first page (where the rules of Nghị định 30/2020 put it)."""
    return extract_fields(pages[0].ocr) if pages else DocumentFields()


def document_title(doc: CapturedDocument, pages: Sequence[PageResult], fields: DocumentFields) -> str:
    """A title an archive officer recognizes: type, number and subject read from the page.

    ``Quyết định số 1046/QĐ-STP — Về việc thành lập…``; without a type read
    from the page, the capitalised type line, else the file name.
    """
    if pages:
        if fields.type_name is not None:
            title = fields.type_name.value
            if fields.number is not None:
                number = fields.number.value + (f"/{fields.notation.value}" if fields.notation else "")
                title += f" số {number}"
            if fields.subject is not None:
                subject = fields.subject.value
                title += " — " + (subject if len(subject) <= 120 else subject[:119].rsplit(" ", 1)[0] + "…")
            return title
        for line in pages[0].ocr.text.splitlines()[:25]:
            words = line.split()
            clean = line.strip()
            if (
                2 <= len(words) <= 8
                and clean.isupper()
                and not any(w in clean for w in ("CỘNG HÒA", "CỘNG HOÀ", "ỦY BAN", "UỶ BAN", "UBND", "SỞ ", "PHÒNG "))
            ):
                return clean
    return Path(doc.sources[0].original_name).stem if doc.sources else ""


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
        raise ScannerError(
            "chưa cấu hình chữ ký số của cơ quan (signing.pkcs12 hoặc signing.pkcs11_module)",
            "no agency signing identity configured (signing.pkcs12 or signing.pkcs11_module)",
        )
    return {"pkcs12": signing.pkcs12, "password": signing.password()}


def _safe_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix.isascii() and len(suffix) <= 6 and suffix[1:].isalnum() else ""


def _copy_durably(src: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, tmp)
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    jsonio.fsync_dir(dest.parent)


def _move_durably(src: Path, dest: Path) -> None:
    """Move SRC to DEST so that at every instant the file is whole in at least one of them."""
    try:
        os.rename(src, dest)
    except OSError:  # another file system: copy, flush, then remove the original
        _copy_durably(src, dest)
        src.unlink()
    jsonio.fsync_dir(dest.parent)
    jsonio.fsync_dir(src.parent)
