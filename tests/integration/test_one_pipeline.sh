#!/usr/bin/env bash
# One pipeline whatever feeds it: the same story -- hosts starting,
# heartbeats with an inventory, components, providers and their health,
# links, configs, labels, an rpc failure, a host stopping, a duplicate and
# an invalid event -- folded through core NATS, through
# JetStream and through --replay gives identical tables, and the two live
# modes identical /metrics event counters.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl

"$PY" - "$T/story.jsonl" <<'PY'
import datetime, json, sys
base = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=30)
out, n = [], [0]
def ev(lattice, typ, source, data, subject=None, eid=None, raw=None):
    n[0] += 1
    t = (base + datetime.timedelta(milliseconds=10 * n[0])).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    e = raw if raw is not None else {"specversion": "1.0",
        "id": eid or "story-%03d" % n[0], "source": source,
        "type": "com.wasmcloud.lattice." + typ, "time": t,
        "datacontenttype": "application/json", "data": data}
    out.append({"subject": subject or "wasmbus.evt.%s.%s" % (lattice, typ), "event": e})
for lat in ("sa", "sb"):
    for h in ("NH1", "NH2"):
        host = h + lat.upper()
        ev(lat, "host_started", host, {"host_id": host, "labels": {"zone": "a"}, "friendly_name": "f-" + host, "version": "1.9.2"})
        ev(lat, "host_heartbeat", host, {"host_id": host, "labels": {"zone": "a"}, "friendly_name": "f-" + host, "version": "1.9.2", "uptime_seconds": 5,
            "components": [{"id": "c1", "image_ref": "ghcr.io/x/c1:1", "name": "c1", "max_instances": 2, "annotations": {"a": "1"}, "revision": 1}],
            "providers": [{"id": "p1", "image_ref": "ghcr.io/x/p1:1", "name": "p1", "contract_id": "wasmcloud:http", "link_name": "default", "annotations": {}, "revision": 1}]})
        ev(lat, "component_scaled", host, {"host_id": host, "component_id": "c2", "image_ref": "ghcr.io/x/c2:1", "max_instances": 3, "annotations": {}, "public_key": "M", "claims": {}})
        ev(lat, "provider_started", host, {"host_id": host, "provider_id": "p2", "image_ref": "ghcr.io/x/p2:1", "link_name": "default", "annotations": {}, "claims": {}})
        ev(lat, "health_check_failed", host, {"host_id": host, "provider_id": "p2", "link_name": "default"})
    ev(lat, "linkdef_set", "NH1" + lat.upper(), {"source_id": "c1", "target": "p1", "name": "default", "wit_namespace": "wasi", "wit_package": "http", "interfaces": ["incoming-handler"], "source_config": [], "target_config": []})
    ev(lat, "linkdef_set", "NH1" + lat.upper(), {"source_id": "c2", "target": "p1", "name": "default", "wit_namespace": "wasi", "wit_package": "keyvalue", "interfaces": ["store"], "source_config": [], "target_config": []})
    ev(lat, "linkdef_deleted", "NH1" + lat.upper(), {"source_id": "c2", "name": "default", "wit_namespace": "wasi", "wit_package": "keyvalue"})
    ev(lat, "config_set", "NH1" + lat.upper(), {"config_name": "cfg-a"})
    ev(lat, "config_set", "NH1" + lat.upper(), {"config_name": "cfg-b"})
    ev(lat, "config_deleted", "NH1" + lat.upper(), {"config_name": "cfg-b"})
    ev(lat, "labels_changed", "NH2" + lat.upper(), {"host_id": "NH2" + lat.upper(), "labels": {"zone": "b"}})
    ev(lat, "invocation_failed", "NH1" + lat.upper(), {"error": "boom"}, subject="wasmbus.rpcevt." + lat)
    ev(lat, "provider_stopped", "NH1" + lat.upper(), {"host_id": "NH1" + lat.upper(), "provider_id": "p1", "link_name": "default", "reason": "stop"})
    ev(lat, "host_stopped", "NH2" + lat.upper(), {"host_id": "NH2" + lat.upper(), "labels": {}, "reason": "test"})
    # an older host publishes on the bare subject (a host uses one style:
    # core NATS keeps order per subscription, not across them)
    ev(lat, "host_heartbeat", "NH3" + lat.upper(), {"host_id": "NH3" + lat.upper(), "labels": {"zone": "c"}, "friendly_name": "f-NH3", "version": "0.82.0", "uptime_seconds": 9}, subject="wasmbus.evt." + lat)
