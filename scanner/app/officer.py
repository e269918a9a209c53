"""The archive officer's use cases (search, show, owner, verify, export, reindex), and what all use cases share.

Each function takes the acting person first and the opened archive
(``Archive``: catalog, archive root, trust roots) as a keyword, and returns a
frozen dataclass; nothing here prints. Paths in results are relative to the
archive root: a result travels to screens, JSON and other machines, where the
workstation's absolute paths mean nothing.

Catalog rows are read in the application layer only (here and in
``records``), through ``column`` (rows are dicts today, frozen dataclasses
once the catalog moves to SQLAlchemy) and the ``_*_view`` functions, and the
audit log is written through ``write_audit`` alone, so the move changes a
handful of lines here and nothing in the interfaces.

The records team's use cases (report, deletion, the audit log) are in
``scanner.app.records``.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from scanner.app import Actor, Role
from scanner.app.clearance import check_read, may_read
from scanner.app.clock import agency_time
from scanner.app.rights import sees_agency
from scanner.archive import Catalog, DocumentRecord, DossierRecord, open_catalog
from scanner.archive.access import AccessLevel, access_level
from scanner.archive.catalog import EDITABLE, FixityEntry, SavedSearch, SearchHit
from scanner.archive.catalog.custody import DAMAGE_VI
from scanner.archive.fixity import FixityResult, SignatureFinding, catalog_files, check_fixity
from scanner.archive.index import SORTS, VALIDITY, Filters, fold_keyword
from scanner.archive.storage import LocalStorage, Storage, open_storage
from scanner.errors import ArchiveError, ConfigError, NotFoundError, PermissionDenied

# How many hits a search counts before it says "more than". Counting is a search without a page size,
# snippets included (about a millisecond a document): a count from the index alone would be cheaper.
COUNT_CAP = 500


# --- the opened archive ------------------------------------------------------------------


@dataclass(frozen=True)
class Archive:
    """What every use case works on: the catalog, the folder its paths are relative to, the trusted CAs.

    The archive's files are read through ``storage`` (``scanner.archive.storage``): local folders under
    ROOT unless the configuration names an S3 bucket. ROOT still holds the program's own files (the audit
    checkpoints; the SQLite catalog and its index on a workstation).
    """

    catalog: Catalog
    root: Path
    trust_roots: tuple[Path, ...] = ()
    own: tuple[Path, ...] = ()  # the program's folders that may sit under the root (the work area): not strays
    storage: Storage | None = None  # None: local folders under ROOT

    @property
    def files(self) -> Storage:
        """Where the archive's files are: the web's download reads them here too (``files.local_copy``)."""
        return self.storage if self.storage is not None else LocalStorage(self.root)


SQLITE_HEADER = b"SQLite format 3\x00"


def damaged_catalog(where: object, reason: object) -> ArchiveError:
    """The officer's message for a catalog file the database engine can no longer read."""
    said = str(getattr(reason, "orig", None) or reason)
    return ArchiveError(
        f"danh mục {where} bị hỏng, không đọc được ({DAMAGE_VI.get(said, said)}) — khôi phục từ bản sao lưu, "
        "rồi chạy lại scanner verify --all và scanner audit verify",
        f"the catalog {where} is damaged and cannot be read ({said})",
        code="catalog-damaged",
    )


def _check_header(where: Path) -> None:
    """Refuse a SQLite file whose header is gone before the engine does it with a driver's traceback text."""
    try:
        with where.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError:
        return  # missing or unreadable: opening it says so
    if head and head != SQLITE_HEADER:
        raise damaged_catalog(where, "file is not a database")


@contextmanager
def open_archive(config: Any) -> Iterator[Archive]:
    """The archive of CONFIG, its catalog closed on leaving.

    A catalog damaged past reading (a corrupt header or page) raises the
    engine's own error wherever a query meets it; it becomes one Vietnamese
    message here rather than a traceback at the officer's desk.
    """
    import sqlite3

    from sqlalchemy.exc import DatabaseError

    where = config.archive.catalog_label
    if config.archive.catalog_path is not None:
        _check_header(config.archive.catalog_path)
    try:
        with open_catalog(config.archive) as catalog:
            yield archive_of(config, catalog)
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        if str(getattr(exc, "orig", None) or exc) not in DAMAGE_VI:
            raise  # a lock held too long, a full disk: not damage, and not to be called so
        raise damaged_catalog(where, exc) from None


