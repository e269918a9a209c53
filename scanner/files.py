"""Small file helpers shared by capture, the pipeline and the archive, light enough for the OCR tool to import."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from scanner.errors import FaultKind, WorkstationError


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


LOW_DISK_BYTES = 64 * 1024 * 1024


def disk_nearly_full(where: Path) -> WorkstationError | None:
    """The disk-full fault when WHERE's file system has under ``LOW_DISK_BYTES`` free, else None.

    A full disk shows up in a decoder, a renderer or a PDF writer as a broken
    file or a failed write; every one of them asks here before blaming a file.
    """
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return None
    if free >= LOW_DISK_BYTES:
        return None
    return WorkstationError(
        FaultKind.DISK_FULL,
        f"ổ đĩa đầy: {where} chỉ còn {free // 1024} KB — giải phóng dung lượng; tệp vẫn được giữ và làm tiếp sau đó",
        f"disk full: {where} has {free // 1024} KB free — free some space; the file is kept and retried",
    )
