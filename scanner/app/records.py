"""The records team's use cases: the report, deletion requests and approvals, the audit log, moving up.

Deletion follows the four-eyes rule of records management: a request stays
pending until a second person — never the one who asked — approves it. Both
steps are audit entries, so the log itself is the register of requests
(append-only and hash-chained, it cannot be quietly edited); nothing is ever
removed from disk here: destruction follows the retention schedule, outside
this program.

On S3 with Object Lock the store itself refuses to delete a signed file
before its retain-until day (COMPLIANCE: nobody can; GOVERNANCE: only a
role allowed to bypass it), so the approval also tells the officer, file by
file, which ones the store keeps and until when. The approval is recorded
all the same and the objects are left as they are: no delete marker either,
since a marker would hide a file from verify and export while its bytes
stay, a deletion that is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from scanner.app import Actor
from scanner.app.officer import (
    Archive,
    agency_time,
    check_editor,
    check_range,
    entry_actor,
    not_found,
    record_of,
    write_audit,
)
from scanner.archive.catalog import AUDIT_ACTIONS
from scanner.archive.move import MovedDossier
from scanner.backfill.rates import CountRow, RateRow, counts, rates, read_totals
from scanner.errors import ArchiveError, ConfigError, InputError, NotFoundError

APPROVE = "delete-approve"
REQUEST = "delete-request"
ACTIONS_VI = {**AUDIT_ACTIONS, APPROVE: "phê duyệt hủy", "edit": "sửa thông tin", "reuse": "tái sử dụng"}


# --- report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    since: date
    until: date
    agency: str | None
    rows: tuple[CountRow, ...]
    rates: tuple[RateRow, ...]  # empty without a totals file


def report(
    actor: Actor,
    *,
    archive: Archive,
    since: date | None = None,
    until: date | None = None,
    agency: str | None = None,
    totals: Path | None = None,
    today: date | None = None,
) -> Report:
    """Digitized results per agency, procedure and month, and the digitization rate when totals are given."""
    today = today or date.today()
    check_range(since, until)
    start, end = since or date(1900, 1, 1), until or today
    agency = _agency_of(actor, agency)
    rows = counts(archive.catalog, since=start, until=end, agency=agency, today=today) if agency != _NONE else []
    shares = rates(rows, read_totals(totals)) if totals else []
    return Report(start, end, agency, tuple(rows), tuple(shares))


_NONE = "\x00"  # an agency no record has: what another agency's figures are, for an actor confined to their own


def _agency_of(actor: Actor, asked: str | None) -> str | None:
    """The agency a report covers: the actor's own when they are confined to one, else ASKED (None: all)."""
    if actor.agency:
        return actor.agency if asked in (None, "", actor.agency) else _NONE
    return asked or None


# --- the 766/QĐ-TTg indicators ---------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorRow:
    """The indicators of one agency, procedure and month (or a total: procedure or month "")."""

    agency: str
    procedure: str
    month: str  # YYYY-MM of filing
    received: int  # dossiers received at the counter
    components: int  # their papers digitized
    reused: int  # papers reused from the archive instead of asked for again
    results: int  # results digitized with the dossiers
    backfilled: int  # old still-valid results digitized by backfill
    dossiers_with_result: int
    pages: int

    @property
    def reuse_rate(self) -> float:
        """Share (%) of the papers a dossier needed that were reused rather than handed in and scanned again."""
        needed = self.components + self.reused
        return 100.0 * self.reused / needed if needed else 0.0

    @property
    def result_rate(self) -> float:
        """Share (%) of the dossiers received whose result is digitized."""
        return 100.0 * self.dossiers_with_result / self.received if self.received else 0.0


_SUMMED = ("received", "components", "reused", "results", "backfilled", "dossiers_with_result", "pages")


def _total(rows: list[IndicatorRow], agency: str, procedure: str = "", month: str = "") -> IndicatorRow:
    sums = {k: sum(getattr(r, k) for r in rows) for k in _SUMMED}
    return IndicatorRow(agency, procedure, month, **sums)


@dataclass(frozen=True)
class Indicators:
    since: date
    until: date
    agency: str | None
    rows: tuple[IndicatorRow, ...]  # per agency, procedure, month
    by_agency: tuple[IndicatorRow, ...]  # per agency, all procedures and months
    by_month: tuple[IndicatorRow, ...]  # per month, all agencies in reach (agency "")
    total: IndicatorRow


