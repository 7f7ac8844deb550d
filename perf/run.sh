#!/usr/bin/env bash
# make bench: every perf case, release binaries in $1.
set -euo pipefail
BIN=${1:?usage: run.sh BIN_DIR}
cd "$(dirname "$0")"
status=0
python3 copy_to_layout.py "$BIN" || status=1
python3 throttled.py "$BIN" || status=1
python3 save.py "$BIN" || status=1
python3 load.py "$BIN" || status=1
python3 codec.py "$BIN" || status=1
python3 recompress.py "$BIN" || status=1
exit $status
