"""Document metadata: the Info dictionary, the XMP packet and the project's own XMP properties.

The standard properties (title, creator, subject, keywords, language,
dates) are written through pikepdf's metadata editor before
``pikepdf.pdfa.prepare``, which rewrites the packet in the canonical form
its validator approves and makes the Info dictionary agree with it, as
PDF/A-1 requires.

The project's own properties (dossier code, document code...) live in the
``scanner`` namespace. PDF/A allows a namespace it does not predefine only
when the packet also carries an extension schema that describes it
(ISO 19005-1 6.7.8, ISO 19005-2 6.6.2.3): ``pdfaExtension:schemas`` with
one ``pdfaSchema`` per namespace and one ``pdfaProperty`` per property.
``prepare`` drops every property it does not know (and never writes an
extension schema), so these are added after it, together with their
schema. PDFBox Preflight checks the schema and accepts it; pikepdf's
validator, an allowlist of the predefined schemas, does not read extension
schemas and denies the namespaces it sees. ``waived`` names exactly those
findings, so the builder can accept them and nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime

import pikepdf
from lxml import etree
from pikepdf.pdfa import Finding

from scanner.errors import PdfError
from scanner.model import PdfMetadata

NAMESPACE = "https://scanner.example/ns/1.0/"
PREFIX = "scanner"
CREATOR_TOOL = "scanner"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_EXTENSION = {
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
# The rule pikepdf's validator reports an undeclared XMP namespace or property under, per PDF/A part.
_NAMESPACE_RULES = frozenset({"ISO_19005_1:6.7.9-2", "ISO_19005_2:6.6.2.3.1-1"})

# What each known property means, for the schema's pdfaProperty:description (read by archivists).
DESCRIPTIONS = {
    "dossier_code": "Mã hồ sơ (Thông tư 01/2018/TT-VPCP) — dossier code",
    "document_code": "Mã giấy tờ trong hồ sơ — document code within the dossier",
    "agency_code": "Mã định danh cơ quan tiếp nhận (Quyết định 20/2020/QĐ-TTg) — receiving agency code",
    "procedure_code": "Mã thủ tục hành chính — administrative procedure code",
    "owner_id": "Số định danh của tổ chức, cá nhân — owner identifier",
    "retention": "Thời hạn bảo quản — retention period",
}

# An XMP property name is an XML name; keep to the ASCII subset so every reader agrees.
_PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# Characters XML 1.0 cannot carry at all.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: str) -> str:
    """TEXT as it may go into XMP and Info: NFC, without characters XML cannot hold."""
    return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", text))


def _xmp_date(moment: datetime) -> str:
    """An XMP date with a time zone and whole seconds.

    The Info dictionary keeps whole seconds only, and PDF/A-1 wants the two
    dates equal. An aware time keeps its own offset (+07:00 at a counter);
    a naive one is taken as the machine's local time, which is what the
    counter's clock shows.
    """
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.replace(microsecond=0).isoformat()


def describe(pdf: pikepdf.Pdf, meta: PdfMetadata, *, now: datetime) -> None:
    """Write the standard metadata of META into PDF's XMP packet and Info dictionary."""
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:title"] = clean_text(meta.title)
        xmp["dc:creator"] = [clean_text(meta.creator)]
        if meta.subject:
            xmp["dc:description"] = clean_text(meta.subject)
        if meta.keywords:
            xmp["pdf:Keywords"] = clean_text(", ".join(meta.keywords))
        if meta.language:
            xmp["dc:language"] = {clean_text(meta.language)}
        xmp["xmp:CreateDate"] = _xmp_date(meta.created or now)
        xmp["xmp:ModifyDate"] = _xmp_date(now)
        xmp["xmp:CreatorTool"] = CREATOR_TOOL


def _check_names(properties: Mapping[str, str]) -> None:
    bad = [name for name in properties if not _PROPERTY_NAME.match(name)]
    if bad:
        raise PdfError(
            f"tên thuộc tính siêu dữ liệu không hợp lệ: {', '.join(bad)}",
            f"invalid XMP property names: {', '.join(bad)}",
        )


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        element.text = text
    return element


