#!/usr/bin/env bash
# Alerts end to end through latticed: fired and resolved in the fold and the
# stale sweep, delivered by the command and log sinks exactly as the
# database says.  (a) host_stopped; (b) host_stale fires once over many
# sweeps and resolves on the next heartbeat; (c) 4 of 5 hosts silent in one
# sweep: one lattice_silent, no host_stale; (d) provider_unhealthy fires and
# resolves; (e) component_scale_failed is a warning; (f) a failing command
# is retried with backoff until it succeeds; (h) a reload rebuilds only
# a changed sink and retries what it cancelled; (g) kill -9 between the
# commit and the delivery: delivered once after the restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/a.db"
CTL="$T/ctl"
mkdir -p "$CTL"
OUT="$CTL/out"
: >"$OUT"

# The alert command: one line per delivery it accepts, "STATE KIND ENTITY
# ID<TAB>stdin JSON"; per entity, ctl files make it fail the first N calls
# (fail.ENTITY) or hang on the first call (sleep.ENTITY).
cat >"$T/hook.sh" <<'HOOK'
#!/bin/sh
dir=$1
in=$(cat)
ent=$(printf %s "$LATTICED_ALERT_ENTITY" | tr / _)
cf="$dir/count.$ent.$LATTICED_ALERT_STATE"
n=$(($(cat "$cf" 2>/dev/null || echo 0) + 1))
echo "$n" >"$cf"
if [ -f "$dir/sleep.$ent" ] && [ "$n" = 1 ]; then
	echo $$ >"$dir/sleeping.$ent.pid"
	exec sleep 30
fi
if [ -f "$dir/fail.$ent" ] && [ "$n" -le "$(cat "$dir/fail.$ent")" ]; then
	echo "planned failure $n" >&2
	exit 1
fi
printf '%s %s %s %s\t%s\n' "$LATTICED_ALERT_STATE" "$LATTICED_ALERT_KIND" \
    "$LATTICED_ALERT_ENTITY" "$LATTICED_ALERT_ID" "$in" >>"$dir/out"
HOOK
chmod +x "$T/hook.sh"

cat >"$T/a.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 2s
sweep_interval 500ms
reconnect_wait 250ms
alert_log yes
alert_command $T/hook.sh $CTL
alert_command_timeout 3s
alert_nats_subject latticed.alerts.{lattice}
mass_silence_min_hosts 3
mass_silence_fraction 0.5
CONF
"$LATTICED_BIN" -n -f "$T/a.conf" >/dev/null 2>&1 || fail "config check"

# a bare NATS client on the alert subjects: "SUBJECT<TAB>payload" lines
"$PY" - "$PORT" "$T/nats-alerts" <<'EOF' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b'CONNECT {"verbose":false}\r\nSUB latticed.alerts.> 1\r\nPING\r\n')
f = s.makefile("rb")
out = open(sys.argv[2], "a")
while True:
    line = f.readline()
    if not line:
        break
    if line.startswith(b"PING"):
        s.sendall(b"PONG\r\n")
    elif line.startswith(b"PONG"):
        out.write("#ready\n")
        out.flush()
    elif line.startswith(b"MSG "):
        parts = line.split()
        body = f.read(int(parts[-1]) + 2)[:-2]
        out.write(parts[1].decode() + "\t" + body.decode() + "\n")
        out.flush()
EOF
PIDS+=("$!")
wait_for 5 grep -q '#ready' "$T/nats-alerts" || fail "nats subscriber"
start_notify
start_latticed -f "$T/a.conf"
wait_ready

# mk TYPE LATTICE HOST [JSON data members]: one event line for ltpub.
mk() {
	"$PY" - "$@" <<'EOF'
import datetime, json, sys, uuid
typ, lat, host = sys.argv[1:4]
data = {"host_id": host}
if typ == "host_heartbeat":
    data.update({"friendly_name": "h", "labels": {}, "version": "1.9.2",
                 "uptime_human": "1m", "uptime_seconds": 60,
                 "issuer": "CISSUER", "components": [], "providers": []})
elif typ == "host_stopped":
    data.update({"labels": {}, "reason": "test"})
if len(sys.argv) > 4:
    data.update(json.loads(sys.argv[4]))
t = datetime.datetime.now(datetime.timezone.utc).strftime(
    "%Y-%m-%dT%H:%M:%S.%fZ")
print(json.dumps({"subject": "wasmbus.evt.%s.%s" % (lat, typ),
    "event": {"specversion": "1.0", "id": str(uuid.uuid4()), "source": host,
              "type": "com.wasmcloud.lattice." + typ,
              "datacontenttype": "application/json", "time": t,
              "data": data}}))
EOF
}

