"""Custody: the hash-chained audit log, fixity checks of stored files, and the event log.

The audit log is a hash chain: each entry stores the SHA-256 of the previous
entry and of itself (over its id, time, action, subject, actor, detail and
``prev``, as a JSON list), and the database refuses UPDATE and DELETE on it,
so an edit made behind the program's back (or a removed entry) breaks the
chain and ``scanner audit verify`` names where. The actor is whoever acts —
a clerk, an officer, or the service itself — and is always given by the
caller: the operating-system login says nothing about who was at the desk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from scanner.archive.catalog.db import Database, now_iso
from scanner.archive.catalog.rows import AuditEntry, EventEntry, FixityEntry, from_row
from scanner.archive.catalog.schema import audit, dossiers, events, fixity, owners

GENESIS = "0" * 64
AUDIT_FIELDS = ("id", "time", "action", "subject", "actor", "detail", "prev")  # what an entry's hash covers

_LAST_HASH = select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)  # built once: every write is audited

AUDIT_ACTIONS = {
    "ingest": "lưu trữ",
    "view": "xem",
    "download": "tải về",
    "verify": "kiểm tra toàn vẹn",
    "export": "xuất gói",
    "delete-request": "đề nghị hủy",
    "reindex": "dựng lại chỉ mục",
    "audit-checkpoint": "ký điểm neo nhật ký",
    "user-add": "thêm người dùng",
    "user-password": "đặt mật khẩu",
    "user-disable": "vô hiệu hóa tài khoản",
    "user-enable": "kích hoạt lại tài khoản",
    "user-unlock": "mở khóa tài khoản",
    "user-locked": "tạm khóa do sai mật khẩu",
    "login": "đăng nhập",
    "logout": "đăng xuất",
    "api-client-add": "cấp khóa API",
    "quarantine-retry": "xử lý lại tệp cách ly",
    "submit": "nhận hồ sơ từ hệ thống khác",
    "quarantine-release": "trả lại tệp cách ly",
    "migrate": "chuyển lên kho chung",
}

# What SQLite says of a damaged file, in words an officer can pass on.
DAMAGE_VI = {
    "file is not a database": "phần đầu tệp bị hỏng, không còn nhận ra là cơ sở dữ liệu SQLite",
    "database disk image is malformed": "một số trang dữ liệu của tệp bị hỏng",
}


def audit_hash(*values: Any) -> str:
    return hashlib.sha256(json.dumps(list(values), ensure_ascii=False).encode("utf-8")).hexdigest()


def chain_problems(rows: Iterable[Mapping[Any, Any]]) -> tuple[list[str], int]:
    """(problems, the id the next entry should have) of audit ROWS in id order, from the genesis on.

    Used on the catalog's own log and on a log moved up from a workstation
    (``scanner.archive.move``), which is checked with its original hashes.
    """
    problems: list[str] = []
    prev, expected_id = GENESIS, 1
    for row in rows:
        if row["id"] != expected_id:
            problems.append(f"mục {expected_id}–{row['id'] - 1} của nhật ký đã bị xóa")
        if row["prev"] != prev:
            problems.append(f"mục {row['id']}: không nối với mục trước (chuỗi băm bị cắt)")
        values = [row[k] for k in AUDIT_FIELDS]
        if audit_hash(*values) != row["hash"]:
            problems.append(f"mục {row['id']}: nội dung đã bị sửa (mã băm không khớp)")
        prev, expected_id = row["hash"], row["id"] + 1
    return problems, expected_id


class CustodyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- audit log ------------------------------------------------------------------------------

    def append_audit(self, conn: Connection, action: str, subject: str, detail: str, *, actor: str) -> None:
        """Append one chained entry, inside the caller's write transaction.

        The write lock keeps two writers from chaining onto the same
        ``prev``; the id is given rather than left to the engine because it
        is one of the hashed values. An entry without an actor says nothing
        about who acted, so none is written.
        """
        if not actor:
            raise ValueError("an audit entry needs the acting person's label")
        entry_id = self.db.next_audit_id(conn)  # first: on PostgreSQL this takes the chain's head
        last = conn.execute(_LAST_HASH).scalar()
        prev = last or GENESIS
        t = now_iso()
        h = audit_hash(entry_id, t, action, subject, actor, detail, prev)
        entry = {"id": entry_id, "time": t, "action": action, "subject": subject, "actor": actor, "detail": detail}
        conn.execute(audit.insert(), {**entry, "prev": prev, "hash": h})

    def audit(self, action: str, subject: str, detail: str = "", *, actor: str) -> None:
        """Append an entry (view, download, export, deletion request…) to the tamper-evident log."""
        with self.db.write() as c:
            self.append_audit(c, action, subject, detail, actor=actor)

    def audit_entries(self, *, limit: int | None = None) -> list[AuditEntry]:
        stmt = select(audit).order_by(audit.c.id.desc())
        if limit:
            stmt = stmt.limit(limit)
        with self.db.read() as c:
            return [from_row(AuditEntry, r) for r in c.execute(stmt).mappings()]

    def audit_about(self, subjects: list[str], *, limit: int = 500) -> list[AuditEntry]:
        """The entries about any of SUBJECTS (codes, stored paths), newest first: a record's history."""
        stmt = select(audit).where(audit.c.subject.in_(subjects)).order_by(audit.c.id.desc()).limit(limit)
        with self.db.read() as c:
            return [from_row(AuditEntry, r) for r in c.execute(stmt).mappings()]

    def verify_audit(self) -> list[str]:
        """Problems of the audit chain, in Vietnamese; empty when every entry is as written.

        An edited entry no longer hashes to its stored hash (or the next
        entry's ``prev`` no longer matches); a removed entry leaves a gap in
        the ids or, for the last one, an id counter ahead of the last row.
        """
        with self.db.read() as c:
            problems, expected_id = chain_problems(c.execute(select(audit).order_by(audit.c.id)).mappings())
            last = self.db.last_audit_id(c)
        if last >= expected_id:
            problems.append(f"mục {expected_id}–{last} ở cuối nhật ký đã bị xóa")
        return problems

    # --- fixity ---------------------------------------------------------------------------------

    def record_fixity(
        self,
        path: str,
        document_code: str | None,
        expected: str,
        actual: str | None,
        signature: str,
        outcome: str,
        detail: str = "",
        *,
        actor: str,
    ) -> None:
        """One fixity check of one stored file (PREMIS "fixity check" event), also written to the audit log."""
        with self.db.write() as c:
            check = {"time": now_iso(), "path": path, "document_code": document_code, "expected": expected}
            c.execute(
                fixity.insert(),
                {**check, "actual": actual, "signature": signature, "outcome": outcome, "detail": detail},
            )
            self.append_audit(c, "verify", path, f"{outcome}{': ' + detail if detail else ''}", actor=actor)

    def fixity_history(self, path: str) -> list[FixityEntry]:
        with self.db.read() as c:
            rows = c.execute(select(fixity).where(fixity.c.path == path).order_by(fixity.c.id)).mappings()
            return [from_row(FixityEntry, r) for r in rows]

    # --- events ---------------------------------------------------------------------------------

    def add_event(self, conn: Connection, kind: str, subject: str, outcome: str, detail: str = "") -> None:
        event = {"time": now_iso(), "kind": kind, "subject": subject, "outcome": outcome, "detail": detail}
        conn.execute(events.insert(), event)

    def record_event(self, kind: str, subject: str, outcome: str, detail: str = "") -> None:
        with self.db.write() as c:
            self.add_event(c, kind, subject, outcome, detail)

    def recent_events(self, kind: str, *, prefix: str = "", limit: int = 50) -> list[EventEntry]:
        stmt = (
            select(events.c.time, events.c.subject, events.c.outcome, events.c.detail)
            .where(events.c.kind == kind, events.c.subject.like(prefix.replace("%", "") + "%"))
            .order_by(events.c.id.desc())
            .limit(limit)
        )
        with self.db.read() as c:
            return [from_row(EventEntry, r) for r in c.execute(stmt).mappings()]

    # --- what a tamper check reads ------------------------------------------------------------

    def audit_head(self) -> tuple[int, str, int] | None:
        """(last id, its hash, number of entries) of the audit log, None when empty: what a checkpoint signs."""
        with self.db.read() as c:
            row = c.execute(select(audit.c.id, audit.c.hash).order_by(audit.c.id.desc()).limit(1)).first()
            count = c.execute(select(func.count()).select_from(audit)).scalar() or 0
        return (int(row[0]), str(row[1]), int(count)) if row else None

    def audit_entry_at(self, entry_id: int) -> tuple[str, int] | None:
        """(hash of entry ENTRY_ID, entries up to it), or None when that entry is gone: what a checkpoint is held to."""
        with self.db.read() as c:
            found = c.execute(select(audit.c.hash).where(audit.c.id == entry_id)).scalar()
            count = c.execute(select(func.count()).select_from(audit).where(audit.c.id <= entry_id)).scalar() or 0
        return (str(found), int(count)) if found is not None else None

    def entries_of(self, action: str) -> list[AuditEntry]:
        """Every entry of one kind of action, oldest first."""
        stmt = select(audit).where(audit.c.action == action).order_by(audit.c.id)
        with self.db.read() as c:
            return [from_row(AuditEntry, r) for r in c.execute(stmt).mappings()]

    def ingested(self) -> dict[str, int]:
        """Every dossier the audit log says was filed, with the entry that says so.

        The log outlives a row removed behind the program's back, so a
        dossier that was filed and is no longer in the catalog shows here.
        """
        stmt = select(audit.c.subject, func.min(audit.c.id)).where(audit.c.action == "ingest").group_by(audit.c.subject)
        with self.db.read() as c:
            return {str(subject): int(entry) for subject, entry in c.execute(stmt)}

    def dossier_codes(self) -> set[str]:
        with self.db.read() as c:
            return {str(code) for code in c.execute(select(dossiers.c.code)).scalars()}

    def owner_links(self, dossier_codes: list[str] | None = None) -> list[tuple[str, str, str, str]]:
        """(owner id, dossier code, document code, role) rows: what ``scanner owner`` answers from."""
        stmt = select(owners.c.owner_id, owners.c.dossier_code, owners.c.document_code, owners.c.role)
        if dossier_codes is not None:
            stmt = stmt.where(owners.c.dossier_code.in_(dossier_codes))
        with self.db.read() as c:
            return [(str(a), str(b), str(d or ""), str(r)) for a, b, d, r in c.execute(stmt)]

    def integrity_problems(self) -> list[str]:
        """What the database engine's own check finds wrong with the catalog file, in Vietnamese.

        A damaged page can leave every query we make working while rows are
        lost or wrong, so the engine is asked (``PRAGMA integrity_check``:
        every page, every index against its table), and rows whose dossier
        is gone (written with the foreign-key guard switched off) are listed.
        Only SQLite has these pragmas; PostgreSQL checks its own pages. There
        the log is append-only only if the service cannot change it: a role
        that may UPDATE or DELETE it (its owner, a superuser, a role given
        too much) could drop the trigger and rewrite it, so that is reported.
        """
        if self.db.dialect == "postgresql":
            with self.db.read() as c:
                role, owner, changes = c.exec_driver_sql(
                    "SELECT current_user, pg_get_userbyid(relowner), has_table_privilege('audit', 'UPDATE') "
                    "OR has_table_privilege('audit', 'DELETE') FROM pg_class WHERE oid = 'audit'::regclass"
                ).one()
            if changes:
                return [
                    f"vai trò {role} của dịch vụ sửa hoặc xóa được nhật ký kiểm toán (chủ bảng: {owner}): "
                    "cho dịch vụ đăng nhập bằng một thành viên của scanner_app, không phải chủ cơ sở dữ liệu"
                ]
            return []
        if self.db.dialect != "sqlite":
            return []
        problems: list[str] = []
        try:
            with self.db.read() as c:
                found = [str(r[0]) for r in c.exec_driver_sql("PRAGMA integrity_check(20)")]
                if found != ["ok"]:
                    problems.extend(f"tệp danh mục bị hỏng (PRAGMA integrity_check): {line}" for line in found)
                for table, rowid, parent, _ in c.exec_driver_sql("PRAGMA foreign_key_check"):
                    problems.append(f"bảng {table}, dòng {rowid}: trỏ tới {parent} không còn trong danh mục")
        except DBAPIError as exc:
            said = str(exc.orig)
            problems.append(f"tệp danh mục bị hỏng, không kiểm tra được: {DAMAGE_VI.get(said, said)}")
        return problems
