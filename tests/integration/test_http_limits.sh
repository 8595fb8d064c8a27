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
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]

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
            print("closed %.1f" % (time.monotonic() - t0)); sys.exit(0)
        s.settimeout(0.5)
        try:
            if s.recv(4096) == b"":
                print("closed %.1f" % (time.monotonic() - t0)); sys.exit(0)
        except socket.timeout:
            pass
        except OSError:
            print("closed %.1f" % (time.monotonic() - t0)); sys.exit(0)
    print("open after 12s"); sys.exit(1)
elif mode == "cap":
    # 8 idle connections fill the cap; the 9th is answered 503 and closed
    held = [conn() for _ in range(8)]
    time.sleep(0.3)   # let latticed accept them (not a correctness wait)
    s = conn()
    s.settimeout(1.5)
    try:
        data = s.recv(4096)
    except socket.timeout:
        print("9th not refused"); sys.exit(1)
    if b" 503 " not in data:
        print("9th got %r" % data[:80]); sys.exit(1)
    # the held ones are idle: closed at the header deadline (2 s)
    for h in held:
        if closed(h, 6) is None:
            print("idle connection open past the deadline"); sys.exit(1)
    print("ok")
PY

out=$("$PY" "$T/slow.py" "$HPORT" drip) || fail "slow headers: $out"
secs=${out#closed }
awk -v s="$secs" 'BEGIN { exit !(s >= 1.5 && s <= 5) }' ||
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
curl -fsS -m 5 "http://127.0.0.1:$HPORT/metrics" | grep -q '^latticed_build_info' ||
    fail "/metrics after the slow clients"
ok "50 slow clients closed, /metrics answers"
stop_latticed TERM || fail "exit status"
