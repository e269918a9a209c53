"""Quarantine: where input that cannot be digitized is kept, with the reason beside it.

``<work>/quarantine/<date>/<name>`` plus ``<name>.reason.txt`` holding the
Vietnamese message for the clerk and a machine-readable reason code. The file
is moved, never deleted: a clerk can fix and re-scan it, and nothing a citizen
handed in is lost.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from pathlib import Path

from scanner.errors import ScannerError
from scanner.jsonio import fsync_dir

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def put(work: Path, path: Path, original_name: str, error: ScannerError, *, now: datetime, counter: str = "") -> Path:
    """Move PATH into today's quarantine folder under a safe, unique name; return where it went.

    The note names the counter the file came from, so the counter's clerk
    sees it, and can send it back to that counter's inbox (``scanner.app.quarantine``).
    """
    folder = work / "quarantine" / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    name = _fit(_UNSAFE.sub("_", original_name).lstrip(".") or "tep")
    note = (
        f"Tệp: {original_name}\n"
        f"Lý do: {error.message_vi}\n"
        f"Mã lý do: {error.code}\n"
        f"Thời điểm: {now.isoformat(timespec='seconds')}\n"
        f"Reason (en): {error.message_en}\n"
    ) + (f"Quầy: {counter}\n" if counter else "")
    n = 1
    while True:
        stem, dot, ext = name.rpartition(".")
        dest = folder / name if n == 1 else folder / (f"{stem}-{n}.{ext}" if dot else f"{name}-{n}")
        if not dest.exists() and _reserve(dest.with_name(dest.name + ".reason.txt"), note.encode("utf-8")):
            break
        n += 1
    if path.is_symlink() or not path.exists():
        return dest
    try:
        os.replace(path, dest)
    except OSError:
        shutil.copyfile(path, dest)
        path.unlink()
    fsync_dir(folder)
    return dest


def _reserve(reason: Path, text: bytes) -> bool:
    """Claim a name by creating its reason file exclusively: machines sharing a quarantine never take one name twice."""
    try:
        fd = os.open(reason, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, text)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _fit(name: str, limit: int = 180) -> str:
    """NAME cut (keeping its extension) so that it and its ``.reason.txt`` fit a file system's 255 bytes."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    keep = stem.encode("utf-8")[: limit - len(ext.encode("utf-8")) - 4].decode("utf-8", "ignore")
    return f"{keep}…" + (f".{ext}" if ext else "")
