#!/usr/bin/env bash
# JetStream mode against nats-server -js: a wadm-style stream already owns
# the subjects (latticed sources it); events published while latticed is
# down are folded after it starts; kill -9 mid-stream then restart gives
# exactly the state of a --replay of the same events; a nats-server
# restart loses nothing; an expired gap is detected, counted and resynced;
# a WorkQueue stream is refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_ctlr

start_js_nats
# wadm's stream: wasmbus_events on wasmbus.evt.*.>, 70 s max age
"$CTLR" --nats "$URL" --make-stream wasmbus_events \
    --subjects 'wasmbus.evt.*.>' --max-age 70 >/dev/null ||
    fail "make wasmbus_events"
DB="$T/js.db"
cat >"$T/js.conf" <<CONF
db $DB
nats_url $URL
jetstream yes
resync_gather 200ms
batch_max 100
CONF
start_latticed -f "$T/js.conf"
wait_log 'created stream latticed_events sourcing wasmbus_events'
wait_log 'consumer latticed on latticed_events created'
ev host_started ja NJAHOST 1 | pub
ev component_scaled ja NJAHOST 5 | pub
wait_q 10 "select count(*) from components where lattice='ja'" 5
[ "$(q "select value from latticed_state where key='js.latticed_events.last_seq'")" = 6 ] ||
    fail "position $(q "select * from latticed_state")"
ok "wadm's stream kept (no 10065): latticed_events sources it; events folded, position stored"

# published while latticed is stopped: folded after it starts
# (the bare wasmbus.evt.<lattice> and the rpcevt subjects too: wadm's
# stream lacks them, latticed's own stream captures them beside sourcing)
stop_latticed
# pulls are round trips: JetStream never pauses its reads (readpace.h)
! grep -q 'reads paused' "$T/latticed.log" ||
    fail "jetstream: $(grep 'reads paused' "$T/latticed.log")"
ev component_scaled ja NJAHOST 7 suffixed 5 | pub
ev host_heartbeat ja NJABARE 1 bare | pub
ev invocation_failed ja NJABARE 1 rpc | pub
[ "$(q "select count(*) from components where lattice='ja'")" = 5 ] || fail "folded while stopped?"
start_latticed -f "$T/js.conf"
wait_q 10 "select count(*) from components where lattice='ja'" 12
wait_q 10 "select count(*) from events where subject='wasmbus.evt.ja'" 1
wait_q 10 "select count(*) from events where subject='wasmbus.rpcevt.ja'" 1
wait_log 'resuming after stream sequence 6'
ok "events published while latticed was down are folded after start, bare and rpcevt subjects included"

# kill -9 during a fast stream, restart: same state as a --replay
for i in $(seq 1 10); do
	ev host_started jk "NJKHOST$i" 1
	ev component_scaled jk "NJKHOST$i" 120
done >"$T/stream.jsonl"
total=$(wc -l <"$T/stream.jsonl")
"$LTPUB_BIN" --nats "$URL" --interval 1 "$T/stream.jsonl" 2>>"$T/ltpub.log" &
PUBPID=$!
PIDS+=("$PUBPID")
wait_for 20 q_is "select count(*) > 100 from events where lattice='jk'" 1 ||
    fail "stream did not start"
kill -9 "$LATTICED_PID"
wait "$LATTICED_PID" 2>/dev/null || true
mid=$(q "select count(*) from events where lattice='jk'")
[ "$mid" -lt "$total" ] || fail "kill came too late ($mid of $total)"
start_latticed -f "$T/js.conf"
wait "$PUBPID" || fail "ltpub"
wait_q 30 "select count(*) from events where lattice='jk'" "$total"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check"
dump() {
	sqlite3 -batch -noheader "$1" "
	select 'h', host_id, status, friendly_name, version, labels from hosts
	    where lattice='jk' order by host_id;
	select 'c', host_id, component_id, image_ref, max_instances from components
	    where lattice='jk' order by host_id, component_id;
	select 'e', count(*), count(distinct source || '/' || id) from events
	    where lattice='jk';"
}
"$LATTICED_BIN" --db "$T/replay.db" --replay "$T/stream.jsonl" \
    >>"$T/replay.log" 2>&1 || fail "replay"
dump "$DB" >"$T/live.dump"
dump "$T/replay.db" >"$T/replay.dump"
diff -u "$T/replay.dump" "$T/live.dump" >&2 || fail "kill -9 + restart differs from --replay"
[ "$(grep -c '^c|' "$T/live.dump")" = 1200 ] || fail "components in dump"
ok "kill -9 mid-stream ($mid of $total folded) + restart = --replay of the same events; integrity ok"

