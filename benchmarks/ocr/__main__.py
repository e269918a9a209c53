"""``python -m benchmarks.ocr [--pages N] [--systems scanner,ocrmypdf,tesseract] [--set test|dev] [--out DIR]``.

``--image-storage lossless --batch-repeat 3`` for the OCR's own CPU against bare Tesseract (issue 13).

Run it through ``bash benchmarks/ocr/run.sh``, which first installs
OCRmyPDF, Ghostscript and unpaper for the comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.ocr import run
from benchmarks.ocr.run import REPO, SYSTEMS, main

p = argparse.ArgumentParser(prog="python -m benchmarks.ocr", description=__doc__)
p.add_argument("--pages", type=int, default=None, help="only the first N pages of the corpus (every class early on)")
p.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ",".join(SYSTEMS))
p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
p.add_argument("--reuse", action="store_true", help="keep the other systems' results from the last run in --out")
p.add_argument("--resume", action="store_true", help="keep every page run that an interrupted run finished")
p.add_argument("--set", dest="which", choices=("test", "dev"), default="test", help="dev: the tuning set")
p.add_argument("--scanner-path", type=Path, default=REPO, help="run `scanner ocr` from this source tree (a before run)")
p.add_argument("--no-clean-checks", action="store_true", help="skip re-checking the cleaning page by page")
p.add_argument("--image-storage", choices=("compact", "lossless"), help="passed to `scanner ocr` (default: its own)")
p.add_argument("--batch-repeat", type=int, default=1, help="one-run CPU figures: systems in turn N times, median")
args = p.parse_args()
run.SCANNER_PATH = args.scanner_path.resolve()
run.SCANNER_ARGS = ["--image-storage", args.image_storage] if args.image_storage else []
systems = [s for s in args.systems.split(",") if s]
unknown = set(systems) - set(SYSTEMS)
if unknown:
    p.error(f"unknown systems: {', '.join(sorted(unknown))}")
sys.exit(
    main(
        args.out, args.pages, systems, args.reuse, args.resume, args.which, not args.no_clean_checks, args.batch_repeat
    )
)
