#!/usr/bin/env bash
# Read pacing (core NATS; batch_linger; lib/readpace.h): at a trickle the
# nats-io thread pauses after a read that emptied the socket, so it wakes
# far less often than once per message, and every message is still
# folded; a burst is read as it comes; batch_linger 0 turns the pauses
# off.  The shutdown line counts the pauses.  (JetStream never pauses:
# test_jetstream.sh.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
N=400

# the nats-io thread of latticed, and its voluntary context switches
io_tid() {
	local t
	for t in /proc/"$LATTICED_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = nats-io ] &&
		    { echo "${t##*/}"; return 0; }
	done
	return 1
}
io_wakes() {
	awk '/^voluntary_ctxt_switches/ { print $2 }' \
	    "/proc/$LATTICED_PID/task/$IO/status"
}

# run NAME LINGER COUNT [ltpub args]: a latticed of its own with
# batch_linger LINGER, COUNT events published (ltpub args: pacing),
# every one folded; sets WAKES (the nats-io thread's wake-ups while
# they came) and PAUSES (from the shutdown line, empty when none).
run() {
	local name=$1 linger=$2 count=$3 w0
	shift 3
	DB="$T/$name.db"
	cat >"$T/$name.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
batch_linger $linger
CONF
	mv "$T/latticed.log" "$T/latticed.log.before-$name" 2>/dev/null || true
	start_latticed -f "$T/$name.conf"
	wait_log 'ready: subscriptions live' 15
	IO=$(io_tid) || fail "$name: no nats-io thread"
	ev component_scaled "$name" RPHOST "$count" >"$T/$name.jsonl"
	w0=$(io_wakes)
	pub "$@" <"$T/$name.jsonl"
	wait_q 30 "select count(*) from events where lattice='$name'" "$count"
	WAKES=$(( $(io_wakes) - w0 ))
	stop_latticed TERM || fail "$name: exit status"
	PAUSES=$(sed -n 's/.*nats: reads paused \([0-9]*\) times.*/\1/p' \
	    "$T/latticed.log")
}

# a trickle: 500 messages a second (200 to 800/s) on a fixed schedule,
# pauses of 10 ms: about 5 messages a pause
run trickle 100ms "$N" --rate 500
[ -n "$PAUSES" ] && [ "$PAUSES" -gt 0 ] ||
    fail "trickle: no read pauses logged: $(grep 'reads paused' "$T/latticed.log")"
grep -q 'reads paused [0-9]* times at a trickle, 10 ms each' "$T/latticed.log" ||
    fail "trickle: the pause is not batch_linger / 10"
[ $((PAUSES * 2)) -le "$N" ] ||
    fail "trickle: $PAUSES read pauses for $N messages: fewer than 2 a pause"
[ $((WAKES * 4)) -lt $((N * 3)) ] ||
    fail "trickle: nats-io woke $WAKES times for $N messages ($PAUSES pauses)"
ok "trickle: $N messages folded; nats-io woke $WAKES times, $PAUSES read pauses"

# the same trickle with batch_linger 0: no pauses (and one wake-up per
# message or so, shown, not asserted: a loaded machine coalesces them)
run nopace 0 "$N" --rate 500
[ -z "$PAUSES" ] || fail "batch_linger 0: $PAUSES read pauses"
ok "batch_linger 0: $N messages folded, no read pauses; nats-io woke $WAKES times"

# a burst of 5,000 at once: read as it comes (a pause only while the
# policy still counts it a trickle: the first 80 messages at most)
run burst 100ms 5000
[ -n "$PAUSES" ] || fail "burst: no shutdown line on pauses"
[ "$PAUSES" -le 80 ] || fail "burst: $PAUSES read pauses for 5000 messages"
ok "burst: 5000 messages folded, $PAUSES read pauses, nats-io woke $WAKES times"
