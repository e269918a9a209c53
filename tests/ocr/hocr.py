"""hOCR written the way Tesseract 5.3 writes it with ``-c lstm_choice_mode=2``, for tests that fake the engine.

A word is (text, (left, top, right, bottom), confidence) or, with the LSTM's
choices, (text, box, confidence, alternatives): one string per character of
the word, the characters Tesseract weighed after its reading (printed at
confidence 0, as Tesseract prints its runners-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

HWord = tuple[str, tuple[int, int, int, int], float] | tuple[str, tuple[int, int, int, int], float, Sequence[str]]


def hocr_page(lines: Sequence[Sequence[HWord]]) -> str:
    out = ["<?xml version='1.0' encoding='UTF-8'?>\n<html><body>\n", "  <div class='ocr_page' id='page_1'>\n"]
    w = c = 0
    for li, line in enumerate(lines, start=1):
        out.append(f"   <div class='ocr_carea' id='block_1_{li}' title=\"bbox 0 0 1 1\">\n")
        out.append(f"    <p class='ocr_par' id='par_1_{li}' lang='vie' title=\"bbox 0 0 1 1\">\n")
        out.append(f"     <span class='ocr_line' id='line_1_{li}' title=\"bbox 0 0 1 1; baseline 0 0\">\n")
        for word in line:
            text, (left, top, right, bottom), conf = word[0], word[1], word[2]
            alts = word[3] if len(word) == 4 else [""] * len(text)  # type: ignore[misc]
            w += 1
            out.append(
                f"      <span class='ocrx_word' id='word_1_{w}' title='bbox {left} {top} {right} {bottom}; "
                f"x_wconf {conf:.0f}'>{escape(text, quote=False)}\n"
            )
            steps = [(" ", "")] + list(zip(text, alts, strict=True))
            for si, (ch, others) in enumerate(steps, start=1):
                out.append(f"       <span class='ocrx_cinfo' id='lstm_choices_1_{w}_{si}'>\n")
                c += 1
                out.append(f"        <span class='ocrx_cinfo' id='choice_1_{w}_{c}' title='x_confs {conf}'>{ch}</span>")
                for alt in others:
                    c += 1
                    out.append(
                        f"\n        <span class='ocrx_cinfo' id='choice_1_{w}_{c}' title='x_confs 0'>{alt}</span>"
                    )
                out.append("</span>\n")
            out.append("      </span>\n")
        out.append("     </span>\n    </p>\n   </div>\n")
    out.append("  </div>\n</body></html>\n")
    return "".join(out)
