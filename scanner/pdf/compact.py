"""Compact archival images: bilevel pages as CCITT G4, colour and grey pages as mixed raster content.

A province stores tens of millions of pages, and a 300 dpi colour page kept
as the scanner's JPEG costs 2-3 MB. What a reader (and the recognizer)
needs of a document page is sharp ink at the scan's resolution; the paper
under it is a smooth field that needs little resolution. So a colour or grey
page is split into layers (mixed raster content, as DjVu and ISO/IEC 16485
do it), each coded the way it compresses best, all allowed by PDF/A-1 (no
soft masks, no JPEG 2000, no transparency group):

- ``/Bg``: the paper, downsampled to ``BG_DPI`` and JPEG-coded, with the ink
  taken out and filled from the paper around it, so it costs almost nothing;
- ``/Fg``: the dark ink's colour, a small image at ``FG_DPI``, painted only
  through its ``/Mask``: a 1-bit image of the ink pixels at the scan's
  resolution, CCITT G4-coded, so letters keep their edges and diacritics
  their dots;
- ``/Fp``, ``/Fr`` and ``/Fc``: the same for pale grey ink (a seal on a
  grey scan), red ink (seals) and other coloured ink (a blue signature),
  kept apart so no shade or colour bleeds into another.

A page that is already two-tone (a bitonal scan, or one a deskew turned
into grey only along the letters' edges) stays 1-bit: one CCITT G4 image.

The ink is found on the page divided by its own background (``flatten`` of
the cleaning stage), each colour channel on its own: paper of any tint
becomes white, black ink is dark in every channel, a red seal or a blue
signature is far from grey. Isolated specks of dust are dropped
(``scanner.clean.specks``).

JBIG2 generic-region coding (without the symbol dictionaries that can turn
a 6 into an 8) would be smaller still than G4, but Debian 12 packages no
JBIG2 encoder (no ``jbig2enc``), so the masks are G4.
"""

from __future__ import annotations

import io
import math
import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pikepdf
from pikepdf import Dictionary, Name
from PIL import Image, TiffImagePlugin

from scanner.clean import components, flatten, paint, specks
from scanner.errors import PdfError
from scanner.files import sha256_file
from scanner.model import PageImage
from scanner.pdf.images import _flattened

BG_DPI = 100  # the paper: smooth, so a third of the scan's resolution is plenty
FG_DPI = 75  # the ink's colour: it changes from word to seal, not from pixel to pixel
BG_QUALITY = 50
DARK_QUALITY = 50  # black and grey ink: its shade hardly varies
COLOUR_QUALITY = 70  # a seal's red, a signature's blue
# A flattened pixel this much away from grey (largest minus smallest channel) is coloured ink.
COLOUR_INK = 48
# A flattened grey pixel darker than this (and lighter than the words' level) is pale ink.
LIGHT_INK = 205
# ...unless it is this much lighter than the darkest pixel beside it: then it is a letter's rim.
RIM_CONTRAST = 60
# The fewest pixels (at 300 dpi) a piece of pale ink has; smaller pieces are grain of the paper.
PALE_STROKE = 60
# Two-tone: the two commonest grey levels cover this share of the page, this far apart...
TWO_TONE_SHARE = 0.7
TWO_TONE_GAP = 128
# ...and nearly every other pixel sits on an edge between them (where a turn interpolated).
TWO_TONE_EDGES = 0.9


@dataclass(frozen=True)
class Layers:
    """A page's image XObjects in drawing order (each covers the whole page) and how it was coded."""

    xobjects: tuple[tuple[str, pikepdf.Stream], ...]
    kind: str  # "bilevel" or "mrc"

    @property
    def size(self) -> int:
        """Bytes of coded image data, masks included."""
        return sum(len(image.read_raw_bytes()) for _, stream in self.xobjects for image in images(stream))


def images(xobject: pikepdf.Object) -> list[pikepdf.Object]:
    """The image streams XOBJECT draws: itself and its stencil mask, or those of the form that places it."""
    if xobject.get("/Subtype") == Name.Form:
        return [image for inner in xobject.Resources.XObject.values() for image in images(inner)]
    return [xobject, *([xobject.Mask] if "/Mask" in xobject else [])]


def coded_at(image: PageImage) -> Path:
    """Where IMAGE's coding, made ahead of the build, is kept: beside the cleaned image in the job folder."""
    return image.path.with_name(image.path.name + ".compact.pdf")


