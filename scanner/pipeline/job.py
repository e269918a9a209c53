"""A job's folder in the work area and the typed values saved in it.

Every result a step produces is saved here atomically before the job's state
moves on, so a restarted service resumes at the first result that is
missing. Layout of ``<work>/jobs/<job id>/``::

    inputs/NNN.ext         the files taken, renamed; inputs.json lists them
    NNN.sidecar.json       a clerk's sidecar that came with input NNN
    prepared/NNN.json      input NNN's pages and the codes read on them (at take)
    pages/                 page images
    clean/, ocr/<page>.json  each page cleaned and recognized (keyed by page image)
    edits.json             the clerk's page and field edits, in order
    capture.json           documents after grouping and edits (recomputed after an edit)
    fields.json            the fields read from each document's first page
    pdf/, signed/          built and signed PDF/A files
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from scanner import codes, jsonio
from scanner.capture.barcodes import Receipt
from scanner.capture.group import DroppedPage
from scanner.errors import InputError, workstation_fault
from scanner.model import CleanedPage, OcrPage, PageImage, SourceFile


@dataclass(frozen=True)
class PageResult:
    cleaned: CleanedPage
    ocr: OcrPage


@dataclass(frozen=True)
class PreparedSource:
    """An input file opened at take: its pages and what was read on each before OCR."""

    index: int  # the input's number in the job (1-based), its place in scan order
    pages: tuple[PageImage, ...]
    codes: tuple[tuple[str, ...], ...]  # barcodes read on each page
    signed: bool = False  # a PDF that arrived signed: kept byte for byte beside its digitized copy


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
class Edit:
    """One change the clerk made to the dossier, replayed on top of the grouping in order.

    Pages are named by their image's stem (stable across restarts), documents
    by the stem of their first page.
    """

    op: str  # rotate | delete | move | replace | split | merge | field
    page: str = ""
    degrees: int = 0
    before: str = ""  # move: the page it goes before ("" = end of its document)
    document: int = 0  # field: the document's ordinal (1-based)
    name: str = ""  # field name
    value: str = ""  # field value / replacement page stem
    actor: str = ""


@dataclass(frozen=True)
class Edits:
    edits: tuple[Edit, ...] = ()
    confirmed_by: str = ""

    def fields(self, ordinal: int) -> dict[str, str]:
        """The clerk's values for document ORDINAL, the last correction of each field winning."""
        return {e.name: e.value for e in self.edits if e.op == "field" and e.document == ordinal}


@dataclass(frozen=True)
class DocumentOutcome:
    code: str
    path: Path
    pages: int
    title: str


