"""How a page or an API call reaches the core: FastAPI dependencies for the catalog, ``Station`` and ``Archive``.

A ``Catalog`` holds one database connection and must not be used by two
threads at once, while FastAPI runs each request's functions on worker
threads. So the app keeps a small pool of opened catalogs (``Catalogs``);
a request borrows one for its whole life and gives it back at the end.
``station`` and ``archive`` are built on that same borrowed catalog (FastAPI
resolves a dependency once per request), so a handler that asks for both
works on one connection::

    @router.get("/x")
    def x(actor: Actor = Depends(current_actor), station: Station = Depends(station)) -> ...:
        view = counter.status(actor, station)

    @router.get("/y")
    def y(actor: Actor = Depends(current_actor), archive: Archive = Depends(archive)) -> ...:
        found = officer.search(actor, "...", archive=archive, filters=Filters())

A long-lived response (a server-sent event stream) must not hold a catalog
between its events: it calls ``catalogs(request).borrow()`` for each look.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Depends, Request

from scanner.app.counter import Station
from scanner.app.officer import Archive, archive_of
from scanner.archive import Catalog
from scanner.archive.catalog import open_catalog
from scanner.config import Config


class Catalogs:
    """Opened catalogs of one workstation, lent to one request (or one look of a stream) at a time."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._free: queue.SimpleQueue[Catalog] = queue.SimpleQueue()

    @contextmanager
    def borrow(self) -> Iterator[Catalog]:
        try:
            catalog = self._free.get_nowait()
        except queue.Empty:
            catalog = open_catalog(self.config.archive, catch_up=False)
        try:
            yield catalog
        finally:
            self._free.put(catalog)

    def close(self) -> None:
        while True:
            try:
                self._free.get_nowait().close()
            except queue.Empty:
                return


def config(request: Request) -> Config:
    cfg: Config = request.app.state.config
    return cfg


def catalogs(request: Request) -> Catalogs:
    pool: Catalogs = request.app.state.catalogs
    return pool


def catalog(request: Request) -> Iterator[Catalog]:
    with catalogs(request).borrow() as c:
        yield c


# Given back as soon as the handler returns (before the response is sent): a stream or a file being sent
# holds no catalog, and every handler renders its template before it returns.
borrowed: Any = Depends(catalog, scope="function")


def station(request: Request, cat: Catalog = borrowed) -> Station:
    """The clerk's workstation (``scanner.app.counter``) on the request's catalog."""
    return Station(config(request), cat)


def archive(request: Request, cat: Catalog = borrowed) -> Archive:
    """The archive (``scanner.app.officer``, ``scanner.app.records``) on the request's catalog."""
    return archive_of(config(request), cat)
