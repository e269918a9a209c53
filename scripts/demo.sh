#!/usr/bin/env bash
# The main job on the embedded defaults: installs, initializes a workstation
# in ./demo (local folders, SQLite catalog, a development signing key), runs
# the samples through the whole pipeline, and shows where the signed PDFs are
# and a search that finds them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ROOT=${1:-demo}
CONFIG=$(.venv/bin/scanner init --root "$ROOT")
echo "== Cấu hình: $CONFIG"
shopt -s nullglob
SAMPLES=(samples/*.jpg samples/*.png samples/*.tif)
status=0
OUT=$(mktemp)
.venv/bin/scanner --config "$CONFIG" process "${SAMPLES[@]}" --counter quay-1 --json >"$OUT" || status=$?
STATE=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$OUT")
CODE=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["dossier_code"] or "")' "$OUT")
if [[ "$STATE" == "reviewing" ]]; then
  # the clerk's review: the fields read with low confidence are shown, the clerk confirms ("Hoàn tất")
  echo "== Hồ sơ $CODE chờ cán bộ kiểm tra các trường bị đánh dấu"
  .venv/bin/scanner --config "$CONFIG" --user "can-bo-tiep-nhan" dossier "$CODE"
  .venv/bin/scanner --config "$CONFIG" --user "can-bo-tiep-nhan" confirm "$CODE"
  status=0
fi
rm -f "$OUT"
echo
echo "== Hồ sơ đã lưu trữ"
.venv/bin/scanner --config "$CONFIG" show "$CODE"
echo
echo "== Tìm kiếm: \"giấy xác nhận\""
.venv/bin/scanner --config "$CONFIG" search "giấy xác nhận"
echo
echo "== Tìm kiếm không dấu: \"uy ban nhan dan\""
.venv/bin/scanner --config "$CONFIG" search "uy ban nhan dan" --limit 3
echo
echo "== Kiểm tra chữ ký và tính toàn vẹn"
.venv/bin/scanner --config "$CONFIG" verify --all
exit $status
