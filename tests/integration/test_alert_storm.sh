#!/usr/bin/env bash
# Alert storms (issue 14 item 4): 4,000 hosts (30 lattices of 100 and
# 1,000 lattices of one host) fall silent together.  The alerts are
# bounded: at most alert_storm_threshold (50) host_stale + lattice_silent
# alerts per mass_silence_window, then one fleet_silent; every sink starts
# at most alert_rate_limit deliveries a second, and none is lost.  Checked
# through a command sink and a real Alertmanager.  (100,000 hosts take the
# same code path: the bound depends on the threshold, not on N; run
# STORM_HOSTS=100000 bash tests/integration/test_alert_storm.sh to see it.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl


PORT=$(free_port)
start_nats "$PORT"
start_alertmanager

cat >"$T/hook.sh" <<'HOOK'
#!/bin/sh
# one line per delivery: the time it started (ms), alert id, state
echo "$(date +%s%3N) $LATTICED_ALERT_ID $LATTICED_ALERT_KIND $LATTICED_ALERT_STATE" >>"$1"
HOOK
chmod +x "$T/hook.sh"
N=${STORM_HOSTS:-4000}
PER=$(( (N - 1000) / 30 ))
N=$(( PER * 30 + 1000 ))
# the hosts must stay up while their return is folded (100,000: seconds)
STALE=3s
[ "$N" -le 10000 ] || STALE=20s
DB="$T/st.db"
cat >"$T/st.conf" <<CONF
db $DB
inbox_max $(( N + 1000 ))
nats_url nats://127.0.0.1:$PORT
stale_threshold $STALE
sweep_interval 500ms
alert_log no
alert_command $T/hook.sh $T/calls
alert_alertmanager_url $AURL
alert_repost_interval 1h
alert_storm_threshold 50
mass_silence_window 2m
alert_rate_limit 10
CONF
"$LATTICED_BIN" -n -f "$T/st.conf" >/dev/null 2>&1 || fail "config check: $("$LATTICED_BIN" -n -f "$T/st.conf" 2>&1)"
start_notify
start_latticed -f "$T/st.conf"
wait_ready

# one heartbeat per host, then silence
"$PY" - "$PER" >"$T/storm.jsonl" <<'PY'
import datetime, json, sys, uuid
per = int(sys.argv[1])
now = datetime.datetime.now(datetime.timezone.utc).strftime(
    "%Y-%m-%dT%H:%M:%S.%fZ")
def hb(lat, host):
    e = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": host,
         "type": "com.wasmcloud.lattice.host_heartbeat", "time": now,
         "datacontenttype": "application/json",
         "data": {"host_id": host, "friendly_name": host, "labels": {},
                  "version": "1.9.2", "uptime_seconds": 60,
                  "components": [], "providers": []}}
    print(json.dumps({"subject": "wasmbus.evt.%s.host_heartbeat" % lat,
                      "event": e}))
for l in range(30):
    for h in range(per):
        hb("big%02d" % l, "NBIG%02d%05d" % (l, h))
for l in range(1000):
    hb("one%04d" % l, "NONE%04d" % l)
PY
pub <"$T/storm.jsonl"
wait_q 60 "select count(*) from hosts" "$N"
wait_q 90 "select count(*) from hosts where status = 'stale'" "$N"
# the sweeps that marked them are done: the alerts are what they are
n=$(q "select count(*) from alerts")
ns=$(q "select count(*) from alerts where kind in ('host_stale', 'lattice_silent')")
nf=$(q "select count(*) from alerts where kind = 'fleet_silent'")
[ "$ns" -le 50 ] || fail "$ns host_stale + lattice_silent alerts for $N silent hosts (threshold 50)"
[ "$nf" = 1 ] || fail "fleet_silent alerts: $nf"
[ "$n" -le 51 ] || fail "$n alerts"
[ "$(q "select count(*) from alerts where kind = 'lattice_silent'")" -ge 1 ] ||
    fail "no lattice_silent"
q "select summary from alerts where kind = 'fleet_silent'" | grep -q 'went silent past the alert storm threshold (50 alerts in 120s)' ||
    fail "fleet_silent summary: $(q "select summary from alerts where kind = 'fleet_silent'")"
ok "$N silent hosts: $n alerts ($ns host_stale/lattice_silent, 1 fleet_silent)"

# every alert reaches both sinks, once, at most 10 starts a second each
wait_q 30 "select count(*) from alert_deliveries where delivered_ms is not null" $((2 * n))
[ "$(wc -l <"$T/calls")" = "$n" ] || fail "command ran $(wc -l <"$T/calls") times for $n alerts"
# per 1-second bucket: the burst (10) plus the refill (10)
worst=$(awk '{ b[int($1 / 1000)]++ } END { m = 0; for (k in b) if (b[k] > m) m = b[k]; print m }' "$T/calls")
[ "$worst" -le 20 ] || fail "command: $worst deliveries started in one second (alert_rate_limit 10)"
first=$(sort -n "$T/calls" | head -1 | cut -d' ' -f1)
last=$(sort -n "$T/calls" | tail -1 | cut -d' ' -f1)
span=$(( last - first ))
[ "$span" -ge $(( (n - 10) * 1000 / 10 - 1500 )) ] ||
    fail "$n deliveries in ${span}ms: faster than alert_rate_limit 10/s"
grep -q 'alert: sink=command at alert_rate_limit 10/s' "$T/latticed.log" ||
    fail "no rate-limit log line"
am_count() {
	curl -sf "$AURL/api/v2/alerts" >"$T/alerts.json" &&
	    "$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/alerts.json"
}
[ "$(am_count)" = "$n" ] || fail "Alertmanager holds $(am_count) alerts, want $n"
ok "each sink got the $n alerts once, at most $worst a second (alert_rate_limit 10)"

# they come back: everything resolves (fleet_silent at the next sweep
# that finds none of them stale).  stale_threshold is raised first (a
# reload): on a loaded machine folding 4,000 returns can take longer than
# 3 s, and the first back would go stale again before the last is in.
sed -i "s/^stale_threshold .*/stale_threshold 60s/" "$T/st.conf"
kill -HUP "$LATTICED_PID"
wait_log 'reload: .*stale_threshold 60000ms'
back_ms=$(date +%s%3N)
sed -E 's/"id": "[^"]*"/"id": "ID"/' "$T/storm.jsonl" |
    "$PY" -c 'import sys, uuid
for l in sys.stdin: print(l.rstrip().replace("\"ID\"", "\"%s\"" % uuid.uuid4(), 1))' |
    sed -E "s/\"time\": \"[^\"]*\"/\"time\": \"$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)\"/" |
    pub
wait_q 30 "select count(*) from alerts where resolved_ms is null and fired_ms < $back_ms" 0
ok "all back: every alert resolved, fleet_silent too"
stop_latticed TERM || fail "exit status"
