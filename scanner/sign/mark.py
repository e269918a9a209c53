"""The visible mark of the agency signature: text in the top right corner of page 1.

Nghị định 30/2020 Phụ lục I asks an electronic copy to show, top right of
page 1 and without any image, the form of the copy ("SAO Y"), the copying
agency's name and the signing time in ISO 8601 with the Vietnam offset, in a
Times New Roman 10 pt upright black face. Liberation Serif has Times New
Roman's metrics and every Vietnamese letter, and Debian ships it
(fonts-liberation2), so it is the font here.

The appearance is drawn here rather than by pyHanko's text stamp because
each of that stamp's defaults needs undoing for PDF/A: it draws a border,
uses a font that is either not embedded (the standard 14) or embedded
without a CIDSet (which PDF/A-1 requires for a subset CIDFont), and needs
HarfBuzz for a TrueType font. What is written instead is the smallest thing
every PDF/A validator accepts:

* a Type 0 font over a CIDFontType2 subset of Liberation Serif with only the
  glyphs of the mark, CID = glyph index (``/CIDToGIDMap /Identity``), the
  widths of the font program in ``/W``, a CIDSet naming every CID present and
  a ToUnicode CMap, so text extraction gives back the letters with their
  diacritics;
* a form XObject as the widget's only appearance (``/AP /N``), text filled in
  DeviceGray black (allowed under any output intent), nothing transparent.

Text is NFC-normalized first: an agency name typed on a keyboard that sends
combining marks would otherwise need glyph composition, which a CIDFont
without shaping does not do.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from scanner.errors import SigningError

DEFAULT_FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
VIETNAM = timezone(timedelta(hours=7), "ICT")
FONT_SIZE = 10.0
LEADING = 1.2  # line height in font sizes
PADDING = 2.0  # points around the text inside the widget
MARGIN = 18.0  # points between the widget and the top and right edges of the page
FONT_KEY = "/F1"
# A subset font's name carries six capital letters; any fixed tag will do, since
# every signed file embeds its own subset under its own font dictionary.
SUBSET_TAG = "SCNSAO"


@dataclass(frozen=True)
class VisibleMark:
    """What the visible mark says; an empty AGENCY means the signing certificate's organisation."""

    text: str = "SAO Y"
    agency: str = ""
    font: Path = DEFAULT_FONT
    size: float = FONT_SIZE


def mark_lines(mark: VisibleMark, agency: str, moment: datetime) -> list[str]:
    """The three lines of the mark: the form of copy, the agency, the signing time in Vietnam time."""
    when = moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()
    return [_nfc(line) for line in (mark.text, agency, when) if _nfc(line)]


@dataclass(frozen=True)
class Appearance:
    """A drawn mark: its size in points and the form XObject to use as the widget's appearance."""

    width: float
    height: float
    stream: generic.IndirectObject


def mark_box(page_box: tuple[float, float, float, float], width: float, height: float) -> tuple[int, int, int, int]:
    """The widget rectangle of a WIDTH x HEIGHT mark in the top right corner of PAGE_BOX (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = page_box
    right = x1 - MARGIN
    top = y1 - MARGIN
    left = max(x0, right - width)
    bottom = max(y0, top - height)
    # pyHanko writes the rectangle as integers; round outwards so the text never touches the edge
    return int(left), int(bottom), int(right + 0.999), int(top + 0.999)


def draw_mark(writer: BasePdfFileWriter, lines: list[str], *, font: Path, size: float) -> Appearance:
    """Add the appearance of LINES to WRITER: the subset font, then the form XObject that draws them.

    Raises SigningError when the font file cannot be read or lacks a letter of the mark.
    """
    face = _font(font)
    cmap = face.getBestCmap()
    missing = sorted({ch for line in lines for ch in line if ord(ch) not in cmap})
    if missing:
        raise SigningError(
            f"phông chữ {font.name} không có ký tự {''.join(missing)!r} cần cho dấu chữ ký hiển thị",
            f"the font {font.name} lacks the characters {''.join(missing)!r} of the visible mark",
        )
    # every digit and the time's punctuation too: the marks of one agency then share one subset, made once
    stable = {ch for ch in _TIME_CHARS if ord(ch) in cmap}
    used = tuple(sorted({cmap[ord(ch)] for line in lines for ch in line} | {cmap[ord(ch)] for ch in stable}))
    program, gids = _subset(font, used)
    sub = TTFont(io.BytesIO(program))
    scale = 1000.0 / sub["head"].unitsPerEm
    order = sub.getGlyphOrder()  # the saved subset may have lost the names: look glyphs up by index
    widths = {gid: round(sub["hmtx"][order[gid]][0] * scale, 3) for gid in gids.values()}
    codes = {ch: gids[cmap[ord(ch)]] for line in lines for ch in line}
    font_ref = _font_objects(writer, sub, program, codes, widths, scale)

    line_widths = [sum(widths[codes[ch]] for ch in line) * size / 1000 for line in lines]
    ascent = sub["hhea"].ascent * scale * size / 1000
    descent = -sub["hhea"].descent * scale * size / 1000
    leading = size * LEADING
    width = round(max(line_widths) + 2 * PADDING, 2)
    height = round(PADDING + ascent + leading * (len(lines) - 1) + descent + PADDING, 2)
    ops = [f"q 0 g BT {FONT_KEY} {size:g} Tf {leading:g} TL {PADDING:g} {height - PADDING - ascent:.2f} Td"]
    for i, line in enumerate(lines):
        text = "".join(f"{codes[ch]:04X}" for ch in line)
        ops.append(f"{'T* ' if i else ''}<{text}> Tj")
    ops.append("ET Q")
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, width, height)]),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/Font"): generic.DictionaryObject({pdf_name(FONT_KEY): font_ref})}
            ),
        },
        stream_data="\n".join(ops).encode("ascii"),
    )
    stream.compress()
    return Appearance(width=width, height=height, stream=writer.add_object(stream))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


@functools.cache
def _font(path: Path) -> TTFont:
    """The font at PATH, parsed once per process (only its cmap and metrics are read from this copy)."""
    try:
        return TTFont(str(path), lazy=True)
    except OSError as exc:
        raise SigningError(
            f"không đọc được phông chữ {path} cho dấu chữ ký hiển thị ({exc.strerror}) — cài fonts-liberation2",
            f"cannot read the font {path} for the visible mark ({exc.strerror}); install fonts-liberation2",
        ) from None


_TIME_CHARS = "0123456789:-+/() T"


@functools.lru_cache(maxsize=16)
def _subset(path: Path, glyphs: tuple[str, ...]) -> tuple[bytes, dict[str, int]]:
    """A TrueType program with .notdef and GLYPHS only, and each glyph's index in it (cached: a tenth of a second)."""
    options = subset.Options()
    options.layout_features = []  # no shaping happens in a CIDFont; GSUB/GPOS would only add bytes
    options.name_IDs = ["*"]  # keep the copyright and licence notices with the program
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: nothing a reader uses
    options.recalc_bounds = True
    face = TTFont(str(path))
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=glyphs)
    subsetter.subset(face)
    order = face.getGlyphOrder()
    out = io.BytesIO()
    face.save(out)
    return out.getvalue(), {name: order.index(name) for name in glyphs}


