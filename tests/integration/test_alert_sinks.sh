#!/usr/bin/env bash
# The alert sinks end to end through alert-sinktest: the log line, the
# command sink (stdin, env, argv, exit codes, timeout kills), the nats sink
# (a CloudEvent received on a real nats-server) and the alertmanager sink
# (a real Alertmanager shows the alert active, then resolved).
# "check && check || fail" is meant: fail when either check fails.
# shellcheck disable=SC2015
set -euo pipefail

SRC=${LATTICED_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${LATTICED_BUILD_DIR:-$SRC/build}
DATA=$SRC/tests/data/alert
ST=${ALERT_SINKTEST:-$BUILD/daemon/alert/alert-sinktest}

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		# still our child: an old PID may be another test's process now
		[ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$$" ] ||
		    continue
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# Pick a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until URL answers 2xx (up to ~10 s).
wait_http() {
	local _
	for _ in $(seq 100); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}

# Until the daemon's CMakeLists adds daemon/alert, build it on the side.
if [ ! -x "$ST" ]; then
	echo "# no alert-sinktest at $ST: building daemon/alert in $TMP"
	mkdir -p "$TMP/wrap"
	cat > "$TMP/wrap/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(alertwrap VERSION 0.0.0 LANGUAGES C)
set(CMAKE_C_STANDARD 11)
add_compile_definitions(_GNU_SOURCE LATTICED_VERSION="test")
add_compile_options(-Wall -Wextra -Werror)
find_package(PkgConfig REQUIRED)
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(EVENT REQUIRED IMPORTED_TARGET libevent_core
    libevent_pthreads libevent_extra)
add_subdirectory("$SRC/daemon/alert" alert)
EOF
	cmake -S "$TMP/wrap" -B "$TMP/wrap/build" >/dev/null </dev/null
	cmake --build "$TMP/wrap/build" -j2 >/dev/null </dev/null
	ST=$TMP/wrap/build/alert/alert-sinktest
fi
[ -x "$ST" ] || fail "no alert-sinktest"

# ---- log sink -------------------------------------------------------------
out=$("$ST" --sink log 2>/dev/null) || fail "log sink: $out"
grep -qx '<2>alert id=42 lattice=default kind=host_stale severity=critical entity=NBTESTHOSTSTALE0001 host_id=NBTESTHOSTSTALE0001 summary="host NBTESTHOSTSTALE0001 stale: no heartbeat for 95s" state=firing' <<<"$out" ||
    fail "log sink firing line: $out"
out=$("$ST" --sink log --resolve --lattice 'a b' --host '' 2>/dev/null) ||
    fail "log sink resolved: $out"
grep -q '^<5>alert id=42 lattice="a b" kind=host_stale .*host_id=- .*state=resolved$' <<<"$out" ||
    fail "log sink resolved line: $out"
pass "log sink: priority by severity, notice on resolve, quoting"

# ---- command sink ---------------------------------------------------------
export CAPTURE_DIR=$TMP/cap
mkdir -p "$CAPTURE_DIR"
# shellcheck disable=SC2016
out=$("$ST" --sink command --id 77 --cmd "$DATA/capture.sh" 'two words' \
    '$HOME;x' 2>/dev/null) || fail "command sink: $out"
[ "$(tail -n1 <<<"$out")" = ok ] || fail "command sink said: $out"
python3 - "$CAPTURE_DIR" <<'EOF' || fail "command sink capture"
import json, re, sys
d = sys.argv[1]
a = json.load(open(d + "/stdin.json"))
assert a["alert_id"] == 77, a
assert a["kind"] == "host_stale" and a["state"] == "firing", a
assert a["severity"] == "critical" and a["lattice"] == "default", a
assert a["host_id"] == "NBTESTHOSTSTALE0001", a
assert a["resolved_ms"] is None and a["resolved_at"] is None, a
assert a["details"]["threshold_ms"] == 90000, a
assert a["details"]["note"] == 'quote " and newline \n', a
env = dict(l.rstrip("\n").split("=", 1) for l in open(d + "/env"))
want = {"ID": "77", "LATTICE": "default", "KIND": "host_stale",
        "SEVERITY": "critical", "ENTITY": "NBTESTHOSTSTALE0001",
        "HOST_ID": "NBTESTHOSTSTALE0001", "STATE": "firing",
        "RESOLVED_AT": ""}
for k, v in want.items():
    assert env["LATTICED_ALERT_" + k] == v, (k, env)
assert env["LATTICED_ALERT_SUMMARY"].startswith("host NBTESTHOSTSTALE0001 stale"), env
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                    env["LATTICED_ALERT_FIRED_AT"]), env
assert env["LATTICED_ALERT_FIRED_AT"] == a["fired_at"], (env, a)
# argv reaches the program as is: no shell in between.
assert open(d + "/args").read() == "two words\n$HOME;x\n"
EOF
pass "command sink: JSON on stdin, LATTICED_ALERT_* env, argv without a shell"

# A stale LATTICED_ALERT_* in our environment must not leak through.
out=$(LATTICED_ALERT_STATE=bogus "$ST" --sink command --resolve \
    --cmd "$DATA/capture.sh" 2>/dev/null) || fail "command resolved: $out"
grep -qx 'LATTICED_ALERT_STATE=resolved' "$CAPTURE_DIR/env" ||
    fail "resolved env: $(cat "$CAPTURE_DIR/env")"
grep -Eqx 'LATTICED_ALERT_RESOLVED_AT=[0-9T:.-]+Z' "$CAPTURE_DIR/env" ||
    fail "resolved_at env: $(cat "$CAPTURE_DIR/env")"
[ "$(grep -c '^LATTICED_ALERT_STATE=' "$CAPTURE_DIR/env")" = 1 ] ||
    fail "duplicate LATTICED_ALERT_STATE"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["state"]=="resolved" and a["resolved_ms"] >= a["fired_ms"], a' \
    "$CAPTURE_DIR/stdin.json" || fail "resolved stdin"
pass "command sink: resolved form"

rc=0
out=$("$ST" --sink command --cmd "$DATA/fail.sh" 2>/dev/null) || rc=$?
[ "$rc" = 1 ] || fail "failing command: exit $rc, want 1"
grep -qx 'error: command exited 3: webhook said no' <<<"$out" ||
    fail "failing command said: $out"
pass "command sink: exit 3 is an error carrying stderr"

rc=0
out=$("$ST" --sink command --cmd /nonexistent/alert-hook 2>/dev/null) || rc=$?
[ "$rc" = 1 ] && grep -q '^error: command /nonexistent/alert-hook: ' <<<"$out" ||
    fail "missing program: rc=$rc $out"
rc=0
out=$("$ST" --sink command --cmd relative/hook 2>/dev/null) || rc=$?
[ "$rc" = 1 ] && grep -q 'absolute' <<<"$out" || fail "relative path: $out"
out=$("$ST" --sink command --cmd "$DATA/no-stdin.sh" 2>/dev/null) ||
    fail "command that ignores stdin: $out"
pass "command sink: missing or relative program, unread stdin"

rm -f "$CAPTURE_DIR/child.pid"
rc=0
start=$(date +%s%N)
out=$("$ST" --sink command --timeout 1s --cmd "$DATA/hang.sh" 2>/dev/null) ||
    rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 1 ] || fail "hanging command: exit $rc"