# lines STATE KIND ENTITY: deliveries the command accepted.
lines() {
	awk -F'\t' -v s="$1" -v k="$2" -v e="$3" '{ split($1, a, " ");
	    if (a[1] == s && a[2] == k && a[3] == e) n++ } END { print n + 0 }' \
	    "$OUT"
}
lines_is() { [ "$(lines "$1" "$2" "$3")" = "$4" ]; }
wait_lines() {
	wait_for "$1" lines_is "$2" "$3" "$4" "$5" ||
	    fail "want $5 $2 $3 delivery of $4, got $(lines "$2" "$3" "$4")"
}
# alerts KIND ENTITY [WHERE]: alert rows.
nalerts() {
	q "select count(*) from alerts where kind='$1' and entity='$2' ${3:-}"
}
# delivered ENTITY KIND TRANSITION: the command sink's delivery row.
delivered() {
	q "select count(*) from alert_deliveries d join alerts a using
	    (alert_id) where a.entity='$1' and a.kind='$2' and d.sink='command'
	    and d.transition='$3' and d.delivered_ms is not null"
}

# ---- (a) host_stopped -------------------------------------------------
{ mk host_heartbeat la NHOSTA; mk host_stopped la NHOSTA; } | pub
wait_lines 5 firing host_stopped NHOSTA 1
[ "$(nalerts host_stopped NHOSTA 'and resolved_ms is null')" = 1 ] ||
    fail "(a) no active host_stopped alert"
[ "$(delivered NHOSTA host_stopped firing)" = 1 ] || fail "(a) not recorded"
wait_for 3 grep -qE "alert id=[0-9]+ lattice=la kind=host_stopped severity=warning entity=NHOSTA host_id=NHOSTA summary=\".*\" state=firing" \
    "$T/latticed.log" || fail "(a) no log sink line"
q "select count(*) from alert_deliveries d join alerts a using (alert_id)
    where a.entity='NHOSTA' and d.sink='log' and d.delivered_ms is not null" |
    grep -qx 1 || fail "(a) log delivery not recorded"
wait_for 3 grep -qP '^latticed\.alerts\.la\t' "$T/nats-alerts" ||
    fail "(a) no CloudEvent on latticed.alerts.la"
grep -P '^latticed\.alerts\.la\t' "$T/nats-alerts" | cut -f2 | "$PY" -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
assert len(evs) == 1, evs
e = evs[0]
assert e["type"] == "com.latticed.alert.firing", e
assert e["id"] == "%d-firing" % e["data"]["alert_id"], e
assert e["data"]["kind"] == "host_stopped" and e["data"]["entity"] == "NHOSTA", e
' || fail "(a) nats CloudEvent: $(cat "$T/nats-alerts")"
ok "(a) host_stopped: one firing delivery to the command, the log and NATS"

# ---- (b) host_stale once, resolved on the next heartbeat --------------
mk host_heartbeat lb NHOSTB | pub
wait_lines 8 firing host_stale NHOSTB 1
sleep 1.6	# three more sweeps with NHOSTB still silent
[ "$(lines firing host_stale NHOSTB)" = 1 ] || fail "(b) fired again"
[ "$(nalerts host_stale NHOSTB)" = 1 ] || fail "(b) more than one alert"
mk host_heartbeat lb NHOSTB | pub
wait_lines 5 resolved host_stale NHOSTB 1
[ "$(nalerts host_stale NHOSTB 'and resolved_ms is not null')" = 1 ] ||
    fail "(b) alert not resolved in the db"
[ "$(delivered NHOSTB host_stale resolved)" = 1 ] ||
    fail "(b) resolved delivery not recorded"
[ "$(lines firing host_stale NHOSTB)" = 1 ] || fail "(b) fired again"
wait_for 3 grep -qE "alert id=[0-9]+ lattice=lb kind=host_stale .*state=resolved" \
    "$T/latticed.log" || fail "(b) no resolved log line"
