"""A counter clerk's use cases: the open dossier, its pages and fields, and finishing it.

Every function takes the acting clerk first and returns a typed result; the
CLI and the web station only parse and render. Changes to a dossier's pages
and fields are kept as the dossier's list of edits (see
``scanner.pipeline.layout``) and each one is written to the audit log with
the clerk's name, so the archive can show who turned, removed or corrected
what before the agency signed it.

Page operations work while the dossier is open and while it waits for the
clerk's review; once it is being signed they are refused. Signing and filing
are done by the service (``scanner watch`` / ``scanner serve``): finishing a
dossier hands it over, and the clerk sees it filed in ``status`` seconds
later.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from PIL import Image

from scanner import codes, jsonio
from scanner.app import Actor, records
from scanner.app.officer import archive_of
from scanner.app.rights import check_agency, check_counter
from scanner.archive import Catalog
from scanner.archive.catalog import JobRecord
from scanner.config import Config, CounterConfig
from scanner.errors import InputError, NotFoundError, ScannerError
from scanner.extract import DocumentFields, extract_fields
from scanner.model import PageImage
from scanner.pipeline import DocumentOutcome, Edit, Edits, JobOutcome, JobState, Pipeline, Sidecar
from scanner.pipeline.filing import CORRECTABLE, document_values
from scanner.pipeline.lock import Busy, hold
from scanner.pipeline.run import JobContext
from scanner.pipeline.states import RUNNABLE

# Dossiers whose pages and fields the clerk may still change.
EDITABLE = (JobState.COLLECTING, JobState.REVIEWING)


@dataclass
class Station:
    """The workstation a use case acts on: its configuration and catalog (the pipeline made on demand)."""

    config: Config
    catalog: Catalog
    _pipeline: Pipeline | None = field(default=None, repr=False)

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = Pipeline(self.config, self.catalog)
        return self._pipeline


@dataclass(frozen=True)
class PageView:
    id: str  # stable page id (its image's stem): what page operations name
    source: str  # the scanned file (and page number) it came from
    image: str  # the page image, relative to the work area
    recognized: bool
    confidence: float | None = None
    error: str = ""


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    value: str
    confidence: float | None
    flagged: bool  # the clerk should confirm it
    corrected: bool  # the clerk entered this value


@dataclass(frozen=True)
class DocumentView:
    ordinal: int
    pages: tuple[PageView, ...]
    fields: tuple[FieldView, ...]

    @property
    def flagged(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.flagged)


@dataclass(frozen=True)
class DossierView:
    job_id: str
    counter: str
    state: JobState
    dossier_code: str  # issued, or announced by the receipt's QR / the sidecar while still open
    procedure_code: str
    owner_id: str
    documents: tuple[DocumentView, ...]
    warnings: tuple[str, ...]
    error: str
    updated: str

    @property
    def state_vi(self) -> str:
        return self.state.label_vi

    @property
    def pages(self) -> int:
        return sum(len(d.pages) for d in self.documents)


@dataclass(frozen=True)
class QuarantinedFile:
    counter: str
    name: str
    reason_code: str
    reason: str
    time: str


@dataclass(frozen=True)
class CounterStatus:
    dossiers: tuple[DossierView, ...]  # the open one first, then the most recent
    quarantined: tuple[QuarantinedFile, ...]


# --- looking -----------------------------------------------------------------------------------


def status(actor: Actor, station: Station, *, counter: str | None = None, limit: int = 20) -> CounterStatus:
    """The counter's dossiers as the clerk follows them: the open one page by page, the recent ones, refused files."""
    counter = counter or actor.counter
    if counter:
        check_counter(actor, counter, f"của quầy {counter}")
    elif actor.counter:
        counter = actor.counter  # confined to one counter: never the list of every counter's dossiers
    jobs = station.catalog.jobs(counter=counter, limit=limit)
    views = [dossier(actor, station, j.id, _job=j) for j in jobs]
    views.sort(key=lambda v: (v.state is not JobState.COLLECTING, v.state is not JobState.REVIEWING))
    seen: set[tuple[str, str]] = set()
    files = []
    for e in station.catalog.recent_events("quarantine", prefix=f"{counter}/" if counter else "", limit=limit):
        where, _, name = str(e.subject or "").partition("/")
        if (where, name) in seen:
            continue  # one line per refused file, however often it was reported
        seen.add((where, name))
        files.append(QuarantinedFile(where, name, str(e.outcome or ""), str(e.detail or ""), str(e.time or "")))
    return CounterStatus(tuple(views), tuple(files))


