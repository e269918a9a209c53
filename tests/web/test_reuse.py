"""Reuse counted: a still-valid paper taken for the open dossier (page) or a submitted one (API) is a 766 figure."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from scanner.app import SYSTEM, Actor, Role, accounts, records
from scanner.app import counter as clerk
from scanner.app import officer as app
from scanner.app.counter import Station
from scanner.archive import Catalog
from scanner.config import Config
from scanner.errors import InputError, NotFoundError
from tests.archive.helpers import file_dossier
from tests.conftest import render_lines
from tests.web.conftest import log_in

OWNER = "079085001234"


def _setup(config: Config) -> tuple[str, str]:
    """An old paper of OWNER in the archive, and a new dossier open at quay-1: (the job, the agency)."""
    agency = config.counters[0].agency_code
    with Catalog(config.archive.catalog_path) as catalog:
        file_dossier(app.Archive(catalog, config.archive.root), "OLD-0001", [
            {"text": "Giấy khai sinh của Nguyễn Văn An", "type_name": "Giấy khai sinh", "issued_date": "2019-03-01",
             "holder_id": OWNER},
            {"text": "Giấy xác nhận cư trú cũ", "type_name": "Giấy xác nhận", "issued_date": "2019-03-01",
             "valid_until": "2020-03-01", "holder_id": OWNER},
        ], agency=agency)  # fmt: skip
        view = clerk.open_dossier(SYSTEM, Station(config, catalog), "quay-1", procedure_code="1.000894")
    return view.job_id, agency


def _reused(config: Config, agency: str) -> int:
    with Catalog(config.archive.catalog_path) as catalog:
        ind = records.indicators(SYSTEM, archive=app.archive_of(config, catalog), today=date.today())
    month = date.today().strftime("%Y-%m")
    return sum(r.reused for r in ind.rows if (r.agency, r.procedure, r.month) == (agency, "1.000894", month))


def test_the_clerk_reuses_a_valid_paper_for_the_open_dossier_once(app_client: TestClient, web_config: Config) -> None:
    job, agency = _setup(web_config)
    token = log_in(app_client, "thu")
    page = app_client.get("/quay/da-so-hoa", params={"owner_id": OWNER}).text
    assert "OLD-0001.01" in page and "OLD-0001.02" not in page  # the expired paper is not offered
    assert page.count("Dùng lại cho hồ sơ này</button>") == 1 and f'value="{job}"' in page
    assert _reused(web_config, agency) == 0

    form = {"job": job, "paper": "OLD-0001.01", "owner_id": OWNER, "csrftoken": token}
    r = app_client.post("/quay/da-so-hoa/dung-lai", data=form)
    assert r.status_code == 200 and "Đã ghi nhận giấy tờ OLD-0001.01" in r.text
    again = app_client.post("/quay/da-so-hoa/dung-lai", data=form)
    assert again.status_code == 200 and "trước đó" in again.text
    assert _reused(web_config, agency) == 1  # once per dossier and paper
    assert app_client.post("/quay/da-so-hoa/dung-lai", data={**form, "csrftoken": ""}).status_code == 403
    expired = app_client.post("/quay/da-so-hoa/dung-lai", data={**form, "paper": "OLD-0001.02"})
    assert expired.status_code == 400 and "hết hiệu lực" in expired.text

    with Catalog(web_config.archive.catalog_path) as catalog:
        entry = next(e for e in catalog.audit_entries() if e.action == "reuse")
    assert (entry.subject, entry.actor, entry.detail) == ("OLD-0001.01", "thu (Nguyễn Thị Thu)", f"cho hồ sơ {job}")

    # the report page counts it too
    with Catalog(web_config.archive.catalog_path) as catalog:
        accounts.add_user(SYSTEM, catalog, name="ha", password="mat-khau-thu-nghiem", role=Role.SUPERVISOR)
    boss = TestClient(app_client.app, follow_redirects=False)
    log_in(boss, "ha")
    report = boss.get("/luu-tru/bao-cao")
    assert report.status_code == 200
    total = report.text.split('<tr class="total">')[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", total)
    assert cells[0] == "Tổng cộng" and cells[3] == "1"  # the column "Được tái sử dụng"


def test_another_counters_clerk_cannot_count_for_this_dossier(app_client: TestClient, web_config: Config) -> None:
    job, agency = _setup(web_config)
    token = log_in(app_client, "lan")  # quay-2
    r = app_client.post("/quay/da-so-hoa/dung-lai", data={"job": job, "paper": "OLD-0001.01", "csrftoken": token})
    assert r.status_code == 404
    assert _reused(web_config, agency) == 0


def test_the_provincial_system_counts_a_reuse_through_the_api(app_client: TestClient, web_config: Config) -> None:
    _, agency = _setup(web_config)
    code = f"{agency}-261201-0042"
    with Catalog(web_config.archive.catalog_path) as catalog:
        key = accounts.add_api_client(SYSTEM, catalog, "mot-cua-tinh", agency).token
        other = accounts.add_api_client(SYSTEM, catalog, "tinh-khac", "000.00.00.H99").token
    headers = {"Authorization": f"Bearer {key}"}
    scan = web_config.archive.work / "don.png"
    render_lines(dpi=100).save(scan, dpi=(100, 100))
    form = {"dossier_code": code, "procedure_code": "1.000894", "owner_id": OWNER}
    with scan.open("rb") as fh:
        sent = app_client.post("/api/v1/dossiers", data=form, files=[("files", ("don.png", fh))], headers=headers)
    assert sent.status_code == 202, sent.text
    r = app_client.post(f"/api/v1/dossiers/{code}/reuses", json={"document_code": "OLD-0001.01"}, headers=headers)
    assert r.status_code == 201 and r.json() == {"dossier_code": code, "document_code": "OLD-0001.01", "counted": True}
    r = app_client.post(f"/api/v1/dossiers/{code}/reuses", json={"document_code": "OLD-0001.01"}, headers=headers)
    assert r.json()["counted"] is False
    r = app_client.post(f"/api/v1/dossiers/{code}/reuses", json={"document_code": "OLD-0001.01"},
                        headers={"Authorization": f"Bearer {other}"})  # fmt: skip
    assert r.status_code == 404
    assert _reused(web_config, agency) == 1
    with Catalog(web_config.archive.catalog_path) as catalog:
        entry = next(e for e in catalog.audit_entries() if e.action == "reuse")
    assert entry.actor == "api:mot-cua-tinh (mot-cua-tinh)" and entry.detail == f"cho hồ sơ {code}"


def test_an_expired_or_unseen_paper_is_not_counted(web_config: Config) -> None:
    job, agency = _setup(web_config)
    officer_b = Actor("tuan", Role.OFFICER, agency="000.00.00.H99")
    with Catalog(web_config.archive.catalog_path) as catalog:
        archive = app.archive_of(web_config, catalog)
        with pytest.raises(InputError, match="hết hiệu lực"):
            records.record_reuse(SYSTEM, "OLD-0001.02", archive=archive, dossier_code=job, agency=agency)
        with pytest.raises(NotFoundError):
            records.record_reuse(officer_b, "OLD-0001.01", archive=archive, dossier_code=job, agency=agency)
        assert records.record_reuse(SYSTEM, "OLD-0001.02", archive=archive, dossier_code=job, agency=agency,
                                    on=date(2020, 1, 1))  # fmt: skip