def archive_of(config: Any, catalog: Catalog) -> Archive:
    """The archive of CONFIG on an already opened CATALOG (the web lends its requests opened catalogs)."""
    return Archive(catalog, config.archive.root, tuple(config.signing.trust_roots), (config.archive.work,),
                   open_storage(config))  # fmt: skip


def write_audit(archive: Archive, actor: Actor, action: str, subject: str, detail: str = "") -> None:
    """The one place the officer's use cases write the audit log, with the acting person."""
    archive.catalog.audit(action, subject, detail, actor=actor.label)


def entry_actor(row: Any) -> tuple[str, str]:
    """(acting person, detail) of an audit row."""
    return row.actor, row.detail or ""


# --- search ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    code: str
    title: str
    snippet: str  # matched words in [brackets]
    dossier_code: str
    type_name: str
    kind: str  # paper | result
    issued_date: str | None
    valid_until: str | None
    path: str  # relative to the archive root
    review: tuple[str, ...]  # fields a clerk should still confirm
    score: float
    agency_code: str = ""
    access: str = AccessLevel.PUBLIC.value  # canonical level
    readable: bool = True  # the actor may read its content (else no snippet, no file)


def _hit(h: SearchHit, actor: Actor) -> Hit:
    return Hit(
        code=h.code, title=h.title, snippet=h.snippet, dossier_code=h.dossier_code, type_name=h.type_name,
        kind=h.kind, issued_date=h.issued_date, valid_until=h.valid_until, path=h.path, review=h.review,
        score=h.score, agency_code=h.agency_code, access=access_level(h.access).value,
        readable=may_read(actor, h.access),
    )  # fmt: skip


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[Hit, ...]
    total: int  # matching documents, up to COUNT_CAP
    more: bool  # more than ``total`` match
    unsearchable: int = 0  # recent documents the index does not hold yet, too many to scan (not searched)

    @property
    def notice(self) -> str:
        return not_yet_searchable(self.unsearchable)


def check_range(since: date | None, until: date | None) -> None:
    """Refuse a period that ends before it starts: it would silently find nothing."""
    if since is not None and until is not None and since > until:
        raise ConfigError(
            f"--from ({since:%d/%m/%Y}) phải trước hoặc bằng --to ({until:%d/%m/%Y})",
            f"--from ({since}) is after --to ({until})",
            code="date-range",
        )


def scoped(actor: Actor, filters: Filters) -> Filters | None:
    """FILTERS confined to the agency ACTOR may see; None when they ask for another agency (nothing to find)."""
    if not actor.agency:
        return filters
    if filters.agency and fold_keyword(filters.agency) != fold_keyword(actor.agency):
        return None
    return replace(filters, agency=actor.agency)


def search(actor: Actor, query: str, *, archive: Archive, filters: Filters, limit: int = 10) -> SearchResult:
    """Documents matching QUERY and FILTERS within ACTOR's agency, best first, with how many match in all."""
    check_range(filters.date_from, filters.date_to)
    if not query.strip() and filters.empty:
        raise ConfigError("cần từ khóa hoặc ít nhất một bộ lọc", "give a query or a filter", code="usage")
    within = scoped(actor, filters)
    found = archive.catalog.search(query, limit=max(limit, COUNT_CAP), filters=within) if within else []
    hits = tuple(_hit(h, actor) for h in found[:limit])
    hits = tuple(h if h.readable else replace(h, snippet="") for h in hits)
    late = archive.catalog.unsearchable() if within else 0
    return SearchResult(query, hits, len(found), len(found) >= COUNT_CAP, late)


# --- the search page: facets, paging, sort -------------------------------------------------

PAGE_SIZES = (10, 20, 50)  # offered on the page; any size up to the largest is taken
MAX_PAGE = 50  # deep relevance pages cost their depth; nobody reads page 51 of a result list