def indicators(
    actor: Actor,
    *,
    archive: Archive,
    since: date | None = None,
    until: date | None = None,
    agency: str | None = None,
    today: date | None = None,
) -> Indicators:
    """The 766/QĐ-TTg indicators per agency, procedure and month filed, with totals per agency and per month.

    Confined to the actor's agency like every look-up (another agency's
    figures are empty, not refused). What the archive cannot know — papers
    handed in but not digitized, results issued on paper only — is not
    invented: the rates are of what the archive holds.
    """
    today = today or date.today()
    check_range(since, until)
    start, end = since or date(1900, 1, 1), until or today
    scope = _agency_of(actor, agency)
    found = archive.catalog.indicator_counts(since=start.isoformat(), until=end.isoformat(), agency=scope)
    rows = [IndicatorRow(**{k: getattr(r, k) for k in ("agency", "procedure", "month", *_SUMMED)}) for r in found]
    agencies = sorted({r.agency for r in rows})
    months = sorted({r.month for r in rows})
    return Indicators(
        start,
        end,
        scope if scope != _NONE else agency,
        tuple(rows),
        tuple(_total([r for r in rows if r.agency == a], a) for a in agencies),
        tuple(_total([r for r in rows if r.month == m], "", month=m) for m in months),
        _total(rows, ""),
    )


def record_reuse(
    actor: Actor,
    paper_code: str,
    *,
    archive: Archive,
    dossier_code: str,
    agency: str,
    procedure: str = "",
    on: date | None = None,
) -> bool:
    """Note that PAPER_CODE was reused for DOSSIER_CODE (received by AGENCY) instead of being asked for again.

    This is the figure "thành phần hồ sơ được tái sử dụng" of the 766
    indicators; the counter's "Đã số hóa?" page and the API's reuse call it
    when a paper is taken. The paper must be one the actor may see and still
    valid ON (today): an expired paper is asked for again, not reused. Counted
    once per dossier and paper; False when it already was.
    """
    _, doc = record_of(actor, paper_code, archive)
    if doc is None:
        raise not_found(paper_code)
    day = (on or date.today()).isoformat()
    if doc.valid_until and doc.valid_until < day:
        raise InputError(
            paper_code, f"giấy tờ {doc.code} đã hết hiệu lực ngày {doc.valid_until}: cần nộp bản mới", "expired"
        )
    return archive.catalog.record_reuse(agency, procedure, dossier_code, doc.code, actor=actor.label)


# --- deletion: requested by one person, approved by another -------------------------------


@dataclass(frozen=True)
class DeletionRequest:
    code: str
    reason: str
    requested_by: str  # the requester's label
    requested_at: str  # ISO 8601 with offset
    entry: int  # the audit entry that records it


@dataclass(frozen=True)
class KeptFile:
    """A file of an approved deletion the store will not delete yet (Object Lock), and why, in Vietnamese."""

    path: str  # relative to the archive
    mode: str  # COMPLIANCE | GOVERNANCE ("" with a legal hold alone)
    until: str  # ISO 8601 date
    legal_hold: bool
    reason: str


@dataclass(frozen=True)
class DeletionApproval:
    request: DeletionRequest
    approved_by: str
    kept: tuple[KeptFile, ...] = ()  # locked files (S3 Object Lock), left in the store


def _deletion_requests(archive: Archive) -> dict[str, DeletionRequest]:
    """Pending requests by code, read from the audit log (the log is the register)."""
    pending: dict[str, DeletionRequest] = {}
    for row in reversed(archive.catalog.audit_entries()):
        action, subject = row.action, row.subject
        if action == REQUEST:
            who, reason = entry_actor(row)
            pending[subject] = DeletionRequest(subject, reason, who, row.time, row.id)
        elif action == APPROVE:
            pending.pop(subject, None)
    return pending


def pending_deletions(actor: Actor, *, archive: Archive, code: str | None = None) -> tuple[DeletionRequest, ...]:
    """Deletion requests still waiting for a second person (of CODE only, if given), oldest first.

    An actor confined to an agency sees the requests for its records only.
    """
    pending = list(_deletion_requests(archive).values())
    if code is not None:
        pending = [r for r in pending if r.code == code]
    if actor.agency:
        pending = [r for r in pending if _in_reach(actor, r.code, archive)]
    return tuple(sorted(pending, key=lambda r: r.entry))


def _in_reach(actor: Actor, code: str, archive: Archive) -> bool:
    try:
        record_of(actor, code, archive)
    except NotFoundError:
        return False
    return True


# --- a record's history --------------------------------------------------------------------


def history(actor: Actor, code: str, *, archive: Archive, limit: int = 200) -> tuple[AuditEntry, ...]:
    """Every audit entry about record CODE — its dossier, documents and stored files — newest first."""
    dossier, doc = record_of(actor, code, archive)
    catalog = archive.catalog
    subjects = {dossier.code, code}
    subjects.update(d.code for d in catalog.documents(dossier.code))
    subjects.update(f.path for f in catalog.stored_files([dossier.code]))
    return tuple(_entry(row) for row in catalog.audit_entries_about(sorted(subjects), limit=limit))