@dataclass(frozen=True)
class JobOutcome:
    """What a job ended as (or where it stopped), for the CLI and the clerk."""

    job_id: str
    state: str
    dossier_code: str | None = None
    documents: tuple[DocumentOutcome, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    ready: bool = True  # False: the service left it for a later round (pages still in the pool)

    @property
    def ok(self) -> bool:
        return self.state == "archived" and not self.warnings


@dataclass(frozen=True)
class TakeResult:
    job_id: str | None
    closed: tuple[str, ...] = ()  # jobs the take closed (their dossier is complete)
    message: str = ""
    index: int | None = None  # the file's number among the job's inputs, once taken


@dataclass
class JobFolder:
    root: Path
    _sources: list[SourceFile] | None = field(default=None, repr=False)

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
    def prepared(self) -> Path:
        return self.root / "prepared"

    @property
    def pdf(self) -> Path:
        return self.root / "pdf"

    @property
    def signed(self) -> Path:
        return self.root / "signed"

    @property
    def manifest(self) -> Path:
        return self.root / "inputs.json"

    @property
    def capture_file(self) -> Path:
        return self.root / "capture.json"

    @property
    def fields_file(self) -> Path:
        return self.root / "fields.json"

    @property
    def edits_file(self) -> Path:
        return self.root / "edits.json"

    def sources(self) -> list[SourceFile]:
        return jsonio.load(self.manifest, list[SourceFile]) or []

    def save_sources(self, sources: list[SourceFile]) -> None:
        jsonio.save(self.manifest, sources)

    def rejected(self) -> list[str]:
        """What was sent to quarantine from this job, as the clerk reads it."""
        return jsonio.load(self.root / "rejected.json", list[str]) or []

    def save_rejected(self, notes: list[str]) -> None:
        jsonio.save(self.root / "rejected.json", notes)

    def prepared_at(self, index: int) -> Path:
        return self.prepared / f"{index:03d}.json"

    def load_prepared(self, index: int) -> PreparedSource | None:
        return jsonio.load(self.prepared_at(index), PreparedSource)  # type: ignore[no-any-return]

    def result_at(self, page: PageImage) -> Path:
        return self.ocr / f"{page.path.stem}.json"

    def load_result(self, page: PageImage) -> PageResult | None:
        return jsonio.load(self.result_at(page), PageResult)  # type: ignore[no-any-return]

    def edits(self) -> Edits:
        return jsonio.load(self.edits_file, Edits) or Edits()

    def save_edits(self, edits: Edits, *, invalidate: bool = True) -> None:
        """Save the clerk's edits; a change to pages or fields makes every later result be computed again."""
        jsonio.save(self.edits_file, edits)
        if not invalidate:
            return
        self.capture_file.unlink(missing_ok=True)  # the documents follow from the edits: recomputed
        self.fields_file.unlink(missing_ok=True)
        shutil.rmtree(self.pdf, ignore_errors=True)
        shutil.rmtree(self.signed, ignore_errors=True)


SIDECAR_MAX_BYTES = 64 * 1024  # a clerk's sidecar holds a few codes; a 300 MB one once filled the catalog


def read_sidecar(path: Path) -> Sidecar | None:
    """The ``<scan>.json`` beside a scan, if any; unknown keys are ignored, a broken file is an input error."""
    try:
        if not path.is_file():
            return None
        size = path.stat().st_size
    except OSError:  # a name too long to add ".json" to: such a scan has no sidecar
        return None
    if size > SIDECAR_MAX_BYTES:
        raise InputError(
            path.name,
            f"tệp JSON đi kèm quá lớn ({size // 1024} KB, tối đa {SIDECAR_MAX_BYTES // 1024} KB)",
            f"sidecar too large ({size} bytes)",
            code="bad-sidecar",
        )
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
    problems = []
    if values["dossier_code"] and not codes.parse_dossier_code(values["dossier_code"]):
        problems.append(f"mã hồ sơ '{values['dossier_code'][:40]}' không đúng quy tắc")
    if values["procedure_code"] and not codes.is_procedure_code(values["procedure_code"]):
        problems.append(f"mã thủ tục '{values['procedure_code'][:40]}' không đúng dạng")
    owner = values["owner_id"]
    if owner and not (codes.parse_personal_id(owner) or codes.is_tax_code(owner)):
        problems.append(f"số định danh '{owner[:40]}' không phải số định danh cá nhân hay mã số thuế")
    if len(values["document_type"]) > 200:
        problems.append("loại giấy tờ dài quá 200 ký tự")
    if problems:
        raise InputError(
            path.name,
            "tệp JSON đi kèm: " + "; ".join(problems),
            "invalid sidecar values",
            code="bad-sidecar",
        )
    return Sidecar(**values)


def safe_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix.isascii() and len(suffix) <= 6 and suffix[1:].isalnum() else ""


def copy_durably(src: Path, dest: Path) -> None:
    """Copy SRC to DEST, flushed; a copy cut short (a full disk) leaves nothing half-written behind."""
    tmp = dest.with_name(dest.name + ".part")
    try:
        shutil.copyfile(src, tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise workstation_fault(exc) or exc from None
    jsonio.fsync_dir(dest.parent)


def move_durably(src: Path, dest: Path) -> None:
    """Move SRC to DEST so that at every instant the file is whole in at least one of them."""
    try:
        os.rename(src, dest)
    except OSError:  # another file system: copy, flush, then remove the original
        copy_durably(src, dest)
        src.unlink()
    jsonio.fsync_dir(dest.parent)
    jsonio.fsync_dir(src.parent)
