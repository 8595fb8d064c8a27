#!/usr/bin/env bash
# /metrics against a real nats-server and latticed: counters move as events
# are folded (events by type and outcome, rpc notifications, duplicates,
# rejects), census gauges follow the model (hosts per status), a flood of
# bogus lattices stays bounded, and promtool accepts the exposition.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl
if ! command -v promtool >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || fail "promtool missing (apt-get install prometheus)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends prometheus </dev/null >>"$T/apt.log" 2>&1 ||
	    fail "cannot install prometheus (promtool)"
fi

PORT=$(free_port)
HP=$(free_port)
start_nats "$PORT"
start_notify
DB="$T/m.db"
cat >"$T/m.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
http_listen $HP
batch_delay 10ms
CONF
start_latticed -f "$T/m.conf"
wait_ready
U="http://127.0.0.1:$HP"

# scrape FILE: GET /metrics into FILE.
scrape() { curl -fsS "$U/metrics" >"$1" || fail "scrape failed"; }
# mval FILE SERIES: the value of one series ("" when absent).
mval() { grep -F "$2 " "$1" | grep -vF '#' | awk -v s="$2" '$1 == s {print $2}'; }
# wait_m SECONDS SERIES VALUE: scrape until SERIES has VALUE.
m_is() { scrape "$T/w.txt"; [ "$(mval "$T/w.txt" "$1")" = "$2" ]; }
wait_m() {
	wait_for "$1" m_is "$2" "$3" ||
	    fail "$2 is '$(mval "$T/w.txt" "$2")', want '$3'"
}

scrape "$T/m0.txt"
promtool check metrics <"$T/m0.txt" || fail "promtool on the first scrape"
[ "$(mval "$T/m0.txt" latticed_nats_connected)" = 1 ] || fail "nats_connected"
[ "$(mval "$T/m0.txt" latticed_ready)" = 1 ] || fail "ready gauge"
[ "$(mval "$T/m0.txt" 'latticed_events_rejected_total{reason="parse"}')" = 0 ] ||
    fail "rejected parse not 0 at start"
grep -q '^# TYPE latticed_events_total counter$' "$T/m0.txt" || fail "TYPE events"
grep -q '^# HELP latticed_hosts ' "$T/m0.txt" || fail "HELP hosts"
grep -q '^latticed_database_size_bytes{file="main"} [1-9]' "$T/m0.txt" ||
    fail "db size"
curl -fsS -o /dev/null -D "$T/h.txt" "$U/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/h.txt" ||
    fail "content type"
ok "first scrape valid (promtool), families present, gauges sane"

HB='latticed_events_total{lattice="alpha",type="com.wasmcloud.lattice.host_heartbeat",outcome='
{ ev host_heartbeat alpha NMA1 3; ev host_heartbeat alpha NMA2 1 bare
  ev host_started beta NMB1 1; ev invocation_failed alpha NMA1 2 rpc; } | pub
wait_q 5 "select count(*) from events" 7
wait_m 5 'latticed_hosts{lattice="alpha",status="up"}' 2
scrape "$T/m1.txt"
hb=0
for o in applied unchanged superseded recorded; do
	v=$(mval "$T/m1.txt" "$HB\"$o\"}")
	hb=$((hb + ${v:-0}))
done
[ "$hb" = 4 ] || fail "heartbeats counted $hb, want 4"
[ "$(mval "$T/m1.txt" "${HB}\"applied\"}")" -ge 2 ] || fail "applied heartbeats"
[ "$(mval "$T/m1.txt" 'latticed_rpc_notifications_total{lattice="alpha",type="com.wasmcloud.lattice.invocation_failed"}')" = 2 ] ||
    fail "rpc notifications"
[ "$(mval "$T/m1.txt" 'latticed_events_total{lattice="beta",type="com.wasmcloud.lattice.host_started",outcome="applied"}')" = 1 ] ||
    fail "beta host_started"
[ "$(mval "$T/m1.txt" 'latticed_hosts{lattice="beta",status="up"}')" = 1 ] || fail "beta up"
[ "$(mval "$T/m1.txt" 'latticed_hosts{lattice="alpha",status="stopped"}')" = 0 ] ||
    fail "alpha stopped zero"
age=$(mval "$T/m1.txt" 'latticed_last_event_age_seconds{lattice="alpha"}')
awk -v a="$age" 'BEGIN { exit !(a >= 0 && a < 30) }' || fail "event age $age"
[ "$(mval "$T/m1.txt" latticed_fold_batch_messages_count)" -ge 1 ] || fail "batch count"
awk -v s="$(mval "$T/m1.txt" latticed_fold_batch_messages_sum)" \
    'BEGIN { exit !(s >= 7) }' || fail "batch size sum"
