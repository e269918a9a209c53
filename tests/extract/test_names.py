"""The signer under the title lines of the right-hand column, and the holder a certificate names."""

from __future__ import annotations

import unicodedata

import pytest

from scanner.extract import extract_fields
from tests.extract.pages import HEADER, LEFT, Row, centred, justified, layout, with_conf

SIGNER_CENTRE = 1200  # the right-hand column
BODY: list[Row] = [
    centred("QUYẾT ĐỊNH", 450),
    centred("Về việc cấp giấy phép xây dựng", 510),
    justified("Căn cứ Luật Xây dựng ngày 18 tháng 6 năm 2014;", 650, left=LEFT + 100),
]


def signed(titles: list[str], name: str, *, between: tuple[str, ...] = (), recipients: bool = True) -> list[Row]:
    """BODY then the signer's block: the titles, the signature's space (with stray words), the name."""
    rows = list(BODY)
    top = 1500
    if recipients:
        rows += [
            ("Nơi nhận:", LEFT - 40, top),
            ("- Như Điều 3;", LEFT - 40, top + 45),
            ("- Lưu: VT.", LEFT - 40, top + 90),
        ]
    rows += [centred(t, top + 50 * i, SIGNER_CENTRE) for i, t in enumerate(titles)]
    gap_top = top + 50 * len(titles) + 40
    rows += [centred(t, gap_top + 60 * i, SIGNER_CENTRE) for i, t in enumerate(between)]
    rows.append(centred(name, top + 50 * len(titles) + 240, SIGNER_CENTRE))
    return rows


