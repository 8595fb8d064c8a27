#!/usr/bin/env bash
# A NUL in a subject forges nothing.  A publisher allowed wasmbus.evt.> but
# denied wasmbus.evt.prod.> sends "wasmbus.evt.prod\0x.host_stopped" on a
# raw connection: nats-server lets it through (the subject is not
# prod.*), and nats.c hands latticed the subject cut at the NUL,
# "wasmbus.evt.prod".  latticed must see that it cannot have matched the
# subscription it arrived on and keep it in rejected_events (error
# invalid, field subject), leaving prod's host up and firing nothing.
# The same in JetStream mode, where latticed's stream captures the bare
# wasmbus.evt.<lattice> subject too: the cut subject is told by where
# nats.c put the reply, and rejected the same way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
cat >"$T/nats.conf" <<CONF
authorization {
  users = [
    { user: latticed, password: lpass }
    { user: dev, password: dpass,
      permissions: { publish: { allow: ["wasmbus.evt.>"],
                                deny: ["wasmbus.evt.prod.>", "wasmbus.evt.prod"] } } }
  ]
}
CONF
echo 'jetstream { store_dir: "'"$T"'/store" }' >>"$T/nats.conf"
start_nats "$PORT" -c "$T/nats.conf"
DB="$T/f.db"
cat >"$T/f.conf" <<CONF
db $DB
nats_url nats://latticed:lpass@127.0.0.1:$PORT
alert_log yes
CONF
start_latticed -f "$T/f.conf"
wait_log "ready: subscriptions live"

# prod's host is up (published with latticed's own, unrestricted user)
URL="nats://latticed:lpass@127.0.0.1:$PORT"
ev host_heartbeat prod NPRODHOST 1 | "$LTPUB_BIN" --nats "$URL" - \
    2>>"$T/ltpub.log" || fail "ltpub"
wait_q 5 "select status from hosts where host_id='NPRODHOST'" up

# raw PUB as dev: the permission is enforced, the NUL passes it
forge() {
"$PY" - "$PORT" "$1" <<'PY' >"$T/raw.out" 2>&1 || fail "raw publisher: $(cat "$T/raw.out")"
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
assert f.readline().startswith(b"INFO ")
s.sendall(b'CONNECT {"user":"dev","pass":"dpass","verbose":false,'
          b'"pedantic":false,"protocol":1}\r\n')
ev = json.dumps({"specversion": "1.0", "id": sys.argv[2],
                 "source": "NPRODHOST",
                 "type": "com.wasmcloud.lattice.host_stopped",
                 "time": "2030-01-01T00:00:00Z",
                 "data": {"host_id": "NPRODHOST", "labels": {},
                          "reason": "forged"}}).encode()
def pub(subj):
    s.sendall(b"PUB " + subj + b" %d\r\n" % len(ev) + ev + b"\r\n")
pub(b"wasmbus.evt.prod.host_stopped")		# denied outright
pub(b"wasmbus.evt.prod\x00x.host_stopped")	# the forgery
s.sendall(b"PING\r\n")
out = b""
while b"PONG" not in out:
    out += f.readline()
print(out.decode(errors="replace"))
PY
grep -q "Permissions Violation for Publish to \"wasmbus.evt.prod.host_stopped\"" \
    "$T/raw.out" || fail "the permission was not enforced: $(cat "$T/raw.out")"

}
forge forged-1
wait_q 10 "select count(*) from rejected_events where field='subject'" 1
row=$(q "select error, subject, reason like '%subscription it arrived on%'
    from rejected_events where field='subject'")
[ "$row" = "invalid|wasmbus.evt.prod|1" ] || fail "rejected row: $row"
[ "$(q "select status from hosts where host_id='NPRODHOST'")" = up ] ||
    fail "the forged host_stopped stopped the host"
[ "$(q "select count(*) from events where id='forged-1'")" = 0 ] ||
    fail "the forged event is in the history"
[ "$(q "select count(*) from alerts")" = 0 ] || fail "an alert fired"
wait_log 'event rejected: subject=wasmbus.evt.prod invalid: subject does not match the subscription'
stop_latticed TERM || fail "exit status"
ok "a subject cut at a NUL is rejected (invalid, field subject); the host stays up, no alert"

# JetStream mode
DB="$T/js.db"
cat >"$T/js.conf" <<CONF
db $DB
nats_url nats://latticed:lpass@127.0.0.1:$PORT
jetstream yes
alert_log yes
CONF
: >"$T/latticed.log"
start_latticed -f "$T/js.conf"
wait_log 'consumer latticed on latticed_events'
ev host_heartbeat prod NPRODHOST 1 | "$LTPUB_BIN" --nats "$URL" - \
    2>>"$T/ltpub.log" || fail "ltpub"
wait_q 10 "select status from hosts where host_id='NPRODHOST'" up
forge forged-2
wait_q 10 "select count(*) from rejected_events where field='subject'" 1
row=$(q "select error, subject, reason like '%cut at a NUL%'
    from rejected_events where field='subject'")
[ "$row" = "invalid|wasmbus.evt.prod|1" ] || fail "JetStream: rejected row: $row"
[ "$(q "select status from hosts where host_id='NPRODHOST'")" = up ] ||
    fail "JetStream: the forged host_stopped stopped the host"
[ "$(q "select count(*) from events where id='forged-2'")" = 0 ] ||
    fail "JetStream: the forged event is in the history"
stop_latticed TERM || fail "exit status"
ok "JetStream: a subject cut at a NUL is rejected the same way"
