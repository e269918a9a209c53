"""Rendered Vietnamese administrative pages, the way a one-stop counter scans them.

Tests and benchmarks need pages whose text is known exactly: real counter scans
carry personal data and cannot be checked in, and a page drawn from a spec has a
ground truth to score OCR against. So this module draws pages with the layout of
Nghị định 30/2020 Phụ lục I (issuing body top left, national motto top right,
number and place-date lines, type name and subject centred, justified body, the
signer's block on the right with room for a signature and a red seal) in a
Times-metric serif with the Vietnamese glyphs, and returns the text of each
rendered line in reading order.

Everything is deterministic: the same spec renders the same pixels, random
degradations take a seed, and line breaks are computed in points from
unhinted font metrics, so ``page_text`` does not depend on the resolution a
page is rendered at.

Use it by putting ``samples/`` on ``sys.path`` (``tests/conftest.py`` does)::

    from pagegen import PageSpec, render_page, page_text, skew
"""

from __future__ import annotations

import io
import math
import random
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

__all__ = [
    "A4",
    "MOTTO",
    "MOTTO_SUB",
    "PAGE_BREAK",
    "PageSpec",
    "Para",
    "add_noise",
    "blank_backside",
    "blur",
    "jpeg_roundtrip",
    "lid_shadow",
    "page_text",
    "pages_text",
    "render_page",
    "render_pages",
    "rotate",
    "skew",
    "tint_paper",
]

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
FONT_FILES = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
    "bolditalic": "LiberationSerif-BoldItalic.ttf",
}
Style = Literal["regular", "bold", "italic", "bolditalic"]

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_SUB = "Độc lập - Tự do - Hạnh phúc"
A4 = (210.0, 297.0)
PAGE_BREAK = "\f"

PT_PER_MM = 72 / 25.4
_REF_SIZE = 1000  # px size fonts are measured at: large enough that hinting does not change widths
_INK = (0, 0, 0)
_PAPER = (255, 255, 255)
_SIGNATURE_INK = (28, 42, 120)
_SEAL_INK = (214, 38, 48)

# Page geometry in millimetres (Nghị định 30/2020 Phụ lục I: margins top/bottom
# 20-25, left 30-35, right 15-20). The header table is wider than the text
# area, as in the Word templates, so the motto fits on one line at 13 pt.
_MARGIN_TOP = 20.0
_MARGIN_BOTTOM = 20.0
_MARGIN_LEFT = 30.0
_MARGIN_RIGHT = 15.0
_LEFT_COL = (25.0, 90.0)  # mm from the left edge of the paper
_RIGHT_COL_FROM = 90.0  # the right column runs to the right margin
_QR_AT = (8.0, 6.0)
_QR_MAX = 18.0

# Type sizes in points (13-14 pt body and titles, 12-13 pt header lines).
_HEADER_PT = 13.0
_MOTTO_SUB_PT = 14.0
_BODY_PT = 14.0
_RECIPIENTS_PT = 11.0
_INDENT_PT = 1.27 * 10 * PT_PER_MM
_BODY_PITCH = 1.25
_PARA_SPACE_PT = 6.0
_SIGNATURE_SPACE_PT = 30 * PT_PER_MM


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Para:
    """A body paragraph with a typographic role.

    Plain strings in ``PageSpec.body`` are ordinary justified paragraphs; the
    other roles are the ones the Nghị định 30 templates use: italic legal
    bases ("Căn cứ ..."), bold section headings ("I. MỤC ĐÍCH, YÊU CẦU"),
    centred bold lines ("QUYẾT ĐỊNH:") and a bold lead-in ("Điều 1.").
    """

    text: str
    role: Literal["body", "italic", "heading", "center"] = "body"
    lead: str = ""  # bold words before TEXT on the same line, e.g. "Điều 1."

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _nfc(self.text))
        object.__setattr__(self, "lead", _nfc(self.lead))


