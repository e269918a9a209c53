"""The invisible font of the text layer: one empty glyph that fits every character.

The OCR text is drawn in text render mode 3 (neither filled nor stroked), so
its glyphs never show; what matters is that a reader can map each character
code back to Unicode and that PDF/A finds an embedded font program for it.
A "glyphless" TrueType font does both at the smallest cost: every CID selects
glyph 1, an empty glyph half an em wide, and the ToUnicode CMap says CID ==
Unicode code point. Vietnamese needs no special case: every precomposed
letter (ộ, ữ, Ỷ...) is in the Basic Multilingual Plane.

The font program is generated with fontTools once per process (about 1 KB)
and the four font objects are added once per document, shared by all pages.
"""

from __future__ import annotations

import functools
import io
import zlib

import pikepdf
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from pikepdf import Array, Dictionary, Name

FONT_NAME = "GlyphLessFont"
UNITS_PER_EM = 1000
ADVANCE = 500  # the width of every glyph, in 1/1000 em: also /DW
ASCENT = 800
DESCENT = -200  # ascent - descent = one em, so the glyph box is the word box

# UTF-16 surrogates are not characters; a CID in this range would map to nothing valid.
_SURROGATE_HIGH_BYTES = range(0xD8, 0xE0)


@functools.cache
def glyphless_truetype() -> bytes:
    """The TrueType program: .notdef and one empty glyph, both ADVANCE wide.

    Glyph 0 must exist (.notdef); glyph 1 is the one every CID is mapped to,
    so no text ever selects .notdef, which PDF/A validators report.
    """
    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    order = [".notdef", "blank"]
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({0x20: "blank"})
    empty = TTGlyphPen(None).glyph()
    builder.setupGlyf({name: empty for name in order})
    builder.setupHorizontalMetrics({name: (ADVANCE, 0) for name in order})
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    builder.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=ASCENT,
        sTypoDescender=DESCENT,
        usWinAscent=ASCENT,
        usWinDescent=-DESCENT,
        sxHeight=ASCENT // 2,
        sCapHeight=ASCENT,
    )
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


@functools.cache
def _cid_to_gid_map() -> bytes:
    """Every one of the 65536 CIDs selects glyph 1 (two bytes, big-endian, per CID)."""
    return zlib.compress(b"\x00\x01" * 65536, 9)


@functools.cache
def to_unicode_cmap() -> bytes:
    """A ToUnicode CMap that maps each two-byte code to the same code point.

    The ranges are one first byte each (``<XX00> <XXFF> <XX00>``): a bfrange
    may only vary in its last byte. The surrogate block is left out. A
    ``beginbfrange`` section holds at most 100 entries (Adobe Technical Note 5014).
    """
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if hi not in _SURROGATE_HIGH_BYTES]
    sections = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start : start + 100]
        sections.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return (
        "/CIDInit /ProcSet findresource begin\n"
        "12 dict begin\n"
        "begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n"
        "/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + "\n".join(sections) + "\nendcmap\n"
        "CMapName currentdict /CMap defineresource pop\n"
        "end\nend\n"
    ).encode("ascii")


def add_glyphless_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """Add the Type 0 font and its descendants to PDF; return the indirect font dictionary."""
    program = glyphless_truetype()
    font_file = pdf.make_stream(program)
    font_file.Length1 = len(program)
    descriptor = pdf.make_indirect(
        Dictionary(
            Type=Name.FontDescriptor,
            FontName=Name("/" + FONT_NAME),
            Flags=4,  # symbolic: the glyphs are not the standard Latin set
            FontBBox=Array([0, DESCENT, ADVANCE, ASCENT]),
            ItalicAngle=0,
            Ascent=ASCENT,
            Descent=DESCENT,
            CapHeight=ASCENT,
            StemV=80,
            FontFile2=font_file,
        )
    )
    cid_to_gid = pikepdf.Stream(pdf, _cid_to_gid_map())
    cid_to_gid.Filter = Name.FlateDecode
    cid_font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.CIDFontType2,
            BaseFont=Name("/" + FONT_NAME),
            CIDSystemInfo=Dictionary(
                Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0
            ),
            FontDescriptor=descriptor,
            DW=ADVANCE,
            CIDToGIDMap=pdf.make_indirect(cid_to_gid),
        )
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/" + FONT_NAME),
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([cid_font]),
            ToUnicode=pdf.make_stream(to_unicode_cmap()),
        )
    )
