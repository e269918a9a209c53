"""PDF/A checks that still mean something once a file is signed.

pikepdf's validator is an allowlist that does not know interactive forms.
On a signed file the catalog's /AcroForm (which holds the signature field)
is reported as ``unsupported``, and because the catalog then fails its
schema the walk stops there: pages, fonts, images and the output intent
of a signed file are not checked at all, and the verdict is
``not_checked``. So :func:`pdfa_findings` checks a signed file with its
signature fields taken out (in memory; nothing is written), which checks
everything else exactly as for the unsigned file.

The Document Security Store (``/DSS``, PAdES B-LT) is taken out the same
way: pikepdf does not know the catalog key, and its contents are
certificates, OCSP responses and CRLs in plain streams.

What that leaves out is the signature field itself; ``pades`` builds it to
the PDF/A rules (zero-size printable widget with an appearance stream, one
signer, a byte range over the whole file but the signature) and
tests/sign checks them, plus PDFBox Preflight on a PDF/A-1b file, which
does check signatures.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pikepdf.pdfa
from pikepdf.pdfa import Finding

PDFAID = "http://www.aiim.org/pdfa/ns/id/"


def pdfa_flavour(path: Path) -> str | None:
    """The PDF/A flavour PATH claims in its XMP ("2b", "1b"...), or None for a plain PDF."""
    with pikepdf.open(path) as pdf:
        return _claimed_flavour(pdf)


def pdfa_findings(path: Path, flavour: str) -> list[Finding]:
    """pikepdf's PDF/A-FLAVOUR findings on PATH, its signature fields left out of the check."""
    with pikepdf.open(path) as pdf:
        _drop_signature_fields(pdf)
        return list(pikepdf.pdfa.check(pdf, flavour).findings)


def confirmed_findings(path: Path, flavour: str, before: list[Finding]) -> list[Finding]:
    """Findings on PATH that its source (BEFORE) did not have, seen in two checks.

    pikepdf reports any Python warning raised while it parses a content
    stream as ``pikepdf:content-parse``, also one from elsewhere: another
    thread (the warnings record is process-wide) or an unrelated object the
    garbage collector finalizes right then (CI saw a psycopg connection's
    ResourceWarning refuse a good signed file). Such a warning does not come
    back in a second check; a fault of the file does. Only a file that fails
    costs the second check.
    """
    added = added_findings(before, pdfa_findings(path, flavour))
    if not added:
        return []
    again = {(f.rule, f.message, f.kind) for f in added_findings(before, pdfa_findings(path, flavour))}
    return [f for f in added if (f.rule, f.message, f.kind) in again]


def added_findings(before: list[Finding], after: list[Finding]) -> list[Finding]:
    """Findings in AFTER that BEFORE did not have (object numbers aside, since signing renumbers some)."""
    known = {(f.rule, f.message, f.kind) for f in before}
    return [f for f in after if (f.rule, f.message, f.kind) not in known]


def _claimed_flavour(pdf: pikepdf.Pdf) -> str | None:
    if "/Metadata" not in pdf.Root:
        return None
    meta = pdf.open_metadata()
    part, conformance = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
    if not part or not conformance:
        return None
    return f"{part}{conformance}".lower()


def _drop_signature_fields(pdf: pikepdf.Pdf) -> None:
    """Remove /AcroForm, /DSS and the signature widgets from the pages of PDF (in memory)."""
    if "/DSS" in pdf.Root:
        del pdf.Root["/DSS"]
    if "/AcroForm" not in pdf.Root:
        return
    del pdf.Root["/AcroForm"]
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        kept = [a for a in annots if not _is_signature_widget(a)]
        if kept:
            page.obj.Annots = pikepdf.Array(kept)
        else:
            del page.obj["/Annots"]


def _is_signature_widget(annot: pikepdf.Object) -> bool:
    if not isinstance(annot, pikepdf.Dictionary) or annot.get("/Subtype") != "/Widget":
        return False
    node: pikepdf.Object | None = annot
    while isinstance(node, pikepdf.Dictionary):  # /FT may be inherited from a parent field
        if "/FT" in node:
            return bool(node.FT == "/Sig")
        node = node.get("/Parent")
    return False
