"""Splitting a taken file into page images.

The file's type is decided by its first bytes, never by its name: scanners
and clerks rename files freely. Every page comes out as a file in the job's
work folder: a JPEG page is kept byte for byte (its DCT data goes into the PDF
unchanged), anything else becomes a lossless PNG. Broken input raises
:class:`InputError` naming the file and the reason, so the caller can
quarantine it and go on.
"""

from __future__ import annotations

import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import PdfImage
from PIL import Image, ImageSequence, UnidentifiedImageError

from scanner.errors import InputError
from scanner.model import PageImage, SourceFile
from scanner.tools import poppler

DEFAULT_DPI = 200.0  # what a counter scanner writes when the file carries no resolution
PDF_RENDER_DPI = 300


@dataclass(frozen=True)
class LoadLimits:
    """Bounds that keep one bad file from taking the workstation down."""

    max_megapixels: float = 200.0
    max_pages: int = 500
    max_bytes: int = 500 * 1024 * 1024


_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def check_arrival(path: Path, limits: LoadLimits = LoadLimits()) -> None:
    """Refuse, before anything is read, what must not be taken as it is.

    Symlinks are never followed (a link in an inbox can point anywhere on the
    machine); names with control characters or path separators cannot be
    stored or shown safely; empty and oversized files are refused by size.
    """
    name = path.name
    if _BAD_NAME.search(name):
        shown = _BAD_NAME.sub("?", name)
        raise InputError(
            shown, "tên tệp chứa ký tự điều khiển hoặc dấu phân cách thư mục", "bad characters in name", code="bad-name"
        )
    if path.is_symlink():
        raise InputError(
            name, "là liên kết tượng trưng (symlink), không được theo", "is a symlink, not followed", code="symlink"
        )
    size = path.stat().st_size
    if size == 0:
        raise InputError(name, "tệp rỗng (0 byte)", "empty file", code="empty")
    if size > limits.max_bytes:
        raise InputError(
            name,
            f"tệp quá lớn ({size / 1048576:.0f} MB, giới hạn {limits.max_bytes / 1048576:.0f} MB)",
            f"file too large ({size} bytes)",
            code="too-large",
        )


def first_page(path: Path, limits: LoadLimits = LoadLimits()) -> Image.Image | None:
    """The first page as a grey image, cheaply, to look for a receipt's QR code before taking the file.

    None when the file cannot be read this way (the full load reports why).
    """
    try:
        with path.open("rb") as f:
            kind = sniff(f.read(1024))
        if kind in ("jpeg", "png", "tiff", "bmp"):
            with Image.open(path) as im:
                if im.width * im.height > limits.max_megapixels * 1_000_000:
                    return None
                grey = im.convert("L")
                grey.load()
                return grey
        if kind == "pdf":
            with pikepdf.open(path) as pdf:
                if not len(pdf.pages):
                    return None
                images = list(pdf.pages[0].get_images(recursive=False).values())
                if len(images) == 1:
                    pi = PdfImage(images[0])  # type: ignore[arg-type]
                    if pi.width * pi.height <= limits.max_megapixels * 1_000_000:
                        return pi.as_pil_image().convert("L")
    except Exception:  # a peek never fails the take: the full load quarantines broken files
        return None
    return None


def pdf_signatures(path: Path) -> int:
    """How many signature fields with a value the PDF carries (0 for other files)."""
    with path.open("rb") as f:
        if sniff(f.read(1024)) != "pdf":
            return 0
    try:
        with pikepdf.open(path) as pdf:
            acro = pdf.Root.get("/AcroForm")
            if acro is None:
                return 0
            count = 0
            stack = list(acro.get("/Fields", []))
            while stack:
                field = stack.pop()
                if field.get("/FT") == "/Sig" and "/V" in field:
                    count += 1
                stack.extend(field.get("/Kids", []))
            return count
    except pikepdf.PdfError:
        return 0