ok "(b) host_stale fired once over several sweeps, resolved by a heartbeat"

# ---- (c) no storm: 4 of 5 hosts silent in one sweep -------------------
# generated first: all five must arrive within a few ms; NHOSTC5 goes on
for i in 1 2 3 4 5; do mk host_heartbeat lc "NHOSTC$i"; done >"$T/c.jsonl"
pub <"$T/c.jsonl"
beat lc NHOSTC5 400
HB=$BEAT_PID
wait_lines 8 firing lattice_silent lc 1
sleep 1.1
kill "$HB"
[ "$(lines firing lattice_silent lc)" = 1 ] || fail "(c) lattice_silent twice"
[ "$(q "select count(*) from alerts where lattice='lc' and kind='host_stale'")" = 0 ] ||
    fail "(c) host_stale raised in a mass silence"
awk -F'\t' '$1 ~ /host_stale NHOSTC/' "$OUT" | grep -q . &&
    fail "(c) host_stale delivered for a silent lattice host"
[ "$(q "select count(*) from hosts where lattice='lc' and status='stale'")" = 4 ] ||
    fail "(c) the 4 hosts are not marked stale"
q "select details from alerts where kind='lattice_silent' and lattice='lc'" |
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert sorted(d["host_ids"]) == ["NHOSTC%d" % i for i in range(1, 5)], d' ||
    fail "(c) lattice_silent does not name the 4 hosts"
ok "(c) 4 of 5 hosts silent: one lattice_silent delivery, no host_stale"

# ---- (d) provider_unhealthy fires and resolves ------------------------
PROV='{"providers": [{"id": "prov-d", "image_ref": "ghcr.io/x/p:1"}]}'
{ mk host_heartbeat ld NHOSTD "$PROV"
  mk health_check_failed ld NHOSTD '{"provider_id": "prov-d"}'; } | pub
wait_lines 5 firing provider_unhealthy NHOSTD/prov-d 1
mk health_check_failed ld NHOSTD '{"provider_id": "prov-d"}' | pub
mk health_check_passed ld NHOSTD '{"provider_id": "prov-d"}' | pub
wait_lines 5 resolved provider_unhealthy NHOSTD/prov-d 1
[ "$(lines firing provider_unhealthy NHOSTD/prov-d)" = 1 ] ||
    fail "(d) repeated failure fired again"
[ "$(nalerts provider_unhealthy NHOSTD/prov-d)" = 1 ] || fail "(d) alerts"
ok "(d) provider_unhealthy: failed fires once, passed resolves"

# ---- (e) component_scale_failed --------------------------------------
mk component_scale_failed le NHOSTE '{"component_id": "comp-e",
    "image_ref": "ghcr.io/x/c:1", "max_instances": 2, "annotations": {},
    "error": "no capacity"}' | pub
wait_lines 5 firing component_scale_failed NHOSTE/comp-e 1
grep -P '^firing component_scale_failed NHOSTE/comp-e ' "$OUT" | cut -f2 |
    "$PY" -c 'import json,sys; a=json.load(sys.stdin); assert a["severity"] == "warning" and a["state"] == "firing" and a["lattice"] == "le", a' ||
    fail "(e) not a warning"
ok "(e) component_scale_failed delivered as a warning"

# ---- (f) retries: the command fails twice, then takes it -------------
echo 2 >"$CTL/fail.NHOSTF"
{ mk host_heartbeat lf NHOSTF; mk host_stopped lf NHOSTF; } | pub
wait_lines 12 firing host_stopped NHOSTF 1
[ "$(cat "$CTL/count.NHOSTF.firing")" = 3 ] ||
    fail "(f) $(cat "$CTL/count.NHOSTF.firing") attempts, want 3"
