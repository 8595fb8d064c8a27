#!/usr/bin/env bash
# wasmCloud 2 hosts live: latticed-sim runs a mixed v1/v2 lattice over a
# real nats-server; v2 heartbeats fold into hosts (generation v2, their
# columns), one v2 host restarts (host_started row), one goes silent
# (stale + host_stale alert); a restarted latticed asks the up v2 hosts
# for a heartbeat instead of waiting an interval; v2_heartbeats off
# ignores them; --replay takes v2 lines with received_at.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIM="$LATTICED_BUILD_DIR/tools/sim/latticed-sim"
# log_since N REGEX: a line after the first N of latticed.log matches
log_since() { tail -n +"$(($1 + 1))" "$T/latticed.log" | grep -qE "$2"; }
log_lines() { wc -l <"$T/latticed.log"; }
[ -x "$SIM" ] || fail "latticed-sim not built: $SIM"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/v2.db"
cat >"$T/v2.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 3s
sweep_interval 200ms
CONF
start_notify
start_latticed -f "$T/v2.conf"
wait_ready

# 2 v1 hosts + 3 v2 hosts in 2 lattices; v1 heartbeat 1s: the first v2
# host restarts at 5 s, the last goes silent at 7 s
"$SIM" --nats "nats://127.0.0.1:$PORT" --hosts 2 --v2-hosts 3 \
    --lattices 2 --heartbeat-interval 1s --v2-heartbeat-interval 1200ms \
    -q >>"$T/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")

wait_q 10 "select count(*) from hosts where generation = 'v2' and status = 'up'" 3
wait_q 10 "select count(*) from hosts where generation = 'v1'" 2
# the environment is the lattice; both lattices hold both generations
wait_q 5 "select count(distinct lattice) from hosts where generation = 'v2'" 2
[ "$(q "select count(*) from (select lattice from hosts group by lattice having count(distinct generation) = 2)")" -ge 1 ] ||
    fail "no lattice mixes v1 and v2 hosts"
[ "$(q "select count(*) from hosts where generation = 'v2' and lattice = environment and version = '2.7.0' and os_name = 'linux' and memory_total = 17179869184 and http_port = 8080 and started_ms is not null and json_array_length(imports) = 2 and exports ->> '\$[0].package' = 'http'")" = 3 ] ||
    fail "v2 columns: $(q "select * from hosts where generation = 'v2'")"
ok "v1 and v2 hosts fold side by side with the v2 columns"

wait_q 10 "select count(*) from hosts where generation = 'v2' and heartbeat_interval_ms between 1000 and 1500" 3
ok "the v2 heartbeat interval is learned"

# the first v2 host restarts (new startedAt): one host_started row
wait_q 10 "select count(*) from events where type = 'com.wasmcloud.runtime.v2.host_started'" 1
ok "a v2 restart is recorded as host_started"

# the last v2 host goes silent at 7 s: stale after 3 s, with its alert;
# the other v2 hosts stay up
wait_q 15 "select count(*) from hosts where generation = 'v2' and status = 'stale'" 1
SILENT=$(q "select host_id from hosts where generation = 'v2' and status = 'stale'")
wait_q 5 "select count(*) from active_alerts where kind = 'host_stale' and entity = '$SILENT'" 1
[ "$(q "select count(*) from hosts where generation = 'v2' and status = 'up'")" = 2 ] ||
    fail "a beating v2 host is not up"
ok "a silent v2 host goes stale and fires host_stale"

# gauges alone make no history: most v2 rows are 'unchanged' without data
[ "$(q "select count(*) from events where type like 'com.wasmcloud.runtime.v2.%' and outcome = 'unchanged' and data is null")" -ge 5 ] ||
    fail "unchanged v2 heartbeats: $(q "select outcome, count(*) from events where type like '%runtime%' group by 1")"
[ "$(q "select count(*) from rejected_events")" = 0 ] ||
    fail "rejected: $(q "select reason from rejected_events limit 3")"
ok "unchanged v2 heartbeats keep no data, nothing rejected"

# hostile v2 payloads land in rejected_events with their field
H=runtime.operator.heartbeat.0199a3b2-dead-7000-8000-00000000beef
{
	echo "{\"subject\": \"$H\", \"raw\": \"not json\"}"
	echo "{\"subject\": \"$H\", \"event\": {\"systemMemoryTotal\": \"-1\"}}"
	echo "{\"subject\": \"$H\", \"event\": {\"id\": \"someone-else\"}}"
	echo "{\"subject\": \"$H\", \"event\": {\"imports\": [{\"config\": {\"a\": 1}}]}}"
} | pub
wait_q 10 "select group_concat(error || ':' || coalesce(field, '-'), ' ') from (select * from rejected_events where subject = '$H' order by seq)" \
    "parse:- invalid:system_memory_total invalid:id invalid:imports[0].config"
[ "$(q "select count(*) from hosts where host_id like '0199a3b2-dead%'")" = 0 ] ||
    fail "a rejected v2 heartbeat made a host"
ok "hostile v2 heartbeats are rejected with their field"

kill -TERM "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true
stop_latticed TERM || fail "exit status"

# at start latticed asks every up v2 host for a heartbeat: with a 60 s
# interval only the answer to that request can refresh them.  The first
# simulator is gone: a v2 host beating after BASE is one of this one's.
BASE=$(q "select max(last_heartbeat_ms) from hosts where generation = 'v2'")
"$SIM" --nats "nats://127.0.0.1:$PORT" --hosts 1 --v2-hosts 2 \
    --lattices 1 --heartbeat-interval 1s --v2-heartbeat-interval 60s \
    --seed 7 -q >>"$T/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