# a duplicate of the first event and an invalid one
out.append(out[0])
ev("sa", "component_scaled", "NH1SA", {"host_id": "NH1SA", "component_id": "c9", "max_instances": "three"})
open(sys.argv[1], "w").write("".join(json.dumps(o) + "\n" for o in out))
PY
N=$(wc -l <"$T/story.jsonl")

# the model as a text dump, receive-clock columns left out
dump() {
	sqlite3 -batch -noheader "$1" "
	select 'host', lattice, host_id, status, friendly_name, version, labels from hosts order by 2, 3;
	select 'comp', lattice, host_id, component_id, image_ref, name, max_instances, revision, annotations from components order by 2, 3, 4;
	select 'prov', lattice, host_id, provider_id, link_name, image_ref, name, contract_id, annotations, health from providers order by 2, 3, 4;
	select 'link', lattice, source_id, name, wit_namespace, wit_package, target, interfaces from links order by 2, 3, 4, 5, 6;
	select 'conf', lattice, config_name, legacy_keys from configs order by 2, 3;
	select 'ev', lattice, subject, type, source, id, host_id, time_ms, outcome, json(data) from events order by 6, 5;
	select 'rej', lattice, subject, error, field, reason from rejected_events order by 4, 6;
	select 'alert', lattice, kind, entity, host_id, severity, resolved_ms is null from alerts order by 2, 3, 4;"
}
counters() {
	curl -fsS "http://127.0.0.1:$1/metrics" |
	    grep -E '^latticed_events_(total|rejected_total)' | sort
}

start_js_nats

# run MODE: fold the story live, dump the tables and the counters
run() {
	local mode=$1 hp
	hp=$(free_port)
	DB="$T/$mode.db"
	{
		echo "db $DB"
		echo "nats_url $URL"
		echo "http_listen 127.0.0.1:$hp"
		echo "lattices sa, sb"
		[ "$mode" = js ] && echo "jetstream yes"
		true
	} >"$T/$mode.conf"
	: >"$T/latticed.log"
	start_latticed -f "$T/$mode.conf"
	wait_log 'ready: subscriptions live'
	[ "$mode" = js ] && wait_log 'consumer latticed on latticed_events'
	pub <"$T/story.jsonl"
	# every line but the duplicate is a row
	wait_q 20 "select (select count(*) from events) + (select count(*) from rejected_events)" $((N - 1))
	counters "$hp" >"$T/$mode.metrics"
	stop_latticed TERM || fail "$mode: exit status"
	dump "$DB" >"$T/$mode.dump"
}
run core
run js
"$LATTICED_BIN" --db "$T/replay.db" --replay "$T/story.jsonl" >>"$T/replay.log" 2>&1 ||
    fail "replay"
dump "$T/replay.db" >"$T/replay.dump"

rows=$(wc -l <"$T/core.dump")
[ "$rows" -gt 50 ] || fail "the story left only $rows rows"
grep -q '^rej|sa|wasmbus.evt.sa.component_scaled|invalid|' "$T/core.dump" || fail "no invalid reject"
grep -q '|duplicate|' "$T/core.dump" && fail "a duplicate stored"
diff -u "$T/core.dump" "$T/js.dump" >&2 || fail "core NATS and JetStream folded differently"
diff -u "$T/core.dump" "$T/replay.dump" >&2 || fail "core NATS and --replay folded differently"
ok "core NATS, JetStream and --replay: identical tables ($rows rows)"
[ -s "$T/core.metrics" ] || fail "no event counters"
diff -u "$T/core.metrics" "$T/js.metrics" >&2 ||
    fail "core NATS and JetStream counted differently"
ok "core NATS and JetStream: identical /metrics event counters ($(wc -l <"$T/core.metrics") series)"
