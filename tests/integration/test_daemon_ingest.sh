#!/usr/bin/env bash
# latticed against a real nats-server: every subject family, several
# lattices, a lattice filter, READY=1 only once subscriptions are live,
# WATCHDOG=1 and STATUS= on NOTIFY_SOCKET, bad payloads kept as rejects.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
start_notify
DB="$T/a.db"
cat >"$T/a.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
sweep_interval 200ms
CONF
LATTICED_ENV="WATCHDOG_USEC=600000" start_latticed -f "$T/a.conf"
wait_ready
# publish right after READY=1: it must be folded (subscriptions are live)
ev host_heartbeat ready NREADYHOST 1 | pub
wait_q 5 "select count(*) from events where lattice='ready'" 1
ok "READY=1 only once subscribed: first event after it folded"

# each subject family, three lattices
for L in alpha beta gamma; do
	ev host_started "$L" "NHOST_$L" 1 suffixed
	ev host_heartbeat "$L" "NHOST_$L" 1 bare
	ev component_scaled "$L" "NHOST_$L" 2 suffixed
	ev invocation_failed "$L" "NHOST_$L" 1 rpc
done | pub
wait_q 5 "select count(*) from events where lattice in ('alpha','beta','gamma')" 15
for L in alpha beta gamma; do
	[ "$(q "select count(*) from events where lattice='$L' and subject='wasmbus.evt.$L'")" = 1 ] || fail "bare subject $L"
	[ "$(q "select count(*) from events where lattice='$L' and subject='wasmbus.rpcevt.$L'")" = 1 ] || fail "rpcevt $L"
	[ "$(q "select count(*) from events where lattice='$L' and subject like 'wasmbus.evt.$L.%'")" = 3 ] || fail "suffixed $L"
	[ "$(q "select status from hosts where lattice='$L'")" = up ] || fail "host $L"
	[ "$(q "select count(*) from components where lattice='$L'")" = 2 ] || fail "components $L"
done
# received_ms is latticed's clock, close to now
now=$(date +%s%3N)
[ "$(q "select count(*) from events where abs(received_ms - $now) > 60000")" = 0 ] || fail "received_ms not the daemon's clock"
ok "suffixed, bare and rpcevt subjects on 3 lattices"

# bad payloads: not JSON, wrong shape; nothing else subscribed is taken
"$PY" - <<'PYEOF' | pub
import json
print(json.dumps({"subject": "wasmbus.evt.alpha.host_heartbeat", "raw": "{not json"}))
print(json.dumps({"subject": "wasmbus.evt.alpha", "raw": "{\"specversion\":\"1.0\"}"}))
print(json.dumps({"subject": "other.subject", "raw": "{}"}))
PYEOF
wait_q 5 "select count(*) from rejected_events where lattice='alpha' or subject like 'wasmbus.evt.alpha%'" 2
[ "$(q "select group_concat(distinct error) from (select error from rejected_events order by error)")" = "invalid,parse" ] || fail "reject classes: $(q "select error from rejected_events")"
[ "$(q "select count(*) from rejected_events where subject='other.subject'")" = 0 ] || fail "unsubscribed subject taken"
grep -q 'event rejected: subject=wasmbus.evt.alpha' "$T/latticed.log" || fail "reject not logged"
ok "malformed payloads recorded in rejected_events"

# watchdog and status
wd_count() { [ "$(grep -c '^WATCHDOG=1$' "$T/notify.out")" -ge "$1" ]; }
wait_for 5 wd_count 3 || fail "WATCHDOG=1 count $(grep -c WATCHDOG=1 "$T/notify.out")"
grep -q '^STATUS=connected; ' "$T/notify.out" || fail "STATUS line"
[ "$(grep -c '^READY=1$' "$T/notify.out")" = 1 ] || fail "READY=1 more than once"
ok "WATCHDOG=1 and STATUS= on NOTIFY_SOCKET"

stop_latticed TERM || fail "exit status $?"
grep -q '^STOPPING=1$' "$T/notify.out" || fail "no STOPPING=1"
[ "$(q "pragma integrity_check")" = ok ] || fail integrity
ok "clean exit with STOPPING=1"

# a lattice filter: only the configured lattices are taken
DB="$T/b.db"
: >"$T/notify.out"
cat >"$T/b.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
lattices keep1, keep2
CONF
start_latticed -f "$T/b.conf"
wait_ready
{ ev host_heartbeat keep1 NK1 1; ev host_heartbeat keep2 NK2 1 bare
  ev invocation_failed keep2 NK2 1 rpc; ev host_heartbeat drop NDROP 1
  ev host_heartbeat drop NDROP 1 rpc; } | pub
wait_q 5 "select count(*) from events" 3
sleep 0.5
[ "$(q "select count(*) from events where lattice='drop'")" = 0 ] || fail "filtered lattice taken"
[ "$(q "select count(*) from rejected_events")" = 0 ] || fail "unexpected rejects"
stop_latticed TERM || fail "exit status"
ok "lattices filter"

# inbox overflow: 1-message queues held for a 2s batch delay drop the
# rest, and the drops are recorded as rejected rows, not lost silently:
# every one of the 20 messages is an event row or an overflow row
DB="$T/c.db"
: >"$T/notify.out"
cat >"$T/c.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
inbox_max 1
inbox_spool 0
batch_delay 2s
CONF
start_latticed -f "$T/c.conf"
wait_ready
ev host_heartbeat ovf NOVF 20 | pub
wait_q 6 "select (select count(*) from rejected_events where reason='inbox overflow' and error='limit') + (select count(*) from events where lattice='ovf')" 20
kept=$(q "select count(*) from events where lattice='ovf'")
[ "$kept" -ge 1 ] && [ "$kept" -le 4 ] || fail "overflow: $kept events kept"
wait_log 'inbox: full \(inbox_max 1, inbox_max_bytes [0-9]+\), dropped'
stop_latticed TERM || fail "exit status"
ok "inbox overflow counted, logged and recorded"