# the default stale_threshold (70 s): asked hosts stay up between asks;
# latticed reconnects after the simulator, whose nats.c waits 2 s
cat >"$T/ask.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
sweep_interval 200ms
reconnect_wait 3s
CONF
start_latticed -f "$T/ask.conf"
wait_q 10 "select count(*) from hosts where generation = 'v2' and status = 'up' and lattice = 'default' and last_heartbeat_ms > $BASE" 2
LAST=$(q "select max(last_heartbeat_ms) from hosts where generation = 'v2' and lattice = 'default' and status = 'up'")
stop_latticed TERM || fail "exit status"
N=$(log_lines)
start_latticed -f "$T/ask.conf"
wait_for 15 log_since "$N" 'v2: asked [0-9]+ host\(s\) for a heartbeat \(start\)' ||
    fail "latticed did not ask the v2 hosts"
wait_q 10 "select count(*) from hosts where generation = 'v2' and lattice = 'default' and status = 'up' and last_heartbeat_ms > $LAST" 2
ok "a restarted latticed asks up v2 hosts and folds their answers"

# after a reconnect too
LAST=$(q "select max(last_heartbeat_ms) from hosts where generation = 'v2' and lattice = 'default' and status = 'up'")
N=$(log_lines)
stop_nats
start_nats "$PORT"
wait_for 20 log_since "$N" 'v2: asked [0-9]+ host\(s\) for a heartbeat \(reconnect\)' ||
    fail "latticed did not ask the v2 hosts after a reconnect"
wait_q 10 "select count(*) from hosts where generation = 'v2' and lattice = 'default' and status = 'up' and last_heartbeat_ms > $LAST" 2
ok "after a reconnect latticed asks the up v2 hosts again"
stop_latticed TERM || fail "exit status"

# v2_heartbeats off: the subject is not followed
echo "v2_heartbeats no" >>"$T/ask.conf"
BEFORE=$(q "select count(*) from events where type like 'com.wasmcloud.runtime.v2.%'")
N=$(log_lines)
start_latticed -f "$T/ask.conf"
wait_for 10 log_since "$N" 'ready: subscriptions live' || fail "not ready"
log_since "$N" 'v2: asked' && fail "asked v2 hosts with v2_heartbeats no"
# v1 events keep coming, v2 heartbeats do not
V1=$(q "select count(*) from events where type not like 'com.wasmcloud.runtime.v2.%'")
wait_q 10 "select count(*) > $V1 from events where type not like 'com.wasmcloud.runtime.v2.%'" 1
[ "$(q "select count(*) from events where type like 'com.wasmcloud.runtime.v2.%'")" = "$BEFORE" ] ||
    fail "v2 heartbeats folded with v2_heartbeats off"
ok "v2_heartbeats off ignores v2 hosts"
stop_latticed TERM || fail "exit status"
kill -TERM "$SIM_PID"
wait "$SIM_PID" 2>/dev/null || true

# --replay: v2 lines with received_at, their clock
"$SIM" --out "$T/v2.jsonl" --hosts 1 --v2-hosts 2 --lattices 1 \
    --duration 60s --start-time 2026-01-01T00:00:00Z -q
grep -q '"subject":"runtime.operator.heartbeat.[^"]*","event":{.*},"received_at":"2026-01-01T' "$T/v2.jsonl" ||
    fail "no v2 replay line"
RDB="$T/replay.db"
printf 'db %s\n' "$RDB" >"$T/replay.conf"
"$LATTICED_BIN" -f "$T/replay.conf" --replay "$T/v2.jsonl" >"$T/replay.out" 2>&1 ||
    fail "replay: $(cat "$T/replay.out")"
grep -q 'rejected 0;' "$T/replay.out" || fail "replay: $(cat "$T/replay.out")"
[ "$(sqlite3 "$RDB" "select count(*) from hosts where generation = 'v2'")" = 2 ] ||
    fail "replay: v2 hosts"
LASTR=$(grep runtime.operator "$T/v2.jsonl" | tail -1 | sed 's/.*"received_at":"\([^"]*\)".*/\1/')
[ "$(sqlite3 "$RDB" "select strftime('%Y-%m-%dT%H:%M:%f', max(last_heartbeat_ms) / 1000.0, 'unixepoch') from hosts where generation = 'v2'")" = "$(echo "$LASTR" | cut -c1-23)" ] ||
    fail "replay: received_at is not the clock ($LASTR)"
ok "--replay folds v2 lines on their received_at"

# latticectl shows the generation; --json has every hosts column
CTL="$LATTICED_BUILD_DIR/tools/latticectl/latticectl"
"$CTL" --db "$RDB" hosts >"$T/ctl.out" || fail "latticectl hosts"
head -1 "$T/ctl.out" | grep -q 'GENERATION' || fail "no GENERATION column: $(head -1 "$T/ctl.out")"
[ "$(grep -c ' v2$' "$T/ctl.out")" = 2 ] && [ "$(grep -c ' v1$' "$T/ctl.out")" = 1 ] ||
    fail "latticectl generations: $(cat "$T/ctl.out")"
"$CTL" --db "$RDB" --json hosts >"$T/ctl.json" || fail "latticectl --json"
python3 - "$RDB" "$T/ctl.json" <<'PY' || fail "latticectl --json hosts columns"
import json, sqlite3, sys
cols = [r[1] for r in sqlite3.connect(sys.argv[1]).execute(
    "PRAGMA table_xinfo(hosts)")]
rows = json.load(open(sys.argv[2]))
assert all(list(o.keys()) == cols for o in rows), cols
v2 = [o for o in rows if o["generation"] == "v2"]
assert len(v2) == 2 and v2[0]["exports"][0]["package"] == "http", v2
PY
ok "latticectl shows GENERATION"
