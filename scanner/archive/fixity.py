"""Fixity: re-hash every stored file, check its signature and its identity, and keep the outcome per file.

Following preservation practice (PREMIS "fixity check" events), every check
is recorded, good or bad, so an officer can show when a file was last known
intact. This is the one check of a stored file — ``scanner verify``, the
web and the scheduled run all come here — so a file judged intact in one
place is judged intact everywhere. The signature check is passed in by the
caller: the archive does not call the signing stage itself.

A hash in the catalog only proves the file is the one the catalog names,
and whoever can edit the file can edit the catalog too. What cannot be
edited without the agency's key is the signed PDF itself: its XMP packet,
inside the signed bytes, carries the dossier and document codes, the
agency, procedure and owner, and every filed value (``field_*``) with the
title. So each signed PDF is read as it was signed (the bytes its agency
signature covers, not whatever a later incremental update says) and the
catalog's rows — document, dossier, and the owner links ``scanner owner``
answers from — must say the same; the identifiers printed on the paper,
which the XMP does not carry, must be in its signed OCR text layer. A PDF
copied over another's, or a holder changed in the catalog, shows up here
even when the hash was updated too.

A whole-archive run also walks the archive folder: a dossier folder the
catalog does not know (its rows deleted) and a file nobody filed are
reported as well, since the catalog alone can only speak of what it lists.

Files are read through the archive's storage (``scanner.archive.storage``):
in place on local folders, from a temporary download on S3 — the bytes are
hashed here, never taken on the store's word.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from scanner.app import SYSTEM
from scanner.archive import Catalog, DocumentRecord, DossierRecord, sha256_file
from scanner.archive.catalog import StoredFile
from scanner.archive.storage import OWN_FOLDERS, Storage, as_storage
from scanner.pdf.xmp import clean_text, read_scanner_properties


@dataclass(frozen=True)
class SignatureFinding:
    """What the signature check says of one PDF: the officer's lines, the problems, and which signatures hold.

    ``trusted``: the field names of the signatures that are intact, valid
    and made by a certificate the workstation trusts; ``timestamps``: the
    document timestamps that verify. The identity check reads the PDF as
    the trusted signatures cover it, so it runs only with a finding.
    """

    text: str
    problems: tuple[str, ...] = ()
    trusted: frozenset[str] = frozenset()
    timestamps: frozenset[str] = frozenset()


# Checks a stored PDF's signatures. A plain (text, problems) pair names no trusted signature: the file's
# identity is then not checked (a stub in a test of the hashing, or a caller that checks signatures only).
SignatureCheck = Callable[[Path], "SignatureFinding | tuple[str, list[str]]"]


@dataclass(frozen=True)
class FixityResult:
    path: str  # relative to the archive root
    document_code: str | None
    dossier_code: str
    # document | original | metadata; orphan | stray for what the catalog does not list; dossier for a folder it
    # lists that is not there
    role: str
    expected: str
    actual: str | None
    signature: str = ""
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def check_fixity(
    catalog: Catalog,
    where: Path | Storage,
    signature: SignatureCheck | None,
    *,
    dossiers: Sequence[str] | None = None,
    documents: Collection[str] | None = None,
    actor: str = SYSTEM.label,
    walk: bool = False,
    own_files: Collection[Path] = (),
) -> list[FixityResult]:
    """Check every stored file (or those of DOSSIERS) against the catalog; record one fixity event each.

    DOCUMENTS narrows the signed PDFs to those codes; the dossier's
    ``dossier.json`` and signed originals are checked with them, since a
    document is only as trustworthy as the record that files it. WALK
    (a whole-archive run) also looks for folders and files the catalog does
    not list; OWN_FILES are the program's files kept under the root (the
    catalog itself, its search index), which are not strays. WHERE is the
    archive's storage (or the root of its local folders).
    """
    storage = as_storage(where)
    stored = catalog.stored_files(dossiers)
    codes = sorted({f.dossier_code for f in stored} | set(dossiers or ()))
    records = _Records(catalog, codes if dossiers is not None else None)
    out: list[FixityResult] = []
    for f in stored:
        if documents is not None and f.role == "document" and f.document_code not in documents:
            continue
        problems: list[str] = []
        actual: str | None = None
        sig = ""
        with storage.local_copy(f.path) as path:
            if path is None:
                problems.append("tệp không còn trong kho lưu trữ")
            else:
                actual = sha256_file(path)
                sig = _check_file(path, actual, f, records, signature, problems)
        out.append(
            _record(
                catalog,
                FixityResult(
                    path=f.path,
                    document_code=f.document_code,
                    dossier_code=f.dossier_code,
                    role=f.role,
                    expected=f.sha256,
                    actual=actual,
                    signature=sig,
                    problems=tuple(dict.fromkeys(problems)),
                ),
                actor,
            )
        )
    for doc in records.unfiled_documents(stored, documents):
        problem = f"văn bản {doc.code} có trong danh mục nhưng không có tệp nào được ghi cho nó"
        out.append(_record(catalog, FixityResult(doc.path, doc.code, doc.dossier_code, "document", doc.sha256, None,
                                                 problems=(problem,)), actor))  # fmt: skip
    if walk:
        out.extend(_record(catalog, r, actor) for r in unlisted(storage, {f.path for f in stored}, records, own_files))
    return out


def _check_file(
    path: Path, actual: str, f: StoredFile, records: _Records, signature: SignatureCheck | None, problems: list[str]
) -> str:
    """The checks of one stored file read at PATH (hashed ACTUAL); adds to PROBLEMS, returns the signature lines."""
    sig = ""
    if actual != f.sha256:
        problems.append("mã băm SHA-256 khác với danh mục (tệp đã bị thay đổi)")
    if f.dossier_code not in records.dossiers:
        problems.append(f"danh mục có tệp của hồ sơ {f.dossier_code} nhưng không có hồ sơ đó")
    if f.role == "document":
        problems.extend(records.document_problems(f.path, f.document_code, f.sha256, f.size))
        found = signature(path) if signature is not None else None
        if isinstance(found, SignatureFinding):
            sig = found.text
            problems.extend(found.problems)
            problems.extend(_identity_problems(path, records, f.document_code, f.dossier_code, found))
        elif found is not None:
            sig = found[0]
            problems.extend(found[1])
    return sig


def _record(catalog: Catalog, result: FixityResult, actor: str) -> FixityResult:
    catalog.record_fixity(
        result.path,
        result.document_code,
        result.expected,
        result.actual,
        result.signature,
        "ok" if result.ok else "failed",
        "; ".join(result.problems),
        actor=actor,
    )
    return result


# --- the catalog's side --------------------------------------------------------------------------


class _Records:
    """The catalog rows a check compares with the files: read once per run, not once per file."""

    def __init__(self, catalog: Catalog, codes: list[str] | None) -> None:
        self.dossiers: dict[str, DossierRecord] = {}
        self.documents: dict[str, DocumentRecord] = {}
        names = sorted(catalog.custody_store.dossier_codes()) if codes is None else codes
        for code in names:
            if (dossier := catalog.dossier(code)) is not None:
                self.dossiers[code] = dossier
                self.documents.update((d.code, d) for d in catalog.documents(code))
        self.owners: dict[tuple[str, str], set[str]] = {}  # (dossier or document code, role) -> owner ids
        for owner_id, dossier_code, document_code, role in catalog.custody_store.owner_links(codes):
            self.owners.setdefault((document_code or dossier_code, role), set()).add(owner_id)

    def document_problems(self, path: str, code: str | None, sha256: str, size: int) -> list[str]:
        """Where the document row and the file row of one PDF disagree (search shows one, verify reads the other)."""
        doc = self.documents.get(code or "")
        if doc is None:
            return [f"tệp được ghi cho văn bản {code or '(không mã)'} nhưng danh mục không có văn bản đó"]
        problems = []
        if doc.path != path:
            problems.append(f"danh mục ghi văn bản {doc.code} nằm ở {doc.path}, bảng tệp ghi {path}")
        if (doc.sha256, doc.size) != (sha256, size):
            problems.append(f"mã băm/kích thước của văn bản {doc.code} khác giữa bảng văn bản và bảng tệp")
        return problems

    def unfiled_documents(self, stored: Iterable[StoredFile], wanted: Collection[str] | None) -> list[DocumentRecord]:
        """Documents no file row names: search finds them, nothing checks them."""
        have = {f.document_code for f in stored}
        return [d for c, d in self.documents.items() if c not in have and (wanted is None or c in wanted)]

    def folders(self) -> set[str]:
        return {d.path for d in self.dossiers.values()}


# --- the signed PDF's side -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Signed:
    """The identity the agency signed into a PDF, and how much of the file its signing acts cover."""

    properties: dict[str, str]
    title: str
    signed_end: int  # end of the bytes the agency's signature covers
    covered_end: int  # end of the bytes any verified signature or document timestamp covers
    later_properties: dict[str, str]  # the scanner properties as the whole file reads now
    has_dss: bool
    text: str = ""  # the invisible OCR layer as signed: where the identifiers named on the paper are


def _signature_ranges(pdf: pikepdf.Pdf) -> list[tuple[str, bool, int]]:
    """(field name, is a document timestamp, end of the signed bytes) of each filled signature field."""
    out: list[tuple[str, bool, int]] = []
    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        return out
    todo: list[tuple[pikepdf.Object, str]] = [(f, "") for f in form.get("/Fields", pikepdf.Array())]
    while todo:
        node, prefix = todo.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        name = prefix + str(node.get("/T", ""))
        for kid in node.get("/Kids", pikepdf.Array()):
            todo.append((kid, name + "."))
        value = node.get("/V")
        if isinstance(value, pikepdf.Dictionary) and "/ByteRange" in value:
            br = [int(x) for x in value.ByteRange]
            if len(br) == 4:
                out.append((name, value.get("/Type") == pikepdf.Name.DocTimeStamp, br[2] + br[3]))
    return out


def _title(pdf: pikepdf.Pdf) -> str:
    meta = pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False)
    return str(meta.get("dc:title") or "")


def read_signed(path: Path, finding: SignatureFinding) -> _Signed | str:
    """What the agency signed into PATH, read from the bytes its signature covers; else why it cannot be read."""
    try:
        data = path.read_bytes()
        with pikepdf.open(io.BytesIO(data)) as pdf:
            ranges = _signature_ranges(pdf)
            later = read_scanner_properties(pdf)
            has_dss = "/DSS" in pdf.Root
        signed = [end for name, stamp, end in ranges if not stamp and name in finding.trusted]
        covered = signed + [end for name, stamp, end in ranges if stamp and name in finding.timestamps]
        if not signed:
            return "không có chữ ký hợp lệ của cơ quan nên không đối chiếu được nội dung tệp với danh mục"
        end = max(signed)
        with pikepdf.open(io.BytesIO(data[:end])) as pdf:
            properties, title, text = read_scanner_properties(pdf), _title(pdf), _text_layer(pdf)
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        return f"không đọc được siêu dữ liệu XMP của phần tệp đã ký ({type(exc).__name__})"
    return _Signed(properties, title, end, max(covered), later, has_dss, text)


def _text_layer(pdf: pikepdf.Pdf) -> str:
    """The words of the pages' text, as drawn: the OCR layer's glyphless font uses code == UTF-16 code unit.

    Only the strings shown on the pages themselves are read — that is where
    the PDF stage puts the layer; other fonts' strings decode to noise,
    which no identifier matches.
    """
    out: list[str] = []
    for page in pdf.pages:
        for instruction in pikepdf.parse_content_stream(page, "Tj TJ"):
            if not isinstance(instruction, pikepdf.ContentStreamInstruction):
                continue
            for operand in instruction.operands:
                parts = operand if isinstance(operand, pikepdf.Array) else [operand]
                out.extend(bytes(p).decode("utf-16-be", "replace") for p in parts if isinstance(p, pikepdf.String))
        out.append("\n")
    return "".join(out)


def _on_paper(identifier: str, text: str) -> bool:
    return identifier in text or identifier in "".join(text.split())


def _number(code_number: str, code_notation: str) -> str:
    return "/".join(p for p in (code_number, code_notation) if p)


def _signed_number(value: str) -> str:
    """A signed ``field_number`` as filing splits it into number and notation."""
    number, _, notation = value.partition("/")
    return _number(number.strip(), notation.strip())


# What the catalog's document row says, beside the XMP property that says it in the signed PDF.
_DOCUMENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("type_name", "field_type_name", "loại văn bản"),
    ("type_abbr", "field_type_abbr", "ký hiệu loại văn bản"),
    ("issued_date", "field_issued_date", "ngày ban hành"),
    ("organ_name", "field_issuer", "cơ quan ban hành"),
    ("subject", "field_subject", "trích yếu"),
    ("holder_name", "field_holder_name", "người được cấp"),
    ("holder_id", "field_holder_id", "số định danh người được cấp"),
    ("valid_from", "field_valid_from", "hiệu lực từ"),
    ("valid_until", "field_valid_until", "hiệu lực đến"),
    ("signer_name", "field_signer_name", "người ký"),
    ("signer_position", "field_signer_title", "chức vụ người ký"),
)


def _differs(label: str, catalog_value: object, signed_value: str) -> str | None:
    said = clean_text(str(catalog_value or ""))
    if said == signed_value:
        return None
    return f"danh mục ghi {label} {said or '(trống)'}, tệp đã ký ghi {signed_value or '(trống)'}"


def _identity_problems(
    path: Path, records: _Records, code: str | None, dossier_code: str, finding: SignatureFinding
) -> list[str]:
    """Where the catalog and the PDF's signed XMP disagree on whose paper this is and what it says."""
    signed = read_signed(path, finding)
    if isinstance(signed, str):
        return [signed]
    p = signed.properties
    problems: list[str] = []
    if signed.later_properties != p:
        problems.append("siêu dữ liệu XMP của tệp đã bị sửa sau khi ký (bản cập nhật thêm vào sau chữ ký)")
    if signed.covered_end < path.stat().st_size and not signed.has_dss:
        problems.append("chữ ký không bao phủ toàn bộ tệp: có nội dung được thêm vào sau chữ ký cuối cùng")
    if "document_code" not in p:
        return [*problems, "tệp đã ký không mang mã văn bản trong siêu dữ liệu XMP, không đối chiếu được với danh mục"]
    found = [
        _differs("mã văn bản", code, p.get("document_code", "")),
        _differs("mã hồ sơ", dossier_code, p.get("dossier_code", "")),
    ]
    if found[0] or found[1]:
        problems.append("tệp này là bản đã ký của văn bản khác (bị chép đè?)")
    doc, dossier = records.documents.get(code or ""), records.dossiers.get(dossier_code)
    if dossier is not None:
        found.append(_differs("mã cơ quan", dossier.agency_code, p.get("agency_code", "")))
        found.append(_differs("mã thủ tục", dossier.procedure_code, p.get("procedure_code", "")))
        found.append(_differs("chủ hồ sơ (số định danh)", dossier.owner_id, p.get("owner_id", "")))
        found.extend(_links("chủ hồ sơ", records.owners.get((dossier_code, "applicant"), set()), p.get("owner_id")))
    if doc is not None:
        found.append(_differs("tiêu đề", doc.title, signed.title))
        found.append(_differs("số, ký hiệu", _number(doc.code_number, doc.code_notation),
                              _signed_number(p.get("field_number", ""))))  # fmt: skip
        found.extend(_differs(label, getattr(doc, name), p.get(key, "")) for name, key, label in _DOCUMENT_FIELDS)
        holders = records.owners.get((doc.code, "holder"), set())
        found.extend(_links("người được cấp", holders, p.get("field_holder_id")))
        named = records.owners.get((doc.code, "named"), set())
        found.extend(f"bảng chủ sở hữu gắn văn bản với {o}, danh mục văn bản không ghi số này"
                     for o in sorted(named - set(doc.identifiers)))  # fmt: skip
        found.extend(f"danh mục ghi văn bản có số định danh {i}, nội dung văn bản đã ký không có số này"
                     for i in sorted(named | set(doc.identifiers)) if not _on_paper(i, signed.text))  # fmt: skip
    return problems + [f for f in found if f]