# nats-server restarted mid-stream: nothing lost
ev component_scaled jr NJRHOST 300 | pub
stop_nats
ready0=$(grep -c 'Server is ready' "$T/nats.log" || true)
nats-server -a 127.0.0.1 -p "$PORT" -js -sd "$T/store" >>"$T/nats.log" 2>&1 &
NATS_PID=$!
PIDS+=("$NATS_PID")
# ready once JetStream has restored its streams (a publish before that is
# not captured), not after a fixed pause
nats_ready() { [ "$(grep -c 'Server is ready' "$T/nats.log")" -gt "$ready0" ]; }
wait_for 20 nats_ready || fail "nats-server restart"
ev component_scaled jr NJRHOST 200 suffixed 300 | pub
wait_q 30 "select count(*) from events where lattice='jr'" 500
wait_log 'resync: #[0-9]+ \(reconnect\)'
ok "nats-server restart mid-stream: all 500 events folded, resync after reconnect"
stop_latticed || fail "latticed exit status"

# an expired gap: latticed's own stream with 1 s max age, latticed down 2.5 s
PORT2=$(free_port)
nats-server -a 127.0.0.1 -p "$PORT2" -js -sd "$T/store2" >>"$T/nats2.log" 2>&1 &
PIDS+=("$!")
wait_for 10 port_open "$PORT2" || fail "nats-server 2"
DB="$T/gap.db"
HPG=$(free_port)
cat >"$T/gap.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT2
jetstream yes
js_max_age 1s
resync_gather 200ms
lattices jg
http_listen $HPG
CONF
start_latticed -f "$T/gap.conf"
wait_log 'created stream latticed_events on wasmbus.evt'
# /readyz: ready only once the durable consumer is bound
readyz() { curl -s "http://127.0.0.1:$HPG/readyz"; }
readyz_is() { [ "$(readyz)" = "$1" ]; }
wait_for 10 readyz_is ready || fail "/readyz: $(readyz)"
grep -q 'consumer latticed on latticed_events' "$T/latticed.log" ||
    fail "/readyz ready before the consumer was bound"
PORT_SAVE=$PORT
PORT=$PORT2
ev component_scaled jg NJGHOST 3 | pub
wait_q 10 "select count(*) from events where lattice='jg'" 3
stop_latticed
ev component_scaled jg NJGHOST 4 suffixed 3 | pub
sleep 2.5
ev component_scaled jg NJGHOST 1 suffixed 7 | pub
start_latticed -f "$T/gap.conf"
wait_log 'jetstream: gap: stream sequences 4\.\.7 \(4 messages\)' 15
wait_q 10 "select value from latticed_state where key='js.gaps'" 1
wait_q 10 "select value from latticed_state where key='js.lost'" 4
wait_log 'resync: #[0-9]+ \(gap\)'
wait_q 10 "select count(*) from events where lattice='jg'" 4
metric() { curl -fsS "http://127.0.0.1:$HPG/metrics" | awk -v s="$1" '$1 == s {print $2}'; }
[ "$(metric latticed_gaps_total)" = 4 ] ||
    fail "latticed_gaps_total $(metric latticed_gaps_total)"
# one resync at start, one for the gap
[ "$(metric latticed_resyncs_total)" = 2 ] ||
    fail "latticed_resyncs_total $(metric latticed_resyncs_total)"
ok "expired gap detected: logged, js.gaps=1 js.lost=4, latticed_gaps_total 4, resync started (latticed_resyncs_total 2)"
stop_latticed || fail "latticed exit status"
PORT=$PORT_SAVE

# a WorkQueue stream owning the subjects is refused with a clear error
PORT3=$(free_port)
nats-server -a 127.0.0.1 -p "$PORT3" -js -sd "$T/store3" >>"$T/nats3.log" 2>&1 &
PIDS+=("$!")
wait_for 10 port_open "$PORT3" || fail "nats-server 3"
"$CTLR" --nats "nats://127.0.0.1:$PORT3" --make-stream wq_events \
    --subjects 'wasmbus.evt.*.>' --workqueue >/dev/null || fail "make wq"
cat >"$T/wq.conf" <<CONF
db $T/wq.db
nats_url nats://127.0.0.1:$PORT3
jetstream yes
js_mode attach
CONF
: >"$T/latticed.log"
start_latticed -f "$T/wq.conf"
rc=0
wait "$LATTICED_PID" || rc=$?
[ "$rc" = 1 ] || fail "WorkQueue: exit status $rc"
grep -q 'stream wq_events is a WorkQueue stream' "$T/latticed.log" || fail "WorkQueue message"
ok "WorkQueue stream refused with a clear error (exit 1)"