def request_deletion(actor: Actor, code: str, reason: str, *, archive: Archive) -> DeletionRequest:
    """Ask for CODE to be destroyed; nothing is removed, the request waits for a second person."""
    check_editor(actor)
    record_of(actor, code, archive)
    if not reason.strip():
        raise ConfigError("cần nêu lý do đề nghị hủy (--reason)", "a reason is required", code="usage")
    if (existing := _deletion_requests(archive).get(code)) is not None:
        raise ArchiveError(
            f"{code} đã có đề nghị hủy đang chờ phê duyệt (của {existing.requested_by})",
            f"{code} already has a pending deletion request",
            code="pending",
        )
    write_audit(archive, actor, REQUEST, code, reason.strip())
    return _deletion_requests(archive)[code]


def _same_person(label: str, actor: Actor) -> bool:
    return label == actor.label or label.partition(" (")[0] == actor.name


def approve_deletion(actor: Actor, code: str, *, archive: Archive) -> DeletionApproval:
    """Approve the pending request for CODE; the requester may not approve their own request."""
    check_editor(actor)
    record_of(actor, code, archive)
    request = _deletion_requests(archive).get(code)
    if request is None:
        raise NotFoundError(f"không có đề nghị hủy nào đang chờ cho {code}", f"no pending deletion request for {code}")
    if _same_person(request.requested_by, actor):
        raise ArchiveError(
            f"người đề nghị hủy ({request.requested_by}) không được tự phê duyệt; cần người thứ hai",
            "the requester cannot approve their own deletion request",
            code="four-eyes",
        )
    kept = _locked_files(archive, code)
    detail = f"đề nghị #{request.entry} của {request.requested_by}"
    if kept:
        detail += f"; {len(kept)} tệp còn bị khóa trong kho, được giữ nguyên"
    write_audit(archive, actor, APPROVE, code, detail)
    return DeletionApproval(request, actor.label, kept)


def _locked_files(archive: Archive, code: str, now: datetime | None = None) -> tuple[KeptFile, ...]:
    """The files of CODE (a dossier, or one document and its dossier's record) the store may not delete now."""
    catalog, storage = archive.catalog, archive.files
    doc = catalog.document(code) if catalog.dossier(code) is None else None
    dossier = doc.dossier_code if doc is not None else code
    now = now or datetime.now(UTC)
    kept = []
    for f in catalog.stored_files([dossier]):
        if doc is not None and f.role == "document" and f.document_code != doc.code:
            continue
        lock = storage.retention(f.path)
        if lock is None or not lock.blocks(now):
            continue
        day = lock.until.astimezone(UTC).date()
        why = []
        if lock.until > now:
            rule = "không ai xóa được" if lock.mode == "COMPLIANCE" else "chỉ người có quyền vượt khóa mới xóa được"
            why.append(f"khóa lưu trữ {lock.mode} đến ngày {day:%d/%m/%Y} ({rule} trước ngày đó)")
        if lock.legal_hold:
            why.append("đang bị giữ theo yêu cầu pháp lý (legal hold)")
        reason = (f"tệp {f.path}: {' và '.join(why)}; kho lưu trữ không cho xóa — việc hủy đã được ghi nhận, "
                  "tệp được giữ nguyên trong kho")  # fmt: skip
        kept.append(KeptFile(f.path, lock.mode, day.isoformat(), lock.legal_hold, reason))
    return tuple(kept)


# --- audit log, index --------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: str  # ISO 8601 with offset
    action: str
    action_vi: str
    subject: str
    actor: str
    detail: str


def audit_list(actor: Actor, *, archive: Archive, limit: int | None = 50) -> tuple[AuditEntry, ...]:
    """The newest entries of the audit log, newest first."""
    return tuple(_entry(row) for row in archive.catalog.audit_entries(limit=limit))


def _entry(row: Any) -> AuditEntry:
    who, detail = entry_actor(row)
    return AuditEntry(row.id, row.time, row.action, ACTIONS_VI.get(row.action, row.action), row.subject, who, detail)