@dataclass(frozen=True)
class PageSpec:
    """The content of one administrative document (one or more pages).

    Multi-line header and signer fields take explicit ``\\n`` breaks, as the
    templates do ("ỦY BAN NHÂN DÂN\\nPHƯỜNG HẢI ĐĂNG", "TM. ỦY BAN NHÂN DÂN\\nCHỦ TỊCH");
    lines too wide for their column are wrapped. All text is stored in NFC.
    """

    issuer_parent: str
    issuer: str
    number_line: str
    place_date: str
    type_name: str
    subject: str
    body: Sequence[str | Para]
    signer_position: str
    signer_name: str
    recipients: Sequence[str] = ()  # "Nơi nhận:" block, bottom left; empty = none
    qr_payload: str | None = None
    seal_text: str = ""  # words around the seal; default: the issuer's name
    body_pt: float = _BODY_PT

    def __post_init__(self) -> None:
        for name in (
            "issuer_parent",
            "issuer",
            "number_line",
            "place_date",
            "type_name",
            "subject",
            "signer_position",
            "signer_name",
            "seal_text",
        ):
            object.__setattr__(self, name, _nfc(getattr(self, name)))
        object.__setattr__(self, "body", tuple(b if isinstance(b, Para) else Para(b) for b in self.body))
        object.__setattr__(self, "recipients", tuple(_nfc(r) for r in self.recipients))
        if self.qr_payload is not None:
            object.__setattr__(self, "qr_payload", _nfc(self.qr_payload))
        if not 12 <= self.body_pt <= 14:
            raise ValueError("body_pt: Nghị định 30/2020 uses 13-14 pt (12 pt allowed for tables)")

    @property
    def paragraphs(self) -> tuple[Para, ...]:
        """The body as ``Para`` objects (``body`` is stored that way; this gives the type checker the same view)."""
        return tuple(b if isinstance(b, Para) else Para(b) for b in self.body)


# ---------------------------------------------------------------------------
# Fonts and measuring


@lru_cache(maxsize=64)
def _font(style: Style, size_px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES[style]), size=size_px, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=4096)
def _width_pt(text: str, style: Style, size_pt: float) -> float:
    """Unhinted advance width in points: the same at every dpi, so wrapping is too."""
    return _font(style, _REF_SIZE).getlength(text) * size_pt / _REF_SIZE


Token = tuple[str, Style]


def _tokens_width_pt(tokens: Sequence[Token], size_pt: float) -> float:
    width = sum(_width_pt(w, s, size_pt) for w, s in tokens)
    width += sum(_width_pt(" ", s, size_pt) for _, s in tokens[:-1])
    return width


# Lines are filled to this share of their width: hinted glyphs at a given dpi
# are up to 2% wider than the unhinted widths lines are broken with.
_FIT = 0.975


def _wrap(tokens: Sequence[Token], size_pt: float, first: float, rest: float) -> list[list[Token]]:
    """Greedy line breaking: FIRST is the first line's width, REST the others' (points)."""
    lines: list[list[Token]] = []
    current: list[Token] = []
    for tok in tokens:
        limit = (first if not lines else rest) * _FIT
        if current and _tokens_width_pt([*current, tok], size_pt) > limit:
            lines.append(current)
            current = []
        current.append(tok)
    if current:
        lines.append(current)
    return lines


def _words(text: str, style: Style) -> list[Token]:
    return [(w, style) for w in text.split()]


# ---------------------------------------------------------------------------
# Layout (all in points from the top-left corner of the paper)


@dataclass(frozen=True)
class _Line:
    tokens: tuple[Token, ...]
    size: float
    baseline: float
    x0: float
    x1: float
    align: Literal["left", "center", "justify"]

    @property
    def text(self) -> str:
        return " ".join(w for w, _ in self.tokens)


@dataclass
class _PageLayout:
    lines: list[_Line] = field(default_factory=list)
    rules: list[tuple[float, float, float]] = field(default_factory=list)  # x0, x1, y
    signature: tuple[float, float, float] | None = None  # centre x, top y, bottom y
    qr: bool = False


@dataclass(frozen=True)
class _Geometry:
    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    lcol: tuple[float, float]
    rcol: tuple[float, float]

    @classmethod
    def of(cls, paper: tuple[float, float]) -> _Geometry:
        w, h = paper[0] * PT_PER_MM, paper[1] * PT_PER_MM
        right = w - _MARGIN_RIGHT * PT_PER_MM
        lcol = (_LEFT_COL[0] * PT_PER_MM, _LEFT_COL[1] * PT_PER_MM)
        rcol = (_RIGHT_COL_FROM * PT_PER_MM, right)
        if paper[0] < 180 or paper[1] < 250:
            raise ValueError(f"paper {paper} mm is too small for an administrative page")
        return cls(
            w, h, _MARGIN_LEFT * PT_PER_MM, right, _MARGIN_TOP * PT_PER_MM, h - _MARGIN_BOTTOM * PT_PER_MM, lcol, rcol
        )


