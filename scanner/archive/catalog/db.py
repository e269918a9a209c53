"""The catalog's one database connection, and the few statements each engine spells its own way.

SQLite in WAL mode lets the watcher, a CLI search and a second worker process
use the catalog at once. Writes that must not interleave — issuing the next
dossier number of an agency, chaining an audit entry — need the write lock
from the first statement on, or two processes could read the same "last"
value. pysqlite would begin its transactions lazily and as ``DEFERRED``, so
on SQLite the driver's own transaction handling is switched off and
``write()`` emits ``BEGIN IMMEDIATE`` itself (SQLAlchemy's pysqlite recipe
for serializable transactions); ``read()`` emits a plain ``BEGIN`` and ends
it at once, so a reader never pins an old snapshot of the WAL.

On PostgreSQL (a province's shared archive, many machines on one catalog)
``write()`` takes one transaction-scoped advisory lock first, so writers
queue exactly as they do on SQLite: the stores read, then write on what they
read (is this dossier filed? which number comes next? which entry heads the
audit chain?), and a serial id is handed out and committed in the same order,
which the index outbox relies on. Writes are a few milliseconds; readers
never wait. The daily numbers and the audit head are also safe on their own
(a counter row updated in the writing transaction; the audit head row locked
and its ``prev`` unique), so a program that skipped the lock could still not
issue a number twice or fork the chain.

Everything engine-specific lives behind a ``dialect`` check in this module
(and in the migrations), so the stores run unchanged on either engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import URL, Connection, Engine, Table, case, create_engine, event, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from scanner.errors import ArchiveError

_WRITE = "scanner_write"
# pg_advisory_xact_lock key of the catalog's one writer at a time ("scanner" in ASCII, as a bigint)
WRITER_LOCK = 0x7363616E6E6572

SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=60000")


def now_iso() -> str:
    """Local time with its offset, to the second: what every row's time stamp holds."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def masked(url: URL) -> str:
    """URL as it may be shown or logged: never with its password."""
    return url.render_as_string(hide_password=True)


def make_engine(url: URL) -> Engine:
    backend = url.get_backend_name()
    if backend == "postgresql":
        # a ward's network may drop; a half-open connection must fail in seconds, not hang the counter
        engine = create_engine(url, connect_args={"connect_timeout": 10, "application_name": "scanner"})
        event.listen(engine, "begin", _postgresql_begin)
        return engine
    engine = create_engine(url, connect_args={"timeout": 60.0} if backend == "sqlite" else {})
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # no implicit BEGIN from the driver: _sqlite_begin emits it
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(_WRITE) else "BEGIN")


def _postgresql_begin(conn: Connection) -> None:
    if conn.info.get(_WRITE):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")


class Database:
    """One engine and one held connection, used by one thread: what a ``Catalog`` stands on."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            self.conn = self.engine.connect()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            where, said = masked(url), scrub(str(getattr(exc, "orig", None) or exc), url)
            vi, en = f"không mở được danh mục {where}: {said}", f"cannot open catalog {where}: {said}"
            raise ArchiveError(vi, en) from None
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction holding the write lock from its start, so what it reads is still true when it writes."""
        self.conn.info[_WRITE] = True
        try:
            tx = self.conn.begin()
        finally:
            self.conn.info[_WRITE] = False
        with tx:
            yield self.conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A short read transaction: one consistent view for the statements inside, released at the end."""
        with self.conn.begin():
            yield self.conn

    # --- what each engine spells its own way ---------------------------------------------------

    def insert_ignore(self, table: Table) -> Any:
        """INSERT that skips rows whose key is already there."""
        return self._insert(table).on_conflict_do_nothing()

    def upsert_increment(self, table: Table, key: dict[str, Any], column: str) -> Any:
        """INSERT KEY with COLUMN = 1, or add 1 to COLUMN of the existing row; returns the new value."""
        stmt = self._insert(table).values(**key, **{column: 1})
        return stmt.on_conflict_do_update(index_elements=list(key), set_={column: table.c[column] + 1}).returning(
            table.c[column]
        )

    def upsert_greatest(self, table: Table, keys: list[str], column: str) -> Any:
        """INSERT rows, or keep the greater COLUMN where a row with the same KEYS is there (never lowered)."""
        stmt = self._insert(table)
        new, old = stmt.excluded[column], table.c[column]
        return stmt.on_conflict_do_update(index_elements=keys, set_={column: case((new > old, new), else_=old)})

    def _insert(self, table: Table) -> Any:
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        raise ArchiveError(f"không hỗ trợ cơ sở dữ liệu {self.dialect}", f"unsupported database {self.dialect}")

    def json_has(self, column: ColumnElement[Any], key: str) -> ColumnElement[bool]:
        """Whether the JSON object text in COLUMN has KEY (with a non-null value)."""
        if self.dialect == "sqlite":
            from sqlalchemy import func

            return func.json_extract(column, f"$.{key}").is_not(None)
        from sqlalchemy import cast

        return cast(column, postgresql.JSONB)[key].is_not(None)

    def row_key(self, table: Table) -> ColumnElement[Any]:
        """A small integer naming a row for the search index (the index stores it as ``key``).

        SQLite's rowid; on PostgreSQL the identity column ``row_key`` that
        revision 0002 adds to ``documents`` (PostgreSQL has no stable row
        number: a ctid moves with every update and vacuum).
        """
        if self.dialect == "sqlite":
            return literal_column(f"{table.name}.rowid")
        return literal_column(f"{table.name}.row_key")

    def last_audit_id(self, conn: Connection) -> int:
        """The highest audit id ever given, removed entries included.

        SQLite keeps it in sqlite_sequence; PostgreSQL in the ``audit_head``
        row, which only ever moves up by one, in the transaction that adds
        the entry (a sequence would move on a rolled-back append too, and
        a hole nobody made would read as a removed entry).
        """
        if self.dialect == "sqlite":
            seq = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").scalar()
            return int(seq or 0)
        return int(conn.exec_driver_sql("SELECT last FROM audit_head").scalar() or 0)

    def next_audit_id(self, conn: Connection) -> int:
        """The id of the entry about to be appended, with the chain's head held until the transaction ends.

        On PostgreSQL the ``audit_head`` row is moved on (and so locked) first:
        a second machine appending waits here, then reads the new head.
        """
        if self.dialect == "sqlite":
            return self.last_audit_id(conn) + 1  # BEGIN IMMEDIATE already holds the only write lock
        return int(conn.exec_driver_sql("UPDATE audit_head SET last = last + 1 RETURNING last").scalar_one())


def scrub(text: str, url: URL) -> str:
    """TEXT with URL's password taken out, wherever a driver may have repeated it."""
    return text.replace(url.password, "***") if url.password else text
