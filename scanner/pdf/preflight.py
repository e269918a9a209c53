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

Whose fault a failure is: Java or a jar missing, or a Java that cannot
load Preflight's classes, is the workstation's (:class:`ProgramMissing`,
:class:`ProgramFailed`, naming the Debian package); a file Preflight cannot
read is a result (``valid=False``); a run that times out or ends without a
report for another reason stays a :class:`PdfError`, counted as an attempt.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import PdfError, ProgramFailed, ProgramMissing, ProgramTimeout
from scanner.tools import runner

JAVA = runner.Program(
    command="java",
    package="default-jre-headless",
    label="Java",
    version_args=("-version",),
    version_pattern=r'version "(\d+(?:\.\d+)*)',
)
JAR_DIR = Path("/usr/share/java")
# Each jar Preflight needs and the Debian package that installs it.
JAR_PACKAGES = {
    "preflight.jar": "libpdfbox2-java",
    "pdfbox2.jar": "libpdfbox2-java",
    "fontbox2.jar": "libfontbox2-java",
    "xmpbox.jar": "libpdfbox2-java",
    "javax.activation.jar": "libactivation-java",
    "jaxb-api.jar": "libjaxb-api-java",
    "commons-logging.jar": "libcommons-logging-java",
}
JARS = tuple(JAR_PACKAGES)
MAIN_CLASS = "org.apache.pdfbox.preflight.Validator_A1b"


@dataclass(frozen=True)
class PreflightResult:
    """Preflight's verdict; each error is ``"<code>: <details>"`` as Preflight words it (English)."""

    valid: bool
    errors: list[str] = field(default_factory=list)


def _classpath(jar_dir: Path) -> str | None:
    jars = [jar_dir / name for name in JARS]
    return ":".join(str(j) for j in jars) if all(j.is_file() for j in jars) else None


def missing_jars(jar_dir: Path = JAR_DIR) -> ProgramMissing | None:
    """The error naming the first missing jar's package, or None when every jar is there."""
    missing = [name for name in JARS if not (jar_dir / name).is_file()]
    if not missing:
        return None
    package = JAR_PACKAGES[missing[0]]
    return ProgramMissing(
        "PDFBox Preflight",
        package,
        f"thiếu PDFBox Preflight: không có {', '.join(missing)} trong {jar_dir} (cài gói {package})",
        f"PDFBox Preflight is incomplete: {', '.join(missing)} missing from {jar_dir} (install {package})",
    )


def preflight_available(jar_dir: Path = JAR_DIR) -> bool:
    """True if Java and every Preflight jar are installed."""
    try:
        runner.which(JAVA)
    except ProgramMissing:
        return False
    return _classpath(jar_dir) is not None


def preflight(path: Path, *, jar_dir: Path = JAR_DIR, timeout: float = 300.0) -> PreflightResult:
    """Validate PATH as PDF/A-1b with PDFBox Preflight.

    Raises ProgramMissing or ProgramFailed when Java or Preflight is not
    usable, PdfError when a run gives no report; an invalid or unreadable
    PDF is a result (``valid=False``), not an error.
    """
    runner.which(JAVA)
    classpath = _classpath(jar_dir)
    if classpath is None:
        raise missing_jars(jar_dir) or ProgramMissing("PDFBox Preflight", "libpdfbox2-java")
    try:
        done = runner.run(JAVA, ["-cp", classpath, MAIN_CLASS, "xml", path], timeout=timeout)
    except ProgramTimeout:
        raise PdfError(
            f"{path.name}: PDFBox Preflight chạy quá {timeout:.0f} giây", f"{path.name}: Preflight timed out"
        ) from None
    return _parse_report(path, done.stdout, done.stderr)


# What Java says when the classpath is broken: the installation, not the file, is at fault.
_CLASS_MISSING = ("NoClassDefFoundError", "ClassNotFoundException", "Could not find or load main class")


def _parse_report(path: Path, stdout: bytes, stderr: bytes) -> PreflightResult:
    start = stdout.find(b"<?xml")
    try:
        root = ET.fromstring(stdout[start:]) if start >= 0 else None
    except ET.ParseError:
        root = None
    if root is None or root.find("isValid") is None:
        said = stderr.decode("utf-8", "replace")
        if any(marker in said for marker in _CLASS_MISSING):
            tail = runner.stderr_tail(stderr)
            raise ProgramFailed(
                "PDFBox Preflight",
                f"Java không nạp được PDFBox Preflight (cài lại gói libpdfbox2-java): {tail}",
                f"Java cannot load PDFBox Preflight (reinstall libpdfbox2-java): {tail}",
            )
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