row=$(q "select d.attempts, d.last_error, d.delivered_ms is not null,
    d.delivered_ms - d.queued_ms from alert_deliveries d join alerts a
    using (alert_id) where a.entity='NHOSTF' and d.sink='command'")
IFS='|' read -r att lasterr done_ took <<<"$row"
[ "$att" = 2 ] && [ "$done_" = 1 ] || fail "(f) row: $row"
[[ "$lasterr" == *"planned failure 2"* ]] || fail "(f) last_error: $lasterr"
# backoff: 1 s then 2 s (plus jitter) before the third attempt
[ "$took" -ge 2900 ] && [ "$took" -lt 8000 ] || fail "(f) delivered after ${took}ms"
grep -q "alert: delivery id=[0-9]* sink=command state=firing failed (attempt 1): command exited 1: planned failure 1; will retry" \
    "$T/latticed.log" || fail "(f) failure not logged"
ok "(f) failing command retried with backoff, delivered on attempt 3 (${took}ms)"

# ---- (h) SIGHUP rebuilds a changed sink; what it cancels is retried --
kill -HUP "$LATTICED_PID"
wait_log 'reload: ' 5
sleep 0.3
grep -q 'alert: command sink rebuilt' "$T/latticed.log" &&
    fail "(h) unchanged sink rebuilt"
touch "$CTL/sleep.NHOSTH"
{ mk host_heartbeat lh NHOSTH; mk host_stopped lh NHOSTH; } | pub
wait_for 5 test -s "$CTL/sleeping.NHOSTH.pid" || fail "(h) command never started"
sed -i 's/^alert_command_timeout 3s$/alert_command_timeout 4s/' "$T/a.conf"
kill -HUP "$LATTICED_PID"
wait_log 'alert: command sink rebuilt' 5
wait_lines 8 firing host_stopped NHOSTH 1
# host_stopped's firing only: on a loaded machine the stop may come over
# 2 s after the heartbeat, and NHOSTH goes stale in between (two more rows)
row=$(q "select d.attempts, d.last_error from alert_deliveries d join alerts a
    using (alert_id) where a.entity='NHOSTH' and a.kind='host_stopped'
    and d.sink='command' and d.transition='firing'")
[ "$row" = "1|sink closed" ] || fail "(h) row: $row"
pid=$(cat "$CTL/sleeping.NHOSTH.pid")
state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
[ -z "$state" ] || [ "$state" = Z ] || fail "(h) cancelled command survived"
ok "(h) SIGHUP: changed command sink rebuilt, cancelled delivery retried"

# ---- (g) kill -9 after the commit, before the delivery ---------------
touch "$CTL/sleep.NHOSTG"
{ mk host_heartbeat lg NHOSTG; mk host_stopped lg NHOSTG; } | pub
wait_for 5 test -s "$CTL/sleeping.NHOSTG.pid" || fail "(g) command never started"
kill -9 "$LATTICED_PID"
wait "$LATTICED_PID" 2>/dev/null || true
kill "$(cat "$CTL/sleeping.NHOSTG.pid")" 2>/dev/null || true
[ "$(nalerts host_stopped NHOSTG)" = 1 ] || fail "(g) alert not committed"
[ "$(delivered NHOSTG host_stopped firing)" = 0 ] || fail "(g) already delivered"
[ "$(lines firing host_stopped NHOSTG)" = 0 ] || fail "(g) already delivered"
start_latticed -f "$T/a.conf"
wait_lines 20 firing host_stopped NHOSTG 1
wait_for 3 test "$(delivered NHOSTG host_stopped firing)" = 1 ||
    fail "(g) delivery not recorded after the restart"
sleep 1
[ "$(lines firing host_stopped NHOSTG)" = 1 ] || fail "(g) delivered twice"
[ "$(q "select count(*) from alert_deliveries d join alerts a using (alert_id)
    where a.entity='NHOSTG' and d.sink='command'")" = 1 ] || fail "(g) rows"
ok "(g) alert committed before kill -9 delivered exactly once after restart"

# every accepted line: the JSON on stdin agrees with the environment
"$PY" - "$OUT" <<'EOF' || fail "stdin JSON and environment disagree"
import json, sys
for line in open(sys.argv[1]):
    head, body = line.rstrip("\n").split("\t", 1)
    state, kind, entity, aid = head.split(" ")
    a = json.loads(body)
    assert (a["state"], a["kind"], a["entity"], str(a["alert_id"])) == \
        (state, kind, entity, aid), (head, a)
    assert (a["resolved_ms"] is None) == (state == "firing"), a
EOF

stop_latticed TERM || fail "exit status"
[ "$(q "pragma integrity_check")" = ok ] || fail integrity
