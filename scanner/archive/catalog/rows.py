"""What the catalog hands back: frozen dataclasses, one per kind of row.

Attribute names are the column names (and the keys of the dicts the catalog
returned before), so ``dataclasses.asdict`` gives the same JSON the CLI
printed before. Records that are also written (dossier, document, job) know
how to turn their JSON-valued fields into column text and back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_row(cls: type[T], row: Mapping[Any, Any]) -> T:
    """A CLS from a row; fields typed tuple or dict are JSON text in the row. Columns CLS lacks are ignored."""
    out: dict[str, Any] = {}
    plan = _PLANS.get(cls) or _PLANS.setdefault(cls, _plan(cls))
    for name, decode in plan:
        if name in row:
            value = row[name]
            out[name] = value if decode is None else decode(value)
    return cls(**out)


def _tuple(text: str | None) -> tuple[Any, ...]:
    return tuple(json.loads(text or "[]"))


def _dict(text: str | None) -> dict[str, Any]:
    return dict(json.loads(text or "{}"))


Plan = tuple[tuple[str, Callable[[Any], Any] | None], ...]
_PLANS: dict[type, Plan] = {}


def _plan(cls: type) -> Plan:
    """Each field of CLS with its decoder, worked out once per class (``_PLANS``): rows are many, classes few."""
    out: list[tuple[str, Callable[[Any], Any] | None]] = []
    for f in fields(cls):
        kind = str(f.type)
        out.append((f.name, _tuple if kind.startswith("tuple") else _dict if kind.startswith("dict") else None))
    return tuple(out)


def to_row(record: Any) -> dict[str, Any]:
    """Column values of a record, JSON-valued fields as text."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, tuple):
            value = json.dumps(list(value), ensure_ascii=False)
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        out[f.name] = value
    return out


@dataclass(frozen=True)
class SearchHit:
    code: str
    title: str
    path: str
    snippet: str
    dossier_code: str
    type_name: str = ""
    issued_date: str | None = None
    score: float = 0.0
    kind: str = ""
    valid_until: str | None = None
    review: tuple[str, ...] = ()
    agency_code: str = ""
    access: str = ""  # the dossier's access value as filed


@dataclass(frozen=True)
class DocumentRecord:
    """A document (văn bản) of a dossier with the metadata of Nghị định 30/2020 Phụ lục VI.

    ``code_number`` and ``code_notation`` are the document's own number
    (``796``) and notation (``KH-STP``) read from the page; ``code`` is
    the archive's document code (``<dossier>.<NN>`` or ``<dossier>-KQ<n>``).
    ``kind`` is ``paper`` (handed in) or ``result`` (kết quả giải quyết);
    ``valid_until`` None means valid indefinitely. ``fields`` keeps every
    extracted value with its confidence; ``review`` names those a clerk
    should confirm.
    """

    code: str
    dossier_code: str
    ordinal: int
    title: str
    path: str
    pages: int
    sha256: str
    size: int
    pdfa: str
    signer: str
    signed_at: str | None
    signature_level: str
    ocr_confidence: float | None
    text: str
    type_name: str = ""
    type_abbr: str = ""
    code_number: str = ""
    code_notation: str = ""
    issued_date: str | None = None
    organ_name: str = ""
    subject: str = ""
    language: str = "vi"
    description: str = ""
    signer_position: str = ""
    signer_name: str = ""
    mode: str = "số hóa"
    kind: str = "paper"
    valid_from: str | None = None
    valid_until: str | None = None
    holder_name: str = ""
    holder_id: str = ""
    identifiers: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    review: tuple[str, ...] = ()


@dataclass(frozen=True)
class DossierRecord:
    """A dossier (hồ sơ); FileCode of Phụ lục VI = agency code + ``file_catalog`` (year) + ``file_notation``."""

    code: str
    agency_code: str
    agency_name: str
    counter: str
    procedure_code: str
    owner_id: str
    receipt_date: str
    title: str
    path: str
    doc_total: int
    page_total: int
    job_id: str
    warnings: tuple[str, ...]
    created: str
    file_catalog: int | None = None
    file_notation: str = ""
    retention: str = ""
    access: str = "công khai"
    creator: str = ""
    language: str = "vi"
    start_date: str | None = None
    end_date: str | None = None
    description: str = ""