grep -qx 'error: command timed out after 1000 ms (killed by SIGTERM)' <<<"$out" ||
    fail "hanging command said: $out"
[ "$ms" -ge 900 ] && [ "$ms" -lt 2500 ] || fail "hanging command took $ms ms"
child=$(cat "$CAPTURE_DIR/child.pid")
sleep 0.2
# Dead means gone or a zombie waiting for init to reap it.
state=$(awk '{ print $3 }' "/proc/$child/stat" 2>/dev/null || true)
if [ -n "$state" ] && [ "$state" != Z ]; then
	kill "$child"
	fail "the hanging command's child $child survived (state $state)"
fi
pass "command sink: timeout SIGTERMs the whole process group ($ms ms)"

rc=0
start=$(date +%s%N)
out=$("$ST" --sink command --timeout 500ms --cmd "$DATA/ignore-term.sh" \
    2>/dev/null) || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 1 ] && grep -qx 'error: command timed out after 500 ms (killed by SIGKILL)' <<<"$out" ||
    fail "TERM-ignoring command: rc=$rc $out"
[ -e "$CAPTURE_DIR/ignore-term.started" ] || fail "ignore-term.sh never ran"
[ "$ms" -ge 2400 ] && [ "$ms" -lt 5000 ] || fail "SIGKILL after $ms ms"
pass "command sink: SIGKILL after the grace period ($ms ms)"