def dossier(actor: Actor, station: Station, ref: str, *, _job: JobRecord | None = None) -> DossierView:
    """One dossier in progress (or done), by job id or dossier code, with its documents as they stand now."""
    job = _job or _find_job(actor, station, ref)
    state = JobState(job.state)
    job_id: str = job.id
    detail = job.detail
    sidecar = Sidecar(**detail.get("sidecar", {}))
    code = job.dossier_code or sidecar.dossier_code or str(detail.get("receipt_code", ""))
    documents: tuple[DocumentView, ...] = ()
    warnings: list[str] = []
    archived = station.catalog.dossier(job.dossier_code) if job.dossier_code else None
    if archived is not None:
        warnings = list(archived.warnings)
        documents = tuple(
            DocumentView(d.ordinal, tuple(PageView(f"{d.code}#{i + 1}", d.title, "", True) for i in range(d.pages)), ())
            for d in station.catalog.documents(archived.code)
        )
    elif not state.finished:
        documents, warnings = _documents_now(station, job_id)
    return DossierView(
        job_id=job_id,
        counter=job.counter,
        state=state,
        dossier_code=code,
        procedure_code=sidecar.procedure_code,
        owner_id=sidecar.owner_id,
        documents=documents,
        warnings=tuple(warnings),
        error=job.error or "",
        updated=job.updated,
    )


def _documents_now(station: Station, job_id: str) -> tuple[tuple[DocumentView, ...], list[str]]:
    pipeline = station.pipeline
    ctx = pipeline.context(job_id)
    laid = pipeline.layout(ctx, open_missing=False)  # a look never opens (or quarantines) a citizen's file
    edits = ctx.folder.edits()
    saved: list[DocumentFields] = jsonio.load(ctx.folder.fields_file, list[DocumentFields]) or []
    docs = []
    for d, doc in enumerate(laid.capture.documents):
        pages = []
        first: DocumentFields | None = saved[d] if d < len(saved) else None
        for i, page in enumerate(doc.pages):
            result = ctx.folder.load_result(page)
            error_note = ctx.folder.result_at(page).with_suffix(".error.txt")
            error = error_note.read_text(encoding="utf-8") if error_note.exists() else ""
            pages.append(
                PageView(
                    id=page.path.stem,
                    source=page.source,
                    image=str(page.path.relative_to(station.config.job_area)),
                    recognized=result is not None,
                    confidence=round(result.ocr.confidence, 1) if result else None,
                    error=error,
                )
            )
            if i == 0 and first is None and result is not None:
                first = extract_fields(result.ocr)
        docs.append(DocumentView(d + 1, tuple(pages), _field_views(first, edits, d + 1, ctx.sidecar)))
    return tuple(docs), [*ctx.folder.rejected(), *laid.capture.warnings]


def _field_views(fields: DocumentFields | None, edits: Edits, ordinal: int, sidecar: Sidecar) -> tuple[FieldView, ...]:
    if fields is None:
        return ()
    corrected = edits.fields(ordinal)
    values = document_values(fields, corrected, sidecar)
    out = []
    for name, label in CORRECTABLE.items():
        read = getattr(fields, "number" if name == "number" else name, None)
        value = values.get(name, "")
        if not value and read is None:
            continue
        out.append(
            FieldView(
                name=name,
                label=label,
                value=value,
                confidence=getattr(read, "confidence", None),
                flagged=name in fields.review and name not in corrected and not edits.confirmed_by,
                corrected=name in corrected,
            )
        )
    return tuple(out)


_PAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def page_image(actor: Actor, station: Station, ref: str, page: str) -> Path:
    """The image of one page of a dossier in progress, for a screen to show (never a path outside the job)."""
    job = _find_job(actor, station, ref)
    if _PAGE_ID.fullmatch(page) and ".." not in page:
        pages = station.pipeline.folder(job.id).pages
        for suffix in (".png", ".jpg", ".tif"):
            if (pages / f"{page}{suffix}").is_file():
                return pages / f"{page}{suffix}"
    raise NotFoundError(f"hồ sơ không có trang {page}", f"no page {page} in the dossier")


# --- the dossier -------------------------------------------------------------------------------


def open_dossier(
    actor: Actor, station: Station, counter: str, *, procedure_code: str = "", owner_id: str = ""
) -> DossierView:
    """Start a new dossier at COUNTER (the one still open there is closed and goes on to be filed)."""
    c = _counter(station, counter)
    check_counter(actor, c.name, f"của quầy {c.name}")
    _check_details(procedure_code, owner_id)
    current = station.catalog.open_job(c.name)
    if current is not None:
        station.pipeline.close(current.id)
    sidecar = Sidecar(procedure_code=procedure_code, owner_id=owner_id)
    job_id = station.pipeline.intake.new_job(c, JobState.COLLECTING, {"sidecar": sidecar.__dict__}, empty=True)
    _audit(station, actor, "dossier-open", job_id, f"quầy {c.name}")
    return dossier(actor, station, job_id)


def close_dossier(actor: Actor, station: Station, counter: str) -> DossierView:
    """The clerk's word that the counter's open dossier is complete: the service files it now."""
    c = _counter(station, counter)
    check_counter(actor, c.name, f"của quầy {c.name}")
    job = station.catalog.open_job(c.name)
    if job is None:
        raise NotFoundError(f"quầy {c.name} không có hồ sơ đang mở", f"counter {c.name} has no open dossier")
    station.pipeline.close(job.id)  # an empty one is given up by whoever runs it: a scan may be on its way in
    _audit(station, actor, "dossier-close", job.dossier_code or job.id, f"quầy {c.name}")
    _carry_on(station, job.id)
    return dossier(actor, station, job.id)


def set_details(
    actor: Actor, station: Station, ref: str, *, procedure_code: str | None = None, owner_id: str | None = None
) -> DossierView:
    """The procedure code and the applicant's ID, typed or scanned by the clerk."""
    job = _editable(actor, station, ref)
    _check_details(procedure_code or "", owner_id or "")
    sidecar = Sidecar(**job.detail.get("sidecar", {}))
    changes = {k: v.strip() for k, v in (("procedure_code", procedure_code), ("owner_id", owner_id)) if v is not None}
    station.catalog.update_job_detail(job.id, sidecar=replace(sidecar, **changes).__dict__)
    detail = ", ".join(f"{k}={v}" for k, v in changes.items())
    _audit(station, actor, "dossier-details", job.dossier_code or job.id, detail)
    return dossier(actor, station, job.id)


def rotate_page(actor: Actor, station: Station, ref: str, page: str, degrees: int) -> DossierView:
    """Turn a page by hand (clockwise); its orientation is then the clerk's, not guessed again."""
    if degrees % 90 or degrees % 360 == 0:
        raise InputError("--degrees", "chỉ xoay 90, 180 hoặc 270 độ", "rotate by 90, 180 or 270 degrees", code="usage")
    job = _editable(actor, station, ref)
    folder = station.pipeline.folder(job.id)
    current = _page(station, job.id, page)
    turned_stem = f"{page.split('-r')[0]}-r{_turned_by(page) + degrees % 360}"
    target = folder.pages / f"{turned_stem}.png"
    with Image.open(current.path) as im:
        turned = im.rotate(-degrees, expand=True)  # PIL turns anticlockwise
        turned.save(target, dpi=(current.dpi, current.dpi))
    image = PageImage(target, turned.width, turned.height, current.dpi, current.source)
    owner = station.pipeline.layout(station.pipeline.context(job.id), open_missing=False).owner[current.path.stem]
    jsonio.save(folder.pages / f"{owner.path.name[:3]}.{turned_stem}.page.json", image)
    return _edit(actor, station, job, Edit("rotate", page=page, degrees=degrees, value=turned_stem))


