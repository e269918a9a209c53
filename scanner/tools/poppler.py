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

A run that "succeeds" is not believed blindly: pdftoppm exits 0 after
printing ``Bogus memory allocation size`` and writing a 90-byte image for a
page it could not allocate. A rendered page must be a PNG whose header
gives the page's size at the asked resolution; anything else is a failure
(the file's when poppler complained about it, else ambiguous), never a
blank page.
"""

from __future__ import annotations

import struct
from pathlib import Path

from scanner.errors import FaultKind, InputError, InputReason, ProgramCrashed, ScannerError, WorkstationError
from scanner.files import disk_nearly_full
from scanner.tools import runner

PDFTOPPM = runner.Program(command="pdftoppm", package="poppler-utils", label="pdftoppm", version_args=("-v",))
PDFTOTEXT = runner.Program(command="pdftotext", package="poppler-utils", label="pdftotext", version_args=("-v",))
PDFSIG = runner.Program(command="pdfsig", package="poppler-utils", label="pdfsig", version_args=("-v",))

EXIT_OPEN_INPUT = 1
EXIT_OPEN_OUTPUT = 2
EXIT_PERMISSIONS = 3

_COMPLAINTS = ("Syntax Error", "Syntax Warning", "Internal Error", "I/O Error", "Permission Error")
# What poppler prints when a page asks for an impossible allocation: the file's dimensions, not the machine.
_ALLOCATION = ("Bogus memory allocation size", "Out of memory")
# pdftoppm rounds each side up, and some versions add a pixel for a fractional box.
SIZE_TOLERANCE_PX = 3


def _failure(done: runner.Completed, label: str, out_dir: Path | None, what_vi: str, what_en: str) -> ScannerError:
    """The project's error for a failed poppler run, by whose fault it is (see the module docstring)."""
    tail = done.tail()
    prog = done.program.label
    if out_dir is not None and (full := disk_nearly_full(out_dir)) is not None:
        return full
    if out_dir is not None and done.returncode == EXIT_OPEN_OUTPUT:
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


def render_page(
    pdf: Path,
    page: int,
    dpi: int,
    out_png: Path,
    *,
    timeout: float = 120.0,
    page_size: tuple[float, float] | None = None,
) -> Path:
    """Rasterize page PAGE (1-based) of PDF to OUT_PNG at DPI, in colour.

    PAGE_SIZE, the page's MediaBox width and height in points, is what the
    image's size is checked against (either way round: /Rotate may be
    inherited); without it the image only has to be a readable PNG.
    """
    stem = out_png.with_suffix("")
    done = runner.run(
        PDFTOPPM,
        ["-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", pdf, stem],
        timeout=timeout,
    )
    label = f"{pdf.name}#{page}"
    if done.returncode != 0 or not out_png.exists():
        raise _failure(done, label, out_png.parent, "không dựng được ảnh trang PDF", "cannot rasterize PDF page")
    size = png_size(out_png)
    if size is None:
        raise _implausible(done, label, "ảnh dựng ra không đọc được", "the rendered image is unreadable")
    if page_size is not None:
        want = (page_size[0] * dpi / 72, page_size[1] * dpi / 72)
        if not any(
            abs(size[0] - w) <= SIZE_TOLERANCE_PX and abs(size[1] - h) <= SIZE_TOLERANCE_PX
            for w, h in (want, want[::-1])
        ):
            raise _implausible(
                done,
                label,
                f"ảnh dựng ra có kích thước {size[0]}×{size[1]}, trong khi trang cần {want[0]:.0f}×{want[1]:.0f}",
                f"rendered image is {size[0]}x{size[1]}, the page needs {want[0]:.0f}x{want[1]:.0f}",
            )
    return out_png


def png_size(path: Path) -> tuple[int, int] | None:
    """Width and height from a PNG's header, without decoding it (None if it is not a PNG)."""
    try:
        with path.open("rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return (width, height) if width > 0 and height > 0 else None


def _implausible(done: runner.Completed, label: str, what_vi: str, what_en: str) -> ScannerError:
    """A page poppler said it drew but did not: the file's fault if poppler complained about it, else ambiguous."""
    out = done.stderr.decode("utf-8", "replace")
    tail = done.tail()
    if any(word in out for word in (*_COMPLAINTS, *_ALLOCATION)):
        return InputError(
            label,
            f"không dựng được ảnh trang PDF ({what_vi}): {tail}",
            f"cannot rasterize PDF page ({what_en}): {tail}",
            code=InputReason.CORRUPT_PDF,
        )
    prog = done.program.label
    return ProgramCrashed(
        prog,
        f"{label}: {prog} báo thành công nhưng {what_vi}",
        f"{label}: {prog} reported success but {what_en}",
    )


def pdftotext(pdf: Path, *, timeout: float = 60.0) -> str:
    """The text a reader would copy out of PDF (used to check the text layer)."""
    done = runner.run(PDFTOTEXT, ["-enc", "UTF-8", pdf, "-"], timeout=timeout)
    if done.returncode != 0:
        raise _failure(done, pdf.name, None, "không trích được văn bản", "cannot extract the text")
    return done.stdout.decode("utf-8")
