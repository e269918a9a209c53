"""Character and word error rates, the way OCR is usually scored.

Both texts are put in NFC and every run of whitespace (line breaks, the
form feed pdftotext ends a page with) becomes one space, so layout does
not count, but the order of the words does: a header read row by row
instead of block by block costs characters, as it costs a reader.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

from scanner.ocr.marks import base


def normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def edit_distance(a: Sequence[object], b: Sequence[object]) -> int:
    """Levenshtein distance, bit-parallel over A (Hyyrö's form of Myers' algorithm, Python ints as bit vectors)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    peq: dict[object, int] = {}
    for i, sym in enumerate(a):
        peq[sym] = peq.get(sym, 0) | (1 << i)
    m = len(a)
    mask = (1 << m) - 1
    last = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for sym in b:
        eq = peq.get(sym, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
    return score


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate, 0-1 (above 1 when the hypothesis is mostly invented)."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    return edit_distance(ref, hyp) / max(1, len(ref))


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    return edit_distance(ref, hyp) / max(1, len(ref))


def mark_errors(reference: str, hypothesis: str) -> int:
    """Substituted characters whose letters agree once marks are removed ("ố" read for "ổ", "d" for "đ").

    Counted on the character alignment of the two texts (whitespace folded):
    inside every replaced stretch of equal length, the positions where the
    characters differ but their base letters, lower-cased, are the same.
    """
    ref, hyp = normalize(reference), normalize(hypothesis)
    count = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ref, hyp, autojunk=False).get_opcodes():
        if op != "replace" or i2 - i1 != j2 - j1:
            continue
        for a, b in zip(ref[i1:i2], hyp[j1:j2], strict=True):
            if a != b and base(a).lower() == base(b).lower():
                count += 1
    return count
