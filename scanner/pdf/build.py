"""Pages in, one validated PDF/A file out.

The builder embeds the page images (``images``), sizes each page from its
scanning resolution, draws the OCR words over it in an invisible font
(``textlayer``, ``font``), writes the metadata (``xmp``), lets
``pikepdf.pdfa.prepare`` add the sRGB output intent and the PDF/A
identification, then writes a temporary file next to ``out``, validates
the written bytes with pikepdf's PDF/A validator and renames it into place.
A file at ``out`` is therefore always complete and valid: the pipeline
skips a document whose PDF exists when it resumes after a crash.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pikepdf
import pikepdf.pdfa
from pikepdf import Array, Dictionary, Name

from scanner.errors import PdfError
from scanner.files import sha256_file
from scanner.model import BuiltPdf, PageImage, PdfMetadata, PdfPage, Word
from scanner.pdf import compact, xmp
from scanner.pdf.font import add_glyphless_font
from scanner.pdf.images import embed_images
from scanner.pdf.textlayer import text_content

FLAVOURS = ("2b", "1b")
# How page images are kept: "compact" (bilevel G4, mixed raster content; ``compact``) or
# "lossless" (the cleaned page image itself, a JPEG byte for byte; ``images``).
STORAGES = ("compact", "lossless")
# ISO 32000-1 Annex C: a page is 3 to 14 400 units on a side (PDF/A keeps the limit).
MIN_PAGE_PT, MAX_PAGE_PT = 3.0, 14400.0
_FONT = "/F1"
_IMAGE = "/Im0"  # the name img2pdf gives the page's image
# Every image XObject a page may carry, in the order they are painted (each covers the whole page).
_LAYERS = (_IMAGE, "/Bg", "/Fp", "/Fg", "/Fr", "/Fc")
# The highest ICC profile version each PDF/A part accepts (PDF 1.4 knows ICC v2 only).
_MAX_ICC_MAJOR = {"1b": 2, "2b": 4}


def build_pdfa(
    pages: Sequence[PdfPage],
    out: Path,
    *,
    flavour: str = "2b",
    metadata: PdfMetadata,
    storage: str = "lossless",
) -> BuiltPdf:
    """Write PAGES as a searchable PDF/A-FLAVOUR file at OUT, validated before it appears there.

    Each page is its image at the size its dpi gives (pixels * 72 / dpi
    points) with the OCR words as invisible text. STORAGE "lossless" embeds
    the page image as it is; "compact" codes it anew (``compact``), unless
    that would be larger than the image as it is. Raises PdfError, in
    Vietnamese, when an image cannot be read or embedded, or when the
    written file does not pass PDF/A validation; OUT is then left as it was.
    """
    if flavour not in FLAVOURS:
        raise PdfError(
            f"chuẩn PDF/A không được hỗ trợ: {flavour!r} (chỉ 2b hoặc 1b)",
            f"unsupported PDF/A flavour {flavour!r} (2b or 1b)",
        )
    if storage not in STORAGES:
        raise PdfError(
            f"cách lưu ảnh trang không được hỗ trợ: {storage!r} (compact hoặc lossless)",
            f"unsupported image storage {storage!r} (compact or lossless)",
        )
    if not pages:
        raise PdfError("không có trang nào để tạo PDF", "no pages to build a PDF from")
    now = datetime.now().astimezone()
    with ExitStack() as keep:
        pdf = keep.enter_context(_embedded([page.image for page in pages], storage, keep))
        font = add_glyphless_font(pdf)
        for page, pdf_page in zip(pages, pdf.pages, strict=True):
            _lay_out(pdf, pdf_page, page, font, flavour)
        xmp.describe(pdf, metadata, now=now)
        pikepdf.pdfa.prepare(pdf, flavour)
        xmp.add_scanner_properties(pdf, metadata.properties)
        _save_validated(pdf, out, flavour)
    return BuiltPdf(path=out, pages=len(pages), flavour=flavour, sha256=sha256_file(out))


def _embedded(images: Sequence[PageImage], storage: str, keep: ExitStack) -> pikepdf.Pdf:
    """A PDF with one page per image, each carrying its image XObjects (geometry still to be set).

    In compact storage a page whose compact coding comes out larger than
    the page image as it is (a small, already well-compressed JPEG) takes
    the image as it is: a bitonal scan never grows. Such pages are copied
    from img2pdf's document, which KEEP holds open until the file is written
    (a copied page's image data is read from it then).
    """
    if storage == "lossless":
        return embed_images(images)
    pdf = pikepdf.new()
    for image in images:
        made = compact.coded(image, keep)  # coded in the page pool while the dossier was open
        layers = None if made else compact.encode(pdf, image)
        size = made[1] if made else layers.size if layers else 0
        if size >= image.path.stat().st_size:
            single = keep.enter_context(embed_images([image]))
            pdf.pages.append(single.pages[0])
        elif made:
            pdf.pages.append(made[0])
        elif layers:
            page = pdf.add_blank_page()
            page.Resources = Dictionary(XObject=Dictionary(dict(layers.xobjects)))
    return pdf


def _page_size(page: PdfPage) -> tuple[float, float]:
    """The page size in points: the paper's size, since the image is kept at its scanning resolution."""
    image = page.image
    if not image.dpi > 0:
        raise PdfError(f"{image.source}: độ phân giải không hợp lệ ({image.dpi})", f"{image.source}: bad dpi")
    width, height = image.width * 72.0 / image.dpi, image.height * 72.0 / image.dpi
    if not (MIN_PAGE_PT <= width <= MAX_PAGE_PT and MIN_PAGE_PT <= height <= MAX_PAGE_PT):
        raise PdfError(
            f"{image.source}: khổ trang {width:.0f}x{height:.0f} pt nằm ngoài giới hạn của PDF (độ phân giải sai?)",
            f"{image.source}: page size {width:.0f}x{height:.0f} pt is outside PDF limits (wrong dpi?)",
        )
    return width, height


def _words_on_image(page: PdfPage) -> Sequence[Word]:
    """The OCR words in pixels of the page image.

    The recognizer works on an image with the same pixel grid (CleanedPage),
    so this is normally a no-op; if the OCR page reports another size, the
    boxes are scaled rather than drawn off the words.
    """
    ocr, image = page.ocr, page.image
    if not ocr.words or (ocr.width, ocr.height) in ((image.width, image.height), (0, 0)):
        return ocr.words
    sx, sy = image.width / ocr.width, image.height / ocr.height
    return [
        replace(
            w, left=round(w.left * sx), top=round(w.top * sy), width=round(w.width * sx), height=round(w.height * sy)
        )
        for w in ocr.words
    ]


def _lay_out(pdf: pikepdf.Pdf, pdf_page: pikepdf.Page, page: PdfPage, font: pikepdf.Object, flavour: str) -> None:
    """Size PDF_PAGE from the dpi, draw its image over the whole page and the text layer on top."""
    width, height = _page_size(page)
    xobjects = pdf_page.Resources.XObject
    layers = [name for name in _LAYERS if name in xobjects]
    for name in layers:
        _usable_colour_space(xobjects[name], flavour)
    pdf_page.MediaBox = Array([0, 0, width, height])
    for box in ("/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/UserUnit", "/Rotate"):
        if box in pdf_page.obj:
            del pdf_page.obj[box]
    pt_per_px = 72.0 / page.image.dpi
    text = text_content(_words_on_image(page), page_height_px=page.image.height, pt_per_px=pt_per_px, font=_FONT)
    paint = " ".join(f"{name} Do" for name in layers)
    draw = f"q {width:.4f} 0 0 {height:.4f} 0 0 cm {paint} Q\n".encode("ascii")
    pdf_page.Contents = pdf.make_stream(draw + text)
    pdf_page.Resources.Font = Dictionary({_FONT: font})


def _usable_colour_space(image: pikepdf.Object, flavour: str) -> None:
    """Fall back to the device colour space when the image's ICC profile is too new for FLAVOUR.

    A phone photo may carry an ICC v4 profile (Display P3...), which PDF/A-1
    does not allow; the pixels are then read as plain RGB (or grey), which
    the sRGB output intent gives a meaning. The image data is not touched.
    """
    colour_space = image.get("/ColorSpace")
    if not (isinstance(colour_space, Array) and len(colour_space) == 2 and colour_space[0] == Name.ICCBased):
        return
    profile = colour_space[1]
    header = profile.read_bytes()[:20]
    if len(header) == 20 and header[8] <= _MAX_ICC_MAJOR[flavour]:
        return
    image.ColorSpace = Name.DeviceGray if int(profile.get("/N", 3)) == 1 else Name.DeviceRGB


def _save_validated(pdf: pikepdf.Pdf, out: Path, flavour: str) -> None:
    """Write PDF to a temporary file next to OUT, validate the written bytes, then rename it onto OUT."""
    options: dict[str, Any] = {"min_version": "1.7"} if flavour == "2b" else {}
    kwargs = pikepdf.pdfa.resolve_save_kwargs(flavour, **options)
    # Not tempfile.mkstemp: its 0600 mode would stay on the final file.
    tmp = out.with_name(f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as stream:
            pdf.save(stream, **kwargs)
            stream.flush()
            os.fsync(stream.fileno())  # the rename must never expose a file the disk does not hold yet
        problems = pdfa_problems(tmp, flavour, save_kwargs=kwargs)
        if problems:
            details = "; ".join(problems[:5])
            raise PdfError(
                f"tệp PDF/A-{flavour} tạo ra không đạt kiểm tra ({len(problems)} lỗi)",
                f"the PDF/A-{flavour} file failed validation ({len(problems)} findings): {details}",
            )
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PdfError(f"không ghi được tệp {out.name}: {exc.strerror}", f"cannot write {out}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def pdfa_problems(path: Path, flavour: str, *, save_kwargs: dict[str, Any] | None = None) -> list[str]:
    """What pikepdf's PDF/A validator holds against the file at PATH, its one known false alarm left out.

    pikepdf's validator is an allowlist of the predefined XMP schemas and
    does not read extension schemas, so it denies the ``scanner`` namespace
    of the project's own properties (see ``xmp``). Those denials are left
    out when, and only when, the file's extension schema describes every
    scanner property it carries; everything else is reported. Later stages
    (signing, archiving) can use this to check that a file is still PDF/A.
    """
    with pikepdf.open(path) as pdf:
        properties = xmp.read_scanner_properties(pdf)
        undescribed = sorted(properties.keys() - xmp.described_properties(pdf))
    report = pikepdf.pdfa.validate_written(path, flavour, save_kwargs)
    problems = [str(f) for f in report.findings if undescribed or not xmp.waived(f, properties)]
    problems.extend(f"XMP property {xmp.PREFIX}:{name} has no extension schema entry" for name in undescribed)
    return problems
