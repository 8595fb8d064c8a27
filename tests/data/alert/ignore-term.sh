#!/bin/sh
# Command-sink fixture: ignores SIGTERM, so only SIGKILL ends it.
trap '' TERM
echo started > "$CAPTURE_DIR/ignore-term.started"
while :; do
	sleep 1
done
