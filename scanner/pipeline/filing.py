"""Filing: a signed dossier into the archive folder and the catalog, exactly once.

The dossier folder is assembled outside the archive (staging) and put in
place by the storage in one step (a rename on local folders; on S3 one PUT
per object, ``dossier.json`` last, objects already there with the same bytes
adopted); the catalog is written after, in one transaction, with the
SHA-256 and size the storage vouches for, and a run resumed after a crash in
between finds the folder in place and only writes the catalog.

The values filed for each document are the ones read from its first page,
then the clerk's corrections, then values given from outside (a backfill
manifest row): ``document_values`` is the one place that decides, and the
PDF's XMP and the catalog both take it from there.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from scanner import jsonio
from scanner.app import SYSTEM
from scanner.archive import Catalog, DocumentRecord, DossierRecord, dossier_folder
from scanner.archive.storage import open_storage
from scanner.config import Config
from scanner.errors import FaultKind, WorkstationError
from scanner.extract import DocumentFields, Field, disagreements
from scanner.extract.compare import Disagreement
from scanner.model import SignedPdf
from scanner.pipeline.job import Capture, CapturedDocument, DocumentOutcome, Edits, JobOutcome, PageResult, Sidecar

if TYPE_CHECKING:
    from scanner.pipeline.run import JobContext

# What the clerk may correct, and the Vietnamese label shown for each.
CORRECTABLE: dict[str, str] = {
    "type_name": "Loại văn bản",
    "number": "Số, ký hiệu",
    "issued_date": "Ngày ban hành",
    "issuer": "Cơ quan ban hành",
    "subject": "Trích yếu",
    "holder_name": "Người được cấp",
    "holder_id": "Số định danh người được cấp",
    "valid_from": "Hiệu lực từ",
    "valid_until": "Hiệu lực đến",
    "signer_name": "Người ký",
    "signer_title": "Chức vụ người ký",
}
_READ = {  # value name -> the extracted field it comes from
    "type_name": "type_name",
    "type_abbr": "type_abbr",
    "issued_date": "issued_date",
    "issuer": "issuer",
    "subject": "subject",
    "holder_name": "holder_name",
    "holder_id": "holder_id",
    "valid_from": "valid_from",
    "valid_until": "valid_until",
    "signer_name": "signer_name",
    "signer_title": "signer_title",
}


def document_values(fields: DocumentFields, corrections: Mapping[str, str], sidecar: Sidecar) -> dict[str, str]:
    """The document's metadata as it will be signed and filed: read, then corrected, then given."""

    def read(name: str) -> str:
        f: Field | None = getattr(fields, name, None)
        return f.value if f is not None else ""

    values = {name: read(source) for name, source in _READ.items()}
    values["number"] = read("number") + (f"/{read('notation')}" if read("notation") else "")
    values.update({k: v.strip() for k, v in corrections.items() if k in CORRECTABLE})
    if sidecar.kind == "result":
        values.update(
            {
                k: v
                for k, v in {
                    "type_name": sidecar.document_type,
                    "number": sidecar.result_number,
                    "issued_date": sidecar.issued_date,
                    "valid_from": sidecar.issued_date,
                    "holder_id": sidecar.owner_id,
                    "holder_name": sidecar.owner_name,
                }.items()
                if v
            }
        )
        values["valid_until"] = sidecar.valid_until  # the manifest's word: empty means no expiry
    return values


def still_to_review(fields: DocumentFields, edits: Edits, ordinal: int, sidecar: Sidecar) -> tuple[str, ...]:
    """Fields an officer should look at: flagged and neither corrected nor confirmed by the clerk, and
    (for a backfilled result) those where the page says something else than the manifest."""
    found = given_disagreements(fields, sidecar)
    flagged = () if edits.confirmed_by else tuple(f for f in fields.review if f not in edits.fields(ordinal))
    return tuple(dict.fromkeys((*flagged, *(d.field.field_name for d in found))))


def given_disagreements(fields: DocumentFields, sidecar: Sidecar) -> tuple[Disagreement, ...]:
    """Where a backfilled result's page disagrees with its manifest row (nothing for a counter's dossier)."""
    if sidecar.kind != "result":
        return ()
    return disagreements(
        fields,
        result_number=sidecar.result_number,
        issued_date=sidecar.issued_date or None,
        valid_until=sidecar.valid_until or None,
    )


def title_of(doc: CapturedDocument, pages: Sequence[PageResult], values: Mapping[str, str], sidecar: Sidecar) -> str:
    """A title an archive officer recognizes: type, number and subject.

    ``Quyết định số 1046/QĐ-STP — Về việc thành lập…``; without a type, the
    capitalised type line of the page, else the file name.
    """
    if sidecar.document_type:
        return sidecar.document_type
    if values.get("type_name"):
        title = values["type_name"]
        if values.get("number"):
            title += f" số {values['number']}"
        if subject := values.get("subject"):
            title += " — " + (subject if len(subject) <= 120 else subject[:119].rsplit(" ", 1)[0] + "…")
        return title
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
    return Path(doc.sources[0].original_name).stem if doc.sources else ""


def procedure_and_owner(ctx: JobContext, capture: Capture) -> tuple[str, str]:
    """The dossier's procedure code and applicant: the clerk's or sidecar's word, the receipt's, the counter's."""
    receipt, sidecar = capture.receipt, ctx.sidecar
    procedure = sidecar.procedure_code or (receipt.procedure_code if receipt else "") or ctx.counter.procedure_code
    owner = sidecar.owner_id or (receipt.owner_id if receipt else "")
    return procedure, owner


