#!/usr/bin/env bash
# Runs the built tests; when any fail, repeats just the failures at the end, so a log read from its tail
# (CI keeps only the last lines) still says which test failed and why.
set -uo pipefail
swift="${1:-swift}"
log="$(mktemp "${TMPDIR:-/tmp}/ferry-test-XXXXXX.log")"
trap 'rm -f "$log"' EXIT
"$swift" test --skip-build "${@:2}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo
    echo "=== failures (repeated from above) ==="
    # Swift Testing: "✘ Test … recorded an issue at File.swift:L:C: …" and its continuation lines;
    # XCTest: "File.swift:L: error: …".
    grep -E -A4 'recorded an issue|: error: |✘ Test .* failed' "$log" | grep -v '^✔' | head -c 12000
    echo "=== exit $status ==="
fi
exit "$status"
