"""Splitting a taken file into page images.

The file's type is decided by its first bytes, never by its name: scanners
and clerks rename files freely. Every page comes out as a file in the job's
work folder: a JPEG page is kept byte for byte (its DCT data goes into the PDF
unchanged), anything else becomes a lossless PNG. Broken input raises
:class:`InputError` naming the file and the reason, so the caller can
quarantine it and go on.

Nothing is decoded before its size is known to be bounded: an image's
header gives its pixels, a PDF image's dictionary gives the bytes it may
decode to (and its Flate data is inflated with that cap, never with
pikepdf's unbounded ``read_bytes`` first), a vector page's MediaBox gives
the raster poppler would allocate, and the Form XObjects a page draws are
walked for cycles and fan-out before poppler draws them. These checks name
the reason; the child process of :mod:`scanner.capture.judge`, with its
memory and time limits, is the backstop for whatever they miss.

A PDF encrypted with an owner password only (an empty user password: the
usual shape of a signed government PDF, "no editing" but readable by anyone)
is read like any other; only one that needs a password to be opened goes to
quarantine as ``encrypted-pdf``.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import PdfImage
from PIL import Image, ImageSequence, UnidentifiedImageError

from scanner.errors import InputError, InputReason
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
    render_seconds: float = 120.0  # poppler's time for one page


# Form XObjects within Form XObjects: a scanner writes none, a word processor
# two or three; a page that asks for more is built to make the renderer spin.
MAX_FORM_DEPTH = 12
# Forms drawn for one page, counting each `Do` (ten forms each drawing the
# next ten times is 10^10 draws from a few kilobytes).
MAX_FORM_DRAWS = 20_000
# What one content stream may inflate to; megabytes of drawing operators are
# no scan.
MAX_CONTENT_BYTES = 64 * 1024 * 1024


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
    The same bounds as the full load apply: a peek that decoded a bomb would
    cost the service, not the file.
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
                    pi = _decodable_image(images[0], f"{path.name}#1", limits)
                    if pi is not None:
                        return pi.as_pil_image().convert("L")
    except Exception:  # a peek never fails the take (not even out of memory): the full load says why
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
            seen: set[tuple[int, int]] = set()
            while stack:
                field = stack.pop()
                if field.is_indirect:
                    if field.objgen in seen:
                        continue  # a field among its own kids: counted once, never walked for ever
                    seen.add(field.objgen)
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
        raise _too_many_pixels(name, f"{width}×{height}", f"{width}x{height}", limits)


def _too_many_pixels(name: str, size_vi: str, size_en: str, limits: LoadLimits) -> InputError:
    return InputError(
        name,
        f"ảnh quá lớn ({size_vi} điểm ảnh, vượt {limits.max_megapixels:g} megapixel)",
        f"image too large ({size_en} pixels, over {limits.max_megapixels:g} MP)",
        code=InputReason.TOO_MANY_PIXELS,
    )


# Pillow's own bomb check (a warning at 89 MP, an English error at 179 MP)
# would refuse files under our limit and, above it, say so in English with
# the wrong code: every frame is checked against ``max_megapixels`` before
# it is decoded instead.
Image.MAX_IMAGE_PIXELS = None


def _open_image(src: SourceFile, limits: LoadLimits) -> Image.Image:
    """SRC opened for its header only; nothing is decoded yet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(src.path)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # only if someone set Pillow's limit again: still our reason, in Vietnamese
        raise _too_many_pixels(src.original_name, "hơn giới hạn", "over the limit", limits) from None
    except (UnidentifiedImageError, OSError) as exc:
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
    img = _open_image(src, limits)
    pages: list[PageImage] = []
    try:
        for index, frame in enumerate(ImageSequence.Iterator(img)):
            if index >= limits.max_pages:
                raise InputError(
                    name, f"quá {limits.max_pages} trang", f"more than {limits.max_pages} pages", code="too-many-pages"
                )
            width, height = frame.width, frame.height  # before a draft decode shrinks the frame
            _check_size(name, width, height, limits)
            dpi = _dpi_of(frame)
            label = f"{name}#{index + 1}" if kind == "tiff" else name
            copied = kind == "jpeg" and frame.mode in ("L", "RGB")
            if copied:
                # The file itself is kept, so its pixels are decoded only to prove them whole: at an eighth of
                # the size, libjpeg still reads every coded block (a cut or broken stream fails the same way)
                # but skips most of the inverse DCT and the colour conversion: 12-15 ms against 55-62 at 300 dpi A4.
                frame.draft(frame.mode, (max(1, width // 8), max(1, height // 8)))
            try:
                frame.load()
            except (OSError, SyntaxError, ValueError) as exc:
                raise InputError(
                    name,
                    f"ảnh bị hỏng hoặc không trọn vẹn ({exc})",
                    f"corrupt or truncated image ({exc})",
                    code="corrupt-image",
                ) from None
            if copied:
                dest = out_dir / f"{stem}-{index + 1:03d}.jpg"
                shutil.copyfile(src.path, dest)
            else:
                dest = out_dir / f"{stem}-{index + 1:03d}.png"
                _normalize_mode(frame).save(dest, format="PNG", dpi=(dpi, dpi))
            pages.append(PageImage(path=dest, width=width, height=height, dpi=dpi, source=label))
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
        raise InputError(
            name,
            "PDF được khóa bằng mật khẩu, cần mật khẩu mới mở được",
            "encrypted PDF, a password is needed to open it",
            code=InputReason.ENCRYPTED_PDF,
        ) from None
    except pikepdf.PdfError as exc:
        detail = _detail(exc, src)
        raise InputError(name, f"PDF bị hỏng ({detail})", f"corrupt PDF ({detail})", code="corrupt-pdf") from None
    pages: list[PageImage] = []
    with pdf:
        # Opened with no password: at most an owner password restricts editing (the usual
        # shape of a signed government PDF); qpdf hands back decrypted streams, so every
        # check below and poppler's rendering see the same content any reader shows.
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
            _check_drawing(page, label, limits)
            page_image = _single_page_image(page, out_dir / f"{stem}-{index + 1:03d}", label, limits)
            if page_image is None:
                png = out_dir / f"{stem}-{index + 1:03d}.png"
                size = _render_size(page, label, limits)
                poppler.render_page(
                    src.path, index + 1, PDF_RENDER_DPI, png, timeout=limits.render_seconds, page_size=size
                )
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
    images, an image whose decoding cannot be bounded here — is rasterized
    instead.
    """
    images = list(page.get_images(recursive=False).values())
    if len(images) != 1:
        return None
    try:
        width_in = float(page.mediabox[2] - page.mediabox[0]) / 72.0
        if width_in <= 0:
            return None
        pdfimage = _decodable_image(images[0], label, limits)
        if pdfimage is None:
            return None
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
    except (InputError, MemoryError):
        raise  # a refusal, or the child's memory cap: never hidden behind a second try with poppler
    except Exception as exc:  # an image pikepdf cannot decode is still rendered by poppler
        if out_of_memory(exc):
            raise MemoryError(str(exc)) from None
        return None


def out_of_memory(exc: BaseException) -> bool:
    """Whether EXC is an allocation failure in disguise: qpdf's ``std::bad_alloc`` reaches us as a decoding error."""
    return isinstance(exc, MemoryError) or "bad_alloc" in str(exc)


_FILTER_ABBREVIATIONS = {
    "/Fl": "/FlateDecode",
    "/LZW": "/LZWDecode",
    "/AHx": "/ASCIIHexDecode",
    "/A85": "/ASCII85Decode",
    "/RL": "/RunLengthDecode",
    "/CCF": "/CCITTFaxDecode",
    "/DCT": "/DCTDecode",
}


def _filter_names(stream: pikepdf.Object, label: str) -> list[str]:
    """The stream's filter chain, refused when a filter comes twice.

    No writer compresses data that is already compressed with the same
    method; a chain like Flate over Flate exists to make a few kilobytes
    inflate to gigabytes past a first, innocent-looking layer.
    """
    raw = stream.get("/Filter")
    items = list(raw) if isinstance(raw, pikepdf.Array) else [] if raw is None else [raw]
    names = [_FILTER_ABBREVIATIONS.get(str(f), str(f)) for f in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        shown = ", ".join(f"{n.lstrip('/')} ×{names.count(n)}" for n in repeated)
        raise InputError(
            label,
            f"PDF chứa dữ liệu bị nén chồng nhiều lần ({shown}), dấu hiệu của tệp làm cạn bộ nhớ",
            f"PDF data compressed repeatedly with the same filter ({shown}), a decompression bomb",
            code=InputReason.DECODE_LIMIT,
        )
    return names


_COMPONENTS = {
    "/DeviceGray": 1,
    "/CalGray": 1,
    "/G": 1,
    "/Indexed": 1,
    "/I": 1,
    "/Separation": 1,
    "/DeviceRGB": 3,
    "/CalRGB": 3,
    "/RGB": 3,
    "/Lab": 3,
    "/DeviceCMYK": 4,
    "/CMYK": 4,
}


def _components(colorspace: object) -> int:
    """Colour components per pixel; 4 when it cannot be told, which only makes the byte cap looser."""
    try:
        if isinstance(colorspace, pikepdf.Array) and len(colorspace):
            family = str(colorspace[0])
            if family == "/ICCBased":
                return int(colorspace[1].get("/N", 4))
            if family == "/DeviceN":
                return len(colorspace[1])
            return _COMPONENTS.get(family, 4)
        if colorspace is not None:
            return _COMPONENTS.get(str(colorspace), 4)
    except (TypeError, ValueError, IndexError, AttributeError):
        pass
    return 4


def _declared_bytes(stream: pikepdf.Object, width: int, height: int) -> int:
    """The most bytes the image's data may inflate to, by its own dictionary.

    One more byte per row allows PNG predictors; a few kilobytes allow
    writers that pad the end.
    """
    if stream.get("/ImageMask", False):
        components, bits = 1, 1
    else:
        components = min(max(_components(stream.get("/ColorSpace")), 1), 32)
        try:
            bits = min(max(int(stream.get("/BitsPerComponent", 8)), 1), 16)
        except (TypeError, ValueError):
            bits = 16
    row = math.ceil(width * components * bits / 8) + 1
    return height * row + 4096


def _decodable_image(stream: pikepdf.Object, label: str, limits: LoadLimits) -> PdfImage | None:
    """The image, once its decoding is known to stay within bounds; None to leave it to poppler.

    pikepdf decodes a whole stream at once (``read_bytes`` has no cap), so it
    is only handed chains whose output is bounded: none, CCITT fax and JPEG
    (bounded by the pixels, JPEG's from its own header, which may disagree
    with the dictionary), and Flate, first inflated here with the dictionary's
    byte count as a cap. Other chains (LZW, JBIG2, JPEG 2000...) go to
    poppler, which decodes only the rows it draws.
    """
    pdfimage = PdfImage(stream)  # type: ignore[arg-type]
    width, height = int(pdfimage.width), int(pdfimage.height)
    if width <= 0 or height <= 0:
        return None
    _check_size(label, width, height, limits)
    filters = _filter_names(stream, label)
    if filters in ([], ["/CCITTFaxDecode"]):
        return pdfimage
    if filters == ["/DCTDecode"]:
        with Image.open(io.BytesIO(stream.read_raw_bytes())) as jpeg:
            _check_size(label, jpeg.width, jpeg.height, limits)
        return pdfimage
    if filters == ["/FlateDecode"]:
        cap = _declared_bytes(stream, width, height)
        if _inflate_bounded(stream.read_raw_bytes(), cap, keep=False) is None:
            raise InputError(
                label,
                f"ảnh trong PDF giải nén ra nhiều hơn kích thước tự khai báo ({cap} byte), "
                "dấu hiệu của tệp làm cạn bộ nhớ",
                f"PDF image inflates past its declared size ({cap} bytes), a decompression bomb",
                code=InputReason.DECODE_LIMIT,
            )
        return pdfimage
    return None


_CHUNK = 1024 * 1024  # what one inflate step may add: small, so a peek in the service's own process stays light


def _inflate_bounded(data: bytes, cap: int, *, keep: bool) -> bytes | None:
    """DATA inflated, or None as soon as it would pass CAP bytes.

    Inflated in chunks, so at most CAP bytes (KEEP) or one chunk are ever
    held. Damaged data ends the output where a reader would stop: that is
    for the renderer to report, not a reason to refuse here.
    """
    inflater = zlib.decompressobj()
    kept = bytearray()
    total = 0
    pending = data
    try:
        while True:
            chunk = inflater.decompress(pending, min(cap + 1 - total, _CHUNK))
            total += len(chunk)
            if total > cap:
                return None
            if keep:
                kept += chunk
            pending = inflater.unconsumed_tail
            if inflater.eof or (not chunk and not pending):
                break
    except zlib.error:
        pass
    return bytes(kept)


def _render_size(page: pikepdf.Page, label: str, limits: LoadLimits) -> tuple[float, float]:
    """The page's size in points as pdftoppm draws it (its MediaBox), refused when its raster would not fit.

    poppler allocates the whole page raster at once; a 200-inch page at
    300 dpi is 3.6 gigapixels from a file of a few hundred bytes.
    """
    try:
        box = [float(v) for v in page.mediabox]
        width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
    except (TypeError, ValueError, IndexError, pikepdf.PdfError):
        width = height = 0.0
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise InputError(
            label, "trang PDF không có khung trang (MediaBox) hợp lệ", "page has no valid MediaBox", code="corrupt-pdf"
        )
    pixels_w, pixels_h = width / 72 * PDF_RENDER_DPI, height / 72 * PDF_RENDER_DPI
    if pixels_w * pixels_h > limits.max_megapixels * 1_000_000:
        raise InputError(
            label,
            f"trang PDF quá lớn để dựng ảnh ({width / 72:.0f}×{height / 72:.0f} inch, "
            f"{pixels_w:.0f}×{pixels_h:.0f} điểm ảnh ở {PDF_RENDER_DPI} dpi, vượt {limits.max_megapixels:g} megapixel)",
            f"PDF page too large to render ({width / 72:.0f}x{height / 72:.0f} in, "
            f"{pixels_w:.0f}x{pixels_h:.0f} px at {PDF_RENDER_DPI} dpi, over {limits.max_megapixels:g} MP)",
            code=InputReason.TOO_MANY_PIXELS,
        )
    return width, height


# A name operand followed by the operator that draws it: `/Fm0 Do` draws a
# Form XObject, `/P0 scn` fills with a tiling pattern (whose cell is drawn
# like a form). Inline image data can fake a match; a fake name is simply
# not found in the resources.
_NAME = rb"/([^\s/\[\]()<>{}%]+)\s*"
_DRAWS = {"/XObject": re.compile(_NAME + rb"Do\b"), "/Pattern": re.compile(_NAME + rb"(?:scn|SCN)\b")}


def _check_drawing(page: pikepdf.Page, label: str, limits: LoadLimits) -> None:
    """Refuse a page whose drawing would never end or would not fit, before poppler draws it.

    Form XObjects and tiling patterns are content streams drawn from other
    content streams. One that draws itself, directly or through others, makes
    a renderer loop until its own depth limit, and ten forms each drawing the
    next ten times are ten billion draws from a few kilobytes: both are
    counted here from the resources and the ``Do``/``scn`` operators, before
    anything is drawn. Annotations' appearance streams are drawn by pdftoppm
    too and are walked the same way. Every image met on the way is checked
    against the pixel limit. (Type 3 font glyphs are not walked; the child's
    time limit bounds them.)
    """
    walk = _DrawingWalk(label, limits)
    resources = _inherited(page.obj, "/Resources")
    contents = page.obj.get("/Contents")
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    walk.add(walk.content([s for s in streams if isinstance(s, pikepdf.Stream)], resources))
    annots = page.obj.get("/Annots")
    for annot in annots if isinstance(annots, pikepdf.Array) else []:
        appearance = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
        normal = appearance.get("/N") if isinstance(appearance, pikepdf.Dictionary) else None
        states = (
            list(normal.values())
            if isinstance(normal, pikepdf.Dictionary) and not isinstance(normal, pikepdf.Stream)
            else [normal]
        )
        for state in states:
            walk.add(walk.form(state, resources))


def _inherited(node: pikepdf.Object, key: str) -> pikepdf.Object | None:
    """KEY from NODE or the nearest ancestor in the page tree that has it."""
    seen = 0
    current: pikepdf.Object | None = node
    while isinstance(current, pikepdf.Dictionary) and seen < 64:
        if key in current:
            return current.get(key)
        current = current.get("/Parent")
        seen += 1
    return None


class _DrawingWalk:
    """The cost of drawing one page: forms drawn, counting repeats, with the path walked so far."""

    def __init__(self, label: str, limits: LoadLimits) -> None:
        self.label = label
        self.limits = limits
        self.total = 0
        self.path: list[tuple[int, int]] = []
        self.costs: dict[tuple[int, int], int] = {}

    def add(self, draws: int) -> None:
        self.total += draws
        if self.total > MAX_FORM_DRAWS:
            raise self._refuse(
                f"trang PDF vẽ lồng nhau quá nhiều lần (hơn {MAX_FORM_DRAWS} lần vẽ Form XObject)",
                f"page draws nested forms too many times (over {MAX_FORM_DRAWS})",
            )

    def content(self, streams: list[pikepdf.Stream], resources: pikepdf.Object | None) -> int:
        """Forms drawn when STREAMS are drawn with RESOURCES, each counted as often as it is drawn."""
        data = b"".join(self._bytes(s) for s in streams)
        draws = 0
        for category, operator in _DRAWS.items():
            table = resources.get(category) if isinstance(resources, pikepdf.Dictionary) else None
            if not isinstance(table, pikepdf.Dictionary):
                continue
            uses: dict[bytes, int] = {}
            for found in operator.finditer(data):
                uses[found.group(1)] = uses.get(found.group(1), 0) + 1
            for name, count in uses.items():
                target = table.get("/" + name.decode("latin-1"))
                draws += count * self.form(target, resources)
                if draws > MAX_FORM_DRAWS:
                    self.add(draws)
        return draws

    def form(self, obj: object, parent_resources: pikepdf.Object | None) -> int:
        """Draws caused by drawing OBJ once (itself included); 0 for what draws nothing further."""
        if not isinstance(obj, pikepdf.Stream):
            return 0
        if obj.get("/Subtype") == "/Image":
            width, height = obj.get("/Width", 0), obj.get("/Height", 0)
            if isinstance(width, int) and isinstance(height, int):
                _check_size(self.label, width, height, self.limits)
            return 0
        if obj.get("/Subtype") != "/Form" and obj.get("/PatternType") != 1:
            return 0
        key = obj.objgen
        if key != (0, 0) and key in self.path:
            raise self._refuse(
                "PDF có Form XObject tự vẽ lại chính nó (vòng lặp vô hạn)",
                "a Form XObject draws itself (endless recursion)",
            )
        if key in self.costs:
            return self.costs[key]
        if len(self.path) >= MAX_FORM_DEPTH:
            raise self._refuse(
                f"PDF có Form XObject lồng nhau quá {MAX_FORM_DEPTH} tầng",
                f"Form XObjects nested deeper than {MAX_FORM_DEPTH}",
            )
        own = obj.get("/Resources")
        self.path.append(key)
        try:
            cost = 1 + self.content([obj], own if isinstance(own, pikepdf.Dictionary) else parent_resources)
        finally:
            self.path.pop()
        if key != (0, 0) and isinstance(own, pikepdf.Dictionary):
            self.costs[key] = cost  # with inherited resources the same form may draw something else elsewhere
        return cost

    def _bytes(self, stream: pikepdf.Stream) -> bytes:
        filters = _filter_names(stream, self.label)
        if not filters:
            return bytes(stream.read_raw_bytes()[:MAX_CONTENT_BYTES])
        if filters != ["/FlateDecode"]:
            return b""  # not counted; the child's time limit bounds what poppler makes of it
        data = _inflate_bounded(stream.read_raw_bytes(), MAX_CONTENT_BYTES, keep=True)
        if data is None:
            raise InputError(
                self.label,
                f"nội dung trang PDF giải nén ra quá {MAX_CONTENT_BYTES // 1048576} MB",
                f"page content inflates past {MAX_CONTENT_BYTES // 1048576} MB",
                code=InputReason.DECODE_LIMIT,
            )
        return data

    def _refuse(self, message_vi: str, message_en: str) -> InputError:
        return InputError(self.label, message_vi, message_en, code=InputReason.RECURSIVE_PDF)
