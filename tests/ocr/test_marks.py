"""The tone-mark correction: the confusions seen on real scans put right in context, nothing else touched."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from scanner import jsonio
from scanner.model import OcrPage
from scanner.ocr import OcrOptions, marks, ocr_page, parse_hocr
from scanner.ocr.marks import Token, base, correct, is_syllable
from tests.ocr.hocr import hocr_page


def _fix(line: str) -> str:
    return " ".join(correct([Token(w) for w in line.split()]))


def _doubted(read: str, meant: str, conf: float = 20.0) -> Token:
    """READ as Tesseract gives it when it hesitated: where MEANT differs, MEANT's character and two
    other marks on the same letter listed as runners-up (the right one at CONF, the others at 0)."""
    steps = []
    for a, b in zip(read, meant, strict=True):
        if a == b:
            steps.append(((a, 95.0),))
            continue
        others = [
            c
            for c in "aáàảãạăắằẳẵặâấầẩẫậeéèẻẽẹêếềểễệoóòỏõọôốồổỗộơớờởỡợuúùủũụưứừửữựiíìỉĩịyýỳỷỹỵdđ"
            if base(c) == base(b).lower() and c not in (a, b)
        ][:2]
        if b.isupper():
            others = [c.upper() for c in others]
        steps.append(((a, 80.0), *((c, 0.0) for c in others), (b, conf)))
    return Token(read, tuple(steps))


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("giám đôc", "giám đốc"),
        ("ông giám đôc Sở", "ông giám đốc Sở"),
        ("vì lợi ích quôc gia", "vì lợi ích quốc gia"),
        ("THÀNH PHÓ", "THÀNH PHỐ"),
        ("nhân địp này", "nhân dịp này"),
        ("bảo vệ sức khóe", "bảo vệ sức khỏe"),
        ("trẻ bị sôt cao", "trẻ bị sốt cao"),
        ("luôn sẵn sảng", "luôn sẵn sàng"),
        ("tật cả các", "tất cả các"),
        ("khi cân thiết", "khi cần thiết"),
        ("phối hợp chặt chẻ với", "phối hợp chặt chẽ với"),
        ("khuyên cáo người dân", "khuyến cáo người dân"),
        ("báo cáo vẻ Sở", "báo cáo về Sở"),
        ("uông nước", "uống nước"),
    ],
)
def test_confusions_from_real_scans_are_corrected_in_context(read: str, meant: str) -> None:
    tokens = [_doubted(r, m) for r, m in zip(read.split(), meant.split(), strict=True)]
    assert " ".join(correct(tokens)) == meant


@pytest.mark.parametrize(("read", "meant"), [("quôc gia", "quốc gia"), ("bị sôt", "bị sốt"), ("giám đôc", "giám đốc")])
def test_a_word_that_is_no_syllable_is_corrected_without_alternatives(read: str, meant: str) -> None:
    """ "quôc" cannot be Vietnamese (a stop final needs the acute or dot-below tone): evidence is not needed."""
    assert _fix(read) == meant


def test_tesseract_alternatives_decide_where_the_words_alone_do_not() -> None:
    """ "khuyên cáo" is two words too: without a runner-up Tesseract weighed, it is kept."""
    assert _fix("khuyên cáo") == "khuyên cáo"
    assert correct([_doubted("khuyên", "khuyến"), Token("cáo")]) == ["khuyến", "cáo"]
    # the same doubt in a context where the reading makes sense: kept
    assert correct([_doubted("vẻ", "về"), Token("đẹp")]) == ["vẻ", "đẹp"]


def test_a_confident_reading_without_the_alternative_is_kept() -> None:
    """A mark Tesseract read surely and never doubted is not overruled by the language model alone."""
    sure = (("P", 97.0),), (("h", 97.0),), (("ổ", 97.0),)
    assert correct([Token("Phổ", sure), Token("Thạnh")]) == ["Phổ", "Thạnh"]


def test_codes_numbers_and_mixed_case_are_left_alone() -> None:
    line = "Số: 123/QĐ-UBND ngày 06/3/2026 ThS iPhone UBND Nguyen Van Thanh 45,5 m2 CCCD: 001099012345"
    assert _fix(line) == line


def test_punctuation_breaks_the_chain_and_stays_put() -> None:
    assert _fix("(quôc gia), giám đôc.") == "(quốc gia), giám đốc."
    # "cả" after a full stop is not read as the second half of "tất cả"
    assert correct([Token("tật."), Token("cả")]) == ["tật.", "cả"]


def test_letters_are_never_changed() -> None:
    words = [
        "Tố",
        "công",
        "tác",
        "sô",
        "hóa",
        "hồ",
        "sơ,",
        "kêt",
        "qua",
        "giai",
        "quyêt",
        "thu",
        "tuc",
        "hanh",
        "chính",
        "tai",
        "Bô",
        "phân",
        "Môt",
        "cửa",
        "xa",
        "Phô",
        "Thanh",
    ]
    fixed = correct([Token(w) for w in words])
    assert fixed != words  # something was corrected
    for before, after in zip(words, fixed, strict=True):
        assert base(before) == base(after)
        assert len(before) == len(after)
        assert unicodedata.is_normalized("NFC", after)


def test_spelling_rule() -> None:
    assert is_syllable("quốc") and is_syllable("nghiêng") and is_syllable("khuỷu")
    assert not is_syllable("quôc")  # a stop final needs the acute or dot-below tone
    assert not is_syllable("sôt") and not is_syllable("uongg")
    assert not is_syllable("fax") and not is_syllable("tốì")  # f is not Vietnamese; two tones


def test_the_table_ships_with_the_package() -> None:
    m = marks.model()
    assert len(m.unigrams) > 5000 and sum(len(after) for after in m.pairs.values()) > 50000
    assert set(m.by_base["quoc"]) >= {"quốc"}
    assert "quôc" not in m.unigrams


def _word(text: str, left: int, alts: list[str] | None = None) -> tuple:  # type: ignore[type-arg]
    box = (left, 100, left + 20 * len(text), 130)
    return (text, box, 91, alts) if alts is not None else (text, box, 91)


def test_ocr_page_keeps_the_raw_reading_and_the_boxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from scanner.tools import tesseract

    image = tmp_path / "p-ocr.png"
    Image.new("L", (1000, 400), 255).save(image)
    words = [_word("Giám", 100), _word("đôc", 190, ["", "", "ố"]), _word("Sở", 260), _word("87/QĐ-UBND", 310)]
    monkeypatch.setattr(tesseract, "hocr", lambda *a, **k: hocr_page([words]))
    page = ocr_page(image, width=1000, height=400, dpi=300, options=OcrOptions())
    assert page.text == "Giám đốc Sở 87/QĐ-UBND"
    assert page.raw_text == "Giám đôc Sở 87/QĐ-UBND"
    assert [(w.left, w.width) for w in page.words] == [(100, 80), (190, 60), (260, 40), (310, 200)]
    # saved in the job folder's ocr/<page>.json with the corrected page
    saved = tmp_path / "ocr.json"
    jsonio.save(saved, page)
    assert json.loads(saved.read_text(encoding="utf-8"))["raw_text"] == "Giám đôc Sở 87/QĐ-UBND"
    assert jsonio.load(saved, OcrPage) == page
    off = ocr_page(image, width=1000, height=400, dpi=300, options=OcrOptions(correct_marks=False))
    assert off.text == "Giám đôc Sở 87/QĐ-UBND"


def test_hocr_gives_the_words_of_the_tsv() -> None:
    """Boxes, confidences, lines and blocks from hOCR as from the TSV; choices that do not spell the word dropped."""
    data = hocr_page([[_word("CỘNG", 200), _word("HÒA", 300)], [_word("Độc", 200, ["", "", ""])]])
    page = parse_hocr(data, 1654, 2339, correct=False)
    assert page.text == "CỘNG HÒA\nĐộc"
    assert [w.block for w in page.words] == [1, 1, 2]
    assert page.words[1].left == 300 and page.words[1].width == 60 and page.words[1].conf == 91
    assert marks._split("«Độc»") == ("«", "Độc", "»")


def _comma(tok: Token) -> Token:
    """TOK followed by a comma, as Tesseract reads it: one more step, the comma's."""
    assert tok.choices is not None
    return Token(tok.text + ",", (*tok.choices, ((",", 96.0),)))


