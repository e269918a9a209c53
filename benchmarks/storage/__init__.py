"""The storage benchmark: bytes per archived page, compact against lossless (``python -m benchmarks.storage.run``).

Its pages come from the page generator in ``samples/`` (a script folder, not
a package), put on the import path here as the OCR benchmark does.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SAMPLES = str(Path(__file__).resolve().parents[2] / "samples")
if _SAMPLES not in sys.path:
    sys.path.insert(0, _SAMPLES)
