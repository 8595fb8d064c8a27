#!/usr/bin/env bash
# The NATS connection (daemon/natsconn.c, its own I/O thread):
# (a) refused credentials: latticed exits 1 and logs the server's reason
#     ("Authorization Violation"), not just "connection closed", and never
#     the password;
# (b) the I/O thread runs beside the loop thread, and SIGTERM while
#     connected stops it promptly with status 0 (close flushes through it);
# (c) the server going away is logged with a reason, and latticed
#     reconnects and folds again;
# (d) the nats-io thread drains the subscriptions itself: no nats.c
#     delivery thread per subscription (one woken for every message), so
#     eight lattices (24 subscriptions) run on as many threads as one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PW='pw-NATSCONN-good-4b1e'
WRONGPW='pw-NATSCONN-bad-93c7'
PORT=$(free_port)
start_nats "$PORT" --user lt --pass "$PW"

# --- (a) wrong password
DB="$T/wrong.db"
printf 'db %s\nnats_url nats://127.0.0.1:%s\nnats_user lt\nnats_password %s\nreconnect_wait 200ms\n' \
    "$DB" "$PORT" "$WRONGPW" >"$T/wrong.conf"
start_latticed -f "$T/wrong.conf"
rc=0
for ((i = 0; i < 100; i++)); do
	kill -0 "$LATTICED_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$LATTICED_PID" 2>/dev/null && fail "wrong password: still running after 10s"
wait "$LATTICED_PID" || rc=$?
[ "$rc" = 1 ] || fail "wrong password: exit status $rc, want 1"
grep -q 'Authorization Violation' "$T/latticed.log" ||
    fail "wrong password: the server's reason was not logged"
if grep -qF -e "$WRONGPW" -e "$PW" "$T/latticed.log"; then
	fail "a password appears in the log"
fi
ok "wrong password: exit 1, 'Authorization Violation' logged, no password"

# --- (b) right password: an I/O thread; prompt, clean SIGTERM
: >"$T/latticed.log"
DB="$T/good.db"
printf 'db %s\nnats_url nats://127.0.0.1:%s\nnats_user lt\nnats_password %s\nreconnect_wait 200ms\nbatch_delay 10ms\n' \
    "$DB" "$PORT" "$PW" >"$T/good.conf"
start_notify
start_latticed -f "$T/good.conf"
wait_ready 20
ev host_heartbeat io NIOHOST 1 |
    "$LTPUB_BIN" --nats "nats://127.0.0.1:$PORT" --user lt --password "$PW" - \
    2>>"$T/ltpub.log" || fail "ltpub"
