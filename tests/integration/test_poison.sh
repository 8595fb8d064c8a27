#!/usr/bin/env bash
# JetStream poison handling: a message the database refuses every time (a
# trigger on latticed_events aborts the insert of id 'poison-1') is retried
# js_max_deliver (3) times, then kept in rejected_events with error
# 'poison' and acknowledged; the good events around it are all folded,
# events published after it are folded (the stream is not wedged), and
# latticed keeps running and stops cleanly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_js_nats
DB="$T/poison.db"

# the schema first, then a trigger that refuses one event id
"$LATTICED_BIN" --db "$DB" --replay /dev/null >>"$T/replay.log" 2>&1 ||
    fail "create the database"
q "CREATE TRIGGER poison_test BEFORE INSERT ON latticed_events
    WHEN NEW.id = 'poison-1' BEGIN SELECT RAISE(ABORT, 'poison test'); END;"
[ "$(q "select count(*) from sqlite_master where name='poison_test'")" = 1 ] ||
    fail "trigger not installed"

cat >"$T/js.conf" <<CONF
db $DB
nats_url $URL
jetstream yes
js_max_deliver 3
batch_max 50
batch_delay 20ms
lattices jp
CONF
start_latticed -f "$T/js.conf"
wait_log 'consumer latticed on latticed_events created' 15

# 20 good events, the poison one, 20 more good ones: one publish
{
	ev component_scaled jp NJPHOST 20 suffixed 0
	ev component_scaled jp NJPHOST 1 suffixed 20 |
	    sed 's/"id": "[^"]*"/"id": "poison-1"/'
	ev component_scaled jp NJPHOST 20 suffixed 21
} >"$T/stream.jsonl"
[ "$(grep -c '"poison-1"' "$T/stream.jsonl")" = 1 ] || fail "poison line"
t0=$(date +%s)
pub <"$T/stream.jsonl"

wait_q 10 "select count(*) from events where lattice='jp'" 40
[ "$(q "select count(*) from events where id='poison-1'")" = 0 ] ||
    fail "the poison event was stored"
[ "$(q "select count(*) from components where lattice='jp'")" = 40 ] ||
    fail "components: $(q "select count(*) from components where lattice='jp'")"
[ "$(q "select count(*) from components where component_id='comp-20'")" = 0 ] ||
    fail "the poison event's component is there"
ok "the 40 good events around the poison one are folded"

wait_q 20 "select count(*) from rejected_events where error='poison'" 1
t1=$(date +%s)
row=$(q "select lattice, subject, reason like 'poison: failed 3 deliveries%',
    instr(reason, 'poison test') > 0, instr(cast(raw as text), 'poison-1') > 0
    from rejected_events where error='poison'")
[ "$row" = "jp|wasmbus.evt.jp.component_scaled|1|1|1" ] ||
    fail "rejected row: $row / $(q "select reason from rejected_events")"
[ "$(q "select value from latticed_state where key='js.poison'")" = 1 ] ||
    fail "js.poison: $(q "select * from latticed_state")"
# 3 deliveries, NAKed with a 1 s delay: bounded, neither instant nor endless
[ $((t1 - t0)) -le 15 ] || fail "poison took $((t1 - t0)) s"
n=$(grep -c 'jetstream: subject=wasmbus.evt.jp.component_scaled seq=21 delivery [12] of 3 failed' \
    "$T/latticed.log" || true)
[ "$n" -ge 1 ] || fail "no retry logged"
grep -q 'jetstream: subject=.* delivery 3 of 3 failed' "$T/latticed.log" &&
    fail "a 4th delivery was attempted"
grep -q 'jetstream: poison message subject=wasmbus.evt.jp.component_scaled seq=21 kept in rejected_events after 3 deliveries: .*poison test' \
    "$T/latticed.log" || fail "poison log line"
ok "poison event retried (js_max_deliver 3), then kept in rejected_events error=poison, js.poison=1"

# the stream is not wedged: later events are folded, the position moves
# past the poison message and nothing stays unacknowledged
ev component_scaled jp NJPHOST 10 suffixed 41 | pub
wait_q 10 "select count(*) from events where lattice='jp'" 50
wait_q 10 "select value from latticed_state where key='js.latticed_events.last_seq'" 51
kill -0 "$LATTICED_PID" 2>/dev/null || fail "latticed exited"
ok "events after the poison one are folded (position 51)"

# a restart redelivers nothing: the poison message was acknowledged
stop_latticed || fail "latticed exit status $?"
grep -q 'consumer latticed has [0-9]* unacknowledged' "$T/latticed.log" &&
    fail "unacknowledged messages left"
start_latticed -f "$T/js.conf"
wait_log 'resuming after stream sequence 51' 15
sleep 1.5
[ "$(q "select count(*) from rejected_events")" = 1 ] ||
    fail "poison re-delivered after restart"
grep -q 'consumer latticed has [0-9]* unacknowledged' "$T/latticed.log" &&
    fail "unacknowledged messages after restart"
stop_latticed || fail "latticed exit status $?"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check"
ok "restart: nothing redelivered, clean exit, integrity ok"
