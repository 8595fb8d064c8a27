#!/usr/bin/env bash
# latticed command line: -V, -h, -n on good and bad configs, --replay.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# -V and -h
"$LATTICED_BIN" -V | grep -qE '^latticed [0-9]+\.[0-9]+' || fail "-V"
"$LATTICED_BIN" -h | grep -q 'usage: latticed' || fail "-h"
if "$LATTICED_BIN" --no-such-flag 2>/dev/null; then fail "bad flag accepted"; fi
ok "-V -h"

# -n: a good config
cat >"$T/good.conf" <<'CONF'
# comment
db /tmp/x.db
nats_url nats://127.0.0.1:4222, nats://127.0.0.1:4223
nats_url nats://127.0.0.1:4224
lattices default, prod
stale_threshold 2s
sweep_interval 500ms
batch_max 10
batch_delay 5ms
inbox_max 100
verbose 1
CONF
"$LATTICED_BIN" -n -f "$T/good.conf" 2>"$T/n.out" || fail "-n good: $(cat "$T/n.out")"
grep -q 'configuration OK' "$T/n.out" || fail "-n good says nothing"
ok "-n good config"

# -n: a bad config reports every error as file:line and exits 1
cat >"$T/bad.conf" <<'CONF'
stale_threshold 30
sweep_interval 5x
bogus_key 1
batch_max -3
lattices ok, bad.name
db
stale_threshold 5s
CONF
rc=0
"$LATTICED_BIN" -n -f "$T/bad.conf" 2>"$T/n.out" || rc=$?
[ "$rc" = 1 ] || fail "-n bad: exit $rc"
for l in 1 2 3 4 5 6; do
	grep -q "^$T/bad.conf:$l: " "$T/n.out" || fail "no error for line $l: $(cat "$T/n.out")"
done
grep -q "bad.conf:3: unknown key \"bogus_key\"" "$T/n.out" || fail "unknown key msg"
ok "-n bad config: $(wc -l <"$T/n.out") errors, all file:line"

# -n: a missing -f file is an error; a cross-key error is caught
rc=0; "$LATTICED_BIN" -n -f "$T/nope.conf" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "missing -f file accepted"
printf 'nats_nkey_seed seed.txt\n' >"$T/x.conf"
rc=0; "$LATTICED_BIN" -n -f "$T/x.conf" 2>"$T/n.out" || rc=$?
[ "$rc" = 1 ] && grep -q 'nats_nkey' "$T/n.out" || fail "nkey seed without key"
ok "-n missing file, cross-key check"

# --replay: wrapped, bare, rpcevt and malformed lines
DB="$T/replay.db"
ev host_started lat1 NREPLAYHOST1 1 >"$T/replay.jsonl"
ev host_heartbeat lat1 NREPLAYHOST1 2 >>"$T/replay.jsonl"
"$PY" - "$T/replay.jsonl" <<'PYEOF' >>"$T/replay.jsonl"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
# a bare CloudEvent (no wrapper): default lattice
bare = dict(lines[1]["event"]); bare["id"] = "bare-1"
print(json.dumps(bare))
# a duplicate of the first heartbeat
print(json.dumps(lines[1]))
PYEOF
echo '{"subject": "wasmbus.evt.lat1", "event": {"specversion": "1.0"' >>"$T/replay.jsonl"
echo 'not json at all' >>"$T/replay.jsonl"
"$LATTICED_BIN" --db "$DB" -f /dev/null --replay "$T/replay.jsonl" \
    >"$T/replay.out" 2>"$T/replay.log" || fail "replay exit: $(cat "$T/replay.log")"
cat "$T/replay.out"
grep -q '^replay: 7 lines' "$T/replay.out" || fail "replay summary"
grep -q 'duplicate 1' "$T/replay.out" || fail "replay duplicate count"
grep -q 'rejected 2' "$T/replay.out" || fail "replay rejected count"
[ "$(q "select count(*) from rejected_events")" = 2 ] || fail "rejected rows"
[ "$(q "select count(*) from events where lattice='lat1'")" = 3 ] || fail "lat1 events"
[ "$(q "select count(*) from events where id='bare-1'")" = 1 ] || fail "bare line"
[ "$(q "select count(*) from hosts where host_id='NREPLAYHOST1' and lattice='lat1'")" = 1 ] || fail "host row"
# received_ms is the event's own time in a replay
[ "$(q "select count(*) from events where received_ms <> time_ms")" = 0 ] || fail "replay received_ms"
# from stdin, replaying again: all duplicates or rejects, nothing new
"$LATTICED_BIN" --db "$DB" -f /dev/null --replay - <"$T/replay.jsonl" \
    >"$T/replay2.out" 2>>"$T/replay.log" || fail "replay stdin"
grep -q 'duplicate 5' "$T/replay2.out" || fail "second replay: $(cat "$T/replay2.out")"
[ "$(q "pragma integrity_check")" = ok ] || fail integrity
ok "--replay"

# a replay records alerts but queues nothing for delivery (it is history)
ev host_stopped lat1 NREPLAYHOST1 9 >"$T/stop.jsonl"
"$LATTICED_BIN" --db "$DB" -f /dev/null --replay "$T/stop.jsonl" \
    >/dev/null 2>>"$T/replay.log" || fail "replay host_stopped"
[ "$(q "select count(*) from alerts where kind = 'host_stopped'")" = 1 ] ||
    fail "replay records the host_stopped alert"
[ "$(q "select (select count(*) from alert_changes) +
    (select count(*) from alert_deliveries)")" = 0 ] ||
    fail "replay queued alert deliveries"
ok "--replay records alerts without queueing deliveries"

# a wrapper whose subject has an escape takes the cJSON fallback
ev host_started lat1 NESCAPEDHOST 1 |
    sed 's/"wasmbus\.evt\.lat1\./"wasmbus.evt.lat\\u0031./' >"$T/esc.jsonl"
grep -q 'lat\\u0031' "$T/esc.jsonl" || fail "escape not written"
"$LATTICED_BIN" --db "$DB" -f /dev/null --replay "$T/esc.jsonl" \
    >/dev/null 2>>"$T/replay.log" || fail "replay escaped subject"
[ "$(q "select lattice from hosts where host_id = 'NESCAPEDHOST'")" = lat1 ] ||
    fail "escaped subject: $(q "select lattice, subject from events where host_id = 'NESCAPEDHOST'")"
ok "--replay: escaped subject through the fallback"
