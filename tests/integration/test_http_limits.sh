#!/usr/bin/env bash
# HTTP endpoint under slow and many clients (issue 14 item 12): a client
# dripping its headers is closed at http_header_timeout; past
# http_max_connections a connection gets 503 and is closed; the endpoint
# keeps serving.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl

PORT=$(free_port)
HPORT=$(free_port)
start_nats "$PORT"
DB="$T/h.db"
cat >"$T/h.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
http_listen 127.0.0.1:$HPORT
http_header_timeout 2s
http_max_connections 8
CONF
start_notify
start_latticed -f "$T/h.conf"
wait_ready
curl -fsS "http://127.0.0.1:$HPORT/readyz" >/dev/null || fail "readyz"

cat >"$T/slow.py" <<'PY'
import os, socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]

def say(msg, rc):
    """One line in one write(2): many clients append to one file."""
    os.write(1, (msg + "\n").encode())
    sys.exit(rc)

def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s

def closed(s, wait):
    """Seconds until the server closes s (reading), or None."""
    s.settimeout(0.2)
    t0 = time.monotonic()
    while time.monotonic() - t0 < wait:
        try:
            d = s.recv(4096)
            if not d:
                return time.monotonic() - t0
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - t0
    return None

if mode == "drip":
    # one header byte every 0.5 s: evhttp's idle timeout never expires
    s = conn()
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    s.setblocking(False)
    while time.monotonic() - t0 < 12:
        try:
            s.send(b"X")
        except OSError:
            say("closed %.1f" % (time.monotonic() - t0), 0)
        s.settimeout(0.5)
        try:
            if s.recv(4096) == b"":
                say("closed %.1f" % (time.monotonic() - t0), 0)
        except socket.timeout:
            pass
        except OSError:
            say("closed %.1f" % (time.monotonic() - t0), 0)
    say("open after 12s", 1)
elif mode == "cap":
    # 9 idle connections, the cap is 8: one (whichever came last) is
    # answered 503 and closed at once; the others wait for the deadline
    import select
    held = [conn() for _ in range(9)]
    refused, t0 = [], time.monotonic()
    while not refused and time.monotonic() - t0 < 3:
        r, _, _ = select.select(held, [], [], 0.2)
        for h in r:
            data = h.recv(4096)
            if b" 503 " in data:
                refused.append(h)
            else:
                print("got %r" % data[:80]); sys.exit(1)
    if len(refused) != 1:
        print("%d refused, want 1" % len(refused)); sys.exit(1)
    t1 = time.monotonic()
    for h in held:
        if h not in refused and closed(h, 8) is None:
            print("idle connection open past the deadline"); sys.exit(1)
    if time.monotonic() - t1 < 0.5:
        print("idle connections closed at once, not at the deadline")
        sys.exit(1)
    print("ok")
PY

out=$("$PY" "$T/slow.py" "$HPORT" drip) || fail "slow headers: $out"
secs=${out#closed }
awk -v s="$secs" 'BEGIN { exit !(s >= 1.5 && s <= 8) }' ||
    fail "slow-header socket closed after ${secs}s, want about 2s"
ok "a client dripping its headers was closed after ${secs}s (http_header_timeout 2s)"

out=$("$PY" "$T/slow.py" "$HPORT" cap) || fail "cap: $out"
ok "past http_max_connections 8 a connection got 503; idle ones closed at the deadline"

# 50 slow clients at once: all closed, the endpoint still answers
for _ in $(seq 50); do
	"$PY" "$T/slow.py" "$HPORT" drip >>"$T/many.out" 2>&1 &
	PIDS+=("$!")
done
all_closed() { [ "$(grep -c '^closed' "$T/many.out")" = 50 ]; }
wait_for 20 all_closed ||
    fail "slow clients: $(sort "$T/many.out" | uniq -c | head)"
metrics_ok() {
	curl -sS -m 5 "http://127.0.0.1:$HPORT/metrics" >"$T/metrics.out" 2>&1 &&
	    grep -q '^latticed_build_info' "$T/metrics.out"
}
wait_for 10 metrics_ok ||
    fail "/metrics after the slow clients: $(head -3 "$T/metrics.out")"
ok "50 slow clients closed, /metrics answers"
stop_latticed TERM || fail "exit status"
