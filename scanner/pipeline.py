"""The orchestrator: takes inputs into a job and carries the job through every stage.

A job is a folder in the work area plus a row in the catalog. Each stage's
result is saved in the folder (atomically) before the job's state moves on,
so a restarted service resumes a job at its first unfinished stage: pages
already recognized are not recognized again, a dossier code once issued is
kept, and a dossier is filed exactly once.

    capture → clean → ocr → codes → pdf → sign → archive

Codes are issued before the PDF is built so that the PDF's XMP carries them;
the code is issued once per job (see ``Catalog.issue_dossier_code``).

The stages are plain functions of their inputs; only this module touches the
catalog, the work folders and the process pool.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from scanner import codes, jsonio
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
from scanner.capture.load import LoadLimits, load_pages
from scanner.clean import CleanOptions, clean_page
from scanner.config import Config, CounterConfig
from scanner.errors import InputError, ScannerError
from scanner.model import CleanedPage, OcrPage, PageImage, PdfMetadata, PdfPage, SourceFile
from scanner.ocr import OcrOptions, ocr_page
from scanner.pdf import build_pdfa
from scanner.sign import sign_pdf

log = logging.getLogger(__name__)

STATES = ("received", "captured", "recognized", "coded", "built", "signed", "archived", "failed")
VN_STATE = {
    "receiving": "đang nhận",
    "received": "đã nhận",
    "captured": "đã tách trang",
    "recognized": "đã nhận dạng",
    "coded": "đã cấp mã",
    "built": "đã tạo PDF/A",
    "signed": "đã ký số",
    "archived": "đã lưu trữ",
    "failed": "lỗi",
}


@dataclass(frozen=True)
class PageResult:
    cleaned: CleanedPage
    ocr: OcrPage


@dataclass(frozen=True)
class CapturedDocument:
    """A document of the dossier: the pages of one input file."""

    source: SourceFile
    pages: tuple[PageImage, ...]


@dataclass(frozen=True)
class Capture:
    documents: tuple[CapturedDocument, ...]
    warnings: tuple[str, ...] = ()


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


def _page_work(page: PageImage, clean_dir: Path, clean: CleanOptions, ocr: OcrOptions) -> PageResult:
    """Clean and recognize one page: the unit of work sent to the process pool."""
    cleaned = clean_page(page, clean_dir, clean)
    result = ocr_page(
        cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=cleaned.image.dpi, options=ocr
    )
    return PageResult(cleaned=cleaned, ocr=result)


def make_pool(processes: int) -> ProcessPoolExecutor:
    """Workers for page work; started by forkserver so the watcher's threads are never forked."""
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("forkserver"))


