"""Poppler's command-line tools: rasterizing PDF pages and extracting text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from scanner.errors import InputError


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise InputError(
            name, "không tìm thấy chương trình (cài gói poppler-utils)", "not found (install poppler-utils)"
        )
    return path


def render_page(pdf: Path, page: int, dpi: int, out_png: Path, *, timeout: float = 120.0) -> Path:
    """Rasterize page PAGE (1-based) of PDF to OUT_PNG at DPI, in colour."""
    stem = out_png.with_suffix("")
    proc = subprocess.run(
        [
            _binary("pdftoppm"),
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0 or not out_png.exists():
        reason = proc.stderr.decode("utf-8", "replace").strip()[:200]
        raise InputError(
            f"{pdf.name}#{page}", f"không dựng được ảnh trang PDF: {reason}", f"cannot rasterize PDF page: {reason}"
        )
    return out_png


def pdftotext(pdf: Path, *, timeout: float = 60.0) -> str:
    """The text a reader would copy out of PDF (used to check the text layer)."""
    proc = subprocess.run(
        [_binary("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise InputError(pdf.name, "không trích được văn bản", proc.stderr.decode("utf-8", "replace")[:200])
    return proc.stdout.decode("utf-8")