def _balanced(tokens: Sequence[Token], size: float, width: float) -> list[list[Token]]:
    """Wrap into as few lines as WIDTH allows, then as narrow as that line count allows.

    Centred titles are broken this way by typists (a subject of two even
    lines, not a full line and one orphaned word).
    """
    lines = _wrap(tokens, size, width, width)
    lo, hi = 0.0, width
    while hi - lo > 1.0:
        mid = (lo + hi) / 2
        if len(_wrap(tokens, size, mid, mid)) == len(lines) and all(
            _tokens_width_pt(ln, size) <= mid * _FIT for ln in _wrap(tokens, size, mid, mid)
        ):
            hi = mid
        else:
            lo = mid
    return _wrap(tokens, size, hi, hi)


def _block(
    text: str, style: Style, size: float, col: tuple[float, float], baseline: float, pitch: float
) -> list[_Line]:
    """Centred lines of TEXT in column COL, honouring explicit breaks and wrapping long lines evenly."""
    out: list[_Line] = []
    for part in text.split("\n"):
        if not part.strip():
            continue
        for toks in _balanced(_words(part, style), size, col[1] - col[0]):
            out.append(_Line(tuple(toks), size, baseline, col[0], col[1], "center"))
            baseline += pitch
    return out


def _para_lines(para: Para, size: float, g: _Geometry) -> list[tuple[list[Token], float, str]]:
    """(tokens, x offset, align) for each line of a body paragraph."""
    width = g.right - g.left
    if para.role == "center":
        return [(t, 0.0, "center") for t in _balanced(_words(para.text, "bold"), size, width * 0.9)]
    style: Style = {"body": "regular", "italic": "italic", "heading": "bold"}[para.role]  # type: ignore[assignment]
    tokens = _words(para.lead, "bold") + _words(para.text, style)
    wrapped = _wrap(tokens, size, width - _INDENT_PT, width)
    return [
        (t, _INDENT_PT if i == 0 else 0.0, "left" if i == len(wrapped) - 1 else "justify")
        for i, t in enumerate(wrapped)
    ]