@dataclass
class Pipeline:
    config: Config
    catalog: Catalog
    pool: Executor | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())

    @property
    def jobs_root(self) -> Path:
        return self.config.archive.work / "jobs"

    # --- intake -----------------------------------------------------------------------------

    def submit(self, inputs: Sequence[Path], counter: CounterConfig, *, move: bool = False) -> str:
        """Take INPUTS into a new job of COUNTER: copy (or move) them into the work area.

        The job row is written first (state ``receiving``) and the files are
        flushed to disk before the state becomes ``received``; a moved file
        leaves the inbox only after its copy is safe.
        """
        job_id = f"{self.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"
        paths = _JobPaths(self.jobs_root / job_id)
        paths.inputs.mkdir(parents=True)
        names = [p.name for p in inputs]
        origin = [str(p) for p in inputs] if move else []
        self.catalog.create_job(job_id, counter.name, {"inputs": names, "origin": origin})
        self.catalog.set_job_state(job_id, "receiving")
        sources: list[SourceFile] = []
        for i, src in enumerate(inputs):
            dest = paths.inputs / f"{i + 1:03d}{_safe_suffix(src)}"
            _take_file(src, dest)
            sources.append(
                SourceFile(path=dest, original_name=src.name, sha256=sha256_file(dest), size=dest.stat().st_size)
            )
        jsonio.save(paths.root / "inputs.json", sources)
        for src in map(Path, origin):
            src.unlink(missing_ok=True)
        self.catalog.set_job_state(job_id, "received")
        return job_id

    # --- the stages ---------------------------------------------------------------------------

    def run(self, job_id: str) -> JobOutcome:
        """Carry JOB_ID through every stage not yet done; never raises for bad input."""
        job = self.catalog.job(job_id)
        if job is None:
            raise ScannerError(f"không có công việc {job_id}", f"no job {job_id}")
        counter = self.config.counter(job.counter)
        paths = _JobPaths(self.jobs_root / job_id)
        warnings: list[str] = list(job.detail.get("warnings", []))
        try:
            sources: list[SourceFile] = jsonio.load(paths.root / "inputs.json", list[SourceFile]) or []
            capture = self._capture(job_id, paths, sources)
            warnings.extend(w for w in capture.warnings if w not in warnings)
            if not capture.documents:
                self.catalog.set_job_state(job_id, "failed", error="; ".join(capture.warnings))
                return JobOutcome(job_id, "failed", warnings=tuple(warnings), error="; ".join(capture.warnings))
            results = self._recognize(job_id, paths, capture)
            day = self.now().date()
            dossier_code = self.catalog.issue_dossier_code(job_id, counter.agency_code, day, codes.dossier_code)
            self.catalog.set_job_state(job_id, "coded")
            job = self.catalog.job(job_id)
            receipt = date.fromisoformat(job.receipt_date) if job and job.receipt_date else day
            built = self._build(job_id, paths, capture, results, counter, dossier_code)
            signed = self._sign(job_id, paths, built)
            return self._archive(job_id, paths, capture, results, counter, dossier_code, receipt, signed, warnings)
        except ScannerError as exc:
            log.error("công việc %s lỗi: %s", job_id, exc)
            self.catalog.set_job_state(job_id, "failed", error=str(exc))
            return JobOutcome(job_id, "failed", warnings=tuple(warnings), error=str(exc))

    def _capture(self, job_id: str, paths: _JobPaths, sources: Sequence[SourceFile]) -> Capture:
        done: Capture | None = jsonio.load(paths.root / "capture.json", Capture)
        if done is not None:
            return done
        documents: list[CapturedDocument] = []
        warnings: list[str] = []
        for src in sources:
            try:
                pages = load_pages(src, paths.pages, LoadLimits())
            except InputError as exc:
                where = quarantine.put(self.config.archive.work, src.path, src.original_name, exc, now=self.now())
                msg = f"{exc.message_vi} — đã chuyển vào khu cách ly: {where}"
                log.warning("%s", msg)
                warnings.append(msg)
                continue
            documents.append(CapturedDocument(source=src, pages=tuple(pages)))
        capture = Capture(documents=tuple(documents), warnings=tuple(warnings))
        jsonio.save(paths.root / "capture.json", capture)
        self.catalog.set_job_state(job_id, "captured")
        return capture

    def _recognize(self, job_id: str, paths: _JobPaths, capture: Capture) -> list[list[PageResult]]:
        clean = CleanOptions(orientation=self.config.clean.orientation, deskew=self.config.clean.deskew)
        ocr = OcrOptions(languages=self.config.ocr.languages, timeout_seconds=self.config.ocr.timeout_seconds)
        pending: dict[tuple[int, int], object] = {}
        results: dict[tuple[int, int], PageResult] = {}
        for d, doc in enumerate(capture.documents):
            for p, page in enumerate(doc.pages):
                saved = jsonio.load(paths.ocr / f"{d + 1:03d}-{p + 1:03d}.json", PageResult)
                if saved is not None:
                    results[(d, p)] = saved
                elif self.pool is not None:
                    pending[(d, p)] = self.pool.submit(_page_work, page, paths.clean, clean, ocr)
                else:
                    results[(d, p)] = _page_work(page, paths.clean, clean, ocr)
                    jsonio.save(paths.ocr / f"{d + 1:03d}-{p + 1:03d}.json", results[(d, p)])
        for (d, p), future in pending.items():
            results[(d, p)] = future.result()  # type: ignore[attr-defined]
            jsonio.save(paths.ocr / f"{d + 1:03d}-{p + 1:03d}.json", results[(d, p)])
        self.catalog.set_job_state(job_id, "recognized")
        return [[results[(d, p)] for p in range(len(doc.pages))] for d, doc in enumerate(capture.documents)]

    def _build(
        self,
        job_id: str,
        paths: _JobPaths,
        capture: Capture,
        results: list[list[PageResult]],
        counter: CounterConfig,
        dossier_code: str,
    ) -> list[Path]:
        out: list[Path] = []
        for d, (doc, pages) in enumerate(zip(capture.documents, results, strict=True)):
            code = codes.document_code(dossier_code, d + 1)
            target = paths.pdf / f"{code}.pdf"
            if not target.exists():
                meta = PdfMetadata(
                    title=document_title(doc, pages),
                    creator=counter.agency_name,
                    subject=f"Hồ sơ {dossier_code}",
                    keywords=(dossier_code, code),
                    created=self.now(),
                    properties={
                        "dossier_code": dossier_code,
                        "document_code": code,
                        "agency_code": counter.agency_code,
                        "procedure_code": counter.procedure_code,
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

    def _sign(self, job_id: str, paths: _JobPaths, built: list[Path]) -> list[Path]:
        signing = self.config.signing
        out: list[Path] = []
        for pdf in built:
            target = paths.signed / pdf.name
            if not target.exists():
                if signing.pkcs12 is None:
                    raise ScannerError(
                        "chưa cấu hình chữ ký số của cơ quan (signing.pkcs12)",
                        "no agency signing identity configured (signing.pkcs12)",
                    )
                paths.signed.mkdir(parents=True, exist_ok=True)
                sign_pdf(
                    pdf,
                    target,
                    pkcs12=signing.pkcs12,
                    password=signing.password(),
                    level=signing.level,
                    reason=signing.reason,
                    location=signing.location,
                )
            out.append(target)
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
        receipt: date,
        signed: list[Path],
        warnings: list[str],
    ) -> JobOutcome:
        root = self.config.archive.root
        final = dossier_folder(root, counter.agency_code, receipt.year, dossier_code)
        if not final.exists():
            staging = staging_folder(root, self.config.archive.work, job_id)
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            for pdf in signed:
                shutil.copyfile(pdf, staging / pdf.name)
            titles = [document_title(doc, pages) for doc, pages in zip(capture.documents, results, strict=True)]
            manifest = {
                "dossier_code": dossier_code,
                "agency_code": counter.agency_code,
                "agency_name": counter.agency_name,
                "counter": counter.name,
                "procedure_code": counter.procedure_code,
                "receipt_date": receipt.isoformat(),
                "documents": [
                    {
                        "code": pdf.stem,
                        "title": t,
                        "pages": len(doc.pages),
                        "source": doc.source.original_name,
                        "source_sha256": doc.source.sha256,
                    }
                    for pdf, t, doc in zip(signed, titles, capture.documents, strict=True)
                ],
                "warnings": warnings,
            }
            jsonio.write_atomic(staging / "dossier.json", jsonio.dumps(manifest).encode("utf-8"))
            file_folder(staging, final)

        rel = final.relative_to(root)
        documents: list[DocumentRecord] = []
        files: list[tuple[str, str | None, str, str, int]] = []
        outcomes: list[DocumentOutcome] = []
        for d, (doc, pages, pdf) in enumerate(zip(capture.documents, results, signed, strict=True)):
            stored = final / pdf.name
            sha = sha256_file(stored)
            size = stored.stat().st_size
            title = document_title(doc, pages)
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
                    signed_at=self.now().isoformat(timespec="seconds"),
                    signature_level=self.config.signing.level,
                    ocr_confidence=round(conf, 2),
                    text=text,
                )
            )
            files.append((str(rel / pdf.name), pdf.stem, "document", sha, size))
            outcomes.append(DocumentOutcome(code=pdf.stem, path=stored, pages=len(pages), title=title))
        manifest_path = final / "dossier.json"
        files.append(
            (str(rel / "dossier.json"), None, "metadata", sha256_file(manifest_path), manifest_path.stat().st_size)
        )
        self.catalog.record_dossier(
            DossierRecord(
                code=dossier_code,
                agency_code=counter.agency_code,
                agency_name=counter.agency_name,
                counter=counter.name,
                procedure_code=counter.procedure_code,
                owner_id="",
                receipt_date=receipt.isoformat(),
                title=documents[0].title if documents else "",
                path=str(rel),
                doc_total=len(documents),
                page_total=sum(d.pages for d in documents),
                job_id=job_id,
                warnings=tuple(warnings),
                created=self.now().isoformat(timespec="seconds"),
            ),
            documents,
            files,
        )
        self.catalog.set_job_state(job_id, "archived")
        shutil.rmtree(paths.root, ignore_errors=True)
        return JobOutcome(job_id, "archived", dossier_code, tuple(outcomes), tuple(warnings))

    # --- restart ------------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Jobs to carry on after a restart, oldest first; half-received jobs are settled first.

        A job caught while receiving either has all its inputs safely in the
        work area (it goes on) or still has them in the inbox (it is dropped
        and the file is taken again); the inbox copy is only removed after the
        work copy is complete, so neither way loses or doubles a scan.
        """
        unfinished: list[str] = []
        for job in reversed(
            self.catalog.jobs(states=("receiving", "received", "captured", "recognized", "coded", "built", "signed"))
        ):
            paths = _JobPaths(self.jobs_root / job.id)
            if job.state == "receiving":
                if (paths.root / "inputs.json").exists():
                    self.catalog.set_job_state(job.id, "received")
                    for origin in job.detail.get("origin", []):
                        Path(origin).unlink(missing_ok=True)
                else:
                    shutil.rmtree(paths.root, ignore_errors=True)
                    self.catalog.set_job_state(
                        job.id, "abandoned", error="bị gián đoạn khi nhận tệp; tệp vẫn ở hộp thư đến"
                    )
                    continue
            unfinished.append(job.id)
        return unfinished


def document_title(doc: CapturedDocument, pages: Sequence[PageResult]) -> str:
    """A readable title: the document's type line (QUYẾT ĐỊNH, GIẤY XÁC NHẬN…) if found, else the file name."""
    if pages:
        for line in pages[0].ocr.text.splitlines()[:25]:
            words = line.split()
            clean = line.strip()
            if (
                2 <= len(words) <= 8
                and clean.isupper()
                and not any(w in clean for w in ("CỘNG HÒA", "CỘNG HOÀ", "ỦY BAN", "UỶ BAN", "UBND", "SỞ ", "PHÒNG "))
            ):
                return clean
    return Path(doc.source.original_name).stem


def _safe_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix.isascii() and len(suffix) <= 6 and suffix[1:].isalnum() else ""


def _take_file(src: Path, dest: Path) -> None:
    """Copy SRC to DEST and flush it; the caller removes SRC only after this returns."""
    if src.is_symlink():
        raise InputError(
            src.name, "là liên kết tượng trưng (symlink), không được theo", "is a symlink, not followed", code="symlink"
        )
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, tmp)
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    jsonio.fsync_dir(dest.parent)
