"""Filing test dossiers straight into a catalog, without the pipeline."""

from __future__ import annotations

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
