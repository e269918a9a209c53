"""The archive officer's workspace as pages: agency reach (404), access levels (403), facets, edits, export, reports."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import openpyxl
import pytest
from fastapi.testclient import TestClient

from scanner.app import SYSTEM, Role, accounts, records
from scanner.app import officer as app
from scanner.archive import Catalog
from scanner.config import Config
from scanner.web import create_app
from tests.archive.helpers import file_dossier
from tests.web.conftest import AGENCY_A, AGENCY_B, PASSWORD, log_in

MORE_PEOPLE = {
    "hoa": dict(role=Role.OFFICER, display_name="Đỗ Thị Hoa", agency=AGENCY_A),
    "tuan": dict(role=Role.OFFICER, display_name="Vũ Văn Tuấn", agency=AGENCY_B),
    "lanh-dao": dict(role=Role.SUPERVISOR, display_name="Hoàng Văn Lãnh", agency=AGENCY_A),
}


@pytest.fixture
def filed(web_config: Config) -> Config:
    with Catalog(web_config.archive.catalog_path) as catalog:
        for name, person in MORE_PEOPLE.items():
            accounts.add_user(SYSTEM, catalog, name=name, password=PASSWORD, **person)  # type: ignore[arg-type]
        archive = app.Archive(catalog, web_config.archive.root)
        file_dossier(archive, "A-0001", [
            {"text": "Giấy khai sinh của Nguyễn Văn An", "type_name": "Giấy khai sinh", "issued_date": "2024-03-01"},
            {"text": "Giấy khai sinh bản sao", "type_name": "Giấy khai sinh", "issued_date": "2025-06-01",
             "kind": "result"},
        ], agency=AGENCY_A)  # fmt: skip
        file_dossier(archive, "A-0002", [
            {"text": "Giấy khai sinh mật", "type_name": "Giấy khai sinh", "issued_date": "2025-02-01"},
        ], agency=AGENCY_A, access="mật")  # fmt: skip
        file_dossier(archive, "B-0001", [
            {"text": "Giấy khai sinh của phường Hàng Bạc", "type_name": "Giấy khai sinh", "issued_date": "2025-01-01"},
        ], agency=AGENCY_B)  # fmt: skip
    return web_config


@pytest.fixture
def client(filed: Config) -> Iterator[TestClient]:
    with TestClient(create_app(filed), follow_redirects=False) as c:
        yield c


def as_(client: TestClient, name: str) -> str:
    return log_in(client, name)


def test_an_officer_of_agency_a_gets_404_for_agency_bs_record(client: TestClient) -> None:
    token = as_(client, "minh")
    for path in ("/luu-tru/ho-so/B-0001", "/luu-tru/ho-so/B-0001.01", "/luu-tru/ho-so/B-0001.01/xem",
                 "/luu-tru/ho-so/B-0001.01/tai-ve"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 404, path
        assert "không có hồ sơ hay văn bản mã B-0001" in r.text
    assert client.get("/luu-tru/ho-so/KHONG-CO").status_code == 404  # answered as a missing record is
    for action in ("kiem-tra", "sua", "xuat", "de-nghi-huy"):
        r = client.post(f"/luu-tru/ho-so/B-0001/{action}", data={"csrftoken": token, "reason": "x"})
        assert r.status_code == 404, action
    r = client.get("/luu-tru", params={"q": "giay khai sinh", "agency": AGENCY_B})
    assert r.status_code == 200 and 'class="total">0<' in r.text
    assert client.get("/luu-tru/ho-so/A-0001").status_code == 200

    other = TestClient(client.app, follow_redirects=False)
    as_(other, "tuan")
    assert other.get("/luu-tru/ho-so/B-0001").status_code == 200
    assert other.get("/luu-tru/ho-so/A-0001").status_code == 404


def test_the_search_page_counts_filters_pages_and_highlights(client: TestClient) -> None:
    as_(client, "minh")
    r = client.get("/luu-tru", params={"q": "giay khai sinh"})
    assert r.status_code == 200
    assert 'class="total">3<' in r.text  # A-0001 ×2, A-0002; agency B's is not counted
    assert "B-0001" not in r.text
    assert "<mark>Giấy</mark> <mark>khai</mark> <mark>sinh</mark>" in r.text
    year = re.search(r'data-facet="year".*?</section>', r.text, re.S)
    assert year is not None
    assert re.findall(r'<span class="value">(\d{4})</span> <span class="count">(\d+)</span>', year.group(0)) == [
        ("2025", "2"), ("2024", "1"),
    ]  # fmt: skip
    href = re.search(r'<a href="([^"]+)"[^>]*>\s*<span class="value">2024</span>', year.group(0))
    assert href is not None
    narrowed = client.get(href.group(1).replace("&amp;", "&"))
    assert 'class="total">1<' in narrowed.text and "A-0001.01" in narrowed.text
    assert "Không thời hạn" in r.text and "Mật" in r.text  # validity and access facets
    secret = client.get("/luu-tru", params={"q": "mat"})
    assert "A-0002.01" in secret.text and "Nội dung không hiển thị" in secret.text
    assert "<mark>mật</mark>" not in secret.text  # a secret record shows no snippet to an officer
    by_code = client.get("/luu-tru", params={"q": "khai sinh", "sort": "code", "size": "1", "page": "2"})
    assert by_code.status_code == 200 and 'rel="prev"' in by_code.text  # codes sort "A-0001-KQ2" < "A-0001.01"
    assert '/ho-so/A-0001.01"' in by_code.text and '/ho-so/A-0001-KQ2"' not in by_code.text


def test_the_search_page_says_how_many_recent_documents_are_not_searchable_yet(filed: Config) -> None:
    from dataclasses import replace

    from scanner.config import IndexConfig

    province = replace(filed, archive=replace(filed.archive, index=IndexConfig(service=True, pending_limit=1)))
    with Catalog(filed.archive.catalog_path, index=province.archive.index) as catalog:  # the service is behind
        archive = app.Archive(catalog, filed.archive.root)
        for code in ("A-0003", "A-0004"):
            file_dossier(archive, code, [{"text": "Giấy khai sinh mới nộp", "type_name": "Giấy khai sinh"}],
                         agency=AGENCY_A)  # fmt: skip
    with TestClient(create_app(province), follow_redirects=False) as client:
        as_(client, "minh")
        r = client.get("/luu-tru", params={"q": "giay khai sinh"})
    assert r.status_code == 200 and 'class="total">3<' in r.text  # what the index holds
    assert "Còn khoảng 2 văn bản mới nộp lưu chưa vào chỉ mục tìm kiếm" in r.text


def test_saved_searches_are_kept_per_person(client: TestClient) -> None:
    token = as_(client, "minh")
    r = client.post("/luu-tru/tim-kiem-da-luu", data={"csrftoken": token, "name": "Khai sinh 2024",
                                                       "query": "q=giay+khai+sinh&year=2024"})  # fmt: skip
    assert r.status_code == 303
    page = client.get("/luu-tru").text
    found = re.search(r'href="/luu-tru/tim-kiem-da-luu/(\d+)">Khai sinh 2024<', page)
    assert found is not None
    opened = client.get(f"/luu-tru/tim-kiem-da-luu/{found.group(1)}")
    assert opened.status_code == 303 and "year=2024" in opened.headers["location"]
    other = TestClient(client.app, follow_redirects=False)
    as_(other, "hoa")
    assert "Khai sinh 2024" not in other.get("/luu-tru").text
    assert other.get(f"/luu-tru/tim-kiem-da-luu/{found.group(1)}").status_code == 404


def test_access_levels_hold_on_preview_and_download(client: TestClient) -> None:
    as_(client, "minh")
    page = client.get("/luu-tru/ho-so/A-0002")
    assert page.status_code == 200 and "không được xem" in page.text and 'id="xem-truoc"' not in page.text
    assert client.get("/luu-tru/ho-so/A-0002.01/xem").status_code == 403
    pdf = client.get("/luu-tru/ho-so/A-0001.01/xem")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")
    boss = TestClient(client.app, follow_redirects=False)
    as_(boss, "lanh-dao")
    assert boss.get("/luu-tru/ho-so/A-0002.01/tai-ve").status_code == 200


def test_edit_delete_request_approval_and_export(client: TestClient, filed: Config) -> None:
    token = as_(client, "minh")
    r = client.post("/luu-tru/ho-so/A-0001/sua", data={"csrftoken": token, "retention": "20 năm",
                                                       "access": "hạn chế", "description": "Đã đối chiếu"})  # fmt: skip
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Đã lưu thay đổi" in page and "«công khai» → «hạn chế»" in page  # the history shows the edit
    assert client.post("/luu-tru/ho-so/A-0001/sua", data={"retention": "x"}).status_code == 403  # no CSRF token

    assert (
        client.post("/luu-tru/ho-so/A-0001/de-nghi-huy", data={"csrftoken": token, "reason": "trùng"}).status_code
        == 303
    )
    mine = client.get("/luu-tru/ho-so/A-0001").text
    assert "Cần một cán bộ khác phê duyệt" in mine
    refused = client.post("/luu-tru/ho-so/A-0001/phe-duyet-huy", data={"csrftoken": token})
    assert refused.status_code == 400 and "người thứ hai" in refused.text
    second = TestClient(client.app, follow_redirects=False)
    second_token = as_(second, "hoa")
    assert second.post("/luu-tru/ho-so/A-0001/phe-duyet-huy", data={"csrftoken": second_token}).status_code == 303

    bag = client.post("/luu-tru/ho-so/A-0001.01/xuat", data={"csrftoken": token})
    assert bag.status_code == 200 and bag.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(bag.content)).namelist()
    assert "A-0001/bagit.txt" in names and any(n.endswith("A-0001.01.pdf") for n in names)
    with Catalog(filed.archive.catalog_path) as catalog:
        log = records.audit_list(SYSTEM, archive=app.Archive(catalog, filed.archive.root), limit=None)
    mine_entries = [(e.action, e.subject) for e in log if e.actor.startswith("minh ")]
    for expected in (("edit", "A-0001"), ("delete-request", "A-0001"), ("export", "A-0001"), ("view", "A-0001")):
        assert expected in mine_entries
    assert ("delete-approve", "A-0001") in [(e.action, e.subject) for e in log if e.actor.startswith("hoa ")]
    assert not list((filed.archive.work).glob("xuat-*"))  # the zipped bag is cleaned up after the download


def test_reports_page_and_excel(client: TestClient) -> None:
    as_(client, "minh")
    r = client.get("/luu-tru/bao-cao")
    assert r.status_code == 200 and "<svg" in r.text and AGENCY_A in r.text and AGENCY_B not in r.text
    xlsx = client.get("/luu-tru/bao-cao.xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    rows = [[c.value for c in row] for row in book["Theo cơ quan"].iter_rows(min_row=2)]
    assert rows[0][:5] == [AGENCY_A, 2, 2, 0, 1]  # 2 dossiers received, 2 papers, no reuse, 1 result
    assert client.get("/luu-tru/bao-cao", params={"tu": "2026-13-01"}).status_code == 200  # a bad date is told
    assert client.get("/luu-tru/bao-cao.xlsx", params={"tu": "hôm qua"}).status_code == 400
