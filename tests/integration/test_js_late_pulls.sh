#!/usr/bin/env bash
# JetStream pulls answered late.  A pull the client stopped waiting for (a
# loaded machine) or one buffered across a reconnect is answered while a
# later one waits; with nats.c before 3.9.0 natsSubscription_Fetch() then
# stored every message past its batch beyond the array it returns (heap
# corruption: glibc's "corrupted size vs. prev_size", after a nats-server
# restart).  ctlresponder --late-pulls sends each of latticed's pulls three
# more times while a stream of events arrives: every event is folded once,
# none is refused, and latticed exits cleanly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_ctlr

start_js_nats
DB="$T/late.db"
cat >"$T/late.conf" <<CONF
db $DB
nats_url $URL
jetstream yes
batch_max 50
CONF
start_latticed -f "$T/late.conf"
wait_log 'consumer latticed on latticed_events created' 20
"$CTLR" --nats "$URL" --late-pulls latticed --copies 3 >"$T/ctlr.out" \
    2>>"$T/ctlr.log" &
PIDS+=("$!")
wait_for 10 grep -qx ready "$T/ctlr.out" || fail "ctlresponder --late-pulls"

# a steady stream, so that pulls wait and the copies are answered in turn
for i in $(seq 1 20); do
	ev host_started jl "NJLHOST$i" 1
	ev component_scaled jl "NJLHOST$i" 100
done >"$T/stream.jsonl"
total=$(wc -l <"$T/stream.jsonl")
"$LTPUB_BIN" --nats "$URL" "$T/stream.jsonl" \
    2>>"$T/ltpub.log" || fail "ltpub"
wait_q 60 "select count(*) from events where lattice='jl'" "$total"
wait_q 10 "select count(distinct id) from events where lattice='jl'" "$total"
kill -0 "$LATTICED_PID" || fail "latticed died"
! grep -E 'jetstream: (fetch|pull)|ingest queue full' "$T/latticed.log" ||
    fail "pull errors"
ok "each pull sent 3 more times: all $total events folded once"
stop_latticed || fail "latticed exit status"
ok "latticed exits cleanly"