def _schema_description(properties: Mapping[str, str]) -> etree._Element:
    """The rdf:Description holding the pdfaExtension schema of the scanner namespace."""
    ext, schema, prop = _EXTENSION["pdfaExtension"], _EXTENSION["pdfaSchema"], _EXTENSION["pdfaProperty"]
    description = etree.Element(f"{{{RDF}}}Description", nsmap={"rdf": RDF, **_EXTENSION})
    description.set(f"{{{RDF}}}about", "")
    bag = _sub(_sub(description, ext, "schemas"), RDF, "Bag")
    item = _sub(bag, RDF, "li")
    item.set(f"{{{RDF}}}parseType", "Resource")
    _sub(item, schema, "schema", "Scanner: digitized administrative papers")
    _sub(item, schema, "namespaceURI", NAMESPACE)
    _sub(item, schema, "prefix", PREFIX)
    seq = _sub(_sub(item, schema, "property"), RDF, "Seq")
    for name in properties:
        entry = _sub(seq, RDF, "li")
        entry.set(f"{{{RDF}}}parseType", "Resource")
        _sub(entry, prop, "name", name)
        _sub(entry, prop, "valueType", "Text")
        _sub(entry, prop, "category", "external")  # set by the counter, not derived from the page
        _sub(entry, prop, "description", DESCRIPTIONS.get(name, name))
    return description


def _values_description(properties: Mapping[str, str]) -> etree._Element:
    description = etree.Element(f"{{{RDF}}}Description", nsmap={"rdf": RDF, PREFIX: NAMESPACE})
    description.set(f"{{{RDF}}}about", "")
    for name, value in properties.items():
        _sub(description, NAMESPACE, name, clean_text(value))
    return description


def add_scanner_properties(pdf: pikepdf.Pdf, properties: Mapping[str, str]) -> None:
    """Add PROPERTIES in the scanner namespace, and their extension schema, to the XMP packet.

    Call after ``pikepdf.pdfa.prepare``, which would drop them. The packet's
    ``xpacket`` processing instructions are kept as they are.
    """
    if not properties:
        return
    _check_names(properties)
    metadata = pdf.Root.Metadata
    tree = etree.ElementTree(etree.fromstring(metadata.read_bytes()))
    rdf = tree.getroot().find(f".//{{{RDF}}}RDF")
    if rdf is None:
        raise PdfError("gói XMP không có rdf:RDF", "the XMP packet has no rdf:RDF")
    rdf.append(_schema_description(properties))
    rdf.append(_values_description(properties))
    packet = etree.tostring(tree, encoding="utf-8", xml_declaration=False)
    pdf.Root.Metadata = pdf.make_stream(packet, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)


def _packet(pdf: pikepdf.Pdf) -> etree._Element | None:
    metadata = pdf.Root.get("/Metadata")
    if not isinstance(metadata, pikepdf.Stream):
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(metadata.read_bytes(), parser)


def read_scanner_properties(pdf: pikepdf.Pdf) -> dict[str, str]:
    """The scanner-namespace properties of PDF's XMP packet (empty when it has none)."""
    root = _packet(pdf)
    if root is None:
        return {}
    found = root.iterfind(f".//{{{RDF}}}Description/{{{NAMESPACE}}}*")
    return {etree.QName(element).localname: element.text or "" for element in found}


def described_properties(pdf: pikepdf.Pdf) -> set[str]:
    """The scanner-namespace property names that PDF's extension schema describes."""
    root = _packet(pdf)
    if root is None:
        return set()
    schema, prop = _EXTENSION["pdfaSchema"], _EXTENSION["pdfaProperty"]
    names: set[str] = set()
    for uri in root.iter(f"{{{schema}}}namespaceURI"):
        entry = uri.getparent()
        if (uri.text or "").strip() == NAMESPACE and entry is not None:
            names.update((n.text or "").strip() for n in entry.iterfind(f"{{{schema}}}property//{{{prop}}}name"))
    return names


def waived(finding: Finding, properties: Mapping[str, str]) -> bool:
    """True if FINDING is pikepdf's denial of the scanner namespace or its extension schema, nothing more."""
    if not properties or finding.rule not in _NAMESPACE_RULES or not finding.where.endswith("(MetadataStream)"):
        return False
    expected = {f"XMP namespace {prefix}={uri} is not permitted" for prefix, uri in _EXTENSION.items()}
    expected.add(f"XMP namespace {PREFIX}={NAMESPACE} is not permitted")
    expected.add("XMP property pdfaExtension:schemas is not permitted")
    expected.update(f"XMP property {PREFIX}:{name} is not permitted" for name in properties)
    return finding.message in expected
