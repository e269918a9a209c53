"""The counter station in a real browser (Debian's headless Chromium), against ``scanner serve`` with its service.

A clerk logs in, three scans land in the counter's inbox and appear as three
thumbnails (pushed by the server, no reload), the clerk deletes one page,
corrects a flagged field, presses "Hoàn tất", gets the slip with the dossier
code and its QR, and opens the signed PDF, whose XMP holds the corrected
value. Set ``SCANNER_SCREENSHOTS=DIR`` to keep screenshots of the station
(``docs/counter-station.png`` is made so).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pikepdf
import pytest

from scanner.pdf import xmp
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, CLERK, CLERK_PASSWORD, drop, scan, workstation

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")

CORRECTED = "Xác nhận nơi cư trú của ông Nguyễn Văn Thẩm"


def test_a_clerk_digitizes_a_dossier_in_the_browser(tmp_path: Path) -> None:
    shots = Path(os.environ["SCANNER_SCREENSHOTS"]) if os.environ.get("SCANNER_SCREENSHOTS") else tmp_path
    with workstation(tmp_path / "ws", tmp_path / "serve.log") as ws, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        page.on("dialog", lambda dialog: dialog.accept())  # "Xóa trang…?", "Hoàn tất…?"
        page.set_default_timeout(90_000)

        page.goto(f"{ws.url}/quay")
        assert "/dang-nhap" in page.url
        page.fill("#name", CLERK)
        page.fill("#password", CLERK_PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(f"{ws.url}/quay")

        for n in range(3):
            drop(ws.inbox, scan(tmp_path / f"trang-{n + 1}.png", n))
        thumbs = page.locator("li.thumb")
        page.wait_for_function("document.querySelectorAll('li.thumb').length === 3")
        page.wait_for_function("document.querySelectorAll('li.thumb.pending').length === 0")
        assert page.locator("li.thumb.failed").count() == 0
        assert "%" in thumbs.first.inner_text()  # the recognition confidence
        page.screenshot(path=str(shots / "counter-station.png"))

        page.get_by_label("Xóa trang 1 của văn bản 3").click()
        page.wait_for_function("document.querySelectorAll('li.thumb').length === 2")

        flagged = page.locator("form.flagged input[name=value]").first
        field_id = flagged.get_attribute("id")
        assert field_id and field_id.startswith("f-1-"), field_id  # a field of the first document to confirm
        name = field_id.split("-", 2)[2]
        flagged.fill(CORRECTED)
        flagged.press("Enter")
        page.wait_for_function(
            f"document.getElementById('{field_id}') && !document.getElementById('{field_id}').closest('form.flagged')"
        )
        assert page.locator(f"#{field_id}").input_value() == CORRECTED

        page.get_by_role("button", name="Hoàn tất").click()
        page.wait_for_url("**/phieu")
        page.wait_for_selector(".slip .qr svg")
        code = page.locator(".slip strong.code").inner_text()
        assert code.startswith("000.00.00.H32-")
        assert page.locator(".slip ol li").count() == 2  # the deleted page's document is gone
        page.screenshot(path=str(shots / "counter-slip.png"))

        link = page.locator(".slip ol li a").first
        with page.expect_popup() as popup:
            link.click()
        opened = popup.value
        response = page.request.get(ws.url + (link.get_attribute("href") or ""))
        assert response.ok and response.headers["content-type"] == "application/pdf"
        assert opened.url.endswith(".pdf")
        body = response.body()
        browser.close()

    with pikepdf.open(io.BytesIO(body)) as pdf:
        props = xmp.read_scanner_properties(pdf)
    assert props[f"field_{name}"] == CORRECTED
    assert props["dossier_code"] == code
