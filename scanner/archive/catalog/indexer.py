"""Writing the search index: catching a generation up from the outbox, rebuilding one beside the live one, the service.

The outbox (``index_outbox``) is a log read by cursors (``index_cursors``):
``live`` is how far the generation searches use has read it, ``rebuild``
how far a generation being built beside it has. A row is pruned only once
every cursor has passed it, so a rebuild sees the edits made while it ran.
A cursor moves only after the tantivy commit of what it passed: a crash in
between indexes those documents again (a put replaces by code), never skips
them. Ids are committed in order (one writer at a time, ``db.py``), so
"after the cursor" is exactly "not yet indexed".

Which generation is live is the ``live`` row's, not a file's: switching to a
rebuilt generation moves the generation and its cursor in one transaction
(a pointer file and a database row could disagree after a crash), and every
machine of a province reads it where it already reads the outbox. A writer
that still feeds the old generation advances nothing (its update names the
generation it fed).

A rebuild reads the documents in row key order, a batch at a time
(``WHERE key > last ORDER BY key LIMIT n``), and commits every batch with
the fixed writer heap: its memory does not grow with the archive. Where it
stopped is the highest key its index holds, which tantivy commits with the
documents themselves; killed and run again, it resumes there.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, select

from scanner.archive.access import access_level
from scanner.archive.catalog.custody import CustodyStore
from scanner.archive.catalog.db import Database, now_iso, scrub
from scanner.archive.catalog.schema import documents, dossiers, index_cursors, index_outbox
from scanner.archive.index import SMALL_HEAP, IndexBusy, IndexEntry, IndexWriter, SearchIndex
from scanner.config import IndexConfig
from scanner.errors import ArchiveError

log = logging.getLogger(__name__)

LIVE, REBUILD = "live", "rebuild"
CHANNEL = "scanner_index"  # what revision 0006's trigger notifies when rows are put in the outbox
_GENERATION = re.compile(r"gen-(\d{6})")
_MB = 1_000_000

_ENTRY_DOCUMENT_COLUMNS = (
    "code", "title", "text", "type_name", "type_abbr", "kind", "issued_date", "valid_until", "holder_id", "identifiers",
)  # fmt: skip
_ENTRY_DOSSIER_COLUMNS = ("agency_code", "procedure_code", "owner_id", "receipt_date", "access")


@dataclass(frozen=True)
class Cursor:
    name: str
    generation: str  # "" is the index folder itself (an index made before generations)
    position: int  # the last outbox id this generation holds
    scanned: int = 0  # a rebuild: the last document key it has read


def entries_statement(db: Database, where: Any = None, *, by_key_after: bool = False, limit: int = 0) -> Select[Any]:
    """The statement reading index entries: of the documents WHERE selects, or (BY_KEY_AFTER) a key-ordered batch."""
    d, s = documents, dossiers
    key = db.row_key(d)
    stmt = select(
        key.label("key"), *(d.c[k] for k in _ENTRY_DOCUMENT_COLUMNS), *(s.c[k] for k in _ENTRY_DOSSIER_COLUMNS)
    ).select_from(d.join(s, s.c.code == d.c.dossier_code))
    if where is not None:
        stmt = stmt.where(where)
    if by_key_after:
        stmt = stmt.where(key > bindparam("after")).order_by(key).limit(limit)
    return stmt


def read_entries(
    db: Database, stmt: Select[Any], params: dict[str, Any] | None = None
) -> Generator[IndexEntry, None, None]:
    """The index entries STMT selects, read in one short transaction as they are consumed."""
    levels: dict[str | None, str] = {}  # a handful of values as filed: folded once, not once per document
    with db.read() as c:
        for r in c.execute(stmt, params or {}).mappings():
            if (level := levels.get(r["access"])) is None:
                level = levels[r["access"]] = access_level(r["access"]).value
            owners = (r["owner_id"], r["holder_id"], *json.loads(r["identifiers"] or "[]"))
            yield IndexEntry(
                code=r["code"],
                key=r["key"],
                text=f"{r['title']}\n{r['text']}",
                agency=r["agency_code"],
                procedure=r["procedure_code"],
                types=(r["type_name"], r["type_abbr"]),
                owners=tuple(o for o in dict.fromkeys(owners) if o),
                kind=r["kind"],
                issued=r["issued_date"] or r["receipt_date"],
                valid_until=r["valid_until"],
                type_label=r["type_name"] or "",
                access=level,
            )


def _noting_keys(entries: Iterable[IndexEntry], keys: list[int]) -> Generator[IndexEntry, None, None]:
    for e in entries:
        keys.append(e.key)
        yield e


class Indexer:
    """The writing side of one catalog's search index: its generations under HOME and their cursors."""

    def __init__(self, db: Database, custody: CustodyStore, home: Path, options: IndexConfig) -> None:
        self.db = db
        self.custody = custody
        self.home = home
        self.options = options
        self._between = entries_statement(
            db,
            documents.c.code.in_(
                select(index_outbox.c.code).where(
                    index_outbox.c.id > bindparam("low"), index_outbox.c.id <= bindparam("high")
                )
            ),
        )
        self._batch_after = entries_statement(db, by_key_after=True, limit=options.batch)

    @property
    def heap(self) -> int:
        return self.options.heap_mb * _MB

    def path_of(self, generation: str) -> Path:
        return self.home / generation if generation else self.home

    # --- cursors -------------------------------------------------------------------------------

    @staticmethod
    def cursor(c: Connection, name: str) -> Cursor | None:
        row = c.execute(select(index_cursors).where(index_cursors.c.name == name)).mappings().first()
        return Cursor(name, row["generation"], row["position"], row["scanned"]) if row else None

    def live(self, c: Connection) -> Cursor:
        """The live cursor; a catalog that never had one has indexed nothing of what its outbox holds."""
        return self.cursor(c, LIVE) or Cursor(LIVE, "", 0)

    @staticmethod
    def _set(c: Connection, cursor: Cursor) -> None:
        c.execute(delete(index_cursors).where(index_cursors.c.name == cursor.name))
        c.execute(
            index_cursors.insert().values(
                name=cursor.name,
                generation=cursor.generation,
                position=cursor.position,
                scanned=cursor.scanned,
                updated=now_iso(),
            )
        )

    def _ensure_live(self, c: Connection) -> Cursor:
        cursor = self.live(c)
        if self.cursor(c, LIVE) is None:
            self._set(c, cursor)
        return cursor

    @staticmethod
    def top(c: Connection) -> int:
        """The outbox's last id: how far a cursor has to read."""
        return int(c.execute(select(func.coalesce(func.max(index_outbox.c.id), 0))).scalar_one())

    @staticmethod
    def _prune(c: Connection) -> None:
        """Remove the outbox rows every cursor has passed."""
        low = c.execute(select(func.min(index_cursors.c.position))).scalar()
        if low:
            c.execute(delete(index_outbox).where(index_outbox.c.id <= low))

    def _advance(self, cursor: Cursor, position: int, scanned: int | None = None) -> bool:
        """Move CURSOR to POSITION (and SCANNED) if it still feeds its generation; False once it no longer does."""
        with self.db.write() as c:
            now = self.cursor(c, cursor.name)
            if now is None and cursor.name == LIVE:  # a catalog of an earlier release: its first live cursor
                self._set(c, now := Cursor(LIVE, cursor.generation, 0))
            if now is None or now.generation != cursor.generation:
                return False
            values: dict[str, Any] = {"position": max(position, now.position), "updated": now_iso()}
            if scanned is not None:
                values["scanned"] = scanned
            c.execute(index_cursors.update().where(index_cursors.c.name == cursor.name).values(**values))
            self._prune(c)
        return True

    def reset(self, generation: str) -> None:
        """A new (or lost) live index knows nothing: every document goes back in the outbox, after its cursor."""
        with self.db.write() as c:
            top = self.top(c)
            c.execute(index_outbox.insert().from_select(["code"], select(documents.c.code)))
            self._set(c, Cursor(LIVE, generation, top))

    # --- catching up ---------------------------------------------------------------------------

    def catch_up(self, index: SearchIndex, cursor: Cursor, writer: IndexWriter | None = None) -> int:
        """Index the outbox rows after CURSOR, a batch per commit, the cursor moved after each; returns how many.

        Stops early if the cursor no longer feeds INDEX's generation (a
        rebuild has switched it): what it indexed there is harmless.
        """
        heap = self.heap if writer is None and self._backlog(cursor) > self.options.batch else SMALL_HEAP
        done, position = 0, cursor.position
        while True:
            with self.db.read() as c:
                ids = select(index_outbox.c.id).where(index_outbox.c.id > position)
                window = ids.order_by(index_outbox.c.id).limit(self.options.batch).subquery()
                high = c.execute(select(func.max(window.c.id))).scalar()
            if high is None:
                return done
            with closing(read_entries(self.db, self._between, {"low": position, "high": high})) as entries:
                if writer is None:  # a counter's few documents: the writer held only while they are put
                    done += index.put(entries, heap=heap)
                else:
                    done += writer.add(entries, replace=True)
                    writer.commit()
            if not self._advance(cursor, high):
                return done
            position = high

    def _backlog(self, cursor: Cursor) -> int:
        with self.db.read() as c:
            return self.top(c) - cursor.position

    # --- rebuilding ----------------------------------------------------------------------------

    def rebuild(self, *, actor: str, progress: Callable[[int], None] | None = None) -> int:
        """Build a new generation from the catalog beside the live one, then make it live; returns its documents.

        Resumable: a rebuild killed at any moment continues from its last
        commit when run again. PROGRESS, if given, is told the number of
        documents in the new generation after each commit.
        """
        with self.db.write() as c:
            live = self._ensure_live(c)
            job = self.cursor(c, REBUILD)
            made = job is not None and (self.path_of(job.generation) / "meta.json").exists()
            if job is None or job.generation == live.generation or not made:
                job = Cursor(REBUILD, self._next_generation(live, job), self.top(c), 0)
                self._set(c, job)
                fresh = True
            else:
                fresh = False
        if fresh:
            self._remove_others(keep={live.generation, job.generation}, also=job.generation)
        index = SearchIndex(self.path_of(job.generation))
        with index.writer(self.heap, 2) as w:
            last = index.max_key()
            while True:
                read: list[int] = []  # the keys of this batch, as they stream past (the entries are not kept)
                with closing(_noting_keys(read_entries(self.db, self._batch_after, {"after": last}), read)) as entries:
                    w.add(entries, replace=False)
                if not read:
                    break
                w.commit()
                last = read[-1]
                if not self._advance(job, job.position, scanned=last):
                    raise ArchiveError(
                        "một lần dựng lại chỉ mục khác đã thay lần này", "another rebuild took this one's place"
                    )
                if progress is not None:
                    progress(index.count())
                if len(read) < self.options.batch:
                    break
            with self.db.read() as c:
                job = self.cursor(c, REBUILD) or job
            self.catch_up(index, job, w)
        n = index.count()
        with self.db.write() as c:
            job = self.cursor(c, REBUILD) or job
            old = self.live(c)
            self._set(c, Cursor(LIVE, job.generation, job.position))
            c.execute(delete(index_cursors).where(index_cursors.c.name == REBUILD))
            self._prune(c)
            self.custody.append_audit(c, "reindex", str(self.path_of(job.generation)), f"{n} văn bản", actor=actor)
        if old.generation != job.generation and self._idle(old.generation):
            self._remove(old.generation)  # else its writer (the service) removes it when it moves on
        return n

    def _idle(self, generation: str) -> bool:
        """Whether no process writes GENERATION (its tantivy writer lock is free)."""
        path = self.path_of(generation)
        if not (path / "meta.json").exists():
            return True
        try:
            SearchIndex(path).writer(15_000_000, 1).close(wait=False)
        except IndexBusy:
            return False
        except ArchiveError:  # damaged: nobody can be writing it
            return True
        return True

    def _next_generation(self, live: Cursor, job: Cursor | None) -> str:
        numbers = [int(m.group(1)) for p in self._generations() if (m := _GENERATION.fullmatch(p.name))]
        for name in (live.generation, job.generation if job else ""):
            if m := _GENERATION.fullmatch(name):
                numbers.append(int(m.group(1)))
        return f"gen-{max(numbers, default=0) + 1:06d}"

    def _generations(self) -> list[Path]:
        if not self.home.exists():
            return []
        return [p for p in self.home.iterdir() if p.is_dir() and _GENERATION.fullmatch(p.name)]

    def _remove_others(self, *, keep: set[str], also: str) -> None:
        """Generations no longer live that were left behind (a writer held them, a rebuild was abandoned),
        and whatever is in the folder of the one about to be made."""
        for p in self._generations():
            if p.name not in keep or p.name == also:
                shutil.rmtree(p, ignore_errors=True)
        if "" not in keep:
            self._remove("")

    def _remove(self, generation: str) -> None:
        """An old generation, once no longer live: readers that still hold its files keep them until they reopen."""
        if generation:
            shutil.rmtree(self.path_of(generation), ignore_errors=True)
            return
        if self.home.exists():  # the index made before generations: its files, not the generations beside them
            for p in self.home.iterdir():
                if p.is_file():
                    p.unlink(missing_ok=True)

    # --- the service ---------------------------------------------------------------------------

    def serve(self, stop: threading.Event, *, actor: str, on_batch: Callable[[int], None] | None = None) -> None:
        """Be the one writer of the live index until STOP is set: wait for the outbox, index, commit, advance.

        A live generation missing from disk (a new province, a lost folder)
        is rebuilt first. Waiting is PostgreSQL's LISTEN on the channel
        revision 0006's trigger notifies at each filing's commit, with a poll
        every ``poll_seconds`` besides (a notification lost with a dropped
        connection costs at most that); SQLite has no notifications: a poll.
        """
        waiter = _Waiter(self.db, self.options.poll_seconds)
        try:
            while not stop.is_set():
                with self.db.read() as c:
                    live = self.live(c)
                path = self.path_of(live.generation)
                if not (path / "meta.json").exists():
                    log.info("chưa có chỉ mục tìm kiếm tại %s: dựng từ danh mục", path)
                    self.rebuild(actor=actor)
                    continue
                index = SearchIndex(path)
                with index.writer(self.heap, 2) as w:
                    while not stop.is_set():
                        with self.db.read() as c:
                            now = self.live(c)
                        if now.generation != live.generation:
                            break  # a rebuild made another generation live: feed that one
                        n = self.catch_up(index, now, w)
                        if n and on_batch is not None:
                            on_batch(n)
                        waiter.wait(stop)
                if not stop.is_set():
                    self._remove(live.generation)  # the rebuild left it to its writer
        finally:
            waiter.close()


