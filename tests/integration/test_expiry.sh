#!/usr/bin/env bash
# Host expiry and the resync cap through the daemon.  A flood of bogus
# host ids (300 host_started in lattice "bogus", two more and a stopped one
# beside a real host in "default", one with inventory and a failing
# provider) goes stale after stale_threshold 2s and is deleted after
# host_max_age 3s: the hosts rows and their components/providers go, their
# alerts end resolved with resolved_reason host_expired, the events history
# keeps every bogus event, and the real host that keeps heartbeating stays
# (its status_changed_ms is far older than 3s: up hosts never expire).
# Then, with lattices "*", a reconnect resyncs only lattices with a host up,
# at most resync_max_lattices, and logs the truncation.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/x.db"
cat >"$T/x.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 2s
sweep_interval 200ms
host_max_age 3s
retention_interval 200ms
reconnect_wait 250ms
resync_gather 300ms
CONF
start_notify
start_latticed -f "$T/x.conf"
wait_ready

# the real host beats every 300ms for the whole first part
beat default NREALHOST 300
HB_PID=$BEAT_PID
PIDS+=("$HB_PID")
wait_q 5 "select status from hosts where host_id='NREALHOST'" up
REAL_CHANGED=$(q "select status_changed_ms from hosts where host_id='NREALHOST'")

# the flood: 300 unique bogus ids in one lattice, 3 beside the real host
"$PY" - "$T/flood.jsonl" <<'PY'
import datetime, json, sys, uuid
def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
def ev(lat, typ, host, data):
    return json.dumps({"subject": "wasmbus.evt.%s.%s" % (lat, typ),
        "event": {"specversion": "1.0", "id": str(uuid.uuid4()),
                  "source": host, "type": "com.wasmcloud.lattice." + typ,
                  "datacontenttype": "application/json", "time": now(),
                  "data": data}})
out = []
for i in range(300):
    h = "NBOGUS%04d" % i
    out.append(ev("bogus", "host_started", h, {"host_id": h, "labels": {},
        "friendly_name": "b", "version": "1.9.2"}))
out.append(ev("default", "host_heartbeat", "NBOGUSINV", {
    "host_id": "NBOGUSINV", "labels": {}, "version": "1.9.2",
    "uptime_seconds": 5,
    "components": [{"id": "evil", "image_ref": "ghcr.io/x/evil:1",
                    "max_instances": 1, "revision": 0}],
    "providers": [{"id": "evilprov", "image_ref": "ghcr.io/x/p:1",
                   "name": "p", "revision": 0, "annotations": {}}]}))
out.append(ev("default", "health_check_failed", "NBOGUSINV",
    {"host_id": "NBOGUSINV", "provider_id": "evilprov"}))
out.append(ev("default", "host_started", "NBOGUSTWO",
    {"host_id": "NBOGUSTWO", "labels": {}, "version": "1.9.2"}))
out.append(ev("default", "host_started", "NBOGUSSTOP",
    {"host_id": "NBOGUSSTOP", "labels": {}, "version": "1.9.2"}))
out.append(ev("default", "host_stopped", "NBOGUSSTOP",
    {"host_id": "NBOGUSSTOP", "labels": {}, "reason": "bogus"}))
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
pub <"$T/flood.jsonl"
BOGUS="host_id like 'NBOGUS%'"
wait_q 10 "select count(*) from events where $BOGUS" 305
# the flood lands and goes stale (or is stopped) after ~2s
wait_q 10 "select count(*) from hosts where $BOGUS and status='stale'" 302
[ "$(q "select status from hosts where host_id='NREALHOST'")" = up ] ||
    fail "the real host went stale"
[ "$(q "select count(*) from components where host_id='NBOGUSINV'")" = 1 ] &&
    [ "$(q "select count(*) from providers where host_id='NBOGUSINV'")" = 1 ] ||
    fail "bogus inventory not folded"
wait_q 5 "select count(*) from active_alerts where lattice='bogus' and kind='lattice_silent'" 1
ACTIVE="select kind || ' ' || entity from active_alerts where lattice='default' order by 1"
wait_q 5 "$ACTIVE" "host_stale NBOGUSINV
host_stale NBOGUSTWO
host_stopped NBOGUSSTOP
provider_unhealthy NBOGUSINV/evilprov"
ok "303 bogus hosts went stale or stopped, their alerts fired"

# host_max_age 3s after going stale they are gone, within a few seconds
wait_q 10 "select count(*) from hosts where $BOGUS" 0
wait_q 1 "select count(*) from components where host_id='NBOGUSINV'" 0
wait_q 1 "select count(*) from providers where host_id='NBOGUSINV'" 0
ok "bogus hosts expired with their components and providers"

