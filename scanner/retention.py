"""Retention periods (thời hạn bảo quản) as the catalog writes them, read as years; light enough for the config.

The catalog keeps a dossier's period as text ("vĩnh viễn", "70 năm", "10
năm", "khác"); a store with Object Lock needs a date. Both the configuration
(which checks its default period) and the storage (which locks files) read
the text here.
"""

from __future__ import annotations

import re

from scanner.text import fold

# "vĩnh viễn" (permanent) as years a store accepts: stores keep retain-until as nanoseconds in 64 bits (Ceph) and so
# cannot go past 2262; a lock can always be extended later, never shortened.
PERMANENT_YEARS = 200
LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")


def retention_years(retention: str) -> int | None:
    """Years a retention text keeps a record (``"10 năm"`` → 10; ``"vĩnh viễn"`` → PERMANENT_YEARS); else None."""
    folded = " ".join(fold(retention).split())
    if folded in ("vinh vien", "vv"):
        return PERMANENT_YEARS
    m = re.fullmatch(r"(\d{1,3})( nam)?", folded.replace("nam", " nam").replace("  ", " "))
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None
