#!/bin/sh
# Command-sink fixture: a webhook that refuses.
cat > /dev/null
echo "webhook said no" >&2
exit 3
