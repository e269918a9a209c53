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
    """A full disk shows up in a decoder as a broken file; it is checked before any file is blamed."""
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return None
    if free >= LOW_DISK_BYTES:
        return None
    return WorkstationError(
        FaultKind.DISK_FULL,
        f"ổ đĩa của vùng làm việc gần đầy (còn {free // 1024} KB): giải phóng chỗ trống, tệp vẫn được giữ",
        f"the work area's disk is nearly full ({free // 1024} KB free)",
    )
