#!/usr/bin/env bash
# Installs what the OCR benchmark compares against, apart from the product:
# Debian's ghostscript and unpaper (OCRmyPDF's --clean needs unpaper) and
# OCRmyPDF itself in the benchmark's own virtual environment,
# benchmarks/out/venv. Nothing here becomes a dependency of `scanner`.
# Safe to run again. Run as root on Debian 12 (apt-get).
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=benchmarks/out
PKGS=(time ghostscript unpaper poppler-utils tesseract-ocr tesseract-ocr-vie fonts-liberation2 python3-venv)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$OUT"
if [[ ! -x $OUT/venv/bin/ocrmypdf ]]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  "$OUT/venv/bin/python" -m pip install -q "ocrmypdf==17.13.0"
fi
"$OUT/venv/bin/ocrmypdf" --version