def code_ahead(image: PageImage, pixels: np.ndarray | None = None) -> None:
    """Code IMAGE now, while its dossier is still open, so closing the dossier does not wait for it.

    Coding a 300 dpi colour page costs about 0.3 s of CPU; done in the page
    pool once the page is recognized, the build finds it (``coded``) and
    only lays the layers out. The one-page PDF names the SHA-256 of the image
    it was coded from, so a page turned or replaced since is coded again.
    PIXELS: the image's pixels, when the caller has them (``encode``).
    """
    pdf = pikepdf.new()
    layers = encode(pdf, image, pixels)
    page = pdf.add_blank_page()
    page.Resources = Dictionary(XObject=Dictionary(dict(layers.xobjects)))
    pdf.docinfo[Name.ImageSHA256] = sha256_file(image.path)
    pdf.docinfo[Name.CodedSize] = layers.size
    out = coded_at(image)
    part = out.with_name(out.name + ".part")
    pdf.save(part)
    os.replace(part, out)


def coded(image: PageImage, keep: ExitStack) -> tuple[pikepdf.Page, int] | None:
    """IMAGE's coding made ahead (its page and coded size), if made from these very pixels; else None.

    KEEP holds the file open until the built PDF is written (a copied page's
    streams are read from it then).
    """
    path = coded_at(image)
    if not path.is_file():
        return None
    try:
        done = keep.enter_context(pikepdf.open(path))
    except pikepdf.PdfError:
        return None  # cut short: coded again at the build
    if str(done.docinfo.get(Name.ImageSHA256, "")) != sha256_file(image.path):
        return None
    return done.pages[0], int(done.docinfo.get(Name.CodedSize, 0))


