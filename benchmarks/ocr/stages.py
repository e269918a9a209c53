"""CPU of `scanner ocr`'s stages on the plain and phone test pages: ``python -m benchmarks.ocr.stages``.

Per page: cleaning, Tesseract with the alternatives the mark correction reads
and without them, the hOCR parse with and without the correction; phone pages
(read at 2×) also cleaned and read at 1×. Tesseract's CPU is its process's
(``RUSAGE_CHILDREN``), the rest this process's. It says where the OCR's cost
over bare Tesseract goes; it is not the must-show's figure (``benchmarks.ocr``).
"""

from __future__ import annotations

import argparse
import resource
import statistics
from pathlib import Path

from PIL import Image

from benchmarks.ocr.corpus import write_corpus
from benchmarks.ocr.run import REPO
from scanner.clean import CleanOptions, clean_page
from scanner.model import PageImage
from scanner.ocr import marks, parse_hocr
from scanner.tools import tesseract


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _tesseract(image: Path, dpi: int, alternatives: bool) -> tuple[float, str]:
    args = ["-l", "vie", "--dpi", str(dpi), "--psm", "3"]
    if alternatives:
        args += ["-c", "lstm_choice_mode=2", "-c", "lstm_choice_iterations=2"]
    before = _cpu(resource.RUSAGE_CHILDREN)
    data = tesseract._run([*args, "hocr"], image, 300)
    return _cpu(resource.RUSAGE_CHILDREN) - before, data


def stages(case_image: Path, dpi: int, work: Path) -> dict[str, float]:
    with Image.open(case_image) as im:
        page = PageImage(path=case_image, width=im.width, height=im.height, dpi=dpi, source=case_image.name)
    row: dict[str, float] = {}
    t = _cpu(resource.RUSAGE_SELF)
    cleaned = clean_page(page, work)
    row["clean"] = _cpu(resource.RUSAGE_SELF) - t
    with Image.open(cleaned.ocr_image) as im:
        scale = cleaned.image.width / im.width
    ocr_dpi = round(cleaned.image.dpi / scale)
    row["tesseract"], data = _tesseract(cleaned.ocr_image, ocr_dpi, True)
    row["tesseract_bare"], _ = _tesseract(cleaned.ocr_image, ocr_dpi, False)
    for key, correct in (("parse", False), ("parse_correct", True)):
        t = _cpu(resource.RUSAGE_SELF)
        parse_hocr(data, cleaned.image.width, cleaned.image.height, scale=scale, correct=correct)
        row[key] = _cpu(resource.RUSAGE_SELF) - t
    if scale != 1.0:  # read enlarged: the same page without
        t = _cpu(resource.RUSAGE_SELF)
        at_1x = clean_page(page, work / "1x", CleanOptions(upscale=False))
        row["clean_1x"] = _cpu(resource.RUSAGE_SELF) - t
        row["tesseract_1x"], _ = _tesseract(at_1x.ocr_image, at_1x.image.dpi, True)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "stages")
    p.add_argument("--plain", type=int, default=4, help="how many plain pages (all phone pages are taken)")
    args = p.parse_args()
    t = _cpu(resource.RUSAGE_SELF)
    marks.model()
    print(f"syllable table: {_cpu(resource.RUSAGE_SELF) - t:.3f} s once per process")
    cases = write_corpus(args.out / "corpus")
    chosen = [c for c in cases if c.kind == "phone"] + [c for c in cases if c.kind == "plain"][: args.plain]
    rows: dict[str, list[dict[str, float]]] = {}
    for case in chosen:
        row = stages(args.out / "corpus" / case.image, case.dpi, args.out / "work")
        rows.setdefault(case.kind, []).append(row)
        print(case.name, {k: round(v, 2) for k, v in row.items()}, flush=True)
    for kind, rs in rows.items():
        keys = list(dict.fromkeys(k for r in rs for k in r))
        print(kind, {k: round(statistics.fmean(r[k] for r in rs if k in r), 3) for k in keys})


if __name__ == "__main__":
    main()
