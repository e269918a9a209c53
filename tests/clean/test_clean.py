from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scanner.clean import CleanOptions, clean_page, estimate_skew
from scanner.model import PageImage
from tests.conftest import render_lines, skewed


@pytest.mark.parametrize("angle", [-7.0, -2.5, 0.0, 1.3, 4.0, 12.0])
def test_skew_is_found_within_a_fifth_of_a_degree(angle: float) -> None:
    grey = np.asarray(skewed(render_lines(dpi=150), angle).convert("L"))
    assert abs(estimate_skew(grey) - angle) < 0.2


def test_blank_page_has_no_skew() -> None:
    assert estimate_skew(np.full((1000, 800), 255, np.uint8)) == 0.0


def _page(tmp_path: Path, img: Image.Image, name: str) -> PageImage:
    path = tmp_path / name
    img.save(path, dpi=(200, 200), quality=90)
    return PageImage(path=path, width=img.width, height=img.height, dpi=200, source=name)


def test_upright_level_jpeg_is_passed_through(tmp_path: Path) -> None:
    page = _page(tmp_path, render_lines(), "a.jpg")
    cleaned = clean_page(page, tmp_path / "out")
    assert cleaned.rotation == 0 and cleaned.skew == 0
    assert cleaned.image.path == page.path  # the scanner's JPEG goes into the PDF unchanged


def test_upside_down_and_skewed_page_is_turned_and_levelled(tmp_path: Path) -> None:
    page = _page(tmp_path, skewed(render_lines().rotate(180), 3.0), "b.png")
    cleaned = clean_page(page, tmp_path / "out")
    assert cleaned.rotation == 180
    assert abs(abs(cleaned.skew) - 3.0) < 0.2
    assert cleaned.image.path != page.path
    with Image.open(cleaned.image.path) as im:
        assert im.mode == "RGB" and im.size == (page.width, page.height)
        assert im.info["dpi"][0] == pytest.approx(200, abs=1)
    residual = estimate_skew(np.asarray(Image.open(cleaned.ocr_image)))
    assert abs(residual) < 0.2


def test_switches_turn_steps_off(tmp_path: Path) -> None:
    page = _page(tmp_path, skewed(render_lines().rotate(180), 3.0), "c.png")
    cleaned = clean_page(page, tmp_path / "out", CleanOptions(orientation=False, deskew=False))
    assert cleaned.rotation == 0 and cleaned.skew == 0 and cleaned.image.path == page.path
