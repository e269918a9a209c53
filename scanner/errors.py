"""The project's exceptions.

Each class carries the exit status the CLI returns for it, a machine-readable
reason code (written to quarantine notes and the catalog) and a Vietnamese
message for the clerk. The English text stays in ``args`` for logs and
developers. Messages never contain secrets: callers pass file names and
reasons, never passwords or PINs.

Three kinds of failure are kept apart, because they call for different
actions (OCRmyPDF draws the same line between a bad input and a missing
dependency):

- :class:`InputError` — the citizen's file itself is at fault (not a PDF,
  truncated, encrypted, a renderer's clear parse error): quarantined at once.
- :class:`WorkstationError` — this machine is at fault (a program or its
  data missing, a program that fails on every input, a full disk, the
  signing key or the catalog out of reach): the job waits and is retried,
  the operator is told, and the file is never quarantined for it.
- everything else (:class:`OcrError` when Tesseract crashes on one page,
  :class:`ProgramTimeout` ...) is ambiguous: counted as an attempt, and the
  file is quarantined only after the configured number of attempts.
"""

from __future__ import annotations

import errno
from enum import StrEnum
from typing import Any

EXIT_OK = 0
EXIT_INPUT_FAILED = 1
EXIT_USAGE = 2
EXIT_WORKSTATION = 3  # not the input's fault: fix the machine and run again


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

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuild from the attributes, not the constructor: errors raised in a page worker cross a process pool.

        The default pickling calls ``cls(*args)``, which fails for every
        subclass whose constructor takes more than the message; in a
        ``ProcessPoolExecutor`` that failure breaks the whole pool, and a
        missing program would be taken for a crashed worker.
        """
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[ScannerError], args: tuple[Any, ...], state: dict[str, Any]) -> ScannerError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(ScannerError):
    """The configuration file is missing, malformed or names an invalid value."""

    exit_code = EXIT_USAGE
    code = "config"


class InputReason(StrEnum):
    """Why an input is refused (an :class:`InputError`'s ``code``, written to quarantine notes and the catalog)."""

    INPUT = "input"  # no more precise reason
    MISSING = "missing"
    EMPTY = "empty"
    BAD_NAME = "bad-name"
    SYMLINK = "symlink"
    TOO_LARGE = "too-large"
    TOO_MANY_PIXELS = "too-many-pixels"
    TOO_MANY_PAGES = "too-many-pages"
    UNSUPPORTED_TYPE = "unsupported-type"
    CORRUPT_IMAGE = "corrupt-image"
    CORRUPT_PDF = "corrupt-pdf"
    ENCRYPTED_PDF = "encrypted-pdf"
    ACTIVE_CONTENT = "active-content"
    NO_PAGES = "no-pages"
    DUPLICATE = "duplicate"
    BAD_SIDECAR = "bad-sidecar"
    BAD_MANIFEST = "bad-manifest"
    BAD_DATE = "bad-date"
    RECURSIVE_PDF = "recursive-pdf"  # Form XObjects that draw themselves, or nest past any scanner's need
    DECODE_LIMIT = "decode-limit"  # opening the file would take more memory than allowed
    DECODE_TIMEOUT = "decode-timeout"  # opening the file takes longer than allowed
    HAS_TEXT = "has-text"  # `scanner ocr`: the PDF already has a text layer, rasterizing would throw it away
    SIGNED_PDF = "signed-pdf"  # `scanner ocr`: the PDF is signed, rasterizing would drop the signature

    @property
    def label_vi(self) -> str:
        return _INPUT_TEXT[self][0]

    @property
    def label_en(self) -> str:
        return _INPUT_TEXT[self][1]


_INPUT_TEXT: dict[InputReason, tuple[str, str]] = {
    InputReason.INPUT: ("tệp không số hóa được", "the file cannot be digitized"),
    InputReason.MISSING: ("không tìm thấy tệp", "file not found"),
    InputReason.EMPTY: ("tệp rỗng", "empty file"),
    InputReason.BAD_NAME: ("tên tệp không hợp lệ", "invalid file name"),
    InputReason.SYMLINK: ("liên kết tượng trưng", "symbolic link"),
    InputReason.TOO_LARGE: ("tệp quá lớn", "file too large"),
    InputReason.TOO_MANY_PIXELS: ("ảnh quá lớn", "image too large"),
    InputReason.TOO_MANY_PAGES: ("quá nhiều trang", "too many pages"),
    InputReason.UNSUPPORTED_TYPE: ("loại tệp không được hỗ trợ", "unsupported file type"),
    InputReason.CORRUPT_IMAGE: ("ảnh bị hỏng", "corrupt image"),
    InputReason.CORRUPT_PDF: ("PDF bị hỏng", "corrupt PDF"),
    InputReason.ENCRYPTED_PDF: ("PDF được mã hóa", "encrypted PDF"),
    InputReason.ACTIVE_CONTENT: ("PDF chứa mã thực thi", "PDF with active content"),
    InputReason.NO_PAGES: ("tệp không có trang nào", "no pages"),
    InputReason.DUPLICATE: ("tệp trùng đã nhận", "duplicate of a file already taken"),
    InputReason.BAD_SIDECAR: ("tệp JSON đi kèm không hợp lệ", "invalid sidecar"),
    InputReason.BAD_MANIFEST: ("bảng kê không hợp lệ", "invalid manifest"),
    InputReason.BAD_DATE: ("ngày không hợp lệ", "invalid date"),
    InputReason.RECURSIVE_PDF: ("PDF lồng nhau vô hạn hoặc quá sâu", "recursive or too deeply nested PDF"),
    InputReason.DECODE_LIMIT: ("mở tệp cần quá nhiều bộ nhớ", "opening the file needs too much memory"),
    InputReason.DECODE_TIMEOUT: ("mở tệp quá thời gian cho phép", "opening the file takes too long"),
    InputReason.HAS_TEXT: ("PDF đã có lớp chữ", "the PDF already has a text layer"),
    InputReason.SIGNED_PDF: ("PDF đã được ký số", "the PDF is already signed"),
}


class InputError(ScannerError):
    """An input file cannot be digitized (not an image or PDF, truncated, too big...).

    The file is kept (quarantined); ``path`` names it. ``code`` is an
    :class:`InputReason` (plain strings are still accepted while callers move
    to the enum; being a StrEnum, both compare equal).
    """

    code = InputReason.INPUT

    def __init__(
        self, path: str, message_vi: str, message_en: str = "", *, code: InputReason | str | None = None
    ) -> None:
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


class PermissionDenied(ScannerError):
    """The acting person's role does not allow this (a record of another counter or agency is NotFound instead)."""

    exit_code = EXIT_USAGE
    code = "forbidden"


class LoginRefused(ScannerError):
    """A log-in that did not open a session: wrong name or password, a locked or disabled account."""

    code = "login-refused"


class FaultKind(StrEnum):
    """Why the workstation, not the input, is at fault (written to logs, job notes and health reports)."""

    PROGRAM_MISSING = "program-missing"  # a program, or data it needs (a Tesseract language), is not installed
    PROGRAM_OUTDATED = "program-outdated"  # installed, but older than the project needs
    PROGRAM_FAILED = "program-failed"  # fails whatever the input (version probe, broken installation)
    DISK_FULL = "disk-full"
    KEY_UNAVAILABLE = "key-unavailable"  # the signing key's file or token cannot be reached right now
    CATALOG_UNAVAILABLE = "catalog-unavailable"
    STORAGE_UNAVAILABLE = "storage-unavailable"  # the archive folder (a shared mount) cannot be read or written

    @property
    def label_vi(self) -> str:
        return _FAULT_TEXT[self][0]

    @property
    def label_en(self) -> str:
        return _FAULT_TEXT[self][1]


_FAULT_TEXT: dict[FaultKind, tuple[str, str]] = {
    FaultKind.PROGRAM_MISSING: ("thiếu chương trình", "a program is missing"),
    FaultKind.PROGRAM_OUTDATED: ("chương trình quá cũ", "a program is too old"),
    FaultKind.PROGRAM_FAILED: ("chương trình bị lỗi", "a program is broken"),
    FaultKind.DISK_FULL: ("ổ đĩa đầy", "the disk is full"),
    FaultKind.KEY_UNAVAILABLE: ("không dùng được khóa ký", "the signing key is unavailable"),
    FaultKind.CATALOG_UNAVAILABLE: ("không truy cập được sổ danh mục", "the catalog is unavailable"),
    FaultKind.STORAGE_UNAVAILABLE: ("không truy cập được kho lưu trữ", "the archive folder is unavailable"),
}


class WorkstationError(ScannerError):
    """A fault of this workstation, not of the input: retried and reported, the file kept.

    ``kind`` says what to fix (its ``label_vi`` heads a health report); the
    message says how, in words a clerk can pass on to the technician
    (which Debian package to install, which folder is full).
    """

    exit_code = EXIT_WORKSTATION
    code = "workstation"

    def __init__(self, kind: FaultKind, message_vi: str, message_en: str = "") -> None:
        super().__init__(message_vi, message_en)
        self.kind = kind


class ProgramMissing(WorkstationError):
    """A program, or data it cannot run without, is not installed; ``package`` is the Debian package to install."""

    def __init__(self, program: str, package: str, message_vi: str = "", message_en: str = "") -> None:
        super().__init__(
            FaultKind.PROGRAM_MISSING,
            message_vi or f"thiếu chương trình {program} (cài gói {package})",
            message_en or f"{program} not found (install the {package} package)",
        )
        self.program = program
        self.package = package


class ProgramFailed(WorkstationError):
    """A program fails whatever it is given: its installation, not the input, is broken."""

    def __init__(
        self, program: str, message_vi: str, message_en: str = "", *, kind: FaultKind = FaultKind.PROGRAM_FAILED
    ) -> None:
        super().__init__(kind, message_vi, message_en)
        self.program = program


class ProgramTimeout(ScannerError):
    """A program ran past its time limit.

    Not a :class:`WorkstationError`: a pathological page and an overloaded
    machine look the same from here, and a file that always times out must
    end in quarantine rather than be retried for ever. Stage wrappers turn
    it into their own error (Tesseract's into :class:`OcrError`).
    """

    code = "program-timeout"

    def __init__(self, program: str, seconds: float) -> None:
        super().__init__(
            f"{program} chạy quá thời gian cho phép ({seconds:.0f} giây)",
            f"{program} timed out after {seconds:.0f} s",
        )
        self.program = program
        self.seconds = seconds


class ProgramCrashed(ScannerError):
    """A program stopped abnormally on one input without saying why (a signal, an unexplained status).

    Ambiguous like :class:`ProgramTimeout`: counted as an attempt, never
    quarantined on the first try, never retried for ever.
    """

    code = "program-crashed"

    def __init__(self, program: str, message_vi: str, message_en: str = "") -> None:
        super().__init__(message_vi, message_en)
        self.program = program


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


def workstation_fault(exc: OSError) -> WorkstationError | None:
    """The workstation fault behind EXC (a full disk or quota), or None when the error may be the input's.

    The pipeline calls this on any ``OSError`` from a stage so that a full
    disk makes the job wait instead of costing the citizen's file an attempt.
    """
    if exc.errno not in _DISK_FULL:
        return None
    where = exc.filename or ""
    detail_vi = f"ổ đĩa đầy, không ghi được {where}" if where else "ổ đĩa đầy, không ghi được tệp"
    detail_en = f"disk full, cannot write {where}" if where else "disk full, cannot write a file"
    return WorkstationError(
        FaultKind.DISK_FULL,
        f"{detail_vi} — giải phóng dung lượng rồi chạy lại",
        f"{detail_en} — free some space and run again",
    )