@dataclass(frozen=True)
class AuditCheck:
    entries: int
    problems: tuple[str, ...]
    checkpoints: int = 0  # signed checkpoints found and checked
    notes: tuple[str, ...] = ()  # what the officer should know, not a fault (entries not yet anchored)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify(actor: Actor, *, archive: Archive) -> AuditCheck:
    """Whether the audit log is intact: its hash chain, the signed checkpoints it must still match, the file.

    The chain alone is recomputable by whoever holds the database; the
    checkpoints, signed with the agency key outside it, are not. The
    database engine's own check runs first, since a damaged page can drop
    entries without breaking what is left.
    """
    from scanner.archive.audit_anchor import unanchored, verify_checkpoints
    from scanner.archive.move import imported_log_problems

    catalog = archive.catalog
    problems = catalog.custody_store.integrity_problems()
    problems.extend(catalog.verify_audit())
    checkpoints, anchored = verify_checkpoints(catalog, archive.files, archive.trust_roots, when=agency_time)
    problems.extend(anchored)
    problems.extend(imported_log_problems(catalog, archive.files))
    gaps, notes = unanchored(catalog, archive.files, when=agency_time)
    problems.extend(gaps)
    head = catalog.custody_store.audit_head()
    entries = head[2] if head is not None else 0
    return AuditCheck(entries, tuple(dict.fromkeys(problems)), checkpoints, tuple(notes))


@dataclass(frozen=True)
class CheckpointWritten:
    path: str  # relative to the archive root
    last_id: int
    hash: str
    count: int
    time: str  # ISO 8601 with offset


def audit_checkpoint(actor: Actor, *, archive: Archive, signing: Any) -> CheckpointWritten:
    """Sign the audit log's head now, with the agency key (SIGNING), into the archive's ``.audit`` folder."""
    from scanner.archive.audit_anchor import agency_signer, latest, write_checkpoint

    path = write_checkpoint(archive.catalog, archive.files, agency_signer(signing), actor=actor.label)
    point = latest(archive.files)
    if path is None or point is None or point.path != path:
        raise ArchiveError("nhật ký kiểm toán còn trống, chưa có gì để neo", "the audit log is empty", code="empty")
    return CheckpointWritten(str(path), point.last_id, point.hash, point.count, point.time)


# --- moving a ward's archive up into the shared one ------------------------------------------


@dataclass(frozen=True)
class MoveReport:
    source: str  # the workstation, as the audit log names it
    target: str  # the shared catalog, password never shown
    dossiers: tuple[MovedDossier, ...]
    anchored: str | None  # the workstation's log kept under the target root; None when already anchored

    def count(self, outcome: str) -> int:
        return sum(d.outcome == outcome for d in self.dossiers)

    @property
    def ok(self) -> bool:
        return not self.count("refused")


def move_up(actor: Actor, *, source: Archive, target: Archive, work: Path, label: str) -> MoveReport:
    """Move every filed dossier of the workstation (SOURCE) into the shared archive (TARGET), once.

    The workstation's service must be stopped and its work finished: its
    lock is held for the whole move, and a dossier still in progress would
    stay behind in a catalog nobody uses any more. Dossiers already in the
    target with the same files are passed over, so an interrupted move is
    simply run again; a dossier whose code the target holds with other files
    is refused, never overwritten. The agencies' daily numbers go along (the
    target never issues a number the ward already gave), then the ward's
    audit log is kept and anchored (``scanner.archive.move``).
    """
    from scanner.archive.move import anchor_source_log, move_dossier
    from scanner.pipeline.lock import hold
    from scanner.pipeline.states import JobState

    with hold(work, "scanner migrate"):
        busy = source.catalog.jobs(states=[s.value for s in JobState if not s.finished])
        if busy:
            raise ArchiveError(
                f"máy trạm còn {len(busy)} hồ sơ đang xử lý (ví dụ {busy[0].id}, {JobState(busy[0].state).label_vi}): "
                "để dịch vụ xử lý xong hoặc cách ly, rồi chuyển",
                f"{len(busy)} dossiers are still in progress on the workstation: let the service finish them first",
                code="busy",
            )
        if problems := source.catalog.verify_audit():
            raise ArchiveError(
                f"nhật ký kiểm toán của máy trạm không còn nguyên vẹn ({problems[0]}): kiểm tra trước khi chuyển",
                "the workstation's audit log does not verify: check it before moving",
                code="audit",
            )
        moved = tuple(
            move_dossier(source.catalog, source.files, target.catalog, target.files, code, actor=actor.label,
                         label=label)
            for code in source.catalog.record_store.dossier_codes()
        )  # fmt: skip
        target.catalog.job_store.raise_daily_numbers(source.catalog.job_store.daily_numbers())
        anchored = None
        if not any(d.outcome == "refused" for d in moved):
            anchored = anchor_source_log(
                source.catalog, source.files, target.catalog, target.files, actor=actor.label, label=label
            )
        if target.catalog.search_store.has_unindexed():
            target.catalog.catch_up()
    return MoveReport(label, target.catalog.label, moved, anchored)