def _font_objects(
    writer: BasePdfFileWriter,
    face: TTFont,
    program: bytes,
    codes: dict[str, int],
    widths: dict[int, float],
    scale: float,
) -> generic.IndirectObject:
    """The Type 0 font dictionary with its descendant, descriptor, program, CIDSet and ToUnicode."""
    name = f"{SUBSET_TAG}+{_postscript_name(face)}"
    font_file = generic.StreamObject({pdf_name("/Length1"): generic.NumberObject(len(program))}, stream_data=program)
    font_file.compress()
    head, os2 = face["head"], face["OS/2"]
    cid_set = generic.StreamObject(stream_data=_cid_set(widths))
    cid_set.compress()
    descriptor = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/FontDescriptor"),
            pdf_name("/FontName"): pdf_name("/" + name),
            pdf_name("/Flags"): generic.NumberObject(6),  # serif, symbolic: Vietnamese is beyond the Latin set
            pdf_name("/FontBBox"): generic.ArrayObject(
                [generic.NumberObject(round(v * scale)) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
            ),
            pdf_name("/ItalicAngle"): generic.NumberObject(0),
            pdf_name("/Ascent"): generic.NumberObject(round(face["hhea"].ascent * scale)),
            pdf_name("/Descent"): generic.NumberObject(round(face["hhea"].descent * scale)),
            pdf_name("/CapHeight"): generic.NumberObject(round(os2.sCapHeight * scale)),
            pdf_name("/StemV"): generic.NumberObject(80),
            pdf_name("/FontFile2"): writer.add_object(font_file),
            pdf_name("/CIDSet"): writer.add_object(cid_set),
        }
    )
    w_array = generic.ArrayObject()
    for gid in sorted(widths):
        w_array.append(generic.NumberObject(gid))
        w_array.append(generic.ArrayObject([generic.FloatObject(widths[gid])]))
    cid_font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
            pdf_name("/BaseFont"): pdf_name("/" + name),
            pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                {
                    pdf_name("/Registry"): generic.TextStringObject("Adobe"),
                    pdf_name("/Ordering"): generic.TextStringObject("Identity"),
                    pdf_name("/Supplement"): generic.NumberObject(0),
                }
            ),
            pdf_name("/FontDescriptor"): writer.add_object(descriptor),
            pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
            pdf_name("/W"): w_array,
        }
    )
    to_unicode = generic.StreamObject(stream_data=_to_unicode({gid: ch for ch, gid in codes.items()}))
    to_unicode.compress()
    return writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): pdf_name("/" + name),
                pdf_name("/Encoding"): pdf_name("/Identity-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
                pdf_name("/ToUnicode"): writer.add_object(to_unicode),
            }
        )
    )


def _postscript_name(face: TTFont) -> str:
    name = face["name"].getDebugName(6) or "LiberationSerif"
    return "".join(ch for ch in name if ch.isascii() and ch.isalnum() or ch == "-")


def _cid_set(widths: dict[int, float]) -> bytes:
    """One bit per CID, most significant bit first, set for .notdef and every glyph of the mark."""
    cids = {0, *widths}
    bits = bytearray((max(cids) // 8) + 1)
    for cid in cids:
        bits[cid // 8] |= 0x80 >> (cid % 8)
    return bytes(bits)


def _to_unicode(chars: dict[int, str]) -> bytes:
    """A ToUnicode CMap from each two-byte CID of the mark to its character (all in the BMP)."""
    entries = [f"<{cid:04X}> <{ord(ch):04X}>" for cid, ch in sorted(chars.items())]
    sections = [
        f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar"
        for chunk in (entries[i : i + 100] for i in range(0, len(entries), 100))
    ]
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + "\n".join(sections) + "\nendcmap\n"
        "CMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
