from __future__ import annotations

import multiprocessing
from datetime import date

from benchmarks.catalog.numbering import issue_codes
from scanner import codes
from scanner.app import SYSTEM
from scanner.archive import Catalog, DocumentRecord, DossierRecord, fold
from scanner.archive.catalog import snippet
from tests.conftest import CatalogPlace

DAY = date(2026, 11, 24)


def test_daily_numbers_unique_and_gapless_across_processes(catalog_place: CatalogPlace) -> None:
    """Four processes (on PostgreSQL: four machines, as far as the database can tell) number at once."""
    place = catalog_place
    place.open().close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        parts = pool.starmap(
            issue_codes, [(place.where, place.index, w, 15, "000.00.00.H32" if w < 3 else "H26") for w in range(4)]
        )
    got = [c for part in parts for c in part]
    assert len(set(got)) == 60
    for agency, issued in (("000.00.00.H32", 45), ("H26", 15)):  # three processes at once on one agency and day
        numbers = sorted(int(c.rsplit("-", 1)[1]) for c in got if c.startswith(agency + "-"))
        assert numbers == list(range(1, issued + 1))


def test_code_is_issued_once_per_job(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        cat.create_job("j1", "quay-1", {})
        first = cat.issue_dossier_code("j1", "H26", DAY, codes.dossier_code)
        again = cat.issue_dossier_code("j1", "H26", DAY, codes.dossier_code)
        cat.create_job("j2", "quay-1", {})
        second = cat.issue_dossier_code("j2", "H26", DAY, codes.dossier_code)
    assert first == again == "H26-261124-0001"
    assert second == "H26-261124-0002"


def test_issued_numbers_skip_codes_already_claimed(catalog_place: CatalogPlace) -> None:
    """A receipt (or sidecar) claiming ...-0002 before the counter gets there never blocks the day's numbering."""
    with catalog_place.open() as cat:
        cat.create_job("claimed", "quay-1", {})
        assert cat.claim_dossier_code("claimed", "H26-261124-0002", DAY)
        issued = []
        for job in ("a", "b", "c"):
            cat.create_job(job, "quay-1", {})
            issued.append(cat.issue_dossier_code(job, "H26", DAY, codes.dossier_code))
    assert issued == ["H26-261124-0001", "H26-261124-0003", "H26-261124-0004"]


def test_numbers_restart_each_day(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        cat.create_job("a", "q", {})
        cat.create_job("b", "q", {})
        assert cat.issue_dossier_code("a", "H26", DAY, codes.dossier_code).endswith("-0001")
        assert cat.issue_dossier_code("b", "H26", date(2026, 11, 25), codes.dossier_code) == "H26-261125-0001"


def _file(cat: Catalog, code: str, title: str, text: str) -> None:
    cat.record_dossier(
        DossierRecord(
            code, "H26", "UBND", "quay-1", "", "", "2026-11-24", title, f"H26/2026/{code}", 1, 1, "j", (), "t"
        ),
        [
            DocumentRecord(
                f"{code}.01",
                code,
                1,
                title,
                f"H26/2026/{code}/{code}.01.pdf",
                1,
                "0" * 64,
                1,
                "2b",
                "",
                None,
                "B-B",
                90.0,
                text,
            )
        ],
        [],
        actor=SYSTEM.label,
    )


def test_search_with_and_without_diacritics_ranks_exact_first(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        _file(cat, "H26-261124-0001", "TỜ KHAI", "Đơn xin giay khai sinh viết không dấu cho con.")
        _file(cat, "H26-261124-0002", "GIẤY KHAI SINH", "Giấy khai sinh của Nguyễn Văn Đức, cấp tại Đà Nẵng.")
        _file(cat, "H26-261124-0003", "QUYẾT ĐỊNH", "Quyết định về việc đăng ký kết hôn.")
        plain = cat.search("giay khai sinh")
        exact = cat.search("giấy khai sinh")
        assert {h.dossier_code for h in plain} == {"H26-261124-0001", "H26-261124-0002"}
        assert exact[0].dossier_code == "H26-261124-0002"
        # đ folds to d both ways
        assert [h.dossier_code for h in cat.search("Duc Da Nang")] == ["H26-261124-0002"]
        assert [h.dossier_code for h in cat.search("Đức")] == ["H26-261124-0002"]
        assert cat.search("kết hôn")[0].code == "H26-261124-0003.01"
        assert cat.search('"khai sinh của"')[0].dossier_code == "H26-261124-0002"
        assert cat.search('"sinh khai"') == []
        assert cat.search("   ") == []
        assert "[Giấy]" in cat.search("giay")[0].snippet or "[giay]" in cat.search("giay")[0].snippet


def test_record_is_idempotent(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        _file(cat, "H26-261124-0001", "A", "một")
        _file(cat, "H26-261124-0001", "A", "một")
        assert len(cat.search("một")) == 1


def test_fold_and_snippet_keep_original_marks() -> None:
    assert fold("Đường Lê Lợi, ĐÀ NẴNG") == "duong le loi, da nang"
    s = snippet("Ủy ban nhân dân phường Bến Nghé xác nhận", "ben nghe")
    assert "[Bến] [Nghé]" in s


def test_jobs_and_the_intake_journal(catalog_place: CatalogPlace) -> None:
    """A take noted, finished or undone; content taken once is found again; states and attempts move."""
    with catalog_place.open() as cat:
        cat.create_job("j1", "quay-1", {"counter": "quay-1"}, state="collecting")
        assert cat.open_job("quay-1") is not None and cat.open_job("quay-1").id == "j1"  # type: ignore[union-attr]
        first = cat.intake_begin("a" * 64, "j1", "quay-1", "trang 1.jpg", "/inbox/trang 1.jpg", "in/0001.jpg")
        second = cat.intake_begin("b" * 64, "j1", "quay-1", "trang 2.jpg", "/inbox/trang 2.jpg", "in/0002.jpg")
        assert second > first
        assert [e.id for e in cat.intakes_in_progress()] == [first, second]
        with catalog_place.open(station="phuong-khac") as elsewhere:  # another ward's machine on a shared catalog
            assert elsewhere.open_job("quay-1") is None  # its "quay-1" is another counter
            assert elsewhere.intakes_in_progress() == [] and elsewhere.jobs() == []  # never recovers our takes
        cat.intake_done(first)
        cat.intake_drop(second)
        assert cat.intakes_in_progress() == []
        assert cat.find_intake("a" * 64) == ("j1", None)
        assert cat.find_intake("b" * 64) is None
        with catalog_place.open(station="phuong-khac") as elsewhere:
            assert elsewhere.find_intake("a" * 64) == ("j1", None)  # the same paper is not digitized twice
        cat.update_job_detail("j1", pages=3)
        assert cat.count_attempt("j1") == 1 and cat.count_attempt("j1") == 2
        cat.set_job_state("j1", "failed", error="lỗi thử")
        job = cat.job("j1")
        assert job is not None and job.state == "failed" and job.error == "lỗi thử" and job.attempts == 2
        assert cat.find_intake("a" * 64) is None  # a failed job's content may be taken again
        assert [j.id for j in cat.jobs(states=["failed"])] == ["j1"]


def test_result_counts_for_the_report(catalog_place: CatalogPlace) -> None:
    """The digitization report's query (JSON test on the job's detail, grouping by position) on each engine."""
    from tests.archive.helpers import file_document

    with catalog_place.open() as cat:
        cat.create_job("j", "quay-1", {"backfill": {"row": 1}})
        when = "2026-11-24T09:00:00+07:00"
        file_document(cat, "K-261124-0001", "giấy phép", kind="result", valid_until="2030-01-01", created=when)
        file_document(cat, "K-261124-0002", "giấy phép cũ", kind="result", valid_until="2020-01-01", created=when)
        rows = cat.result_counts(since="2000-01-01", until="2999-12-31", agency=None, today="2026-12-01")
    assert [(r.results, r.still_valid, r.backfilled) for r in rows] == [(2, 1, 1)]
