"""The Tesseract recognizer, run as a child process.

One thread per process (``OMP_THREAD_LIMIT=1``): pages are recognized in
parallel by the pipeline, and Tesseract's own OpenMP threads only fight each
other for the same cores. Images are passed by path (several at once as a
list file beside them, removed after the run) and results read from
stdout, so nothing is left behind in temporary folders.

Whose fault a failure is: Tesseract or one of its languages not installed
is the workstation's (:class:`ProgramMissing`, naming the Debian package);
Tesseract crashing or timing out on one page stays an :class:`OcrError`,
counted as an attempt, because a page can make it crash as well as a
broken installation can.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import OcrError, ProgramMissing, ProgramTimeout
from scanner.tools import runner

TESSERACT = runner.Program(
    command="tesseract",
    package="tesseract-ocr",
    label="Tesseract",
    version_pattern=r"tesseract\s+v?(\d+(?:\.\d+)+)",
    minimum=(4, 1),  # the LSTM engine, TSV output with word confidences, --dpi
)
_ENV = {"OMP_THREAD_LIMIT": "1"}

# What Tesseract prints when a language's traineddata cannot be loaded.
_NO_LANGUAGE = re.compile(r"Failed loading language '([^']+)'")


@dataclass(frozen=True)
class Osd:
    """Tesseract's orientation guess: rotate clockwise by ``rotate`` degrees to make the page upright."""

    rotate: int
    confidence: float


def version() -> str:
    return runner.version(TESSERACT)


def languages() -> frozenset[str]:
    """The languages Tesseract can load, as ``--list-langs`` prints them (read once per binary and data folder)."""
    return _languages(runner.which(TESSERACT), os.environ.get("TESSDATA_PREFIX", ""))


@functools.cache
def _languages(binary: str, tessdata_prefix: str) -> frozenset[str]:
    out = runner.run(TESSERACT, ["--list-langs"], timeout=30.0, check=True)
    lines = out.stdout.decode("utf-8", "replace").splitlines()[1:]
    return frozenset(line.strip() for line in lines if line.strip())


def language_missing(lang: str) -> ProgramMissing:
    return ProgramMissing(
        "Tesseract",
        f"tesseract-ocr-{lang}",
        f"Tesseract thiếu dữ liệu ngôn ngữ {lang} (cài gói tesseract-ocr-{lang})",
        f"Tesseract lacks the {lang} language data (install tesseract-ocr-{lang})",
    )


def check_languages(langs: tuple[str, ...]) -> None:
    """Fail early, with the missing language named, rather than on the first page."""
    missing = [lang for lang in langs if lang not in languages()]
    if missing:
        raise language_missing(missing[0])


def _run(args: list[str], image: Path, timeout: float) -> str:
    try:
        proc = runner.run(TESSERACT, [image, "stdout", *args], env=_ENV, timeout=timeout)
    except ProgramTimeout:
        raise OcrError(
            f"{image.name}: nhận dạng quá thời gian cho phép ({timeout:.0f} giây)",
            f"{image.name}: recognition timed out after {timeout:.0f} s",
        ) from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        lang = _NO_LANGUAGE.search(stderr)
        if lang:
            raise language_missing(lang.group(1))
        tail = proc.tail() or "?"
        raise OcrError(
            f"{image.name}: Tesseract lỗi (mã {proc.returncode}): {tail}",
            f"{image.name}: tesseract failed with status {proc.returncode}: {tail}",
        )
    return proc.stdout.decode("utf-8", "replace")


def tsv(image: Path, *, languages: tuple[str, ...], dpi: int, timeout: float, psm: int = 3) -> str:
    """Recognize IMAGE and return Tesseract's TSV (one row per word, with boxes and confidences)."""
    return _run(["-l", "+".join(languages), "--dpi", str(dpi), "--psm", str(psm), "tsv"], image, timeout)


def hocr(image: Path, *, languages: tuple[str, ...], dpi: int, timeout: float, psm: int = 3) -> str:
    """Recognize IMAGE and return hOCR with the LSTM's alternatives per character (``lstm_choice_mode=2``).

    The same recognition as :func:`tsv` (same words, boxes, confidences) in
    one run, plus what the mark correction needs. Two beam iterations for the
    alternatives instead of Tesseract's five: the runners-up that matter are
    found in the first two (the same corrections on the development pages),
    and the choices then cost about 3% more CPU instead of 10%.
    """
    return _run(_hocr_args(languages, dpi, psm), image, timeout)


def _hocr_args(languages: tuple[str, ...], dpi: int, psm: int = 3) -> list[str]:
    return ["-l", "+".join(languages), "--dpi", str(dpi), "--psm", str(psm), *_CHOICES, "hocr"]


_CHOICES = ("-c", "lstm_choice_mode=2", "-c", "lstm_choice_iterations=2")


_PAGE = "<div class='ocr_page'"


def hocr_pages(images: Sequence[Path], *, languages: tuple[str, ...], dpi: int, timeout: float) -> list[str]:
    """:func:`hocr` of each of IMAGES (all recognized at DPI), read by one Tesseract run.

    Starting Tesseract costs about 0.1 s of CPU (its models are loaded), a
    tenth of reading a page; a run over a list of images pays it once. A
    run that fails is repeated page by page, so the error names the page
    that caused it. TIMEOUT is per page.
    """
    if len(images) == 1 or any("\n" in str(i) or "\r" in str(i) for i in images):
        return [hocr(i, languages=languages, dpi=dpi, timeout=timeout) for i in images]
    listing = images[0].with_name(f".tesseract-{os.getpid()}-{secrets.token_hex(4)}.txt")
    listing.write_text("".join(f"{i}\n" for i in images), encoding="utf-8")
    try:
        data = _run(_hocr_args(languages, dpi), listing, timeout * len(images))
    except OcrError:
        return [hocr(i, languages=languages, dpi=dpi, timeout=timeout) for i in images]
    finally:
        listing.unlink(missing_ok=True)
    pages = data.split(_PAGE)[1:]
    if len(pages) != len(images):
        raise OcrError(
            f"Tesseract trả về {len(pages)} trang cho {len(images)} ảnh",
            f"tesseract returned {len(pages)} pages for {len(images)} images",
        )
    return [_PAGE + page for page in pages]


_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


def osd(image: Path, *, timeout: float = 60.0) -> Osd | None:
    """Orientation and script detection; None when the page has too little text to tell.

    A missing ``osd`` language is not swallowed: it is the workstation's
    fault (:class:`ProgramMissing`, package tesseract-ocr-osd), and
    swallowing it would silently stop turning pages upright.
    """
    try:
        out = _run(["--psm", "0", "-l", "osd"], image, timeout)
    except OcrError:
        return None  # "Too few characters" ends with a non-zero status: no opinion, not a failure
    m, c = _ROTATE.search(out), _CONF.search(out)
    if not m or not c:
        return None
    return Osd(rotate=int(m.group(1)) % 360, confidence=float(c.group(1)))