# the real host is still there and up, never touched
[ "$(q "select status || ' ' || status_changed_ms from hosts where host_id='NREALHOST'")" = "up $REAL_CHANGED" ] ||
    fail "the real host changed: $(q "select * from hosts where host_id='NREALHOST'")"
now_ms=$(($(date +%s%3N)))
[ $((now_ms - REAL_CHANGED)) -gt 3000 ] ||
    fail "the real host is not older than host_max_age: test proves nothing"
ok "the heartbeating host stayed (status up since $((now_ms - REAL_CHANGED))ms)"

# every alert of the bogus hosts ended resolved, with the reason
wait_q 5 "select count(*) from active_alerts where lattice='bogus' or host_id like 'NBOGUS%'" 0
# (4 in default; in bogus one lattice_silent, perhaps a host_stale or two
# when a sweep caught fewer than mass_silence_min_hosts)
n_alerts=$(q "select count(*) from alerts where lattice='bogus' or host_id like 'NBOGUS%'")
[ "$n_alerts" -ge 5 ] || fail "only $n_alerts bogus alerts"
[ "$(q "select count(*) from alerts where (lattice='bogus' or host_id like 'NBOGUS%') and json_extract(details, '$.resolved_reason') = 'host_expired'")" = "$n_alerts" ] ||
    fail "resolved alerts without the reason: $(q "select kind, entity, details from alerts")"
[ "$(q "select json_array_length(details, '$.host_ids') >= 1 from alerts where kind='lattice_silent' and lattice='bogus'")" = 1 ] ||
    fail "lattice_silent lost its host list"
# ... and their resolution was delivered to the log sink
wait_log 'kind=lattice_silent .*state=resolved' 5
wait_log 'kind=provider_unhealthy .*state=resolved' 5
wait_log 'retention: .*expired [1-9][0-9]* hosts \([0-9]+ alerts resolved\)' 5
ok "their alerts resolved (host_expired) and delivered"

# the history keeps every bogus event
[ "$(q "select count(*) from events where $BOGUS")" = 305 ] ||
    fail "bogus events pruned: $(q "select count(*) from events where $BOGUS")"
[ "$(q "select count(*) from events where lattice='bogus' and type like '%host_started'")" = 300 ] ||
    fail "bogus host_started events missing"
ok "events history untouched"

# a bogus host that comes back is simply a new host
ev host_started bogus NBOGUS0001 1 | pub
wait_q 5 "select status from hosts where host_id='NBOGUS0001'" up
ok "an expired host id seen again is folded as a new host"
kill "$HB_PID" 2>/dev/null || true
stop_latticed || fail "latticed exited non-zero"

# --- resync of "*": only lattices with a host up, capped ---------------
cat >"$T/r.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 1h
host_max_age 0
reconnect_wait 250ms
resync_gather 300ms
resync_max_lattices 2
CONF
# a long-stale lattice known before all others: never resynced
q "insert into latticed_hosts (lattice, host_id, status, first_seen_ms, last_seen_ms,
    status_changed_ms, state_ms) values ('zz', 'NZZ', 'stale', 1, 1, 1, 1)"
# NBOGUS0001 (up, lattice bogus) and NREALHOST (up, default) remain
start_latticed -f "$T/r.conf"
wait_log 'resync: #1 \(start\): 2 lattice\(s\)' 10
wait_log 'resync: #1 done' 10
grep -q 'resync: lattice=zz:' "$T/latticed.log" && fail "stale lattice zz resynced"
grep -q 'resync: .*left out' "$T/latticed.log" && fail "truncated at 2 of 2"
ok "start resync: the 2 lattices with a host up, not the stale one"

# two more lattices come up: 4 with a host up, the cap is 2
ev host_started la NLA 1 | pub
ev host_started lb NLB 1 | pub
wait_q 5 "select count(distinct lattice) from hosts where status='up'" 4
stop_nats
wait_log 'nats: disconnected' 5
start_nats "$PORT"
wait_log 'resync: #2 \(reconnect\): 2 lattice\(s\)' 15
wait_log 'resync: 2 of 4 lattices with a host up \(resync_max_lattices 2.*2 left out' 5
wait_log 'resync: #2 done' 10
# the two known longest (default: NREALHOST, bogus: NBOGUS0001 came
# before la and lb) were chosen
[ "$(grep -cE 'resync: lattice=(default|bogus):' "$T/latticed.log")" = 4 ] ||
    fail "the longest-known lattices were not resynced twice"
grep -qE 'resync: lattice=(la|lb|zz):' "$T/latticed.log" &&
    fail "a lattice beyond the cap was resynced"
ok "reconnect resync capped at resync_max_lattices, truncation logged"
stop_latticed || fail "latticed exited non-zero"