def test_alternatives_count_for_a_word_followed_by_punctuation() -> None:
    """The steps of "vẻ," spell the comma too: the word's own are used, not dropped for the length."""
    said = [Token("báo"), Token("cáo")]
    assert correct([*said, _comma(_doubted("vẻ", "về"))]) == ["báo", "cáo", "về,"]
    assert correct([*said, Token("vẻ,")]) == ["báo", "cáo", "vẻ,"]  # what dropping them amounted to
    assert correct([Token("trẻ"), Token("bị"), _comma(_doubted("cào", "cao"))]) == ["trẻ", "bị", "cao,"]


def _toy_model(pair_count: int) -> marks.SyllableModel:
    """Four syllables equally frequent; only "chỉ thường" is a known pair, PAIR_COUNT strong."""
    lines = ["nguồn\t1000", "chi\t1000", "chỉ\t1000", "thường\t1000", f"chỉ thường\t{pair_count}"]
    return marks.SyllableModel.parse(lines)


def test_a_valid_syllable_is_not_changed_to_marks_tesseract_never_weighed_on_thin_evidence() -> None:
    """ "nguồn chi thường": "chi" is a syllable; the table prefers "chỉ thường", Tesseract gave no alternative.

    The pair's evidence (about 9.9 nats) beats the cost of a change without alternatives (9.3) by less
    than KEEP_MARGIN: the reading stays. Without the rule it would have been changed.
    """
    m = _toy_model(1_000_000)
    tokens = [Token("nguồn"), Token("chi"), Token("thường")]
    assert correct(tokens, m) == ["nguồn", "chi", "thường"]
    _, margins = marks._viterbi([["nguồn"], ["chi", "chỉ"], ["thường"]], [[0.0], [0.0, -9.32], [0.0]], m)
    assert margins[1] > 0  # the language model alone would change it
    # the same change when Tesseract itself listed "ỉ" as a runner-up: made
    doubted = Token("chi", ((("c", 95.0),), (("h", 95.0),), (("i", 90.0), ("ỉ", 30.0))))
    assert correct([Token("nguồn"), doubted, Token("thường")], m) == ["nguồn", "chỉ", "thường"]
    # and when the words' evidence is overwhelming, even without it
    assert correct(tokens, _toy_model(100_000_000)) == ["nguồn", "chỉ", "thường"]


