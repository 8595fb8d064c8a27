#!/usr/bin/env bash
# Two replicas for availability (issue 14 item 13): two latticed, each with
# its own database, follow one nats-server and post to one real
# Alertmanager.  Both fold the same model and post the same alerts with
# identical labels, so Alertmanager holds each alert once.  One is killed
# (-9): the survivor holds the full model, including what happened after
# the kill, and delivers the later alerts alone, still once each.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl


PORT=$(free_port)
start_nats "$PORT"
start_alertmanager

for r in a b; do
	cat >"$T/$r.conf" <<CONF
db $T/$r.db
nats_url nats://127.0.0.1:$PORT
stale_threshold 6s
sweep_interval 500ms
alert_log no
alert_alertmanager_url $AURL
alert_repost_interval 1s
CONF
done
# replica a: the usual helpers (log latticed.log, notify.out)
start_notify
start_latticed -f "$T/a.conf"
A_PID=$LATTICED_PID
wait_ready
# replica b: its own log and notify socket
: >"$T/notify-b.out"
"$PY" "$EVGEN" notify-listen "$T/notify-b.sock" "$T/notify-b.out" &
PIDS+=("$!")
wait_for 5 test -S "$T/notify-b.sock" || fail "notify listener b"
NOTIFY_SOCKET="$T/notify-b.sock" "$LATTICED_BIN" -d -f "$T/b.conf" \
    >>"$T/latticed-b.log" 2>&1 &
B_PID=$!
PIDS+=("$B_PID")
wait_for 15 grep -qx 'READY=1' "$T/notify-b.out" || fail "b: no READY=1"

qa() { sqlite3 -batch -noheader "$T/a.db" "$@"; }
qb() { sqlite3 -batch -noheader "$T/b.db" "$@"; }
both_are() { [ "$(qa "$1" 2>/dev/null)" = "$2" ] && [ "$(qb "$1" 2>/dev/null)" = "$2" ]; }
b_is() { [ "$(qb "$1" 2>/dev/null)" = "$2" ]; }

# am_alerts: "alertname entity state" per alert Alertmanager holds, sorted
am_alerts() {
	curl -sf "$AURL/api/v2/alerts" >"$T/alerts.json" || return 1
	"$PY" - "$T/alerts.json" <<'PY'
import json, sys
for a in sorted(json.load(open(sys.argv[1])),
                key=lambda a: sorted(a["labels"].items())):
    l = a["labels"]
    print(l.get("alertname"), l.get("entity"), a["status"]["state"])
PY
}
am_is() { [ "$(am_alerts)" = "$1" ]; }

# the story before the kill: R1 stops, R2 goes silent, R3 keeps beating
beat rep NREP3 400
{ ev host_started rep NREP1; ev host_started rep NREP2;
  ev component_scaled rep NREP1; ev host_heartbeat rep NREP2; } | pub
ev host_stopped rep NREP1 | pub
wait_for 20 both_are "select status from hosts where lattice='rep' order by host_id" \
    "$(printf 'stopped\nstale\nup')" ||
    fail "model: a=$(qa "select group_concat(status) from hosts") b=$(qb "select group_concat(status) from hosts")"
want="$(printf 'host_stale NREP2 active\nhost_stopped NREP1 active')"
wait_for 15 am_is "$want" || fail "Alertmanager: $(am_alerts)"
for r in a b; do
	n=$(sqlite3 "$T/$r.db" "select count(*) from alert_deliveries where sink='alertmanager' and delivered_ms is not null")
	[ "$n" = 2 ] || fail "replica $r delivered $n changes, want 2"
done
ok "both replicas folded the same model and posted both alerts; Alertmanager holds each once"

# labels are the same whoever posts: nothing replica-specific
"$PY" - "$T/alerts.json" <<'PY' || fail "labels: $(cat "$T/alerts.json")"
import json, sys
for a in json.load(open(sys.argv[1])):
    assert set(a["labels"]) <= {"alertname", "lattice", "host_id",
                                "entity", "severity"}, a["labels"]
PY

kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null || true
# after the kill: R1 restarts, R2 comes back (both beat from now on), R4
# appears and falls silent
{ ev host_started rep NREP1; ev host_heartbeat rep NREP4; } | pub
beat rep NREP1 400
beat rep NREP2 400
wait_for 10 b_is "select host_id || ':' || status from hosts where lattice='rep' order by host_id" \
    "$(printf 'NREP1:up\nNREP2:up\nNREP3:up\nNREP4:stale')" ||
    fail "survivor model: $(qb "select host_id, status from hosts")"
b_is "select count(*) from components where host_id='NREP1'" 0 ||
    fail "survivor kept NREP1's component across its restart"
want="$(printf 'host_stale NREP4 active')"
wait_for 15 am_is "$want" || fail "Alertmanager after the kill: $(am_alerts)"
ok "after kill -9 of one replica the survivor holds the full model; Alertmanager: the resolved alerts gone, the new one once"

# the killed replica saw nothing after its death; its db is intact
[ "$(qa "select count(*) from hosts where host_id='NREP4'")" = 0 ] ||
    fail "replica a folded after its kill?"
[ "$(qa "pragma integrity_check")" = ok ] || fail "a: integrity"
kill -TERM "$B_PID"
wait "$B_PID" || fail "b: exit status"
