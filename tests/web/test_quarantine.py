"""Quarantine at the counter: a clerk sees their counter's refused files, retries one or releases it with a reason."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from scanner.archive import Catalog
from scanner.capture import quarantine
from scanner.config import Config
from scanner.errors import InputError
from scanner.web import create_app
from tests.web.conftest import log_in

BROKEN = b"\xff\xd8\xff\xe0 truncated"


def _refused(config: Config, name: str, counter: str) -> Path:
    inbox = config.counter(counter).inbox
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_bytes(BROKEN)
    error = InputError(name, "ảnh JPEG bị cắt cụt, không đọc được", code="corrupt-image")
    return quarantine.put(config.archive.work, path, name, error, now=datetime.now(), counter=counter)


def test_a_clerk_sees_retries_and_releases_their_counters_files(web_config: Config) -> None:
    kept_a = _refused(web_config, "hỏng-1.jpg", "quay-1")
    _refused(web_config, "hỏng-2.jpg", "quay-1")
    _refused(web_config, "của-quầy-2.jpg", "quay-2")
    app = create_app(web_config)
    with TestClient(app, follow_redirects=False) as thu, TestClient(app, follow_redirects=False) as lan:
        token = log_in(thu, "thu")
        page = thu.get("/quay/cach-ly")
        assert page.status_code == 200
        assert "hỏng-1.jpg" in page.text and "hỏng-2.jpg" in page.text and "của-quầy-2.jpg" not in page.text
        assert "ảnh JPEG bị cắt cụt" in page.text
        station = thu.get("/quay").text  # the station itself tells the clerk at once, in plain Vietnamese
        assert "Tệp bị từ chối" in station and "hỏng-2.jpg" in station and "ảnh JPEG bị cắt cụt" in station
        items = {name: item for item, name in re.findall(r'name="item" value="([^"]+/([^"/]+))"', page.text)}
        item_1, item_2 = items["hỏng-1.jpg"], items["hỏng-2.jpg"]

        # counter B's clerk can neither see nor touch counter A's files
        lan_token = log_in(lan, "lan")
        assert "hỏng-1.jpg" not in lan.get("/quay/cach-ly").text
        r = lan.post("/quay/cach-ly/tra-lai", data={"item": item_1, "reason": "x", "csrftoken": lan_token})
        assert r.status_code == 404

        r = thu.post("/quay/cach-ly/tra-lai", data={"item": item_1, "reason": "  ", "csrftoken": token})
        assert r.status_code == 400 and "lý do" in r.text
        r = thu.post(
            "/quay/cach-ly/tra-lai", data={"item": item_1, "reason": "đã trả giấy cho công dân", "csrftoken": token}
        )
        assert r.status_code == 200 and "Đã trả lại tệp hỏng-1.jpg" in r.text
        assert "hỏng-1.jpg</td>" not in r.text and not kept_a.exists()
        handled = web_config.archive.work / "quarantine-handled" / kept_a.parent.name
        assert (handled / kept_a.name).read_bytes() == BROKEN  # kept, never deleted
        note = (handled / f"{kept_a.name}.reason.txt").read_text(encoding="utf-8")
        assert "Đã trả lại: đã trả giấy cho công dân — thu (Nguyễn Thị Thu)" in note

        r = thu.post("/quay/cach-ly/xu-ly-lai", data={"item": item_2, "csrftoken": token})
        assert r.status_code == 200 and "để xử lý lại" in r.text
        assert (web_config.counter("quay-1").inbox / "hỏng-2.jpg").exists()  # back where the service takes it
    with Catalog(web_config.archive.catalog_path) as catalog:
        done = [(e.action, e.actor) for e in catalog.audit_entries() if e.action.startswith("quarantine-")]
    assert done == [("quarantine-retry", "thu (Nguyễn Thị Thu)"), ("quarantine-release", "thu (Nguyễn Thị Thu)")]