def encode(pdf: pikepdf.Pdf, image: PageImage, pixels: np.ndarray | None = None) -> Layers:
    """IMAGE as compact XObjects of PDF: G4 when it is two-tone, mixed raster content otherwise.

    PIXELS (RGB or grey), when given, are IMAGE's as the cleaning had them in
    memory (``scanner.clean.clean_page_pixels``): decoding a 300 dpi JPEG
    again costs 35 ms.
    """
    if pixels is not None:
        arr = pixels
    else:
        try:
            with Image.open(image.path) as im:
                if im.mode == "1":
                    return _bilevel(pdf, np.asarray(im))
                arr = np.asarray(im if im.mode in ("L", "RGB") else _flattened(im))
        except (OSError, SyntaxError, ValueError) as exc:
            raise PdfError(
                f"{image.source}: không đọc được ảnh trang ({exc})", f"{image.source}: cannot read page image ({exc})"
            ) from None
    if arr.shape[:2] != (image.height, image.width):
        raise PdfError(
            f"{image.source}: kích thước ảnh khác kích thước đã ghi {image.width}x{image.height}",
            f"{image.source}: image size differs from the page's {image.width}x{image.height}",
        )
    levels = two_tone(arr)
    if levels is not None:
        grey = arr[..., 1] if arr.ndim == 3 else arr  # a two-tone page has no colour: any channel is its grey
        bits: np.ndarray = (grey > (levels[0] + levels[1]) // 2).astype(np.uint8)
        if np.count_nonzero(np.isin(grey, levels, invert=True)):
            # Turned with interpolation (a deskewed bitonal scan): the threshold leaves a staircase on every
            # slanted edge, one-pixel notches that cost G4 more than the scan itself; a 3x3 majority smooths
            # them (strokes are wider than a pixel at scan resolution), so the page does not grow.
            bits = cv2.medianBlur(bits * 255, 3)
        return _bilevel(pdf, bits > 0)
    return _mrc(pdf, arr, image.dpi)


def two_tone(arr: np.ndarray) -> tuple[int, int] | None:
    """The dark and light levels of a page that is effectively bitonal, else None.

    Bitonal means: grey (no colour), two grey levels far apart hold most of
    the page, and the pixels between them lie on the edges where the two
    meet, as they do when a bitonal scan was turned with interpolation. A
    real grey scan spreads its paper over many levels; a grey picture has
    in-between tones away from any edge.
    """
    if arr.ndim == 3:
        r, g, b = cv2.split(np.ascontiguousarray(arr[::4, ::4]))
        spread = cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
        if np.count_nonzero(spread > 8) > 0.001 * spread.size:
            return None
        arr = arr[..., 1]
    hist = np.bincount(arr[::2, ::2].ravel(), minlength=256)
    top = np.argsort(hist)[-2:]
    low, high = int(top.min()), int(top.max())
    if hist[top].sum() < TWO_TONE_SHARE * hist.sum() or high - low < TWO_TONE_GAP:
        return None
    near_low = (np.abs(arr.astype(np.int16) - low) <= 8).astype(np.uint8)
    near_high = (np.abs(arr.astype(np.int16) - high) <= 8).astype(np.uint8)
    between = (near_low | near_high) == 0
    count = int(np.count_nonzero(between))
    if count:
        kernel = np.ones((7, 7), np.uint8)
        on_edge = between & (cv2.dilate(near_low, kernel) > 0) & (cv2.dilate(near_high, kernel) > 0)
        if np.count_nonzero(on_edge) < TWO_TONE_EDGES * count:
            return None
    return low, high


def g4(white: np.ndarray) -> bytes:
    """The CCITT G4 data (K=-1, BlackIs1 true) of a bitonal image where True is white paper."""
    im = Image.fromarray(np.ascontiguousarray(white, dtype=bool))  # mode "1"
    buf = io.BytesIO()
    # One strip: a PDF filter decodes one G4 stream; Pillow writes a "1" image as MinIsBlack (white = 1 bit).
    im.save(buf, format="TIFF", compression="group4", tiffinfo={278: im.height})
    with TiffImagePlugin.TiffImageFile(io.BytesIO(buf.getvalue())) as tif:
        offsets, counts = tif.tag_v2[273], tif.tag_v2[279]
    if len(offsets) != 1:
        raise PdfError("không mã hóa được lớp chữ (CCITT G4)", f"G4 encoding gave {len(offsets)} strips")
    return buf.getvalue()[offsets[0] : offsets[0] + counts[0]]


def _g4_parms(width: int, height: int) -> Dictionary:
    return Dictionary(K=-1, Columns=width, Rows=height, BlackIs1=True)


def _bilevel(pdf: pikepdf.Pdf, white: np.ndarray) -> Layers:
    height, width = white.shape
    image = pdf.make_stream(
        g4(white.astype(bool)),
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=width,
        Height=height,
        ColorSpace=Name.DeviceGray,
        BitsPerComponent=1,
        Filter=Name.CCITTFaxDecode,
        DecodeParms=_g4_parms(width, height),
    )
    return Layers(xobjects=(("/Im0", image),), kind="bilevel")


@dataclass(frozen=True)
class Ink:
    """The ink found on a page, at its resolution: two disjoint 1-bit masks and how strongly each pixel is ink."""

    dark: np.ndarray  # black or dark grey ink: the words, the rules, a black stamp
    pale: np.ndarray  # grey ink lighter than the words, away from them: a seal on a grey scan, pencil
    red: np.ndarray  # coloured ink where red leads: seals, red stamps
    other: np.ndarray  # other coloured ink: a blue or green signature, a violet stamp
    weight: np.ndarray  # 0-255: darkness, or distance from grey, of each pixel (each layer takes its own)


def find_ink(arr: np.ndarray, dpi: float) -> Ink:
    """The page's ink, dark and coloured, with specks of dust dropped.

    Dark ink is found on the flattened grey page (Otsu's level, kept
    between 96 and 200); pale ink between that level and ``LIGHT_INK``,
    except on the rims of dark letters (without it a grey seal straddling
    the level would be cut in two, half sharp, half left in the blurred
    paper); coloured ink on the page flattened channel by
    channel, as distance from grey, so a faint red stamp that is light in
    grey is kept too. Dark, red and other coloured ink are kept apart, each
    painted with its own colours, so that a seal's red neither bleeds into
    the black words beside it nor turns violet where a blue signature
    crosses it (the recognizer drops red ink, not violet).
    """
    if arr.ndim == 3:
        flat = flatten(arr)
        r, g, b = cv2.split(flat)
        top = cv2.max(cv2.max(r, g), b)
        bottom = cv2.min(cv2.min(r, g), b)
        chroma = cv2.subtract(top, bottom)
        red_leads = r == top
        del top, r, g, b
        grey = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)
        del flat
    else:
        grey = flatten(arr)
        bottom = grey
        chroma = np.zeros_like(grey)
        red_leads = np.zeros(grey.shape, bool)
    level, _ = cv2.threshold(grey[::3, ::3], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Compared as whole levels: the grey levels are whole, and numpy compares bytes with an int six times
    # faster than with a float.
    level = math.ceil(min(max(level, 96.0), 200.0))
    coloured = chroma >= COLOUR_INK
    dark = grey < level
    pale = (grey < max(level, LIGHT_INK)) & ~dark
    found = (dark | pale | coloured).view(np.uint8)
    labels, stats, lone = specks(found, dpi)
    ink: np.ndarray = paint(found, labels, stats, lone, 0).view(bool)
    del labels, found
    coloured &= ink
    dark &= ink & ~coloured
    # A pale pixel much lighter than the ink right beside it is the anti-aliased rim of a letter: it is
    # left to the paper, or letters would thicken. A pale stroke (a grey seal) is about as dark as its core.
    reach = 2 * max(1, round(dpi / 150)) + 1
    nearby = cv2.erode(grey, cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach)))
    rims = cv2.subtract(grey, nearby) > RIM_CONTRAST
    pale &= ink & ~coloured & ~rims
    del rims, ink, nearby
    # Pale grain (a lid shadow's rest, the paper's texture) stays in the paper: pale ink comes in strokes.
    # Labelled within the box the pale pixels span, most often none or a seal's.
    x, y, w, h = cv2.boundingRect(pale.view(np.uint8))
    if w:
        box = np.s_[y : y + h, x : x + w]
        _, labels, stats, _ = components(np.ascontiguousarray(pale[box]).view(np.uint8))
        grain = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] < PALE_STROKE * (dpi / 300) ** 2) + 1
        pale[box] = paint(pale[box], labels, stats, grain, 0)
        del labels
    return Ink(
        dark=dark,
        pale=pale,
        red=coloured & red_leads,
        other=coloured & ~red_leads,
        weight=cv2.max(cv2.bitwise_not(bottom), chroma),
    )


