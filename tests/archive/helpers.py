"""Filing test dossiers straight into a catalog, without the pipeline."""

from __future__ import annotations

import hashlib
from typing import Any

from scanner.app import SYSTEM
from scanner.archive import Catalog, DocumentRecord, DossierRecord


def file_document(
    cat: Catalog,
    code: str,
    text: str,
    *,
    title: str = "",
    agency: str = "000.00.00.H26",
    procedure: str = "",
    owner: str = "",
    receipt: str = "2026-11-24",
    sha256: str = "0" * 64,
    path: str | None = None,
    created: str = "t",
    **document: Any,
) -> DocumentRecord:
    """File a one-document dossier CODE whose document says TEXT; DOCUMENT sets more DocumentRecord fields."""
    doc_path = path or f"{agency}/2026/{code}/{code}.01.pdf"
    record = DocumentRecord(
        f"{code}.01", code, 1, title, doc_path, 1, sha256, 1, "2b", "UBND", None, "B-B", 90.0, text, **document
    )
    cat.record_dossier(
        DossierRecord(
            code,
            agency,
            "UBND",
            "quay-1",
            procedure,
            owner,
            receipt,
            title,
            f"{agency}/2026/{code}",
            1,
            1,
            "j",
            (),
            created,
        ),
        [record],
        [(doc_path, record.code, "document", sha256, 1)],
        actor=SYSTEM.label,
    )
    return record


def file_dossier(
    archive: Any,
    code: str,
    docs: list[dict[str, object]],
    *,
    agency: str = "000.00.00.H26",
    procedure: str = "1.000894",
    created: str = "2026-11-24T09:00:00+07:00",
    access: str = "công khai",
    backfill: bool = False,
) -> None:
    """File dossier CODE with DOCS (each: text, kind, type_name, issued_date, valid_until), real files on disk."""
    docs_, stored = [], []
    for n, d in enumerate(docs, start=1):
        text = str(d.pop("text"))
        dcode = f"{code}-KQ{n}" if d.get("kind") == "result" else f"{code}.{n:02d}"
        rel = f"{agency}/2026/{code}/{dcode}.pdf"
        (archive.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive.root / rel).write_bytes(text.encode())
        sha = hashlib.sha256(text.encode()).hexdigest()
        docs_.append(
            DocumentRecord(dcode, code, n, str(d.get("type_name", "")).upper(), rel, 1, sha, len(text.encode()),
                           "2b", "UBND", None, "B-B", 90.0, text, **d)  # type: ignore[arg-type]
        )  # fmt: skip
        stored.append((rel, dcode, "document", sha, len(text.encode())))
    job = f"job-{code}"
    archive.catalog.create_job(job, "quay-1", {"backfill": {"row": 1}} if backfill else {}, state="archived")
    dossier = DossierRecord(
        code, agency, "UBND", "quay-1", procedure, "", created[:10], "", f"{agency}/2026/{code}",
        len(docs), len(docs), job, (), created, access=access,
    )  # fmt: skip
    archive.catalog.record_dossier(dossier, docs_, stored, actor="scanner")
