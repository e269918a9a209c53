"""A throwaway PostgreSQL cluster for the tests, started the way an administrator would start one.

The catalog tests run on both engines. A run where PostgreSQL cannot be
started fails with the reason (CI must never pass by skipping half the
catalog tests); ``SCANNER_TEST_POSTGRES=skip`` skips those tests on a
machine without PostgreSQL, and ``SCANNER_TEST_POSTGRES=postgresql://…``
uses a running server instead (its role must be allowed to create roles
and databases).

The cluster is made with Debian's ``initdb`` in a temporary folder and
listens on a Unix socket there only (no TCP port to collide with). initdb
refuses to run as root, so as root it runs as the ``postgres`` user.
Two roles are made, as the README tells an administrator to: the owner of
the catalog (runs the migrations) and ``scanner_app``'s member the service
logs in as. Each test gets its own database, copied from a template that is
already at the newest revision.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import URL, make_url

ENV = "SCANNER_TEST_POSTGRES"
OWNER, SERVICE = "scanner_owner", "scanner_service"
TEMPLATE = "scanner_template"


class Unavailable(Exception):
    pass


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise Unavailable(f"{name} not found: install Debian's postgresql (bash scripts/setup.sh --dev)")
    return found[-1]


@dataclass
class Server:
    admin: URL  # a superuser (or a role with CREATEROLE and CREATEDB)
    folder: Path | None  # the throwaway cluster's, None for a server given by SCANNER_TEST_POSTGRES
    _numbers: itertools.count[int]

    def url(self, database: str, user: str) -> URL:
        return self.admin.set(database=database, username=user, password=None)

    def sql(self, statement: str, database: str = "postgres", user: str | None = None) -> None:
        url = self.admin.set(database=database, drivername="postgresql")
        if user:
            url = url.set(username=user, password=None)
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def fresh_database(self, *, empty: bool = False) -> tuple[URL, URL]:
        """(owner URL, service URL) of a new database at the newest revision (EMPTY: with no tables yet)."""
        name = f"t{next(self._numbers)}_{os.getpid()}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE} OWNER {OWNER}")
        if empty:
            self.sql(f"ALTER SCHEMA public OWNER TO {OWNER}", database=name)
        return self.url(name, OWNER).set(drivername="postgresql+psycopg"), self.url(name, SERVICE).set(
            drivername="postgresql+psycopg"
        )

    def stop(self) -> None:
        if self.folder is None:
            return
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _throwaway() -> Server:
    folder = Path(tempfile.mkdtemp(prefix="scanner-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    run = [_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"]
    done = subprocess.run(_as_postgres(run), capture_output=True, text=True)
    if done.returncode:
        raise Unavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
    options = f"-k {folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=60"
    start = [_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]
    done = subprocess.run(_as_postgres(start), capture_output=True, text=True)
    if done.returncode:
        log = (folder / "log").read_text(errors="replace")[-500:] if (folder / "log").exists() else ""
        raise Unavailable(f"pg_ctl start failed: {done.stderr.strip()[-300:]} {log}")
    admin = URL.create("postgresql+psycopg", username="postgres", database="postgres", query={"host": str(folder)})
    return Server(admin, folder, itertools.count(1))


def start() -> Server:
    """The server the tests use; raises Unavailable with the reason."""
    given = os.environ.get(ENV, "")
    server = Server(make_url(given), None, itertools.count(1)) if "://" in given else _throwaway()
    try:
        _prepare(server)
    except BaseException:
        server.stop()
        raise
    return server


def _prepare(server: Server) -> None:
    """The roles an administrator makes, and a template database at the newest revision."""
    from scanner.archive import Catalog

    for statement in (
        f"DROP DATABASE IF EXISTS {TEMPLATE}",
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER}') THEN "
        f"CREATE ROLE {OWNER} LOGIN; END IF; END $$",
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scanner_app') THEN "
        "CREATE ROLE scanner_app NOLOGIN; END IF; END $$",
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE}') THEN "
        f"CREATE ROLE {SERVICE} LOGIN IN ROLE scanner_app; END IF; END $$",
        f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}",
    ):
        server.sql(statement)
    server.sql(f"ALTER SCHEMA public OWNER TO {OWNER}", database=TEMPLATE)
    index = Path(tempfile.mkdtemp(prefix="scanner-pg-index-"))
    try:
        Catalog(server.url(TEMPLATE, OWNER).set(drivername="postgresql+psycopg"), index_path=index / "i").close()
    finally:
        shutil.rmtree(index, ignore_errors=True)