class _Waiter:
    """Sleeps until the outbox may have grown: a notification (PostgreSQL), the poll interval, or STOP.

    A listening connection that drops is made again at the next wait; meanwhile the poll alone wakes the service.
    """

    def __init__(self, db: Database, poll: float) -> None:
        self.poll = poll
        self.db = db
        self.conn: Any = None
        self._listen()

    def _listen(self) -> None:
        if self.db.dialect != "postgresql" or self.conn is not None:
            return
        import psycopg

        url = self.db.url.set(drivername="postgresql")
        try:
            self.conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True, connect_timeout=10)
            self.conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            log.warning("không nghe được thông báo của danh mục, xem định kỳ: %s", scrub(str(exc), self.db.url))
            self.close()

    def wait(self, stop: threading.Event) -> None:
        self._listen()
        if self.conn is None:
            stop.wait(self.poll)
            return
        import psycopg

        slice_ = min(self.poll, 0.5)  # STOP is looked at this often
        waited = 0.0
        try:
            while waited < self.poll and not stop.is_set():
                if any(True for _ in self.conn.notifies(timeout=slice_, stop_after=1)):
                    return
                waited += slice_
        except psycopg.Error as exc:
            log.warning("mất kết nối nghe thông báo của danh mục, sẽ nối lại: %s", scrub(str(exc), self.db.url))
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()
