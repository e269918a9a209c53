"""Search as an archive officer uses it: with or without diacritics, phrases, filters, never missing a filed paper."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from scanner.app import SYSTEM
from scanner.archive import Catalog
from scanner.archive.index import Filters, SearchIndex
from tests.archive.helpers import file_document
from tests.conftest import CatalogPlace

EXACT = "H26-261124-0001"
FOLDED = "H26-261124-0002"


def test_giay_khai_sinh_finds_the_birth_certificate_after_the_exact_match(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        file_document(cat, FOLDED, "Giấy khai sinh của Nguyễn Văn Đức, cấp tại Đà Nẵng.", title="GIẤY KHAI SINH")
        file_document(cat, EXACT, "Tờ khai: đề nghị cấp lại giay khai sinh (viết không dấu).", title="TỜ KHAI")
        file_document(cat, "H26-261124-0003", "Quyết định về việc đăng ký kết hôn.")
        plain = [h.dossier_code for h in cat.search("giay khai sinh")]
        marked = [h.dossier_code for h in cat.search("giấy khai sinh")]
    # typed without diacritics: the paper that says exactly that first, the birth certificate after it
    assert plain == [EXACT, FOLDED]
    # typed with diacritics: the exact match first
    assert marked == [FOLDED, EXACT]


def test_non_ascii_text_is_indexed_and_found_exactly_and_folded(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        file_document(cat, "A-261124-0001", "Ông Nguyen Van Duc (ghi không dấu), đường Le Loi.")
        file_document(cat, "A-261124-0002", "Ông Nguyễn Văn Đức, đường Lê Lợi, phường Bến Nghé.")
        assert [h.dossier_code for h in cat.search("Đức")] == ["A-261124-0002", "A-261124-0001"]
        assert [h.dossier_code for h in cat.search("duc")] == ["A-261124-0001", "A-261124-0002"]
        assert [h.dossier_code for h in cat.search("Bến Nghé")] == ["A-261124-0002"]
        assert cat.search("ĐỨC")[0].dossier_code == "A-261124-0002"  # capitals fold too
        hit = cat.search("ben nghe")[0]
        assert "[Bến] [Nghé]" in hit.snippet  # the snippet keeps the original marks


def test_phrases_and_multiword_queries(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        file_document(cat, "P-261124-0001", "Chủ tịch Ủy ban nhân dân phường ký quyết định.")
        file_document(cat, "P-261124-0002", "Nhân dân và ủy viên ban chấp hành.")
        assert [h.dossier_code for h in cat.search('"ủy ban nhân dân"')] == ["P-261124-0001"]
        assert [h.dossier_code for h in cat.search('"uy ban nhan dan"')] == ["P-261124-0001"]
        assert {h.dossier_code for h in cat.search("ủy ban nhân dân")} == {"P-261124-0001", "P-261124-0002"}
        assert cat.search('"dân nhân"') == []
        assert cat.search("   ") == []


def test_filters(catalog_place: CatalogPlace) -> None:
    with catalog_place.open() as cat:
        file_document(
            cat, "F-261124-0001", "giấy khai sinh", agency="000.00.00.H26", procedure="1.000894",
            owner="001085000001", type_name="Giấy khai sinh", issued_date="2020-05-01",
        )  # fmt: skip
        file_document(
            cat, "F-261124-0002", "giấy phép kinh doanh", agency="000.00.00.H32", procedure="2.000815",
            type_name="Giấy phép", type_abbr="GP", issued_date="2024-02-01", valid_until="2025-02-01",
        )  # fmt: skip
        file_document(
            cat, "F-261124-0003", "giấy xác nhận", agency="000.00.00.H32", type_name="Giấy xác nhận",
            issued_date="2024-03-01", holder_id="056185000001", identifiers=("056185000001",),
        )  # fmt: skip

        def codes(q: str = "giấy", **f: object) -> set[str]:
            return {h.dossier_code for h in cat.search(q, filters=Filters(**f))}  # type: ignore[arg-type]

        assert codes(agency="000.00.00.H32") == {"F-261124-0002", "F-261124-0003"}
        assert codes(procedure="1.000894") == {"F-261124-0001"}
        assert codes(doc_type="giay khai sinh") == {"F-261124-0001"}
        assert codes(doc_type="Giấy phép") == codes(doc_type="GP") == {"F-261124-0002"}
        assert codes(owner="001085000001") == {"F-261124-0001"}
        assert codes(owner="056185000001") == {"F-261124-0003"}  # a holder printed on the page is an owner too
        assert codes(date_from=date(2024, 1, 1)) == {"F-261124-0002", "F-261124-0003"}
        assert codes(date_from=date(2024, 1, 1), date_to=date(2024, 2, 15)) == {"F-261124-0002"}
        assert codes(valid_on=date(2026, 1, 1)) == {"F-261124-0001", "F-261124-0003"}
        assert codes("", agency="000.00.00.H26") == {"F-261124-0001"}  # filters alone
        newest_first = [h.dossier_code for h in cat.search("", filters=Filters(agency="000.00.00.H32"))]
        assert newest_first == ["F-261124-0003", "F-261124-0002"]


def _file_then_crash(db: Path) -> None:
    """Run in a child: file a dossier and die right after the catalog commit, before the index commit."""
    from scanner.archive import index as index_module

    def crash(*args: object, **kwargs: object) -> int:
        os._exit(9)

    index_module.SearchIndex.put = crash  # type: ignore[method-assign]
    cat = Catalog(db)
    file_document(cat, "C-261124-0001", "Biên bản bàn giao hồ sơ lưu trữ")


def test_a_crash_between_catalog_and_index_never_hides_a_document(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    Catalog(db).close()
    code = (
        f"import sys; sys.path.insert(0, {str(Path.cwd())!r}); from tests.archive.test_search import _file_then_crash; "
    )
    child = subprocess.run([sys.executable, "-c", code + f"_file_then_crash(__import__('pathlib').Path({str(db)!r}))"])
    assert child.returncode == 9
    index = SearchIndex(db.with_name("c.index"))
    assert index.count() == 0  # the crash came before the index saw it
    del index
    with Catalog(db) as cat:  # opening catches up
        assert [h.code for h in cat.search("bien ban ban giao")] == ["C-261124-0001.01"]
        assert cat.index.count() == 1


def test_pending_documents_are_found_while_the_index_is_held_elsewhere(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        file_document(cat, "L-261124-0001", "Hợp đồng ủy quyền")
        writer = cat.index.index.writer(15_000_000, 1)  # another process's writer, as far as the lock goes
        try:
            file_document(cat, "L-261124-0002", "Hợp đồng mua bán nhà ở")
            assert {h.code for h in cat.search("hop dong")} == {"L-261124-0001.01", "L-261124-0002.01"}
        finally:
            del writer
        assert cat.catch_up() == 1


def test_reindex_rebuilds_a_lost_index(catalog_place: CatalogPlace) -> None:
    import shutil

    with catalog_place.open() as cat:
        for i in range(5):
            file_document(cat, f"R-261124-000{i + 1}", f"Văn bản số {i + 1} về đất đai")
        index_path = cat.index_path
    shutil.rmtree(index_path)
    with catalog_place.open() as cat:
        assert len(cat.search("đất đai")) == 5  # a missing index is rebuilt from the catalog
        assert cat.reindex(actor=SYSTEM.label) == 5
        assert len(cat.search("dat dai")) == 5


def test_reindex_repairs_an_index_whose_meta_file_is_damaged(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        for i in range(3):
            file_document(cat, f"R-261124-000{i + 1}", f"Văn bản số {i + 1} về đất đai")
        index_path = cat.index_path
    (index_path / "meta.json").write_text("{ hỏng", encoding="utf-8")
    with Catalog(tmp_path / "c.sqlite", catch_up=False) as cat:
        assert cat.reindex(actor=SYSTEM.label) == 3
        assert len(cat.search("dat dai")) == 3


def test_index_stays_small(tmp_path: Path) -> None:
    """Peers' indexes bloated: ours keeps no text, only postings (under 4 kB for a 300-word page)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "search"))
    from vocab import Corpus

    with Catalog(tmp_path / "c.sqlite") as cat:
        texts = Corpus(words=300).batch(2000)
        cat.db.execute("BEGIN")
        cat.db.execute(
            "INSERT INTO dossiers (code, agency_code, agency_name, counter, receipt_date, path, doc_total, page_total, "
            "job_id, created) VALUES ('D', 'H26', 'UBND', 'q', '2026-01-01', 'p', 1, 1, 'j', 't')"
        )
        cat.db.executemany(
            "INSERT INTO documents (code, dossier_code, ordinal, path, pages, sha256, size, pdfa, text) "
            "VALUES (?, 'D', ?, 'p', 1, '', 1, '2b', ?)",
            [(f"D.{i}", i, t) for i, t in enumerate(texts)],
        )
        cat.db.execute("COMMIT")
        assert cat.reindex(actor=SYSTEM.label) == 2000
        size = sum(p.stat().st_size for p in cat.index_path.rglob("*") if p.is_file())
        text_bytes = sum(len(t.encode()) for t in texts)
    assert size / 2000 < 4000
    assert size < 2.5 * text_bytes  # SQLite FTS5 measured 5.5 kB per such page (issue 6)


def test_opening_the_index_from_many_threads_at_once_keeps_it(tmp_path: Path) -> None:
    """The web opens a catalog per concurrent request: none may take a half-written version file for another layout."""
    from concurrent.futures import ThreadPoolExecutor

    from scanner.archive.index import IndexEntry, SearchIndex

    where = tmp_path / "index"
    SearchIndex(where).put([IndexEntry("A-1", "giấy khai sinh", key=1)])

    def open_many(_: int) -> bool:
        return all(not SearchIndex(where).created for _ in range(20))

    with ThreadPoolExecutor(16) as pool:
        assert all(pool.map(open_many, range(16)))
    assert SearchIndex(where).count() == 1
