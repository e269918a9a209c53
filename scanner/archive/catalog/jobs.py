"""Jobs, the intake journal and the agencies' daily dossier numbers: the work in progress at the counters."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, literal, select, union

from scanner.archive.catalog.db import Database, now_iso
from scanner.archive.catalog.rows import IntakeEntry, JobRecord, from_row
from scanner.archive.catalog.schema import daily_numbers, dossiers, intake, jobs
from scanner.errors import ArchiveError


class JobStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_job(self, job_id: str, counter: str, detail: dict[str, Any], state: str = "received") -> None:
        t = now_iso()
        with self.db.write() as c:
            c.execute(
                jobs.insert().values(
                    id=job_id,
                    counter=counter,
                    state=state,
                    created=t,
                    updated=t,
                    detail=json.dumps(detail, ensure_ascii=False),
                )
            )

    def update_job_detail(self, job_id: str, **values: Any) -> None:
        with self.db.write() as c:
            detail = json.loads(c.execute(select(jobs.c.detail).where(jobs.c.id == job_id)).scalar_one() or "{}")
            detail.update(values)
            c.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(detail=json.dumps(detail, ensure_ascii=False), updated=now_iso())
            )

    def count_attempt(self, job_id: str) -> int:
        with self.db.write() as c:
            c.execute(jobs.update().where(jobs.c.id == job_id).values(attempts=jobs.c.attempts + 1))
            return int(c.execute(select(jobs.c.attempts).where(jobs.c.id == job_id)).scalar_one())

    def open_job(self, counter: str) -> JobRecord | None:
        """The counter's dossier still collecting files, if any."""
        stmt = (
            select(jobs)
            .where(jobs.c.counter == counter, jobs.c.state == "collecting")
            .order_by(jobs.c.created.desc())
            .limit(1)
        )
        with self.db.read() as c:
            row = c.execute(stmt).mappings().first()
        return from_row(JobRecord, row) if row else None

    def idle_open_jobs(self, older_than: str) -> list[JobRecord]:
        stmt = select(jobs).where(
            jobs.c.state == "collecting", func.coalesce(jobs.c.last_input, jobs.c.created) <= older_than
        )
        with self.db.read() as c:
            return [from_row(JobRecord, r) for r in c.execute(stmt).mappings()]

    def set_job_state(self, job_id: str, state: str, *, error: str | None = None) -> None:
        with self.db.write() as c:
            c.execute(jobs.update().where(jobs.c.id == job_id).values(state=state, updated=now_iso(), error=error))

    def job(self, job_id: str) -> JobRecord | None:
        with self.db.read() as c:
            row = c.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return from_row(JobRecord, row) if row else None

    def jobs(
        self, *, states: Sequence[str] | None = None, counter: str | None = None, limit: int = 1000
    ) -> list[JobRecord]:
        stmt = select(jobs)
        if states:
            stmt = stmt.where(jobs.c.state.in_(states))
        if counter:
            stmt = stmt.where(jobs.c.counter == counter)
        stmt = stmt.order_by(jobs.c.created.desc(), jobs.c.id.desc()).limit(limit)
        with self.db.read() as c:
            return [from_row(JobRecord, r) for r in c.execute(stmt).mappings()]

    # --- intake journal -------------------------------------------------------------------------

    def intake_begin(
        self, sha256: str, job_id: str, counter: str, original_name: str, origin: str, stored_as: str
    ) -> int:
        """Note, before the file moves, where it is going: recovery finishes or undoes the move."""
        t = now_iso()
        with self.db.write() as c:
            result = c.execute(
                intake.insert().values(
                    sha256=sha256,
                    job_id=job_id,
                    counter=counter,
                    original_name=original_name,
                    origin=origin,
                    stored_as=stored_as,
                    state="taking",
                    time=t,
                )
            )
            c.execute(jobs.update().where(jobs.c.id == job_id).values(last_input=t, updated=t))
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def intake_done(self, intake_id: int) -> None:
        with self.db.write() as c:
            c.execute(intake.update().where(intake.c.id == intake_id).values(state="taken"))

    def intake_drop(self, intake_id: int) -> None:
        with self.db.write() as c:
            c.execute(intake.delete().where(intake.c.id == intake_id))

    def intakes_in_progress(self) -> list[IntakeEntry]:
        with self.db.read() as c:
            rows = c.execute(select(intake).where(intake.c.state == "taking").order_by(intake.c.id)).mappings()
            return [from_row(IntakeEntry, r) for r in rows]

    def find_intake(self, sha256: str) -> tuple[str, str | None] | None:
        """(job id, dossier code) of live work that already took this content, if any."""
        stmt = (
            select(intake.c.job_id, jobs.c.dossier_code)
            .join(jobs, jobs.c.id == intake.c.job_id)
            .where(
                intake.c.sha256 == sha256,
                intake.c.state == "taken",
                jobs.c.state.not_in(("failed", "abandoned")),
            )
            .order_by(intake.c.id)
            .limit(1)
        )
        with self.db.read() as c:
            row = c.execute(stmt).first()
        return (row[0], row[1]) if row else None

    # --- dossier numbers ------------------------------------------------------------------------

    def claim_dossier_code(self, job_id: str, code: str, day: date) -> bool:
        """Give the job a code read from a receipt; False if another job or dossier already has it."""
        with self.db.write() as c:
            have = c.execute(select(jobs.c.dossier_code).where(jobs.c.id == job_id)).scalar_one()
            if have:
                return bool(have == code)
            taken = union(
                select(literal(1)).where(jobs.c.dossier_code == code),
                select(literal(1)).where(dossiers.c.code == code),
            )
            if c.execute(taken).first():
                return False
            c.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(dossier_code=code, receipt_date=day.isoformat(), updated=now_iso())
            )
            return True

    def issue_dossier_code(self, job_id: str, agency_code: str, day: date, fmt: Callable[[str, date, int], str]) -> str:
        """Issue (once) and record the job's dossier code; FMT formats (agency, day, number).

        Asking again for the same job returns the code already issued, so a
        job resumed after a crash keeps its code; the agency's daily counter
        and the job row change in one transaction, so a crash can neither
        skip nor repeat a number, and two processes never share one.
        """
        with self.db.write() as c:
            row = c.execute(select(jobs.c.dossier_code).where(jobs.c.id == job_id)).first()
            if row is None:
                raise ArchiveError(f"không có công việc {job_id}", f"no job {job_id}")
            if row[0]:
                return str(row[0])
            key = {"agency_code": agency_code, "day": day.isoformat()}
            number = c.execute(self.db.upsert_increment(daily_numbers, key, "last")).scalar_one()
            code = str(fmt(agency_code, day, int(number)))
            c.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(dossier_code=code, receipt_date=day.isoformat(), updated=now_iso())
            )
            return code
