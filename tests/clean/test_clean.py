from __future__ import annotations

import resource
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from scanner.clean import _LEVELS, CleanOptions, _median, clean_page, estimate_skew
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


# --- the cleaning steps, on pages drawn by samples/pagegen (no OCR engine involved) --------------


def _spec():  # type: ignore[no-untyped-def]
    from pagegen import PageSpec

    return PageSpec(
        issuer_parent="UBND HUYỆN CAM LÂM",
        issuer="ỦY BAN NHÂN DÂN\nXÃ SUỐI TÂN",
        number_line="Số: 16/GXN-UBND",
        place_date="Suối Tân, ngày 03 tháng 4 năm 2026",
        type_name="GIẤY XÁC NHẬN",
        subject="Về nơi cư trú của công dân",
        body=[
            "Ủy ban nhân dân xã Suối Tân xác nhận ông Trịnh Văn Hậu, sinh năm 1979, hiện cư trú tại "
            "thôn Tân Xương, xã Suối Tân; hộ gia đình ông đã sống ổn định tại địa phương từ năm 2008.",
            "Giấy xác nhận này có giá trị để bổ sung hồ sơ đề nghị cấp giấy chứng nhận quyền sử dụng đất; "
            "thời hạn sử dụng ba mươi ngày kể từ ngày ký.",
        ],
        signer_position="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
        signer_name="Lê Quang Vinh",
    )


