#!/usr/bin/env bash
# Memory bounds (VmHWM, read from /proc): (a) a 16 MB heartbeat (67,000
# components) peaks within 2 x the message + 64 MiB; (b) 100,000 hosts,
# folded, swept stale and scraped, stay within 64 MiB.  Under ASan the
# bounds are not the product's (the allocator's shadow memory): they are
# reported, not enforced.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl

asan=0
grep -qs '^LATTICED_SANITIZE:BOOL=ON' "$LATTICED_BUILD_DIR/CMakeCache.txt" && asan=1
hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$LATTICED_PID/status"; }

PORT=$(free_port)
HP=$(free_port)
echo 'max_payload: 33554432' >"$T/nats.conf"
start_nats "$PORT" -c "$T/nats.conf"
DB="$T/m.db"
cat >"$T/m.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
http_listen 127.0.0.1:$HP
stale_threshold 3s
sweep_interval 500ms
CONF

# (a) one 16 MB heartbeat
"$PY" - "$T/giant.jsonl" <<'PY'
import json, sys
comps = [{"id": "comp-%06d" % i,
          "image_ref": "ghcr.io/acme/component-%06d:1.2.3" % i,
          "name": "component %d" % i,
          "annotations": {"wasmcloud.dev/appspec": "app-%d" % (i % 50),
                          "k": "v" * 40},
          "max_instances": 4, "revision": 1} for i in range(67000)]
ev = {"specversion": "1.0", "id": "giant-1", "source": "NGIANT",
      "type": "com.wasmcloud.lattice.host_heartbeat",
      "time": "2026-01-01T00:00:00Z",
      "data": {"host_id": "NGIANT", "friendly_name": "giant",
               "version": "1.9.2", "labels": {}, "uptime_seconds": 5,
               "components": comps, "providers": []}}
line = json.dumps({"subject": "wasmbus.evt.big.host_heartbeat",
                   "event": ev})
open(sys.argv[1], "w").write(line + "\n")
PY
size=$(stat -c %s "$T/giant.jsonl")
start_latticed -f "$T/m.conf"
wait_log 'ready: subscriptions live'
pub <"$T/giant.jsonl"
wait_q 60 "select count(*) from components where host_id='NGIANT'" 67000
peak=$(hwm)
bound=$(( (2 * size + 64 * 1048576) / 1024 ))
echo "giant: message $((size / 1024)) KiB, VmHWM ${peak} KiB, bound ${bound} KiB"
if [ "$asan" = 0 ]; then
	[ "$peak" -le "$bound" ] || fail "VmHWM ${peak} KiB > ${bound} KiB"
fi
stop_latticed TERM || fail "exit status"
ok "a $((size / 1000000)) MB heartbeat: VmHWM $((peak / 1024)) MiB (bound 2 x message + 64 MiB = $((bound / 1024)) MiB)"

# (b) 100,000 hosts, in chunks the fold keeps up with
rm -f "$DB" "$DB-wal" "$DB-shm"
"$PY" "$LATTICED_SOURCE_DIR/tests/data/hostile/gen.py" flood 100000 100000 100 \
    >"$T/hosts.jsonl"
split -l 10000 "$T/hosts.jsonl" "$T/chunk."
mv "$T/latticed.log" "$T/giant.log"
start_latticed -f "$T/m.conf"
wait_log 'ready: subscriptions live'
n=0
for f in "$T"/chunk.*; do
	pub <"$f"
	n=$((n + $(wc -l <"$f")))
	wait_q 30 "select count(*) >= $n from events" 1
done
wait_q 10 "select count(*) from hosts" 100000
# all silent now: every host goes stale, and a scrape walks them all
wait_q 30 "select count(*) from hosts where status = 'stale'" 100000
curl -fsS "http://127.0.0.1:$HP/metrics" >/dev/null || fail "scrape"
peak=$(hwm)
echo "hosts: 100000 folded and stale, VmHWM ${peak} KiB"
if [ "$asan" = 0 ]; then
	[ "$peak" -le 65536 ] || fail "VmHWM ${peak} KiB > 64 MiB with 100,000 hosts"
fi
stop_latticed TERM || fail "exit status"
ok "100,000 hosts folded, swept stale and scraped: VmHWM $((peak / 1024)) MiB (bound 64 MiB)"