wait_q 10 "select count(*) from events where lattice = 'io'" 1
# the loop thread and a thread blocked in the I/O loop's epoll_wait
# (nats.c's own threads park on futexes)
# the loop thread and the I/O thread ("nats-io") each wait in epoll
epolls() {
	local t n=0 io=0
	for t in /proc/"$LATTICED_PID"/task/*; do
		case "$(cat "$t/wchan" 2>/dev/null)" in
		*epoll*|ep_poll*)
			n=$((n + 1))
			[ "$(cat "$t/comm")" = nats-io ] && io=1
			;;
		esac
	done
	echo "$n $io"
}
two_loops() { [ "$(epolls)" = "2 1" ]; }
wait_for 5 two_loops ||
    fail "want the loop and nats-io in epoll_wait, saw $(epolls)"
ok "two event loops: the main loop and the NATS I/O thread"

# --- (c) the server goes away and comes back
stop_nats
wait_log 'nats: disconnected \(.*\), reconnecting' 15
start_nats "$PORT" --user lt --pass "$PW"
nconn() { test "$(grep -c 'nats: connected' "$T/latticed.log")" -ge "$1"; }
wait_for 20 nconn 2 || fail "no reconnect"
up2() {
	ev host_heartbeat io NIOHOST2 1 |
	    "$LTPUB_BIN" --nats "nats://127.0.0.1:$PORT" --user lt \
	    --password "$PW" - 2>>"$T/ltpub.log"
	q_is "select count(*) >= 2 from events where lattice = 'io'" 1
}
wait_for 10 up2 || fail "nothing folded after the reconnect"
ok "server restart: disconnect logged with a reason, reconnected, folding"

t0=$(date +%s%N)
stop_latticed TERM || fail "SIGTERM: exit status"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3000 ] || fail "SIGTERM took ${ms}ms"
grep -q 'exiting with status 0' "$T/latticed.log" || fail "no clean exit"
ok "SIGTERM while connected: status 0 in ${ms}ms"

# --- (d) as many threads for 24 subscriptions as for 3
# threads LATTICES...: latticed's threads once ready and folding
threads() {
	local name=$1
	: >"$T/latticed.log"
	: >"$T/notify.out"
	DB="$T/$name.db"
	printf 'db %s\nnats_url nats://127.0.0.1:%s\nnats_user lt\nnats_password %s\nlattices %s\nv2_heartbeats no\n' \
	    "$DB" "$PORT" "$PW" "$*" >"$T/$name.conf"
	start_latticed -v -f "$T/$name.conf"
	wait_ready 20
	ev host_heartbeat "$1" THRHOST 1 |
	    "$LTPUB_BIN" --nats "nats://127.0.0.1:$PORT" --user lt \
	    --password "$PW" - 2>>"$T/ltpub.log" || fail "ltpub"
	wait_q 10 "select count(*) from events where lattice = '$1'" 1
	NTHREADS=$(ls /proc/"$LATTICED_PID"/task | wc -l)
	NSUBS=$(grep -c 'nats: subscribed to' "$T/latticed.log" || true)
	stop_latticed TERM || fail "$name: exit status"
}
threads one
one=$NTHREADS
[ "$NSUBS" = 3 ] || fail "one lattice: $NSUBS subscriptions logged, want 3"
threads l1 l2 l3 l4 l5 l6 l7 l8
[ "$NSUBS" = 24 ] || fail "eight lattices: $NSUBS subscriptions logged, want 24"
[ "$NTHREADS" = "$one" ] ||
    fail "threads: $one with 3 subscriptions, $NTHREADS with 24 (a thread per subscription?)"
ok "subscriptions drained by nats-io: $NTHREADS threads for 3 subscriptions and for 24"

# --- (e) a message of no body and status 503 (nats.c's "no responders",
# which its synchronous subscriptions take and free) is kept as an empty
# message, and the one after it in the same read is folded
: >"$T/latticed.log"
DB="$T/s503.db"
printf 'db %s\nnats_url nats://127.0.0.1:%s\nnats_user lt\nnats_password %s\nlattices s503\n' \
    "$DB" "$PORT" "$PW" >"$T/s503.conf"
: >"$T/notify.out"
start_latticed -f "$T/s503.conf"
wait_ready 20
after=$(ev host_heartbeat s503 S503HOST 1)
"$PY" - "$PORT" "$PW" "$after" <<'PY' || fail "raw publish"
import json, socket, sys
port, pw, after = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
line = json.loads(after)
subj, data = line["subject"].encode(), json.dumps(line["event"]).encode()
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
f.readline()                                    # INFO
hdr = b"NATS/1.0 503\r\n\r\n"
s.sendall(b'CONNECT {"verbose":false,"headers":true,"user":"lt","pass":"'
    + pw.encode() + b'"}\r\n'
    + b"HPUB wasmbus.evt.s503.host_heartbeat %d %d\r\n" % (len(hdr), len(hdr))
    + hdr + b"\r\n"
    + b"PUB " + subj + b" %d\r\n" % len(data) + data + b"\r\nPING\r\n")
while True:
	l = f.readline()
	if not l or l.startswith(b"PONG"):
		break
	if l.startswith(b"-ERR"):
		sys.exit("server: " + l.decode().strip())
PY
wait_q 10 "select count(*) from events where lattice = 's503'" 1
wait_q 10 "select count(*) from rejected_events where subject = 'wasmbus.evt.s503.>' and raw_size = 0" 1
grep -q 'nats: a message with status 503 on wasmbus.evt.s503.>' "$T/latticed.log" ||
    fail "503: no log line"
stop_latticed TERM || fail "503: exit status"
ok "status 503 message: kept as an empty message ($(q "select reason from rejected_events where raw_size = 0" | head -1)), the next one folded"
