#!/usr/bin/env bash
# The test command: installs what the suite needs (Debian packages, .venv),
# then runs the linters and the tests. Extra arguments go to pytest, e.g.
#   bash scripts/test.sh -m "not slow"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check scanner tests samples benchmarks
.venv/bin/mypy scanner
.venv/bin/pytest -q "$@"
