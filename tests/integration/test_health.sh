#!/usr/bin/env bash
# /healthz and /readyz: not ready (and, past the grace, unhealthy) while
# NATS is not there yet; ready and healthy once subscribed; 503 with the
# reason after a nats-server outage longer than health_nats_grace; 200
# again after it comes back.  Bad http_listen values fail `latticed -n`, a
# busy port fails the start.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl

PORT=$(free_port)
HP=$(free_port)
DB="$T/h.db"
cat >"$T/h.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
http_listen 127.0.0.1:$HP
health_nats_grace 1s
reconnect_wait 100ms
CONF
U="http://127.0.0.1:$HP"
# get PATH: print "CODE BODY" (body on one line).
get() { curl -s -o "$T/body" -w '%{http_code}' "$U$1" >"$T/code" || true
	echo "$(cat "$T/code") $(tr '\n' '|' <"$T/body")"; }
is() { [[ "$(get "$1")" == $2 ]]; }
wait_is() { wait_for "$1" is "$2" "$3" || fail "$2: $(get "$2"), want $3"; }

# no nats-server yet: latticed keeps trying; not ready, unhealthy after 1s
start_notify
start_latticed -f "$T/h.conf"
wait_is 10 /readyz '503 not ready: waiting for subscriptions|'
wait_is 10 /healthz '503 nats: not connected for *s (grace 1s)|'
ok "before NATS: /readyz 503 (waiting for subscriptions), /healthz 503"

start_nats "$PORT"
wait_ready 20
wait_is 10 /readyz '200 ready|'
wait_is 10 /healthz '200 ok|'
ok "after READY=1: /readyz 200 ready, /healthz 200 ok"

stop_nats
wait_is 10 /healthz '503 nats: disconnected for *s (grace 1s)|'
[[ "$(get /readyz)" == '200 ready|' ]] || fail "readyz dropped on outage"
curl -fsS "$U/metrics" | grep -qx 'latticed_nats_connected 0' ||
    fail "nats_connected gauge during outage"
ok "nats-server down: /healthz 503 with the reason after the grace"

start_nats "$PORT"
wait_is 15 /healthz '200 ok|'
curl -fsS "$U/metrics" >"$T/m.txt"
grep -qx 'latticed_nats_connected 1' "$T/m.txt" || fail "connected gauge"
grep -qx 'latticed_nats_reconnects_total 1' "$T/m.txt" || fail "reconnects"
ok "nats-server back: /healthz 200, reconnects_total 1"

# the port is taken: a second latticed cannot start
cat >"$T/busy.conf" <<CONF
db $T/busy.db
nats_url nats://127.0.0.1:$PORT
http_listen $HP
CONF
rc=0
timeout 20 "$LATTICED_BIN" -d -f "$T/busy.conf" >"$T/busy.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "busy port: exit $rc"
grep -q "http: cannot listen on $HP" "$T/busy.out" || fail "busy port message"
ok "busy http port: exit 1 with a message"

stop_latticed TERM || fail "exit status"
ok "clean exit"

# bad values are config errors with file:line
for v in ':9464' '127.0.0.1:0' 'localhost:99999' '[::1]9464' 'a:b:9464' 'x'; do
	printf 'db %s\nhttp_listen %s\n' "$T/n.db" "$v" >"$T/bad.conf"
	rc=0
	"$LATTICED_BIN" -n -f "$T/bad.conf" >"$T/n.out" 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "http_listen '$v' accepted"
	grep -q "bad.conf:2: http_listen" "$T/n.out" || fail "message for '$v'"
done
printf 'db %s\nhttp_listen [::1]:9464\nhealth_nats_grace 0s\n' "$T/n.db" >"$T/ok.conf"
"$LATTICED_BIN" -n -f "$T/ok.conf" >/dev/null 2>&1 || fail "[::1]:9464 refused"
printf 'health_nats_grace soon\n' >"$T/bad.conf"
! "$LATTICED_BIN" -n -f "$T/bad.conf" >/dev/null 2>&1 || fail "bad grace taken"
ok "http_listen and health_nats_grace validated by latticed -n"
