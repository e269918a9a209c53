"""The states a job goes through, with the Vietnamese a clerk reads and the moves allowed between them.

The value of each state is what the catalog stores, so a catalog written by
an earlier release reads the same. A job's saved results in its folder, not
its state, decide where a run resumes; the state is what people are shown
and what the service looks at to pick work.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    COLLECTING = "collecting"  # a counter's open dossier: pages are still arriving
    RECEIVING = "receiving"  # files being copied in by `process` or backfill
    RECEIVED = "received"  # closed; waiting for the service
    CAPTURED = "captured"  # pages grouped into documents
    RECOGNIZED = "recognized"  # every page cleaned and read
    EXTRACTED = "extracted"  # fields read from each document's first page
    CODED = "coded"  # dossier code issued or claimed
    REVIEWING = "reviewing"  # waiting for the clerk to confirm or correct fields and pages
    CONFIRMED = "confirmed"  # the clerk confirmed; waiting to be signed
    BUILT = "built"  # PDF/A built
    SIGNED = "signed"  # signed with the agency's key
    ARCHIVED = "archived"  # filed in the archive and the catalog
    FAILED = "failed"  # an attempt failed; retried up to max_attempts
    WAITING = "waiting"  # the workstation has a fault (a program missing, disk full): retried, never blamed on the file
    QUARANTINED = "quarantined"  # given up; its inputs are in quarantine
    ABANDONED = "abandoned"  # nothing to do (a take interrupted before any file arrived)

    @property
    def label_vi(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]

    @property
    def finished(self) -> bool:
        return self in (JobState.ARCHIVED, JobState.QUARANTINED, JobState.ABANDONED)

    def can_go(self, to: JobState) -> bool:
        return to in _MOVES[self]


_LABELS = {
    JobState.COLLECTING: ("đang nhận thêm trang", "collecting pages"),
    JobState.RECEIVING: ("đang nhận", "receiving"),
    JobState.RECEIVED: ("đã nhận, chờ xử lý", "received"),
    JobState.CAPTURED: ("đã tách trang", "pages split"),
    JobState.RECOGNIZED: ("đã nhận dạng", "recognized"),
    JobState.EXTRACTED: ("đã đọc thông tin văn bản", "fields read"),
    JobState.CODED: ("đã cấp mã", "coded"),
    JobState.REVIEWING: ("chờ cán bộ kiểm tra", "waiting for the clerk's review"),
    JobState.CONFIRMED: ("đã kiểm tra, chờ ký số", "confirmed, waiting to be signed"),
    JobState.BUILT: ("đã tạo PDF/A", "PDF/A built"),
    JobState.SIGNED: ("đã ký số", "signed"),
    JobState.ARCHIVED: ("đã lưu trữ", "archived"),
    JobState.FAILED: ("lỗi, sẽ thử lại", "failed, will retry"),
    JobState.WAITING: ("chờ khắc phục sự cố máy trạm", "waiting for a workstation fault to be fixed"),
    JobState.QUARANTINED: ("đã cách ly", "quarantined"),
    JobState.ABANDONED: ("đã hủy", "abandoned"),
}

# What may follow each state. Any unfinished state may fail, wait for the workstation or be given up.
_STEPS: dict[JobState, tuple[JobState, ...]] = {
    JobState.COLLECTING: (JobState.RECEIVED, JobState.ABANDONED),
    JobState.RECEIVING: (JobState.RECEIVED, JobState.ABANDONED),
    JobState.RECEIVED: (JobState.CAPTURED, JobState.ABANDONED),  # closed with nothing in it
    JobState.CAPTURED: (JobState.RECOGNIZED,),
    JobState.RECOGNIZED: (JobState.EXTRACTED,),
    JobState.EXTRACTED: (JobState.CODED,),
    JobState.CODED: (JobState.REVIEWING, JobState.BUILT),
    JobState.REVIEWING: (JobState.CONFIRMED, JobState.RECEIVED),
    JobState.CONFIRMED: (JobState.BUILT, JobState.RECEIVED),
    JobState.BUILT: (JobState.SIGNED,),
    JobState.SIGNED: (JobState.ARCHIVED,),
    JobState.FAILED: (JobState.RECEIVED,),
    JobState.WAITING: (JobState.RECEIVED,),
    JobState.ARCHIVED: (),
    JobState.QUARANTINED: (),
    JobState.ABANDONED: (),
}
_TROUBLE = (JobState.FAILED, JobState.WAITING, JobState.QUARANTINED)
_MOVES: dict[JobState, frozenset[JobState]] = {
    s: frozenset(nxt + (() if s.finished or s is JobState.COLLECTING else _TROUBLE)) for s, nxt in _STEPS.items()
}

# States the service carries forward on its own (a job in REVIEWING waits for the clerk).
RUNNABLE = (
    JobState.RECEIVED,
    JobState.CAPTURED,
    JobState.RECOGNIZED,
    JobState.EXTRACTED,
    JobState.CODED,
    JobState.CONFIRMED,
    JobState.BUILT,
    JobState.SIGNED,
)

# The main line, in order: a resumed run walks it again and never moves a job back along it.
LINE = (
    JobState.RECEIVED,
    JobState.CAPTURED,
    JobState.RECOGNIZED,
    JobState.EXTRACTED,
    JobState.CODED,
    JobState.REVIEWING,
    JobState.CONFIRMED,
    JobState.BUILT,
    JobState.SIGNED,
    JobState.ARCHIVED,
)