def sniff(head: bytes) -> str | None:
    """The file kind from its first bytes: jpeg, png, tiff, bmp, pdf, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"BM"):
        return "bmp"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


def load_pages(src: SourceFile, out_dir: Path, limits: LoadLimits = LoadLimits()) -> list[PageImage]:
    """Write SRC's pages into OUT_DIR as image files and describe them."""
    name = src.original_name
    if src.size == 0:
        raise InputError(name, "tệp rỗng (0 byte)", "empty file", code="empty")
    with src.path.open("rb") as f:
        kind = sniff(f.read(1024))
    if kind is None:
        raise InputError(
            name,
            "không phải ảnh quét (JPEG, PNG, TIFF, BMP) hay PDF",
            "not a scanned image (JPEG, PNG, TIFF, BMP) or PDF",
            code="unsupported-type",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{src.sha256[:12]}"
    if kind == "pdf":
        return _pdf_pages(src, out_dir, stem, limits)
    return _image_pages(src, kind, out_dir, stem, limits)


def _dpi_of(img: Image.Image) -> float:
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    # Some scanners write 1 or 72 dpi into files that are really 200-300 dpi scans.
    return value if value >= 100 else DEFAULT_DPI


def _check_size(name: str, width: int, height: int, limits: LoadLimits) -> None:
    if width * height > limits.max_megapixels * 1_000_000:
        raise InputError(
            name,
            f"ảnh quá lớn ({width}×{height} điểm ảnh, vượt {limits.max_megapixels:g} megapixel)",
            f"image too large ({width}x{height}, over {limits.max_megapixels:g} MP)",
            code="too-many-pixels",
        )


def _open_image(src: SourceFile) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(src.path)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        detail = _detail(exc, src)
        raise InputError(
            src.original_name, f"không đọc được ảnh: {detail}", f"unreadable image: {detail}", code="corrupt-image"
        ) from None


def _detail(exc: BaseException, src: SourceFile) -> str:
    """A library's message, with the work-area copy's path replaced by the name the clerk knows."""
    text = str(exc).replace(f"{src.path}: ", "")
    return text.replace(f"'{src.path}'", f"'{src.original_name}'").replace(str(src.path), src.original_name)


def _normalize_mode(img: Image.Image) -> Image.Image:
    """Modes the PDF builder takes: bitonal, grey or RGB, with no alpha (PDF/A-1 forbids transparency)."""
    if img.mode in ("1", "L", "RGB"):
        return img
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        return img.convert("L")
    return img.convert("RGB")


def _image_pages(src: SourceFile, kind: str, out_dir: Path, stem: str, limits: LoadLimits) -> list[PageImage]:
    name = src.original_name
    img = _open_image(src)
    pages: list[PageImage] = []
    Image.MAX_IMAGE_PIXELS = None  # our own limit below names the file; Pillow's would only warn
    try:
        for index, frame in enumerate(ImageSequence.Iterator(img)):
            if index >= limits.max_pages:
                raise InputError(
                    name, f"quá {limits.max_pages} trang", f"more than {limits.max_pages} pages", code="too-many-pages"
                )
            _check_size(name, frame.width, frame.height, limits)
            dpi = _dpi_of(frame)
            label = f"{name}#{index + 1}" if kind == "tiff" else name
            try:
                frame.load()
            except (OSError, SyntaxError, ValueError) as exc:
                raise InputError(
                    name,
                    f"ảnh bị hỏng hoặc không trọn vẹn ({exc})",
                    f"corrupt or truncated image ({exc})",
                    code="corrupt-image",
                ) from None
            if kind == "jpeg" and frame.mode in ("L", "RGB"):
                dest = out_dir / f"{stem}-{index + 1:03d}.jpg"
                shutil.copyfile(src.path, dest)
            else:
                dest = out_dir / f"{stem}-{index + 1:03d}.png"
                _normalize_mode(frame).save(dest, format="PNG", dpi=(dpi, dpi))
            pages.append(PageImage(path=dest, width=frame.width, height=frame.height, dpi=dpi, source=label))
    except EOFError:
        pass
    except OSError as exc:
        raise InputError(name, f"ảnh bị hỏng ({exc})", f"corrupt image ({exc})", code="corrupt-image") from None
    finally:
        img.close()
    if not pages:
        raise InputError(name, "tệp không có trang nào", "file has no pages", code="no-pages")
    return pages


def _pdf_pages(src: SourceFile, out_dir: Path, stem: str, limits: LoadLimits) -> list[PageImage]:
    name = src.original_name
    try:
        pdf = pikepdf.open(src.path)
    except pikepdf.PasswordError:
        raise InputError(name, "PDF được mã hóa bằng mật khẩu", "encrypted PDF", code="encrypted-pdf") from None
    except pikepdf.PdfError as exc:
        detail = _detail(exc, src)
        raise InputError(name, f"PDF bị hỏng ({detail})", f"corrupt PDF ({detail})", code="corrupt-pdf") from None
    pages: list[PageImage] = []
    with pdf:
        if pdf.is_encrypted:
            raise InputError(name, "PDF được mã hóa", "encrypted PDF", code="encrypted-pdf")
        active = _active_content(pdf)
        if active:
            raise InputError(
                name,
                f"PDF chứa mã thực thi ({active}), không được nhận",
                f"PDF carries active content ({active})",
                code="active-content",
            )
        if len(pdf.pages) > limits.max_pages:
            raise InputError(
                name, f"quá {limits.max_pages} trang", f"more than {limits.max_pages} pages", code="too-many-pages"
            )
        for index, page in enumerate(pdf.pages):
            label = f"{name}#{index + 1}"
            page_image = _single_page_image(page, out_dir / f"{stem}-{index + 1:03d}", label, limits)
            if page_image is None:
                png = out_dir / f"{stem}-{index + 1:03d}.png"
                poppler.render_page(src.path, index + 1, PDF_RENDER_DPI, png)
                with Image.open(png) as im:
                    page_image = PageImage(path=png, width=im.width, height=im.height, dpi=PDF_RENDER_DPI, source=label)
            pages.append(page_image)
    if not pages:
        raise InputError(name, "PDF không có trang nào", "PDF has no pages", code="no-pages")
    return pages


_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "lệnh mở chương trình (Launch)"}