def _block_sums(values: np.ndarray, weight: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of VALUES * WEIGHT and of WEIGHT over FACTOR x FACTOR blocks (the last partial blocks padded).

    An ink layer's weight is zero on most pixels of its box, so its sums are
    usually gathered from the ink pixels alone (a bincount per channel); a
    box the ink fills is summed block by block in strips of rows, a few
    megabytes of floats at a time.
    """
    height, width = weight.shape
    rows, cols = -(-height // factor), -(-width // factor)
    if np.count_nonzero(weight) < _SPARSE * weight.size:
        return _sparse_sums(values, weight, factor, rows, cols)
    channels = values.shape[2:]
    sums = np.zeros((rows, cols, *channels), np.float32)
    totals = np.zeros((rows, cols), np.float32)
    pad_w = cols * factor - width
    step = factor * max(1, 256 // factor)
    for y in range(0, height, step):
        v, w = values[y : y + step], weight[y : y + step]
        pad_h = -(-w.shape[0] // factor) * factor - w.shape[0]
        if pad_h or pad_w:  # padded as bytes, before they widen
            v = cv2.copyMakeBorder(v, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=0)
            w = cv2.copyMakeBorder(w, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=0)
        n = w.shape[0] // factor
        block = y // factor
        # INTER_AREA at a whole-number factor is the exact block mean; means serve as well as sums here.
        w32 = w.astype(np.float32)
        wv = v * (w32[..., None] if channels else w32)
        mean = cv2.resize(wv, (cols, n), interpolation=cv2.INTER_AREA)
        sums[block : block + n] = mean.reshape(n, cols, *channels)
        totals[block : block + n] = cv2.resize(w32, (cols, n), interpolation=cv2.INTER_AREA)
    return sums, totals


def _paper_blocks(values: np.ndarray, near_ink: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """The paper's FACTOR x FACTOR blocks as :func:`_block_sums` gives them, only blocks without ink counting.

    NEAR_INK is 255 on the ink and its rim, 0 on paper (so that one ink
    pixel keeps its block's mean above zero).

    A block that ink touches is left empty, filled from the paper around
    it like the blocks under the ink: what paper it shows lies between
    strokes, and its own few pixels, letters' rims among them, would grey
    it. Whole blocks are plain block means, OpenCV's fast path on bytes,
    where masked means cost a product over the whole page. The last
    partial blocks are left empty too.
    """
    height, width = near_ink.shape
    rows, cols = -(-height // factor), -(-width // factor)
    whole = (slice(0, height // factor * factor), slice(0, width // factor * factor))
    size = (width // factor, height // factor)
    means = cv2.resize(values[whole], size, interpolation=cv2.INTER_AREA).astype(np.float32)
    paper = cv2.resize(near_ink[whole], size, interpolation=cv2.INTER_AREA) == 0  # no ink pixel at all
    totals = np.zeros((rows, cols), np.float32)
    totals[: size[1], : size[0]] = paper
    sums = np.zeros((rows, cols, *values.shape[2:]), np.float32)
    sums[: size[1], : size[0]] = means * (paper[..., None] if means.ndim == 3 else paper)
    return sums, totals


# Below this share of weighted pixels a layer's block sums are gathered from those pixels alone.
_SPARSE = 0.25


def _sparse_sums(
    values: np.ndarray, weight: np.ndarray, factor: int, rows: int, cols: int
) -> tuple[np.ndarray, np.ndarray]:
    found = cv2.findNonZero(weight)  # several times faster than np.nonzero on a whole page
    if found is None:
        return np.zeros((rows, cols, *values.shape[2:]), np.float32), np.zeros((rows, cols), np.float32)
    found = found.reshape(-1, 2)
    xs, ys = found[:, 0], found[:, 1]
    del found
    cell = (ys // factor).astype(np.int64) * cols + xs // factor
    w = weight[ys, xs].astype(np.float64)
    picked = values[ys, xs].reshape(len(ys), -1)
    del ys, xs
    area, cells = float(factor * factor), rows * cols
    totals = np.bincount(cell, weights=w, minlength=cells) / area
    per_channel = [np.bincount(cell, weights=w * picked[:, c], minlength=cells) for c in range(picked.shape[1])]
    sums = (np.stack(per_channel, -1) / area).astype(np.float32).reshape(rows, cols, *values.shape[2:])
    return sums, totals.astype(np.float32).reshape(rows, cols)


def _fill(sums: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """The weighted means of block SUMS and TOTALS (:func:`_block_sums`), empty blocks filled from around them.

    Push-pull: the weighted mean is taken on a pyramid of ever smaller
    grids, and a cell with no weight takes the value of the coarser grid
    above it, so holes fill smoothly and cost the JPEG coder nothing.
    """
    levels = [(sums, totals)]
    while min(levels[-1][1].shape) > 2:
        s, sw = levels[-1]
        half = (max(1, s.shape[1] // 2), max(1, s.shape[0] // 2))
        levels.append(
            (cv2.resize(s, half, interpolation=cv2.INTER_AREA), cv2.resize(sw, half, interpolation=cv2.INTER_AREA))
        )
    s, sw = levels[-1]
    total = float(sw.sum())
    mean = s.reshape(-1, *s.shape[2:]).sum(axis=0) / total if total > 0 else np.full(s.shape[2:], 255.0)
    filled = np.broadcast_to(np.asarray(mean, np.float32), s.shape).copy()
    for s, sw in reversed(levels):
        filled = cv2.resize(filled, (s.shape[1], s.shape[0]), interpolation=cv2.INTER_LINEAR).reshape(s.shape)
        # Where the cell has weight, its own mean replaces what came down from above, in place.
        shares = sw[..., None] if s.ndim == 3 else sw
        np.divide(s, shares, out=filled, where=shares > 1e-3)
    return cv2.convertScaleAbs(filled)  # rounded to the nearest level, saturated


def _jpeg(pdf: pikepdf.Pdf, pixels: np.ndarray, quality: int, subsampling: int, **extra: object) -> pikepdf.Stream:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality, subsampling=subsampling, optimize=True)
    height, width = pixels.shape[:2]
    return pdf.make_stream(
        buf.getvalue(),
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=width,
        Height=height,
        ColorSpace=Name.DeviceRGB if pixels.ndim == 3 else Name.DeviceGray,
        BitsPerComponent=8,
        Filter=Name.DCTDecode,
        **extra,
    )


def _factor(dpi: float, target: float) -> int:
    """How many scan pixels a side of one layer pixel covers: a whole number, so blocks are exact."""
    return max(1, round(dpi / target))


def _stencil(pdf: pikepdf.Pdf, ink: np.ndarray) -> pikepdf.Stream:
    height, width = ink.shape
    return pdf.make_stream(
        g4(~ink),
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=width,
        Height=height,
        ImageMask=True,
        BitsPerComponent=1,
        Filter=Name.CCITTFaxDecode,
        DecodeParms=_g4_parms(width, height),
    )


def _mrc(pdf: pikepdf.Pdf, arr: np.ndarray, dpi: float) -> Layers:
    ink = find_ink(arr, dpi)
    any_ink = (ink.dark | ink.pale | ink.red | ink.other).view(np.uint8) * np.uint8(255)
    # The paper is taken away from the ink and its anti-aliased rim, then filled in.
    rim = max(1, round(dpi / 150))
    near_ink = cv2.dilate(any_ink, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * rim + 1, 2 * rim + 1)))
    del any_ink
    paper = _fill(*_paper_blocks(arr, near_ink, _factor(dpi, BG_DPI)))
    layers = [("/Bg", _jpeg(pdf, paper, BG_QUALITY, 2))]
    inks = (
        ("/Fp", ink.pale, DARK_QUALITY),
        ("/Fg", ink.dark, DARK_QUALITY),
        ("/Fr", ink.red, COLOUR_QUALITY),
        ("/Fc", ink.other, COLOUR_QUALITY),
    )
    cell = _factor(dpi, FG_DPI)
    for name, where, quality in inks:
        if not where.any():
            continue
        if name == "/Fg":
            # The words stay on the whole page: their box would save little more than the margins, and coded
            # over a box the storage benchmark's re-reading of them came out 0.05-0.12 point worse (the
            # drawings differing in 0.1% of their pixels: thin marks read either way).
            found = (0, 0, where.shape[1], where.shape[0])
        else:
            # A seal or a signature covers a few square centimetres: coded over that box and placed on the
            # page by a form, its mask and colours cost a fraction of a whole page's.
            x, y, w, h = cv2.boundingRect(where.view(np.uint8))
            found = (x, y, w, h)
        left, top, width, height = _on_grid(found, cell)
        box = (slice(top, top + height), slice(left, left + width))  # may reach past the page's last cell
        mask = np.zeros((height, width), bool)
        inside = where[box]
        mask[: inside.shape[0], : inside.shape[1]] = inside
        weight = cv2.bitwise_and(ink.weight[box], ink.weight[box], mask=inside.view(np.uint8))
        colour = _fill(*_block_sums(arr[box], weight, cell))
        # Smoothed: what varies from one cell to the next is grain and the letters' rims, not the ink.
        colour = cv2.GaussianBlur(colour, (3, 3), 0)
        # 4:4:4: chroma subsampling would smear the ink's colour over its neighbours.
        image = _jpeg(pdf, colour, quality, 0, Mask=_stencil(pdf, mask))
        layers.append((name, _placed(pdf, image, (left, top, width, height), arr.shape[1], arr.shape[0])))
    return Layers(xobjects=tuple(layers), kind="mrc")


def _on_grid(box: tuple[int, int, int, int], cell: int) -> tuple[int, int, int, int]:
    """BOX (left, top, width, height) grown to whole CELL x CELL cells of the page's grid.

    A layer's colour image has a pixel per cell and is drawn over the same
    box as its mask: a box that is not a whole number of cells would stretch
    it, the colours landing up to a cell's width beside their letters at the
    far edge (a thin hook painted with the paper's colour next to it, and
    read as another mark).
    """
    left, top, width, height = box
    right, bottom = left + width, top + height
    left, top = left - left % cell, top - top % cell
    return left, top, -(-(right - left) // cell) * cell, -(-(bottom - top) // cell) * cell


def _placed(
    pdf: pikepdf.Pdf, image: pikepdf.Stream, box: tuple[int, int, int, int], width: int, height: int
) -> pikepdf.Stream:
    """A form drawing IMAGE over BOX (pixels, from the top left) of a WIDTH x HEIGHT page, drawn on the unit square.

    Every layer is then painted the same way, over the whole page, whatever
    part of it its image covers. A plain form: no transparency group, as
    PDF/A-1 requires.
    """
    left, top, w, h = box
    # The box drawn a thousandth of a pixel inside its edges, in nine decimals (a /Matrix of reals would be
    # rounded to six): a renderer that rounds an image's edges to whole pixels (poppler's Splash floors one
    # and ceils the other) must not widen it by a pixel on a rounding error and resample the ink.
    inset = 1e-3
    matrix = (
        (w - 2 * inset) / width,
        0,
        0,
        (h - 2 * inset) / height,
        (left + inset) / width,
        1 - (top + h - inset) / height,
    )
    return pdf.make_stream(
        (" ".join(f"{v:.9f}" for v in matrix) + " cm /Im Do").encode("ascii"),
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=[0, 0, 1, 1],
        Resources=Dictionary(XObject=Dictionary(Im=image)),
    )
