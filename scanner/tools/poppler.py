"""Poppler's command-line tools: rasterizing PDF pages and extracting text.

Whose fault a failure is, read from poppler's documented exit statuses
(1: the PDF could not be opened, 2: the output file could not be written,
3: the PDF's permissions forbid it, 99: anything else):

- 1 and 3, and 99 with poppler's own complaint about the file (``Syntax
  Error``, ``Internal Error``...), are the input's: :class:`InputError`,
  the file goes to quarantine.
- 2, or any failure while the work folder's disk is (nearly) full, is the
  workstation's: :class:`WorkstationError`, the file is kept.
- a crash by signal, or 99 without a word, is ambiguous:
  :class:`ProgramCrashed`, counted as an attempt.
- the program missing is the workstation's (:class:`ProgramMissing`,
  poppler-utils), never the citizen's file's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from scanner.errors import FaultKind, InputError, InputReason, ProgramCrashed, ScannerError, WorkstationError
from scanner.tools import runner

PDFTOPPM = runner.Program(command="pdftoppm", package="poppler-utils", label="pdftoppm", version_args=("-v",))
PDFTOTEXT = runner.Program(command="pdftotext", package="poppler-utils", label="pdftotext", version_args=("-v",))
PDFSIG = runner.Program(command="pdfsig", package="poppler-utils", label="pdfsig", version_args=("-v",))

EXIT_OPEN_INPUT = 1
EXIT_OPEN_OUTPUT = 2
EXIT_PERMISSIONS = 3

# Below this much free space a failed write is put down to the disk, not the file.
LOW_DISK_BYTES = 64 * 1024 * 1024

_COMPLAINTS = ("Syntax Error", "Syntax Warning", "Internal Error", "I/O Error", "Permission Error")


def _low_disk(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < LOW_DISK_BYTES
    except OSError:
        return False


def _failure(done: runner.Completed, label: str, out_dir: Path | None, what_vi: str, what_en: str) -> ScannerError:
    """The project's error for a failed poppler run, by whose fault it is (see the module docstring)."""
    tail = done.tail()
    prog = done.program.label
    low_disk = out_dir is not None and _low_disk(out_dir)
    if out_dir is not None and (low_disk or done.returncode == EXIT_OPEN_OUTPUT):
        if low_disk:
            return WorkstationError(
                FaultKind.DISK_FULL,
                f"ổ đĩa đầy: {prog} không ghi được vào {out_dir} — giải phóng dung lượng rồi chạy lại",
                f"disk full: {prog} cannot write to {out_dir} — free some space and run again",
            )
        return WorkstationError(
            FaultKind.PROGRAM_FAILED,
            f"{prog} không ghi được vào vùng làm việc {out_dir}: {tail}",
            f"{prog} cannot write to the work folder {out_dir}: {tail}",
        )
    stderr = done.stderr.decode("utf-8", "replace")
    complained = any(word in stderr for word in _COMPLAINTS)
    if done.returncode in (EXIT_OPEN_INPUT, EXIT_PERMISSIONS) or (done.returncode > 0 and complained):
        return InputError(label, f"{what_vi}: {tail}", f"{what_en}: {tail}", code=InputReason.CORRUPT_PDF)
    return ProgramCrashed(
        prog,
        f"{label}: {prog} dừng bất thường (mã {done.returncode}): {tail or '?'}",
        f"{label}: {prog} stopped abnormally (status {done.returncode}): {tail or '?'}",
    )


def render_page(pdf: Path, page: int, dpi: int, out_png: Path, *, timeout: float = 120.0) -> Path:
    """Rasterize page PAGE (1-based) of PDF to OUT_PNG at DPI, in colour."""
    stem = out_png.with_suffix("")
    done = runner.run(
        PDFTOPPM,
        ["-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", pdf, stem],
        timeout=timeout,
    )
    if done.returncode != 0 or not out_png.exists():
        raise _failure(
            done, f"{pdf.name}#{page}", out_png.parent, "không dựng được ảnh trang PDF", "cannot rasterize PDF page"
        )
    return out_png


def pdftotext(pdf: Path, *, timeout: float = 60.0) -> str:
    """The text a reader would copy out of PDF (used to check the text layer)."""
    done = runner.run(PDFTOTEXT, ["-enc", "UTF-8", pdf, "-"], timeout=timeout)
    if done.returncode != 0:
        raise _failure(done, pdf.name, None, "không trích được văn bản", "cannot extract the text")
    return done.stdout.decode("utf-8")
