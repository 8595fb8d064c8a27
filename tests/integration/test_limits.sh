#!/usr/bin/env bash
# Limits end to end: latticed with small limit_* values.  Every message over
# a limit becomes one rejected_events row (error 'limit', a reason), leaves
# the model exactly as it was (no half-applied fold), and the next good
# event is applied.  SIGHUP raises a limit without a restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
GEN="$LATTICED_SOURCE_DIR/tests/data/hostile/gen.py"
shopt -s lastpipe	# over_limit counts in the shell, not a subshell
g() { "$PY" "$GEN" "$@"; }

PORT=$(free_port)
start_nats "$PORT"
DB="$T/limits.db"
write_conf() {
	cat >"$T/limits.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
lattices lim
batch_delay 0ms
limit_max_payload 4k
limit_max_depth 8
limit_max_string 256
limit_max_items $1
limit_max_pairs 4
limit_max_instances 1000
limit_max_uptime 1000000
CONF
}
write_conf 5
"$LATTICED_BIN" -n -f "$T/limits.conf" 2>"$T/n.err" || fail "-n: $(cat "$T/n.err")"
# the limit keys are range-checked
printf 'db %s\nlimit_max_depth 0\nlimit_max_payload 12q\n' "$DB" >"$T/bad.conf"
if "$LATTICED_BIN" -n -f "$T/bad.conf" 2>"$T/bad.err"; then
	fail "out-of-range limits accepted"
fi
grep -q 'bad.conf:2: limit_max_depth' "$T/bad.err" || fail "depth: $(cat "$T/bad.err")"
grep -q 'bad.conf:3: limit_max_payload' "$T/bad.err" || fail "payload: $(cat "$T/bad.err")"
ok "limit keys parse and are range-checked"

start_notify
start_latticed -f "$T/limits.conf"
wait_ready 20

H=NLIMITHOST0001
g hb lim "$H" | pub
wait_q 10 "select count(*) from components where host_id='$H'" 2
snapshot() {
	q "select lattice, host_id, status, friendly_name, version, labels,
	    uptime_seconds, last_heartbeat_ms, state_ms, inventory_hash
	    from hosts order by 1, 2;
	   select * from components order by 1, 2, 3;
	   select * from providers order by 1, 2, 3;
	   select count(*) from events;"
}
BEFORE=$(snapshot)

# over_limit NAME REASON-REGEX: the line on stdin must be rejected as a
# limit with a reason matching the regex, and change nothing.
nrej=0
over_limit() {
	local name=$1 re=$2 row
	pub
	nrej=$((nrej + 1))
	wait_q 10 "select count(*) from rejected_events" "$nrej"
	row=$(q "select error || '|' || reason || '|' || coalesce(field, '')
	    from rejected_events order by seq desc limit 1")
	case "$row" in
	limit\|*) ;;
	*) fail "$name: rejected as '$row', want error 'limit'" ;;
	esac
	echo "$row" | grep -qE "$re" || fail "$name: reason '$row' !~ $re"
	[ "$(snapshot)" = "$BEFORE" ] || fail "$name: state changed"
	ok "$name rejected: $row"
}

g hb lim "$H" pad=5000 | over_limit payload 'payload of [0-9]+ bytes'
g hb lim "$H" nest=9 | over_limit depth 'nested deeper than 8'
g hb lim "$H" friendly_name="\"$(printf 'x%.0s' $(seq 300))\"" |
    over_limit string 'string too long'
g hb lim "$H" ncomp=6 | over_limit items 'too many items'
g hb lim "$H" labels='{"a":"1","b":"2","c":"3","d":"4","e":"5"}' |
    over_limit labels 'too many entries'
g hb lim "$H" uptime_seconds=1000001 | over_limit uptime 'too large'
g scaled lim "$H" comp-0 1001 | over_limit max_instances 'too large'
# a label value over the string limit inside an otherwise valid heartbeat
g hb lim "$H" labels="{\"a\":\"$(printf 'y%.0s' $(seq 300))\"}" |
    over_limit label-value 'string too long'
# the raw prefix is kept and raw_size tells the real size
q "select raw_size > 4096 and length(raw) > 0 from rejected_events
    where reason like 'payload of%'" | grep -qx 1 || fail "payload raw_size"

# at the limits exactly: applied, and the next event after the rejects
g hb lim "$H" ncomp=5 labels='{"a":"1","b":"2","c":"3","d":"4"}' \
    uptime_seconds=1000000 | pub
wait_q 10 "select count(*) from components where host_id='$H'" 5
wait_q 5 "select uptime_seconds from hosts where host_id='$H'" 1000000
g scaled lim "$H" comp-0 1000 | pub
wait_q 10 "select max_instances from components where component_id='comp-0'" 1000
ok "events at the limits applied after the rejects"

# SIGHUP raises limit_max_items: 6 components now fit
write_conf 10
kill -HUP "$LATTICED_PID"
wait_log 'reload: '
g hb lim "$H" ncomp=6 | pub
wait_q 10 "select count(*) from components where host_id='$H'" 6
[ "$(q "select count(*) from rejected_events")" = "$nrej" ] ||
    fail "reject count moved after the reload"
ok "SIGHUP applied the new limit_max_items"

stop_latticed TERM || fail "latticed exit status"
q "pragma integrity_check" | grep -qx ok || fail "integrity_check"
ok "database intact"
