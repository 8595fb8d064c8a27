#!/bin/sh
# Command-sink fixture: hangs in a child; records the child's pid in
# $CAPTURE_DIR/child.pid so the test can check the group was killed.
sleep 300 &
echo $! > "$CAPTURE_DIR/child.pid"
wait
