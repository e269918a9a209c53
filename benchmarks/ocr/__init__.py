"""The OCR benchmark: `scanner ocr` against OCRmyPDF and bare Tesseract (``bash benchmarks/ocr/run.sh``).

The page generator lives in ``samples/`` (it is a script folder, not a
package), so it is put on the import path here, before any module of the
benchmark imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SAMPLES = str(Path(__file__).resolve().parents[2] / "samples")
if _SAMPLES not in sys.path:
    sys.path.insert(0, _SAMPLES)
