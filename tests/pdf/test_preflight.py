"""PDF/A-1b files checked by Apache PDFBox Preflight, a validator independent of pikepdf."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from lxml import etree

from scanner.model import PdfMetadata
from scanner.pdf import build_pdfa, preflight, preflight_available
from scanner.pdf.xmp import RDF
from tests.pdf.conftest import MakePage

pytestmark = pytest.mark.skipif(not preflight_available(), reason="java or PDFBox Preflight is not installed")


def test_a_1b_dossier_document_passes_preflight(make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
    """Colour JPEG, grey PNG, bitonal PNG and a page without words, with the project's XMP properties."""
    pages = [
        make_page(),
        make_page(["Giấy khai sinh"], fmt="PNG", mode="L", dpi=300),
        make_page(["Ủy ban nhân dân"], fmt="PNG", mode="1"),
        make_page(words=False),
    ]
    out = build_pdfa(pages, tmp_path / "a.pdf", flavour="1b", metadata=metadata).path
    result = preflight(out)
    assert result.valid, result.errors
    assert result.errors == []


def test_preflight_reads_the_extension_schema(make_page: MakePage, metadata: PdfMetadata, tmp_path: Path) -> None:
    """The same file without the schema fails: Preflight's approval above covers the scanner namespace."""
    out = build_pdfa([make_page(["Giấy khai sinh"])], tmp_path / "a.pdf", flavour="1b", metadata=metadata).path
    with pikepdf.open(out) as pdf:
        root = etree.fromstring(pdf.Root.Metadata.read_bytes())
        schema = root.find(f".//{{{RDF}}}Description/{{http://www.aiim.org/pdfa/ns/extension/}}schemas/..")
        assert schema is not None
        schema.getparent().remove(schema)
        pdf.Root.Metadata = pdf.make_stream(etree.tostring(root), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
        pdf.save(tmp_path / "b.pdf", force_version="1.4", object_stream_mode=pikepdf.ObjectStreamMode.disable)
    result = preflight(tmp_path / "b.pdf")
    assert not result.valid
    assert any("https://scanner.example/ns/1.0/" in error for error in result.errors)


def test_a_file_that_is_not_a_pdf_is_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not a PDF")
    result = preflight(bad)
    assert not result.valid and result.errors
    missing = preflight(tmp_path / "missing.pdf")
    assert not missing.valid and any("exception" in e for e in missing.errors)
