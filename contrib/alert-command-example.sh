#!/bin/sh
# alert-command-example.sh - an example latticed alert command.
#
# latticed runs the alert command directly (no shell), once per alert
# state change, with the alert as one JSON object on stdin and
# LATTICED_ALERT_* in the environment (see docs/alerting.md).  Exit 0
# when the alert was taken; anything else (or running past
# alert_command_timeout) makes latticed retry later with backoff.
#
# Usage, in latticed.conf:
#   alert_command /usr/local/libexec/latticed/alert-command-example.sh webhook https://hooks.example.org/latticed
#   alert_command /usr/local/libexec/latticed/alert-command-example.sh file /var/log/latticed/alerts.jsonl
#
#   webhook URL   POST the alert JSON to URL (curl; 2xx = taken)
#   file PATH     append the alert JSON as one line to PATH (JSON Lines)
set -eu

usage() {
	echo "usage: $0 webhook URL | file PATH" >&2
	exit 64
}

[ $# -eq 2 ] || usage
mode=$1
target=$2

# The alert is small: keep it in a variable (stdin is read once).
alert=$(cat)
[ -n "$alert" ] || { echo "no alert on stdin" >&2; exit 65; }

case $mode in
webhook)
	# Stay under latticed's default 10 s timeout; --fail turns HTTP
	# errors into a non-zero exit, so latticed retries.
	printf '%s' "$alert" | curl --silent --show-error --fail \
	    --max-time 8 --header 'Content-Type: application/json' \
	    --header "X-Latticed-Alert: ${LATTICED_ALERT_ID:-}-${LATTICED_ALERT_STATE:-}" \
	    --data-binary @- --output /dev/null -- "$target"
	;;
file)
	# One short write with O_APPEND: lines from concurrent runs do not
	# interleave in practice.
	printf '%s\n' "$alert" >> "$target"
	;;
*)
	usage
	;;
esac

# Something for a human in the journal when latticed runs with -v.
echo "delivered ${LATTICED_ALERT_KIND:-?} ${LATTICED_ALERT_STATE:-?} for ${LATTICED_ALERT_ENTITY:-?} (${mode})" >&2