def _active_content(pdf: pikepdf.Pdf) -> str | None:
    """What a PDF would run when opened (JavaScript, Launch actions), if anything.

    A scanner never writes these; a file that has them did not come from a
    scanner and is not opened further.
    """
    names = pdf.Root.get("/Names")
    if names is not None and "/JavaScript" in names:
        return "JavaScript"
    # actions are often direct objects (an /OpenAction inside the catalog), so
    # every object is walked into, not only the indirect ones
    stack: list[object] = list(pdf.objects)
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Dictionary):
            kind = obj.get("/S")
            if kind is not None and str(kind) in _ACTIONS:
                return _ACTIONS[str(kind)]
            if "/JS" in obj:
                return "JavaScript"
            stack.extend(v for k, v in obj.items() if k != "/Parent" and _direct_container(v))
        elif isinstance(obj, pikepdf.Array):
            stack.extend(v for v in obj if _direct_container(v))
    return None


def _direct_container(obj: object) -> bool:
    return isinstance(obj, pikepdf.Dictionary | pikepdf.Array) and not obj.is_indirect


def _single_page_image(page: pikepdf.Page, stem: Path, label: str, limits: LoadLimits) -> PageImage | None:
    """The page's scan, taken out of the PDF unchanged, when the page is one full-page image.

    A scanner's PDF is one image per page (plus, sometimes, the scanner's own
    OCR text, which we replace). Anything else — vector content, several
    images — is rasterized instead.
    """
    images = list(page.get_images(recursive=False).values())
    if len(images) != 1:
        return None
    try:
        pdfimage = PdfImage(images[0])  # type: ignore[arg-type]
        width_in = float(page.mediabox[2] - page.mediabox[0]) / 72.0
        if width_in <= 0:
            return None
        _check_size(label, pdfimage.width, pdfimage.height, limits)
        dpi = pdfimage.width / width_in
        if dpi < 100:
            return None
        if pdfimage.filters == ["/DCTDecode"] and pdfimage.colorspace in ("/DeviceRGB", "/DeviceGray"):
            dest = stem.with_suffix(".jpg")
            dest.write_bytes(images[0].read_raw_bytes())
        else:
            dest = stem.with_suffix(".png")
            _normalize_mode(pdfimage.as_pil_image()).save(dest, format="PNG", dpi=(dpi, dpi))
        with Image.open(dest) as im:
            return PageImage(path=dest, width=im.width, height=im.height, dpi=round(dpi, 2), source=label)
    except InputError:
        raise
    except Exception:  # an image pikepdf cannot decode is still rendered by poppler
        return None
