#!/usr/bin/env bash
# Staleness through the daemon: a silent host goes stale and recovers; no
# host is blamed for latticed's own outage (nats-server down longer than
# the threshold, then back).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/s.db"
cat >"$T/s.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 2s
sweep_interval 500ms
reconnect_wait 250ms
CONF
start_notify
start_latticed -f "$T/s.conf"
wait_ready

# host A beats every 400ms for the whole test (tolerating the outage)
hb_loop() {
	while :; do
		"$PY" "$EVGEN" ev host_heartbeat hb NHOSTA 1 |
		    "$LTPUB_BIN" --nats "nats://127.0.0.1:$PORT" - \
		    >/dev/null 2>&1 || true
		sleep 0.4
	done
}
hb_loop &
PIDS+=("$!")

# host B beats once, then falls silent
ev host_heartbeat hb NHOSTB 1 | pub
wait_q 5 "select status from hosts where host_id='NHOSTA'" up
wait_q 5 "select status from hosts where host_id='NHOSTB'" up
wait_q 6 "select status from hosts where host_id='NHOSTB'" stale
[ "$(q "select status from hosts where host_id='NHOSTA'")" = up ] || fail "A stale while beating"
wait_log 'sweep: 1 host\(s\) marked stale'
ok "silent host B went stale, beating host A stayed up"

ev host_heartbeat hb NHOSTB 1 | pub
wait_q 5 "select status from hosts where host_id='NHOSTB'" up
ok "host B recovered on its next heartbeat"

# latticed's outage: nats-server down for 4s (> 2s threshold) then back
A_CHANGED=$(q "select status_changed_ms from hosts where host_id='NHOSTA'")
STALE_LINES=$(grep -c 'marked stale' "$T/latticed.log")
ev host_heartbeat hb NHOSTB 1 | pub	# B fresh too
stop_nats
wait_log 'nats: disconnected' 5
sleep 4
start_nats "$PORT"
wait_log 'nats: connected' 10
# B's last beat is now >4s old, but latticed was away: judged only from
# the reconnect, it is not stale yet; A resumes beating
sleep 1.2
[ "$(q "select status from hosts where host_id='NHOSTA'")" = up ] || fail "A stale after outage"
[ "$(q "select status from hosts where host_id='NHOSTB'")" = up ] || fail "B blamed for latticed's outage"
[ "$(q "select status_changed_ms from hosts where host_id='NHOSTA'")" = "$A_CHANGED" ] || fail "A changed status during the outage"
[ "$(grep -c 'marked stale' "$T/latticed.log")" = "$STALE_LINES" ] || fail "a host was marked stale across the outage"
# heartbeats after the restart did arrive
[ "$(q "select count(*) from events where host_id='NHOSTA' and received_ms > (select max(received_ms) - 1500 from events)")" -ge 1 ] || fail "A heartbeats did not resume"
# the window only protects for the threshold after reconnecting: B, still
# silent, does go stale then, while A never does
wait_q 4 "select status from hosts where host_id='NHOSTB'" stale
[ "$(q "select status_changed_ms from hosts where host_id='NHOSTA'")" = "$A_CHANGED" ] || fail "A went stale"
grep -q '^STATUS=disconnected' "$T/notify.out" || fail "STATUS never said disconnected"
ok "no host stale across a 4s nats-server outage"

# STATUS= says how many hosts are up and stale now (every 5 s)
for _ in $(seq 70); do
	grep -q '^STATUS=connected; 1 hosts up, 1 stale; ' "$T/notify.out" &&
	    break
	sleep 0.1
done
grep -q '^STATUS=connected; 1 hosts up, 1 stale; ' "$T/notify.out" ||
    fail "STATUS: $(grep '^STATUS=' "$T/notify.out" | tail -1)"
ok "STATUS= reports hosts up and stale"

stop_latticed TERM || fail "exit status"
[ "$(q "pragma integrity_check")" = ok ] || fail integrity
