#!/usr/bin/env bash
# Crash safety of the database:
# (a) a reader holding a read transaction for ~5 s while latticed folds a
#     stream: latticed keeps committing (max(seq) grows during it), never
#     fails, and the reader's snapshot stays the same inside its
#     transaction;
# (b) the database becoming unwritable (RLIMIT_FSIZE: writes past the limit
#     fail with EFBIG, SQLite reports a disk I/O error) in JetStream mode:
#     latticed stays up and retries the batch with a log line naming the
#     database error, marks nothing as poison, acknowledges nothing it did
#     not store, and a stop then exits 1; restarted
#     without the limit it folds every published event (the unacknowledged
#     ones come back), integrity_check ok;
# (c) kill -9 at a random moment of a fast core-NATS stream: integrity_check
#     ok and no partial batch (every event row has its state row and every
#     state row its event).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_js_nats

# --- (a) a long read transaction -----------------------------------------
DB="$T/reader.db"
cat >"$T/a.conf" <<CONF
db $DB
nats_url $URL
lattices ca
batch_max 50
checkpoint_interval 1s
CONF
start_latticed -f "$T/a.conf"
wait_log 'ready: subscriptions live'
ev component_scaled ca NCAHOST 3000 >"$T/a.jsonl"
"$LTPUB_BIN" --nats "$URL" --interval 2 "$T/a.jsonl" 2>>"$T/ltpub.log" &
PUBPID=$!
PIDS+=("$PUBPID")
wait_for 10 q_is "select count(*) > 50 from events" 1 || fail "stream did not start"

mkfifo "$T/reader.fifo"
sqlite3 -batch -noheader "$DB" <"$T/reader.fifo" >"$T/reader.out" \
    2>"$T/reader.err" &
RDPID=$!
PIDS+=("$RDPID")
exec 3>"$T/reader.fifo"
echo "BEGIN; SELECT 'c1', count(*), max(seq) FROM events;" >&3
sleep 1
m_early=$(q "select max(seq) from events")
sleep 4
m_late=$(q "select max(seq) from events")
echo "SELECT 'c2', count(*), max(seq) FROM events; COMMIT;" >&3
echo "SELECT 'c3', count(*), max(seq) FROM events;" >&3
exec 3>&-
wait "$RDPID" || fail "reader: $(cat "$T/reader.err")"
[ ! -s "$T/reader.err" ] || fail "reader: $(cat "$T/reader.err")"
c1=$(grep '^c1|' "$T/reader.out" | cut -d'|' -f2-)
c2=$(grep '^c2|' "$T/reader.out" | cut -d'|' -f2-)
c3=$(grep '^c3|' "$T/reader.out" | cut -d'|' -f2-)
[ -n "$c1" ] && [ "$c1" = "$c2" ] ||
    fail "reader's snapshot moved inside its transaction: '$c1' then '$c2'"
snap_max=${c1#*|}
[ "$snap_max" -le "$m_early" ] || fail "reader snapshot $snap_max after $m_early?"
[ "$m_late" -gt "$m_early" ] ||
    fail "latticed did not commit during the read transaction ($m_early, $m_late)"
[ "${c3#*|}" -gt "$snap_max" ] || fail "after COMMIT the reader sees $c3"
kill -0 "$LATTICED_PID" 2>/dev/null || fail "latticed exited"
ok "a 5 s read transaction: snapshot fixed ($c1), latticed kept committing (max(seq) $m_early -> $m_late)"
wait "$PUBPID" || fail "ltpub"
wait_q 20 "select count(*) from events" 3000
grep -qE 'database is locked|store: |checkpoint: ' "$T/latticed.log" &&
    fail "database errors in the log"
stop_latticed || fail "latticed exit status $?"
[ "$(q "select count(*) from components where lattice='ca'")" = 3000 ] ||
    fail "components"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check"
ok "every event folded, clean exit, no lock or store errors, integrity ok"

# --- (b) the database becomes unwritable (JetStream) ---------------------
DB="$T/full.db"
"$LATTICED_BIN" --db "$DB" --replay /dev/null >>"$T/replay.log" 2>&1 ||
    fail "create $DB"
size_kib=$(( $(stat -c %s "$DB") / 1024 ))
limit_kib=$((size_kib + 480))
cat >"$T/b.conf" <<CONF
db $DB
nats_url $URL
jetstream yes
lattices cb
batch_max 100
CONF
: >"$T/latticed.log"
# writes past limit_kib fail with EFBIG (SIGXFSZ ignored): a disk I/O error
bash -c 'trap "" XFSZ; ulimit -f "$1"; shift; exec "$@"' _ "$limit_kib" \
    "$LATTICED_BIN" -d -f "$T/b.conf" >>"$T/latticed.log" 2>&1 &
LATTICED_PID=$!
PIDS+=("$LATTICED_PID")
wait_log 'consumer latticed on latticed_events created' 15
ev component_scaled cb NCBHOST 3000 >"$T/b.jsonl"
"$LTPUB_BIN" --nats "$URL" "$T/b.jsonl" 2>>"$T/ltpub.log" || fail "ltpub"
wait_log 'fold: store: .*disk I/O error.*messages kept, retrying' 30 ||
    fail "no clear database error in the log"
kill -0 "$LATTICED_PID" 2>/dev/null ||
    fail "latticed exited on an unwritable database"
grep -q 'poison' "$T/latticed.log" && fail "good events treated as poison"
stored=$(q "select count(*) from events")
[ "$stored" -gt 0 ] && [ "$stored" -lt 3000 ] ||
    fail "the limit did not bite mid-stream ($stored of 3000 stored)"
[ "$(q "select count(*) from rejected_events")" = 0 ] ||
    fail "rejected_events: $(q "select error, reason from rejected_events limit 3")"
# one snapshot: latticed keeps retrying, and a retry can commit (the WAL
# restarts after a checkpoint) between two queries
row=$(q "select (select count(*) from events) = (select value from
    latticed_state where key='js.latticed_events.last_seq')")
[ "$row" = 1 ] ||
    fail "position $(q "select * from latticed_state") vs $(q "select count(*) from events") stored"
# stopped while the database still refuses: nothing acknowledged, exit 1
rc=0
kill -TERM "$LATTICED_PID"
wait "$LATTICED_PID" || rc=$?
# (a retry can still find room after a checkpoint: then the stop folds
# what was held and exits 0)
case $rc in
1)	grep -q 'messages not folded (not acknowledged: redelivered at the next start)' \
	    "$T/latticed.log" || fail "shutdown line" ;;