# Concurrency: 8 at once run, the 9th and 10th fail fast (and are retried
# by the outbox); each done is called exactly once (alert-sinktest checks).
out=$("$ST" --sink command --count 8 --cmd "$DATA/no-stdin.sh" 2>/dev/null) ||
    fail "8 concurrent commands: $out"
rc=0
out=$("$ST" --sink command --count 10 --cmd "$DATA/no-stdin.sh" 2>/dev/null) ||
    rc=$?
[ "$rc" = 1 ] && [ "$(grep -c '^error: command: 8 already running$' <<<"$out")" = 2 ] ||
    fail "10 concurrent commands: rc=$rc $out"
pass "command sink: at most 8 running at once"

# sink_free() with a command in flight: done once with "sink closed", the
# child's process group killed, no wait for the timeout.
rm -f "$CAPTURE_DIR/child.pid"
rc=0
start=$(date +%s%N)
out=$("$ST" --sink command --free-after 300ms --cmd "$DATA/hang.sh" \
    2>/dev/null) || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 1 ] && grep -qx 'error: sink closed' <<<"$out" ||
    fail "free in flight: rc=$rc $out"
[ "$ms" -lt 2000 ] || fail "free in flight took $ms ms"
child=$(cat "$CAPTURE_DIR/child.pid")
state=$(awk '{ print $3 }' "/proc/$child/stat" 2>/dev/null || true)
[ -z "$state" ] || [ "$state" = Z ] || fail "child $child survived sink_free"
pass "command sink: sink_free kills and reaps what is in flight"

# ---- contrib/alert-command-example.sh -------------------------------------
EX=$SRC/contrib/alert-command-example.sh
"$ST" --sink command --id 5 --cmd "$EX" file "$TMP/alerts.jsonl" \
    >/dev/null 2>&1 || fail "example script, file mode"
"$ST" --sink command --id 5 --resolve --cmd "$EX" file "$TMP/alerts.jsonl" \
    >/dev/null 2>&1 || fail "example script, file mode (resolved)"
python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["alert_id"], r["state"]) for r in rows] == [(5, "firing"), (5, "resolved")], rows' \
    "$TMP/alerts.jsonl" || fail "example script wrote: $(cat "$TMP/alerts.jsonl")"