[ "$(mval "$T/m1.txt" 'latticed_commit_duration_seconds_bucket{le="+Inf"}')" = \
  "$(mval "$T/m1.txt" latticed_commit_duration_seconds_count)" ] || fail "histogram +Inf"
# every gauge family has samples even at zero (Grafana: no "No data")
for g in 'latticed_links{lattice="beta"}' 'latticed_configs{lattice="beta"}' \
    'latticed_components{lattice="beta"}' 'latticed_providers{lattice="alpha"}' \
    'latticed_alerts_active{lattice="beta",kind="host_stale"}' \
    'latticed_alerts_active{lattice="alpha",kind="lattice_silent"}'; do
	[ "$(mval "$T/m1.txt" "$g")" = 0 ] || fail "$g not 0: '$(mval "$T/m1.txt" "$g")'"
done
promtool check metrics <"$T/m1.txt" || fail "promtool after events"
ok "events by lattice/type/outcome, rpc notifications, hosts per status, histograms"

# a host stops: gauges move between statuses (after the 1s census cache)
ev host_stopped alpha NMA2 1 | pub
wait_m 5 'latticed_hosts{lattice="alpha",status="stopped"}' 1
[ "$(mval "$T/w.txt" 'latticed_hosts{lattice="alpha",status="up"}')" = 1 ] || fail "up after stop"
ok "hosts gauge follows a host_stopped"

# rejects and duplicates
{ "$PY" - <<'PYEOF'
import json
print(json.dumps({"subject": "wasmbus.evt.alpha.host_heartbeat", "raw": "{not json"}))
print(json.dumps({"subject": "wasmbus.evt.alpha", "raw": "{\"specversion\":\"1.0\"}"}))
PYEOF
} | pub
ev host_heartbeat alpha NMA1 1 >"$T/dup.jsonl"
pub <"$T/dup.jsonl"
pub <"$T/dup.jsonl"
wait_m 5 'latticed_events_rejected_total{reason="parse"}' 1
# the copy may be in a later batch (batch_linger): wait for it too
wait_m 5 latticed_events_duplicate_total 1
wait_m 5 'latticed_events_rejected_total{reason="invalid"}' 1
scrape "$T/m2.txt"
[ "$(mval "$T/m2.txt" 'latticed_events_rejected_total{reason="invalid"}')" = 1 ] ||
    fail "rejected invalid"
[ "$(mval "$T/m2.txt" latticed_events_duplicate_total)" = 1 ] || fail "duplicates"
[ "$(mval "$T/m2.txt" "${HB}\"duplicate\"}")" = 1 ] || fail "duplicate outcome"
[ "$(q "select count(*) from rejected_events")" = 2 ] || fail "rejected rows"
ok "rejected per class and duplicates counted"

# a flood of distinct lattices stays bounded: at most 1000 named + _other
"$PY" - <<'PYEOF' | pub
import json, uuid
for i in range(1100):
    l = "flood%04d" % i
    print(json.dumps({"subject": "wasmbus.evt.%s.x" % l, "event": {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "S",
        "type": "com.wasmcloud.lattice.component_scale_failed",
        "data": {"host_id": "NF", "error": "x"}}}))
PYEOF
wait_q 10 "select count(*) from events where lattice like 'flood%'" 1100
scrape "$T/m3.txt"
n=$(grep -c '^latticed_last_event_age_seconds{' "$T/m3.txt")
[ "$n" -le 1001 ] || fail "$n lattice age series"
grep -q '^latticed_last_event_age_seconds{lattice="_other"}' "$T/m3.txt" ||
    fail "no _other lattice"
other=$(mval "$T/m3.txt" 'latticed_events_total{lattice="_other",type="com.wasmcloud.lattice.component_scale_failed",outcome="recorded"}')
[ "${other:-0}" -ge 100 ] || fail "_other events $other"
promtool check metrics <"$T/m3.txt" || fail "promtool after flood"
ok "1100 lattices: series capped, overflow under lattice=\"_other\""

# endpoints other than the three
[ "$(curl -s -o /dev/null -w '%{http_code}' "$U/nope")" = 404 ] || fail "404"
# libevent answers a method it was not told to allow with 501 (2.1) or 405
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/metrics")
case "$code" in 405|501) ;; *) fail "POST /metrics gave $code" ;; esac
ok "unknown path 404, POST refused ($code)"

stop_latticed TERM || fail "exit status"
ok "clean exit"
