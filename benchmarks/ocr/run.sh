#!/usr/bin/env bash
# The OCR benchmark in one command: installs the comparison tools (OCRmyPDF in
# benchmarks/out/venv, Debian ghostscript and unpaper), makes sure the product
# is installed in .venv, then runs `python -m benchmarks.ocr` with the
# arguments given (e.g. --pages 8 for a quick run). Results land in
# benchmarks/out/results.md, results.csv, pages.csv and cleaning.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash benchmarks/ocr/setup.sh
[[ -x .venv/bin/scanner ]] || bash scripts/setup.sh
exec .venv/bin/python -m benchmarks.ocr "$@"
