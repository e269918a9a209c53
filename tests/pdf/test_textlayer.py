"""The pieces of the text layer: character codes, line grouping, the glyphless font and its CMap."""

from __future__ import annotations

import io
import re
import unicodedata

from fontTools.ttLib import TTFont

from scanner.model import Word
from scanner.pdf.font import ADVANCE, glyphless_truetype, to_unicode_cmap
from scanner.pdf.textlayer import encode_text, text_content


def word(text: str, left: int, top: int, *, line: int = 0, width: int = 100, height: int = 40) -> Word:
    return Word(text, left, top, width, height, 90.0, block=1, line=line)


def test_codes_are_nfc_code_points_in_two_bytes() -> None:
    assert encode_text(unicodedata.normalize("NFD", "Ộ")) == b"\x1e\xd8"  # U+1ED8
    assert encode_text("A\U0001f600\x07B") == b"\x00A\x00B"  # emoji and control characters dropped


def test_one_line_one_size_one_baseline_and_a_space_between_words() -> None:
    words = [word("Giấy", 100, 100, height=50), word("ngày", 220, 110, height=45)]
    ops = text_content(words, page_height_px=1000, pt_per_px=1.0, font="/F1").decode()
    assert ops.count(" Tf") == 1
    assert len(set(re.findall(r"1 0 0 1 \S+ (\S+) Tm", ops))) == 1
    assert ops.count("<0020> Tj") == 1


def test_words_on_different_rows_make_different_lines_even_with_equal_numbers() -> None:
    words = [word("một", 100, 100), word("hai", 100, 300)]
    ops = text_content(words, page_height_px=1000, pt_per_px=1.0, font="/F1").decode()
    assert ops.count(" Tf") == 2 and "<0020> Tj" not in ops


def test_each_word_is_stretched_to_its_box() -> None:
    ops = text_content([word("abcd", 0, 0, width=100, height=50)], page_height_px=100, pt_per_px=0.5, font="/F1")
    # 4 glyphs of 0.5 em at 25 pt make 50 pt; the box is 50 pt wide, so 100 % scaling.
    assert b"100 Tz <0061006200630064> Tj" in ops


def test_no_words_no_text_object() -> None:
    assert text_content([], page_height_px=100, pt_per_px=1.0, font="/F1") == b""
    assert text_content([word("\U0001f600", 0, 0)], page_height_px=100, pt_per_px=1.0, font="/F1") == b""


def test_the_font_program_has_notdef_and_one_empty_glyph() -> None:
    font = TTFont(io.BytesIO(glyphless_truetype()))
    assert font.getGlyphOrder()[0] == ".notdef" and len(font.getGlyphOrder()) == 2
    assert font["head"].unitsPerEm == 1000
    assert [font["hmtx"][name][0] for name in font.getGlyphOrder()] == [ADVANCE, ADVANCE]
    assert font["glyf"][font.getGlyphOrder()[1]].numberOfContours == 0


def test_the_cmap_maps_every_bmp_code_but_surrogates_in_single_byte_ranges() -> None:
    cmap = to_unicode_cmap().decode()
    ranges = re.findall(r"<([0-9A-F]{4})> <([0-9A-F]{4})> <([0-9A-F]{4})>", cmap)
    assert len(ranges) == 256 - 8
    assert all(
        lo[:2] == hi[:2] == dst[:2] and lo == dst and lo[2:] == "00" and hi[2:] == "FF" for lo, hi, dst in ranges
    )
    assert not any(0xD8 <= int(lo[:2], 16) <= 0xDF for lo, _, _ in ranges)
    assert all(int(n) <= 100 for n in re.findall(r"(\d+) beginbfrange", cmap))
