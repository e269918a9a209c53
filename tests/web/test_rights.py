"""People and rights through the web: log-in, lock-out, disabled accounts, CSRF, a counter's and an agency's reach."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from scanner.app import SYSTEM, accounts
from scanner.archive import Catalog
from scanner.config import Config
from tests.web.conftest import PASSWORD, csrf, log_in


def test_a_page_without_a_session_sends_to_the_log_in_page(app_client: TestClient) -> None:
    r = app_client.get("/quay")
    assert r.status_code == 303
    assert r.headers["location"] == "/dang-nhap?next=/quay"


def test_a_clerk_logs_in_and_lands_at_the_counter(app_client: TestClient) -> None:
    log_in(app_client, "thu")
    r = app_client.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/quay"
    page = app_client.get("/tai-khoan")
    assert page.status_code == 200
    assert 'lang="vi"' in page.text and "Nguyễn Thị Thu" in page.text and "quay-1" in page.text


def test_ten_wrong_passwords_lock_the_account(app_client: TestClient, web_config: Config) -> None:
    token = csrf(app_client)
    for _ in range(9):
        r = app_client.post("/dang-nhap", data={"name": "thu", "password": "sai-mat-khau", "csrftoken": token})
        assert r.status_code == 401 and "không đúng" in r.text
    r = app_client.post("/dang-nhap", data={"name": "thu", "password": "sai-mat-khau", "csrftoken": token})
    assert r.status_code == 401 and "tạm khóa" in r.text
    # the right password no longer opens it, for a while
    r = app_client.post("/dang-nhap", data={"name": "thu", "password": PASSWORD, "csrftoken": token})
    assert r.status_code == 401 and "tạm khóa đến" in r.text
    with Catalog(web_config.archive.catalog_path) as catalog:
        assert any(e.action == "user-locked" and e.subject == "thu" for e in catalog.audit_entries())
        # an administrator's new password unlocks it
        accounts.set_password(SYSTEM, catalog, "thu", "mat-khau-moi-123")
    log_in(app_client, "thu", "mat-khau-moi-123")


def test_an_unknown_name_reads_like_a_wrong_password(app_client: TestClient) -> None:
    token = csrf(app_client)
    r = app_client.post("/dang-nhap", data={"name": "khong-co", "password": "x" * 10, "csrftoken": token})
    assert r.status_code == 401 and accounts.WRONG in r.text


def test_a_disabled_users_session_ends(app_client: TestClient, web_config: Config) -> None:
    log_in(app_client, "thu")
    assert app_client.get("/tai-khoan").status_code == 200
    with Catalog(web_config.archive.catalog_path) as catalog:
        accounts.disable_user(SYSTEM, catalog, "thu")
    r = app_client.get("/tai-khoan")
    assert r.status_code == 303 and r.headers["location"].startswith("/dang-nhap")
    token = csrf(app_client)
    r = app_client.post("/dang-nhap", data={"name": "thu", "password": PASSWORD, "csrftoken": token})
    assert r.status_code == 401 and "vô hiệu hóa" in r.text


def test_a_post_without_the_csrf_token_is_refused(app_client: TestClient) -> None:
    token = log_in(app_client, "thu")
    r = app_client.post("/dang-xuat")
    assert r.status_code == 403 and "CSRF" in r.text
    assert app_client.get("/tai-khoan").status_code == 200  # still logged in: the forged log-out did nothing
    r = app_client.post("/dang-xuat", data={"csrftoken": token})
    assert r.status_code == 303
    assert app_client.get("/tai-khoan").status_code == 303


def test_a_log_in_form_posted_without_its_token_is_refused(app_client: TestClient) -> None:
    r = app_client.post("/dang-nhap", data={"name": "thu", "password": PASSWORD})
    assert r.status_code == 403


def _open_dossier(client: TestClient, token: str) -> str:
    r = client.post("/quay/mo", data={"procedure_code": "1.000894", "csrftoken": token})
    assert r.status_code == 200, r.text
    job = re.search(r'/quay/ho-so/([^/"]+)/hoan-tat', r.text)
    assert job, r.text
    return job[1]


def test_a_clerk_of_counter_a_cannot_see_counter_bs_dossier(web_config: Config) -> None:
    from scanner.web import create_app

    app = create_app(web_config)
    with TestClient(app, follow_redirects=False) as thu, TestClient(app, follow_redirects=False) as lan:
        job = _open_dossier(thu, log_in(thu, "thu"))
        assert thu.get(f"/quay/ho-so/{job}").status_code == 200
        token = log_in(lan, "lan")
        for path in (f"/quay/ho-so/{job}", f"/quay/ho-so/{job}/phieu", f"/quay/anh/{job}/001-001.jpg"):
            r = lan.get(path)
            assert r.status_code == 404, path
            assert "không có hồ sơ" in r.text
        r = lan.post(f"/quay/ho-so/{job}/hoan-tat", data={"csrftoken": token})
        assert r.status_code == 404
        # nor by asking for counter A's station or opening a dossier there
        assert lan.get("/quay?quay=quay-1").status_code == 200  # her own counter is shown instead
        assert "quay-2" in lan.get("/quay?quay=quay-1").text
        r = lan.post("/quay/mo", data={"quay": "quay-1", "csrftoken": token})
        assert r.status_code == 200 and "Quầy quay-2" in r.text  # opened at her own counter, not at quay-1
        # an officer is not a counter clerk at all
        minh = TestClient(app, follow_redirects=False)
        log_in(minh, "minh")
        assert minh.get(f"/quay/ho-so/{job}").status_code == 403


def test_an_upload_without_a_valid_token_is_refused_not_crashed(app_client: TestClient) -> None:
    token = log_in(app_client, "thu")
    upload = {"file": ("a.png", b"\x89PNG", "image/png")}
    r = app_client.post("/quay/ho-so/x/trang/y/thay", files=upload, data={"csrftoken": token})
    assert r.status_code == 403  # uploads carry the token in the header (htmx does)
    app_client.cookies.set("csrftoken", "gia-mao")  # a forged cookie, echoed in the header
    r = app_client.post("/quay/ho-so/x/trang/y/thay", files=upload, headers={"x-csrftoken": "gia-mao"})
    assert r.status_code == 403
