#!/usr/bin/env bash
# kill -9 of latticed while an alert command hangs (issue 14 item 6): the
# command dies with latticed (PR_SET_PDEATHSIG), what it started is killed
# by the next start (the process groups listed in <db>.children), and the
# change is delivered once, by the restarted latticed.  Also: alert_command
# quoting, an argument with blanks reaches the program as one word.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/o.db"
mkdir -p "$T/my hooks"
HOOK="$T/my hooks/hook.sh"
cat >"$HOOK" <<'HOOK'
#!/bin/bash
# the first call hangs 5 s (in a grandchild, as a webhook call would),
# then reports itself delivered
dir=$1
echo "start $LATTICED_ALERT_ID $LATTICED_ALERT_STATE $$ [$2]" >>"$dir/calls"
if [ -e "$dir/hang" ]; then
	rm -f "$dir/hang"
	sleep 5 &
	echo $! >"$dir/gc.pid"
	wait
fi
echo "done $LATTICED_ALERT_ID $LATTICED_ALERT_STATE" >>"$dir/delivered"
HOOK
chmod +x "$HOOK"
touch "$T/hang"
cat >"$T/o.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 1s
sweep_interval 250ms
alert_log no
alert_command '$HOOK' "$T" "two words"
alert_command_timeout 2s
CONF
"$LATTICED_BIN" -n -f "$T/o.conf" >/dev/null 2>&1 || fail "config check: $("$LATTICED_BIN" -n -f "$T/o.conf" 2>&1)"
start_notify
start_latticed -f "$T/o.conf"
wait_ready

ev host_heartbeat orph NHOSTO | pub
wait_for 10 test -s "$T/gc.pid" || fail "the hook never started"
grep -q '^start 1 firing [0-9]* \[two words\]$' "$T/calls" ||
    fail "hook argv: $(cat "$T/calls")"
ok "alert_command quoting: the program in a directory with a blank, 'two words' one argument"
HOOK_PID=$(awk '{ print $4 }' "$T/calls")
GC_PID=$(cat "$T/gc.pid")

stop_latticed KILL || true
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 5 gone "$HOOK_PID" || fail "the hook (pid $HOOK_PID) outlived latticed"
ok "the hanging command died with latticed (kill -9)"
[ -s "$DB.children" ] || fail "no children file"

: >"$T/notify.out"
start_latticed -f "$T/o.conf"
wait_ready
wait_log "alert: killed 1 command process group\(s\) a previous run left" 5
wait_for 5 gone "$GC_PID" || fail "what the hook started (pid $GC_PID) survived the restart"
ok "the restart killed what the command had started"
# redelivered once its lease ran out
wait_q 20 "select count(*) from alert_deliveries where sink='command' and delivered_ms is not null" 1
[ "$(grep -c '^done 1 firing$' "$T/delivered")" = 1 ] ||
    fail "delivered $(grep -c '^done 1 firing$' "$T/delivered") times: $(cat "$T/delivered")"
[ "$(wc -l <"$T/calls")" = 2 ] || fail "calls: $(cat "$T/calls")"
ok "the change was delivered once"
[ "$(wc -l <"$DB.children")" = 0 ] || fail "children file: $(cat "$DB.children")"
stop_latticed TERM || fail "exit status"
