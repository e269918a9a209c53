"""Apache PDFBox Preflight, the independent PDF/A-1b validator, run as a Java child process.

The builder validates every file with pikepdf's own validator; Preflight is
a second opinion from another code base (it also reads extension schemas,
which pikepdf's validator does not). It only knows PDF/A-1b.

``Validator_A1b`` is run in its ``xml`` mode: the text mode's exit status
is not documented (255 on an invalid file here), while the XML report says
``<isValid>`` and lists each error's code and details, and reports a file
it could not open as ``<exceptionThrown>``, always with exit status 0.

The Debian packages (libpdfbox2-java and friends) put the jars in
/usr/share/java; Preflight needs javax.activation and JAXB on Java 11+,
and xmpbox and commons-logging at run time.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import PdfError

JAR_DIR = Path("/usr/share/java")
JARS = (
    "preflight.jar",
    "pdfbox2.jar",
    "fontbox2.jar",
    "xmpbox.jar",
    "javax.activation.jar",
    "jaxb-api.jar",
    "commons-logging.jar",
)
MAIN_CLASS = "org.apache.pdfbox.preflight.Validator_A1b"


@dataclass(frozen=True)
class PreflightResult:
    """Preflight's verdict; each error is ``"<code>: <details>"`` as Preflight words it (English)."""

    valid: bool
    errors: list[str] = field(default_factory=list)


def _classpath(jar_dir: Path) -> str | None:
    jars = [jar_dir / name for name in JARS]
    return ":".join(str(j) for j in jars) if all(j.is_file() for j in jars) else None


def preflight_available(jar_dir: Path = JAR_DIR) -> bool:
    """True if Java and every Preflight jar are installed."""
    return shutil.which("java") is not None and _classpath(jar_dir) is not None


def preflight(path: Path, *, jar_dir: Path = JAR_DIR, timeout: float = 300.0) -> PreflightResult:
    """Validate PATH as PDF/A-1b with PDFBox Preflight.

    Raises PdfError when Preflight cannot be run or gives no report; an
    invalid or unreadable PDF is a result (``valid=False``), not an error.
    """
    java, classpath = shutil.which("java"), _classpath(jar_dir)
    if java is None or classpath is None:
        raise PdfError(
            "không tìm thấy Java hoặc PDFBox Preflight (cài default-jre-headless, libpdfbox2-java)",
            f"java or the PDFBox Preflight jars in {jar_dir} are missing",
        )
    try:
        proc = subprocess.run(
            [java, "-cp", classpath, MAIN_CLASS, "xml", str(path)],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PdfError(
            f"{path.name}: PDFBox Preflight chạy quá {timeout:.0f} giây", f"{path.name}: Preflight timed out"
        ) from None
    return _parse_report(path, proc.stdout, proc.stderr)


def _parse_report(path: Path, stdout: bytes, stderr: bytes) -> PreflightResult:
    start = stdout.find(b"<?xml")
    try:
        root = ET.fromstring(stdout[start:]) if start >= 0 else None
    except ET.ParseError:
        root = None
    if root is None or root.find("isValid") is None:
        reason = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise PdfError(
            f"{path.name}: PDFBox Preflight không trả về kết quả ({reason[0][:200]})",
            f"{path.name}: Preflight gave no report ({reason[0][:200]})",
        )
    errors = [
        f"{(error.findtext('code') or '').strip()}: {(error.findtext('details') or '').strip()}"
        for error in root.iter("error")
    ]
    thrown = root.findtext("exceptionThrown/message")
    if thrown:
        errors.append(f"exception: {thrown.strip()}")
    valid = (root.findtext("isValid") or "").strip() == "true"
    return PreflightResult(valid=valid and not errors, errors=errors)