def _links(label: str, linked: set[str], signed: str | None) -> list[str]:
    """Where the owner links (what ``scanner owner`` reads) name someone the signed PDF does not."""
    want = {signed} if signed else set()
    if linked == want:
        return []
    said = ", ".join(sorted(linked)) or "(không ai)"
    return [f"bảng chủ sở hữu ghi {label} là {said}, tệp đã ký ghi {signed or '(trống)'}"]


# --- what the catalog does not list --------------------------------------------------------------


def unlisted(
    where: Path | Storage, listed: Collection[str], records: _Records, own_files: Collection[Path] = ()
) -> list[FixityResult]:
    """Dossier folders without a catalog row (orphans) and files nobody filed (strays), by path.

    A folder holding a ``dossier.json``, or laid out as a dossier
    (``<agency>/<year>/<dossier>``), that no dossier row names is one orphan
    — its rows were deleted, its papers are still here and no search finds
    them. Any other file the catalog does not list is a stray. The program's
    own files under the root (OWN_FILES: the catalog, its journal, the
    search index; the checkpoints and the staging area) are neither. A
    dossier whose folder is not where its row says is reported too.
    """
    storage = as_storage(where)
    folders = records.folders()
    strays: dict[str, list[str]] = {}  # folder -> unlisted files in it
    seen: set[str] = set()  # folders holding a file: asked of the store only for the others (one call each on S3)
    for rel in storage.files(own_files):
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        seen.add(folder)
        if rel not in listed:
            strays.setdefault(folder, []).append(rel)
    out: list[FixityResult] = []
    for dossier in records.dossiers.values():
        if dossier.path not in seen and not storage.has_folder(dossier.path):
            problem = f"danh mục ghi thư mục của hồ sơ {dossier.code} là {dossier.path}, thư mục này không có trong kho"
            out.append(FixityResult(dossier.path, None, dossier.code, "dossier", "", None, problems=(problem,)))
    for folder, files in sorted(strays.items()):
        dossier_like = folder.count("/") == 2 or any(f.endswith("/dossier.json") for f in files)
        if folder and folder not in folders and dossier_like and not any(f.startswith(folder + "/") for f in listed):
            name = folder.rsplit("/", 1)[-1]
            problem = f"thư mục hồ sơ {folder} ({len(files)} tệp) không có trong danh mục (hồ sơ mồ côi)"
            out.append(FixityResult(folder, None, name, "orphan", "", None, problems=(problem,)))
            continue
        for rel in sorted(files):
            where_vi = f"trong thư mục hồ sơ {folder}" if folder in folders else "trong kho lưu trữ"
            problem = f"tệp lạ {where_vi}: danh mục không ghi tệp {rel}"
            held = storage.stat(rel)
            out.append(FixityResult(rel, None, folder.rsplit("/", 1)[-1], "stray", "", held.sha256 if held else None,
                                    problems=(problem,)))  # fmt: skip
    return out


def catalog_files(catalog: Catalog) -> tuple[Path, ...]:
    """The catalog's own files, which may live under the archive root: the database (and its journals), the index."""
    return tuple(p for p in (catalog.path, catalog.index_path) if p is not None)


__all__ = [
    "OWN_FOLDERS",
    "FixityResult",
    "SignatureCheck",
    "SignatureFinding",
    "catalog_files",
    "check_fixity",
    "read_signed",
    "unlisted",
]
