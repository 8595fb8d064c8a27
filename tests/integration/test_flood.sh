#!/usr/bin/env bash
# Resource exhaustion: one misbehaving client publishes FLOOD_EVENTS
# heartbeats (default 200,000) from FLOOD_HOSTS bogus host ids (100,000)
# across FLOOD_LATTICES lattices (1,000) as fast as it can.  latticed's
# memory stays bounded (VmHWM under FLOOD_MAX_RSS_KB, default 64 MiB),
# every message is accounted for (folded or dropped-and-recorded), and a
# real host's heartbeat afterwards is still applied.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
GEN="$LATTICED_SOURCE_DIR/tests/data/hostile/gen.py"
N=${FLOOD_EVENTS:-200000}
NH=${FLOOD_HOSTS:-100000}
NL=${FLOOD_LATTICES:-1000}
MAXKB=${FLOOD_MAX_RSS_KB:-65536}
# ASan's shadow memory and quarantine are not latticed's: a looser bound
if grep -qs '^LATTICED_SANITIZE:BOOL=ON' "$LATTICED_BUILD_DIR/CMakeCache.txt"; then
	MAXKB=${FLOOD_MAX_RSS_KB:-524288}
fi

PORT=$(free_port)
start_nats "$PORT"
DB="$T/flood.db"
start_notify
start_latticed --db "$DB" --nats "nats://127.0.0.1:$PORT"
wait_ready 20
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$LATTICED_PID/status"; }
RSS0=$(rss VmRSS)

"$PY" "$GEN" flood "$N" "$NH" "$NL" >"$T/flood.jsonl"
t0=$(date +%s)
pub <"$T/flood.jsonl"
t1=$(date +%s)
# sample the peak while it folds; done when every message is accounted
# for, or when nothing moved for 3s (nats-server may cut a slow consumer
# off and drop what it had queued for it: counted as lost below)
seen() {
	q "select (select count(*) from events where lattice like 'bogus%')
	    + (select count(*) from rejected_events)" 2>/dev/null || echo -1
}
peak=0 last=-1 still=0
for ((i = 0; i < 600; i++)); do
	r=$(rss VmRSS)
	[ "$r" -gt "$peak" ] && peak=$r
	now=$(seen)
	[ "$now" -ge "$N" ] && break
	if [ "$now" = "$last" ]; then
		still=$((still + 1))
		[ "$still" -ge 12 ] && break
	else
		still=0
	fi
	last=$now
	sleep 0.25
done
accounted=$(seen)
t2=$(date +%s)
HWM=$(rss VmHWM)
RSS1=$(rss VmRSS)
hosts=$(q "select count(*) from hosts where lattice like 'bogus%'")
lats=$(q "select count(distinct lattice) from hosts")
drops=$(q "select count(*) from rejected_events where reason = 'inbox overflow'")
slow=$(grep -c 'Slow Consumer' "$T/nats.log" || true)
echo "flood: $N events published in $((t1 - t0))s, $accounted folded or" \
    "recorded by $((t2 - t0))s, $((N - accounted)) lost in NATS" \
    "(slow-consumer cut-offs: $slow);" \
    "hosts=$hosts lattices=$lats overflow-recorded=$drops;" \
    "VmRSS ${RSS0}kB -> peak ${peak}kB -> ${RSS1}kB, VmHWM ${HWM}kB;" \
    "db $(du -k "$DB" | cut -f1)kB"
[ "$HWM" -lt "$MAXKB" ] || fail "VmHWM ${HWM}kB >= ${MAXKB}kB"
# what was folded created hosts, at most one per bogus id
[ "$hosts" -gt 0 ] && [ "$hosts" -le "$NH" ] || fail "hosts=$hosts"
[ "$accounted" -ge $((N / 4)) ] || fail "only $accounted of $N folded"
ok "memory bounded under the flood: VmHWM ${HWM}kB < ${MAXKB}kB"

# still folding real traffic
# (a publish can fall into a reconnect right after the cut-off: retry)
real_up() {
	q_is "select status from hosts where lattice='real' and
	    host_id='NREALHOST'" up
}
for ((i = 0; i < 10; i++)); do
	ev host_heartbeat real NREALHOST 1 | pub
	wait_for 3 real_up && break
done
real_up || fail "a real heartbeat after the flood was never applied"
ok "a real heartbeat after the flood is applied"
stop_latticed TERM || fail "latticed exit status"
q "pragma integrity_check" | grep -qx ok || fail "integrity_check"
