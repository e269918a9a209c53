"""The TSV parser, on output recorded from Tesseract 5.3 (vie) for a two-line page."""

from __future__ import annotations

import unicodedata

from scanner.ocr import parse_tsv

HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
RECORDED = HEADER + "".join(
    [
        "1\t1\t0\t0\t0\t0\t0\t0\t1654\t2339\t-1\t\n",
        "2\t1\t1\t0\t0\t0\t200\t200\t900\t60\t-1\t\n",
        "5\t1\t1\t1\t1\t1\t200\t200\t150\t40\t96.5\tCỘNG\n",
        "5\t1\t1\t1\t1\t2\t360\t200\t130\t40\t95.1\tHÒA\n",
        "5\t1\t1\t1\t2\t1\t200\t260\t120\t40\t91.0\t" + unicodedata.normalize("NFD", "Độc") + "\n",
        "5\t1\t1\t1\t2\t2\t330\t260\t80\t40\t93.0\tlập\n",
        "5\t1\t2\t1\t1\t1\t200\t400\t80\t40\t-1\t \n",
        "5\t1\t2\t1\t1\t2\t300\t400\t200\t40\t88.0\tThẩm\n",
    ]
)


def test_words_lines_and_nfc() -> None:
    page = parse_tsv(RECORDED, 1654, 2339)
    assert page.text == "CỘNG HÒA\nĐộc lập\nThẩm"
    assert unicodedata.is_normalized("NFC", page.text)
    assert [w.line for w in page.words] == [0, 0, 1, 1, 2]
    assert page.words[0].left == 200 and page.words[0].width == 150
    assert page.words[-1].block == 2
    assert 88 < page.confidence < 97


def test_empty_output() -> None:
    assert parse_tsv("", 10, 10).text == ""
    assert parse_tsv(HEADER, 10, 10).words == ()
