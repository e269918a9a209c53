"""The officer's day in a real browser: log in, search ``giay khai sinh``, filter by year, open, verify, export.

Headless Chromium from Debian (``/usr/bin/chromium``) driven by Playwright
for Python (no browser download), against ``scanner serve`` running as its
own process on loopback. One dossier goes through the whole pipeline (real
OCR, PDF/A, signature), so the record page's preview is pdf.js drawing a
real signed PDF and "Kiểm tra ngay" checks a real signature; a few more
records are filed straight into the catalog so the facets have something to
count. The search page is saved as ``docs/search-results.png``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scanner.app import officer as app
from scanner.archive import Catalog
from scanner.config import Config
from tests.archive.helpers import file_dossier
from tests.conftest import render_lines
from tests.web.conftest import AGENCY_A, PASSWORD
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, _free_port

ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "docs" / "search-results.png"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/setup.sh --dev)"
    ),
]

BIRTH = (
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "GIẤY KHAI SINH",
    "Họ và tên: Nguyễn Văn Thẩm",
    "Ngày sinh: 12 tháng 3 năm 2025",
    "Nơi đăng ký: Ủy ban nhân dân phường Bến Nghé",
)


@pytest.fixture
def server(web_config: Config, workstation: Path, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """The server's URL, the year the processed birth certificate is filed under (read from its page), and its
    dossier's day in the code (YYMMDD: the day it was received, today)."""
    from scanner.cli import main

    assert web_config.counters[0].agency_code == AGENCY_A
    scan = tmp_path / "khai-sinh.png"
    render_lines(BIRTH).save(scan, dpi=(200, 200))
    assert main(["--config", str(workstation), "process", str(scan), "--counter", "quay-1"]) == 0
    with Catalog(web_config.archive.catalog_path) as catalog:
        (processed,) = catalog.all_documents()
        year = (processed.issued_date or catalog.dossier(processed.dossier_code).receipt_date)[:4]  # type: ignore[union-attr]
        day = processed.dossier_code.rsplit("-", 2)[1]
        archive = app.Archive(catalog, web_config.archive.root)
        for n, (kind, issued, access) in enumerate(
            [("Giấy khai sinh", 2024, "công khai"), ("Giấy khai sinh", 2023, "hạn chế"), ("Tờ khai", 2024, "công khai"),
             ("Giấy khai sinh", 2022, "mật"), ("Giấy chứng nhận kết hôn", 2024, "công khai")], start=1,
        ):  # fmt: skip
            file_dossier(archive, f"{AGENCY_A}-2{n}0101-000{n}", [
                {"text": f"{kind} số {n}/{issued} của công dân Trần Thị Mai, giấy khai sinh bản sao", "type_name": kind,
                 "issued_date": f"{issued}-0{n}-1{n}"},
            ], agency=AGENCY_A, access=access)  # fmt: skip
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "--config", str(workstation), "serve", "--without-service",
         "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/dang-nhap", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "scanner serve did not start"
            time.sleep(0.3)
        yield base, year, day
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_an_officer_searches_filters_opens_verifies_and_exports(server: tuple[str, str, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, year, day = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="vi-VN")
        page.goto(f"{base}/luu-tru")  # → the log-in page, then back here
        page.fill("input[name=name]", "minh")
        page.fill("input[name=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/luu-tru")

        page.fill("#q", "giay khai sinh")
        page.keyboard.press("Enter")  # the keyboard alone
        page.wait_for_url("**q=giay+khai+sinh**")
        expect(page.locator("h1 .total")).to_have_text("6")  # the secret one too: listed, its content not shown
        expect(page.locator("mark").first).to_be_visible()
        SHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOT))

        page.locator('[data-facet="year"] a', has_text=year).click()  # the processed one's year
        page.wait_for_url(f"**year={year}**")
        expect(page.locator(".hit")).not_to_have_count(0)
        assert page.locator(".hit", has_text=day).count() == 1  # the processed one, not the five filed by hand
        page.locator(".hit h2 a").first.click()
        page.wait_for_url("**/luu-tru/ho-so/**")
        preview = page.locator("#xem-truoc")
        expect(preview).to_have_attribute("data-pages", "1", timeout=30_000)  # pdf.js drew the signed PDF
        assert preview.locator("canvas").count() == 1

        page.locator("#kiem-tra-ngay").click()
        expect(page.locator("#toan-ven .ok")).to_contain_text("Kiểm tra xong", timeout=60_000)
        expect(page.locator("#toan-ven .badge.good").first).to_be_visible()

        with page.expect_download() as info:
            page.locator("#xuat-goi").click()
        saved = tmp_path / "bag.zip"
        info.value.save_as(saved)
        names = zipfile.ZipFile(saved).namelist()
        assert any(n.endswith("/bagit.txt") for n in names) and any(n.endswith(".pdf") for n in names)

        history = page.reload() and page.locator(".history tbody").inner_text()
        for action in ("xem", "tải về", "kiểm tra toàn vẹn", "xuất gói"):
            assert action in history
        browser.close()
