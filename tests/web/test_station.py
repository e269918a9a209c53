"""The counter station's actions through the web, on a dossier waiting for the clerk's review.

Each form posts what the use case needs (the same names the templates use),
and the panel that comes back shows the result; the page operations
themselves are tested in ``tests/app/test_counter.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from scanner.archive import Catalog
from scanner.config import Config, load_config
from scanner.pipeline import JobState, Pipeline
from scanner.web import create_app
from tests.conftest import configure, render_lines
from tests.web.conftest import log_in


def _page(path: Path, *lines: str) -> Path:
    render_lines(lines, dpi=100).save(path, dpi=(100, 100))
    return path


def test_the_clerk_fixes_a_waiting_dossier_from_the_station(web_config: Config, tmp_path: Path) -> None:
    assert web_config.source is not None
    configure(web_config.source, "review", mode="always")
    config = load_config(web_config.source)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        files = [_page(tmp_path / f"{n}.png", "GIẤY XÁC NHẬN", f"Trang số {n} của hồ sơ") for n in (1, 2, 3)]
        job = pipeline.submit(files, config.counters[0])
        assert pipeline.run(job).state == JobState.REVIEWING
    with TestClient(create_app(config), follow_redirects=False) as thu:
        token = log_in(thu, "thu")
        panel = thu.get("/quay").text
        pages = re.findall(r'data-page="([^"]+)"', panel)
        assert len(pages) == 3 and JobState.REVIEWING.label_vi in panel
        assert thu.get(f"/quay/anh/{job}/{pages[0]}.jpg").headers["content-type"] == "image/jpeg"

        def post(path: str, **data: str) -> str:
            r = thu.post(f"/quay/ho-so/{job}{path}", data={**data, "csrftoken": token})
            assert r.status_code == 200, r.text
            return r.text

        post("/thong-tin", procedure_code="1.000894", owner_id="079085001234")
        panel = post(f"/trang/{pages[0]}/xoay", degrees="90")
        assert f"{pages[0]}-r90" in panel
        assert panel.count('<article class="doc"') == 3  # one document per file
        panel = post(f"/trang/{pages[2]}/chuyen", before=f"{pages[0]}-r90")
        assert re.findall(r'data-page="([^"]+)"', panel)[0] == pages[2]
        assert panel.count('<article class="doc"') == 2  # the third file's document is now empty, so gone
        panel = post("/van-ban/2/gop")
        assert panel.count('<article class="doc"') == 1
        panel = post(f"/trang/{pages[1]}/tach")
        assert panel.count('<article class="doc"') == 2
        rescan = _page(tmp_path / "quet-lai.png", "GIẤY XÁC NHẬN", "Trang số 2, quét lại")
        upload = {"file": ("quét lại.png", rescan.read_bytes(), "image/png")}
        r = thu.post(f"/quay/ho-so/{job}/trang/{pages[1]}/thay", data={"csrftoken": token}, files=upload)
        assert r.status_code == 403  # an upload carries its token in the header, as htmx sends it
        r = thu.post(f"/quay/ho-so/{job}/trang/{pages[1]}/thay", files=upload, headers={"x-csrftoken": token})
        assert r.status_code == 200, r.text
        now = re.findall(r'data-page="([^"]+)"', r.text)
        assert pages[1] not in now and len(now) == 3
        panel = post("/van-ban/1/truong", name="subject", value="Xác nhận cư trú")
        assert 'value="Xác nhận cư trú"' in panel
        r = thu.post(f"/quay/ho-so/{job}/van-ban/1/truong", data={"name": "issued_date", "value": "31/02/2024",
                                                                    "csrftoken": token})  # fmt: skip
        assert r.status_code == 400 and "ngày không hợp lệ" in r.text
        with Catalog(config.archive.catalog_path) as catalog:
            actions = [e.action for e in catalog.audit_entries() if e.actor == "thu (Nguyễn Thị Thu)"]
        for action in ("dossier-details", "edit-rotate", "edit-move", "edit-merge", "edit-split", "edit-replace",
                       "edit-field"):  # fmt: skip
            assert action in actions
