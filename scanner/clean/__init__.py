"""Cleaning a scanned page: upright orientation and deskew.

Two images leave this stage on one pixel grid: the archival colour page
(rotated and deskewed, nothing else: red seals stay red, the resolution stays
the scan's) and a grey image for the recognizer. When nothing had to change
the archival page is the scanner's file itself, so a JPEG goes into the PDF
without being decoded and re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from scanner.model import CleanedPage, PageImage
from scanner.tools import tesseract

# Residual skew below this is left alone: rotating costs a resample of the
# archival image, and Tesseract reads lines tilted this little without loss.
MIN_SKEW = 0.1
MAX_SKEW = 15.0
JPEG_QUALITY = 92


@dataclass(frozen=True)
class CleanOptions:
    orientation: bool = True
    deskew: bool = True


def _grey(path: Path) -> np.ndarray:
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if img is None:
        with Image.open(path) as im:
            img = np.asarray(im.convert("L"))
    return img


def _ink_mask(grey: np.ndarray, width: int = 1200) -> np.ndarray:
    """A small binary image where 1 = ink, for cheap angle searches."""
    scale = min(1.0, width / grey.shape[1])
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    _, binary = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return binary


def estimate_skew(grey: np.ndarray, max_angle: float = MAX_SKEW) -> float:
    """The text lines' angle in degrees (counter-clockwise positive), by projection profiles.

    Text lines make the row histogram of ink spiky when the page is level;
    the angle that maximizes the histogram's variance is the skew. A coarse
    search then a fine one keeps it to about a hundred projections of the ink
    pixels of a downscaled page.
    """
    ink = _ink_mask(grey)
    ys, xs = np.nonzero(ink)
    if len(xs) < 200:
        return 0.0
    if len(xs) > 200_000:  # sample: the histogram shape does not need every pixel
        pick = np.random.default_rng(0).choice(len(xs), 200_000, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float64) - ink.shape[1] / 2
    ys = ys.astype(np.float64)
    height = ink.shape[0]

    def score(angle: float) -> float:
        t = np.deg2rad(angle)
        rows = ys * np.cos(t) - xs * np.sin(t)
        hist = np.bincount(np.clip(rows + height, 0, 3 * height - 1).astype(np.int64), minlength=3 * height)
        return float(np.square(hist.astype(np.float64)).sum())

    best = 0.0
    for step, span in ((1.0, max_angle), (0.1, 1.0), (0.02, 0.1)):
        angles = np.arange(best - span, best + span + step / 2, step)
        best = float(max(angles, key=score))
    return -best


def _rotate_bound(img: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by ANGLE degrees counter-clockwise, keeping the page size and filling with white."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    border = (255, 255, 255) if img.ndim == 3 else 255
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def ink_ratio(grey: np.ndarray) -> float:
    """Share of the page's inner area covered by ink: the blank-page score.

    Margins (5% each side) are left out because scanner borders and lid
    shadows live there; a median filter removes the dust a blank backside
    still shows; faint bleed-through from the front side stays under the
    fixed darkness threshold.
    """
    scale = min(1.0, 800 / max(grey.shape[1], 1))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    small = cv2.medianBlur(small, 3)
    h, w = small.shape
    inner = small[h // 20 : h - h // 20, w // 20 : w - w // 20]
    if inner.size == 0:
        return 0.0
    return float(np.count_nonzero(inner < 140)) / inner.size


_QUARTER = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def detect_orientation(grey: np.ndarray, work: Path) -> int:
    """Degrees clockwise that make the page upright, from Tesseract's OSD on a downscaled copy.

    OSD needs letters of 20-30 px, so the page is brought to about 150 dpi
    (an A4 width of 1250 px) first; a low-confidence answer is ignored
    because a wrong turn is worse than none.
    """
    scale = min(1.0, 1250 / max(grey.shape[1], 1))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    probe = work.with_name(work.stem + "-osd.png")
    cv2.imwrite(str(probe), small)
    try:
        found = tesseract.osd(probe)
    finally:
        probe.unlink(missing_ok=True)
    if found is None or found.confidence < 1.5:
        return 0
    return found.rotate


def clean_page(page: PageImage, out_dir: Path, options: CleanOptions = CleanOptions()) -> CleanedPage:
    """Make PAGE upright and level; write the archival and the recognizer's images into OUT_DIR."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / page.path.stem
    grey = _grey(page.path)
    rotation = detect_orientation(grey, stem) if options.orientation else 0
    if rotation:
        grey = cv2.rotate(grey, _QUARTER[rotation])
    skew = estimate_skew(grey) if options.deskew else 0.0
    if abs(skew) < MIN_SKEW or abs(skew) > MAX_SKEW:
        skew = 0.0
    if skew:
        grey = _rotate_bound(grey, -skew)
    ocr_path = stem.with_name(stem.name + "-ocr.png")
    cv2.imwrite(str(ocr_path), grey)

    image = page
    if rotation or skew:
        image = _transform_archival(page, rotation, skew, stem)
    return CleanedPage(
        image=image, ocr_image=ocr_path, rotation=rotation, skew=round(skew, 2), ink=round(ink_ratio(grey), 5)
    )


def _transform_archival(page: PageImage, rotation: int, skew: float, stem: Path) -> PageImage:
    with Image.open(page.path) as im:
        mode = im.mode
        arr = np.asarray(im if mode in ("L", "RGB") else im.convert("L" if mode == "1" else "RGB"))
    if rotation:
        arr = cv2.rotate(arr, _QUARTER[rotation])
    if skew:
        arr = _rotate_bound(arr, -skew)
    out_img = Image.fromarray(arr)
    if page.path.suffix.lower() == ".jpg":
        dest = stem.with_name(stem.name + "-clean.jpg")
        out_img.save(dest, format="JPEG", quality=JPEG_QUALITY, dpi=(page.dpi, page.dpi))
    else:
        dest = stem.with_name(stem.name + "-clean.png")
        out_img.save(dest, format="PNG", dpi=(page.dpi, page.dpi))
    return PageImage(path=dest, width=out_img.width, height=out_img.height, dpi=page.dpi, source=page.source)
