#!/usr/bin/env bash
# Opening a database of an older schema: latticed says a migration runs
# (log, STATUS=) and asks systemd for the time it needs
# (EXTEND_TIMEOUT_USEC, since READY=1 waits for it), migrates, keeps the
# history and still drops duplicates; a current file asks for nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SCHEMA="$HERE/../../schema"
PORT=$(free_port)
start_nats "$PORT"
DB="$T/m.db"
CONF="$T/m.conf"
cat >"$CONF" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
CONF

# a version 2 file with some history, as the previous release left it;
# received in the last minute, so retention (history_max_age) keeps it
{
	cat "$SCHEMA/001_init.sql" "$SCHEMA/002_alert_outbox.sql"
	echo "PRAGMA user_version = 2;"
	echo "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r"
	echo " WHERE i < 5000) INSERT INTO events (lattice, subject, type,"
	echo " source, id, host_id, time_ms, received_ms, outcome)"
	echo " SELECT 'default', 'wasmbus.evt.default.host_heartbeat',"
	echo " 'com.wasmcloud.lattice.host_heartbeat', 'NOLDHOST', 'old-' || i,"
	echo " 'NOLDHOST', n + i, n + i, 'unchanged' FROM r,"
	echo " (SELECT CAST(unixepoch('now') AS INTEGER) * 1000 - 60000 AS n);"
} | sqlite3 -batch "$DB"
[ "$(q 'PRAGMA user_version')" = 2 ] || fail "set-up: not a version 2 file"

start_notify
start_latticed -f "$CONF"
wait_ready
wait_log "db: $DB: migrating [0-9.]+ MiB from schema version 2 to 5"
grep -qE '^EXTEND_TIMEOUT_USEC=[0-9]{8,}$' "$T/notify.out" ||
    fail "no EXTEND_TIMEOUT_USEC before READY=1: $(tr '\n' ' ' <"$T/notify.out")"
grep -q '^STATUS=migrating the database from schema version 2 to 5$' \
    "$T/notify.out" || fail "no STATUS= for the migration"
# the extension came before READY=1
[ "$(grep -n -m1 '^EXTEND_TIMEOUT_USEC=' "$T/notify.out" | cut -d: -f1)" -lt \
    "$(grep -n -m1 '^READY=1$' "$T/notify.out" | cut -d: -f1)" ] ||
    fail "EXTEND_TIMEOUT_USEC after READY=1"
[ "$(q 'PRAGMA user_version')" = 5 ] || fail "not migrated"
[ "$(q 'select count(*) from events')" = 5000 ] || fail "history lost"
[ "$(q "select count(*) from sqlite_schema where name = 'events_id_source'")" = 1 ] ||
    fail "no events_id_source"
[ "$(q "select count(*) from pragma_table_info('hosts') where name = 'generation'")" = 1 ] &&
    [ "$(q "select count(*) from hosts where generation <> 'v1'")" = 0 ] ||
    fail "migration 004: hosts.generation"
# migration 005: events is a view with the same columns; the table written
# (latticed_events) has no generated column
[ "$(q "select type from sqlite_schema where name = 'events'")" = view ] ||
    fail "migration 005: events is not a view"
[ "$(q "select group_concat(name, ',') from pragma_table_xinfo('events')")" = \
    seq,lattice,subject,type,source,id,host_id,time_ms,time_raw,received_ms,outcome,data,time_at,received_at ] ||
    fail "migration 005: the columns of events changed"
[ "$(q "select count(*) from pragma_table_xinfo('latticed_events') where hidden <> 0")" = 0 ] ||
    fail "migration 005: latticed_events has generated columns"
[ "$(q "select count(*) from events where time_at = strftime('%Y-%m-%dT%H:%M:%fZ', time_ms / 1000.0, 'unixepoch')")" = 5000 ] ||
    fail "migration 005: events.time_at"
ok "a version 2 file: announced, time asked for, migrated, history kept"

# an old event sent again is a duplicate; a new one is folded
ev host_heartbeat mig NOLDHOST 1 | pub
wait_q 5 "select count(*) from events where host_id = 'NOLDHOST'" 5001
q "select id from events where id = 'old-1'" | grep -qx old-1 ||
    fail "old row missing"
# the same (source, id) as a row from before the migration
ev host_heartbeat mig NOLDHOST 1 |
    sed -E 's/"id": "[^"]*"/"id": "old-1"/' | pub
ev host_heartbeat mig2 NOLDHOST 1 | pub
wait_q 5 "select count(*) from events where host_id = 'NOLDHOST'" 5002
[ "$(q "select count(*) from events where id = 'old-1'")" = 1 ] ||
    fail "a migrated event was stored twice"
ok "after the migration duplicates are still dropped"

# a current file: nothing to announce
stop_latticed
: >"$T/notify.out"
start_latticed -f "$CONF"
wait_ready
if grep -q '^EXTEND_TIMEOUT_USEC=' "$T/notify.out"; then
	fail "EXTEND_TIMEOUT_USEC for a current file"
fi
[ "$(grep -c 'migrating' "$T/latticed.log")" = 1 ] ||
    fail "a current file was announced as migrating"
ok "a current file starts without asking for more time"

# --replay migrates the same way and says so
DB2="$T/r.db"
{
	cat "$SCHEMA/001_init.sql" "$SCHEMA/002_alert_outbox.sql"
	echo "PRAGMA user_version = 2;"
} | sqlite3 -batch "$DB2"
ev host_started rep NREPHOST 1 >"$T/r.jsonl"
"$LATTICED_BIN" -f /dev/null --db "$DB2" --replay "$T/r.jsonl" \
    >"$T/r.out" 2>"$T/r.log" || fail "replay: $(cat "$T/r.log")"
grep -qE "db: $DB2: migrating [0-9.]+ MiB from schema version 2 to 5" \
    "$T/r.log" || fail "--replay did not log the migration: $(cat "$T/r.log")"
[ "$(sqlite3 -batch "$DB2" 'PRAGMA user_version')" = 5 ] || fail "replay: not migrated"
ok "--replay logs the migration"

# --replay with a database whose directory is missing names --db
rc=0
"$LATTICED_BIN" -f /dev/null --db "$T/no/such/dir/x.db" --replay "$T/r.jsonl" \
    >/dev/null 2>"$T/r2.log" || rc=$?
[ "$rc" = 1 ] || fail "replay into a missing directory: exit $rc"
grep -q -- "--db" "$T/r2.log" || fail "no hint at --db: $(cat "$T/r2.log")"
grep -q "store: store:" "$T/r2.log" && fail "doubled prefix: $(cat "$T/r2.log")"
ok "--replay into a missing directory hints at --db"
