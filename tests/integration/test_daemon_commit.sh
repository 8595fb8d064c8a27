#!/usr/bin/env bash
# The batch and checkpoint policy: group commit (a message that finds the
# loop idle folds at once; batches start at most once per batch_delay)
# and WAL checkpoints on the checkpointer thread (events reach the main
# database file within a few checkpoint_intervals, not at SQLite's
# 8,192-page automatic checkpoint).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/c.db"
cat >"$T/c.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
batch_delay 1500ms
checkpoint_interval 100ms
CONF
start_notify
start_latticed -v -f "$T/c.conf"
wait_ready
# batch_delay counts from start-up: let it pass, the loop is then idle
wait_for 5 python3 -c '
import sys, re, datetime
log = open(sys.argv[1]).read()
m = re.search(r"^(\S+)Z ready:", log, re.M)
t = datetime.datetime.fromisoformat(m.group(1))
sys.exit(0 if (datetime.datetime.utcnow() - t).total_seconds() > 1.6 else 1)
' "$T/latticed.log" || fail "batch_delay never passed"

# an idle loop folds at once: well inside batch_delay, from latticed's
# receive time (the row) to its commit (the debug line that follows it)
ev host_heartbeat gc GCHOST 1 | pub
wait_q 5 "select count(*) from events where lattice='gc'" 1
recv=$(q "select received_ms from events where lattice='gc'")
took=$(($(applied_ms wasmbus.evt.gc.host_heartbeat) - recv))
[ "$took" -lt 1000 ] || fail "first event committed $took ms after it was received"
ok "idle loop: event committed $took ms after it was received (batch_delay 1500ms)"

# the next batch starts batch_delay after the last one, not at once: the
# daemon's own log times its commits (each event's debug line follows
# its batch's commit), so a loaded machine cannot make this flake
ev component_scaled gc GCHOST 3 | pub
wait_q 5 "select count(*) from events where lattice='gc'" 4
gap=$(($(applied_ms wasmbus.evt.gc.component_scaled) -
    $(applied_ms wasmbus.evt.gc.host_heartbeat)))
[ "$gap" -ge 1400 ] || fail "second batch committed $gap ms after the first (batch_delay 1500ms)"
ok "batches start at most once per batch_delay ($gap ms apart), the rest wait"

# the checkpointer copies the WAL back: the main file alone (no -wal)
# holds the events within a few checkpoint_intervals of their commit
main_rows() {
	rm -f "$T/copy.db" "$T/copy.db-wal" "$T/copy.db-shm"
	cp "$DB" "$T/copy.db"
	[ "$(sqlite3 -batch -noheader "$T/copy.db" \
	    "select count(*) from events where lattice='gc'" 2>/dev/null)" = 4 ]
}
wait_for 15 main_rows || fail "events not checkpointed into $DB"
[ -s "$DB-wal" ] || fail "no WAL: checkpointed by a close, not the thread"
ok "checkpointer: events in the main database file, WAL still open"

# no checkpoint errors, and a clean stop
stop_latticed TERM || fail "exit status"
# (-v logs each pass as "checkpoint: passive, ..."; warnings say why)
warn=$(grep 'checkpoint: ' "$T/latticed.log" |
    grep -vE 'checkpoint: (passive|truncate), ' || true)
[ -z "$warn" ] || fail "checkpoint warnings: $warn"
ok "clean stop, no checkpoint warnings"
