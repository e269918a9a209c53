"""The REST API: bearer tokens per calling system, scoped to its agency; submit, follow, fetch, reuse, search."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scanner.app import SYSTEM, accounts
from scanner.archive import Catalog
from scanner.config import Config
from scanner.pipeline import JobState
from tests.archive.helpers import file_document
from tests.conftest import render_lines
from tests.web.conftest import AGENCY_A, AGENCY_B

OWNER = "001085000123"


def _file(config: Config, code: str, agency: str, text: str) -> None:
    """A filed one-document dossier of AGENCY, its PDF on disk (no pipeline: the API only reads it)."""
    rel = f"{agency}/2026/{code}/{code}.01.pdf"
    body = b"%PDF-1.7\n% " + text.encode() + b"\n%%EOF\n"
    path = config.archive.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    with Catalog(config.archive.catalog_path) as catalog:
        file_document(
            catalog, code, text, agency=agency, owner=OWNER, title=text, path=rel,
            sha256=hashlib.sha256(body).hexdigest(), type_name="Giấy khai sinh",
        )  # fmt: skip


@pytest.fixture
def tokens(web_config: Config) -> dict[str, str]:
    with Catalog(web_config.archive.catalog_path) as catalog:
        return {
            "A": accounts.add_api_client(SYSTEM, catalog, "mot-cua-khanh-hoa", AGENCY_A).token,
            "B": accounts.add_api_client(SYSTEM, catalog, "mot-cua-ha-noi", AGENCY_B).token,
        }


@pytest.fixture
def records(web_config: Config) -> Iterator[None]:
    _file(web_config, f"{AGENCY_A}-261124-0001", AGENCY_A, "giấy khai sinh Nguyễn Văn An")
    _file(web_config, f"{AGENCY_B}-261124-0001", AGENCY_B, "giấy khai sinh Trần Thị Bình")
    yield


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_valid_token_the_api_answers_401(app_client: TestClient) -> None:
    for headers in ({}, _as("khong-phai-khoa")):
        r = app_client.get(f"/api/v1/dossiers/{AGENCY_A}-261124-0001", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_a_client_of_agency_x_gets_404_for_agency_ys_record(
    app_client: TestClient, tokens: dict[str, str], records: None
) -> None:
    mine, theirs = f"{AGENCY_A}-261124-0001", f"{AGENCY_B}-261124-0001"
    r = app_client.get(f"/api/v1/dossiers/{mine}", headers=_as(tokens["A"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "archived" and [d["code"] for d in body["documents"]] == [f"{mine}.01"]
    pdf = app_client.get(body["documents"][0]["pdf_url"], headers=_as(tokens["A"]))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert b"Nguy" in pdf.content

    for path in (f"/api/v1/dossiers/{theirs}", f"/api/v1/documents/{theirs}.01/pdf"):
        r = app_client.get(path, headers=_as(tokens["A"]))
        assert r.status_code == 404, path
        assert r.json()["code"] == "not-found"
        assert app_client.get(path, headers=_as(tokens["B"])).status_code == 200, path

    # reuse and search see only the caller's agency
    papers = app_client.get(f"/api/v1/owners/{OWNER}/papers", headers=_as(tokens["A"])).json()["papers"]
    assert [p["dossier_code"] for p in papers] == [mine]
    found = app_client.get("/api/v1/search", params={"q": "giay khai sinh"}, headers=_as(tokens["A"])).json()
    assert [h["dossier_code"] for h in found["hits"]] == [mine]


def test_a_submitted_dossier_is_followed_by_its_code(
    app_client: TestClient, tokens: dict[str, str], web_config: Config, tmp_path: Path
) -> None:
    scan = tmp_path / "don.png"
    render_lines(dpi=100).save(scan, dpi=(100, 100))
    code = f"{AGENCY_A}-261201-0042"
    form = {"dossier_code": code, "procedure_code": "1.000894", "owner_id": OWNER}
    with scan.open("rb") as fh:
        r = app_client.post(
            "/api/v1/dossiers", data=form, files=[("files", ("đơn.png", fh, "image/png"))], headers=_as(tokens["A"])
        )
    assert r.status_code == 202, r.text
    assert r.json()["dossier_code"] == code and r.json()["state"] == JobState.RECEIVED.value

    followed = app_client.get(f"/api/v1/dossiers/{code}", headers=_as(tokens["A"]))
    assert followed.status_code == 200 and followed.json()["procedure_code"] == "1.000894"
    assert app_client.get(f"/api/v1/dossiers/{code}", headers=_as(tokens["B"])).status_code == 404

    with scan.open("rb") as fh:  # the same code again: refused, no second dossier
        again = app_client.post(
            "/api/v1/dossiers", data=form, files=[("files", ("đơn.png", fh, "image/png"))], headers=_as(tokens["A"])
        )
    assert again.status_code == 409 and again.json()["code"] == "duplicate"
    # agency X may not submit under agency Y's codes
    with scan.open("rb") as fh:
        other = {**form, "dossier_code": f"{AGENCY_B}-261201-0001"}
        r = app_client.post("/api/v1/dossiers", data=other, files=[("files", ("a.png", fh))], headers=_as(tokens["A"]))
    assert r.status_code == 404
    with Catalog(web_config.archive.catalog_path) as catalog:
        entry = next(e for e in catalog.audit_entries() if e.action == "submit")
        assert entry.subject == code and entry.actor == "api:mot-cua-khanh-hoa (mot-cua-khanh-hoa)"


def test_the_openapi_document_is_3_1_and_describes_the_api_only(app_client: TestClient) -> None:
    spec = app_client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {
        "/api/v1/dossiers", "/api/v1/dossiers/{dossier_code}", "/api/v1/dossiers/{dossier_code}/reuses",
        "/api/v1/documents/{code}/pdf",
        "/api/v1/owners/{owner_id}/papers", "/api/v1/search",
    }  # fmt: skip
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