def delete_page(actor: Actor, station: Station, ref: str, page: str) -> DossierView:
    job = _editable(actor, station, ref)
    _page(station, job.id, page)
    return _edit(actor, station, job, Edit("delete", page=page))


def move_page(actor: Actor, station: Station, ref: str, page: str, *, before: str = "") -> DossierView:
    """Move a page before another page (of any document), or to the end of its document."""
    job = _editable(actor, station, ref)
    _page(station, job.id, page)
    if before:
        _page(station, job.id, before)
    return _edit(actor, station, job, Edit("move", page=page, before=before))


def replace_page(actor: Actor, station: Station, ref: str, page: str, file: Path) -> DossierView:
    """Put a rescanned page in the place of PAGE; the new scan must be one page."""
    job = _editable(actor, station, ref)
    _page(station, job.id, page)
    pipeline = station.pipeline
    index = pipeline.intake.add_file(job.id, file, _counter(station, job.counter))
    folder = pipeline.folder(job.id)
    (folder.root / f"{index:03d}.replacement").touch()
    prepared = pipeline.intake.prepare(job.id, index, job.counter)
    if prepared is None:
        raise InputError(file.name, "không đọc được tệp quét lại (đã chuyển vào khu cách ly)", code="corrupt-image")
    if len(prepared.pages) != 1:
        raise InputError(file.name, "tệp thay thế phải có đúng một trang", "a replacement must be one page")
    new = prepared.pages[0]
    jsonio.save(folder.pages / f"{index:03d}.{new.path.stem}.page.json", new)
    return _edit(actor, station, job, Edit("replace", page=page, value=new.path.stem))


def split_document(actor: Actor, station: Station, ref: str, page: str) -> DossierView:
    """Start a new document at PAGE."""
    job = _editable(actor, station, ref)
    _page(station, job.id, page)
    return _edit(actor, station, job, Edit("split", page=page))


def merge_document(actor: Actor, station: Station, ref: str, ordinal: int) -> DossierView:
    """Join document ORDINAL (2 or more) to the one before it."""
    job = _editable(actor, station, ref)
    docs = station.pipeline.layout(station.pipeline.context(job.id), open_missing=False).capture.documents
    if not 2 <= ordinal <= len(docs):
        raise InputError(f"văn bản {ordinal}", f"chỉ gộp văn bản số 2 đến {len(docs)} vào văn bản liền trước")
    return _edit(actor, station, job, Edit("merge", page=docs[ordinal - 1].pages[0].path.stem))


def correct_field(actor: Actor, station: Station, ref: str, document: int, name: str, value: str) -> DossierView:
    """The clerk's value for one field of one document; it is what gets signed and filed."""
    if name not in CORRECTABLE:
        known = ", ".join(CORRECTABLE)
        raise InputError(name, f"không có trường này (các trường: {known})", f"unknown field (known: {known})")
    job = _editable(actor, station, ref)
    value = _normalized(name, value.strip())
    return _edit(actor, station, job, Edit("field", document=document, name=name, value=value))


def confirm(actor: Actor, station: Station, ref: str) -> DossierView:
    """The clerk has checked the dossier: it goes on to be signed and filed (closed first if still open)."""
    job = _editable(actor, station, ref)
    folder = station.pipeline.folder(job.id)
    folder.save_edits(replace(folder.edits(), confirmed_by=actor.label), invalidate=False)
    if JobState(job.state) is JobState.COLLECTING:
        station.pipeline.close(job.id)
    else:
        station.catalog.set_job_state(job.id, JobState.CONFIRMED)
    _audit(station, actor, "dossier-confirm", job.dossier_code or job.id, "xác nhận để ký số và lưu trữ")
    _carry_on(station, job.id)
    return dossier(actor, station, job.id)


