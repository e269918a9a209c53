"""The province's search index: one writer (the index service), searchers that only read, rebuilds beside the live one.

Each test runs on SQLite and on PostgreSQL. A few hundred documents at most:
what is tested is who writes, what is resumed and what is never skipped,
not speed (``benchmarks/search/rebuild.py`` measures that).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from scanner.app import SYSTEM
from scanner.app.officer import not_yet_searchable
from scanner.archive import Catalog
from scanner.archive.index import Filters, IndexMissing, SearchIndex, parse_query
from scanner.config import IndexConfig
from tests.archive.helpers import file_document
from tests.conftest import CatalogPlace

PROVINCE = IndexConfig(service=True, batch=10, pending_limit=20, poll_seconds=0.2)
REPO = Path(__file__).resolve().parents[2]


def _live(cat: Catalog) -> tuple[str, int]:
    """(live generation, live cursor) as the catalog records them."""
    with cat.search_store.db.read() as c:
        live = cat.search_store.indexer.live(c)
    return live.generation, live.position


def _in_index(cat: Catalog, word: str) -> set[str]:
    """Codes the live index itself returns for WORD (no pending scan); none while there is no index yet."""
    try:
        index = cat.index
    except IndexMissing:
        return set()
    return {code for code, _ in index.search(parse_query(word), limit=1000)}


def _until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


@contextmanager
def _service(place: CatalogPlace, options: IndexConfig = PROVINCE) -> Iterator[list[int]]:
    """The index service running in a thread on its own catalog connection; yields the sizes of its batches."""
    stop, batches, failed = threading.Event(), list[int](), list[BaseException]()

    def run() -> None:
        try:
            with place.open(index=options, catch_up=False) as cat:
                cat.serve_index(stop, actor=SYSTEM.label, on_batch=batches.append)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield batches
    finally:
        stop.set()
        thread.join(30)
    assert not failed, failed
    assert not thread.is_alive()


def _no_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to take tantivy's writer lock fails the test."""

    def refuse(self: SearchIndex, heap: int, threads: int) -> Any:
        raise AssertionError(f"a searcher took the writer lock of {self.path}")

    monkeypatch.setattr(SearchIndex, "_writer", refuse)


