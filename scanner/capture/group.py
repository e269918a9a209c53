"""Grouping a batch of scanned pages into the dossier's documents.

The counter's way of working decides the boundaries:

- a page with a receipt's QR code starts the dossier and gives its code; the
  receipt stays as the dossier's first document unless configured otherwise;
- a separator sheet (a page whose barcode holds the configured text) ends a
  document; it is dropped only when its code was actually read, so a page
  that merely looks like a separator is never thrown away;
- when the batch has no separator sheet, each file is one document;
- a page whose ink measure is under the threshold is only a *candidate*
  blank backside: it is dropped later, after OCR confirms it holds no
  characters (capture servers check before they drop; OCRmyPDF refuses
  blank-page removal because a misfire deletes content).

Every dropped page is listed with its reason in the dossier's record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scanner.capture.barcodes import Receipt, parse_receipt


@dataclass(frozen=True)
class GroupRules:
    separator_text: str = "PHAN-CACH-VAN-BAN"
    keep_receipt: bool = True
    blank_ink: float = 0.002


@dataclass(frozen=True)
class PageMarks:
    """What capture reads on a page before OCR: its barcodes and the file it came from."""

    codes: tuple[str, ...]
    file_index: int
    source: str


@dataclass(frozen=True)
class DroppedPage:
    source: str
    reason_code: str  # "separator", "blank", "receipt"
    reason_vi: str


@dataclass(frozen=True)
class Grouping:
    receipt: Receipt | None
    documents: tuple[tuple[int, ...], ...]  # page indices of each document, in order
    dropped: tuple[DroppedPage, ...]
    warnings: tuple[str, ...]


def group_pages(marks: Sequence[PageMarks], rules: GroupRules = GroupRules()) -> Grouping:
    """Decide documents, the receipt and dropped pages for one batch of pages, in scan order."""
    receipt: Receipt | None = None
    warnings: list[str] = []
    dropped: list[DroppedPage] = []
    separators = {i for i, m in enumerate(marks) if rules.separator_text and rules.separator_text in m.codes}
    by_separator = bool(separators)

    documents: list[list[int]] = []
    current: list[int] = []
    previous_file = None

    def close() -> None:
        nonlocal current
        if current:
            documents.append(current)
        current = []

    for i, m in enumerate(marks):
        if i in separators:
            close()
            dropped.append(DroppedPage(m.source, "separator", "trang phân cách văn bản"))
            continue
        found = [r for r in (parse_receipt(c) for c in m.codes) if r is not None]
        if found and receipt is None:
            receipt = found[0]
            close()
            if rules.keep_receipt:
                documents.append([i])
            else:
                dropped.append(DroppedPage(m.source, "receipt", f"giấy tiếp nhận hồ sơ {receipt.dossier_code}"))
            previous_file = m.file_index
            continue
        if found and receipt is not None and found[0].dossier_code != receipt.dossier_code:
            warnings.append(
                f"{m.source}: trang có mã QR của hồ sơ khác ({found[0].dossier_code}); vẫn xếp vào hồ sơ này"
            )
        elif m.codes and not found and i not in separators:
            unread = [c for c in m.codes if len(c) > 6]
            if unread and any(("=" in c or "{" in c or "-" in c) for c in unread):
                warnings.append(f"{m.source}: mã QR không đọc được nội dung hồ sơ: {unread[0][:60]}")
        if not by_separator and previous_file is not None and m.file_index != previous_file:
            close()
        current.append(i)
        previous_file = m.file_index
    close()
    return Grouping(
        receipt=receipt,
        documents=tuple(tuple(d) for d in documents),
        dropped=tuple(dropped),
        warnings=tuple(warnings),
    )


def is_blank(ink: float, text: str, rules: GroupRules = GroupRules()) -> bool:
    """A blank backside: almost no ink *and* the recognizer found no letter or digit on it."""
    return ink < rules.blank_ink and not any(ch.isalnum() for ch in text)