finish = confirm  # "Hoàn tất": the service signs and files it


def process(actor: Actor, station: Station, files: list[Path], counter: str, *, timeout: float = 600.0) -> JobOutcome:
    """One dossier from files the clerk names, carried through every step here and now (``scanner process``).

    The clerk's files are copied, never moved; content already taken is
    refused with the code of the dossier that holds it. When the service runs
    on this workstation it does the work (one process carries jobs, see
    ``scanner.pipeline.lock``) and this waits for its outcome.
    """
    c = _counter(station, counter)
    for path in files:
        if not path.exists():
            raise InputError(str(path), "không tìm thấy tệp", "file not found", code="missing")
    pipeline = station.pipeline
    if station.config.queue is not None:  # the province's workers do the work; we wait for it
        job = pipeline.submit(files, c)
        _audit(station, actor, "process", job, ", ".join(p.name for p in files) + " (chuyển vào hàng đợi chung)")
        _carry_on(station, job)
        return _wait_for_service(station, job, timeout)
    try:
        with hold(station.config.archive.work, f"scanner process ({actor.label})"):
            job = pipeline.submit(files, c)
            _audit(station, actor, "process", job, ", ".join(p.name for p in files))
            return pipeline.run(job)
    except Busy:
        pass  # the service runs here: it does the work, we wait for it
    job = pipeline.submit(files, c)
    _audit(station, actor, "process", job, ", ".join(p.name for p in files) + " (chuyển cho dịch vụ)")
    return _wait_for_service(station, job, timeout)


def submit(
    actor: Actor,
    station: Station,
    files: list[Path],
    *,
    dossier_code: str,
    procedure_code: str,
    owner_id: str = "",
    names: list[str] | None = None,
) -> DossierView:
    """A dossier's files sent by another system (the provincial one-stop system) under the code it issued.

    The files are copied into a new closed job of a counter of the code's
    agency (the first one configured); the service processes, signs and
    files it, and the caller follows its state. An agency-bound caller may
    submit only under its own agency's codes. A code already in use here is
    refused, so a retried submission does not make a second dossier.
    """
    dossier_code, procedure_code, owner_id = dossier_code.strip(), procedure_code.strip(), owner_id.strip()
    parsed = codes.parse_dossier_code(dossier_code)
    if parsed is None:
        raise InputError("mã hồ sơ", f"'{dossier_code}' không đúng dạng mã hồ sơ <mã cơ quan>-<YYMMDD>-<NNNN>")
    if not procedure_code:
        raise InputError("mã thủ tục", "cần mã thủ tục hành chính", "procedure code required", code="usage")
    _check_details(procedure_code, owner_id)
    agency = parsed[0]
    check_agency(actor, agency, dossier_code)
    counter = next((c for c in station.config.counters if c.agency_code == agency), None)
    if counter is None:
        raise NotFoundError(f"máy trạm không có quầy nào của cơ quan {agency}", f"no counter of agency {agency}")
    if not files:
        raise InputError("tệp", "hồ sơ cần ít nhất một tệp", "at least one file", code="empty")
    if station.catalog.job_of_dossier(dossier_code) or station.catalog.dossier(dossier_code):
        raise InputError(
            dossier_code, "mã hồ sơ này đã được gửi trước đó", "dossier code already submitted", code="duplicate"
        )
    sidecar = Sidecar(dossier_code=dossier_code, procedure_code=procedure_code, owner_id=owner_id)
    job_id = station.pipeline.submit(files, counter, detail={"sidecar": sidecar.__dict__})
    # claimed now (the coding step claims it again, a no-op), so the caller can follow the dossier by its code at once
    if not station.catalog.claim_dossier_code(job_id, dossier_code, parsed[1]):
        station.catalog.set_job_state(job_id, JobState.ABANDONED, error=f"mã hồ sơ {dossier_code} đã có")
        raise InputError(
            dossier_code, "mã hồ sơ này đã được gửi trước đó", "dossier code already submitted", code="duplicate"
        )
    shown = ", ".join(names or [p.name for p in files])
    _audit(station, actor, "submit", dossier_code, f"{len(files)} tệp: {shown}")
    return dossier(actor, station, job_id)


