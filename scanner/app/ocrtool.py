"""The standalone OCR tool: scans in, one searchable PDF/A out; nothing coded, signed or archived.

It uses the stages directly, not the pipeline: the pipeline's signing and
archive imports cost about a second of CPU per run, as much as cleaning a
page, and this tool signs and archives nothing.

Rasterizing a PDF throws away what it already carries. As with OCRmyPDF, a
PDF that has a text layer or a digital signature is refused unless the
caller says what to do with it: ``SKIP_TEXT`` leaves such files out (whole
files: their pages are not copied into the output), ``FORCE`` rasterizes and
reads them anyway (a signature does not survive, and the caller is told).
``REDO`` is accepted as the same as ``FORCE``: a true redo, which would keep
the vector content and replace only the hidden OCR text, is not done here.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from scanner.capture.load import load_pages, pdf_signatures, sniff
from scanner.clean import CleanOptions, clean_page, clean_page_pixels
from scanner.errors import InputError, InputReason, ScannerError
from scanner.files import sha256_file
from scanner.model import CleanedPage, OcrPage, PageImage, PdfMetadata, PdfPage, SourceFile
from scanner.ocr import OcrOptions, ocr_pages
from scanner.pdf import build_pdfa, compact
from scanner.tools import poppler, require_programs


class PriorWork(StrEnum):
    """What to do with a PDF that already has a text layer or a signature."""

    REFUSE = "refuse"
    SKIP_TEXT = "skip-text"  # leave such files out, saying so
    FORCE = "force-ocr"  # rasterize and read them anyway
    REDO = "redo-ocr"  # accepted as FORCE (see the module docstring)


@dataclass(frozen=True)
class OcrDone:
    output: Path
    pages: int
    sidecar: Path | None
    notices: tuple[str, ...] = ()  # files left out or signatures lost, in Vietnamese, for the caller to show


@dataclass(frozen=True)
class _Prior:
    signed: bool
    has_text: bool


def _prior_work(path: Path) -> _Prior:
    """Whether the file is a PDF that already carries a signature or text a reader can copy."""
    with path.open("rb") as f:
        if sniff(f.read(1024)) != "pdf":
            return _Prior(signed=False, has_text=False)
    try:
        has_text = bool(poppler.pdftotext(path).strip())
    except ScannerError:
        has_text = False  # a PDF poppler cannot read: the load says why
    return _Prior(signed=pdf_signatures(path) > 0, has_text=has_text)


def _decide(path: Path, prior: _Prior, mode: PriorWork) -> tuple[bool, str | None]:
    """(read the file?, a notice for the caller); raises InputError when the caller must choose."""
    name = path.name
    if not (prior.signed or prior.has_text):
        return True, None
    if mode in (PriorWork.FORCE, PriorWork.REDO):
        if prior.signed:
            return True, f"{name}: PDF đã được ký số — bản mới sẽ không còn chữ ký này"
        return True, None
    if prior.signed:
        why_vi = "PDF đã được ký số — làm lại sẽ làm mất chữ ký"
        why_en = "the PDF is digitally signed; redoing it would lose the signature"
        code = InputReason.SIGNED_PDF
    else:
        why_vi, why_en, code = "PDF đã có lớp chữ", "the PDF already has a text layer", InputReason.HAS_TEXT
    if mode is PriorWork.SKIP_TEXT:
        return False, f"{name}: bỏ qua, {why_vi}"
    raise InputError(
        name,
        f"{why_vi}; dùng --skip-text để bỏ qua tệp này hoặc --force-ocr để vẫn nhận dạng lại",
        f"{why_en}; use --skip-text to leave it out or --force-ocr to OCR it anyway",
        code=code,
    )


def ocr_files(
    inputs: Sequence[Path],
    output: Path,
    *,
    pdfa: str = "2b",
    image_storage: str = "compact",
    languages: tuple[str, ...] = ("vie",),
    jobs: int = 0,
    sidecar: Path | None = None,
    prior: PriorWork = PriorWork.REFUSE,
) -> OcrDone:
    """INPUTS read into one searchable PDF/A at OUTPUT; PRIOR says what to do with PDFs that have text or a signature.

    Every input is checked before any page is read, so a refusal costs nothing.
    """
    require_programs(languages_needed=(*languages, "osd"))
    for path in inputs:
        if not path.is_file():
            raise InputError(str(path), "không tìm thấy tệp", "file not found", code="missing")
    notices: list[str] = []
    taken: list[tuple[int, Path]] = []
    for i, path in enumerate(inputs):
        read, notice = _decide(path, _prior_work(path), prior)
        if notice:
            notices.append(notice)
        if read:
            taken.append((i, path))
    if not taken:
        left_out = "; ".join(notices)
        raise InputError(
            output.name,
            f"không tạo được, không còn tệp nào để nhận dạng ({left_out})",
            "not made: nothing left to OCR, every file already has text or a signature",
            code=InputReason.NO_PAGES,
        )
    processes = jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="scanner-ocr-") as tmp:
        work = Path(tmp)
        pages: list[PageImage] = []
        for i, path in taken:
            digest = sha256_file(path)
            src = SourceFile(path=path, original_name=path.name, sha256=f"{i:04d}{digest}", size=path.stat().st_size)
            pages.extend(load_pages(src, work / "pages"))
        clean, ocr = CleanOptions(), OcrOptions(languages=languages)
        n = len(pages)
        size = max(1, min(_BATCH, -(-n // processes)))
        batches = [pages[i : i + size] for i in range(0, n, size)]
        results: list[tuple[CleanedPage, OcrPage]] = []
        code = image_storage == "compact"
        if processes > 1 and len(batches) > 1:
            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(max_workers=min(processes, len(batches)), mp_context=context) as pool:
                m = len(batches)
                for done in pool.map(_pages, batches, [work / "clean"] * m, [clean] * m, [ocr] * m, [code] * m):
                    results.extend(done)
        else:
            for batch in batches:
                results.extend(_pages(batch, work / "clean", clean, ocr, code))
        meta = PdfMetadata(title=output.stem, creator="scanner")
        output.parent.mkdir(parents=True, exist_ok=True)
        build_pdfa(
            [PdfPage(image=c.image, ocr=o) for c, o in results],
            output,
            flavour=pdfa,
            metadata=meta,
            storage=image_storage,
        )
        if sidecar is not None:
            sidecar.parent.mkdir(parents=True, exist_ok=True)
            sidecar.write_text("\n\f\n".join(o.text for _, o in results) + "\n", encoding="utf-8")
    return OcrDone(output, len(results), sidecar, tuple(notices))


# Pages per Tesseract run: its start-up (0.1 s) is paid once per batch, and the batches still keep
# every process of the pool busy to the end.
_BATCH = 16


def _pages(
    pages: Sequence[PageImage], clean_dir: Path, clean: CleanOptions, ocr: OcrOptions, code: bool
) -> list[tuple[CleanedPage, OcrPage]]:
    """PAGES cleaned and read; with CODE, each also given its compact coding (``compact.code_ahead``).

    The coding is made right after the cleaning, from the pixels the cleaning
    holds (a JPEG decoded again costs 35 ms a page), and in this process, so
    a pool codes pages side by side; the build finds them made.
    """
    cleaned = []
    for page in pages:
        if code:
            c, pixels = clean_page_pixels(page, clean_dir, clean)
            compact.code_ahead(c.image, pixels)
            del pixels
        else:
            c = clean_page(page, clean_dir, clean)
        cleaned.append(c)
    read = ocr_pages([(c.ocr_image, c.image.width, c.image.height, c.image.dpi) for c in cleaned], ocr)
    return list(zip(cleaned, read, strict=True))
