#!/usr/bin/env bash
# inbox_max_bytes bounds the ingest queues in bytes: N big heartbeats
# (~60 kB each, BIG_EVENTS, default 300) published at once into a latticed
# whose count bound cannot be reached (inbox_max 100000) but whose byte
# bound holds ~16 of them (inbox_max_bytes 1M), folding one batch per 2 s:
# most are dropped at the inbox, and every message is accounted for (rows,
# latticed_inbox_overflows_total, the log line, the shutdown line).  The
# same flood with inbox_max_bytes 0 (the count alone) keeps every message,
# and peaks at least 16 MiB higher (VmHWM from /proc; not under ASan).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl

N=${BIG_EVENTS:-300}
asan=0
grep -qs '^LATTICED_SANITIZE:BOOL=ON' "$LATTICED_BUILD_DIR/CMakeCache.txt" && asan=1
hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$LATTICED_PID/status"; }
PORT=$(free_port)
HP=$(free_port)
start_nats "$PORT"
start_notify
metric() {
	curl -fsS "http://127.0.0.1:$HP/metrics" |
	    awk -v n="$1" '$1 == n { print $2 }'
}

"$PY" - "$N" "$T/big.jsonl" <<'PY'
import json, sys
n, out = int(sys.argv[1]), open(sys.argv[2], "w")
for h in range(n):
    host = "NBIG%06d" % h
    comps = [{"id": "comp-%04d" % i,
              "image_ref": "ghcr.io/acme/component-%04d:1.2.3" % i,
              "name": "component %d" % i,
              "annotations": {"k": "v" * 60},
              "max_instances": 1, "revision": 1} for i in range(330)]
    ev = {"specversion": "1.0", "id": "big-%d" % h, "source": host,
          "type": "com.wasmcloud.lattice.host_heartbeat",
          "time": "2026-01-01T00:00:00Z",
          "data": {"host_id": host, "friendly_name": "big",
                   "version": "1.9.2", "labels": {}, "uptime_seconds": 5,
                   "components": comps, "providers": []}}
    out.write(json.dumps({"subject": "wasmbus.evt.big.host_heartbeat",
                          "event": ev}) + "\n")
PY
size=$(($(stat -c %s "$T/big.jsonl") / N))
[ "$size" -gt 50000 ] || fail "messages of $size bytes, not ~60 kB"

# run BYTES: a fresh latticed with inbox_max_bytes BYTES, the flood, and
# the counts once every message is accounted for
run() {
	DB="$T/b$1.db"
	: >"$T/notify.out"
	: >"$T/latticed.log"
	cat >"$T/b.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
http_listen 127.0.0.1:$HP
inbox_max 100000
inbox_max_bytes $1
inbox_spool 0
batch_delay 2s
CONF
	start_latticed -f "$T/b.conf"
	wait_ready
	pub <"$T/big.jsonl"
	# the backlog shows in latticed_inbox_bytes, within the bound
	if [ "$1" = 1M ]; then
		wait_for 20 eval '[ "$(metric latticed_inbox_bytes)" -ge 500000 ]' ||
		    fail "latticed_inbox_bytes never showed the backlog: $(metric latticed_inbox_bytes)"
		ib=$(metric latticed_inbox_bytes)
		[ "$ib" -le $((1310720 + 2 * size)) ] ||
		    fail "latticed_inbox_bytes $ib over 1.25 x inbox_max_bytes"
	fi
	accounted() {
		local e o
		e=$(q "select count(*) from events where lattice='big'") &&
		    o=$(metric latticed_inbox_overflows_total) &&
		    [ $((e + o)) = "$N" ]
	}
	wait_for 60 accounted ||
	    fail "inbox_max_bytes $1: $(q "select count(*) from events") rows + $(metric latticed_inbox_overflows_total) dropped != $N"
	rows=$(q "select count(*) from events where lattice='big'")
	ovf=$(metric latticed_inbox_overflows_total)
	wait_for 10 eval '[ "$(metric latticed_inbox_bytes)" = 0 ]' ||
	    fail "latticed_inbox_bytes $(metric latticed_inbox_bytes) once all is folded"
	peak=$(hwm)
	stop_latticed TERM || fail "exit status"
	line=$(grep -E 'shutdown: folded [0-9]+ messages' "$T/latticed.log" | tail -n1)
	[[ "$line" =~ folded\ ([0-9]+)\ messages\ \(([0-9]+)\ rejected,\ ([0-9]+)\ dropped\) ]] ||
	    fail "no shutdown summary: $line"
	[ "${BASH_REMATCH[3]}" = "$ovf" ] ||
	    fail "shutdown says ${BASH_REMATCH[3]} dropped, the metric $ovf"
	echo "inbox_max_bytes $1: $rows folded, $ovf dropped, VmHWM ${peak} KiB"
}

run 1M
rows1=$rows ovf1=$ovf peak1=$peak
# ~16 messages fit 1 MiB (a quarter decoded, counted twice), and one
# batch per 2 s takes them: far fewer than N folded, the rest dropped by
# bytes (the count bound, 100,000, is never near)
[ "$rows1" -ge 1 ] && [ "$rows1" -le $((N / 5)) ] ||
    fail "inbox_max_bytes 1M kept $rows1 of $N messages of $size bytes"
grep -qE 'inbox: full \(inbox_max 100000, inbox_max_bytes 1048576\), dropped' \
    "$T/latticed.log" || fail "the drops were never logged"
drows=$(q "select count(*) from rejected_events where reason = 'inbox overflow'")
[ "$drows" -ge 1 ] && [ "$drows" -le "$ovf1" ] ||
    fail "$drows overflow rows for $ovf1 drops"
ok "inbox_max_bytes 1M: $rows1 of $N ${size}-byte messages kept, $ovf1 dropped (counted, logged, $drows recorded)"

run 0
rows0=$rows ovf0=$ovf peak0=$peak
[ "$rows0" = "$N" ] && [ "$ovf0" = 0 ] ||
    fail "inbox_max_bytes 0: $rows0 folded, $ovf0 dropped of $N"
if [ "$asan" = 0 ]; then
	[ $((peak1 + 16384)) -lt "$peak0" ] ||
	    fail "VmHWM ${peak1} KiB bounded by bytes, ${peak0} KiB by count alone"
fi
ok "inbox_max_bytes 0 (the count alone) keeps all $N: VmHWM $((peak0 / 1024)) MiB against $((peak1 / 1024)) MiB with 1M"
