"""A corpus of hostile files, each small on disk and built to hurt whoever opens it, and a normal scan beside them.

Each builder writes one file and returns its path; :data:`CASES` names them
with the reason code the file must end with, for the tests and for
``benchmarks/hostile``. They mirror what a red-team pass sent to a counter
inbox: data compressed twice so a few kilobytes inflate to gigabytes, a page
whose raster would be gigapixels, Form XObjects that draw themselves, and
PNG headers claiming billions of pixels.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf

_ZEROS = bytes(1024 * 1024)


def _deflate_zeros(megabytes: int) -> bytes:
    """MEGABYTES of zero bytes, deflated a megabyte at a time so the test never holds them."""
    packer = zlib.compressobj(1)  # zeros shrink about as much at level 1, three times faster
    out = bytearray()
    for _ in range(megabytes):
        out += packer.compress(_ZEROS)
    out += packer.flush()
    return bytes(out)


def _save(pdf: pikepdf.Pdf, path: Path) -> None:
    """Streams written as built: qpdf would otherwise re-encode the hostile chains into innocent ones."""
    pdf.save(path, compress_streams=False)


def _image_page(pdf: pikepdf.Pdf, image: pikepdf.Stream, *, size_pt: tuple[float, float]) -> None:
    page = pdf.add_blank_page(page_size=size_pt)
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.obj.Contents = pdf.make_stream(f"q {size_pt[0]} 0 0 {size_pt[1]} 0 0 cm /Im0 Do Q".encode())


def _grey_image(pdf: pikepdf.Pdf, width: int, height: int, data: bytes, filters: list[str]) -> pikepdf.Stream:
    image = pdf.make_stream(b"")
    image.write(data, filter=pikepdf.Array([pikepdf.Name(f) for f in filters]))
    image.Type = pikepdf.Name.XObject
    image.Subtype = pikepdf.Name.Image
    image.Width, image.Height = width, height
    image.ColorSpace = pikepdf.Name.DeviceGray
    image.BitsPerComponent = 8
    return image


def double_flate_bomb(path: Path, *, inflated_mb: int = 1024) -> Path:
    """An A4 page of one 1654×2339 grey image whose data is Flate over Flate.

    The dictionary promises 3.9 MB of pixels; the inner layer inflates to
    INFLATED_MB megabytes of zeros. Twice deflated, the file stays a few
    kilobytes (the red team's was 3.4 KB and reached 3.2 GB).
    """
    twice = zlib.compress(_deflate_zeros(inflated_mb), 9)
    pdf = pikepdf.new()
    _image_page(pdf, _grey_image(pdf, 1654, 2339, twice, ["/FlateDecode", "/FlateDecode"]), size_pt=(595.3, 841.9))
    _save(pdf, path)
    return path


def flate_overflow(path: Path, *, inflated_mb: int = 256) -> Path:
    """One Flate layer only, but it inflates to far more than the image's 1654×2339 grey pixels."""
    pdf = pikepdf.new()
    data = _deflate_zeros(inflated_mb)
    _image_page(pdf, _grey_image(pdf, 1654, 2339, data, ["/FlateDecode"]), size_pt=(595.3, 841.9))
    _save(pdf, path)
    return path


def huge_mediabox(path: Path) -> Path:
    """A vector page 200×200 inches (the largest PDF allows): 60000×60000 pixels at 300 dpi."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(14400, 14400))
    page.obj.Contents = pdf.make_stream(b"0 0 m 14400 14400 l S")
    _save(pdf, path)
    return path


def _form(pdf: pikepdf.Pdf, content: bytes) -> pikepdf.Stream:
    form = pdf.make_stream(content)
    form.Type = pikepdf.Name.XObject
    form.Subtype = pikepdf.Name.Form
    form.BBox = pikepdf.Array([0, 0, 595, 842])
    return form


def recursive_form_self(path: Path) -> Path:
    """A page drawing a Form XObject that draws itself."""
    pdf = pikepdf.new()
    form = pdf.make_indirect(_form(pdf, b"0 0 m 10 10 l S /X0 Do"))
    form.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X0=form))
    page = pdf.add_blank_page()
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X0=form))
    page.obj.Contents = pdf.make_stream(b"/X0 Do")
    _save(pdf, path)
    return path


def recursive_form_cycle(path: Path) -> Path:
    """Two Form XObjects drawing each other."""
    pdf = pikepdf.new()
    a = pdf.make_indirect(_form(pdf, b"0 0 m 10 10 l S /B Do"))
    b = pdf.make_indirect(_form(pdf, b"10 0 m 0 10 l S /A Do"))
    a.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(B=b))
    b.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(A=a))
    page = pdf.add_blank_page()
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(A=a))
    page.obj.Contents = pdf.make_stream(b"/A Do")
    _save(pdf, path)
    return path


def form_fanout(path: Path, *, levels: int = 10, fanout: int = 10) -> Path:
    """LEVELS forms, each drawing the next FANOUT times: FANOUT**LEVELS draws, no cycle, a few kilobytes."""
    pdf = pikepdf.new()
    inner = pdf.make_indirect(_form(pdf, b"0 0 m 1 1 l S"))
    for _ in range(levels):
        outer = pdf.make_indirect(_form(pdf, b"/F Do " * fanout))
        outer.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F=inner))
        inner = outer
    page = pdf.add_blank_page()
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F=inner))
    page.obj.Contents = pdf.make_stream(b"/F Do")
    _save(pdf, path)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(path: Path, width: int, height: int, bit_depth: int, idat: bytes) -> Path:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)  # grey, deflate, no interlace
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    return path


def huge_png_header(path: Path, *, side: int = 60000) -> Path:
    """A PNG whose header claims SIDE×SIDE grey pixels (3.6 gigapixels) and carries a few rows."""
    return _png(path, side, side, 8, zlib.compress(bytes(side + 1) * 4, 9))


def png_bomb(path: Path, *, side: int = 20000) -> Path:
    """A complete, valid bitonal PNG of SIDE×SIDE white pixels (400 megapixels from some 50 KB).

    Every row is there, so a decoder that trusts the header allocates and
    fills the whole image; unlike :func:`huge_png_header` it decodes fine
    given the memory.
    """
    row = bytes(1 + (side + 7) // 8)  # filter byte 0, then the packed pixels
    packer = zlib.compressobj(9)
    idat = bytearray()
    block = row * 256
    for _ in range(side // 256):
        idat += packer.compress(block)
    idat += packer.compress(row * (side % 256))
    idat += packer.flush()
    return _png(path, side, side, 1, bytes(idat))


def normal_scan(path: Path) -> Path:
    """An ordinary counter scan: an A4 page at 200 dpi, JPEG, as a scanner writes it."""
    from tests.conftest import render_lines

    render_lines(dpi=200).save(path, format="JPEG", dpi=(200, 200), quality=85)
    return path


def normal_scan_pdf(path: Path) -> Path:
    """The same page as a scanner's PDF: one JPEG image on an A4 page."""
    import img2pdf

    jpg = normal_scan(path.with_name(f"{path.stem}-trang.jpg"))
    path.write_bytes(img2pdf.convert(str(jpg)))
    jpg.unlink()
    return path


Builder = Callable[[Path], Path]

# name → (file name, builder, the reason code it must end with; "" for a file that must open)
CASES: dict[str, tuple[str, Builder, str]] = {
    "double-flate": ("bom-nen-kep.pdf", double_flate_bomb, "decode-limit"),
    "flate-overflow": ("anh-phinh-to.pdf", flate_overflow, "decode-limit"),
    "huge-mediabox": ("trang-200-inch.pdf", huge_mediabox, "too-many-pixels"),
    "form-self": ("form-tu-goi.pdf", recursive_form_self, "recursive-pdf"),
    "form-cycle": ("form-vong-lap.pdf", recursive_form_cycle, "recursive-pdf"),
    "form-fanout": ("form-nhan-ban.pdf", form_fanout, "recursive-pdf"),
    "huge-png": ("anh-60000.png", huge_png_header, "too-many-pixels"),
    "png-bomb": ("bom-png.png", png_bomb, "too-many-pixels"),
    "normal-jpeg": ("giay-xac-nhan.jpg", normal_scan, ""),
    "normal-pdf": ("giay-xac-nhan.pdf", normal_scan_pdf, ""),
}


def build_all(folder: Path) -> dict[str, Path]:
    """Every case of :data:`CASES` written into FOLDER, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: build(folder / file_name) for name, (file_name, build, _code) in CASES.items()}
