"""A signed PDF kept in an S3 bucket is previewed and downloaded through the web, its temporary copy removed after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scanner.app import SYSTEM, accounts
from scanner.app import officer as app
from scanner.archive import Catalog
from scanner.archive.storage import open_storage
from scanner.config import Config, load_config
from scanner.web import create_app, files
from scanner.web import officer as officer_pages
from tests.archive.helpers import file_dossier
from tests.archive.s3 import KEY, KEY_ENV, SECRET, SECRET_ENV, S3Server, running_s3
from tests.conftest import configure
from tests.web.conftest import AGENCY_A, log_in

BODY = "%PDF-1.7 Giấy khai sinh của Nguyễn Văn An, bản đã ký trong bucket"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    yield from running_s3()


@pytest.fixture
def on_s3(web_config: Config, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The web workstation's archive in a bucket: one filed dossier whose PDF is in the bucket only."""
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert web_config.source is not None
    configure(web_config.source, "storage", kind="s3", bucket=s3.bucket(), endpoint=s3.endpoint, region="us-east-1",
              access_key_env=KEY_ENV, secret_key_env=SECRET_ENV)  # fmt: skip
    config = load_config(web_config.source)
    elsewhere = tmp_path / "da-gui-len"  # written here, sent to the bucket, never under the archive root
    with Catalog(config.archive.catalog_path) as catalog:
        file_dossier(app.Archive(catalog, elsewhere), "A-0001", [{"text": BODY, "type_name": "Giấy khai sinh"}],
                     agency=AGENCY_A)  # fmt: skip
        stored = [f.path for f in catalog.stored_files(["A-0001"])]
        accounts.add_api_client(SYSTEM, catalog, "mot-cua-tinh", AGENCY_A)
    bucket = open_storage(config)
    for rel in stored:
        bucket.put(rel, elsewhere / rel, None)  # type: ignore[attr-defined]
        assert not (config.archive.root / rel).exists()
    return config


def _no_temporary_copy(config: Config) -> None:
    downloads = config.archive.work / "downloads"
    assert downloads.is_dir()  # the bucket's file was downloaded here…
    assert list(downloads.iterdir()) == []  # …and is gone now the response is sent


def test_the_officer_downloads_the_signed_pdf_from_the_bucket(on_s3: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    # the responses are kept alive here, so only the response's own cleanup (not the garbage collector) can
    # remove the temporary copy
    sent: list[object] = []

    def keep(*args: Any, **kwargs: Any) -> object:
        sent.append(files.pdf_response(*args, **kwargs))
        return sent[-1]

    monkeypatch.setattr(officer_pages, "pdf_response", keep)
    with TestClient(create_app(on_s3), follow_redirects=False) as client:
        log_in(client, "minh")
        r = client.get("/luu-tru/ho-so/A-0001.01/tai-ve")
        assert r.status_code == 200, r.text
        assert r.content == BODY.encode() and r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"].startswith("attachment")
        _no_temporary_copy(on_s3)
        preview = client.get("/luu-tru/ho-so/A-0001.01/xem")
        assert preview.status_code == 200 and preview.content == BODY.encode()
        assert preview.headers["content-disposition"].startswith("inline")
        _no_temporary_copy(on_s3)
    assert len(sent) == 2
    with Catalog(on_s3.archive.catalog_path) as catalog:
        downloads = [e for e in catalog.audit_entries() if e.action == "download" and e.subject == "A-0001.01"]
    assert [e.detail for e in downloads] == ["xem trước", "tải về"]  # newest first, each with the person
    assert all(e.actor == "minh (Lê Văn Minh)" for e in downloads)


def test_the_counter_and_the_api_fetch_the_signed_pdf_from_the_bucket(on_s3: Config) -> None:
    with Catalog(on_s3.archive.catalog_path) as catalog:
        key = accounts.add_api_client(SYSTEM, catalog, "mot-cua-khac", AGENCY_A).token
    with TestClient(create_app(on_s3), follow_redirects=False) as client:
        r = client.get("/api/v1/documents/A-0001.01/pdf", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and r.content == BODY.encode()
        _no_temporary_copy(on_s3)
        log_in(client, "thu")
        r = client.get("/quay/van-ban/A-0001.01.pdf")
        assert r.status_code == 200 and r.content == BODY.encode()
        _no_temporary_copy(on_s3)


def test_a_file_missing_from_the_bucket_is_told_not_served(on_s3: Config, s3: S3Server) -> None:
    assert on_s3.storage is not None
    rel = f"{AGENCY_A}/2026/A-0001/A-0001.01.pdf"
    s3.client().delete_object(Bucket=on_s3.storage.bucket, Key=rel)  # a delete marker: the key reads as gone
    with TestClient(create_app(on_s3), follow_redirects=False) as client:
        log_in(client, "minh")
        r = client.get("/luu-tru/ho-so/A-0001.01/tai-ve")
        assert r.status_code == 400 and "không còn trong kho" in r.text
