"""Page images into PDF image objects, without re-encoding what needs none.

img2pdf does the embedding: a JPEG goes in byte for byte (DCTDecode), a
non-interlaced 8-bit PNG as its own compressed IDAT data (FlateDecode with
the PNG predictor), a bitonal image as CCITT G4. Nothing is decoded on the
fast path, which matters at the counter: a 300 dpi A4 colour page is
decoded in tens of milliseconds but re-encoded in hundreds.

Some images cannot go in as they are, and are first rewritten losslessly as
an 8-bit PNG in memory:

- an alpha channel or a transparent colour: PDF/A-1 forbids soft masks, and
  a scanned paper has no transparency anyway, so the image is flattened
  onto white;
- 16 bits per sample: PDF 1.4 (PDF/A-1) has no 16-bit images, and the
  archival format is 24-bit colour;
- a CMYK (or other non-grey, non-RGB) JPEG: PDF/A with an sRGB output
  intent allows no DeviceCMYK.

The capture stage already turns everything it does not pass through into an
8-bit grey or RGB PNG, so these are safety nets for images from elsewhere.

A PNG that goes in as it is first has its IDAT chunks merged into one (no
recompression): img2pdf joins the chunks one ``bytes +=`` at a time, which
is quadratic in their number and took 300 ms for a noisy 13 MB colour page
written by Pillow in 64 KB chunks; merged, it takes about 10 ms.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
from PIL import Image

from scanner.errors import PdfError
from scanner.model import PageImage

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PASSTHROUGH_MODES = {"JPEG": {"L", "RGB"}, "PNG": {"1", "L", "RGB", "P"}}


def _scratch_layout(width_px: int, height_px: int, dpi: tuple[float, float]) -> tuple[float, float, float, float]:
    """A fixed page for img2pdf: the real geometry is set afterwards from ``PageImage.dpi``.

    Taking the size from the file's own DPI tag (img2pdf's default) could
    make img2pdf add /UserUnit (PDF 1.6) for a mis-tagged huge image; the
    builder overwrites MediaBox and content anyway.
    """
    return (612.0, 792.0, 612.0, 792.0)


def _png_bit_depth(path: Path) -> int:
    """Bits per sample of a PNG, from its IHDR chunk (Pillow hides 16-bit RGB)."""
    with path.open("rb") as f:
        head = f.read(25)
    return head[24] if head.startswith(_PNG_SIGNATURE) and len(head) == 25 else 8


def _needs_rewrite(im: Image.Image, path: Path) -> bool:
    """True when the image cannot be embedded as it is in a PDF/A (see the module docstring)."""
    if "A" in im.mode or "transparency" in im.info:
        return True
    fmt = im.format or ""
    if fmt == "PNG" and _png_bit_depth(path) > 8:
        return True
    passthrough = _PASSTHROUGH_MODES.get(fmt)
    return passthrough is not None and im.mode not in passthrough


def _flattened(im: Image.Image) -> Image.Image:
    """The image as 8-bit grey or RGB, transparency composited onto white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: keep the high byte rather than clipping at 255.
        return Image.fromarray((np.asarray(im, dtype=np.uint32) >> 8).astype(np.uint8))
    grey = im.mode in ("1", "L", "LA", "La") or (im.mode == "P" and _palette_is_grey(im))
    with_alpha = im.convert("LA" if grey else "RGBA")
    flat = Image.new("L" if grey else "RGB", im.size, "white")
    flat.paste(with_alpha.convert(flat.mode), mask=with_alpha.getchannel("A"))
    return flat


def _palette_is_grey(im: Image.Image) -> bool:
    palette = im.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))


def _rewritten_png(path: Path) -> bytes:
    with Image.open(path) as im:
        flat = _flattened(im)
    out = io.BytesIO()
    flat.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) of each chunk of a PNG file, CRCs unchecked (Pillow checked the file)."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        yield data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _single_idat(path: Path) -> bytes:
    """The PNG at PATH with its IDAT chunks merged into one, the pixels' bytes untouched."""
    data = path.read_bytes()
    chunks: list[bytes] = [_PNG_SIGNATURE]
    idat: list[bytes] = []
    for kind, payload in _png_chunks(data):
        if kind == b"IDAT":
            if not idat:
                chunks.append(b"")  # placeholder: the merged IDAT goes where the first one was
            idat.append(payload)
        else:
            chunks.append(_chunk(kind, payload))
    if not idat:
        raise PdfError(f"{path.name}: tệp PNG không có dữ liệu ảnh", f"{path.name}: PNG has no IDAT chunk")
    chunks[chunks.index(b"")] = _chunk(b"IDAT", b"".join(idat))
    return b"".join(chunks)


def _source(image: PageImage) -> Path | bytes:
    """What img2pdf gets for IMAGE: the file, its PNG with one IDAT, or a flattened PNG when it must be rewritten."""
    try:
        with Image.open(image.path) as im:  # reads the header only
            size, rewrite, fmt = im.size, _needs_rewrite(im, image.path), im.format
    except (OSError, SyntaxError, ValueError) as exc:
        raise PdfError(
            f"{image.source}: không đọc được ảnh trang ({exc})", f"{image.source}: cannot read page image ({exc})"
        ) from None
    if size != (image.width, image.height):
        raise PdfError(
            f"{image.source}: kích thước ảnh {size[0]}x{size[1]} khác kích thước đã ghi {image.width}x{image.height}",
            f"{image.source}: image is {size[0]}x{size[1]} px, the page says {image.width}x{image.height}",
        )
    if rewrite:
        return _rewritten_png(image.path)
    return _single_idat(image.path) if fmt == "PNG" else image.path


def embed_images(images: Sequence[PageImage]) -> pikepdf.Pdf:
    """A PDF with one page per image, each drawing its image as /Im0 (geometry still to be set).

    The caller owns the returned document and must close it.
    """
    sources = [_source(image) for image in images]
    try:
        document = img2pdf.convert_to_docobject(
            sources, layout_fun=_scratch_layout, rotation=img2pdf.Rotation.none, engine=img2pdf.Engine.pikepdf
        )
    except Exception as exc:  # img2pdf raises bare Exceptions and ValueErrors for bad images
        raise PdfError(f"không nhúng được ảnh trang vào PDF ({exc})", f"cannot embed page images ({exc})") from exc
    # With the pikepdf engine the document is a pikepdf.Pdf: taking it spares img2pdf's own
    # (linearized) write and a re-read of every image's bytes.
    pdf: pikepdf.Pdf = document.writer
    if len(pdf.pages) != len(images):
        count = len(pdf.pages)
        pdf.close()
        raise PdfError(
            f"ảnh trang sinh ra {count} trang thay vì {len(images)} (ảnh nhiều khung?)",
            f"page images gave {count} pages instead of {len(images)} (multi-frame image?)",
        )
    return pdf