def test_capitals_of_a_marked_heading_are_corrected() -> None:
    """A signer's block read "UY BAN NHAN DÂN": its ASCII words are text that lost marks, not codes."""
    tokens = [_doubted("UY", "ỦY"), Token("BAN"), _doubted("NHAN", "NHÂN"), Token("DÂN")]
    assert correct(tokens) == ["ỦY", "BAN", "NHÂN", "DÂN"]
    assert correct([Token("KT."), _doubted("CHU", "CHỦ"), Token("TỊCH")]) == ["KT.", "CHỦ", "TỊCH"]
    assert correct([_doubted("GIAM", "GIÁM"), Token("ĐỐC"), Token("SỞ")]) == ["GIÁM", "ĐỐC", "SỞ"]


@pytest.mark.parametrize(
    "line",
    [
        "Số: 12/QĐ-UBND",
        "UBND CT HCM",
        "TP. HCM",
        "QĐ UBND HĐND",
        "NGUYEN VAN AN",  # no word of the run carries a mark: a name typed without them
        "PHỤ LỤC A",  # a single letter labels a section
        "BAN",  # a lone capital word may be a code
        "Nguyen Van An",
    ],
)
def test_codes_and_unmarked_capitals_stay_as_read(line: str) -> None:
    assert _fix(line) == line


def test_a_caps_run_is_cut_at_an_abbreviation() -> None:
    """ "UBND" is no syllable: "TỈNH BINH" after it is a run of its own, "UBND" untouched."""
    assert marks._caps_text(["UBND", "TỈNH", "BINH", "DƯƠNG"], marks.model()) == [False, True, True, True]
    assert marks._caps_text(["CT", "HCM", "UBND"], marks.model()) == [False, False, False]
    assert _fix("UBND TỈNH BINH DƯƠNG") == "UBND TỈNH BÌNH DƯƠNG"
