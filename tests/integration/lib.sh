# lib.sh - shared helpers for the latticed integration tests.
#
# Source it from a test_*.sh (set -euo pipefail first).  Every process
# started through these helpers is killed on exit; the scratch directory is
# removed unless KEEP=1.
#
# Environment (set by ctest): LATTICED_BIN, LATTICED_BUILD_DIR,
# LATTICED_SOURCE_DIR.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${LATTICED_SOURCE_DIR:=$(cd "$HERE/../.." && pwd)}"
: "${LATTICED_BUILD_DIR:=$LATTICED_SOURCE_DIR/build}"
: "${LATTICED_BIN:=$LATTICED_BUILD_DIR/daemon/latticed}"
: "${LTPUB_BIN:=$LATTICED_BUILD_DIR/tools/ltpub/ltpub}"
EVGEN="$HERE/evgen.py"
PY="$(command -v python3)"

T="$(mktemp -d /tmp/lt-integ.XXXXXX)"
PIDS=()
NATS_PID=
LATTICED_PID=
NOTIFY_PID=

# Kill everything we started and remove the scratch directory.
# ours PID...: the PIDs that are still children of this shell.  A PID of
# ours that exited long ago may now be another test's process (pid_max is
# 32768 here and ctest -j8 goes through PIDs fast): never signal those.
ours() {
	local p
	for p in "$@"; do
		[ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$$" ] &&
		    echo "$p"
	done
	return 0
}

lt_cleanup() {
	local rc=$? p mine=()
	mapfile -t mine < <(ours "${PIDS[@]}")
	for p in "${mine[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	# a process that ignores TERM is killed, never waited for forever
	for p in "${mine[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
		echo "scratch kept in $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap lt_cleanup EXIT

# Fail the test with a message and the tail of the logs.
fail() {
	echo "FAIL: $*" >&2
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

ok() { echo "ok: $*"; }

# Require the tools the tests need; fail clearly rather than skip.
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fail "missing tool: $c"
	done
}
need nats-server sqlite3 python3 openssl
[ -x "$LATTICED_BIN" ] || fail "latticed not built: $LATTICED_BIN"
[ -x "$LTPUB_BIN" ] || fail "ltpub not built: $LTPUB_BIN"

free_port() { "$PY" "$EVGEN" port; }

# wait_for SECONDS CMD...: poll CMD every 100ms until it succeeds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# nats_up PID PORT: that nats-server (not another test's) is serving.
nats_up() {
	kill -0 "$1" 2>/dev/null &&
	    grep -q "^\[$1\] .*Server is ready" "$T/nats.log" && port_open "$2"
}

# start_nats PORT [args...]: nats-server on 127.0.0.1:PORT.  Every test
# passes "$PORT"; when another process took that port first, a fresh one
# is picked and PORT follows it.
start_nats() {
	local port=$1 try
	shift
	for try in 1 2 3; do
		nats-server -a 127.0.0.1 -p "$port" "$@" >>"$T/nats.log" 2>&1 &
		NATS_PID=$!
		PIDS+=("$NATS_PID")
		if wait_for 10 nats_up "$NATS_PID" "$port"; then
			PORT=$port
			return 0
		fi
		kill -TERM "$NATS_PID" 2>/dev/null || true
		wait "$NATS_PID" 2>/dev/null || true
		port=$(free_port)
	done
	fail "nats-server did not start"
}

# Stop the nats-server started last.
stop_nats() {
	kill -TERM "$NATS_PID" 2>/dev/null || true
	wait "$NATS_PID" 2>/dev/null || true
}

# start_notify: listen on $T/notify.sock, datagrams to $T/notify.out.
start_notify() {
	: >"$T/notify.out"
	"$PY" "$EVGEN" notify-listen "$T/notify.sock" "$T/notify.out" &
	NOTIFY_PID=$!
	PIDS+=("$NOTIFY_PID")
	wait_for 5 test -S "$T/notify.sock" || fail "notify listener"
}

# start_latticed ARGS...: run latticed in the foreground (-d) with
# NOTIFY_SOCKET set when a listener runs; log in $T/latticed.log.
start_latticed() {
	local env=()
	if [ -n "$NOTIFY_PID" ]; then
		env+=("NOTIFY_SOCKET=$T/notify.sock")
	fi
	env "${env[@]}" ${LATTICED_ENV:-} "$LATTICED_BIN" -d "$@" \
	    >>"$T/latticed.log" 2>&1 &
	LATTICED_PID=$!
	PIDS+=("$LATTICED_PID")
}

# stop_latticed [SIG]: signal latticed and return its exit status.  A
# latticed that has not exited 30 s later is a hung shutdown: its stacks go
# to the log, it is killed and the test fails.
stop_latticed() {
	local rc=0
	kill -"${1:-TERM}" "$LATTICED_PID"
	if ! wait_for 30 bash -c "! kill -0 $LATTICED_PID 2>/dev/null"; then
		command -v gdb >/dev/null 2>&1 &&
		    gdb -p "$LATTICED_PID" -batch -ex 'thread apply all bt' \
		    >>"$T/latticed.log" 2>&1
		kill -9 "$LATTICED_PID" 2>/dev/null || true
		fail "latticed did not exit within 30 s of SIG${1:-TERM}"
	fi
	wait "$LATTICED_PID" || rc=$?
	return "$rc"
}

# Wait for READY=1 on the notify socket.
wait_ready() {
	wait_for "${1:-15}" grep -qx 'READY=1' "$T/notify.out" ||
	    fail "no READY=1"
}

# start_js_nats: a nats-server with JetStream (store in $T/store) on a free
# port; sets PORT and URL.
start_js_nats() {
	start_nats "$(free_port)" -js -sd "$T/store"
	URL="nats://127.0.0.1:$PORT"
}

# need_ctlr: CTLR, the ctlresponder test tool, or fail.
need_ctlr() {
	CTLR="$LATTICED_BUILD_DIR/tools/ctlresponder/ctlresponder"
	[ -x "$CTLR" ] || fail "ctlresponder not built: $CTLR"
}

# Wait for a line matching a regex in latticed's log.
wait_log() {
	wait_for "${2:-10}" grep -qE "$1" "$T/latticed.log" ||
	    fail "log never matched: $1"
}

# q SQL: one query against the test database.
q() { sqlite3 -batch -noheader "$DB" "$@"; }

# wait_q SECONDS SQL EXPECTED: poll until the query prints EXPECTED.
q_is() { [ "$(q "$1" 2>/dev/null)" = "$2" ]; }
wait_q() {
	wait_for "$1" q_is "$2" "$3" ||
	    fail "query '$2' gave '$(q "$2" 2>&1)', want '$3'"
}

# log_ms TEXT: when (ms since the epoch) latticed logged its first line
# holding TEXT.
log_ms() {
	"$PY" -c '
import sys, datetime
l = [x for x in open(sys.argv[1]) if sys.argv[2] in x][0]
t = datetime.datetime.fromisoformat(l.split("Z ", 1)[0])
print(int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))
' "$T/latticed.log" "$1"
}

# applied_ms SUBJECT: when latticed logged its first "event applied" line
# for SUBJECT (-v: the line follows its batch's commit), so timings come
# from the daemon, not from a loaded test shell.
applied_ms() { log_ms "subject=$1"; }

# ev TYPE LATTICE HOST [N] [FORM]: JSONL for ltpub.
ev() { "$PY" "$EVGEN" ev "$@"; }

# pub [ltpub args...]: publish stdin to the test server.  stdin is read
# to its end first: `{ ev a; ev b; } | pub` sends both together even when
# a loaded machine takes seconds to start the second generator.
pub() {
	local f
	f=$(mktemp -p "$T" pub.XXXXXX)
	cat >"$f"
	"$LTPUB_BIN" --nats "nats://127.0.0.1:$PORT" "$@" "$f" \
	    2>>"$T/ltpub.log" || fail "ltpub failed"
	rm -f "$f"
}

# beat LATTICE HOST MS: HOST heartbeats every MS ms in the background (its
# PID in BEAT_PID and PIDS) until killed.  The beats (unique ids, evgen's
# shape) are made at once and paced by one ltpub: a Python start per beat
# on a loaded machine can take longer than a test's stale_threshold.
# beat_make LATTICE HOST makes the beats ahead of time (beat then starts
# at once).
beat_make() {
	"$PY" "$EVGEN" ev host_heartbeat "$1" "$2" 1000 >"$T/beat-$1-$2.jsonl"
}
beat() {
	local f="$T/beat-$1-$2.jsonl"
	[ -s "$f" ] || beat_make "$1" "$2"
	"$LTPUB_BIN" --nats "nats://127.0.0.1:$PORT" --interval "$3" "$f" \
	    >/dev/null 2>>"$T/ltpub.log" &
	BEAT_PID=$!
	PIDS+=("$BEAT_PID")
}

# start_alertmanager: a real prometheus-alertmanager on a free loopback
# port, or on APORT when already chosen (tests/data/alert/alertmanager.yml),
# its URL in AURL; fails clearly when the package is missing
# (scripts/deps.sh test installs it).
start_alertmanager() {
	local am=/usr/bin/prometheus-alertmanager
	[ -x "$am" ] || fail "no $am (scripts/deps.sh test installs it)"
	APORT=${APORT:-$(free_port)}
	AURL=http://127.0.0.1:$APORT
	"$am" --config.file="$LATTICED_SOURCE_DIR/tests/data/alert/alertmanager.yml" \
	    --storage.path="$T/amdata" --cluster.listen-address= \
	    --web.listen-address="127.0.0.1:$APORT" >>"$T/am.log" 2>&1 &
	PIDS+=("$!")
	wait_for 15 curl -sf "$AURL/-/ready" || fail "alertmanager did not start"
}