def _grey(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


@pytest.mark.parametrize("turned", [0, 90, 180, 270])
def test_quarter_turns_are_found_from_the_diacritics(turned: int) -> None:
    from pagegen import render_page, rotate, skew

    from scanner.clean import ORIENTATION_MARGIN, _ink_mask, _orientation_vote

    page = rotate(skew(render_page(_spec(), 150), 1.5), turned)  # turned counter-clockwise
    turn, confidence = _orientation_vote(_ink_mask(_grey(page)))
    assert turn == turned  # degrees clockwise that make it upright again
    assert confidence >= ORIENTATION_MARGIN  # decided without asking Tesseract's OSD


@pytest.mark.parametrize("angle", [-14.0, -3.7, 0.6, 9.5])
def test_skew_of_an_administrative_page_is_found_within_a_fifth_of_a_degree(angle: float) -> None:
    from pagegen import render_page, skew

    grey = _grey(skew(render_page(_spec(), 150), angle))
    assert abs(estimate_skew(grey) - angle) < 0.2


def test_red_seal_is_dropped_for_the_recognizer_and_black_text_kept() -> None:
    from scanner.clean import recognizer_grey

    bgr = np.full((40, 60, 3), 255, np.uint8)
    bgr[:, :20] = (48, 38, 214)  # seal ink (BGR)
    bgr[:, 20:40] = (0, 0, 0)  # black text
    bgr[:, 40:] = (120, 42, 28)  # blue signature ink
    grey = recognizer_grey(bgr)
    assert grey[:, :20].min() > 200
    assert grey[:, 20:40].max() < 10
    assert grey[:, 40:].max() < 80
    assert recognizer_grey(bgr, dropout=False)[:, :20].max() < 120


def test_flattening_removes_grey_paper_and_lid_shadow_but_keeps_ink() -> None:
    from pagegen import lid_shadow, render_page, tint_paper

    from scanner.clean import flatten

    clean = _grey(render_page(_spec(), 150))
    dirty = _grey(lid_shadow(tint_paper(render_page(_spec(), 150), (225, 222, 215)), "left", 0.08, 0.7))
    flat = flatten(dirty)
    band = flat[:, : flat.shape[1] // 20]
    assert dirty[:, :5].mean() < 120 and band.mean() > 245
    ink = clean < 100
    assert flat[ink].mean() < 90  # letters stay dark
    assert np.count_nonzero(flat > 250) > 0.9 * flat.size  # paper is white


def test_dark_scanner_border_is_whitened_but_text_near_the_edge_is_not() -> None:
    from scanner.clean import whiten_borders

    grey = np.full((1000, 800), 255, np.uint8)
    grey[:, :30] = 10  # the scanner bed beyond the paper
    grey[100:120, 45:300] = 0  # a line of text close to the edge
    out = whiten_borders(grey)
    assert out[:, :30].min() == 255
    assert out[100:120, 60:300].max() == 0


def test_dust_is_removed_but_diacritics_stay() -> None:
    from scanner.clean import despeckle

    grey = np.full((400, 400), 255, np.uint8)
    grey[100:140, 100:110] = 0  # the stem of an "i"
    grey[90:93, 103:106] = 0  # its dot, a few pixels above
    grey[300:302, 300:302] = 0  # dust, far from everything
    out = despeckle(grey, 300)
    assert out[300:302, 300:302].min() == 255
    assert out[90:93, 103:106].max() == 0 and out[100:140, 100:110].max() == 0


def test_the_paper_rim_along_the_edge_goes_but_letters_near_it_stay() -> None:
    from scanner.clean import despeckle

    grey = np.full((400, 400), 255, np.uint8)
    for x in range(0, 400, 60):  # the broken dark rim a lid shadow leaves along the top edge
        grey[0:4, x : x + 50] = 0
    grey[0:30, 395:400] = 0  # a punched hole cut by the right edge
    grey[8:40, 100:110] = 0  # a letter a few pixels below the edge, not touching it
    grey[390:400, 50:350] = 180  # the grainy grey band a shadow's rim leaves along the bottom edge
    grey[300:340, 200:210] = 180  # a grey letter inside the page
    assert despeckle(grey, 300)[0:4].min() == 0  # without EDGES nothing along the edge is touched
    out = despeckle(grey, 300, edges=True)
    assert out[0:4].min() == 255 and out[:, 395:].min() == 255 and out[390:].min() == 255
    assert out[8:40, 100:110].max() == 0 and out[300:340, 200:210].max() == 180


def test_a_skewed_shadowed_scan_reads_without_a_line_of_junk_at_the_top(tmp_path: Path) -> None:
    # The shadowed top edge of a skewed scan became a broken line that Tesseract read as junk (CER 19.9%).
    from pagegen import add_noise, lid_shadow, render_page, skew, tint_paper

    page = render_page(_spec(), 300, seal=True)
    scan = skew(add_noise(lid_shadow(tint_paper(page, (226, 224, 219)), "top", 0.07, 0.7), 6, 7), 3.9)
    path = tmp_path / "scan.jpg"
    scan.convert("RGB").save(path, quality=85, dpi=(300, 300))
    cleaned = clean_page(
        PageImage(path=path, width=scan.width, height=scan.height, dpi=300, source=path.name), tmp_path
    )
    top = np.asarray(Image.open(cleaned.ocr_image))[:40]
    assert np.count_nonzero(top < 128) < 50  # was 1,767 dark pixels: the rim, broken into dashes
    assert np.count_nonzero(top < 235) < 5000  # and 39,131 not paper-white: the grainy grey band around them


def test_blank_backside_is_blank_and_a_text_page_is_not(tmp_path: Path) -> None:
    from pagegen import blank_backside, render_page

    from scanner.capture.group import is_blank

    blank = _page(tmp_path, blank_backside(150, seed=3), "blank.jpg")
    text = _page(tmp_path, render_page(_spec(), 150), "text.jpg")
    options = CleanOptions(orientation=False)
    assert is_blank(clean_page(blank, tmp_path / "out", options).ink, "")
    ink = clean_page(text, tmp_path / "out", options).ink
    assert ink > 0.01 and not is_blank(ink, "")


def test_config_switches_are_the_cleaning_options() -> None:
    from dataclasses import fields

    from scanner.config import CleanConfig

    assert [f.name for f in fields(CleanConfig)] == [f.name for f in fields(CleanOptions)]


def test_every_step_can_be_switched_off(tmp_path: Path) -> None:
    from pagegen import render_page

    page = _page(tmp_path, render_page(_spec(), 100, seal=True), "d.png")
    off = CleanOptions(
        orientation=False, deskew=False, dropout=False, flatten=False, borders=False, despeckle=False, upscale=False
    )
    cleaned = clean_page(page, tmp_path / "out", off)
    with Image.open(page.path) as im:
        expected = np.asarray(im.convert("L"), dtype=np.int16)
    got = np.asarray(Image.open(cleaned.ocr_image), dtype=np.int16)
    assert np.abs(got - expected).max() <= 1  # the recognizer sees the scan's own grey levels


def test_a_backside_with_only_a_red_stamp_is_not_blank(tmp_path: Path) -> None:
    """The recognizer never sees red ink, but a stamped backside is content and must not be dropped."""
    from PIL import ImageDraw

    img = Image.new("RGB", (1240, 1754), (248, 247, 243))
    ImageDraw.Draw(img).ellipse((400, 600, 840, 1040), outline=(214, 38, 48), width=14)
    ImageDraw.Draw(img).rectangle((480, 780, 760, 860), fill=(214, 38, 48))
    cleaned = clean_page(_page(tmp_path, img, "stamp.png"), tmp_path / "out", CleanOptions(orientation=False))
    assert cleaned.ink > 0.002
    assert np.asarray(Image.open(cleaned.ocr_image)).min() > 200  # while the recognizer sees paper


@given(st.lists(st.integers(0, 255), min_size=1, max_size=300))
def test_the_white_point_takes_the_same_medians_as_numpy(levels: list[int]) -> None:
    """The paper level and its spread come from a histogram; a level off by one would move every page's white."""
    sample = np.array(levels, dtype=np.uint8)
    counts = np.bincount(sample, minlength=256)
    paper = float(np.median(sample))
    assert _median(_LEVELS, counts) == paper
    assert _median(np.abs(_LEVELS - paper), counts) == float(np.median(np.abs(sample.astype(np.float32) - paper)))


def test_a_page_sized_array_freed_is_reused_not_faulted_in_afresh() -> None:
    """Importing the cleaning keeps glibc from handing page-sized arrays back to the kernel after each use.

    Otherwise every one of the few dozen full-page arrays a page allocates is
    faulted in and zeroed again (740 faults on this kernel for 26 MB): seconds of system
    time per dossier.
    """
    shape = (3508, 2480, 3)  # A4 at 300 dpi, colour
    np.ones(shape, np.uint8)  # allocated, touched, freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    again = np.ones(shape, np.uint8)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert again.sum(dtype=np.int64) == again.size
    assert faults < 100, f"{faults} page faults for an array the size of the one just freed"