def file_dossier(
    config: Config,
    catalog: Catalog,
    ctx: JobContext,
    capture: Capture,
    results: list[list[PageResult]],
    fields: list[DocumentFields],
    edits: Edits,
    signed: list[SignedPdf],
    *,
    dossier_code: str,
    receipt_day: date,
) -> JobOutcome:
    root = config.archive.root
    counter, sidecar = ctx.counter, ctx.sidecar
    agency_code = sidecar.agency_code or counter.agency_code
    storage = open_storage(config)
    final = dossier_folder(root, agency_code, receipt_day.year, dossier_code)
    folder = final.relative_to(root).as_posix()
    values = [document_values(f, edits.fields(i + 1), sidecar) for i, f in enumerate(fields)]
    titles = [
        title_of(doc, pages, v, sidecar) for doc, pages, v in zip(capture.documents, results, values, strict=True)
    ]
    procedure, owner = procedure_and_owner(ctx, capture)
    originals = {src.sha256: f"{dossier_code}.goc-{i + 1:02d}.pdf" for i, src in enumerate(capture.signed_sources)}
    if not storage.holds_dossier(folder):
        staging = storage.staging(folder, ctx.job_id)
        for s in signed:
            shutil.copyfile(s.path, staging / s.path.name)
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
            "receipt_qr": capture.receipt.raw if capture.receipt else None,
            "documents": [
                {
                    "code": s.path.stem,
                    "title": t,
                    "pages": len(doc.pages),
                    "page_sources": [p.source for p in doc.pages],
                    "sources": [{"name": src.original_name, "sha256": src.sha256} for src in doc.sources],
                }
                for s, t, doc in zip(signed, titles, capture.documents, strict=True)
            ],
            "signed_originals": [
                {"file": originals[s.sha256], "name": s.original_name, "sha256": s.sha256}
                for s in capture.signed_sources
            ],
            "dropped_pages": [d.__dict__ for d in capture.dropped],
            "edits": [e.__dict__ for e in edits.edits],
            "confirmed_by": edits.confirmed_by,
            "warnings": ctx.warnings,
        }
        jsonio.write_atomic(staging / "dossier.json", jsonio.dumps(manifest).encode("utf-8"))
        storage.file_dossier(staging, folder, storage.lock(sidecar.retention, receipt_day))

    rel = final.relative_to(root)

    def held(name: str) -> tuple[str, int]:
        found = storage.stat(f"{folder}/{name}")
        if found is None:  # filed a moment ago: gone means someone removed it under our feet, not the scan's fault
            raise WorkstationError(FaultKind.STORAGE_UNAVAILABLE,
                                   f"tệp {folder}/{name} vừa lưu đã không còn trong kho {storage.label}",
                                   f"{folder}/{name} vanished from {storage.label} right after filing")  # fmt: skip
        return found.sha256, found.size

    documents: list[DocumentRecord] = []
    files: list[tuple[str, str | None, str, str, int]] = []
    outcomes: list[DocumentOutcome] = []
    for d, (pages, s, title) in enumerate(zip(results, signed, titles, strict=True)):
        stored = final / s.path.name
        sha, size = held(s.path.name)
        v, f = values[d], fields[d]
        number, _, notation = v["number"].partition("/")
        documents.append(
            DocumentRecord(
                code=s.path.stem,
                dossier_code=dossier_code,
                ordinal=d + 1,
                title=title,
                path=str(rel / s.path.name),
                pages=len(pages),
                sha256=sha,
                size=size,
                pdfa=config.pdfa.flavour,
                signer=s.signer,
                signed_at=s.signed_at.isoformat(timespec="seconds"),
                signature_level=s.level,
                ocr_confidence=round(sum(r.ocr.confidence for r in pages) / max(1, len(pages)), 2),
                text="\n\f\n".join(r.ocr.text for r in pages),
                kind="result" if sidecar.kind == "result" else "paper",
                type_name=v["type_name"],
                type_abbr=v["type_abbr"],
                code_number=number.strip(),
                code_notation=notation.strip(),
                issued_date=v["issued_date"] or None,
                organ_name=v["issuer"],
                subject=v["subject"],
                signer_name=v["signer_name"],
                signer_position=v["signer_title"],
                valid_from=v["valid_from"] or None,
                valid_until=v["valid_until"] or None,
                holder_name=v["holder_name"],
                holder_id=v["holder_id"],
                identifiers=tuple(dict.fromkeys((*f.personal_ids, *f.tax_codes))),
                fields={
                    **f.as_dict(),
                    "corrected": edits.fields(d + 1),
                    "confirmed_by": edits.confirmed_by,
                    "disagreements": [x.text_vi() for x in given_disagreements(f, sidecar)],
                },
                review=still_to_review(f, edits, d + 1, sidecar),
            )
        )
        files.append((str(rel / s.path.name), s.path.stem, "document", sha, size))
        outcomes.append(DocumentOutcome(code=s.path.stem, path=stored, pages=len(pages), title=title))
    for name in [*originals.values(), "dossier.json"]:
        role = "original" if name != "dossier.json" else "metadata"
        files.append((str(rel / name), None, role, *held(name)))
    signed_at = signed[0].signed_at.isoformat(timespec="seconds") if signed else ""
    catalog.record_dossier(
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
            job_id=ctx.job_id,
            warnings=tuple(ctx.warnings),
            created=signed_at,
            retention=sidecar.retention,
            access=sidecar.access_level or "công khai",
        ),
        documents,
        files,
        actor=edits.confirmed_by or SYSTEM.label,  # who answers for it: the clerk who confirmed it
    )
    return JobOutcome(ctx.job_id, "archived", dossier_code, tuple(outcomes), tuple(ctx.warnings))


__all__ = ["CORRECTABLE", "document_values", "file_dossier", "procedure_and_owner", "still_to_review", "title_of"]
