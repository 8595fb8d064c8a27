#!/usr/bin/env bash
# History retention through the daemon: under a sustained stream with
# history_max_rows 500 the events table stays bounded while folding keeps
# up, the WAL stays bounded, current state is intact; SIGHUP applies new
# limits (row cap, age cap); rejected_events are capped on their own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIM_BIN="${SIM_BIN:-$LATTICED_BUILD_DIR/tools/sim/latticed-sim}"
[ -x "$SIM_BIN" ] || fail "latticed-sim not built: $SIM_BIN"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/r.db"
CONF="$T/r.conf"
write_conf() {
	cat >"$CONF" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 1h
history_max_rows $1
history_max_age $2
rejected_max_rows 5
retention_interval 100ms
checkpoint_interval 1s
batch_max 250
CONF
}
write_conf 500 7d
start_notify
start_latticed -f "$CONF"
wait_ready

# a sustained stream: 20 hosts, 1500 events/s for 12 s
RATE=1500
"$SIM_BIN" --nats "nats://127.0.0.1:$PORT" --mode flood --hosts 20 \
    --lattices 2 --rate "$RATE" --duration 12s --seed 7 \
    >"$T/sim.out" 2>"$T/sim.log" &
SIM_PID=$!
PIDS+=("$SIM_PID")

max_rows=0
max_wal=0
prev_seq=0
stalls=0
samples=0
while kill -0 "$SIM_PID" 2>/dev/null; do
	sleep 0.5
	read -r rows seq <<<"$(q "select count(*) || ' ' ||
	    coalesce(max(seq), 0) from events")"
	wal=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	[ "$rows" -gt "$max_rows" ] && max_rows=$rows
	[ "$wal" -gt "$max_wal" ] && max_wal=$wal
	# folding goes on: seq grows between samples
	if [ "$samples" -gt 1 ] && [ "$seq" -le "$prev_seq" ]; then
		stalls=$((stalls + 1))
	fi
	prev_seq=$seq
	samples=$((samples + 1))
done
wait "$SIM_PID" || fail "latticed-sim failed"
[ "$samples" -ge 15 ] || fail "only $samples samples"

# every event is folded; none is lost to pruning or backpressure
sent=$(grep -oE '[0-9]+ events' "$T/sim.log" | tail -n1 | cut -d' ' -f1)
[ -n "$sent" ] || fail "no event count from latticed-sim: $(cat "$T/sim.log")"
wait_for 10 q_is "select max(seq) >= $sent * 99 / 100 from events" 1 || true
seq=$(q "select max(seq) from events")
rows=$(q "select count(*) from events")
echo "sent $sent, max(seq) $seq, rows max $max_rows now $rows," \
    "wal max $max_wal, stalls $stalls of $samples samples"
[ "$sent" -ge $((RATE * 10)) ] || fail "stream too slow: $sent events"
[ "$seq" -ge $((sent * 99 / 100)) ] ||
    fail "folded $seq of $sent events: pruning held up the fold"
[ "$stalls" -le 1 ] || fail "folding stalled in $stalls samples"
ok "folding kept up: $seq of $sent events folded while pruning"

# the table never held much more than the cap: a sample can see at most
# what one fold batch (batch_max 250) added on top of what one prune pass
# (1000 rows) had left
[ "$max_rows" -le $((500 + 1000 + 250)) ] ||
    fail "events grew to $max_rows rows (cap 500)"
wait_q 5 "select count(*) <= 500 from events" 1
[ "$(q "select max(seq) - min(seq) + 1 = count(*) from events")" = 1 ] ||
    fail "pruning left holes: not oldest first"
ok "events bounded: at most $max_rows rows, $(q "select count(*) from events") now"

# the WAL is checkpointed and stays bounded
[ "$max_wal" -le $((16 << 20)) ] || fail "wal grew to $max_wal bytes"
ok "wal bounded: at most $max_wal bytes"

# current state is intact
[ "$(q "select count(*) from hosts")" = 20 ] || fail "hosts: $(q "select count(*) from hosts")"
[ "$(q "select count(*) from hosts where status = 'up'")" -ge 1 ] || fail "no host up"
[ "$(q "select count(*) from components")" -gt 0 ] || fail "components gone"
[ "$(q "select count(*) from providers")" -gt 0 ] || fail "providers gone"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check"
ok "hosts, components and providers intact"
wait_log "retention: pruned [0-9]+ events"

# rejected_events: capped at 5, independently of events
for i in $(seq 1 12); do
	echo '{"subject": "wasmbus.evt.default.host_heartbeat", "raw": "not json '"$i"'"}'
done | pub
wait_q 5 "select group_concat(cast(raw as text), ',') from
    (select raw from rejected_events order by seq)" \
    "not json 8,not json 9,not json 10,not json 11,not json 12"
[ "$(q "select count(*) from events where host_id is not null")" -gt 0 ] ||
    fail "events pruned with rejected_events"
ok "rejected_events capped at 5, newest kept"

# SIGHUP: a tighter row cap applies without a restart
write_conf 100 7d
kill -HUP "$LATTICED_PID"
wait_q 5 "select count(*) from events" 100
ok "SIGHUP: history_max_rows 100 applied"

# SIGHUP: an age cap (a bare 0 turns the row cap off)
write_conf 0 2s
kill -HUP "$LATTICED_PID"
wait_q 10 "select count(*) from events" 0
[ "$(q "select count(*) from hosts")" = 20 ] || fail "hosts pruned"
ok "SIGHUP: history_max_age 2s empties the history, hosts stay"

# new events are still folded and kept
ev host_heartbeat default NRETAIN 3 | pub
wait_q 5 "select count(*) from events where host_id = 'NRETAIN'" 3
stop_latticed TERM || fail "latticed exit status"
grep -q "exiting with status 0" "$T/latticed.log" || fail "unclean exit"
ok "clean shutdown"