FACET_LABELS = {
    "agency": "Cơ quan",
    "procedure": "Thủ tục hành chính",
    "type": "Loại giấy tờ",
    "year": "Năm ban hành",
    "validity": "Hiệu lực",
    "access": "Chế độ sử dụng",
}
VALIDITY_VI = {"valid": "Còn hiệu lực (có thời hạn)", "expired": "Hết hiệu lực", "indefinite": "Không thời hạn"}
SORTS_VI = {"relevance": "Phù hợp nhất", "date": "Mới nhất", "code": "Theo mã"}


@dataclass(frozen=True)
class FacetValue:
    value: str  # what the filter takes
    label: str  # what the officer reads
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str  # agency | procedure | type | year | validity | access
    label: str
    values: tuple[FacetValue, ...]


@dataclass(frozen=True)
class SearchPageResult:
    query: str
    hits: tuple[Hit, ...]
    total: int
    page: int  # from 1
    size: int
    sort: str
    facets: tuple[Facet, ...]
    unsearchable: int = 0  # recent documents the index does not hold yet, too many to scan (not searched)

    @property
    def notice(self) -> str:
        return not_yet_searchable(self.unsearchable)

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, -(-self.total // self.size)))


def _selected(filters: Filters, name: str) -> str | None:
    value = {"type": filters.doc_type}.get(name, getattr(filters, name, None))
    return None if value is None else str(value)


def search_page(
    actor: Actor,
    query: str,
    *,
    archive: Archive,
    filters: Filters,
    sort: str = "relevance",
    page: int = 1,
    size: int = 20,
) -> SearchPageResult:
    """One page of the officer's search: hits in SORT order, the total, and facets with counts.

    Confined to the actor's agency like every look-up; a hit whose access
    level the actor may not read shows its description but no snippet.
    An empty query with no filter lists everything the actor may see,
    newest first.
    """
    check_range(filters.date_from, filters.date_to)
    if sort not in SORTS:
        raise ConfigError(f"cách sắp xếp không hợp lệ: {sort}", f"unknown sort {sort!r}", code="usage")
    if filters.validity and filters.validity not in VALIDITY:
        raise ConfigError(f"hiệu lực không hợp lệ: {filters.validity}", "unknown validity", code="usage")
    size = min(max(1, size), max(PAGE_SIZES))
    page = min(max(1, page), MAX_PAGE)
    if sort == "relevance" and not query.strip():
        sort = "date"
    within = scoped(actor, filters)
    if within is None:
        return SearchPageResult(query, (), 0, page, size, sort, ())
    found = archive.catalog.search_page(
        query,
        within,
        sort=sort,
        offset=(page - 1) * size,
        limit=size,
        snippets=lambda h: may_read(actor, h.access),
    )
    facets = []
    for name, label in FACET_LABELS.items():
        if name == "agency" and actor.agency:
            continue  # one agency: nothing to choose
        chosen = _selected(within if name != "agency" else filters, name)
        values = []
        for value, count in found.facets.get(name, []):
            if name == "access":
                shown = access_level(value).label_vi
            elif name == "validity":
                shown = VALIDITY_VI.get(value, value)
            else:
                shown = value
            values.append(
                FacetValue(value, shown, count, chosen is not None and fold_keyword(chosen) == fold_keyword(value))
            )
        facets.append(Facet(name, label, tuple(values)))
    hits = tuple(_hit(h, actor) for h in found.hits)
    return SearchPageResult(query, hits, found.total, page, size, sort, tuple(facets), found.unsearchable)


# --- saved searches --------------------------------------------------------------------------


def save_search(actor: Actor, name: str, query: str, params: Mapping[str, str], *, archive: Archive) -> SavedSearch:
    """Keep the search page's QUERY and PARAMS (filters, sort) under NAME for ACTOR alone."""
    name = " ".join(name.split())
    if not name:
        raise ConfigError("cần đặt tên cho tìm kiếm được lưu", "a saved search needs a name", code="usage")
    if len(name) > 100:
        raise ConfigError("tên tìm kiếm được lưu dài quá 100 ký tự", "name longer than 100 characters", code="usage")
    kept = {k: str(v) for k, v in params.items() if v not in (None, "") and k != "q"}
    return archive.catalog.saved_searches.save(actor.name, name, query, kept)


def saved_searches(actor: Actor, *, archive: Archive) -> tuple[SavedSearch, ...]:
    return tuple(archive.catalog.saved_searches.list(actor.name))


def delete_saved_search(actor: Actor, search_id: int, *, archive: Archive) -> None:
    if not archive.catalog.saved_searches.delete(actor.name, search_id):
        raise NotFoundError(f"không có tìm kiếm được lưu số {search_id}", f"no saved search {search_id}")


# --- show --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentView:
    """A document as an officer reads it (its recognized text left out: it is what search is for)."""

    code: str
    dossier_code: str
    ordinal: int
    title: str
    type_name: str
    code_number: str
    code_notation: str
    issued_date: str | None
    organ_name: str
    subject: str
    kind: str
    valid_from: str | None
    valid_until: str | None
    holder_name: str
    holder_id: str
    identifiers: tuple[str, ...]
    pages: int
    path: str
    sha256: str
    size: int
    pdfa: str
    signer: str
    signed_at: str | None
    signature_level: str
    ocr_confidence: float | None
    language: str
    fields: dict[str, Any] = field(hash=False, compare=False)
    review: tuple[str, ...] = ()


@dataclass(frozen=True)
class DossierView:
    code: str
    title: str
    agency_code: str
    agency_name: str
    counter: str
    procedure_code: str
    owner_id: str
    receipt_date: str
    retention: str
    access: str
    creator: str
    language: str
    start_date: str | None
    end_date: str | None
    description: str
    file_code: str  # FileCode of Phụ lục VI: agency code + year + notation
    doc_total: int
    page_total: int
    path: str
    warnings: tuple[str, ...]
    created: str


@dataclass(frozen=True)
class Shown:
    """A dossier with its documents, or (``document`` set) one document with the dossier it belongs to."""

    code: str
    dossier: DossierView
    documents: tuple[DocumentView, ...]
    document: DocumentView | None = None
    readable: bool = True  # the actor may read the content (preview, download, export)
    access: str = AccessLevel.PUBLIC.value  # canonical level


def record_of(actor: Actor, code: str, archive: Archive) -> tuple[DossierRecord, DocumentRecord | None]:
    """The dossier CODE names (or the document CODE and its dossier), if ACTOR's agency may see it.

    Another agency's record is *not found*, worded as a missing one is.
    """
    catalog = archive.catalog
    dossier = catalog.dossier(code)
    doc = None
    if dossier is None:
        doc = catalog.document(code)
        if doc is None:
            raise not_found(code)
        dossier = catalog.dossier(doc.dossier_code)
        if dossier is None:
            raise not_found(code)
    if not sees_agency(actor, dossier.agency_code):
        raise not_found(code)
    return dossier, doc


def _document_view(d: DocumentRecord) -> DocumentView:
    return DocumentView(
        code=d.code, dossier_code=d.dossier_code, ordinal=d.ordinal, title=d.title, type_name=d.type_name,
        code_number=d.code_number, code_notation=d.code_notation, issued_date=d.issued_date,
        organ_name=d.organ_name, subject=d.subject, kind=d.kind, valid_from=d.valid_from,
        valid_until=d.valid_until, holder_name=d.holder_name, holder_id=d.holder_id,
        identifiers=tuple(d.identifiers), pages=d.pages, path=d.path, sha256=d.sha256, size=d.size, pdfa=d.pdfa,
        signer=d.signer, signed_at=d.signed_at, signature_level=d.signature_level,
        ocr_confidence=d.ocr_confidence, language=d.language, fields=dict(d.fields), review=tuple(d.review),
    )  # fmt: skip


def _dossier_view(s: DossierRecord) -> DossierView:
    file_code = ".".join(p for p in (s.agency_code, str(s.file_catalog or ""), s.file_notation) if p)
    return DossierView(
        code=s.code, title=s.title, agency_code=s.agency_code, agency_name=s.agency_name, counter=s.counter,
        procedure_code=s.procedure_code, owner_id=s.owner_id, receipt_date=s.receipt_date, retention=s.retention,
        access=s.access, creator=s.creator, language=s.language, start_date=s.start_date, end_date=s.end_date,
        description=s.description, file_code=file_code if s.file_notation else "", doc_total=s.doc_total,
        page_total=s.page_total, path=s.path, warnings=tuple(s.warnings), created=s.created,
    )  # fmt: skip


def not_found(code: str) -> NotFoundError:
    return NotFoundError(f"không có hồ sơ hay văn bản mã {code}", f"no dossier or document {code}")


def show(actor: Actor, code: str, *, archive: Archive) -> Shown:
    """A dossier or document record within the actor's agency; the viewing is audited."""
    dossier, doc = record_of(actor, code, archive)
    document = _document_view(doc) if doc else None
    docs = (document,) if document else tuple(_document_view(d) for d in archive.catalog.documents(dossier.code))
    write_audit(archive, actor, "view", code)
    level = access_level(dossier.access)
    return Shown(code, _dossier_view(dossier), docs, document, may_read(actor, dossier.access), level.value)


# --- the stored PDF, for preview and download ----------------------------------------------


@dataclass(frozen=True)
class StoredPdf:
    code: str
    path: Path  # on disk while the ``open_pdf`` block runs: handed to the web server to stream, never shown
    name: str  # the file name to offer (``<document code>.pdf``)
    sha256: str
    size: int


@contextmanager
def open_pdf(actor: Actor, code: str, *, archive: Archive, purpose: str = "download") -> Iterator[StoredPdf]:
    """Document CODE's signed PDF, if ACTOR's agency and access level allow; audited as PURPOSE.

    A context manager because the file is read through the archive's storage
    (``Archive.files.local_copy``): on local folders it is the stored file
    itself, on S3 a temporary download that is removed when the block ends —
    so the web keeps the block open until the response is sent. The file's
    hash is not checked here (that is ``verify``): a preview must not cost a
    re-hash of a large scan; the audit entry names the person.
    """
    dossier, doc = record_of(actor, code, archive)
    if doc is None:
        raise NotFoundError(f"{code} là hồ sơ, không phải văn bản: chọn một văn bản", f"{code} is a dossier")
    check_read(actor, dossier.access, code)
    missing = ArchiveError(
        f"tệp của {code} không còn trong kho ({doc.path}) — chạy scanner verify {code}",
        f"the file of {code} is missing: {doc.path}",
        code="file-missing",
    )
    rel = PurePosixPath(doc.path)
    if rel.is_absolute() or ".." in rel.parts:
        raise missing  # a catalog row pointing outside the archive is never followed
    with archive.files.local_copy(doc.path) as path:
        if path is None:
            raise missing
        write_audit(archive, actor, "download", code, "xem trước" if purpose == "preview" else "tải về")
        yield StoredPdf(code, path, f"{doc.code}.pdf", doc.sha256, doc.size)


# --- edit ----------------------------------------------------------------------------------

EDITORS = (Role.OFFICER, Role.SUPERVISOR, Role.SYSTEM)
RETENTIONS = ("vĩnh viễn", "70 năm", "50 năm", "30 năm", "20 năm", "10 năm", "khác")  # suggested, not enforced
_LIMITS = {"retention": 30, "description": 500}  # Phụ lục VI field lengths


def check_editor(actor: Actor) -> None:
    """Only those who keep the records change them or ask for their destruction: officers and supervisors."""
    if actor.role not in EDITORS:
        raise PermissionDenied(
            f"{actor.role.label_vi} không được sửa hay đề nghị hủy hồ sơ", f"role {actor.role} may not change records"
        )


@dataclass(frozen=True)
class Change:
    field: str  # retention | access | description
    label: str  # Vietnamese name of the field
    old: str
    new: str


@dataclass(frozen=True)
class Edited:
    code: str  # the dossier edited
    changes: tuple[Change, ...]


def edit(
    actor: Actor,
    code: str,
    *,
    archive: Archive,
    retention: str | None = None,
    access: str | None = None,
    description: str | None = None,
) -> Edited:
    """Change the dossier's retention, access level or description (of CODE's dossier); audited old → new.

    Only officers and supervisors edit, and only records whose content they
    may read: an officer cannot lower a secret record to public. The access
    level must be one of the three levels; the texts keep Phụ lục VI's
    lengths.
    """
    check_editor(actor)
    dossier, _ = record_of(actor, code, archive)
    check_read(actor, dossier.access, code)
    changes: dict[str, str] = {}
    for name, value in (("retention", retention), ("description", description)):
        if value is not None:
            value = " ".join(unicodedata.normalize("NFC", value).split())
            if len(value) > _LIMITS[name]:
                raise ConfigError(
                    f"{EDITABLE[name]} dài quá {_LIMITS[name]} ký tự",
                    f"{name} longer than {_LIMITS[name]}",
                    code="usage",
                )
            changes[name] = value
    if access is not None:
        levels = {level.value: level for level in AccessLevel}
        chosen = levels.get(unicodedata.normalize("NFC", access.strip()))
        if chosen is None:
            raise ConfigError(
                f"chế độ sử dụng phải là một trong: {', '.join(levels)}", f"access must be one of {list(levels)}",
                code="usage",
            )  # fmt: skip
        if access_level(dossier.access) != chosen:
            changes["access"] = chosen.value
    diff = archive.catalog.edit_dossier(dossier.code, changes, actor=actor.label) or {}
    return Edited(dossier.code, tuple(Change(k, EDITABLE[k], old, new) for k, (old, new) in diff.items()))


# --- signature and fixity panel --------------------------------------------------------------


@dataclass(frozen=True)
class FileIntegrity:
    """One stored file of a record: what was filed and the latest fixity check of it."""

    path: str  # relative to the archive root
    role: str  # document | original | metadata
    document_code: str | None
    sha256: str
    size: int
    checks: int  # fixity checks recorded
    last: FixityEntry | None


@dataclass(frozen=True)
class Integrity:
    code: str
    signatures: tuple[tuple[str, str, str | None, str], ...]  # (document code, signer, signed at, level)
    files: tuple[FileIntegrity, ...]


def integrity(actor: Actor, code: str, *, archive: Archive) -> Integrity:
    """What the signature and fixity panel shows: each document's signature as filed, each file's last check."""
    dossier, doc = record_of(actor, code, archive)
    catalog = archive.catalog
    docs = [doc] if doc else catalog.documents(dossier.code)
    wanted = {d.code for d in docs}
    files = []
    for f in catalog.stored_files([dossier.code]):
        if doc is not None and f.document_code is not None and f.document_code not in wanted:
            continue  # another document's file; the dossier's own (dossier.json) is checked with every document
        history = catalog.fixity_history(f.path)
        files.append(
            FileIntegrity(
                f.path, f.role, f.document_code, f.sha256, f.size, len(history), history[-1] if history else None
            )
        )
    return Integrity(code, tuple((d.code, d.signer, d.signed_at, d.signature_level) for d in docs), tuple(files))


@dataclass(frozen=True)
class SignedFile:
    code: str
    path: Path  # on disk while the ``signed_file`` block runs: the web serves it, nobody prints it
    name: str  # what the download is called


@contextmanager
def signed_file(actor: Actor, code: str, *, archive: Archive) -> Iterator[SignedFile]:
    """A document's signed PDF for the counter and the API: ``open_pdf``'s rules (agency, access level), audited."""
    with open_pdf(actor, code, archive=archive) as pdf:
        yield SignedFile(pdf.code, pdf.path, pdf.name)


# --- owner -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerPaper:
    code: str
    dossier_code: str
    title: str
    type_name: str
    kind: str
    code_number: str
    code_notation: str
    issued_date: str | None
    valid_from: str | None
    valid_until: str | None
    holder_name: str
    agency_name: str
    procedure_code: str
    receipt_date: str
    roles: tuple[str, ...]  # how the owner is named: applicant, holder, identifier
    path: str


@dataclass(frozen=True)
class OwnerPapers:
    owner_id: str
    on: date
    papers: tuple[OwnerPaper, ...]


def _owner_paper(r: Any) -> OwnerPaper:
    def text(name: str) -> str:
        return str(getattr(r, name) or "")

    return OwnerPaper(
        code=text("code"), dossier_code=text("dossier_code"), title=text("title"), type_name=text("type_name"),
        kind=text("kind"), code_number=text("code_number"), code_notation=text("code_notation"),
        issued_date=r.issued_date or None, valid_from=r.valid_from or None,
        valid_until=r.valid_until or None, holder_name=text("holder_name"), agency_name=text("agency_name"),
        procedure_code=text("procedure_code"), receipt_date=text("receipt_date"),
        roles=tuple(filter(None, text("roles").split(","))), path=text("path"),
    )  # fmt: skip


def owner(actor: Actor, owner_id: str, *, archive: Archive, on: date | None = None) -> OwnerPapers:
    """The owner's papers and results still valid ON (today), newest first; the look-up is audited."""
    day = on or date.today()
    rows = archive.catalog.owner_documents(owner_id, on=day)
    if actor.agency:  # confined to one agency: only the papers its own dossiers hold
        agencies: dict[str, str] = {}
        for r in rows:
            if r.dossier_code not in agencies:
                d = archive.catalog.dossier(r.dossier_code)
                agencies[r.dossier_code] = d.agency_code if d else ""
        rows = [r for r in rows if sees_agency(actor, agencies[r.dossier_code])]
    papers = tuple(_owner_paper(r) for r in rows)
    write_audit(archive, actor, "view", f"owner:{owner_id}", f"{len(papers)} văn bản")
    return OwnerPapers(owner_id, day, papers)


# --- verify ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    checks: tuple[FixityResult, ...]  # paths relative to the archive root
    # the catalog and the store as a whole (whole-archive runs): damage, removed dossiers, a bucket without a lock
    catalog_problems: tuple[str, ...] = ()

    @property
    def failures(self) -> int:
        return sum(not c.ok for c in self.checks)

    @property
    def ok(self) -> bool:
        return self.failures == 0 and not self.catalog_problems


_REVOCATION_VI = {
    "good": "không bị thu hồi (theo dữ liệu OCSP/CRL lưu trong tệp)",
    "revoked": "ĐÃ BỊ THU HỒI",
    "incomplete": "dữ liệu trong tệp không đủ để kết luận",
    "none": "tệp không lưu dữ liệu thu hồi",
}


def signature_check(trust_roots: Sequence[Path]) -> Callable[[Path], SignatureFinding]:
    """The signing stage's file check, as fixity wants it: one line per signature, and the problems."""
    from scanner.sign.verify import check_file

    def check(path: Path) -> SignatureFinding:
        checked = check_file(path, trust_roots)
        lines = []
        for sig in checked.signatures:
            if not sig.signed:
                continue
            lines.append(
                f"chữ ký '{sig.field_name}' của {sig.signer or 'không rõ'}: "
                f"toàn vẹn {'có' if sig.intact and sig.valid else 'KHÔNG'}, "
                f"chuỗi tin cậy {'có' if sig.trusted else 'KHÔNG'}, mức {sig.level or '—'}, "
                f"dấu thời gian {agency_time(sig.timestamp) or 'không có'}, "
                f"trạng thái thu hồi: {_REVOCATION_VI.get(sig.revocation, sig.revocation)}"
            )
        for ts in checked.timestamps:
            good = ts.intact and ts.valid and ts.trusted
            lines.append(
                f"dấu thời gian tài liệu '{ts.field_name}': {agency_time(ts.time) or '?'}, "
                f"{'hợp lệ' if good else 'KHÔNG hợp lệ'}"
            )
        lines.append(f"PDF/A: {checked.pdfa or 'không khai báo'}")
        trusted = {s.field_name for s in checked.signatures if s.signed and s.intact and s.valid and s.trusted}
        stamps = {t.field_name for t in checked.timestamps if t.intact and t.valid and t.trusted}
        return SignatureFinding("\n".join(lines), tuple(checked.problems), frozenset(trusted), frozenset(stamps))

    return check


def verify(actor: Actor, codes: Sequence[str] = (), *, archive: Archive, everything: bool = False) -> VerifyReport:
    """Re-hash the stored files of CODES (dossiers or documents), or of the whole archive, and check signatures.

    Each signed PDF is also held to the catalog's rows (its signed XMP
    names its dossier, document, owner and fields). A whole-archive run
    also walks the archive folder for orphans and strays, asks the database
    engine to check the catalog file, and looks for dossiers the audit log
    says were filed and the catalog no longer has. Every file checked leaves
    a fixity event; the run itself is audited with the acting person.
    """
    if not codes and not everything:
        raise ConfigError("cần chỉ định mã hồ sơ/văn bản hoặc --all", "give codes or --all", code="usage")
    catalog = archive.catalog
    dossiers: list[str] | None = None
    documents: set[str] | None = None
    if not everything:
        dossiers, documents = [], set()
        for code in codes:
            dossier, doc = record_of(actor, code, archive)
            dossiers.append(dossier.code)
            if doc is None:
                documents.update(d.code for d in catalog.documents(code))
            else:
                documents.add(doc.code)
        dossiers = list(dict.fromkeys(dossiers))
    checks = check_fixity(
        catalog,
        archive.files,
        signature_check(archive.trust_roots),
        dossiers=dossiers,
        documents=documents,
        actor=actor.label,
        walk=everything,
        own_files=(*catalog_files(catalog), *archive.own),
    )
    report = VerifyReport(tuple(checks), tuple([*catalog_problems(archive), *archive.files.problems()])
                          if everything else ())  # fmt: skip
    subject = "*" if everything else ", ".join(codes)
    write_audit(archive, actor, "verify", subject, f"{len(checks) - report.failures}/{len(checks)} tệp hợp lệ")
    return report


def catalog_problems(archive: Archive) -> list[str]:
    """What is wrong with the catalog as a whole: a damaged file, dossiers filed and since removed from it."""
    catalog = archive.catalog
    problems = catalog.custody_store.integrity_problems()
    present = catalog.custody_store.dossier_codes()
    for code, entry in sorted(catalog.custody_store.ingested().items()):
        if code not in present:
            problems.append(
                f"hồ sơ {code} đã được lưu trữ (nhật ký kiểm toán mục {entry}) nhưng không còn trong danh mục"
            )
    return problems


# --- export ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    code: str
    bag: Path  # where the officer asked for it: not inside the archive


def export(actor: Actor, code: str, out: Path, *, archive: Archive) -> Exported:
    """CODE as a validated BagIt bag in ``OUT/CODE``; refused if a stored file no longer matches its hash."""
    from scanner.archive.export import export_bag

    dossier, _ = record_of(actor, code, archive)
    check_read(actor, dossier.access, code)

    def audit(action: str, subject: str, detail: str) -> None:
        write_audit(archive, actor, action, subject, detail)

    return Exported(code, export_bag(archive.catalog, archive.files, code, out, audit=audit))


# --- index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reindexed:
    documents: int


def reindex(actor: Actor, *, archive: Archive, progress: Callable[[int], None] | None = None) -> Reindexed:
    """Rebuild the search index from the catalog beside the live one (the catalog audits the rebuild).

    Run again after an interruption, it continues where it stopped.
    """
    return Reindexed(archive.catalog.reindex(actor=actor.label, progress=progress))


def index_service(
    actor: Actor, *, archive: Archive, stop: threading.Event, on_batch: Callable[[int], None] | None = None
) -> None:
    """Be the province's one writer of the search index until STOP is set (``[index] service = true``)."""
    archive.catalog.serve_index(stop, actor=actor.label, on_batch=on_batch)


def not_yet_searchable(count: int) -> str:
    """What a result list says when recent documents were too many to search without the index."""
    if not count:
        return ""
    return (
        f"Còn khoảng {count} văn bản mới nộp lưu chưa vào chỉ mục tìm kiếm nên chưa tìm thấy được; "
        "hãy tìm lại sau ít phút."
    )
