"""The visible "SAO Y" mark: where it sits, what it says, and how its font is embedded for PDF/A."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pikepdf
import pytest

from scanner.config import Secret
from scanner.errors import SigningError
from scanner.sign import DevIdentity, VisibleMark, sign_pdf
from scanner.sign.mark import mark_lines
from tests.sign.conftest import AGENCY, PASSWORD, make_pdfa

UTC_MOMENT = datetime(2026, 11, 23, 7, 5, 9, tzinfo=UTC)


def _signed(tmp_path: Path, identity: DevIdentity, mark: VisibleMark, flavour: str = "2b") -> Path:
    src = make_pdfa(tmp_path / "goc.pdf", flavour)
    return sign_pdf(src, tmp_path / "ky.pdf", pkcs12=identity.pkcs12, password=Secret(PASSWORD), mark=mark).path


def test_lines_are_nfc_and_the_time_is_vietnam_time() -> None:
    lines = mark_lines(VisibleMark(), unicodedata.normalize("NFD", "Sở Tư pháp  tỉnh Khánh Hòa"), UTC_MOMENT)
    assert lines == ["SAO Y", "Sở Tư pháp tỉnh Khánh Hòa", "2026-11-23T14:05:09+07:00"]
    assert all(unicodedata.is_normalized("NFC", line) for line in lines)
    other = datetime(2026, 11, 23, 9, 5, 9, tzinfo=timezone(timedelta(hours=2)))
    assert mark_lines(VisibleMark(), "X", other)[-1] == "2026-11-23T14:05:09+07:00"


def test_widget_sits_top_right_of_page_one_with_its_appearance(tmp_path: Path, identity: DevIdentity) -> None:
    out = _signed(tmp_path, identity, VisibleMark())
    with pikepdf.open(out) as pdf:
        (widget,) = pdf.Root.AcroForm.Fields
        x0, y0, x1, y1 = (float(v) for v in widget.Rect)
        assert 595 - 40 < x1 <= 595 and 842 - 40 < y1 <= 842  # the page is A4: 595 x 842 pt
        assert x1 - x0 > 100 and 30 < y1 - y0 < 60  # three 10 pt lines
        assert int(widget.F) & 4 and not int(widget.F) & (1 | 2 | 32)
        assert list(widget.AP.keys()) == ["/N"]
        appearance = widget.AP.N
        assert appearance.Subtype == "/Form"
        content = appearance.read_bytes()
        assert b"0 g" in content and b"/F1 10 Tf" in content
        font = appearance.Resources.Font.F1
        assert font.Subtype == "/Type0" and font.Encoding == "/Identity-H" and "/ToUnicode" in font
        (cid_font,) = font.DescendantFonts
        descriptor = cid_font.FontDescriptor
        assert cid_font.Subtype == "/CIDFontType2" and cid_font.CIDToGIDMap == "/Identity"
        assert str(descriptor.FontName).startswith("/SCNSAO+Liberation")
        assert "/FontFile2" in descriptor and "/CIDSet" in descriptor
        assert len(descriptor.FontFile2.read_bytes()) < 60_000  # a subset, not the whole 400 KB face
        assert "/ExtGState" not in appearance.get("/Resources", {})  # nothing transparent


def test_mark_agency_defaults_to_the_certificate_organisation(tmp_path: Path, identity: DevIdentity) -> None:
    out = _signed(tmp_path, identity, VisibleMark())
    with pikepdf.open(out) as pdf:
        to_unicode = pdf.Root.AcroForm.Fields[0].AP.N.Resources.Font.F1.ToUnicode.read_bytes().decode()
    used = {chr(int(code, 16)) for code in re.findall(r"<[0-9A-F]{4}> <([0-9A-F]{4})>", to_unicode)}
    assert set(AGENCY.replace(" ", "")) <= used


def test_mark_keeps_pdfa_1b_per_pikepdf(tmp_path: Path, identity: DevIdentity) -> None:
    from scanner.sign.pdfa import pdfa_findings

    out = _signed(tmp_path, identity, VisibleMark(agency="Ủy ban nhân dân thành phố Đà Nẵng"), "1b")
    assert pdfa_findings(out, "1b") == []
    with pikepdf.open(out) as pdf:
        assert pdf.pdf_version == "1.4"


def test_a_letter_the_font_lacks_is_refused(tmp_path: Path, identity: DevIdentity) -> None:
    with pytest.raises(SigningError) as err:
        _signed(tmp_path, identity, VisibleMark(agency="Sở Tư pháp 司法"))
    assert "司" in err.value.message_vi
    assert not (tmp_path / "ky.pdf").exists()
