"""The PDF stage: page images and OCR words in, one searchable PDF/A file out.

``build_pdfa`` is the stage; its page images are kept as they are
(``images``) or coded compactly (``compact``: bitonal pages in CCITT G4,
colour and grey pages as mixed raster content). ``pdfa_problems`` checks a
file with pikepdf's validator the way the builder does (later stages can
check a signed file is still PDF/A); ``preflight`` runs Apache PDFBox Preflight, an independent
PDF/A-1b validator, for tests and for checking archived files.
"""

from __future__ import annotations

from scanner.pdf.build import FLAVOURS, STORAGES, build_pdfa, pdfa_problems
from scanner.pdf.preflight import PreflightResult, preflight, preflight_available

__all__ = [
    "FLAVOURS",
    "STORAGES",
    "PreflightResult",
    "build_pdfa",
    "pdfa_problems",
    "preflight",
    "preflight_available",
]