def test_the_service_indexes_what_is_filed_and_searchers_never_write(
    catalog_place: CatalogPlace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL: the poll is too slow for the test to pass on it, so the service must wake on the notification
    options = replace(PROVINCE, poll_seconds=60.0) if catalog_place.engine == "postgresql" else PROVINCE
    with catalog_place.open(index=PROVINCE) as counter:
        file_document(counter, "S-261124-0001", "Giấy chứng nhận quyền sử dụng đất")
        with _service(catalog_place, options):
            _until(lambda: counter.search_store.has_unindexed() is False)  # made the live generation from the catalog
            assert _in_index(counter, "dat") == {"S-261124-0001.01"}
            time.sleep(0.3)  # the service is now waiting on the outbox
            with monkeypatch.context() as m:
                _no_writer(m)  # a clerk's machine files and searches: the index is the service's alone
                file_document(counter, "S-261124-0002", "Quyết định giao đất")
                assert {h.code for h in counter.search("giao đất")} == {"S-261124-0002.01"}  # the pending scan
                _until(lambda: _in_index(counter, "giao") == {"S-261124-0002.01"}, 10.0)
                assert counter.catch_up() == 0
        assert not counter.search_store.has_unindexed()
        assert {h.code for h in counter.search("dat")} == {"S-261124-0001.01", "S-261124-0002.01"}


def test_outbox_rows_are_pruned_once_every_cursor_has_passed_them(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        for i in range(3):
            file_document(cat, f"O-261124-000{i + 1}", f"Văn bản {i + 1}")
        with cat.search_store.db.read() as c:
            left = c.exec_driver_sql("SELECT count(*) FROM index_outbox").scalar()
        assert left == 0  # the live cursor passed them, and it is the only cursor
        file_document(cat, "O-261124-0004", "Văn bản 4")
        assert _in_index(cat, "4") == {"O-261124-0004.01"}  # ids went on after the pruned ones


def test_an_edit_and_a_filing_during_a_rebuild_are_in_the_new_generation(catalog_place: CatalogPlace) -> None:
    options = IndexConfig(batch=10)
    with catalog_place.open(index=PROVINCE) as cat:
        for i in range(30):
            file_document(cat, f"E-261124-{i + 1:04d}", f"Biên bản họp số {i + 1}")
        cat.reindex(actor=SYSTEM.label)
    with catalog_place.open(index=options) as cat, catalog_place.open(index=options) as other:
        old, _ = _live(cat)
        edits: list[int] = []

        def meanwhile(n: int) -> None:  # another machine edits and files while the rebuild reads
            if not edits:
                edits.append(n)
                other.edit_dossier("E-261124-0001", {"access": "hạn chế"}, actor=SYSTEM.label)
                file_document(other, "E-261124-0031", "Biên bản họp số 31")

        assert cat.reindex(actor=SYSTEM.label, progress=meanwhile) == 31
        assert edits == [10]
        new, _ = _live(cat)
        assert new != old
        assert not cat.search_store.has_unindexed()
        index = cat.index
        assert index.count() == 31
        restricted = index.search([], Filters(access="hạn chế"), limit=10)
        assert [code for code, _ in restricted] == ["E-261124-0001.01"]
        assert "E-261124-0031.01" in _in_index(cat, "31")
        assert not (catalog_place.index / old).exists() if old else not (catalog_place.index / "meta.json").exists()


def _rebuild_killed(where: str, index: str, engine: str) -> None:
    """Run in a child: rebuild with batches of 20 and die (SIGKILL) just before the third commit."""
    import signal

    from sqlalchemy import make_url

    from scanner.archive import index as index_module

    commits = 0
    commit = index_module.IndexWriter.commit

    def dying(self: Any) -> None:
        nonlocal commits
        commits += 1
        if commits == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        commit(self)

    index_module.IndexWriter.commit = dying  # type: ignore[method-assign]
    place = make_url(where) if engine == "postgresql" else Path(where)
    with Catalog(place, index_path=Path(index), index=IndexConfig(batch=20), catch_up=False) as cat:
        cat.reindex(actor=SYSTEM.label)


def test_a_rebuild_killed_midway_resumes_and_holds_each_document_once(catalog_place: CatalogPlace) -> None:
    with catalog_place.open(index=PROVINCE) as cat:  # filed without indexing one by one: the test stays fast
        for i in range(100):
            file_document(cat, f"K-261124-{i + 1:04d}", f"Hợp đồng thuê nhà số {i + 1}")
        assert cat.reindex(actor=SYSTEM.label) == 100
        before = _live(cat)
    where = catalog_place.where.render_as_string(hide_password=False) if catalog_place.engine == "postgresql" else ""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); from tests.archive.test_index_service import _rebuild_killed; "
        f"_rebuild_killed({where or str(catalog_place.where)!r}, {str(catalog_place.index)!r}, "
        f"{catalog_place.engine!r})"
    )
    child = subprocess.run([sys.executable, "-c", code], timeout=120)
    assert child.returncode == -9
    with catalog_place.open(index=IndexConfig(batch=20)) as cat:
        assert _live(cat) == before  # the live generation was served throughout
        assert len(cat.search("hop dong", limit=200)) == 100
        sizes: list[int] = []
        assert cat.reindex(actor=SYSTEM.label, progress=sizes.append) == 100
        assert sizes[0] == 60  # went on after the two commits the killed run made
        assert cat.index.count() == 100  # each document once
        assert len(_in_index(cat, "hop dong")) == 100
        assert _live(cat)[0] != before[0]
        generations = sorted(p.name for p in catalog_place.index.iterdir() if p.is_dir())
        assert generations == [_live(cat)[0]]  # the old one removed


def test_the_pending_scan_is_bounded_and_says_what_it_did_not_search(catalog_place: CatalogPlace) -> None:
    options = replace(PROVINCE, pending_limit=5)
    with catalog_place.open(index=options) as cat:  # no service has run: nothing is indexed
        for i in range(4):
            file_document(cat, f"B-261124-{i + 1:04d}", f"Giấy phép xây dựng số {i + 1}")
        assert len(cat.search("giay phep")) == 4  # a few waiting: scanned
        assert cat.unsearchable() == 0
        for i in range(4, 8):
            file_document(cat, f"B-261124-{i + 1:04d}", f"Giấy phép xây dựng số {i + 1}")
        assert cat.search("giay phep") == []  # too many waiting: not scanned on every search
        assert cat.unsearchable() == 8
        page = cat.search_page("giay phep", Filters())
        assert (page.hits, page.unsearchable) == ([], 8)
        assert "8 văn bản" in not_yet_searchable(page.unsearchable)
        with _service(catalog_place, options):
            _until(lambda: cat.unsearchable() == 0)
        assert len(cat.search("giay phep", limit=20)) == 8


