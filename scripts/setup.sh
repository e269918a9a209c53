#!/usr/bin/env bash
# Installs what the workstation needs on Debian 12, as root: the Debian
# packages of the external programs, then a virtual environment in .venv/
# with the package (and, with --dev, the test tools) installed.
# Safe to run again: apt-get and pip skip what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1

PKGS=(tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng fonts-liberation2 poppler-utils python3-venv)
# the web workstation's front-end files (htmx) come from the npm registry: npm, unless a Node.js is already there
command -v npm >/dev/null 2>&1 || PKGS+=(npm)
if [[ $DEV == 1 ]]; then
  # validators and tokens used by the test suite; PostgreSQL (Debian 12: 15) for the catalog tests,
  # which start a throwaway cluster of their own (tests/postgres.py), so the package's own cluster may stay down
  PKGS+=(default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java softhsm2 openssl postgresql)
  PKGS+=(chromium chromium-driver)  # the browser the web tests drive (never a downloaded one)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if [[ $DEV == 1 ]]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
else
  .venv/bin/python -m pip install -q -e .
fi

# front-end files served by the web workstation itself (scanner/web/package-lock.json): no CDN, no build step
npm ci --prefix scanner/web --omit=dev --no-audit --no-fund --loglevel=error >/dev/null