@pytest.mark.parametrize(
    ("titles", "title"),
    [
        (["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH"),
        (["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"),
        (["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"),
        (["Q. GIÁM ĐỐC"], "Q. GIÁM ĐỐC"),
        (["TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"], "TL. CHỦ TỊCH / CHÁNH VĂN PHÒNG"),
        (["CHỦ TỊCH"], "CHỦ TỊCH"),
    ],
)
def test_signer_block_variants(titles: list[str], title: str) -> None:
    f = extract_fields(layout([*HEADER, *signed(titles, "Nguyễn Tấn Tuân")]))
    assert f.signer_title is not None and f.signer_title.value == title
    assert f.signer_name is not None and f.signer_name.value == "Nguyễn Tấn Tuân"
    assert "signer_name" not in f.review and "signer_title" not in f.review


def test_the_seal_and_the_signature_read_as_words_are_passed_over() -> None:
    rows = signed(["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "Lê Hữu Hoàng", between=("(Đã ký)", "ỦY BAN NHÂN DÂN", "~ /-"))
    f = extract_fields(layout([*HEADER, *rows]))
    assert f.signer_name is not None and f.signer_name.value == "Lê Hữu Hoàng" and not f.signer_name.needs_review


def test_a_signer_name_in_capitals_is_given_for_review() -> None:
    f = extract_fields(layout([*HEADER, *signed(["CHỦ TỊCH"], "NGUYỄN VĂN AN", recipients=False)]))
    assert f.signer_name is not None and f.signer_name.value == "Nguyễn Văn An" and "signer_name" in f.review


def test_an_unsure_signer_name_is_flagged() -> None:
    page = with_conf(layout([*HEADER, *signed(["CHỦ TỊCH"], "Trần Văn Bình")]), 50.0, "Bình")
    f = extract_fields(page)
    assert f.signer_name is not None and "signer_name" in f.review


def test_no_signer_block_no_signer() -> None:
    f = extract_fields(layout([*HEADER, *BODY]))
    assert f.signer_name is None and f.signer_title is None
    assert "signer_name" not in f.as_dict()


def test_the_signer_is_in_the_catalog_form() -> None:
    d = extract_fields(layout([*HEADER, *signed(["CHỦ TỊCH"], "Trần Văn Bình")])).as_dict()
    assert d["signer_name"] == {"value": "Trần Văn Bình", "confidence": 95.0, "needs_review": False}
    assert d["signer_title"]["value"] == "CHỦ TỊCH"  # type: ignore[index]


CERT_TOP: list[Row] = [("ỦY BAN NHÂN DÂN", 300, 150), ("Số: 15/GXN-UBND", 290, 250), centred("GIẤY XÁC NHẬN", 400)]


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Họ và tên: Lê Thị Lan", "Lê Thị Lan"),
        ("Họ, chữ đệm, tên: NGUYỄN THỊ THẨM", "Nguyễn Thị Thẩm"),
        ("Họ và tên: Nguyễn Văn An Giới tính: Nam", "Nguyễn Văn An"),
        ("Họ và tên: Trần Thị Bích Ngọc, sinh ngày 02/01/1990", "Trần Thị Bích Ngọc"),
        ("Họ và tên người yêu cầu: Phạm Minh Đức", "Phạm Minh Đức"),
        ("Cấp cho ông: Hoàng Văn Nam", "Hoàng Văn Nam"),
        ("Ông/Bà: Võ Thị Yến", "Võ Thị Yến"),
        ("Xác nhận ông/bà Trần Văn Bình là người cư trú tại phường", "Trần Văn Bình"),
        ("Họ và tên: Tôn Nữ Thị Ngọc Hân", "Tôn Nữ Thị Ngọc Hân"),
        ("Họ và tên: Nguyễn Văn A", "Nguyễn Văn A"),
    ],
)
def test_holder(line: str, name: str) -> None:
    f = extract_fields(layout([*CERT_TOP, (line, LEFT, 470)]))
    assert f.holder_name is not None and f.holder_name.value == name and not f.holder_name.needs_review


@pytest.mark.parametrize(
    "line",
    [
        "Họ và tên: ......................",
        "Họ và tên: nguyễn văn an",
        "Kính gửi: Ông Chủ tịch Ủy ban nhân dân tỉnh",
        "Nơi cư trú: tỉnh Bà Rịa - Vũng Tàu",
    ],
)
def test_no_holder_where_no_name_is_printed(line: str) -> None:
    assert extract_fields(layout([*CERT_TOP, (line, LEFT, 470)])).holder_name is None


def test_a_holder_name_read_decomposed_is_stored_composed() -> None:
    nfd = unicodedata.normalize("NFD", "Họ và tên: Nguyễn Thị Thẩm")
    f = extract_fields(layout([*CERT_TOP, (nfd, LEFT, 470)]))
    assert f.holder_name is not None and f.holder_name.value == unicodedata.normalize("NFC", "Nguyễn Thị Thẩm")


def test_the_holder_is_the_one_with_the_least_certain_word() -> None:
    page = with_conf(layout([*CERT_TOP, ("Họ và tên: Lê Thị Lan", LEFT, 470)]), 60.0, "Lan")
    f = extract_fields(page)
    assert f.holder_name is not None and f.holder_name.confidence == 60.0 and "holder_name" in f.review


def test_an_unsure_word_right_after_the_name_flags_it() -> None:
    """OCR lowered the last syllable ("dức" for "Đức"): the name stops short, so it must not be trusted."""
    page = with_conf(layout([*CERT_TOP, ("Họ và tên: Đặng Minh dức", LEFT, 470)]), 55.0, "dức")
    f = extract_fields(page)
    assert f.holder_name is not None and f.holder_name.value == "Đặng Minh" and "holder_name" in f.review


def test_a_garbled_syllable_is_kept_and_flagged() -> None:
    f = extract_fields(layout([*CERT_TOP, ("Họ và tên: Phạm Văn NNam", LEFT, 470)]))
    assert f.holder_name is not None and f.holder_name.value == "Phạm Văn NNam" and "holder_name" in f.review
    rows = [*HEADER, *signed(["KKT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "Lê Văn TTám")]
    g = extract_fields(layout(rows))
    assert g.signer_title is not None and g.signer_title.value == "KKT. CHỦ TỊCH / PHÓ CHỦ TỊCH"
    assert g.signer_name is not None and g.signer_name.value == "Lê Văn TTám" and "signer_name" in g.review


def test_a_deputy_title_without_its_kt_line_is_flagged() -> None:
    f = extract_fields(layout([*HEADER, *signed(["PHÓ CHỦ TỊCH"], "Lê Văn Tám")]))
    assert f.signer_title is not None and "signer_title" in f.review