def _layout(spec: PageSpec, paper: tuple[float, float]) -> list[_PageLayout]:
    g = _Geometry.of(paper)
    size = spec.body_pt
    pitch = size * _BODY_PITCH
    ascent = 0.9
    pages = [_PageLayout(qr=spec.qr_payload is not None)]
    page = pages[0]

    # Header: left block (parent body, body in bold, short rule), right block (motto, rule).
    hpitch = _HEADER_PT * 1.18
    y0 = g.top + ascent * _HEADER_PT
    left = _block(spec.issuer_parent, "regular", _HEADER_PT, g.lcol, y0, hpitch)
    left += _block(spec.issuer, "bold", _HEADER_PT, g.lcol, y0 + hpitch * len(left), hpitch)
    right = _block(MOTTO, "bold", _HEADER_PT, g.rcol, y0, hpitch)
    right += _block(MOTTO_SUB, "bold", _MOTTO_SUB_PT, g.rcol, y0 + hpitch, hpitch)
    page.lines += left + right
    if left and spec.issuer.strip():
        last = left[-1]
        w = _tokens_width_pt(last.tokens, last.size) * 0.4
        cx = (g.lcol[0] + g.lcol[1]) / 2
        page.rules.append((cx - w / 2, cx + w / 2, last.baseline + 5.5))
    sub = right[-1]
    w = _tokens_width_pt(sub.tokens, sub.size)
    cx = (g.rcol[0] + g.rcol[1]) / 2
    page.rules.append((cx - w / 2, cx + w / 2, sub.baseline + 4.5))
    header_end = max(ln.baseline for ln in page.lines)

    # Number line (left) and place-date (right) on one row.
    y = header_end + 2.0 * hpitch
    row = _block(spec.number_line, "regular", _HEADER_PT, g.lcol, y, hpitch)
    row += _block(spec.place_date, "italic", _MOTTO_SUB_PT, g.rcol, y, hpitch)
    page.lines += row
    y = max([ln.baseline for ln in row], default=header_end)

    # Type name and subject, centred, bold; a short rule under the subject.
    y += size * 2.6
    text_col = (g.left, g.right)
    title = _block(spec.type_name, "bold", size, text_col, y, size * 1.2)
    page.lines += title
    y = title[-1].baseline if title else y
    if spec.subject.strip():
        subj_col = (g.left + 0.1 * (g.right - g.left), g.right - 0.1 * (g.right - g.left))
        subject = _block(spec.subject, "bold", size, subj_col, y + size * 1.2, size * 1.2)
        page.lines += subject
        y = subject[-1].baseline
        w = min(max(_tokens_width_pt(s.tokens, size) for s in subject) * 0.4, 60 * PT_PER_MM)
        cx = (g.left + g.right) / 2
        page.rules.append((cx - w / 2, cx + w / 2, y + 6.0))
        y += 6.0
    y += size * 2.0

    # Body: flows over as many pages as it needs; pages after the first carry their number on top.
    def new_page() -> float:
        nonlocal page
        page = _PageLayout()
        pages.append(page)
        number = str(len(pages))
        page.lines.append(_Line(((number, "regular"),), 13.0, g.top * 0.6, g.left, g.right, "center"))
        return g.top + ascent * size

    descent = 0.25 * size
    first = True
    for para in spec.paragraphs:
        extra = 0.0 if first or para.role != "center" else 0.4 * size
        for tokens, indent, align in _para_lines(para, size, g):
            baseline = y if first else y + pitch + extra
            extra = 0.0
            if baseline + descent > g.bottom:
                baseline = new_page()
            x0 = (g.left + indent) if align != "center" else g.left
            page.lines.append(_Line(tuple(tokens), size, baseline, x0, g.right, align))  # type: ignore[arg-type]
            y, first = baseline, False
        y += _PARA_SPACE_PT + (0.4 * size if para.role == "center" else 0.0)

    # Recipients (left) and signer (right), side by side; moved whole to a new page if they do not fit.
    positions = [p for p in spec.signer_position.split("\n") if p.strip()]
    sig_height = pitch * (len(positions) - 1) + _SIGNATURE_SPACE_PT + descent
    rec_height = _HEADER_PT * 1.2 + _RECIPIENTS_PT * 1.2 * len(spec.recipients)
    top = y + size * 2.2
    if top + max(sig_height, rec_height) > g.bottom:
        top = new_page()
    rec_col = (g.left - 5 * PT_PER_MM, g.rcol[0])
    rec_width = rec_col[1] - rec_col[0]
    if spec.recipients:
        heading = (("Nơi", "bolditalic"), ("nhận:", "bolditalic"))
        page.lines.append(_Line(heading, 12.0, top, rec_col[0], rec_col[1], "left"))  # type: ignore[arg-type]
        ry = top
        for item in spec.recipients:
            for toks in _wrap(_words(item, "regular"), _RECIPIENTS_PT, rec_width, rec_width):
                ry += _RECIPIENTS_PT * 1.2
                page.lines.append(_Line(tuple(toks), _RECIPIENTS_PT, ry, rec_col[0], rec_col[1], "left"))
    signer = _block(spec.signer_position, "bold", size, g.rcol, top, size * 1.2)
    position_end = signer[-1].baseline if signer else top
    name_y = position_end + _SIGNATURE_SPACE_PT
    signer += _block(spec.signer_name, "bold", size, g.rcol, name_y, size * 1.2)
    page.lines += signer
    page.signature = ((g.rcol[0] + g.rcol[1]) / 2, position_end + descent + 4, name_y - size)
    return pages


# ---------------------------------------------------------------------------
# Ground truth


Order = Literal["blocks", "rows"]


def _rows(lines: Sequence[_Line]) -> list[str]:
    """Lines that share a baseline joined left to right, rows top to bottom."""
    rows: dict[float, list[_Line]] = {}
    for ln in lines:
        rows.setdefault(round(ln.baseline, 1), []).append(ln)
    return [" ".join(ln.text for ln in sorted(rows[y], key=lambda ln: ln.x0)) for y in sorted(rows)]


