"""The standalone OCR tool: scans in, one searchable PDF/A out; nothing coded, signed or archived.

It uses the stages directly, not the pipeline: the pipeline's signing and
archive imports cost about a second of CPU per run, as much as cleaning a
page, and this tool signs and archives nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scanner.capture.load import load_pages
from scanner.clean import CleanOptions, clean_page
from scanner.errors import InputError
from scanner.files import sha256_file
from scanner.model import CleanedPage, OcrPage, PageImage, PdfMetadata, PdfPage, SourceFile
from scanner.ocr import OcrOptions, ocr_page
from scanner.pdf import build_pdfa
from scanner.tools import require_programs


@dataclass(frozen=True)
class OcrDone:
    output: Path
    pages: int
    sidecar: Path | None


def ocr_files(
    inputs: Sequence[Path],
    output: Path,
    *,
    pdfa: str = "2b",
    languages: tuple[str, ...] = ("vie",),
    jobs: int = 0,
    sidecar: Path | None = None,
) -> OcrDone:
    require_programs(languages_needed=(*languages, "osd"))
    processes = jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="scanner-ocr-") as tmp:
        work = Path(tmp)
        pages: list[PageImage] = []
        for i, path in enumerate(inputs):
            if not path.is_file():
                raise InputError(str(path), "không tìm thấy tệp", "file not found", code="missing")
            digest = sha256_file(path)
            src = SourceFile(path=path, original_name=path.name, sha256=f"{i:04d}{digest}", size=path.stat().st_size)
            pages.extend(load_pages(src, work / "pages"))
        clean, ocr = CleanOptions(), OcrOptions(languages=languages)
        n = len(pages)
        if processes > 1 and n > 1:
            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(max_workers=min(processes, n), mp_context=context) as pool:
                results = list(pool.map(_page, pages, [work / "clean"] * n, [clean] * n, [ocr] * n))
        else:
            results = [_page(p, work / "clean", clean, ocr) for p in pages]
        meta = PdfMetadata(title=output.stem, creator="scanner")
        output.parent.mkdir(parents=True, exist_ok=True)
        build_pdfa([PdfPage(image=c.image, ocr=o) for c, o in results], output, flavour=pdfa, metadata=meta)
        if sidecar is not None:
            sidecar.parent.mkdir(parents=True, exist_ok=True)
            sidecar.write_text("\n\f\n".join(o.text for _, o in results) + "\n", encoding="utf-8")
    return OcrDone(output, len(results), sidecar)


def _page(page: PageImage, clean_dir: Path, clean: CleanOptions, ocr: OcrOptions) -> tuple[CleanedPage, OcrPage]:
    cleaned = clean_page(page, clean_dir, clean)
    return cleaned, ocr_page(
        cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=cleaned.image.dpi, options=ocr
    )
