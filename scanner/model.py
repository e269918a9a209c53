"""The typed values that travel between the stages of the pipeline.

Every stage takes and returns these dataclasses; they are the only thing two
stages share. Paths always point into the job's work folder, never into the
inbox or the archive, so a stage can be re-run from its inputs after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path


@dataclass(frozen=True)
class SourceFile:
    """A file taken from a counter's inbox, already copied into the job's work folder."""

    path: Path
    original_name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class PageImage:
    """One scanned page as an image file on disk.

    ``path`` is a JPEG when the page came from the scanner as JPEG and was not
    altered (lossless storage then passes it into the PDF byte for byte),
    otherwise a PNG.
    ``dpi`` is the scanning resolution; the PDF page size follows from it.
    """

    path: Path
    width: int
    height: int
    dpi: float
    source: str  # original file name and page number, for messages: "scan.tif#3"


@dataclass(frozen=True)
class CleanedPage:
    """A page after cleaning: the archival colour image and the recognizer's image.

    Both images have the same pixel grid, so word boxes found on ``ocr_image``
    are valid on ``image``.
    """

    image: PageImage
    ocr_image: Path
    rotation: int  # degrees clockwise applied to make the page upright (0/90/180/270)
    skew: float  # degrees of deskew applied
    ink: float = 1.0  # share of the page covered by ink, margins excluded (blank-page score)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Word:
    """One recognized word, its box in pixels of the page image, and its confidence 0-100."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    block: int = 0
    line: int = 0


@dataclass(frozen=True)
class OcrPage:
    """What the recognizer read on one page (text is NFC, lines joined by newlines)."""

    text: str
    words: tuple[Word, ...]
    confidence: float
    width: int
    height: int
    raw_text: str = ""  # the text as Tesseract read it, before its marks were corrected (kept in the job folder)


@dataclass(frozen=True)
class PdfPage:
    """A page ready for the PDF builder: its archival image and its OCR words."""

    image: PageImage
    ocr: OcrPage


@dataclass(frozen=True)
class PdfMetadata:
    """Descriptive metadata written to the Info dictionary and the XMP packet.

    ``properties`` are the project's own XMP properties (dossier code, document
    code, agency code, procedure code, owner identifier, retention): keys are
    the property names of the ``scanner`` XMP namespace.
    """

    title: str
    creator: str  # the agency (cơ quan) that digitized the paper
    subject: str = ""
    keywords: tuple[str, ...] = ()
    language: str = "vi"
    created: datetime | None = None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuiltPdf:
    """A PDF/A file written by the builder."""

    path: Path
    pages: int
    flavour: str  # "2b" or "1b"
    sha256: str


@dataclass(frozen=True)
class SignedPdf:
    """A PDF after the agency's signature was applied."""

    path: Path
    sha256: str
    signer: str  # subject common name of the signing certificate
    signed_at: datetime
    level: str  # "B-B", "B-T", "B-LT", "B-LTA"


@dataclass(frozen=True)
class DocumentDraft:
    """A document (văn bản / giấy tờ) of a dossier as grouped by capture."""

    pages: tuple[PageImage, ...]
    sources: tuple[SourceFile, ...]
    title: str = ""
    document_type: str = ""


@dataclass(frozen=True)
class DossierCodes:
    """The codes issued for a dossier and its documents."""

    dossier_code: str
    document_codes: tuple[str, ...]
    receipt_date: date
