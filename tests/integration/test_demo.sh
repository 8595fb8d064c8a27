#!/usr/bin/env bash
# The demo (scripts/run, on what this build made: --no-build): it starts
# its own nats-server, latticed and the simulator, the database fills,
# /metrics answers on 127.0.0.1, and a Ctrl-C (SIGINT to its process
# group, as a terminal sends it) stops everything it started within 2 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl setsid

NP=$(free_port)
HP=$(free_port)
DB="$T/demo.db"
setsid "$LATTICED_SOURCE_DIR/scripts/run" --no-build --nats-port "$NP" \
    --metrics-port "$HP" --db "$DB" >"$T/run.log" 2>&1 &
RUN=$!
PIDS+=("$RUN")
wait_for 30 curl -sf "http://127.0.0.1:$HP/metrics" ||
    fail "no /metrics: $(tail -5 "$T/run.log")"
wait_q 30 "select count(*) >= 5 from hosts" 1
grep -q 'latticectl' "$T/run.log" || fail "no latticectl hint printed"
grep -q "http://127.0.0.1:$HP/metrics" "$T/run.log" || fail "no metrics URL printed"
# what it started: the script's group, and its nats-server (own session)
nats=$(pgrep -f "nats-server -a 127.0.0.1 -p $NP" || true)
[ -n "$nats" ] || fail "the demo's nats-server is not running"
group() { pgrep -g "$RUN" || true; }
[ -n "$(group)" ] || fail "no process group"
t0=$(date +%s%3N)
kill -INT -- "-$RUN"
gone() { [ -z "$(group)" ] && ! kill -0 $nats 2>/dev/null; }
wait_for 5 gone || fail "still running 5 s after Ctrl-C: $(group) $nats"
t1=$(date +%s%3N)
[ $((t1 - t0)) -le 2000 ] || fail "Ctrl-C took $((t1 - t0)) ms"
ok "demo: $(q "select count(*) from hosts") hosts, /metrics on 127.0.0.1:$HP; Ctrl-C stopped all of it in $((t1 - t0)) ms"
