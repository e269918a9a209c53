"""The archive officer's workspace in the application layer: agency reach, access levels, facets, edits, reports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from scanner.app import Actor, Role, records
from scanner.app import officer as app
from scanner.app.spreadsheet import indicators_xlsx
from scanner.archive import Catalog
from scanner.archive.index import Filters
from scanner.errors import NotFoundError, PermissionDenied
from tests.archive.helpers import file_dossier

H26, H48 = "000.00.00.H26", "000.00.00.H48"
LAN = Actor("lan", Role.OFFICER, "Nguyễn Thị Lan", agency=H26)
HUNG = Actor("hung", Role.OFFICER, "Lê Văn Hùng", agency=H26)
MAI = Actor("mai", Role.OFFICER, "Phạm Thị Mai", agency=H48)
MINH = Actor("minh", Role.SUPERVISOR, "Trần Văn Minh", agency=H26)
AN = Actor("an", Role.AUDITOR, "Võ An")
TODAY = date(2026, 12, 1)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[app.Archive]:
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        yield app.Archive(catalog, tmp_path / "archive")


@pytest.fixture
def filed(archive: app.Archive) -> app.Archive:
    birth = "Giấy khai sinh của công dân Nguyễn Văn An, sinh ngày 01/02/2020"
    file_dossier(archive, "H26-A1", [
        {"text": birth, "type_name": "Giấy khai sinh", "issued_date": "2024-03-01"},
        {"text": "Tờ khai đăng ký khai sinh", "type_name": "Tờ khai", "issued_date": "2025-06-01"},
        {"text": "Giấy khai sinh bản chính", "type_name": "Giấy khai sinh", "issued_date": "2025-07-01",
         "kind": "result", "valid_until": "2030-01-01"},
    ])  # fmt: skip
    file_dossier(archive, "H26-A2", [
        {"text": "Giấy khai sinh cấp lại", "type_name": "Giấy khai sinh", "issued_date": "2025-09-09",
         "kind": "result", "valid_until": "2026-01-01"},
    ], access="hạn chế (có điều kiện)", created="2026-10-02T10:00:00+07:00")  # fmt: skip
    file_dossier(archive, "H26-S1", [
        {"text": "Giấy khai sinh mật, hồ sơ đặc biệt", "type_name": "Giấy khai sinh", "issued_date": "2025-01-05"},
    ], access="Mật")  # fmt: skip
    file_dossier(archive, "H48-B1", [
        {"text": "Giấy khai sinh tỉnh Quảng Ngãi", "type_name": "Giấy khai sinh", "issued_date": "2025-02-02"},
    ], agency=H48)  # fmt: skip
    return archive


def facet(result: app.SearchPageResult, name: str) -> dict[str, int]:
    return {v.value: v.count for f in result.facets if f.name == name for v in f.values}


# --- agency reach ------------------------------------------------------------------------------


def test_another_agencys_record_is_not_found_like_a_missing_one(filed: app.Archive, tmp_path: Path) -> None:
    def message(call: object) -> str:
        with pytest.raises(NotFoundError) as info:
            call()  # type: ignore[operator]
        return info.value.message_vi

    for code in ("H48-B1", "H48-B1.01"):
        assert message(lambda c=code: app.show(LAN, c, archive=filed)) == app.not_found(code).message_vi
        assert message(lambda c=code: app.open_pdf(LAN, c, archive=filed).__enter__())
        assert message(lambda c=code: app.edit(LAN, c, archive=filed, description="x"))
        assert message(lambda c=code: app.integrity(LAN, c, archive=filed))
        assert message(lambda c=code: records.history(LAN, c, archive=filed))
        assert message(lambda c=code: app.verify(LAN, [c], archive=filed))
        assert message(lambda c=code: app.export(LAN, c, tmp_path / "bags", archive=filed))
        assert message(lambda c=code: records.request_deletion(LAN, c, "trùng", archive=filed))
    assert message(lambda: app.show(LAN, "KHONG-CO", archive=filed)) == app.not_found("KHONG-CO").message_vi
    assert app.show(MAI, "H48-B1", archive=filed).dossier.agency_code == H48
    assert app.show(AN, "H48-B1", archive=filed).dossier.agency_code == H48  # an auditor has no agency: all
    assert filed.catalog.dossier("H48-B1") is not None and not (tmp_path / "bags").exists()


def test_search_finds_only_the_officers_agency(filed: app.Archive) -> None:
    mine = app.search_page(LAN, "giay khai sinh", archive=filed, filters=Filters(today=TODAY))
    assert {h.code.split(".")[0].split("-KQ")[0] for h in mine.hits} == {"H26-A1", "H26-A2", "H26-S1"}
    assert mine.total == 4 and "agency" not in {f.name for f in mine.facets}
    theirs = app.search_page(LAN, "giay khai sinh", archive=filed, filters=Filters(agency=H48))
    assert theirs.total == 0 and theirs.hits == ()
    assert [h.code for h in app.search(LAN, "Quảng Ngãi", archive=filed, filters=Filters()).hits] == []
    everyone = app.search_page(AN, "giay khai sinh", archive=filed, filters=Filters(today=TODAY))
    assert everyone.total == 5 and facet(everyone, "agency") == {H26: 4, H48: 1}


# --- facets, paging, sort, snippets ------------------------------------------------------------


def test_facets_count_what_matches_and_drill_down(filed: app.Archive) -> None:
    r = app.search_page(LAN, "khai sinh", archive=filed, filters=Filters(today=TODAY))
    assert facet(r, "type") == {"Giấy khai sinh": 4, "Tờ khai": 1}
    assert facet(r, "year") == {"2025": 4, "2024": 1}
    assert [v.value for f in r.facets if f.name == "year" for v in f.values] == ["2025", "2024"]  # newest first
    assert facet(r, "access") == {"công khai": 3, "hạn chế": 1, "mật": 1}
    assert facet(r, "validity") == {"valid": 1, "expired": 1, "indefinite": 3}
    assert facet(r, "procedure") == {"1.000894": 5}

    by_year = app.search_page(LAN, "khai sinh", archive=filed, filters=Filters(year=2025, today=TODAY))
    assert by_year.total == 4 and facet(by_year, "year") == {"2025": 4}
    assert {h.issued_date[:4] for h in by_year.hits if h.issued_date} == {"2025"}
    chosen = [v for f in by_year.facets if f.name == "year" for v in f.values]
    assert chosen[0].selected
    valid = app.search_page(LAN, "", archive=filed, filters=Filters(validity="valid", today=TODAY))
    assert [h.code for h in valid.hits] == ["H26-A1-KQ3"]
    secret = app.search_page(LAN, "", archive=filed, filters=Filters(access="mật"))
    assert [h.code for h in secret.hits] == ["H26-S1.01"]
    typed = app.search_page(LAN, "", archive=filed, filters=Filters(doc_type="tờ khai"))
    assert [h.code for h in typed.hits] == ["H26-A1.02"]


def test_paging_and_sorting(filed: app.Archive) -> None:
    f = Filters(today=TODAY)
    first = app.search_page(LAN, "khai sinh", archive=filed, filters=f, sort="date", size=10)
    assert [h.issued_date for h in first.hits] == sorted((h.issued_date for h in first.hits), reverse=True)
    by_code = app.search_page(LAN, "khai sinh", archive=filed, filters=f, sort="code", size=10)
    assert [h.code for h in by_code.hits] == sorted(h.code for h in by_code.hits)
    assert by_code.total == 5 and by_code.pages == 1
    seen = []
    for page in (1, 2, 3):
        r = app.search_page(LAN, "khai sinh", archive=filed, filters=f, sort="relevance", page=page, size=2)
        assert r.total == 5 and r.pages == 3
        seen += [h.code for h in r.hits]
    assert len(seen) == 5 and len(set(seen)) == 5


def test_snippets_highlight_the_words_with_and_without_diacritics(filed: app.Archive) -> None:
    exact = app.search_page(LAN, "Nguyễn Văn An", archive=filed, filters=Filters())
    assert exact.hits[0].code == "H26-A1.01" and "[Nguyễn] [Văn] [An]" in exact.hits[0].snippet
    folded = app.search_page(LAN, "nguyen van an", archive=filed, filters=Filters())
    assert "[Nguyễn] [Văn] [An]" in folded.hits[0].snippet


# --- access levels ------------------------------------------------------------------------------


def test_access_levels_on_view_download_and_snippets(filed: app.Archive, tmp_path: Path) -> None:
    hits = {h.code: h for h in app.search_page(LAN, "giay khai sinh", archive=filed, filters=Filters()).hits}
    assert not hits["H26-S1.01"].readable and hits["H26-S1.01"].snippet == ""  # a secret one: listed, not read
    assert hits["H26-A2-KQ1"].readable and "[Giấy]" in hits["H26-A2-KQ1"].snippet

    assert not app.show(LAN, "H26-S1", archive=filed).readable  # described, but its content is closed
    with pytest.raises(PermissionDenied, match="Mật"), app.open_pdf(LAN, "H26-S1.01", archive=filed):
        pass
    with pytest.raises(PermissionDenied):
        app.export(LAN, "H26-S1", tmp_path / "bags", archive=filed)
    with app.open_pdf(MINH, "H26-S1.01", archive=filed) as pdf:  # a supervisor opens secret records
        assert pdf.path.read_bytes().startswith("Giấy khai sinh mật".encode())
    with app.open_pdf(LAN, "H26-A2-KQ1", archive=filed) as pdf:
        assert pdf.name == "H26-A2-KQ1.pdf"  # restricted: officers read it
    with pytest.raises(PermissionDenied), app.open_pdf(AN, "H26-A2-KQ1", archive=filed):
        pass  # an auditor reads the log, not restricted papers
    with app.open_pdf(AN, "H26-A1.01", archive=filed) as pdf:
        assert pdf.code == "H26-A1.01"
    with pytest.raises(PermissionDenied):
        app.edit(AN, "H26-A1", archive=filed, description="x")
    with pytest.raises(PermissionDenied):
        records.request_deletion(AN, "H26-A1", "trùng", archive=filed)  # auditors check, they do not destroy


# --- edits and history ---------------------------------------------------------------------------


def test_edits_are_audited_old_to_new_and_the_index_follows(filed: app.Archive) -> None:
    edited = app.edit(LAN, "H26-A1.01", archive=filed, retention="vĩnh viễn", access="hạn chế", description="Bản gốc")
    assert edited.code == "H26-A1"
    assert [(c.field, c.old, c.new) for c in edited.changes] == [
        ("retention", "", "vĩnh viễn"), ("description", "", "Bản gốc"), ("access", "công khai", "hạn chế"),
    ]  # fmt: skip
    d = filed.catalog.dossier("H26-A1")
    assert d is not None and (d.retention, d.access, d.description) == ("vĩnh viễn", "hạn chế", "Bản gốc")
    entry = records.audit_list(LAN, archive=filed, limit=1)[0]
    assert (entry.action, entry.subject, entry.actor, entry.action_vi) == ("edit", "H26-A1", LAN.label, "sửa thông tin")
    assert "chế độ sử dụng: «công khai» → «hạn chế»" in entry.detail and "«» → «vĩnh viễn»" in entry.detail
    r = app.search_page(LAN, "khai sinh", archive=filed, filters=Filters())
    assert facet(r, "access") == {"hạn chế": 4, "mật": 1}
    assert app.edit(LAN, "H26-A1", archive=filed, retention="vĩnh viễn").changes == ()  # nothing new: no entry
    assert records.audit_list(LAN, archive=filed, limit=1)[0].id == entry.id

    app.edit(LAN, "H26-A1", archive=filed, access="mật")  # an officer may close a record further…
    with pytest.raises(PermissionDenied):
        app.edit(LAN, "H26-A1", archive=filed, access="công khai")  # …but not open a secret one again
    assert app.edit(MINH, "H26-A1", archive=filed, access="công khai").changes[0].new == "công khai"
    with pytest.raises(Exception, match="chế độ sử dụng phải là"):
        app.edit(LAN, "H26-A1", archive=filed, access="bí mật quốc gia")
    assert records.audit_verify(MINH, archive=filed).ok


def test_history_gathers_views_downloads_edits_and_checks(filed: app.Archive) -> None:
    app.show(LAN, "H26-A1", archive=filed)
    with app.open_pdf(HUNG, "H26-A1.01", archive=filed, purpose="preview"):
        pass
    app.edit(LAN, "H26-A1", archive=filed, description="Ghi chú")
    app.verify(
        LAN,
        ["H26-A1.01"],
        archive=filed,
    )
    app.show(LAN, "H26-A2", archive=filed)  # another record: not in this history
    entries = records.history(LAN, "H26-A1", archive=filed)
    actions = [(e.action, e.actor) for e in entries]
    assert ("view", LAN.label) in actions and ("download", HUNG.label) in actions and ("edit", LAN.label) in actions
    assert ("verify", LAN.label) in actions and ("ingest", "scanner") in actions
    assert all(e.subject != "H26-A2" for e in entries)
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
    panel = app.integrity(LAN, "H26-A1", archive=filed)
    checked = {f.path: f for f in panel.files}
    assert checked[f"{H26}/2026/H26-A1/H26-A1.01.pdf"].last is not None
    last = checked[f"{H26}/2026/H26-A1/H26-A1.01.pdf"].last
    assert last is not None and last.actual == last.expected  # the hash matched (the test file is no signed PDF)
    assert checked[f"{H26}/2026/H26-A1/H26-A1.02.pdf"].last is None and len(panel.signatures) == 3


# --- saved searches ------------------------------------------------------------------------------


def test_saved_searches_belong_to_their_person(filed: app.Archive) -> None:
    kept = app.save_search(LAN, " Khai sinh  2025 ", "giay khai sinh", {"year": "2025", "sort": "date", "type": ""},
                           archive=filed)  # fmt: skip
    assert kept.name == "Khai sinh 2025" and kept.params == {"year": "2025", "sort": "date"}
    again = app.save_search(LAN, "Khai sinh 2025", "giấy khai sinh", {}, archive=filed)  # same name: replaced
    assert [s.query for s in app.saved_searches(LAN, archive=filed)] == ["giấy khai sinh"]
    assert app.saved_searches(HUNG, archive=filed) == ()
    with pytest.raises(NotFoundError):
        app.delete_saved_search(HUNG, again.id, archive=filed)
    app.delete_saved_search(LAN, again.id, archive=filed)
    assert app.saved_searches(LAN, archive=filed) == ()


# --- reports -----------------------------------------------------------------------------------


def test_indicators_count_received_components_reused_and_results(filed: app.Archive) -> None:
    file_dossier(filed, "H26-OLD", [
        {"text": "Giấy chứng nhận cũ", "kind": "result", "type_name": "Giấy chứng nhận", "issued_date": "2019-01-01"},
        {"text": "Giấy chứng nhận cũ 2", "kind": "result", "type_name": "Giấy chứng nhận", "issued_date": "2019-01-01"},
    ], procedure="2.000815", backfill=True, created="2026-11-20T08:00:00+07:00")  # fmt: skip
    records.record_reuse(LAN, "H26-A1.01", archive=filed, dossier_code="H26-NEW", agency=H26, procedure="1.000894")
    with pytest.raises(NotFoundError):
        records.record_reuse(LAN, "H48-B1.01", archive=filed, dossier_code="H26-NEW", agency=H26)

    today = date.today()  # the reuse is noted now: its month is this one
    ind = records.indicators(MINH, archive=filed, today=today)
    rows = {(r.procedure, r.month): r for r in ind.rows}
    nov = rows[("1.000894", "2026-11")]
    assert (nov.received, nov.components, nov.results, nov.backfilled) == (2, 3, 1, 0)
    assert nov.dossiers_with_result == 1 and nov.result_rate == 50.0
    reused = rows[("1.000894", today.strftime("%Y-%m"))]
    assert reused.reused == 1
    oct_ = rows[("1.000894", "2026-10")]
    assert (oct_.received, oct_.components, oct_.results) == (1, 0, 1)
    old = rows[("2.000815", "2026-11")]
    assert (old.received, old.results, old.backfilled, old.pages) == (0, 0, 2, 2)
    assert ind.agency == H26 and {r.agency for r in ind.rows} == {H26}  # a supervisor of H26: H26 alone
    assert (ind.total.received, ind.total.components, ind.total.reused, ind.total.results) == (3, 3, 1, 2)
    assert [m.month for m in ind.by_month][:2] == ["2026-10", "2026-11"]

    everyone = records.indicators(AN, archive=filed, today=today)
    assert {a.agency: a.received for a in everyone.by_agency} == {H26: 3, H48: 1}
    assert records.indicators(LAN, archive=filed, agency=H48, today=today).rows == ()
    october = records.indicators(AN, archive=filed, since=date(2026, 10, 1), until=date(2026, 10, 31), today=today)
    assert october.total.received == 1 and october.total.reused == 0

    book = openpyxl.load_workbook(io.BytesIO(indicators_xlsx(ind)))
    assert book.sheetnames == ["Theo cơ quan", "Theo tháng", "Chi tiết", "Kỳ báo cáo"]
    head = [c.value for c in book["Theo cơ quan"][1]]
    assert head[:5] == ["Mã cơ quan", "Hồ sơ tiếp nhận", "Thành phần hồ sơ đã số hóa", "Thành phần được tái sử dụng",
                        "Kết quả đã số hóa"]  # fmt: skip
    assert [c.value for c in book["Theo cơ quan"][2]][:6] == [H26, 3, 3, 1, 2, 2]
    detail = [[c.value for c in row] for row in book["Chi tiết"].iter_rows(min_row=2)]
    assert [H26, "1.000894", "2026-11", 2, 3, 0, 1, 0, 4, 0.0, 0.5] in detail
    assert detail[-1][0] == "Tổng cộng" and detail[-1][3] == 3
    assert book["Chi tiết"]["J2"].number_format == "0.0%"
