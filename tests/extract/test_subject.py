"""The subject (trích yếu) ends where the body begins, by its words or its layout; unsure ends are flagged."""

from __future__ import annotations

import pytest

from scanner.extract import extract_fields
from tests.extract.pages import HEADER, LEFT, RIGHT, Row, centred, justified, layout

TYPE_LINE = centred("QUYẾT ĐỊNH", 450)
SUBJECT = [centred("Về việc phê duyệt kế hoạch số hóa hồ sơ", 510), centred("thủ tục hành chính năm 2021", 560)]
SUBJECT_TEXT = "Về việc phê duyệt kế hoạch số hóa hồ sơ thủ tục hành chính năm 2021"
# The body follows at the subject's own line spacing: only its layout or its first words tell it apart.
NEXT = 610
BODY_STARTS: dict[str, list[Row]] = {
    "căn cứ": [justified("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", NEXT)],
    "kính gửi": [centred("Kính gửi: Sở Tư pháp tỉnh Khánh Hòa", NEXT)],
    "numbered item": [centred("1. Phạm vi số hóa", NEXT)],
    "roman heading": [("I. MỤC ĐÍCH, YÊU CẦU", LEFT, NEXT)],
    "điều 1": [justified("Điều 1. Phê duyệt kế hoạch số hóa hồ sơ thủ tục hành chính của tỉnh", NEXT)],
    "authority line in capitals": [centred("CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH KHÁNH HÒA", NEXT)],
    "justified line at the margin": [
        justified("Ủy ban nhân dân tỉnh giao các sở, ban, ngành và địa phương thực hiện việc số hóa", NEXT),
        justified("toàn bộ hồ sơ, kết quả giải quyết thủ tục hành chính còn hiệu lực.", NEXT + 50, right=1200),
    ],
    "indented first line running to the margin": [
        justified("Ủy ban nhân dân tỉnh giao các sở, ban, ngành thực hiện việc số hóa", NEXT, left=LEFT + 100),
    ],
    "short last line at the margin": [("hồ sơ còn hiệu lực.", LEFT, NEXT)],
}


@pytest.mark.parametrize("start", BODY_STARTS, ids=list(BODY_STARTS))
def test_the_subject_stops_at_the_first_body_line(start: str) -> None:
    f = extract_fields(layout([*HEADER, TYPE_LINE, *SUBJECT, *BODY_STARTS[start]]))
    assert f.subject is not None and f.subject.value == SUBJECT_TEXT
    assert not f.subject.needs_review and "subject" not in f.review


def test_a_body_line_with_no_telling_words_is_not_signed_into_the_subject() -> None:
    """The reported case: a justified first line right under the subject was read as its third line."""
    body = justified("Thời gian thực hiện từ tháng 7 đến hết tháng 12 năm 2021 tại các cơ quan", NEXT)
    f = extract_fields(layout([*HEADER, TYPE_LINE, *SUBJECT, body]))
    assert f.subject is not None and f.subject.value == SUBJECT_TEXT and not f.subject.needs_review


def test_a_subject_of_three_lines_is_kept_whole_when_the_body_follows_a_gap() -> None:
    third = centred("trên địa bàn tỉnh Khánh Hòa", NEXT)
    body = justified("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", NEXT + 130)
    f = extract_fields(layout([*HEADER, TYPE_LINE, *SUBJECT, third, body]))
    assert f.subject is not None and f.subject.value == SUBJECT_TEXT + " trên địa bàn tỉnh Khánh Hòa"
    assert not f.subject.needs_review


def test_a_line_wide_but_centred_ends_the_subject_and_flags_it() -> None:
    wide = justified("giao Sở Thông tin và Truyền thông chủ trì phối hợp với các cơ quan", NEXT, LEFT + 60, RIGHT - 60)
    body = justified("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", NEXT + 150)
    f = extract_fields(layout([*HEADER, TYPE_LINE, *SUBJECT, wide, body]))
    assert f.subject is not None and f.subject.value == SUBJECT_TEXT
    assert f.subject.needs_review and "subject" in f.review


def test_a_line_a_little_off_centre_ends_the_subject_and_flags_it() -> None:
    text = "và giao nhiệm vụ cho các cơ quan"
    off = centred(text, NEXT, centre=(LEFT + RIGHT) // 2 + 90)
    f = extract_fields(layout([*HEADER, TYPE_LINE, *SUBJECT, off]))
    assert f.subject is not None and f.subject.value == SUBJECT_TEXT and "subject" in f.review


def test_a_centred_run_with_no_end_in_sight_is_flagged() -> None:
    run = [centred(f"dòng thứ {i} của một đoạn căn giữa", 510 + 50 * i) for i in range(7)]
    f = extract_fields(layout([*HEADER, TYPE_LINE, *run]))
    assert f.subject is not None and f.subject.value.count("dòng thứ") == 5
    assert "subject" in f.review


def test_a_subject_that_is_the_last_thing_read_is_trusted() -> None:
    f = extract_fields(layout([*HEADER, TYPE_LINE, *SUBJECT]))
    assert f.subject is not None and f.subject.value == SUBJECT_TEXT and not f.subject.needs_review


def test_a_decision_opening_with_its_legal_bases_has_no_subject() -> None:
    body = justified("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", 510)
    assert extract_fields(layout([*HEADER, TYPE_LINE, body])).subject is None