def test_a_province_rebuild_switches_the_service_to_the_new_generation(catalog_place: CatalogPlace) -> None:
    with catalog_place.open(index=PROVINCE) as cat:
        for i in range(15):
            file_document(cat, f"G-261124-{i + 1:04d}", f"Tờ trình số {i + 1}")
        with _service(catalog_place):
            _until(lambda: not cat.search_store.has_unindexed())
            first, _ = _live(cat)
            assert cat.reindex(actor=SYSTEM.label) == 15  # beside the live generation the service writes
            second, _ = _live(cat)
            file_document(cat, "G-261124-0016", "Tờ trình số 16")
            _until(lambda: _in_index(cat, "16") == {"G-261124-0016.01"})  # the service feeds the new one
            _until(lambda: not (catalog_place.index / first).exists() if first else True)
        assert second != first
        assert cat.index.count() == 16


def test_scanner_indexer_needs_the_province_setting(workstation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.cli import main

    assert main(["--config", str(workstation), "indexer"]) == 2
    assert "[index] service = true" in capsys.readouterr().err


def test_a_catalog_of_an_earlier_release_catches_up_from_its_outbox(catalog_place: CatalogPlace) -> None:
    """Before revision 0006 the outbox held exactly the pending documents, and there was no cursor."""
    with catalog_place.open() as cat:
        file_document(cat, "U-261124-0001", "Biên bản nghiệm thu")
        with cat.search_store.db.write() as c:
            c.exec_driver_sql("DELETE FROM index_cursors")
            c.exec_driver_sql("INSERT INTO index_outbox (code) VALUES ('U-261124-0001.01')")
    with catalog_place.open(catch_up=False) as cat:
        assert cat.search_store.has_unindexed()
        assert cat.catch_up() == 1
        assert not cat.search_store.has_unindexed()
        with cat.search_store.db.read() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM index_outbox").scalar() == 0


def test_scanner_search_says_how_many_recent_documents_it_could_not_search(
    workstation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from scanner.archive import open_catalog
    from scanner.cli import main
    from scanner.config import load_config
    from tests.conftest import configure

    configure(workstation, "index", service=True, pending_limit=1)
    with open_catalog(load_config(workstation).archive) as cat:  # filed on a machine of the province
        for i in range(3):
            file_document(cat, f"N-261124-000{i + 1}", "Giấy xác nhận tình trạng hôn nhân", agency="000.00.00.H32")
    assert main(["--config", str(workstation), "search", "hôn nhân"]) == 0
    out = capsys.readouterr().out
    assert "Còn khoảng 3 văn bản mới nộp lưu chưa vào chỉ mục tìm kiếm" in out
    assert main(["--config", str(workstation), "search", "hôn nhân", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unsearchable"] == 3


def test_scanner_indexer_indexes_until_sigterm(workstation: Path) -> None:
    import signal

    from scanner.archive import open_catalog
    from scanner.config import load_config
    from tests.conftest import configure

    configure(workstation, "index", service=True, poll_seconds=0.2)
    archive = load_config(workstation).archive
    with open_catalog(archive) as cat:
        file_document(cat, "I-261124-0001", "Đơn đề nghị cấp bản sao trích lục hộ tịch")
        argv = ["--config", str(workstation), "indexer"]
        code = f"import sys; from scanner.cli import main; sys.exit(main({argv!r}))"
        service = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            _until(lambda: _in_index(cat, "trich luc") == {"I-261124-0001.01"}, 60.0)
            file_document(cat, "I-261124-0002", "Trích lục khai tử")
            _until(lambda: _in_index(cat, "trich luc") == {"I-261124-0001.01", "I-261124-0002.01"}, 30.0)
        finally:
            service.send_signal(signal.SIGTERM)
            assert service.wait(30) == 0


def test_the_service_listens_again_after_its_connection_drops(postgres_server: Any, tmp_path: Path) -> None:
    owner, service = postgres_server.fresh_database()
    place = CatalogPlace("postgresql", service, tmp_path / "c.index", owner)
    options = replace(PROVINCE, poll_seconds=60.0)  # only a notification wakes it in time
    with place.open(index=PROVINCE) as cat:
        file_document(cat, "L-261124-0001", "Văn bản thứ nhất")
        with _service(place, options):
            _until(lambda: _in_index(cat, "nhat") == {"L-261124-0001.01"})
            time.sleep(0.5)
            postgres_server.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{service.database}' AND query LIKE 'LISTEN%'"
            )
            time.sleep(1.0)
            file_document(cat, "L-261124-0002", "Văn bản thứ hai")
            _until(lambda: _in_index(cat, "hai") == {"L-261124-0002.01"}, 15.0)
