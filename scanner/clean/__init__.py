"""Cleaning a scanned page: upright, level, and a clean image for the recognizer.

Two images leave this stage on one pixel grid (up to a scale factor, see
below): the archival colour page and the recognizer's grey page.

The archival page is only turned and levelled, nothing else: red seals stay
red, the paper keeps its colour, the resolution stays the scan's (Nghị định
30/2020 wants the copy as the paper looks). When nothing had to change the
archival page is the scanner's file itself, so a JPEG goes into a lossless
PDF without being decoded and re-encoded (the compact PDF codes it anew:
``scanner.pdf.compact``).

The recognizer's page gets everything that helps reading and would falsify
a copy: red seal ink dropped (the words under a seal are read), paper
colour, lid shadows and uneven lighting divided out, scanner borders
whitened, dust removed. Pages scanned above 400 dpi are recognized at
300 dpi: Tesseract reads no better from bigger letters, only slower and in
more memory; the OCR stage scales word boxes back to the archival grid.
The other way, a page whose letters are small (x-height under 16 px: a
phone photo, a 150 dpi scan) is recognized from a copy enlarged 2× (cubic):
Tesseract loses marks and confuses letters that small, and reads them
better from smooth larger strokes than from the few pixels it was given.

Every step can be switched off in the ``[clean]`` section of the
configuration, and each is measured by the OCR benchmark (benchmarks/ocr).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from scanner.model import CleanedPage, PageImage
from scanner.tools import tesseract

# Pages are cleaned in parallel worker processes; OpenCV's own thread pool
# would only add switching overhead to every call (as Tesseract's OpenMP does).
cv2.setNumThreads(1)


def _keep_page_arrays() -> None:
    """Let glibc keep freed page-sized arrays for the next ones instead of giving them back to the kernel.

    Cleaning and coding a page allocate a few dozen arrays of a whole page
    (26 MB for 300 dpi A4 colour). By default glibc maps each one from the
    kernel and unmaps it when freed, so the next is faulted in and zeroed
    afresh: 400,000 page faults and 1-2.5 s of system time per 20 pages.
    Served from the heap (arrays up to 32 MB, glibc's largest setting) and
    the heap trimmed only past 256 MB free, they are reused: 29,000 faults,
    0.3 s, the same peak memory (``tests/clean/test_clean.py``). Other C
    libraries (musl) are left as they are.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on (no ldconfig lookup)
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
_keep_page_arrays()

# Residual skew below this is left alone: rotating costs a resample of the
# archival image, and Tesseract reads lines tilted this little without loss.
MIN_SKEW = 0.1
MAX_SKEW = 15.0
JPEG_QUALITY = 92
# Above this the recognizer's copy is brought down to OCR_DPI.
MAX_OCR_DPI = 400
OCR_DPI = 300
# The orientation vote is trusted above this margin; below it Tesseract's OSD decides.
ORIENTATION_MARGIN = 0.25
# Letters shorter than this (x-height in pixels: a phone photo, a 150 dpi scan) are read from a copy
# enlarged UPSCALE times; Tesseract's line finder and classifier lose marks and small letters below it.
MIN_X_HEIGHT = 16
UPSCALE = 2
_PACKBITS = 32773  # TIFF compression tag value


@dataclass(frozen=True)
class CleanOptions:
    """Which cleaning steps run; all on by default (the ``[clean]`` section of the configuration)."""

    orientation: bool = True
    deskew: bool = True
    dropout: bool = True  # red seal ink removed from the recognizer's copy
    flatten: bool = True  # paper colour, lid shadows and uneven light divided out
    borders: bool = True  # dark scanner borders along the edges whitened
    despeckle: bool = True  # isolated dust specks removed
    upscale: bool = True  # pages with small letters (x-height under MIN_X_HEIGHT px) recognized at 2×


# --- reading ----------------------------------------------------------------------------


def _read(path: Path) -> np.ndarray:
    """The page as 8-bit grey (2-D) or BGR (3-D); PIL reads what OpenCV cannot (CMYK JPEG, odd TIFFs)."""
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    del data
    if img is None or img.dtype != np.uint8 or img.ndim not in (2, 3):
        with Image.open(path) as im:
            rgb = im.convert("RGB") if im.mode not in ("L", "1") else im.convert("L")
            arr = np.asarray(rgb)
        return arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    elif img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return img


def recognizer_grey(img: np.ndarray, dropout: bool = True) -> np.ndarray:
    """Grey levels for the recognizer; with DROPOUT, red ink (seals) turns to paper.

    Red seal ink is bright in the red channel and dark in green and blue;
    black text is dark in all three. Where a pixel is clearly red (its red
    channel well above the other two) the red channel replaces the luminance,
    so the seal fades to the paper while black strokes under it stay black. Blue signatures and black text are
    untouched. Done in strips of rows to keep memory near one grey page.
    """
    if img.ndim == 2:
        return img
    out = np.empty(img.shape[:2], np.uint8)
    for y in range(0, img.shape[0], 512):
        part = img[y : y + 512]
        lum = cv2.cvtColor(part, cv2.COLOR_BGR2GRAY)
        if dropout:
            b, g, r = cv2.split(part)
            redness = cv2.subtract(r, cv2.max(g, b))  # saturates at 0: black, grey and blue are not red
            lum = cv2.max(lum, cv2.min(r, cv2.LUT(redness, _RED_RAMP)))
        out[y : y + 512] = lum
    return out


# Redness (red minus the larger of green and blue) → how much of the red channel shows through:
# none below 25, all above 75, so the chroma JPEG smears around black strokes changes nothing.
_RED_RAMP = np.clip((np.arange(256) - 25) * 255 / 50, 0, 255).astype(np.uint8)


# --- flattening, borders, dust --------------------------------------------------------------


def components(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components of BINARY with their stats, labelled by BBDT.

    OpenCV's default with stats and 32-bit labels takes the slower SAUF
    scan (2.5x on a 300 dpi page: 60 against 25 ms); the components are the
    same whichever algorithm labels them. A full page is labelled three
    times (dust on the recognizer's page, dust and pale ink on the compact
    copy), so it shows in the CPU per page.
    """
    return cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_BBDT)


def _small(grey: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """GREY shrunk by the largest whole factor that keeps it at least WIDTH wide, and that scale.

    A whole factor takes OpenCV's exact block-mean path, four times cheaper
    than area resampling to an arbitrary width, and the page is shrunk
    several times per page (blank score, background, borders, letter mask).
    The last rows and columns that do not fill a block are left out.
    """
    k = grey.shape[1] // max(width, 1)
    if k < 2:
        return grey, 1.0
    height, cols = grey.shape[0] // k, grey.shape[1] // k
    return cv2.resize(grey[: height * k, : cols * k], (cols, height), interpolation=cv2.INTER_AREA), 1 / k


def flatten(page: np.ndarray) -> np.ndarray:
    """Divide the page by its own background so paper is white everywhere and ink keeps its darkness.

    The background is what a morphological closing wider than any stroke
    leaves of a downscaled page (text gone; paper colour, lid shadows and
    lighting kept, a shadow's ramp in place up to the paper's edge), smoothed
    and scaled back up. Dividing by it removes grey or
    yellowed paper and the gradient of a lid shadow in one step, where a
    global threshold would turn the shadow into a black band.
    A colour PAGE is flattened channel by channel, each by its own
    background (the same as flattening the three planes apart, without
    copying them out).
    """
    # Resampled to exactly 400 px, not by a whole factor (``_small``, four times cheaper): the readings
    # turn on the background's last grey level. Tesseract read a scribbled signature on a skewed test page
    # as "\\À"; and the compact coding's Otsu level for dark ink moved by one on a colour page, thinning
    # every letter's mask by 1.4% and dropping a line of the stored copy's reading.
    scale = min(1.0, 400 / max(page.shape[1], 1))
    small = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else page
    k = max(3, round(small.shape[1] / 60) | 1)  # ~3.5 mm: wider than a bold stroke, narrower than the margins
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    bg = cv2.medianBlur(bg, k)
    bg = np.maximum(bg, 1)
    if scale < 1:
        bg = cv2.resize(bg, (page.shape[1], page.shape[0]), interpolation=cv2.INTER_LINEAR)
    divided = cv2.divide(page, bg, scale=255)
    if divided.ndim == 2:
        return _paper_to_white(divided)
    # Plane by plane: a three-channel lookup table takes OpenCV's slow path (58 ms against 3 x 3 ms).
    samples = cv2.split(np.ascontiguousarray(divided[::_SAMPLE, ::_SAMPLE]))
    planes = cv2.split(divided)
    return cv2.merge([cv2.LUT(plane, _white_lut(sample)) for plane, sample in zip(planes, samples, strict=True)])


def _paper_to_white(grey: np.ndarray) -> np.ndarray:
    """Stretch the levels so the paper's noise (grain, sensor noise, JPEG ripple) becomes plain white.

    The paper level and its spread come from a sample of the page (most of
    a page is paper); everything lighter than three spreads under the paper
    level turns white and the ink's grey levels are stretched over the rest.
    The lightest grey levels left (above ``_KNEE``) go to white too: on a
    blank backside they are the front side's bleed-through, which Tesseract's
    Otsu threshold would blow up into "text" on a page with nothing else.
    A clean white page costs Tesseract fewer blobs to look at and compresses
    to a fraction of the noisy one.
    """
    return cv2.LUT(grey, _white_lut(grey[::_SAMPLE, ::_SAMPLE]))


# Every seventh pixel of every seventh row: plenty to tell the paper's level and spread.
_SAMPLE = 7


def _white_lut(sample: np.ndarray) -> np.ndarray:
    # The medians of the sample and of its distances from the paper level, from its histogram: np.median
    # sorts 180,000 pixels twice (2.7 ms a plane); the values are the same (halves and quarters, exact).
    counts = np.bincount(sample.ravel(), minlength=256)
    paper = _median(_LEVELS, counts)
    spread = 1.4826 * _median(np.abs(_LEVELS - paper), counts)
    white = max(128.0, paper - 3 * max(spread, 1.0))
    lut = np.clip(np.arange(256, dtype=np.float32) * 255 / white, 0, 255).astype(np.uint8)
    lut[lut > _KNEE] = 255
    return lut


_KNEE = 235
_LEVELS = np.arange(256, dtype=np.float64)


def _median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of a sample holding COUNTS[i] times VALUES[i] (the mean of the middle two for an even count)."""
    order = np.argsort(values, kind="stable")
    ranks = np.cumsum(counts[order])
    n = int(ranks[-1])
    low, high = np.searchsorted(ranks, [(n - 1) // 2 + 1, n // 2 + 1])
    return float((values[order][low] + values[order][high]) / 2)


def whiten_borders(grey: np.ndarray, max_frac: float = 0.08) -> np.ndarray:
    """Paint white the dark bands that run along an edge: the scanner lid or bed outside the paper.

    A band is a run of rows (columns) from the edge inwards that are mostly
    dark; it must start at the edge and stops at the first light row, so a
    line of text near the margin, which has blank paper above it, is never
    touched. At most MAX_FRAC of the page per side is whitened.
    """
    small, scale = _small(grey, 600)
    dark = small < 128
    h, w = dark.shape
    rows, cols = dark.mean(axis=1), dark.mean(axis=0)
    out = grey

    def run(profile: np.ndarray, limit: int) -> int:
        n = 0
        while n < limit and profile[n] > 0.5:
            n += 1
        return n + (2 if n else 0)  # and the soft edge of the band

    bands = (
        ("top", run(rows, int(h * max_frac))),
        ("bottom", run(rows[::-1], int(h * max_frac))),
        ("left", run(cols, int(w * max_frac))),
        ("right", run(cols[::-1], int(w * max_frac))),
    )
    for side, n in bands:
        if not n:
            continue
        if out is grey:
            out = grey.copy()
        px = int(np.ceil(n / scale))
        if side == "top":
            out[:px] = 255
        elif side == "bottom":
            out[-px:] = 255
        elif side == "left":
            out[:, :px] = 255
        else:
            out[:, -px:] = 255
    return out


# Above this many components to paint, one lookup over the whole label image beats painting box by box.
_MANY = 5000


def paint(image: np.ndarray, labels: np.ndarray, stats: np.ndarray, which: np.ndarray, value: int) -> np.ndarray:
    """A copy of IMAGE with the pixels of the components WHICH (of LABELS, STATS) set to VALUE; IMAGE if none.

    A page's few specks are painted one box at a time; a lookup over the
    whole label image costs more than a thousand boxes.
    """
    if which.size == 0:
        return image
    if which.size > _MANY:
        chosen = np.zeros(len(stats), bool)
        chosen[which] = True
        return np.where(chosen[labels], value, image).astype(image.dtype)
    out = image.copy()
    for label in which:
        x, y, w, h = stats[label, :4]
        box = (slice(y, y + h), slice(x, x + w))
        out[box][labels[box] == label] = value
    return out


def specks(ink: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, stats, the specks of dust) of INK, a 0/1 mask at DPI: see :func:`despeckle`."""
    limit = max(2, round((dpi / 300) ** 2 * 8))
    _, labels, stats, _ = components(ink)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] <= limit) + 1
    if small.size == 0:
        return labels, stats, small
    reach = max(3, round(dpi / 300 * 12))
    near = cv2.dilate(paint(ink, labels, stats, small, 0), cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach)))
    lone = [label for label in small if not near[_box(stats[label])].any()]
    return labels, stats, np.array(lone, np.int64)


def _box(stat: np.ndarray) -> tuple[slice, slice]:
    x, y, w, h = stat[:4]
    return slice(y, y + h), slice(x, x + w)


def despeckle(grey: np.ndarray, dpi: float, *, edges: bool = False) -> np.ndarray:
    """Remove specks of dust: dark dots smaller than a tenth of a millimetre squared with nothing near them.

    Isolated is what tells dust from a diacritic: the dot of "ị" or the hook
    of "ở" is as small but sits a stroke's width from its letter, so a small
    component survives when the dilated ink of any other component touches it.

    With EDGES, what touches the edge of the image (or nearly) goes too: a
    page's margins keep its letters off the edge, and what reaches it is the
    paper's edge, a lid shadow's rim, a punched hole or the scanner bed.
    Dark ink touching the edge goes whole; within a thin rim along each edge
    (:func:`_clear_rims`) grey goes as well. A lid shadow divided out by
    :func:`flatten` still leaves the paper's rim as a broken, grainy grey
    band along the edge (sharpest on a skewed scan, where it meets the bed at
    an angle), which Tesseract read as a line of junk.
    """
    ink = (grey < 128).astype(np.uint8)
    labels, stats, lone = specks(ink, dpi)
    r = max(2, round(dpi / 100))  # a turned page's rim may stop a pixel or two short of the edge
    if edges:
        h, w = grey.shape
        x, y, bw, bh = (stats[1:, i] for i in range(4))
        touching = np.flatnonzero((x < r) | (y < r) | (x + bw > w - r) | (y + bh > h - r)) + 1
        lone = np.concatenate([lone, touching]).astype(np.int64)
    out = paint(grey, labels, stats, lone, 255)
    return _clear_rims(out, r) if edges else out


# The rim along each edge cleared of grey, as a share of the page's shorter side (2.5%: 5 mm of an A4
# page, where no letter of a page with margins stands).
_RIM = 0.025


def _clear_rims(grey: np.ndarray, reach: int) -> np.ndarray:
    """GREY with whatever is not paper and touches an edge whitened, within the rim along that edge."""
    h, w = grey.shape
    d = max(reach + 1, round(_RIM * min(h, w)))
    everything = slice(None)
    # (the rim, and which of a component's stats (x, y, width, height) say that it touches the edge)
    rims = (
        ((slice(0, d), everything), lambda x, y, bw, bh: y < reach),
        ((slice(h - d, h), everything), lambda x, y, bw, bh: y + bh > d - reach),
        ((everything, slice(0, d)), lambda x, y, bw, bh: x < reach),
        ((everything, slice(w - d, w)), lambda x, y, bw, bh: x + bw > d - reach),
    )
    out = grey
    for rim, touches in rims:
        strip = out[rim]
        _, labels, stats, _ = components((strip < _KNEE).astype(np.uint8))
        touching = np.flatnonzero(touches(*(stats[1:, i] for i in range(4)))) + 1
        if touching.size:
            out = out if out is not grey else grey.copy()
            out[rim] = paint(strip, labels, stats, touching, 255)
    return out


# --- orientation and skew -------------------------------------------------------------------


def _ink_mask(grey: np.ndarray, width: int = 1200) -> np.ndarray:
    """A small binary image where 1 = ink, letters only, for cheap angle searches.

    Anything longer than 8% of the page is dropped: the paper's edge, rules,
    a signature or a scanner border would outweigh the letters in the
    projections, and the edge of a paper skewed on the glass is a long
    straight line at its own angle.
    """
    small, _ = _small(grey, width)
    _, binary = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, labels, stats, _ = components(binary)
    longest = 0.08 * max(binary.shape)
    drop = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) > longest
    drop[0] = False
    if drop.any():
        binary[drop[labels]] = 0
    return binary


def _points(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    found = cv2.findNonZero(ink)  # the points in np.nonzero's order, at a fraction of its cost
    if found is None or len(found) < 200:
        return None
    found = found.reshape(-1, 2)
    xs, ys = found[:, 0], found[:, 1]
    if len(xs) > 60_000:  # sample: the histogram shape does not need every pixel
        pick = np.random.default_rng(0).choice(len(xs), 60_000, replace=False)
        xs, ys = xs[pick], ys[pick]
    return xs.astype(np.float64) - ink.shape[1] / 2, ys.astype(np.float64)


def _best_angle(xs: np.ndarray, ys: np.ndarray, height: int, max_angle: float) -> tuple[float, float]:
    """(angle, sharpness) of the row histogram that is spikiest, coarse to fine."""

    def score(angle: float) -> float:
        t = np.deg2rad(angle)
        rows = ys * np.cos(t) - xs * np.sin(t)
        hist = np.bincount(np.clip(rows + height, 0, 3 * height - 1).astype(np.int64), minlength=3 * height)
        return float(np.square(hist.astype(np.float64)).sum())

    best = 0.0
    for step, span in ((1.0, max_angle), (0.2, 1.0), (0.04, 0.2)):
        angles = np.arange(best - span, best + span + step / 2, step)
        best = float(max(angles, key=score))
    return best, score(best) / (len(xs) ** 2)


def _mask_skew(ink: np.ndarray, max_angle: float = MAX_SKEW) -> float:
    pts = _points(ink)
    if pts is None:
        return 0.0
    return -_best_angle(*pts, ink.shape[0], max_angle)[0]


def estimate_skew(grey: np.ndarray, max_angle: float = MAX_SKEW) -> float:
    """The text lines' angle in degrees (counter-clockwise positive), by projection profiles.

    Text lines make the row histogram of ink spiky when the page is level;
    the angle that maximizes the histogram's sum of squares is the skew. A
    coarse search then two finer ones keep it to about fifty projections of
    a sample of the ink pixels of a downscaled page.
    """
    return _mask_skew(_ink_mask(grey), max_angle)


def _flip_vote(ink: np.ndarray) -> float:
    """Whether the marks sit on top of the letters: > 0 upright, < 0 upside down, in -1..1.

    Vietnamese is top-heavy: tone marks, circumflexes, breves and the dots
    of i sit just above their letter on most words, and only the dot of the
    heavy tone (nặng) sits just below. So small components (shorter than
    half the common letter height) are counted by where the nearest ink is:
    right under them (a mark above a letter) or right over them (a mark
    below one). Dust with no letter near counts for neither.
    """
    n, _, stats, _ = components(ink)
    if n < 30:
        return 0.0
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    areas = stats[1:, cv2.CC_STAT_AREA]
    letter = float(np.median(heights[areas >= 12])) if np.count_nonzero(areas >= 12) else 0.0
    if letter < 4:
        return 0.0
    marks = stats[1:][(heights <= letter * 0.5) & (areas >= 2)].astype(np.int64)
    x, y, bw, bh = marks[:, 0], marks[:, 1], marks[:, 2], marks[:, 3]
    reach = max(2, round(letter * 0.5))
    h = ink.shape[0]
    sums = cv2.integral(ink)
    # Ink in the band of REACH rows right under each mark and in the band right over it, from the integral
    # image, all marks at once (a Python loop over them cost 2 ms a page).
    below = _band_sums(sums, y + bh + 1, y + bh + 1 + reach, x, x + bw, h)
    above = _band_sums(sums, y - 1 - reach, y - 1, x, x + bw, h)
    over = int(np.count_nonzero((below > 0) & (above == 0)))
    under = int(np.count_nonzero((above > 0) & (below == 0)))
    total = over + under
    return (over - under) / total if total >= 20 else 0.0


def _band_sums(
    sums: np.ndarray, y0: np.ndarray, y1: np.ndarray, x0: np.ndarray, x1: np.ndarray, height: int
) -> np.ndarray:
    """Ink in rows Y0..Y1 (clipped to the page) and columns X0..X1 of each box, from the integral image SUMS."""
    y0, y1 = np.clip(y0, 0, height), np.clip(y1, 0, height)
    total = sums[y1, x1] - sums[y0, x1] - sums[y1, x0] + sums[y0, x0]
    return np.where(y1 > y0, total, 0)


def _orientation_vote(ink: np.ndarray) -> tuple[int, float]:
    """(clockwise quarter turns in degrees that make the page upright, confidence 0-1) without OCR.

    Text lines are horizontal on an upright page: the row histogram is far
    spikier than the column histogram, which tells 0/180 from 90/270; the
    top-heaviness of Vietnamese lines then tells 0 from 180.
    """
    pts, pts_t = _points(ink), _points(np.ascontiguousarray(ink.T))
    if pts is None or pts_t is None:
        return 0, 0.0
    angle, rows = _best_angle(*pts, ink.shape[0], 6.0)
    angle_t, cols = _best_angle(*pts_t, ink.shape[1], 6.0)
    sideways = cols > rows
    level = ink.T if sideways else ink
    m = cv2.getRotationMatrix2D((level.shape[1] / 2, level.shape[0] / 2), -(angle_t if sideways else angle), 1.0)
    level = cv2.warpAffine(np.ascontiguousarray(level), m, (level.shape[1], level.shape[0]), flags=cv2.INTER_NEAREST)
    # ink.T is the page turned 90° clockwise and mirrored left-right; the mirror does not change a row vote.
    vote = _flip_vote(level)
    # transpose = a clockwise turn then a mirror: top-heavy after it means the page was turned counter-clockwise
    turns = (90, 270) if sideways else (0, 180)
    turn = turns[0] if vote > 0 else turns[1]
    sharp = max(rows, cols) / max(min(rows, cols), 1e-12)
    confidence = min(abs(vote) * 2, 1.0) * min((sharp - 1) * 2, 1.0)
    return turn, confidence


_QUARTER = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def detect_orientation(grey: np.ndarray, work: Path, ink: np.ndarray | None = None) -> int:
    """Degrees clockwise that make the page upright.

    The cheap vote of :func:`_orientation_vote` decides when it is clear;
    otherwise Tesseract's OSD is asked on a copy brought to about 150 dpi
    (it needs letters of 20-30 px), and its low-confidence answers are
    ignored, because a wrong turn is worse than none.
    """
    ink = _ink_mask(grey) if ink is None else ink
    if np.count_nonzero(ink) < 500:
        return 0  # a blank page (or a few specks): nothing to turn, and OSD would find too few letters
    turn, confidence = _orientation_vote(ink)
    if confidence >= ORIENTATION_MARGIN:
        return turn
    small, _ = _small(grey, 1250)
    probe = work.with_name(work.stem + "-osd.png")
    cv2.imwrite(str(probe), small)
    try:
        found = tesseract.osd(probe)
    finally:
        probe.unlink(missing_ok=True)
    if found is None or found.confidence < 1.5:
        return turn if confidence > 0.05 else 0
    return found.rotate


def _rotate_bound(img: np.ndarray, angle: float, flags: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Rotate by ANGLE degrees counter-clockwise, keeping the page size and filling with white."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    border = (255, 255, 255) if img.ndim == 3 else 255
    return cv2.warpAffine(img, m, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def x_height(ink: np.ndarray, scale: float = 1.0) -> float:
    """The height of the page's lower-case letters in pixels of the page (0 when it has too few to tell).

    INK is the upright letter mask of :func:`_ink_mask`, SCALE its size over
    the page's. The most common height of letter-shaped components is the
    x-height: "a", "n", "o", "u" outnumber the letters with ascenders, and
    the tone marks are separate components, far shorter.
    """
    n, _, stats, _ = components(ink)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    letters = heights[(heights >= 3) & (widths <= 3 * heights) & (heights <= ink.shape[0] // 20)]
    if letters.size < 50:
        return 0.0
    values, counts = np.unique(letters, return_counts=True)
    return float(values[counts.argmax()]) / scale


# --- blank pages ----------------------------------------------------------------------------


def ink_ratio(grey: np.ndarray) -> float:
    """Share of the page's inner area covered by ink: the blank-page score.

    Margins (5% each side) are left out because scanner borders and lid
    shadows live there; a median filter removes the dust a blank backside
    still shows; faint bleed-through from the front side stays under the
    fixed darkness threshold. Capture compares it with ``capture.blank_ink``
    and drops a page only when the recognizer also found no letter on it.
    """
    small, _ = _small(grey, 800)
    small = cv2.medianBlur(small, 3)
    h, w = small.shape
    inner = small[h // 20 : h - h // 20, w // 20 : w - w // 20]
    if inner.size == 0:
        return 0.0
    return float(np.count_nonzero(inner < 140)) / inner.size


# --- the stage ------------------------------------------------------------------------------


def clean_page(page: PageImage, out_dir: Path, options: CleanOptions = CleanOptions()) -> CleanedPage:
    """Make PAGE upright and level; write the archival and the recognizer's images into OUT_DIR.

    The recognizer's image is a PackBits TIFF of the cleaned grey page:
    a flattened page is long runs of white, which PackBits stores about as
    small as PNG's fastest level (0.7 MB for a 300 dpi A4 page) at a fifth
    of its CPU (13 against 66 ms: PNG's row filters cost even uncompressed).
    It may be smaller than the archival one (pages above 400 dpi).
    """
    return _clean(page, out_dir, options, keep_pixels=False)[0]


def clean_page_pixels(
    page: PageImage, out_dir: Path, options: CleanOptions = CleanOptions()
) -> tuple[CleanedPage, np.ndarray | None]:
    """:func:`clean_page`, and the archival image's pixels (RGB or grey) when they are in memory anyway.

    A caller that codes the archival image next (the compact coding) takes
    them instead of decoding the file again: the scan's own pixels when the
    page was not turned (the file is the scan, a JPEG OpenCV and Pillow
    decode alike), the turned pixels its file was written from when it was
    (a JPEG's before their coding: one lossy generation fewer). None when an
    unturned page was too large to keep decoded or is not a plain JPEG (a
    PNG of a palette or bitonal page is read as the coding reads it).
    """
    return _clean(page, out_dir, options, keep_pixels=True)


def _clean(
    page: PageImage, out_dir: Path, options: CleanOptions, keep_pixels: bool
) -> tuple[CleanedPage, np.ndarray | None]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / page.path.stem
    decoded = _read(page.path)
    # The blank-page score is taken on the scan's own grey levels: a backside that carries
    # only a red stamp ("ĐÃ THU PHÍ", a seal) has content, even though the recognizer never sees it.
    ink = ink_ratio(decoded if decoded.ndim == 2 else cv2.cvtColor(decoded, cv2.COLOR_BGR2GRAY))
    grey = recognizer_grey(decoded, options.dropout)
    scan: np.ndarray | None = decoded
    del decoded
    dpi = page.dpi or OCR_DPI
    if dpi > MAX_OCR_DPI:
        scan = None  # a large page is read again for the archival copy, if it has to be turned at all
        f = OCR_DPI / dpi
        grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        dpi = OCR_DPI
    if options.flatten:
        grey = flatten(grey)
    if options.borders:
        grey = whiten_borders(grey)
    mask = _ink_mask(grey) if options.orientation or options.deskew or options.upscale else None
    rotation = detect_orientation(grey, stem, mask) if options.orientation else 0
    if rotation:
        grey = cv2.rotate(grey, _QUARTER[rotation])
    skew, letters = 0.0, 0.0
    if mask is not None:
        mask_scale = mask.shape[1] / grey.shape[0 if rotation in (90, 270) else 1]
        upright = cv2.rotate(mask, _QUARTER[rotation]) if rotation else mask
        if options.deskew:
            skew = _mask_skew(upright)
        if options.upscale:
            letters = x_height(upright, mask_scale)
        del upright
    del mask
    if abs(skew) < MIN_SKEW or abs(skew) > MAX_SKEW:
        skew = 0.0
    if skew:
        grey = _rotate_bound(grey, -skew)
    if options.despeckle:
        grey = despeckle(grey, dpi, edges=options.borders)
    if 0 < letters < MIN_X_HEIGHT:  # the OCR stage scales the boxes back by the two images' widths
        grey = cv2.resize(grey, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
    ocr_path = stem.with_name(stem.name + "-ocr.tif")
    # Coded in memory and written by Python: cv2.imwrite only returns False on a full disk and leaves a
    # truncated file; a write that fails here raises the OSError (ENOSPC) that names the machine's fault.
    coded, tiff = cv2.imencode(".tif", grey, [cv2.IMWRITE_TIFF_COMPRESSION, _PACKBITS])
    del grey
    if not coded:
        raise OSError(f"{ocr_path.name}: không mã hóa được ảnh cho nhận dạng")
    ocr_path.write_bytes(tiff.tobytes())
    del tiff

    image, pixels = page, None
    if rotation or skew:
        image, pixels = _transform_archival(page, rotation, skew, stem, scan)
    elif keep_pixels and scan is not None and _plain_jpeg(page.path):
        pixels = cv2.cvtColor(scan, cv2.COLOR_BGR2RGB, dst=scan) if scan.ndim == 3 else scan  # in place: no copy
    cleaned = CleanedPage(image=image, ocr_image=ocr_path, rotation=rotation, skew=round(skew, 2), ink=round(ink, 5))
    return cleaned, pixels


def _plain_jpeg(path: Path) -> bool:
    """A grey or RGB JPEG: OpenCV decodes it to the very pixels Pillow gives (not so a CMYK one)."""
    if path.suffix.lower() not in (".jpg", ".jpeg"):
        return False
    with Image.open(path) as im:
        return im.format == "JPEG" and im.mode in ("L", "RGB")


def _transform_archival(
    page: PageImage, rotation: int, skew: float, stem: Path, scan: np.ndarray | None
) -> tuple[PageImage, np.ndarray | None]:
    """The scan turned and levelled, from the pixels already decoded (SCAN, BGR or grey) when given, and the
    turned pixels (RGB or grey) its file was written from."""
    if scan is not None:
        arr = cv2.cvtColor(scan, cv2.COLOR_BGR2RGB) if scan.ndim == 3 else scan
    else:
        with Image.open(page.path) as im:
            mode = im.mode
            arr = np.asarray(im if mode in ("L", "RGB") else im.convert("L" if mode == "1" else "RGB"))
    if rotation:
        arr = cv2.rotate(arr, _QUARTER[rotation])
    if skew:
        arr = _rotate_bound(arr, -skew)
    out_img = Image.fromarray(arr)
    if page.path.suffix.lower() in (".jpg", ".jpeg"):
        dest = stem.with_name(stem.name + "-clean.jpg")
        out_img.save(dest, format="JPEG", quality=JPEG_QUALITY, dpi=(page.dpi, page.dpi))
    else:
        dest = stem.with_name(stem.name + "-clean.png")
        out_img.save(dest, format="PNG", dpi=(page.dpi, page.dpi), compress_level=3)
    image = PageImage(path=dest, width=out_img.width, height=out_img.height, dpi=page.dpi, source=page.source)
    return image, arr
