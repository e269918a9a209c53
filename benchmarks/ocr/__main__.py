"""``python -m benchmarks.ocr [--pages N] [--systems scanner,ocrmypdf,tesseract] [--out DIR]``.

Run it through ``bash benchmarks/ocr/run.sh``, which first installs
OCRmyPDF, Ghostscript and unpaper for the comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.ocr.run import REPO, SYSTEMS, main

p = argparse.ArgumentParser(prog="python -m benchmarks.ocr", description=__doc__)
p.add_argument("--pages", type=int, default=None, help="only the first N pages of the corpus (every class early on)")
p.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ",".join(SYSTEMS))
p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
p.add_argument("--reuse", action="store_true", help="keep the other systems' results from the last run in --out")
p.add_argument("--resume", action="store_true", help="keep every page run that an interrupted run finished")
args = p.parse_args()
systems = [s for s in args.systems.split(",") if s]
unknown = set(systems) - set(SYSTEMS)
if unknown:
    p.error(f"unknown systems: {', '.join(sorted(unknown))}")
sys.exit(main(args.out, args.pages, systems, args.reuse, args.resume))
