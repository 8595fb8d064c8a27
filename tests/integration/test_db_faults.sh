#!/usr/bin/env bash
# The database refusing writes never kills latticed nor loses a message.
# For each fault -- (a) a full disk (a small loop-mounted ext4 filled up),
# (b) another writer holding the lock (BEGIN IMMEDIATE), (c) unwritable
# database files -- latticed stays up, /healthz answers
# 503 with the reason within a sweep or two, the batch is kept and retried
# with backoff, and once the fault clears every message published during
# it is folded exactly once, nothing poisoned, integrity_check ok.
# (c) makes the files immutable (chattr +i) rather than remounting: a
# filesystem with a database open for writing cannot go read-only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl mkfs.ext4 mount umount chattr

[ "$(id -u)" = 0 ] || fail "needs root (a loop-mounted filesystem)"
MNT="$T/mnt"
mkdir -p "$MNT"
trap 'rc=$?; kill -TERM $(ours "${PIDS[@]}") 2>/dev/null; wait 2>/dev/null;
    chattr -i "$MNT"/* 2>/dev/null; umount -l "$MNT" 2>/dev/null;
    (exit $rc); lt_cleanup' EXIT
dd if=/dev/zero of="$T/fs.img" bs=1M count=12 status=none
mkfs.ext4 -q -F "$T/fs.img"
mount -o loop "$T/fs.img" "$MNT" || fail "loop mount"

PORT=$(free_port)
HP=$(free_port)
start_nats "$PORT"
DB="$MNT/f.db"
cat >"$T/f.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
http_listen 127.0.0.1:$HP
sweep_interval 500ms
lattices fa
CONF
start_latticed -f "$T/f.conf"
wait_log 'ready: subscriptions live'
U="http://127.0.0.1:$HP"
health() { curl -s -w '|%{http_code}' "$U/healthz" | tr '\n' ' '; }
health_has() { health | grep -qE "$1"; }
alive() { kill -0 "$LATTICED_PID" 2>/dev/null || fail "latticed exited"; }

ev component_scaled fa NFAHOST 50 >"$T/all.jsonl"
pub <"$T/all.jsonl"
wait_q 10 "select count(*) from events" 50
wait_for 5 health_has '|200$' || fail "healthz: $(health)"

# (a) disk full
dd if=/dev/zero of="$MNT/filler" bs=64k status=none 2>/dev/null || true
sync
ev component_scaled fa NFAHOST 300 suffixed 50 |
    sed 's/"image_ref": "[^"]*"/"image_ref": "ghcr.io\/fill\/'"$(printf 'x%.0s' $(seq 600))"'"/' \
    >"$T/a.jsonl"
pub <"$T/a.jsonl"
wait_log 'fold: store: .*(full|disk I/O).*messages kept, retrying' 15
wait_for 5 health_has 'database: last commit failed.*|503$' ||
    fail "healthz during a full disk: $(health)"
alive
held=$(q "select count(*) from events")
[ "$held" -lt 350 ] || fail "the disk never filled ($held events)"
rm -f "$MNT/filler"
wait_q 20 "select count(*) from events" 350
wait_log 'fold: the database takes writes again' 10
wait_for 5 health_has '|200$' || fail "healthz after the disk has room: $(health)"
ok "disk full: latticed up, /healthz 503 with the reason, $((350 - held)) messages kept and folded once the disk had room"

# (b) another writer holds the lock
"$PY" - "$DB" "$T/release" <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2] + ".held", "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
c.execute("ROLLBACK")
PY
LOCKER=$!
PIDS+=("$LOCKER")
wait_for 10 test -e "$T/release.held" || fail "the locker never took the lock"
ev component_scaled fa NFAHOST 40 suffixed 350 | pub
wait_for 10 health_has 'database: last commit failed: .*locked.*|503$' ||
    fail "healthz while locked: $(health)"
# the loop answers at once while a lock is held: it never waits long
t0=$(date +%s%3N); health >/dev/null; t1=$(date +%s%3N)
[ $((t1 - t0)) -lt 1000 ] || fail "/healthz took $((t1 - t0)) ms while locked"
alive
touch "$T/release"
wait "$LOCKER" || fail "locker"
wait_q 20 "select count(*) from events" 390
wait_for 5 health_has '|200$' || fail "healthz after the lock: $(health)"
ok "writer lock: latticed up, /healthz 503 (locked) answered promptly, 40 kept messages folded after"

# (c) unwritable files: a filesystem cannot be remounted read-only under
# an open database, so the files are made immutable instead (chattr +i:
# every write fails, even root's, as on a read-only filesystem)
chattr +i "$DB" "$DB-wal" || fail "chattr +i"
ev component_scaled fa NFAHOST 30 suffixed 390 | pub
wait_for 15 health_has 'database: last commit failed.*|503$' ||
    fail "healthz with unwritable files: $(health)"
alive
chattr -i "$DB" "$DB-wal" || fail "chattr -i"
wait_q 20 "select count(*) from events" 420
wait_for 5 health_has '|200$' || fail "healthz once writable: $(health)"
ok "unwritable database files: latticed up, /healthz 503, 30 kept messages folded after"

[ "$(q "select count(*) from rejected_events")" = 0 ] ||
    fail "rejected: $(q "select error, reason from rejected_events limit 3")"
[ "$(q "select count(distinct id) from events")" = 420 ] || fail "duplicates"
stop_latticed TERM || fail "exit status $?"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check"
ok "nothing lost, nothing poisoned, clean stop, integrity ok"
