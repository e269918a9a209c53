"""The benchmark corpus: every document under every kind of damage a counter scan shows.

Each page is a *class* (what is wrong with it) applied to a document, so a
system's weak spot shows up as a bad row in the per-class table rather than as
noise in a mean. The ``phone`` class is a page photographed with a phone
rather than scanned: about 140 dpi of paper, the sheet in perspective, light
falling off across it, a soft focus and a phone's JPEG.

Two sets: ``test`` (the documents of ``documents.py``; what the README
reports) and ``dev`` (other texts — two of the repository's sample documents
— under other seeds), the only one anything is tuned on. Every
degradation takes its parameters from a seed made of the page's name, so the
corpus is the same bytes on every run. Pages are written as the scanner would
write them: JPEG at quality 55-90 with the dpi in the file, the ground truth
(reading order, NFC) beside each page.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from pagegen import (
    add_noise,
    blank_backside,
    blur,
    jpeg_roundtrip,
    lid_shadow,
    page_text,
    render_page,
    rotate,
    skew,
    tint_paper,
)
from PIL import Image

from benchmarks.ocr.documents import DEV_DOCUMENTS, DOCUMENTS

CLASSES = ("plain", "skewed", "rotated", "low-dpi", "sealed", "shadow", "phone")
BLANKS = 4
DEV_CLASSES = ("plain", "low-dpi", "phone")


@dataclass(frozen=True)
class PageCase:
    """One page of the corpus and what was done to it (the truth the cleaning is checked against)."""

    name: str
    document: str  # "" for a blank backside
    kind: str  # one of CLASSES, or "blank"
    dpi: int
    rotation: int  # degrees counter-clockwise the page was turned; upright needs this much clockwise
    skew: float  # degrees counter-clockwise the page was tilted
    quality: int  # JPEG quality
    steps: str  # human-readable list of the degradations

    @property
    def image(self) -> str:
        return f"{self.name}.jpg"

    @property
    def truth(self) -> str:
        return f"{self.name}.txt"


def _rng(name: str) -> random.Random:
    return random.Random(zlib.crc32(name.encode()))


def perspective(img: Image.Image, corners: list[tuple[float, float]]) -> Image.Image:
    """The page as a camera held off-axis sees it: its corners moved to CORNERS (fractions of the size)."""
    w, h = img.size
    dst = [(x * w, y * h) for x, y in corners]
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    # PIL maps output to input pixels: solve the 8 coefficients from the corners' destinations to their sources
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    coeffs = np.linalg.solve(np.array(a, float), np.array(b, float))
    out = img.convert("RGB").transform(
        (w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC, fillcolor=(236, 236, 232)
    )
    out.info["dpi"] = img.info.get("dpi", (300, 300))
    return out


def uneven_light(img: Image.Image, strength: float, angle: float) -> Image.Image:
    """Light falling off across the sheet: darker by up to STRENGTH towards the side at ANGLE (radians)."""
    w, h = img.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)) + 0.5
    factor = 1.0 - strength * np.clip(ramp, 0, 1) ** 1.5
    arr = np.asarray(img.convert("RGB"), np.float32) * factor[..., None]
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    out.info["dpi"] = img.info.get("dpi", (300, 300))
    return out


def downsample(img: Image.Image, dpi: int) -> Image.Image:
    """The photo's resolution: the 300 dpi rendering brought down to DPI (a phone's sensor over an A4 sheet)."""
    f = dpi / 300
    out = img.resize((round(img.width * f), round(img.height * f)), Image.Resampling.BOX)
    out.info["dpi"] = (dpi, dpi)
    return out


def _plan(
    kind: str, name: str
) -> tuple[int, int, float, int, bool, list[tuple[str, Callable[[Image.Image], Image.Image]]]]:
    """dpi, rotation, skew, JPEG quality, seal, and the degradations in the order paper and scanner apply them."""
    r = _rng(name)
    seed = r.randrange(1 << 30)
    sign = r.choice((-1, 1))
    steps: list[tuple[str, Callable[[Image.Image], Image.Image]]] = []
    dpi, rot, angle, seal = 300, 0, 0.0, False
    quality = r.randint(75, 90)
    if kind == "plain":
        steps.append(("noise 3", lambda im: add_noise(im, 3, seed)))
        quality = 90
    elif kind == "skewed":
        angle = round(sign * r.uniform(1.0, 4.0), 2)
        steps.append(("noise 6", lambda im: add_noise(im, 6, seed)))
    elif kind == "rotated":
        rot = r.choice((90, 180, 270))
        angle = round(sign * r.uniform(0.3, 1.5), 2)
        steps.append(("noise 5", lambda im: add_noise(im, 5, seed)))
    elif kind == "low-dpi":
        dpi = 200
        angle = round(sign * r.uniform(0.2, 1.0), 2)
        steps.append(("blur 0.6", lambda im: blur(im, 0.6)))
        steps.append(("noise 8", lambda im: add_noise(im, 8, seed)))
        quality = r.randint(55, 65)
    elif kind == "sealed":
        seal = True
        tint = (246, 240, 222)
        angle = round(sign * r.uniform(0.2, 2.0), 2)
        steps.append((f"paper {tint}", lambda im: tint_paper(im, tint)))
        steps.append(("noise 5", lambda im: add_noise(im, 5, seed)))
        quality = r.randint(65, 85)
    elif kind == "phone":
        dpi = r.choice((130, 140, 150))
        j = [round(r.uniform(0.0, 0.035), 3) for _ in range(8)]
        corners = [(j[0], j[1]), (1 - j[2], j[3]), (1 - j[4], 1 - j[5]), (j[6], 1 - j[7])]
        light, towards = round(r.uniform(0.25, 0.45), 2), r.uniform(0, 6.283)
        steps.append(("perspective", lambda im: perspective(im, corners)))
        steps.append((f"light falloff {light}", lambda im: uneven_light(im, light, towards)))
        steps.append((f"{dpi} dpi photo", lambda im: downsample(im, dpi)))
        steps.append(("blur 0.7", lambda im: blur(im, 0.7)))
        steps.append(("noise 5", lambda im: add_noise(im, 5, seed)))
        quality = r.randint(60, 75)
    elif kind == "shadow":
        grey_paper = (226, 224, 219)
        side = r.choice(("left", "right", "top"))
        angle = round(sign * r.uniform(0.5, 3.0), 2)
        steps.append((f"paper {grey_paper}", lambda im: tint_paper(im, grey_paper)))
        steps.append((f"lid shadow {side}", lambda im: lid_shadow(im, side, 0.07, 0.7)))  # type: ignore[arg-type]
        steps.append(("noise 6", lambda im: add_noise(im, 6, seed)))
        quality = r.randint(55, 70)
    else:
        raise ValueError(kind)
    return dpi, rot, angle, quality, seal, steps


def plan_corpus(limit: int | None = None, which: str = "test") -> list[tuple[str, str]]:
    """(document, kind) pairs: every document in every class, interleaved so a short run still sees every class."""
    if which == "dev":
        docs, kinds = list(DEV_DOCUMENTS), DEV_CLASSES
        pairs = [(doc, kind) for doc in docs for kind in kinds] * 3  # each three times, under three seeds
        return pairs[:limit] if limit else pairs
    docs = list(DOCUMENTS)
    pairs = [(docs[(i + j) % len(docs)], kind) for i in range(len(docs)) for j, kind in enumerate(CLASSES)]
    blanks = [("", "blank")] * BLANKS
    # a blank every len(pairs)/BLANKS pages
    out: list[tuple[str, str]] = []
    step = max(1, len(pairs) // BLANKS)
    for i, pair in enumerate(pairs):
        out.append(pair)
        if i % step == step - 1 and blanks:
            out.append(blanks.pop())
    return out[:limit] if limit else out


def write_corpus(folder: Path, limit: int | None = None, which: str = "test") -> list[PageCase]:
    """Render the corpus WHICH ("test" or "dev") into FOLDER (reusing pages already there) and return its cases."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[PageCase] = []
    blank_no = 0
    specs = DEV_DOCUMENTS if which == "dev" else DOCUMENTS
    for i, (doc, kind) in enumerate(plan_corpus(limit, which)):
        if kind == "blank":
            blank_no += 1
            name = f"{i + 1:02d}-blank-{blank_no}"
            dpi = 200 if blank_no % 2 else 300
            q = 60 + 7 * blank_no
            case = PageCase(name, "", "blank", dpi, 0, 0.0, q, "duplex backside, bleed-through, dust")
            if not (folder / case.image).exists():
                img = blank_backside(dpi, seed=blank_no)
                jpeg_roundtrip(img, q).save(folder / case.image, quality=q, dpi=(dpi, dpi))
                (folder / case.truth).write_text("", encoding="utf-8")
        else:
            name = f"{i + 1:02d}-{doc}-{kind}" + ("-dev" if which == "dev" else "")
            dpi, rot, angle, q, seal, steps = _plan(kind, name)
            desc = ", ".join([f"{dpi} dpi", *(["seal"] if seal else []), *(s for s, _ in steps)])
            desc += (f", rotate {rot}" if rot else "") + (f", skew {angle:+.2f}°" if angle else "") + f", JPEG q{q}"
            case = PageCase(name, doc, kind, dpi, rot, angle, q, desc)
            if not (folder / case.image).exists():
                spec = specs[doc]
                img = render_page(spec, 300 if kind == "phone" else dpi, seal=seal)  # a photo is taken of paper
                for _, step in steps:
                    img = step(img)
                if angle:
                    img = skew(img, angle)
                if rot:
                    img = rotate(img, rot)
                # the scanner's encoder is the last thing to touch the page
                img.convert("RGB").save(folder / case.image, quality=q, dpi=(dpi, dpi))
                (folder / case.truth).write_text(page_text(spec), encoding="utf-8")
        cases.append(case)
    (folder / "corpus.json").write_text(
        json.dumps([asdict(c) for c in cases], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return cases