def _wait_for_service(station: Station, job_id: str, timeout: float) -> JobOutcome:
    """The outcome of a job the service carries, once it stops moving on its own (filed, parked or waiting)."""
    deadline = time.monotonic() + timeout
    while True:
        job = station.catalog.job(job_id)
        assert job is not None
        state = JobState(job.state)
        if state.finished or state in (JobState.REVIEWING, JobState.WAITING) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    outcome = JobOutcome(job_id, state, job.dossier_code, error=job.error or None)
    if state is JobState.ARCHIVED and job.dossier_code:
        record = station.catalog.dossier(job.dossier_code)
        root = station.config.archive.root
        documents = tuple(
            DocumentOutcome(d.code, root / d.path, d.pages, d.title)
            for d in station.catalog.documents(job.dossier_code)
        )
        outcome = replace(outcome, documents=documents, warnings=record.warnings if record else ())
    elif not state.finished and state not in (JobState.REVIEWING, JobState.WAITING):
        outcome = replace(outcome, error=f"dịch vụ chưa xử lý xong sau {timeout:.0f} giây; xem scanner status")
    return outcome


# --- helpers -------------------------------------------------------------------------------------


def _carry_on(station: Station, job_id: str) -> None:
    """Sign and file a closed or confirmed dossier now when no service runs here; else the service does it.

    With the shared queue the dossier is put in line for the workers at once.
    """
    if station.config.queue is not None:
        from scanner.queue import enqueue

        job = station.catalog.job(job_id)
        if job is not None and JobState(job.state) in RUNNABLE:
            enqueue(station.config, [job])
        return
    try:
        with hold(station.config.archive.work, "scanner (cán bộ tiếp nhận)"):
            if JobState(station.catalog.job(job_id).state) in RUNNABLE:  # type: ignore[union-attr]
                station.pipeline.run(job_id)
    except Busy:
        pass  # the service holds the workstation: it picks the dossier up within a second


def _edit(actor: Actor, station: Station, job: JobRecord, edit: Edit) -> DossierView:
    job_id: str = job.id
    folder = station.pipeline.folder(job_id)
    edit = replace(edit, actor=actor.label)
    folder.save_edits(replace(folder.edits(), edits=(*folder.edits().edits, edit)))
    what = {
        "rotate": f"xoay trang {edit.page} {edit.degrees}°",
        "delete": f"xóa trang {edit.page}",
        "move": f"chuyển trang {edit.page}" + (f" lên trước trang {edit.before}" if edit.before else " xuống cuối"),
        "replace": f"thay trang {edit.page} bằng trang quét lại {edit.value}",
        "split": f"tách văn bản mới từ trang {edit.page}",
        "merge": f"gộp văn bản bắt đầu ở trang {edit.page} vào văn bản trước",
        "field": f"văn bản {edit.document}: {CORRECTABLE.get(edit.name, edit.name)} = {edit.value}",
    }[edit.op]
    _audit(station, actor, f"edit-{edit.op}", job.dossier_code or job_id, what)
    return dossier(actor, station, job_id)


@dataclass(frozen=True)
class Reused:
    dossier_code: str  # the dossier the paper counts for (its job id while no code is known yet)
    paper_code: str
    counted: bool  # False: it was already counted for this dossier


