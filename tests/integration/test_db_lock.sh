#!/usr/bin/env bash
# One latticed per database: a second one on the same db refuses to start
# and names the holder; a kill -9 of the holder frees the db at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/l.db"
cat >"$T/l.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
CONF
start_notify
start_latticed -f "$T/l.conf"
FIRST=$LATTICED_PID
wait_ready

# the second one, same config: must exit non-zero, naming pid FIRST
rc=0
timeout 20 "$LATTICED_BIN" -d -f "$T/l.conf" >"$T/second.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "second latticed: exit $rc"
grep -q "db: $DB is in use by latticed pid $FIRST" "$T/second.log" ||
    fail "second latticed did not name the holder: $(cat "$T/second.log")"
kill -0 "$FIRST" || fail "the first latticed died"
ok "a second latticed on $DB refused: in use by pid $FIRST"

# the first one still folds
ev host_heartbeat lk NHOSTA 1 | pub
wait_q 10 "select status from hosts where host_id='NHOSTA'" up
ok "the holder kept working"

# kill -9: the kernel drops the lock, a restart takes the db
stop_latticed KILL || true
: >"$T/notify.out"
start_latticed -f "$T/l.conf"
wait_ready
[ "$(cat "$DB.lock")" = "$LATTICED_PID" ] || fail "lock file pid: $(cat "$DB.lock")"
ok "after kill -9 a restart takes the db (lock file names pid $LATTICED_PID)"
stop_latticed TERM || fail "exit status"