# Webhook mode against a one-shot HTTP server that records the body.
HPORT=$(free_port)
python3 - "$HPORT" "$TMP/hook" <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "w") as f:
            f.write(self.path + " " + self.headers["X-Latticed-Alert"] +
                    " " + body.decode())
        self.send_response(500 if self.path == "/fail" else 204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
PIDS+=($!)
for _ in $(seq 50); do
	(echo > "/dev/tcp/127.0.0.1/$HPORT") 2>/dev/null && break
	sleep 0.1
done
out=$("$ST" --sink command --id 6 --cmd "$EX" webhook \
    "http://127.0.0.1:$HPORT/hook" 2>/dev/null) || fail "webhook: $out"
grep -q '^/hook 6-firing {"alert_id":6,' "$TMP/hook" ||
    fail "webhook got: $(cat "$TMP/hook")"
rc=0
out=$("$ST" --sink command --cmd "$EX" webhook \
    "http://127.0.0.1:$HPORT/fail" 2>/dev/null) || rc=$?
[ "$rc" = 1 ] && grep -q '^error: command exited 22: .*500' <<<"$out" ||
    fail "webhook 500 not an error: rc=$rc $out"
pass "contrib/alert-command-example.sh: file and webhook modes"

# ---- nats sink ------------------------------------------------------------
command -v nats-server >/dev/null || fail "nats-server needed"
NPORT=$(free_port)
nats-server -a 127.0.0.1 -p "$NPORT" > "$TMP/nats.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	(echo > "/dev/tcp/127.0.0.1/$NPORT") 2>/dev/null && break
	sleep 0.1
done
NURL=nats://127.0.0.1:$NPORT

out=$("$ST" --sink nats --nats "$NURL" --lattice prod.eu \
    --sub 'latticed.alerts.>' 2>/dev/null) || fail "nats sink: $out"
line=$(grep '^received ' <<<"$out") || fail "nats: nothing received: $out"
python3 - "$line" <<'EOF' || fail "nats CloudEvent: $line"
import json, sys
_, subj, body = sys.argv[1].split(" ", 2)
# The lattice stays one subject token.
assert subj == "latticed.alerts.prod_eu", subj
ce = json.loads(body)
assert ce["specversion"] == "1.0" and ce["source"] == "latticed", ce
assert ce["type"] == "com.latticed.alert.firing", ce
assert ce["id"] == "42-firing", ce
assert ce["data"]["lattice"] == "prod.eu" and ce["data"]["kind"] == "host_stale", ce
assert ce["data"]["severity"] == "critical", ce
EOF
out=$("$ST" --sink nats --nats "$NURL" --subject ops.alerts --resolve \
    --id 9 --sub ops.alerts 2>/dev/null) || fail "nats resolved: $out"
grep -q '^received ops.alerts .*"type":"com.latticed.alert.resolved".*"id":"9-resolved"' <<<"$out" ||
    fail "nats resolved event: $out"
# --sub really checks: listening elsewhere must fail.
rc=0
out=$("$ST" --sink nats --nats "$NURL" --subject ops.alerts --sub other \
    2>/dev/null) || rc=$?
[ "$rc" = 1 ] || fail "nats: received on the wrong subject? $out"
rc=0
out=$("$ST" --sink nats --nats "$NURL" --subject 'ops.*' 2>/dev/null) ||
    rc=$?
[ "$rc" = 1 ] && grep -q 'not a publishable subject' <<<"$out" ||
    fail "nats wildcard subject accepted: $out"
pass "nats sink: CloudEvent firing/resolved on default and custom subjects"

# ---- alertmanager sink ----------------------------------------------------
AM=/usr/bin/prometheus-alertmanager
if [ ! -x "$AM" ]; then
	echo "# installing prometheus-alertmanager"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends prometheus-alertmanager \
	    </dev/null >/dev/null 2>&1 || {
		apt-get update -q </dev/null >/dev/null
		apt-get install -y -q --no-install-recommends \
		    prometheus-alertmanager </dev/null >/dev/null
	}
fi
[ -x "$AM" ] || fail "no $AM"
APORT=$(free_port)
"$AM" --config.file="$DATA/alertmanager.yml" --storage.path="$TMP/am" \
    --cluster.listen-address= --web.listen-address="127.0.0.1:$APORT" \
    > "$TMP/am.log" 2>&1 &
PIDS+=($!)
AURL=http://127.0.0.1:$APORT
wait_http "$AURL/-/ready" || fail "alertmanager did not start: $(cat "$TMP/am.log")"

# check_am STATE: GET /api/v2/alerts and check our alert is there (active)
# or gone (resolved: Alertmanager lists only alerts that have not ended).
check_am() {
	curl -sf "$AURL/api/v2/alerts" > "$TMP/am.json"
	python3 - "$1" "$TMP/am.json" <<'EOF'
import json, sys
want, path = sys.argv[1], sys.argv[2]
ours = [a for a in json.load(open(path))
        if a["labels"].get("alertname") == "host_stale"
        and a["labels"].get("lattice") == "default"]
if want == "resolved":
    assert ours == [], ours
    sys.exit(0)
assert len(ours) == 1, ours
a = ours[0]
assert a["labels"] == {"alertname": "host_stale", "lattice": "default",
                       "host_id": "NBTESTHOSTSTALE0001",
                       "entity": "NBTESTHOSTSTALE0001",
                       "severity": "critical"}, a["labels"]
assert a["status"]["state"] == "active", a
assert a["annotations"]["summary"].startswith("host NBTESTHOSTSTALE0001"), a
assert json.loads(a["annotations"]["description"])["threshold_ms"] == 90000, a
assert a["generatorURL"] == "http://latticed.invalid/alerts", a
EOF
}

out=$("$ST" --sink alertmanager --url "$AURL" 2>"$TMP/st.err") ||
    fail "alertmanager firing: $out"
grep -qx 'sink=alertmanager repost_ms=60000' "$TMP/st.err" ||
    fail "alertmanager repost interval: $(cat "$TMP/st.err")"
check_am active || fail "alertmanager does not show the firing alert"
pass "alertmanager sink: firing alert listed active with labels"

# A name, not an address, and a trailing slash: resolved through evdns.
out=$("$ST" --sink alertmanager --url "http://localhost:$APORT/" --resolve \
    2>/dev/null) || fail "alertmanager resolved: $out"
check_am resolved || fail "alertmanager still shows the resolved alert"
pass "alertmanager sink: resolved alert ended"

# Three alerts in flight at once on three connections.
out=$("$ST" --sink alertmanager --url "$AURL" --lattice burst --id 100 \
    --count 3 2>/dev/null) || fail "alertmanager burst: $out"
curl -sf "$AURL/api/v2/alerts" > "$TMP/am.json"
python3 -c 'import json, sys
got = sorted(a["labels"]["entity"] for a in json.load(open(sys.argv[1]))
             if a["labels"].get("lattice") == "burst")
assert got == ["NBTESTHOSTSTALE0001-%d" % i for i in range(3)], got' \
    "$TMP/am.json" || fail "alertmanager burst: $(cat "$TMP/am.json")"
pass "alertmanager sink: concurrent deliveries"

rc=0
out=$("$ST" --sink alertmanager --url "$AURL/nope" 2>/dev/null) || rc=$?
[ "$rc" = 1 ] && grep -q '^error: alertmanager 127.0.0.1:[0-9]*: http 404' <<<"$out" ||
    fail "404 not an error: rc=$rc $out"
DEAD=$(free_port)
rc=0
out=$("$ST" --sink alertmanager --url "http://127.0.0.1:$DEAD" 2>/dev/null) ||
    rc=$?
[ "$rc" = 1 ] && grep -q 'cannot connect' <<<"$out" ||
    fail "refused connection: rc=$rc $out"
rc=0
out=$("$ST" --sink alertmanager --url "https://127.0.0.1:$APORT" \
    2>/dev/null) || rc=$?
[ "$rc" = 1 ] && grep -q 'only http:// is supported' <<<"$out" ||
    fail "https accepted: $out"
# A server that accepts and never answers: the request times out.
SPORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
c = s.accept(); time.sleep(60)' "$SPORT" &
PIDS+=($!)
for _ in $(seq 50); do
	(echo > "/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null && break
	sleep 0.1
done
rc=0
start=$(date +%s%N)
out=$("$ST" --sink alertmanager --timeout 1s --url "http://127.0.0.1:$SPORT" \
    2>/dev/null) || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 1 ] && grep -q 'timed out' <<<"$out" ||
    fail "silent server: rc=$rc $out"
[ "$ms" -lt 4000 ] || fail "silent server took $ms ms"
# sink_free() with requests in flight: each ends once, at once.
rc=0
out=$("$ST" --sink alertmanager --count 3 --free-after 300ms \
    --url "http://127.0.0.1:$SPORT" 2>/dev/null) || rc=$?
[ "$rc" = 1 ] && [ "$(grep -c '^error: sink closed$' <<<"$out")" = 3 ] ||
    fail "alertmanager free in flight: rc=$rc $out"
pass "alertmanager sink: 404, refused, https, timeout are errors"

echo "all alert sink checks passed"
