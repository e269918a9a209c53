"""Jobs, the intake journal and the agencies' daily dossier numbers: the work in progress at the counters.

The statements are built once, with named parameters: the pipeline calls
these at every step of every job, and building a statement costs more than
running it on SQLite.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, literal, select, text, union

from scanner.archive.catalog.db import Database, now_iso
from scanner.archive.catalog.rows import IntakeEntry, JobRecord, from_row
from scanner.archive.catalog.schema import daily_numbers, dossiers, intake, jobs
from scanner.errors import ArchiveError

_BY_ID = jobs.c.id == bindparam("job_id")
_JOB = select(jobs).where(_BY_ID)
_JOB_CODE = select(jobs.c.dossier_code).where(_BY_ID)
_JOB_DETAIL = select(jobs.c.detail).where(_BY_ID)
_JOB_ATTEMPTS = select(jobs.c.attempts).where(_BY_ID)
_SET_DETAIL = jobs.update().where(_BY_ID).values(detail=bindparam("new_detail"), updated=bindparam("now"))
_COUNT_ATTEMPT = jobs.update().where(_BY_ID).values(attempts=jobs.c.attempts + 1)
_SET_STATE = (
    jobs.update().where(_BY_ID).values(state=bindparam("new_state"), updated=bindparam("now"), error=bindparam("err"))
)
_SET_CODE = (
    jobs.update()
    .where(_BY_ID)
    .values(dossier_code=bindparam("code"), receipt_date=bindparam("day"), updated=bindparam("now"))
)
_TOUCH = jobs.update().where(_BY_ID).values(last_input=bindparam("now"), updated=bindparam("now"))
_TOUCH_OPEN = _TOUCH.where(jobs.c.state == "collecting")
_HERE = jobs.c.station == bindparam("station")
_OPEN_JOB = (
    select(jobs)
    .where(_HERE, jobs.c.counter == bindparam("counter"), jobs.c.state == "collecting")
    .order_by(jobs.c.created.desc())
    .limit(1)
)
_IDLE = select(jobs).where(
    _HERE, jobs.c.state == "collecting", func.coalesce(jobs.c.last_input, jobs.c.created) <= bindparam("older_than")
)
_BY_INTAKE = intake.c.id == bindparam("intake_id")
_INTAKE_DONE = intake.update().where(_BY_INTAKE).values(state="taken")
_INTAKE_DROP = intake.delete().where(_BY_INTAKE)
_JOB_TAKING = select(intake.c.id).where(intake.c.job_id == bindparam("job_id"), intake.c.state == "taking").limit(1)
_TAKING = (
    select(intake).where(intake.c.station == bindparam("station"), intake.c.state == "taking").order_by(intake.c.id)
)
_FIND_INTAKE = (
    select(intake.c.job_id, jobs.c.dossier_code)
    .join(jobs, jobs.c.id == intake.c.job_id)
    .where(
        intake.c.sha256 == bindparam("sha256"),
        intake.c.state == "taken",
        jobs.c.state.not_in(("failed", "abandoned")),
    )
    .order_by(intake.c.id)
    .limit(1)
)
_CODE_TAKEN = union(
    select(literal(1)).where(jobs.c.dossier_code == bindparam("code")),
    select(literal(1)).where(dossiers.c.code == bindparam("code")),
)


# pg_try_advisory_lock(int4, int4) key space of job claims ("job" in ASCII); the second half names the job
_CLAIMS = 0x6A6F62


class JobStore:
    """The jobs of one workstation (STATION), in a catalog that may be shared with others.

    The work in progress lives in the station's own work folder, so only it
    may list, resume or recover its jobs and half-done takes: on a catalog
    shared by many machines, one that recovered another's takes would drop
    notes of files it cannot see. Content already taken is looked up across
    every station (the same paper is not digitized twice in the province),
    and dossier numbers are the agency's, whoever issues them.
    """

    def __init__(self, db: Database, station: str = "") -> None:
        self.db = db
        self.station = station

    def create_job(self, job_id: str, counter: str, detail: dict[str, Any], state: str = "received") -> None:
        t = now_iso()
        row = {"id": job_id, "counter": counter, "state": state, "created": t, "updated": t, "station": self.station}
        with self.db.write() as c:
            c.execute(jobs.insert(), {**row, "detail": json.dumps(detail, ensure_ascii=False)})

    def update_job_detail(self, job_id: str, **values: Any) -> None:
        with self.db.write() as c:
            detail = json.loads(c.execute(_JOB_DETAIL, {"job_id": job_id}).scalar_one() or "{}")
            detail.update(values)
            text = json.dumps(detail, ensure_ascii=False)
            c.execute(_SET_DETAIL, {"job_id": job_id, "new_detail": text, "now": now_iso()})

    @contextmanager
    def claim(self, job_id: str, worker: str) -> Iterator[bool]:
        """Hold JOB_ID for WORKER while the block runs; yields False when another process holds it.

        On PostgreSQL the claim is a session advisory lock on a connection of
        its own, held for the whole run: the database ends it when the
        holder's connection ends, a SIGKILLed worker included, so a dead
        worker never keeps a job and two live ones never run one job's steps
        at the same time, whatever the queue believes. The holder's name is
        written in the job's detail (``worker``) for the queue's listing. A
        workstation's own SQLite catalog has one machine, whose flock on the
        work area already makes it the only one carrying jobs: the claim is
        always granted there.
        """
        if self.db.dialect != "postgresql":
            yield True
            return
        number = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:4], "big", signed=True)
        key = {"space": _CLAIMS, "job": number}
        conn = self.db.engine.connect()
        got = False
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:space, :job)"), key).scalar())
            conn.commit()  # the lock is the session's: it outlives this transaction
            if got:
                self.update_job_detail(job_id, worker=worker)
            yield got
        finally:
            try:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:space, :job)"), key)
                    conn.commit()
            except Exception:
                conn.invalidate()  # never back to the pool still holding the claim: the session ends with it
            finally:
                conn.close()

    def count_attempt(self, job_id: str) -> int:
        with self.db.write() as c:
            c.execute(_COUNT_ATTEMPT, {"job_id": job_id})
            return int(c.execute(_JOB_ATTEMPTS, {"job_id": job_id}).scalar_one())

    def open_job(self, counter: str) -> JobRecord | None:
        """The counter's dossier still collecting files, if any."""
        with self.db.read() as c:
            row = c.execute(_OPEN_JOB, {"counter": counter, "station": self.station}).mappings().first()
        return from_row(JobRecord, row) if row else None

    def idle_open_jobs(self, older_than: str) -> list[JobRecord]:
        with self.db.read() as c:
            rows = c.execute(_IDLE, {"older_than": older_than, "station": self.station}).mappings()
            return [from_row(JobRecord, r) for r in rows]

    def set_job_state(self, job_id: str, state: str, *, error: str | None = None) -> None:
        with self.db.write() as c:
            c.execute(_SET_STATE, {"job_id": job_id, "new_state": state, "now": now_iso(), "err": error})

    def job(self, job_id: str) -> JobRecord | None:
        with self.db.read() as c:
            row = c.execute(_JOB, {"job_id": job_id}).mappings().first()
        return from_row(JobRecord, row) if row else None

    def job_of_dossier(self, dossier_code: str) -> JobRecord | None:
        with self.db.read() as c:
            row = c.execute(select(jobs).where(jobs.c.dossier_code == dossier_code)).mappings().first()
        return from_row(JobRecord, row) if row else None

    def jobs(
        self,
        *,
        states: Sequence[str] | None = None,
        counter: str | None = None,
        limit: int = 1000,
        every_station: bool = False,
    ) -> list[JobRecord]:
        """This station's jobs, newest first (EVERY_STATION: the whole catalog's, for the shared queue's listing)."""
        stmt = select(jobs) if every_station else select(jobs).where(jobs.c.station == self.station)
        if states:
            stmt = stmt.where(jobs.c.state.in_(states))
        if counter:
            stmt = stmt.where(jobs.c.counter == counter)
        stmt = stmt.order_by(jobs.c.created.desc(), jobs.c.id.desc()).limit(limit)
        with self.db.read() as c:
            return [from_row(JobRecord, r) for r in c.execute(stmt).mappings()]

    # --- intake journal -------------------------------------------------------------------------

    def intake_begin(
        self,
        sha256: str,
        job_id: str,
        counter: str,
        original_name: str,
        origin: str,
        stored_as: str,
        *,
        while_open: bool = False,
    ) -> int | None:
        """Note, before the file moves, where it is going: recovery finishes or undoes the move.

        WHILE_OPEN (a scan joining a counter's open dossier): noted only if the
        dossier is still collecting, else None. The job's row is written first,
        so a close from another process either comes before (and the scan goes
        to a new dossier) or waits for this note, which its run then sees.
        """
        t = now_iso()
        row = {"sha256": sha256, "job_id": job_id, "counter": counter, "original_name": original_name,
               "station": self.station}  # fmt: skip
        with self.db.write() as c:
            touched = c.execute(_TOUCH_OPEN if while_open else _TOUCH, {"job_id": job_id, "now": t}).rowcount
            if while_open and touched == 0:
                return None
            result = c.execute(
                intake.insert(), {**row, "origin": origin, "stored_as": stored_as, "state": "taking", "time": t}
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def taking_into(self, job_id: str) -> bool:
        """Whether a file is on its way into JOB_ID (a take noted and not finished)."""
        with self.db.read() as c:
            return c.execute(_JOB_TAKING, {"job_id": job_id}).first() is not None

    def intake_done(self, intake_id: int) -> None:
        with self.db.write() as c:
            c.execute(_INTAKE_DONE, {"intake_id": intake_id})

    def intake_drop(self, intake_id: int) -> None:
        with self.db.write() as c:
            c.execute(_INTAKE_DROP, {"intake_id": intake_id})

    def intakes_in_progress(self) -> list[IntakeEntry]:
        with self.db.read() as c:
            return [from_row(IntakeEntry, r) for r in c.execute(_TAKING, {"station": self.station}).mappings()]

    def find_intake(self, sha256: str) -> tuple[str, str | None] | None:
        """(job id, dossier code) of live work that already took this content, if any."""
        with self.db.read() as c:
            row = c.execute(_FIND_INTAKE, {"sha256": sha256}).first()
        return (row[0], row[1]) if row else None

    # --- dossier numbers ------------------------------------------------------------------------

    def claim_dossier_code(self, job_id: str, code: str, day: date) -> bool:
        """Give the job a code read from a receipt; False if another job or dossier already has it."""
        with self.db.write() as c:
            have = c.execute(_JOB_CODE, {"job_id": job_id}).scalar_one()
            if have:
                return bool(have == code)
            if c.execute(_CODE_TAKEN, {"code": code}).first():
                return False
            c.execute(_SET_CODE, {"job_id": job_id, "code": code, "day": day.isoformat(), "now": now_iso()})
            return True

    def issue_dossier_code(self, job_id: str, agency_code: str, day: date, fmt: Callable[[str, date, int], str]) -> str:
        """Issue (once) and record the job's dossier code; FMT formats (agency, day, number).

        Asking again for the same job returns the code already issued, so a
        job resumed after a crash keeps its code; the agency's daily counter
        and the job row change in one transaction, so a crash can neither
        skip nor repeat a number, and two processes never share one. A
        number already taken by a code claimed from a receipt or a sidecar is
        passed over (it is that dossier's), so a claim ahead of the counter
        never blocks the day's numbering.
        """
        with self.db.write() as c:
            row = c.execute(_JOB_CODE, {"job_id": job_id}).first()
            if row is None:
                raise ArchiveError(f"không có công việc {job_id}", f"no job {job_id}")
            if row[0]:
                return str(row[0])
            key = {"agency_code": agency_code, "day": day.isoformat()}
            while True:  # a number a receipt or sidecar already claimed is skipped, never issued twice
                number = c.execute(self.db.upsert_increment(daily_numbers, key, "last")).scalar_one()
                code = str(fmt(agency_code, day, int(number)))
                if not c.execute(_CODE_TAKEN, {"code": code}).first():
                    break
            c.execute(_SET_CODE, {"job_id": job_id, "code": code, "day": day.isoformat(), "now": now_iso()})
            return code

    def daily_numbers(self) -> list[tuple[str, str, int]]:
        """(agency, day, last number issued) of every agency and day."""
        with self.db.read() as c:
            return [(a, d, int(n)) for a, d, n in c.execute(select(daily_numbers).order_by("agency_code", "day"))]

    def raise_daily_numbers(self, numbers: Sequence[tuple[str, str, int]]) -> None:
        """Make each agency's day counter at least NUMBERS' (numbers another catalog issued): never lowered."""
        if not numbers:
            return
        stmt = self.db.upsert_greatest(daily_numbers, ["agency_code", "day"], "last")
        with self.db.write() as c:
            c.execute(stmt, [{"agency_code": a, "day": d, "last": n} for a, d, n in numbers])
