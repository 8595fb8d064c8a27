#!/bin/sh
# Command-sink fixture: record stdin, the LATTICED_ALERT_* environment and
# the arguments under $CAPTURE_DIR (set by the test).
set -eu
cat > "$CAPTURE_DIR/stdin.json"
env | grep '^LATTICED_ALERT_' | sort > "$CAPTURE_DIR/env"
for a in "$@"; do
	printf '%s\n' "$a"
done > "$CAPTURE_DIR/args"
