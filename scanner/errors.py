"""The project's exceptions.

Each class carries the exit status the CLI returns for it, a machine-readable
reason code (written to quarantine notes and the catalog) and a Vietnamese
message for the clerk. The English text stays in ``args`` for logs and
developers. Messages never contain secrets: callers pass file names and
reasons, never passwords or PINs.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INPUT_FAILED = 1
EXIT_USAGE = 2


class ScannerError(Exception):
    """Base class: something the user can act on, with a Vietnamese message."""

    exit_code = EXIT_INPUT_FAILED
    code = "error"

    def __init__(self, message_vi: str, message_en: str = "", *, code: str | None = None) -> None:
        super().__init__(message_en or message_vi)
        self.message_vi = message_vi
        self.message_en = message_en or message_vi
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message_vi} ({self.message_en})" if self.message_en != self.message_vi else self.message_vi


class ConfigError(ScannerError):
    """The configuration file is missing, malformed or names an invalid value."""

    exit_code = EXIT_USAGE
    code = "config"


class InputError(ScannerError):
    """An input file cannot be digitized (not an image or PDF, truncated, too big...).

    The file is kept (quarantined); ``path`` names it.
    """

    code = "input"

    def __init__(self, path: str, message_vi: str, message_en: str = "", *, code: str | None = None) -> None:
        super().__init__(f"{path}: {message_vi}", f"{path}: {message_en or message_vi}", code=code)
        self.path = path


class OcrError(ScannerError):
    """The recognizer failed on a page (crash, time-out, missing language data)."""

    code = "ocr"


class PdfError(ScannerError):
    """The PDF/A could not be built or did not validate."""

    code = "pdf"


class SigningError(ScannerError):
    """The signing identity could not be used (wrong password, expired certificate...)."""

    code = "sign"


class ArchiveError(ScannerError):
    """The archive or its catalog refused an operation."""

    code = "archive"


class CodeError(ScannerError):
    """A code could not be issued or does not follow its rule."""

    code = "code"


class NotFoundError(ScannerError):
    """A code or record the user asked for does not exist."""

    code = "not-found"
