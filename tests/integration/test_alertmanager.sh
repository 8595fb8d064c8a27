#!/usr/bin/env bash
# latticed delivers to a real Prometheus Alertmanager: a silent host's
# host_stale alert, first posted while Alertmanager is still down (the
# failure is logged and retried with backoff, latticed carries on), shows up
# active with its labels once Alertmanager is up, is re-posted every
# alert_repost_interval, and ends when the host heartbeats again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl


PORT=$(free_port)
start_nats "$PORT"
DB="$T/am.db"
# the port is chosen now: Alertmanager itself starts later
APORT=$(free_port)
AURL=http://127.0.0.1:$APORT
cat >"$T/am.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 2s
sweep_interval 500ms
alert_log no
alert_alertmanager_url $AURL
alert_repost_interval 1s
CONF
start_notify
start_latticed -f "$T/am.conf"
wait_ready

# am_state WANT: our host_stale alert is active (with its labels), or it
# is resolved (not listed as active any more).
am_state() {
	curl -sf "$AURL/api/v2/alerts" >"$T/alerts.json" || return 1
	"$PY" - "$1" "$T/alerts.json" <<'EOF'
import json, sys
want, path = sys.argv[1], sys.argv[2]
ours = [a for a in json.load(open(path))
        if a["labels"].get("alertname") == "host_stale"
        and a["labels"].get("host_id") == "NHOSTAM"]
active = [a for a in ours if a["status"]["state"] == "active"]
if want == "resolved":
    sys.exit(0 if not active else 1)
assert len(active) == 1, ours
a = active[0]
assert a["labels"] == {"alertname": "host_stale", "lattice": "amlat",
                       "host_id": "NHOSTAM", "entity": "NHOSTAM",
                       "severity": "critical"}, a["labels"]
assert a["annotations"]["summary"].startswith("host NHOSTAM"), a
print(a["updatedAt"])
EOF
}

# the host beats once and falls silent while Alertmanager is down
ev host_heartbeat amlat NHOSTAM | pub
wait_q 8 "select count(*) from alerts where kind='host_stale' and entity='NHOSTAM'" 1
wait_log "alert: delivery id=[0-9]+ sink=alertmanager state=firing failed \(attempt 1\): .*; will retry" 5
kill -0 "$LATTICED_PID" || fail "latticed died on a failing sink"
ok "Alertmanager down: delivery failed, logged, latticed carries on"

start_alertmanager
wait_for 15 am_state active || fail "alert not active in Alertmanager: $(cat "$T/alerts.json")"
row=$(q "select d.attempts >= 1, d.delivered_ms is not null from alert_deliveries d
    join alerts a using (alert_id) where a.entity='NHOSTAM' and
    d.sink='alertmanager' and d.transition='firing'")
[ "$row" = "1|1" ] || fail "delivery row: $row"
ok "host_stale active in Alertmanager with alertname/lattice/host_id/severity after a retry"

# re-posted: Alertmanager's updatedAt moves on while the alert is active
u1=$(am_state active)
reposted() { u2=$(am_state active) && [ "$u2" != "$u1" ]; }
wait_for 15 reposted ||
    fail "not re-posted (updatedAt stayed $u1, now $(am_state active || echo 'not active'))"
ok "active alert re-posted every alert_repost_interval"

ev host_heartbeat amlat NHOSTAM | pub
wait_q 5 "select count(*) from alerts where kind='host_stale' and entity='NHOSTAM' and resolved_ms is not null" 1
wait_for 10 am_state resolved || fail "alert still active after the host came back: $(cat "$T/alerts.json")"
wait_q 5 "select count(*) from alert_deliveries d join alerts a using (alert_id) where a.entity='NHOSTAM' and d.sink='alertmanager' and d.transition='resolved' and d.delivered_ms is not null" 1
ok "host heartbeats again: alert resolved in Alertmanager"

stop_latticed TERM || fail "exit status"
[ "$(q "pragma integrity_check")" = ok ] || fail integrity