def pages_text(spec: PageSpec, paper: tuple[float, float] = A4, order: Order = "blocks") -> list[str]:
    """The text of each page, NFC, pages after the first starting with their number.

    ``order="blocks"`` is the reading order, one line per rendered line: left
    header block, right header block, number line, place-date, type name,
    subject, body, the "Nơi nhận" block (when given), then the signer's block.
    ``order="rows"`` is the order a line-by-line OCR engine emits: text
    sharing a baseline joined into one line, left to right (Tesseract reads
    the two header columns row by row). Score OCR against "rows" when the
    layout analysis is not what is being measured.
    """
    pages = _layout(spec, paper)
    if order == "rows":
        return [_nfc("\n".join(_rows(p.lines))) for p in pages]
    if order != "blocks":
        raise ValueError('order is "blocks" or "rows"')
    return [_nfc("\n".join(ln.text for ln in p.lines)) for p in pages]


def page_text(spec: PageSpec, paper: tuple[float, float] = A4, order: Order = "blocks") -> str:
    """The whole document's ground truth: ``pages_text`` joined with a form-feed line."""
    return f"\n{PAGE_BREAK}\n".join(pages_text(spec, paper, order))


# ---------------------------------------------------------------------------
# Rendering


def _px(pt: float, dpi: int) -> float:
    return pt * dpi / 72


def _draw_line(draw: ImageDraw.ImageDraw, line: _Line, dpi: int) -> None:
    size_px = _px(line.size, dpi)
    words = [(w, _font(s, size_px)) for w, s in line.tokens]
    widths = [f.getlength(w) for w, f in words]
    spaces = [f.getlength(" ") for _, f in words[:-1]]
    x0, x1 = _px(line.x0, dpi), _px(line.x1, dpi)
    natural = sum(widths) + sum(spaces)
    if line.align == "justify" and len(words) > 1:
        gap = (x1 - x0 - sum(widths)) / (len(words) - 1)
        gaps = [max(gap, 0.5 * s) for s in spaces]
        x = x0
    else:
        gaps = spaces
        x = (x0 + x1 - natural) / 2 if line.align == "center" else x0
    y = _px(line.baseline, dpi)
    for i, (w, f) in enumerate(words):
        draw.text((x, y), w, font=f, fill=_INK, anchor="ls")
        x += widths[i] + (gaps[i] if i < len(gaps) else 0)


def _qr_image(payload: str, dpi: int) -> Image.Image:
    import zxingcpp  # the project's barcode library; it writes QR codes (ISO/IEC 18004) since 2.x

    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = np.asarray(code.to_image(scale=1, add_quiet_zones=False)).shape[0]
    module_mm = min(0.5, _QR_MAX / modules)
    scale = max(2, round(module_mm * dpi / 25.4))
    return Image.fromarray(np.asarray(code.to_image(scale=scale, add_quiet_zones=True))).convert("RGB")


def _signature(img: Image.Image, cx: float, top: float, bottom: float, seed: int) -> tuple[float, float]:
    """A handwritten-looking stroke between TOP and BOTTOM (pixels); returns its left x and centre y."""
    rng = random.Random(seed)
    height = bottom - top
    width = height * 1.9
    x0 = cx - width / 2 + rng.uniform(-0.05, 0.05) * width
    yc = top + height * 0.5
    layer = Image.new("L", img.size, 0)
    draw = ImageDraw.Draw(layer)
    stroke = max(2, round(height / 45))
    loops = rng.randint(3, 5)
    phase = rng.uniform(0, math.tau)
    pts = []
    for i in range(400):
        t = i / 399
        x = x0 + width * 0.85 * t + 0.08 * width * math.sin(math.tau * loops * t + phase)
        y = yc + 0.28 * height * math.sin(math.tau * loops * t * 1.02) * (1 - 0.5 * t) - 0.15 * height * t
        pts.append((x, y))
    draw.line(pts, fill=255, width=stroke, joint="curve")
    # The closing flourish: a long stroke back under the name.
    flourish = [
        (x0 + width * (0.95 - 0.9 * t), yc + 0.25 * height + 0.06 * height * math.sin(math.pi * t))
        for t in (i / 99 for i in range(100))
    ]
    draw.line(flourish, fill=255, width=stroke, joint="curve")
    layer = layer.filter(ImageFilter.GaussianBlur(stroke / 4))
    ink = Image.new("RGB", img.size, _SIGNATURE_INK)
    img.paste(ink, (0, 0), layer.point(lambda v: v * 0.92))
    return x0, yc


