"""The archive's records: dossiers, their documents, their owners and their stored files.

Filing a dossier writes all of it in one transaction, together with its
ingest event, its audit entry and its documents' place in the index outbox:
either the whole dossier is in the catalog or none of it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, case, func, literal_column, or_, select

from scanner.archive.catalog.custody import CustodyStore
from scanner.archive.catalog.db import Database, now_iso
from scanner.archive.catalog.rows import (
    DocumentRecord,
    DossierRecord,
    IndicatorCount,
    OwnerDocument,
    ResultCount,
    StoredFile,
    from_row,
    to_row,
)
from scanner.archive.catalog.schema import (
    documents,
    dossiers,
    files,
    fixity,
    index_outbox,
    intake,
    jobs,
    owners,
    reuses,
)

FileRow = tuple[str, str | None, str, str, int]  # path, document code, role, sha256, size

# The dossier columns an officer may edit (Phụ lục VI: Maintenance, Rights, Description), as the audit names them.
EDITABLE = {"retention": "thời hạn bảo quản", "access": "chế độ sử dụng", "description": "mô tả"}


@dataclass(frozen=True)
class DossierRows:
    """Every row that belongs to one filed dossier, column for column, as another catalog takes it.

    Rows are copied whole, not rebuilt from records, so what a clerk
    corrected, the fixity history and the intake journal (which keeps the
    same scan from being taken twice) survive the move. Serial ids are left
    out: the receiving catalog numbers its own rows.
    """

    code: str
    dossier: dict[str, Any]
    documents: tuple[dict[str, Any], ...]
    owners: tuple[dict[str, Any], ...]
    files: tuple[dict[str, Any], ...]
    fixity: tuple[dict[str, Any], ...]
    jobs: tuple[dict[str, Any], ...]
    intake: tuple[dict[str, Any], ...]

    @property
    def hashes(self) -> dict[str, str]:
        """Stored file → SHA-256: what the dossier is, for telling a copy already there from a clash."""
        return {f["path"]: f["sha256"] for f in self.files}


# built once: a counter asks for these many times a day, and building a statement costs more than running it
_DOSSIER = select(dossiers).where(dossiers.c.code == bindparam("code"))
_DOCUMENT = select(documents).where(documents.c.code == bindparam("code"))
_DOCUMENTS = select(documents).where(documents.c.dossier_code == bindparam("code")).order_by(documents.c.ordinal)
_IS_FILED = select(dossiers.c.code).where(dossiers.c.code == bindparam("code"))


_OWNER_DOCUMENT_COLUMNS = (
    "code", "dossier_code", "title", "type_name", "kind", "code_number", "code_notation", "issued_date",
    "valid_from", "valid_until", "path", "holder_name",
)  # fmt: skip


def _owner_documents() -> Select[Any]:
    d, s, o = documents, dossiers, owners
    day: BindParameter[str] = bindparam("day")
    return (
        select(
            *(d.c[k] for k in _OWNER_DOCUMENT_COLUMNS),
            *(s.c[k] for k in ("agency_name", "procedure_code", "receipt_date")),
            o.c.role,
        )
        .select_from(
            o.join(s, s.c.code == o.c.dossier_code).join(
                d, (d.c.dossier_code == o.c.dossier_code) & or_(o.c.document_code == "", d.c.code == o.c.document_code)
            )
        )
        .where(
            o.c.owner_id == bindparam("owner_id"),
            or_(d.c.valid_until.is_(None), d.c.valid_until >= day),
            func.coalesce(d.c.valid_from, d.c.issued_date, s.c.receipt_date) <= day,
        )
        .order_by(func.coalesce(d.c.issued_date, s.c.receipt_date).desc(), d.c.code.desc(), o.c.role)
    )


_OWNER_DOCUMENTS = _owner_documents()


class RecordStore:
    def __init__(self, db: Database, custody: CustodyStore) -> None:
        self.db = db
        self.custody = custody

    def record_dossier(
        self, dossier: DossierRecord, docs: Sequence[DocumentRecord], stored: Sequence[FileRow], *, actor: str
    ) -> bool:
        """File a dossier, its documents, owners and files at once; False if it was already filed."""
        with self.db.write() as c:
            if c.execute(_IS_FILED, {"code": dossier.code}).first():
                return False
            issued = sorted(d.issued_date for d in docs if d.issued_date)
            values = to_row(dossier)
            values["file_catalog"] = dossier.file_catalog or int(dossier.receipt_date[:4])
            values["file_notation"] = dossier.file_notation or dossier.code
            values["creator"] = dossier.creator or dossier.agency_name
            values["start_date"] = dossier.start_date or (issued[0] if issued else dossier.receipt_date)
            values["end_date"] = dossier.end_date or (issued[-1] if issued else dossier.receipt_date)
            c.execute(dossiers.insert(), values)
            who: dict[tuple[str, str, str], None] = {}  # (owner, document code, role), in order, once each
            if dossier.owner_id:
                who[(dossier.owner_id, "", "applicant")] = None
            for d in docs:
                if d.holder_id:
                    who[(d.holder_id, d.code, "holder")] = None
                for ident in d.identifiers:
                    if ident != d.holder_id:
                        who[(ident, d.code, "named")] = None
            if docs:
                c.execute(documents.insert(), [to_row(d) for d in docs])
                c.execute(index_outbox.insert(), [{"code": d.code} for d in docs])
            if who:
                c.execute(
                    self.db.insert_ignore(owners),
                    [
                        {"owner_id": o, "dossier_code": dossier.code, "document_code": doc, "role": role}
                        for o, doc, role in who
                    ],
                )
            if stored:
                c.execute(
                    files.insert(),
                    [
                        {
                            "path": p,
                            "document_code": doc,
                            "dossier_code": dossier.code,
                            "role": r,
                            "sha256": s,
                            "size": n,
                        }
                        for p, doc, r, s, n in stored
                    ],
                )
            detail = f"{len(docs)} văn bản, {dossier.page_total} trang"
            self.custody.add_event(c, "ingest", dossier.code, "ok", detail)
            self.custody.append_audit(c, "ingest", dossier.code, detail, actor=actor)
        return True

    def dossier_rows(self, code: str) -> DossierRows | None:
        def rows(stmt: Any) -> tuple[dict[str, Any], ...]:
            return tuple(dict(r) for r in c.execute(stmt).mappings())

        def without_id(table: Any) -> Any:
            return select(*(col for col in table.c if col.name != "id"))

        with self.db.read() as c:
            dossier = c.execute(_DOSSIER, {"code": code}).mappings().first()
            if dossier is None:
                return None
            stored = rows(select(files).where(files.c.dossier_code == code).order_by(files.c.path))
            job = dossier["job_id"]
            return DossierRows(
                code,
                dict(dossier),
                rows(_DOCUMENTS.params(code=code)),
                rows(select(owners).where(owners.c.dossier_code == code)),
                stored,
                rows(without_id(fixity).where(fixity.c.path.in_([f["path"] for f in stored])).order_by(fixity.c.id)),
                rows(select(jobs).where(jobs.c.id == job)),
                rows(without_id(intake).where(intake.c.job_id == job).order_by(intake.c.id)),
            )

    def import_dossier(self, rows: DossierRows, *, actor: str, detail: str) -> bool:
        """File a dossier moved from another catalog, in one transaction with its ingest entry; False if here."""
        with self.db.write() as c:
            if c.execute(_IS_FILED, {"code": rows.code}).first():
                return False
            c.execute(dossiers.insert(), rows.dossier)
            for table, values in ((documents, rows.documents), (files, rows.files), (fixity, rows.fixity),
                                  (intake, rows.intake)):  # fmt: skip
                if values:
                    c.execute(table.insert(), list(values))
            if rows.documents:
                c.execute(index_outbox.insert(), [{"code": d["code"]} for d in rows.documents])
            for table, values in ((owners, rows.owners), (jobs, rows.jobs)):
                if values:
                    c.execute(self.db.insert_ignore(table), list(values))
            self.custody.add_event(c, "ingest", rows.code, "ok", detail)
            self.custody.append_audit(c, "ingest", rows.code, detail, actor=actor)
        return True

    def dossier_codes(self) -> list[str]:
        """Every filed dossier, in the order it was filed."""
        with self.db.read() as c:
            return list(c.execute(select(dossiers.c.code).order_by(dossiers.c.created, dossiers.c.code)).scalars())

    def dossier(self, code: str) -> DossierRecord | None:
        with self.db.read() as c:
            row = c.execute(_DOSSIER, {"code": code}).mappings().first()
        return from_row(DossierRecord, row) if row else None

    def documents(self, dossier_code: str) -> list[DocumentRecord]:
        with self.db.read() as c:
            return [from_row(DocumentRecord, r) for r in c.execute(_DOCUMENTS, {"code": dossier_code}).mappings()]

    def document(self, code: str) -> DocumentRecord | None:
        with self.db.read() as c:
            row = c.execute(_DOCUMENT, {"code": code}).mappings().first()
        return from_row(DocumentRecord, row) if row else None

    def all_documents(self) -> list[DocumentRecord]:
        with self.db.read() as c:
            return [
                from_row(DocumentRecord, r) for r in c.execute(select(documents).order_by(documents.c.code)).mappings()
            ]

    def files_of(self, dossier_code: str) -> list[tuple[str, str]]:
        """(path relative to the archive root, sha256) of every stored file of a dossier."""
        stmt = select(files.c.path, files.c.sha256).where(files.c.dossier_code == dossier_code).order_by(files.c.path)
        with self.db.read() as c:
            return [(r[0], r[1]) for r in c.execute(stmt)]

    def stored_files(self, dossier_codes: Sequence[str] | None = None) -> list[StoredFile]:
        """Every stored file, or those of DOSSIER_CODES."""
        stmt = select(files).order_by(files.c.path)
        if dossier_codes is not None:
            stmt = stmt.where(files.c.dossier_code.in_(dossier_codes))
        with self.db.read() as c:
            return [from_row(StoredFile, r) for r in c.execute(stmt).mappings()]

    def result_counts(self, *, since: str, until: str, agency: str | None, today: str) -> list[ResultCount]:
        """Digitized results per agency, procedure and month of digitization, backfilled apart from new.

        ``still_valid`` counts those with no expiry or an expiry on or after
        TODAY: the figure the plans' digitization rate is made of.
        """
        d, s, j = documents, dossiers, jobs
        valid = or_(d.c.valid_until.is_(None), d.c.valid_until == "", d.c.valid_until >= today)
        stmt = (
            select(
                s.c.agency_code.label("agency"),
                s.c.procedure_code.label("procedure"),
                func.substr(s.c.created, 1, 7).label("month"),
                case((self.db.json_has(j.c.detail, "backfill"), 1), else_=0).label("backfilled"),
                func.count().label("results"),
                func.sum(case((valid, 1), else_=0)).label("still_valid"),
                func.sum(d.c.pages).label("pages"),
            )
            .select_from(d.join(s, s.c.code == d.c.dossier_code).outerjoin(j, j.c.id == s.c.job_id))
            .where(d.c.kind == "result", func.substr(s.c.created, 1, 10).between(since, until))
        )
        if agency:
            stmt = stmt.where(s.c.agency_code == agency)
        # by position: the backfill test is an expression with a parameter, which some engines won't match twice
        by: list[ColumnElement[Any]] = [literal_column(str(i)) for i in range(1, 5)]
        stmt = stmt.group_by(*by).order_by(*by)
        with self.db.read() as c:
            return [from_row(ResultCount, r) for r in c.execute(stmt).mappings()]

    def edit_dossier(self, code: str, changes: dict[str, str], *, actor: str) -> dict[str, tuple[str, str]] | None:
        """Change EDITABLE columns of dossier CODE; returns {column: (old, new)} of what changed, None if no dossier.

        The change and its audit entry (old → new of each column) are one
        transaction. A new access level is part of what the index filters
        and counts, so the dossier's documents go back to the index outbox in
        the same transaction.
        """
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        with self.db.write() as c:
            row = c.execute(_DOSSIER, {"code": code}).mappings().first()
            if row is None:
                return None
            diff = {k: (str(row[k] or ""), v) for k, v in changes.items() if str(row[k] or "") != v}
            if not diff:
                return diff
            c.execute(dossiers.update().where(dossiers.c.code == code).values({k: new for k, (_, new) in diff.items()}))
            if "access" in diff:
                mine = select(documents.c.code).where(documents.c.dossier_code == code)
                c.execute(index_outbox.insert().from_select(["code"], mine))
            detail = "; ".join(f"{EDITABLE[k]}: «{old}» → «{new}»" for k, (old, new) in diff.items())
            self.custody.append_audit(c, "edit", code, detail, actor=actor)
        return diff

    def record_reuse(self, agency: str, procedure: str, dossier_code: str, document_code: str, *, actor: str) -> bool:
        """A paper of the archive reused for a new dossier instead of being asked for again; audited.

        Counted once per dossier and paper (a second click, the API and the
        page both telling it): False when it was already.
        """
        r = reuses
        with self.db.write() as c:
            same = (r.c.dossier_code == dossier_code) & (r.c.document_code == document_code)
            if c.execute(select(r.c.id).where(same).limit(1)).first():
                return False
            c.execute(
                reuses.insert(),
                {
                    "time": now_iso(), "agency_code": agency, "procedure_code": procedure,
                    "dossier_code": dossier_code, "document_code": document_code, "actor": actor,
                },
            )  # fmt: skip
            self.custody.append_audit(c, "reuse", document_code, f"cho hồ sơ {dossier_code}", actor=actor)
        return True

    def indicator_counts(self, *, since: str, until: str, agency: str | None) -> list[IndicatorCount]:
        """The 766 indicators per agency, procedure and month filed (``IndicatorCount``), months SINCE…UNTIL."""
        d, s, j, r = documents, dossiers, jobs, reuses
        backfill = case((self.db.json_has(j.c.detail, "backfill"), 1), else_=0)
        month = func.substr(s.c.created, 1, 7)
        day = func.substr(s.c.created, 1, 10)
        by: list[ColumnElement[Any]] = [literal_column(str(i)) for i in range(1, 4)]
        docs = (
            select(
                s.c.agency_code,
                s.c.procedure_code,
                month.label("month"),
                backfill.label("backfilled"),
                func.count(func.distinct(s.c.code)).label("dossiers"),
                func.sum(case((d.c.kind == "paper", 1), else_=0)).label("components"),
                func.sum(case((d.c.kind == "result", 1), else_=0)).label("results"),
                func.count(func.distinct(case((d.c.kind == "result", s.c.code)))).label("with_result"),
                func.coalesce(func.sum(d.c.pages), 0).label("pages"),
            )  # fmt: skip
            .select_from(s.outerjoin(d, d.c.dossier_code == s.c.code).outerjoin(j, j.c.id == s.c.job_id))
            .where(day.between(since, until))
            .group_by(*by, literal_column("4"))
        )
        used = (
            select(r.c.agency_code, r.c.procedure_code, func.substr(r.c.time, 1, 7), func.count())
            .where(func.substr(r.c.time, 1, 10).between(since, until))
            .group_by(*by)
        )
        if agency:
            docs = docs.where(s.c.agency_code == agency)
            used = used.where(r.c.agency_code == agency)
        out: dict[tuple[str, str, str], dict[str, int]] = {}
        with self.db.read() as c:
            for a, p, m, back, n, comp, res, with_result, pages in c.execute(docs):
                row = out.setdefault((a, p or "", m), {})
                if back:
                    row["backfilled"] = row.get("backfilled", 0) + int(res or 0)
                else:
                    row["received"] = row.get("received", 0) + int(n)
                    row["components"] = row.get("components", 0) + int(comp or 0)
                    row["results"] = row.get("results", 0) + int(res or 0)
                    row["dossiers_with_result"] = row.get("dossiers_with_result", 0) + int(with_result or 0)
                row["pages"] = row.get("pages", 0) + int(pages or 0)
            for a, p, m, n in c.execute(used):
                row = out.setdefault((a, p or "", m), {})
                row["reused"] = row.get("reused", 0) + int(n)
        return [IndicatorCount(a, p, m, **v) for (a, p, m), v in sorted(out.items())]

    def owner_documents(self, owner_id: str, *, on: date | None = None) -> list[OwnerDocument]:
        """The owner's documents still valid ON (today), newest first: what a counter checks before asking again.

        An owner may be named on a document several ways (applicant of its
        dossier, holder, named inside); the roles are joined here rather than
        by the engine, whose string aggregates differ.
        """
        day = (on or date.today()).isoformat()
        found: dict[str, dict[str, Any]] = {}
        roles: dict[str, list[str]] = {}
        with self.db.read() as c:
            for r in c.execute(_OWNER_DOCUMENTS, {"owner_id": owner_id, "day": day}).mappings():
                found.setdefault(r["code"], dict(r))
                if r["role"] not in roles.setdefault(r["code"], []):
                    roles[r["code"]].append(r["role"])
        return [from_row(OwnerDocument, {**row, "roles": ",".join(roles[code])}) for code, row in found.items()]
