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

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from scanner.app import Actor
from scanner.app.clock import agency_time
from scanner.app.rights import check_agency, sees_agency
from scanner.archive import Catalog, DocumentRecord, DossierRecord, open_catalog
from scanner.archive.catalog.custody import DAMAGE_VI
from scanner.archive.fixity import FixityResult, SignatureFinding, catalog_files, check_fixity
from scanner.archive.index import Filters
from scanner.archive.storage import LocalStorage, Storage, open_storage
from scanner.errors import ArchiveError, ConfigError, NotFoundError

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


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[Hit, ...]
    total: int  # matching documents, up to COUNT_CAP
    more: bool  # more than ``total`` match


def check_range(since: date | None, until: date | None) -> None:
    """Refuse a period that ends before it starts: it would silently find nothing."""
    if since is not None and until is not None and since > until:
        raise ConfigError(
            f"--from ({since:%d/%m/%Y}) phải trước hoặc bằng --to ({until:%d/%m/%Y})",
            f"--from ({since}) is after --to ({until})",
            code="date-range",
        )


def search(actor: Actor, query: str, *, archive: Archive, filters: Filters, limit: int = 10) -> SearchResult:
    """Documents matching QUERY and FILTERS, best first, with how many match in all."""
    check_range(filters.date_from, filters.date_to)
    if not query.strip() and filters.empty:
        raise ConfigError("cần từ khóa hoặc ít nhất một bộ lọc", "give a query or a filter", code="usage")
    if actor.agency:  # confined to one agency: its records only, whatever filter was asked for
        if filters.agency and filters.agency != actor.agency:
            return SearchResult(query, (), 0, False)
        filters = replace(filters, agency=actor.agency)
    found = archive.catalog.search(query, limit=max(limit, COUNT_CAP), filters=filters)
    hits = []
    for h in found[:limit]:
        doc = archive.catalog.document(h.code)
        hits.append(
            Hit(
                code=h.code,
                title=h.title,
                snippet=h.snippet,
                dossier_code=h.dossier_code,
                type_name=h.type_name,
                kind=doc.kind if doc else "",
                issued_date=h.issued_date,
                valid_until=doc.valid_until if doc else None,
                path=h.path,
                review=tuple(doc.review) if doc else (),
                score=h.score,
            )
        )
    return SearchResult(query, tuple(hits), len(found), len(found) >= COUNT_CAP)


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
    """A dossier or document record; the viewing is audited."""
    catalog = archive.catalog
    dossier = catalog.dossier(code)
    document = None
    if dossier is None:
        doc = catalog.document(code)
        if doc is None:
            raise not_found(code)
        dossier = catalog.dossier(doc.dossier_code)
        if dossier is None:
            raise not_found(doc.dossier_code)
        check_agency(actor, dossier.agency_code, code)
        document = _document_view(doc)
        docs: tuple[DocumentView, ...] = (document,)
    else:
        check_agency(actor, dossier.agency_code, code)
        docs = tuple(_document_view(d) for d in catalog.documents(code))
    write_audit(archive, actor, "view", code)
    return Shown(code, _dossier_view(dossier), docs, document)


@dataclass(frozen=True)
class SignedFile:
    code: str
    path: Path  # absolute: the web serves it, nobody prints it
    name: str  # what the download is called


def signed_file(actor: Actor, code: str, *, archive: Archive) -> SignedFile:
    """A document's signed PDF, for opening or download; the download is audited."""
    doc = archive.catalog.document(code)
    dossier = archive.catalog.dossier(doc.dossier_code) if doc else None
    if doc is None or dossier is None:
        raise not_found(code)
    check_agency(actor, dossier.agency_code, code)
    path = archive.root / doc.path
    if not path.is_file():
        raise ArchiveError(f"tệp của văn bản {code} không còn trong kho ({doc.path})", f"file of {code} is missing")
    write_audit(archive, actor, "download", code, doc.path)
    return SignedFile(code, path, Path(doc.path).name)


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
            if catalog.dossier(code) is not None:
                dossiers.append(code)
                documents.update(d.code for d in catalog.documents(code))
            elif (doc := catalog.document(code)) is not None:
                dossiers.append(doc.dossier_code)
                documents.add(doc.code)
            else:
                raise not_found(code)
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

    def audit(action: str, subject: str, detail: str) -> None:
        write_audit(archive, actor, action, subject, detail)

    return Exported(code, export_bag(archive.catalog, archive.files, code, out, audit=audit))


# --- index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reindexed:
    documents: int


def reindex(actor: Actor, *, archive: Archive) -> Reindexed:
    """Rebuild the search index from the catalog (the catalog audits the rebuild)."""
    return Reindexed(archive.catalog.reindex(actor=actor.label))
