"""Grouping a batch into documents: receipts, separators, files, blank backsides."""

from __future__ import annotations

from scanner.capture.group import GroupRules, PageMarks, group_pages, is_blank

RECEIPT = '{"maHoSo": "000.00.53.H48-220921-0099", "maTTHC": "2.000815"}'
SEP = "PHAN-CACH-VAN-BAN"


def marks(*pages: tuple[str, ...] | str, files: list[int] | None = None) -> list[PageMarks]:
    out = []
    for i, p in enumerate(pages):
        codes = (p,) if isinstance(p, str) and p else (() if isinstance(p, str) else p)
        out.append(PageMarks(codes=codes, file_index=files[i] if files else 0, source=f"scan.tif#{i + 1}"))
    return out


def test_receipt_three_pages_separator_two_pages_in_one_file() -> None:
    g = group_pages(marks(RECEIPT, "", "", "", SEP, "", ""))
    assert g.receipt is not None and g.receipt.dossier_code == "000.00.53.H48-220921-0099"
    assert g.receipt.procedure_code == "2.000815"
    assert g.documents == ((0,), (1, 2, 3), (5, 6))
    assert [(d.source, d.reason_code) for d in g.dropped] == [("scan.tif#5", "separator")]


def test_receipt_can_be_dropped_but_is_listed() -> None:
    g = group_pages(marks(RECEIPT, "", ""), GroupRules(keep_receipt=False))
    assert g.documents == ((1, 2),)
    assert g.dropped[0].reason_code == "receipt"


def test_without_separators_each_file_is_a_document() -> None:
    g = group_pages(marks("", "", "", "", files=[0, 0, 1, 2]))
    assert g.documents == ((0, 1), (2,), (3,))


def test_with_separators_files_do_not_split_documents() -> None:
    g = group_pages(marks("", "", SEP, "", files=[0, 1, 2, 3]))
    assert g.documents == ((0, 1), (3,))


def test_a_page_with_other_codes_is_kept() -> None:
    g = group_pages(marks(("PHAN-CACH",), ("https://example.vn/x=1",), ""))
    assert g.documents == ((0, 1, 2),)
    assert g.dropped == ()


def test_blank_needs_low_ink_and_no_characters() -> None:
    assert is_blank(0.0001, "")
    assert is_blank(0.0001, " \n . ")
    assert not is_blank(0.0001, "Trang 2")  # a short line on a nearly empty page is content
    assert not is_blank(0.05, "")