def reuse_paper(actor: Actor, station: Station, ref: str, paper_code: str) -> Reused:
    """The applicant's still-valid paper PAPER_CODE taken for dossier REF instead of a new copy (766: "tái sử dụng").

    The dossier is one the actor reaches (a clerk's own counter, a calling
    system's own agency); the paper one they may see. Counted for the
    dossier's agency and procedure, once per dossier and paper, and audited.
    """
    job = _find_job(actor, station, ref)
    view = dossier(actor, station, job.id, _job=job)
    code = view.dossier_code or job.id
    archive = archive_of(station.config, station.catalog)
    counted = records.record_reuse(
        actor, paper_code.strip(), archive=archive, dossier_code=code, agency=_agency_of(station, job.counter),
        procedure=view.procedure_code,
    )  # fmt: skip
    return Reused(code, paper_code.strip(), counted)


def _audit(station: Station, actor: Actor, action: str, subject: str, detail: str) -> None:
    station.catalog.audit(action, subject, detail, actor=actor.label)


def _counter(station: Station, name: str) -> CounterConfig:
    return station.config.counter(name)


def _find_job(actor: Actor, station: Station, ref: str) -> JobRecord:
    job = station.catalog.job(ref) or station.catalog.job_of_dossier(ref)
    if job is None:
        raise NotFoundError(f"không có hồ sơ đang xử lý mã {ref}", f"no dossier in progress {ref}")
    check_counter(actor, job.counter, ref)
    check_agency(actor, _agency_of(station, job.counter), ref)
    return job


def _agency_of(station: Station, counter: str) -> str:
    try:
        return station.config.counter(counter).agency_code
    except ScannerError:
        return ""  # a counter no longer configured: only actors bound to no agency see its dossiers


def _editable(actor: Actor, station: Station, ref: str) -> JobRecord:
    job = _find_job(actor, station, ref)
    state = JobState(job.state)
    if state not in EDITABLE:
        raise ScannerError(
            f"hồ sơ {job.dossier_code or job.id} đang ở trạng thái '{state.label_vi}': không sửa được nữa",
            f"dossier is {state}: no longer editable",
            code="not-editable",
        )
    return job


def _page(station: Station, job_id: str, page: str) -> PageImage:
    laid = station.pipeline.layout(station.pipeline.context(job_id), open_missing=False)
    for doc in laid.capture.documents:
        for p in doc.pages:
            if p.path.stem == page:
                return p
    raise NotFoundError(f"hồ sơ không có trang {page}", f"no page {page} in the dossier")


def _turned_by(page: str) -> int:
    m = re.search(r"-r(\d+)$", page)
    return int(m.group(1)) if m else 0


def _check_details(procedure_code: str, owner_id: str) -> None:
    if procedure_code and not codes.is_procedure_code(procedure_code):
        raise InputError("mã thủ tục", f"'{procedure_code}' không đúng dạng mã thủ tục hành chính", code="usage")
    if owner_id and not (codes.parse_personal_id(owner_id) or codes.is_tax_code(owner_id)):
        raise InputError("số định danh", f"'{owner_id}' không phải số định danh cá nhân hay mã số thuế", code="usage")


def _normalized(name: str, value: str) -> str:
    """Dates as ISO whatever way the clerk typed them (dd/mm/yyyy or yyyy-mm-dd)."""
    if name in ("issued_date", "valid_from", "valid_until") and value:
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
        try:
            day = date(int(m[3]), int(m[2]), int(m[1])) if m else date.fromisoformat(value)
        except ValueError:
            raise InputError(
                value, "ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)", "invalid date", code="bad-date"
            ) from None
        return day.isoformat()
    if name == "holder_id" and value:
        _check_details("", value)
    return value


__all__ = [
    "CounterStatus",
    "DocumentView",
    "DossierView",
    "FieldView",
    "JobContext",
    "PageView",
    "QuarantinedFile",
    "Station",
    "close_dossier",
    "confirm",
    "correct_field",
    "delete_page",
    "dossier",
    "finish",
    "merge_document",
    "move_page",
    "open_dossier",
    "page_image",
    "process",
    "replace_page",
    "rotate_page",
    "set_details",
    "split_document",
    "status",
    "submit",
]
