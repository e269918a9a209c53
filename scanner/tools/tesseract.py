"""The Tesseract recognizer, run as a child process.

One thread per process (``OMP_THREAD_LIMIT=1``): pages are recognized in
parallel by the pipeline, and Tesseract's own OpenMP threads only fight each
other for the same cores. Images are passed by path and results read from
stdout, so nothing is left behind in temporary folders.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import OcrError

_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


@dataclass(frozen=True)
class Osd:
    """Tesseract's orientation guess: rotate clockwise by ``rotate`` degrees to make the page upright."""

    rotate: int
    confidence: float


def _binary() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise OcrError(
            "không tìm thấy chương trình Tesseract (cài gói tesseract-ocr, tesseract-ocr-vie)",
            "tesseract not found (install tesseract-ocr and tesseract-ocr-vie)",
        )
    return path


@functools.cache
def version() -> str:
    out = subprocess.run([_binary(), "--version"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""
    return first.removeprefix("tesseract ").strip()


@functools.cache
def languages() -> frozenset[str]:
    out = subprocess.run([_binary(), "--list-langs"], capture_output=True, text=True, check=False)
    return frozenset(line.strip() for line in out.stdout.splitlines()[1:] if line.strip())


def check_languages(langs: tuple[str, ...]) -> None:
    """Fail early, with the missing language named, rather than on the first page."""
    missing = [lang for lang in langs if lang not in languages()]
    if missing:
        raise OcrError(
            f"Tesseract thiếu dữ liệu ngôn ngữ: {', '.join(missing)} (cài gói tesseract-ocr-{missing[0]})",
            f"Tesseract lacks language data: {', '.join(missing)}",
        )


def _run(args: list[str], image: Path, timeout: float) -> str:
    try:
        proc = subprocess.run(
            [_binary(), str(image), "stdout", *args],
            capture_output=True,
            env=_ENV,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OcrError(
            f"{image.name}: nhận dạng quá thời gian cho phép ({timeout:.0f} giây)",
            f"{image.name}: recognition timed out after {timeout:.0f} s",
        ) from None
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise OcrError(
            f"{image.name}: Tesseract lỗi (mã {proc.returncode}): {tail[0]}",
            f"{image.name}: tesseract failed with status {proc.returncode}: {tail[0]}",
        )
    return proc.stdout.decode("utf-8", "replace")


def tsv(image: Path, *, languages: tuple[str, ...], dpi: int, timeout: float, psm: int = 3) -> str:
    """Recognize IMAGE and return Tesseract's TSV (one row per word, with boxes and confidences)."""
    return _run(["-l", "+".join(languages), "--dpi", str(dpi), "--psm", str(psm), "tsv"], image, timeout)


_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


def osd(image: Path, *, timeout: float = 60.0) -> Osd | None:
    """Orientation and script detection; None when the page has too little text to tell."""
    try:
        out = _run(["--psm", "0", "-l", "osd"], image, timeout)
    except OcrError:
        return None  # "Too few characters" ends with a non-zero status: no opinion, not a failure
    m, c = _ROTATE.search(out), _CONF.search(out)
    if not m or not c:
        return None
    return Osd(rotate=int(m.group(1)) % 360, confidence=float(c.group(1)))