def _seal(img: Image.Image, cx: float, cy: float, text: str, dpi: int, seed: int) -> None:
    """A red round seal (35 mm) centred at CX, CY: double ring, words around, a star inside.

    Stamped ink is multiplied onto the page (text under it stays visible) and
    is uneven, as a rubber stamp is.
    """
    diameter = 35 / 25.4 * dpi
    r = diameter / 2
    size = math.ceil(diameter) + 4
    layer = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(layer)
    c = size / 2
    outer = max(3, round(dpi * 0.9 / 25.4))
    inner = max(2, round(dpi * 0.35 / 25.4))
    draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=outer)
    r2 = r - 6.5 / 25.4 * dpi
    draw.ellipse((c - r2, c - r2, c + r2, c + r2), outline=255, width=inner)
    # Words around the ring, clockwise from the bottom, every letter's top facing out, as stamps are cut.
    letters = f"{text} * " if text else "* "
    rt = (r + r2) / 2
    pitch = math.tau * rt / len(letters)
    font = _font("bold", min(3.6 / 25.4 * dpi, pitch * 1.45))
    rt -= font.size * 0.3
    n = len(letters)
    for i, ch in enumerate(letters):
        if ch == " ":
            continue
        a = math.radians(270 - 360 * (i + 0.5) / n)  # 0 = right, counter-clockwise
        cell = math.ceil(font.size * 2)
        glyph = Image.new("L", (cell, cell), 0)
        ImageDraw.Draw(glyph).text((cell / 2, cell / 2), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(math.degrees(a) - 90, resample=Image.Resampling.BICUBIC)
        gx = c + rt * math.cos(a) - glyph.width / 2
        gy = c - rt * math.sin(a) - glyph.height / 2
        layer.paste(255, (round(gx), round(gy)), glyph)
    # The star in the centre.
    rs = r2 * 0.45
    star = [
        (
            c + (rs if k % 2 == 0 else rs * 0.4) * math.sin(math.pi * k / 5),
            c - (rs if k % 2 == 0 else rs * 0.4) * math.cos(math.pi * k / 5),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=255)
    # Uneven ink: a smooth random field thins the stamp in patches.
    rng = np.random.default_rng(seed)
    field_ = rng.random((12, 12)).astype(np.float32)
    patches = Image.fromarray((field_ * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    density = np.asarray(patches, dtype=np.float32) / 255 * 0.35 + 0.6
    alpha = np.asarray(layer.filter(ImageFilter.GaussianBlur(dpi / 300)), dtype=np.float32) / 255 * density
    angle = float(rng.uniform(-25, 25))
    alpha_img = Image.fromarray((np.clip(alpha, 0, 1) * 255).astype(np.uint8)).rotate(
        angle, resample=Image.Resampling.BICUBIC
    )
    # Kept inside the paper: a crop beyond the edge would come back black.
    at = (
        min(max(round(cx - size / 2), 0), max(img.width - size, 0)),
        min(max(round(cy - size / 2), 0), max(img.height - size, 0)),
    )
    region = img.crop((at[0], at[1], at[0] + size, at[1] + size))
    ink = np.asarray(alpha_img, dtype=np.float32)[..., None] / 255
    tint = np.asarray(_SEAL_INK, dtype=np.float32) / 255
    stamped = np.asarray(region, dtype=np.float32) * (1 - ink + ink * tint)
    img.paste(Image.fromarray(np.clip(stamped, 0, 255).astype(np.uint8)), at)


def render_pages(
    spec: PageSpec,
    dpi: int = 300,
    paper: tuple[float, float] = A4,
    *,
    seal: bool = False,
    signature: bool = True,
) -> list[Image.Image]:
    """Every page of SPEC as an RGB image at DPI (white paper, black text), ``info['dpi']`` set.

    SEAL stamps a red round seal over the left third of the signature, as
    Nghị định 30/2020 has it; SIGNATURE draws the signer's handwriting.
    Neither is part of the ground truth.
    """
    if not 72 <= dpi <= 1200:
        raise ValueError("dpi must be between 72 and 1200")
    size = (round(paper[0] / 25.4 * dpi), round(paper[1] / 25.4 * dpi))
    seed = zlib.crc32(page_text(spec, paper).encode())
    images = []
    for layout in _layout(spec, paper):
        img = Image.new("RGB", size, _PAPER)
        draw = ImageDraw.Draw(img)
        for line in layout.lines:
            _draw_line(draw, line, dpi)
        thick = max(1, round(_px(0.6, dpi)))
        for x0, x1, y in layout.rules:
            yy = round(_px(y, dpi))
            draw.rectangle((round(_px(x0, dpi)), yy, round(_px(x1, dpi)), yy + thick - 1), fill=_INK)
        if layout.qr and spec.qr_payload:
            img.paste(_qr_image(spec.qr_payload, dpi), (round(_QR_AT[0] / 25.4 * dpi), round(_QR_AT[1] / 25.4 * dpi)))
        if layout.signature is not None:
            cx, top, bottom = (_px(v, dpi) for v in layout.signature)
            sx, sy = cx - (bottom - top) * 0.95, (top + bottom) / 2
            if signature:
                sx, sy = _signature(img, cx, top, bottom, seed)
            if seal:
                _seal(img, sx + (bottom - top) * 0.3, sy, spec.seal_text or spec.issuer.replace("\n", " "), dpi, seed)
        img.info["dpi"] = (dpi, dpi)
        images.append(img)
    return images


def render_page(
    spec: PageSpec,
    dpi: int = 300,
    paper: tuple[float, float] = A4,
    *,
    seal: bool = False,
    signature: bool = True,
) -> Image.Image:
    """The single page of SPEC (see ``render_pages``); a spec that needs more pages is an error."""
    pages = render_pages(spec, dpi, paper, seal=seal, signature=signature)
    if len(pages) != 1:
        raise ValueError(f"the document takes {len(pages)} pages: use render_pages")
    return pages[0]


# ---------------------------------------------------------------------------
# Degradations: what scanners and paper do to a page. Each returns a new image and keeps the dpi.


def _keep_dpi(src: Image.Image, out: Image.Image) -> Image.Image:
    if "dpi" in src.info:
        out.info["dpi"] = src.info["dpi"]
    return out


def rotate(img: Image.Image, degrees: int) -> Image.Image:
    """Turn by a quarter-turn multiple, counter-clockwise (a page fed sideways or upside down); lossless."""
    ops = {
        0: None,
        90: Image.Transpose.ROTATE_90,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_270,
    }
    if degrees % 360 not in ops:
        raise ValueError("rotate takes 0, 90, 180 or 270 degrees; use skew for small angles")
    op = ops[degrees % 360]
    return _keep_dpi(img, img.copy() if op is None else img.transpose(op))


def skew(img: Image.Image, degrees: float) -> Image.Image:
    """Tilt by a small angle, counter-clockwise positive, keeping the size and filling with white paper."""
    fill = 255 if img.mode == "L" else (255, 255, 255)
    return _keep_dpi(img, img.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=fill))


def add_noise(img: Image.Image, sigma: float, seed: int = 0) -> Image.Image:
    """Gaussian sensor noise of standard deviation SIGMA (grey levels), reproducible from SEED."""
    arr = np.asarray(img, dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0.0, sigma, arr.shape[:2]).astype(np.float32)
    if arr.ndim == 3:
        noise = noise[..., None]
    return _keep_dpi(img, Image.fromarray(np.clip(arr + noise, 0, 255).round().astype(np.uint8), img.mode))


def blur(img: Image.Image, radius: float) -> Image.Image:
    """Gaussian blur of RADIUS pixels: a scanner slightly out of focus or a page lifted off the glass."""
    return _keep_dpi(img, img.filter(ImageFilter.GaussianBlur(radius)))


def jpeg_roundtrip(img: Image.Image, quality: int) -> Image.Image:
    """The page after the scanner's JPEG encoder at QUALITY (block and ringing artefacts)."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as out:
        out.load()
        return _keep_dpi(img, out.convert("RGB"))


def tint_paper(img: Image.Image, rgb: tuple[int, int, int]) -> Image.Image:
    """Paper of colour RGB instead of white (recycled or yellowed paper); black ink stays black."""
    tint = Image.new("RGB", img.size, rgb)
    return _keep_dpi(img, ImageChops.multiply(img.convert("RGB"), tint))


def lid_shadow(
    img: Image.Image,
    side: Literal["left", "right", "top", "bottom"] = "left",
    width_frac: float = 0.06,
    darkness: float = 0.55,
) -> Image.Image:
    """A dark band fading inwards from one edge, as a scanner lid that does not close over a thick dossier leaves.

    DARKNESS is how much light is lost at the very edge (0 none, 1 black).
    """
    if side not in ("left", "right", "top", "bottom") or not 0 < width_frac < 1:
        raise ValueError("side is left/right/top/bottom and width_frac is in (0, 1)")
    w, h = img.size
    length = w if side in ("left", "right") else h
    band = max(1, round(length * width_frac))
    ramp = np.ones(length, dtype=np.float32)
    t = np.linspace(0.0, 1.0, band, dtype=np.float32)
    ramp[:band] = 1 - darkness * (1 - t) ** 2
    if side in ("right", "bottom"):
        ramp = ramp[::-1]
    gain = ramp[None, :] if side in ("left", "right") else ramp[:, None]
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) * gain[..., None]
    return _keep_dpi(img, Image.fromarray(np.clip(arr, 0, 255).round().astype(np.uint8)))


_BLEED_WORDS = tuple(
    " ".join(
        (
            "ủy ban nhân dân phường xã tỉnh thành phố quyết định căn cứ nghị định thông tư hồ sơ thủ tục hành",
            "chính giấy xác nhận công dân số định danh cá nhân nơi cư trú ngày tháng năm chủ tịch điều thực hiện",
        )
    ).split()
)


def blank_backside(
    dpi: int = 200, seed: int = 0, paper: tuple[float, float] = A4, *, bleed: float = 8.0, blur_mm: float = 0.8
) -> Image.Image:
    """The back of a one-sided page from a duplex scan: paper, mirrored bleed-through, noise, dust.

    BLEED is how many grey levels the front side's text darkens the paper at
    most, BLUR_MM how far the paper diffuses it. The defaults stay far
    lighter than ink and too diffuse to read, as on office paper; raise BLEED
    or lower BLUR_MM to get a backside whose ghost text an OCR engine starts
    to "read" (Tesseract's Otsu threshold binarizes any contrast on a page
    that has nothing else). A few one-pixel dust specks are left for a median
    filter to remove.
    """
    rng = random.Random(seed)
    size = (round(paper[0] / 25.4 * dpi), round(paper[1] / 25.4 * dpi))
    ghost = Image.new("L", size, 0)
    draw = ImageDraw.Draw(ghost)
    font = _font("regular", _px(_BODY_PT, dpi))
    y = _px(_MARGIN_TOP * PT_PER_MM + 80, dpi)
    while y < size[1] - _px(_MARGIN_BOTTOM * PT_PER_MM + 60, dpi):
        words = " ".join(rng.choice(_BLEED_WORDS) for _ in range(14))
        draw.text((_px(_MARGIN_LEFT * PT_PER_MM, dpi), y), words, font=font, fill=255)
        y += _px(_BODY_PT * _BODY_PITCH, dpi)
    ghost = ghost.transpose(Image.Transpose.FLIP_LEFT_RIGHT).filter(ImageFilter.GaussianBlur(blur_mm / 25.4 * dpi))
    paper_rgb = np.array([248, 247, 243], dtype=np.float32) - rng.uniform(0, 4)
    arr = np.ones((size[1], size[0], 3), dtype=np.float32) * paper_rgb
    arr -= (np.asarray(ghost, dtype=np.float32) / 255 * bleed)[..., None]
    nrng = np.random.default_rng(seed)
    arr += nrng.normal(0.0, 1.5, (size[1], size[0]))[..., None]
    for _ in range(rng.randint(3, 8)):
        x, yy = rng.randrange(size[0]), rng.randrange(size[1])
        arr[yy : yy + 1, x : x + 1] = 90
    img = Image.fromarray(np.clip(arr, 0, 255).round().astype(np.uint8), "RGB")
    img.info["dpi"] = (dpi, dpi)
    return img