@dataclass(frozen=True)
class JobRecord:
    id: str
    counter: str
    state: str
    created: str
    updated: str
    dossier_code: str | None
    receipt_date: str | None
    error: str | None
    detail: dict[str, Any]
    last_input: str | None = None
    attempts: int = 0
    station: str = ""  # the machine whose work folder holds the job ('' in a workstation's own catalog)


@dataclass(frozen=True)
class IntakeEntry:
    """A take of one inbox file noted in the intake journal; ``state`` is ``taking`` until the move is done."""

    id: int
    sha256: str
    job_id: str
    counter: str
    original_name: str
    origin: str
    stored_as: str
    state: str
    time: str
    station: str = ""  # the workstation that took it ('' in a workstation's own catalog)


@dataclass(frozen=True)
class StoredFile:
    """A file of the archive; ``path`` is relative to the archive root, ``role`` document/original/metadata."""

    path: str
    document_code: str | None
    dossier_code: str
    role: str
    sha256: str
    size: int


@dataclass(frozen=True)
class EventEntry:
    time: str
    subject: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class FixityEntry:
    """One fixity check of one stored file (PREMIS "fixity check")."""

    id: int
    time: str
    path: str
    document_code: str | None
    expected: str
    actual: str | None
    signature: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the hash-chained audit log; ``actor`` is the acting person's label."""

    id: int
    time: str
    action: str
    subject: str
    actor: str
    detail: str
    prev: str
    hash: str


@dataclass(frozen=True)
class OwnerDocument:
    """A paper or result of an owner, as a counter sees it; ``roles`` joins applicant/holder/named with commas."""

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
    path: str
    holder_name: str
    agency_name: str
    procedure_code: str
    receipt_date: str
    roles: str


@dataclass(frozen=True)
class ResultCount:
    """Digitized results of one agency, procedure and month; ``backfilled`` 1 for backfill, 0 for new filings."""

    agency: str
    procedure: str
    month: str
    backfilled: int
    results: int
    still_valid: int
    pages: int


@dataclass(frozen=True)
class UserRecord:
    """A person's account; ``password_hash`` never leaves the accounts use cases."""

    name: str
    display_name: str
    role: str
    counter: str | None
    agency: str | None
    password_hash: str = field(repr=False)
    disabled: int = 0
    failed_logins: int = 0
    locked_until: str | None = None
    created: str = ""
    updated: str = ""


@dataclass(frozen=True)
class SessionRecord:
    token_hash: str = field(repr=False)
    user_name: str = ""
    created: str = ""
    expires: str = ""
    last_seen: str = ""


@dataclass(frozen=True)
class ApiClientRecord:
    name: str
    agency: str
    token_hash: str = field(repr=False)
    disabled: int = 0
    created: str = ""


@dataclass(frozen=True)
class IndicatorCount:
    """The 766/QĐ-TTg indicators of one agency, procedure and month of filing.

    ``received`` dossiers received at the counter (backfill excluded: it files
    old results, not new dossiers), ``components`` their papers digitized,
    ``reused`` papers taken from the archive instead of being asked for again,
    ``results`` results digitized with new dossiers, ``backfilled`` old
    still-valid results digitized by backfill, ``pages`` pages of all of them.
    """

    agency: str
    procedure: str
    month: str
    received: int = 0
    components: int = 0
    reused: int = 0
    results: int = 0
    backfilled: int = 0
    dossiers_with_result: int = 0
    pages: int = 0


@dataclass(frozen=True)
class SavedSearch:
    """A search an officer keeps: its name, query and the page's filters and sort (``params``)."""

    id: int
    person: str
    name: str
    query: str
    params: dict[str, Any]
    created: str