0)	;;
*)	fail "exit status $rc on an unwritable database" ;;
esac
ok "unwritable database: latticed stays up and retries, 'disk I/O error' logged, $stored of 3000 stored, nothing poisoned; stop: exit $rc"

# restarted without the limit: the unacknowledged messages are redelivered
start_latticed -f "$T/b.conf"
wait_q 20 "select count(*) from events where lattice='cb'" 3000
[ "$(q "select count(distinct id) from events")" = 3000 ] || fail "duplicates"
[ "$(q "select count(*) from components where lattice='cb'")" = 3000 ] ||
    fail "components"
[ "$(q "select count(*) from rejected_events")" = 0 ] || fail "rejected"
stop_latticed || fail "latticed exit status $?"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check"
ok "restart: all 3000 events folded (redelivered), no duplicates, integrity ok"

# --- (c) kill -9 mid-stream, core NATS -----------------------------------
DB="$T/kill.db"
cat >"$T/c.conf" <<CONF
db $DB
nats_url $URL
lattices cc
batch_max 100
CONF
: >"$T/latticed.log"
start_latticed -f "$T/c.conf"
wait_log 'ready: subscriptions live'
for i in $(seq 1 40); do
	ev host_heartbeat cc "NCCHOST$i" 1
	ev component_scaled cc "NCCHOST$i" 100
done >"$T/c.jsonl"
total=$(wc -l <"$T/c.jsonl")
# ~1000 events/s for ~4 s; the kill lands 0-2 s after the first commit
"$LTPUB_BIN" --nats "$URL" --interval 1 "$T/c.jsonl" 2>>"$T/ltpub.log" &
PUBPID=$!
PIDS+=("$PUBPID")
wait_for 20 q_is "select count(*) > 0 from events" 1 || fail "stream did not start"
sleep "$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))"
kill -9 "$LATTICED_PID"
wait "$LATTICED_PID" 2>/dev/null || true
wait "$PUBPID" || true
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check after kill -9"
mid=$(q "select count(*) from events")
[ "$mid" -gt 0 ] && [ "$mid" -lt "$total" ] ||
    fail "kill -9 not mid-stream ($mid of $total)"
# no partial batch: state and history agree row for row
orphan_ev=$(q "select count(*) from events e where e.type like '%host_heartbeat'
    and not exists (select 1 from hosts h where h.lattice = e.lattice and
    h.host_id = e.host_id)")
orphan_host=$(q "select count(*) from hosts h where not exists (select 1
    from events e where e.lattice = h.lattice and e.host_id = h.host_id)")
orphan_cev=$(q "select count(*) from events e where e.type like
    '%component_scaled' and not exists (select 1 from components c where
    c.lattice = e.lattice and c.host_id = e.host_id and c.component_id =
    json_extract(e.data, '\$.component_id'))")
orphan_comp=$(q "select count(*) from components c where not exists (select
    1 from events e where e.lattice = c.lattice and e.host_id = c.host_id and
    json_extract(e.data, '\$.component_id') = c.component_id)")
[ "$orphan_ev$orphan_host$orphan_cev$orphan_comp" = 0000 ] ||
    fail "partial batch: events w/o host $orphan_ev, hosts w/o event $orphan_host, events w/o component $orphan_cev, components w/o event $orphan_comp"
[ "$(q "select count(*) from components")" = \
    "$(q "select count(*) from events where type like '%component_scaled'")" ] ||
    fail "components vs component_scaled events"
# the database is usable: latticed starts on it and folds more
start_latticed -f "$T/c.conf"
wait_log 'ready: subscriptions live'
ev component_scaled cc NCCHOSTX 5 | pub
wait_q 10 "select count(*) from events" $((mid + 5))
stop_latticed || fail "latticed exit status $?"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check after restart"
ok "kill -9 mid-stream ($mid of $total): integrity ok, no partial batch, restart folds"
