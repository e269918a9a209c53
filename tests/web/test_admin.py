"""The administrator's account page: people and calling systems managed from the web, every action audited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from scanner.archive import Catalog
from scanner.config import Config
from tests.web.conftest import PASSWORD, csrf, log_in

USERS = "/quan-tri/nguoi-dung"


def _audit(config: Config) -> list[tuple[str, str, str, str]]:
    with Catalog(config.archive.catalog_path) as catalog:
        return [(e.action, e.subject, e.actor, e.detail) for e in catalog.audit_entries()]


def test_only_an_administrator_opens_the_account_page(app_client: TestClient) -> None:
    for name in ("thu", "minh"):
        app_client.cookies.clear()
        token = log_in(app_client, name)
        assert app_client.get(USERS).status_code == 403
        r = app_client.post(USERS, data={"name": "x", "role": "admin", "password": "x" * 10, "csrftoken": token})
        assert r.status_code == 403
    app_client.cookies.clear()
    log_in(app_client, "quan-tri")
    page = app_client.get(USERS)
    assert page.status_code == 200
    text = page.text
    assert "Nguyễn Thị Thu" in text and "cán bộ tiếp nhận" in text and "quầy quay-1" in text
    assert "cán bộ lưu trữ" in text and "cơ quan 000.00.00.H32" in text
    assert "Đăng nhập gần nhất" in text and "chưa đăng nhập" in text  # thu never logged in this time


def test_the_administrator_adds_a_clerk_and_the_rules_are_the_application_layers(
    app_client: TestClient, web_config: Config
) -> None:
    token = log_in(app_client, "quan-tri")
    # a clerk without a counter: refused with the message, what was typed kept (not the password)
    r = app_client.post(USERS, data={"name": "hoa", "display_name": "Phạm Thị Hoa", "role": "clerk",
                                     "password": "mat-khau-tam-1", "csrftoken": token})  # fmt: skip
    assert r.status_code == 400 and "cần có quầy" in r.text and 'value="Phạm Thị Hoa"' in r.text
    assert "mat-khau-tam-1" not in r.text
    r = app_client.post(USERS, data={"name": "hoa", "role": "clerk", "counter": "quay-9",
                                     "password": "mat-khau-tam-1", "csrftoken": token})  # fmt: skip
    assert r.status_code == 400 and "không có quầy quay-9" in r.text
    hoa = {"name": "hoa", "display_name": "Phạm Thị Hoa", "role": "clerk", "counter": "quay-2"}
    r = app_client.post(USERS, data={**hoa, "password": "mat-khau-tam-1", "csrftoken": token})
    assert r.status_code == 303 and r.headers["location"].startswith(USERS)
    assert "Đã thêm người dùng hoa" in app_client.get(r.headers["location"]).text
    # without the CSRF token the same form is refused
    r = app_client.post(USERS, data={"name": "x2", "role": "auditor", "password": "mat-khau-tam-2"})
    assert r.status_code == 403
    added = ("user-add", "hoa", "quan-tri (Quản trị viên)", "vai trò cán bộ tiếp nhận, quầy quay-2")
    assert added in _audit(web_config)
    # the new clerk logs in with the temporary password and lands at their counter
    other = TestClient(app_client.app, follow_redirects=False)
    log_in(other, "hoa", "mat-khau-tam-1")
    assert other.get("/").headers["location"] == "/quay"


def test_reset_unlock_disable_enable_from_the_page(app_client: TestClient, web_config: Config) -> None:
    clerk = TestClient(app_client.app, follow_redirects=False)
    t = csrf(clerk)
    for _ in range(10):
        clerk.post("/dang-nhap", data={"name": "thu", "password": "sai-mat-khau", "csrftoken": t})
    token = log_in(app_client, "quan-tri")
    page = app_client.get(USERS).text
    assert "tạm khóa đến" in page and "/quan-tri/nguoi-dung/thu/mo-khoa" in page

    r = app_client.post(f"{USERS}/thu/mo-khoa", data={"csrftoken": token})
    assert r.status_code == 303
    log_in(clerk, "thu")  # unlocked: the old password opens it again
    assert clerk.get("/quay").status_code == 200

    r = app_client.post(f"{USERS}/thu/mat-khau", data={"password": "ngan", "csrftoken": token})
    assert r.status_code == 400 and "ít nhất 8" in r.text
    r = app_client.post(f"{USERS}/thu/mat-khau", data={"password": "mat-khau-tam-thu", "csrftoken": token})
    assert r.status_code == 303
    assert clerk.get("/quay").status_code == 303  # the clerk's session ended with the reset
    log_in(clerk, "thu", "mat-khau-tam-thu")

    r = app_client.post(f"{USERS}/thu/vo-hieu", data={"csrftoken": token})
    assert r.status_code == 303
    assert clerk.get("/quay").status_code == 303
    assert "đã vô hiệu hóa" in app_client.get(USERS).text
    t = csrf(clerk)
    r = clerk.post("/dang-nhap", data={"name": "thu", "password": "mat-khau-tam-thu", "csrftoken": t})
    assert r.status_code == 401 and "vô hiệu hóa" in r.text
    r = app_client.post(f"{USERS}/thu/kich-hoat", data={"csrftoken": token})
    assert r.status_code == 303
    log_in(clerk, "thu", "mat-khau-tam-thu")

    r = app_client.post(f"{USERS}/quan-tri/vo-hieu", data={"csrftoken": token})
    assert r.status_code == 400 and "chính mình" in r.text
    assert app_client.post(f"{USERS}/khong-co/mo-khoa", data={"csrftoken": token}).status_code == 404
    assert app_client.post(f"{USERS}/thu/xoa", data={"csrftoken": token}).status_code == 404  # no such button

    mine = [(a, s, d) for a, s, who, d in _audit(web_config) if who == "quan-tri (Quản trị viên)"]
    done = [a for a, s, _ in mine if s == "thu"][::-1]  # the log lists the newest first
    assert done == ["user-unlock", "user-password", "user-disable", "user-enable"]
    assert not any("mat-khau" in d for _, _, d in mine)
    page = app_client.get(USERS).text

    row = page.split("<td>thu</td>")[1].split("</tr>")[0]
    assert "đang dùng" in row and "chưa đăng nhập" not in row  # thu's last log-in is shown


def test_an_api_client_is_added_and_its_token_shown_once(app_client: TestClient, web_config: Config) -> None:
    token = log_in(app_client, "quan-tri")
    r = app_client.post("/quan-tri/he-thong-api", data={"name": "mot-cua-tinh", "agency": "000.00.00.H32",
                                                        "csrftoken": token})  # fmt: skip
    assert r.status_code == 200 and "chỉ hiện một lần" in r.text and r.headers["cache-control"] == "no-store"
    key = r.text.split('id="token" value="')[1].split('"')[0]
    assert len(key) > 30
    api = app_client.get("/api/v1/search", params={"q": "x"}, headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 200
    listed = app_client.get(USERS).text
    assert "mot-cua-tinh" in listed and key not in listed  # listed, the token never again
    r = app_client.post("/quan-tri/he-thong-api", data={"name": "mot-cua-tinh", "agency": "000.00.00.H32",
                                                        "csrftoken": token})  # fmt: skip
    assert r.status_code == 400 and "đã có hệ thống" in r.text
    assert any(a == "api-client-add" and who == "quan-tri (Quản trị viên)" for a, _, who, _ in _audit(web_config))
    assert PASSWORD not in listed
