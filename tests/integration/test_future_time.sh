#!/usr/bin/env bash
# A future-dated event (time in 2100, clamped to received + 5 min) does
# not shadow the host's correctly timed later events (issue 14 item 5).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/f.db"
cat >"$T/f.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
CONF
start_notify
start_latticed -f "$T/f.conf"
wait_ready

ev host_started ft NHOSTF 1 | pub
wait_q 10 "select status from hosts where host_id='NHOSTF'" up
# a heartbeat dated 2100
ev host_heartbeat ft NHOSTF 1 |
    sed -E 's/"time": "[^"]*"/"time": "2100-01-01T00:00:00.000000Z"/' | pub
wait_q 10 "select count(*) from events where host_id='NHOSTF' and type like '%host_heartbeat'" 1
# the host's genuine stop, a moment later, with a correct time
ev host_stopped ft NHOSTF 1 | pub
wait_q 10 "select count(*) from events where host_id='NHOSTF' and type like '%host_stopped'" 1
[ "$(q "select outcome from events where type like '%host_stopped'")" = applied ] ||
    fail "host_stopped was $(q "select outcome from events where type like '%host_stopped'")"
[ "$(q "select status from hosts where host_id='NHOSTF'")" = stopped ] ||
    fail "host is $(q "select status from hosts where host_id='NHOSTF'"), want stopped"
# ... and it fired host_stopped
wait_q 10 "select count(*) from alerts where kind='host_stopped' and host_id='NHOSTF'" 1
# the ordering clock is not in the future
[ "$(q "select state_ms <= last_seen_ms from hosts where host_id='NHOSTF'")" = 1 ] ||
    fail "state_ms $(q "select state_ms - last_seen_ms from hosts") ms ahead of last_seen_ms"
ok "a heartbeat dated 2100 did not shadow the host's stop"

# and it comes back up at once
ev host_started ft NHOSTF 1 | pub
wait_q 10 "select status from hosts where host_id='NHOSTF'" up
[ "$(q "select count(*) from events where outcome='superseded'")" = 0 ] ||
    fail "superseded events: $(q "select type, time_raw from events where outcome='superseded'")"
ok "no event superseded"
stop_latticed TERM || fail "exit status"
