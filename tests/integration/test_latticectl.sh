#!/usr/bin/env bash
# latticectl against a fixture database: every command in table and JSON
# form (tables at 200 and 80 columns, ages against a fixed "now"), the
# filters, hostile-string escaping, each error case (missing, foreign,
# newer schema, locked, unreadable, unknown lattice or type), read-only-ness,
# colour only on a terminal, and --watch (redraw on change only, events
# streamed).
set -euo pipefail

SRC=${LATTICED_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${LATTICED_BUILD_DIR:-./build}
CTL=${LATTICECTL_BIN:-$BUILD/tools/latticectl/latticectl}
DATA=$SRC/tests/data/latticectl
[ -x "$CTL" ] || { echo "FAIL: no latticectl at $CTL" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 CLI needed" >&2; exit 1; }

# Deterministic tables: no inherited width, a fixed "now" for ages
# (2025-11-25T20:15:00Z, 72.877 s after the fixture's newest time).
unset COLUMNS NO_COLOR
export LATTICECTL_NOW_MS=1764101700000

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	exec 3>&- 2>/dev/null || true
	chmod -R u+w "$TMP" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# Make a database from the public schema and the fixture.
mkdb() {
	sqlite3 "$1" < "$SRC/schema/001_init.sql"
	sqlite3 "$1" < "$DATA/fixture.sql"
}

# expect NAME ARGS...: the table on a 200-column terminal must equal
# $DATA/NAME.out, on an 80-column one $DATA/NAME.80.out, and no line of
# either may be wider than the terminal.
expect() {
	local name=$1 w want; shift
	for w in 200 80; do
		want=$DATA/$name.out
		[ "$w" = 80 ] && want=$DATA/$name.80.out
		COLUMNS=$w "$CTL" --db "$DB" "$@" > "$TMP/$name.$w.got" ||
		    fail "latticectl $* exited $?"
		diff -u "$want" "$TMP/$name.$w.got" ||
		    fail "latticectl $* at $w columns differs from $want"
		python3 - "$w" "$TMP/$name.$w.got" <<'PYEOF' ||
import sys
w = int(sys.argv[1])
for line in open(sys.argv[2], encoding="utf-8"):
    assert len(line.rstrip("\n")) <= w, (w, line)
PYEOF
		    fail "latticectl $*: a line wider than $w columns"
	done
	pass "table at 200 and 80 columns: $*"
}

# expect_err RC PATTERN ARGS...: exit status RC, stderr matching PATTERN.
expect_err() {
	local want=$1 pat=$2 rc=0; shift 2
	"$CTL" "$@" > "$TMP/err.out" 2> "$TMP/err.err" || rc=$?
	[ "$rc" -eq "$want" ] ||
	    fail "latticectl $*: exit $rc, want $want ($(cat "$TMP/err.err"))"
	grep -q -- "$pat" "$TMP/err.err" ||
	    fail "latticectl $*: stderr lacks '$pat': $(cat "$TMP/err.err")"
	[ ! -s "$TMP/err.out" ] || fail "latticectl $*: wrote to stdout"
	pass "error $want: $*"
}

# rows ARGS...: number of table rows (without the header).
rows() {
	local n
	n=$("$CTL" --db "$DB" "$@" | wc -l)
	echo $((n - 1))
}

# wait_lines FILE N: wait up to 10 s for FILE to have N lines.
wait_lines() {
	local i
	for i in $(seq 100); do
		[ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 never reached $2 lines: $(cat "$1")"
}

DB=$TMP/lattice.db
mkdb "$DB"
sqlite3 "$DB" 'PRAGMA journal_mode=WAL' > /dev/null
chmod a-w "$DB"
SUM=$(md5sum < "$DB")

# --- every command as a table -------------------------------------------
expect hosts hosts
expect components components
expect providers providers
expect links links
expect configs configs
expect alerts alerts
expect alerts-all alerts --all
expect events events
expect hosts-stale hosts --status stale

# --- every command as JSON ----------------------------------------------
for c in hosts components providers links configs alerts events; do
	"$CTL" --db "$DB" --json $c > "$TMP/$c.json"
done
"$CTL" --db "$DB" --json alerts --all > "$TMP/alerts-all.json"
python3 - "$TMP" "$DB" <<'EOF'
import json, sqlite3, sys
tmp, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
def load(name):
    raw = open("%s/%s.json" % (tmp, name), "rb").read()
    assert raw.endswith(b"]\n") and raw.count(b"\n") == 1, name
    assert not any(b < 0x20 for b in raw[:-1]), name + ": raw control"
    return json.loads(raw.decode("utf-8"))
def cols(table):
    return [r[1] for r in con.execute("PRAGMA table_xinfo(%s)" % table)]
tables = {"hosts": "hosts", "components": "components",
    "providers": "providers", "links": "links", "configs": "configs",
    "alerts": "alerts", "alerts-all": "alerts", "events": "events"}
for name, table in tables.items():
    d = load(name)
    assert isinstance(d, list), name
    for o in d:
        assert list(o.keys()) == cols(table), (name, list(o.keys()))
h = {o["host_id"]: o for o in load("hosts")}
assert sorted(h) == ["NAUPHOST0001", "NBSTALEHOST2", "NCSTOPPED003",
    "NDUPHOST0004"]
up = h["NAUPHOST0001"]
assert up["labels"] == {"evil": "\x1b[31mred\nline", "region": "eu-west"}
assert up["last_seen_ms"] == 1764101627123
assert up["last_seen_at"] == "2025-11-25T20:13:47.123Z"
assert up["inventory_hash"] == 42 and up["stop_reason"] is None
st = h["NBSTALEHOST2"]
assert st["friendly_name"] == \
    "old-moon-\x1b]0;pwned\x07\nx\x7f\x9b\u202e\ufffdend", st
# Raw controls make the stored labels invalid JSON: kept as a string.
assert st["labels"] == '{"note":"\x1b[2J\nsecond line"}'
assert h["NCSTOPPED003"]["stop_reason"] == "shutdown"
assert h["NDUPHOST0004"]["friendly_name"] is None
c = load("components")
assert [x["component_id"] for x in c] == ["http-hello", "kv-counter", "echo"]
assert c[0]["annotations"] == {"wasmcloud.dev/appspec": "hello"}
assert c[2]["max_instances"] == 10
p = load("providers")
assert [(x["provider_id"], x["health"]) for x in p] == \
    [("httpserver", "passing"), ("kv-redis", "failing")]
assert p[1]["contract_id"] == "wasmcloud:keyvalue" and p[0]["name"] == \
    "HTTP Server"
l = load("links")
assert l[1]["interfaces"][-1] == "a-very-long-interface-name"
assert l[0]["source_config"] == ["listen-config"]
assert l[1]["legacy_values"] is None
g = load("configs")
assert [(x["config_name"], x["legacy_keys"]) for x in g] == \
    [("listen-config", ["address"]), ("redis-url", None)]
a = load("alerts")
assert [x["alert_id"] for x in a] == [2] and a[0]["resolved_ms"] is None
assert a[0]["details"] == {"last_seen_ms": 1764100000000,
    "interval_ms": 30000}
aa = load("alerts-all")
assert [x["alert_id"] for x in aa] == [2, 1]	# by lattice, newest first
assert aa[1]["resolved_at"] == "2025-11-25T20:08:20.000Z"
for name in tables:
    for o in load(name):
        assert "host_name" not in o, name	# table-only column
e = load("events")
assert [x["seq"] for x in e] == [6, 5, 4, 3, 2, 1]
assert e[0]["data"] == "just a string"
assert e[1]["data"] == [1, 2.5, True]
assert e[5]["data"] == {"labels": {"region": "eu-west"}}
assert e[3]["host_id"] is None and e[3]["time_raw"] is None
EOF
pass "json: every command, every column, nested JSON columns"

# --- hostile strings ------------------------------------------------------
"$CTL" --db "$DB" hosts > "$TMP/hostile.txt"
if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" \
    "$TMP/hostile.txt"; then
	fail "table output carries raw control characters"
fi
[ "$(wc -l < "$TMP/hostile.txt")" -eq 5 ] ||
    fail "a newline in a value broke a table row"
grep -qF 'old-moon-\x1b]0;pwned\x07\nx\x7f\x9b\u202e\xffend' \
    "$TMP/hostile.txt" || fail "friendly_name not escaped as expected"
grep -qF '{"note":"\x1b[2J\nsecond line"}' "$TMP/hostile.txt" ||
    fail "label not escaped as expected"
python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' \
    < "$TMP/hostile.txt" || fail "table output is not UTF-8"
pass "hostile strings escaped in tables"

# --- filters ---------------------------------------------------------------
[ "$(rows hosts --lattice prod)" -eq 2 ] || fail "--lattice prod"
expect_err 1 'no lattice "nope" in this database (known: default, prod)' \
    --db "$DB" hosts --lattice nope
expect_err 1 'no lattice "nope"' --db "$DB" --json events --lattice nope
[ "$("$CTL" --db "$DB" hosts --lattice prod --status up --host zz)" = \
    "No hosts found." ] || fail "empty filtered result"
[ "$("$CTL" --db "$DB" alerts --lattice prod)" = "No alerts found." ] ||
    fail "empty alerts"
[ "$("$CTL" --db "$DB" --json alerts --lattice prod)" = "[]" ] ||
    fail "empty --json"
[ "$(rows hosts --status up)" -eq 2 ] || fail "--status up"
[ "$(rows hosts --status stopped)" -eq 1 ] || fail "--status stopped"
[ "$(rows hosts --host NB)" -eq 1 ] || fail "--host prefix"
[ "$(rows hosts --host NBSTALEHOST2)" -eq 1 ] || fail "--host exact"
[ "$(rows hosts --host N)" -eq 4 ] || fail "--host N"
[ "$(rows hosts --host quiet-sun-4821)" -eq 1 ] || fail "--host by name"
[ "$(rows hosts --host brave)" -eq 1 ] || fail "--host by name prefix"
"$CTL" --db "$DB" components --host quiet-sun | grep -q http-hello ||
    fail "components --host by name"
[ "$(rows providers --host quiet)" -eq 1 ] || fail "providers --host name"
[ "$(rows events --host brave-star)" -eq 1 ] || fail "events --host name"
[ "$(rows alerts --all --host brave-star)" -eq 1 ] || fail "alerts --host name"
[ "$(rows hosts --host '%')" -eq 0 ] || fail "--host is not a LIKE pattern"
[ "$(rows hosts --host "N' OR 1=1 --")" -eq 0 ] || fail "--host injection"
[ "$(rows components --status stale)" -eq 1 ] || fail "components --status"
"$CTL" --db "$DB" components --status stale | grep -q kv-counter ||
    fail "components --status stale lists kv-counter"
[ "$(rows components --host NA --lattice default)" -eq 1 ] ||
    fail "components --host"
[ "$(rows providers --host ND)" -eq 1 ] || fail "providers --host"
[ "$(rows providers --status stopped)" -eq 0 ] || fail "providers --status"
[ "$(rows links --lattice prod)" -eq 1 ] || fail "links --lattice"
[ "$(rows configs --lattice default)" -eq 1 ] || fail "configs --lattice"
[ "$(rows alerts --all --host NC)" -eq 1 ] || fail "alerts --host"
[ "$(rows alerts --lattice prod)" -eq 0 ] || fail "alerts: resolved hidden"
[ "$(rows events --type host_heartbeat)" -eq 3 ] || fail "--type short"
[ "$(rows events --type com.wasmcloud.lattice.host_stopped)" -eq 1 ] ||
    fail "--type full"
expect_err 1 'no events of type "heartbeat"' --db "$DB" events --type heartbeat
[ "$(rows events --host NAUP)" -eq 2 ] || fail "events --host"
[ "$(rows events --limit 2)" -eq 2 ] || fail "events --limit"
"$CTL" --db "$DB" --json events --limit 2 | python3 -c '
import json, sys; d = json.load(sys.stdin)
assert [e["seq"] for e in d] == [6, 5], d'
[ "$(rows hosts --limit 1)" -eq 1 ] || fail "hosts --limit"
# a month after the goldens' "now", the fixture's rows are all older than 1d
[ "$(LATTICECTL_NOW_MS=$((1764101700000 + 30 * 86400000)) rows hosts --since 1d)" -eq 0 ] ||
    fail "--since on old fixture"
[ "$(rows hosts --since 1d)" -gt 0 ] || fail "--since 1d at the goldens' now"
pass "filters: lattice, host prefix or name, status, type, limit; empty and unknown"

# --since against the clock, and the default events limit of 50.
DB2=$TMP/since.db
mkdb "$DB2"
# one "now" for the rows and for latticectl: a slow machine (ASan) must
# not move the window between them
NOW=$(date +%s%3N)
export LATTICECTL_NOW_MS=$NOW
sqlite3 "$DB2" "
UPDATE hosts SET last_seen_ms = $NOW - 60000
    WHERE host_id = 'NDUPHOST0004';
UPDATE components SET updated_ms = $NOW WHERE
    component_id = 'echo';
UPDATE alerts SET fired_ms = $NOW - 7200000 WHERE
    alert_id = 2;
WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n
    WHERE i < 159)
INSERT INTO events (seq, lattice, subject, type, source, id, host_id,
    time_ms, received_ms, outcome, data)
SELECT i, 'default', 's', 'com.wasmcloud.lattice.host_heartbeat', 'src',
    'bulk-' || i, 'NAUPHOST0001', $NOW,
    $NOW - (159 - i) * 1000, 'applied', '{}' FROM n;"
DB=$DB2
[ "$(rows hosts --since 10m)" -eq 1 ] || fail "hosts --since 10m"
"$CTL" --db "$DB" hosts --since 10m | grep -q NDUPHOST0004 ||
    fail "hosts --since lists the recent host"
[ "$(rows hosts --since 30s)" -eq 0 ] || fail "hosts --since 30s"
[ "$(rows components --since 1h)" -eq 1 ] || fail "components --since"
[ "$(rows alerts --since 3h)" -eq 1 ] || fail "alerts --since 3h"
[ "$(rows alerts --since 1h)" -eq 0 ] || fail "alerts --since 1h"
[ "$(rows events)" -eq 50 ] || fail "events default limit 50"
[ "$(rows events --limit 100)" -eq 66 ] || fail "events --limit 100"
# received 0, 1, ... 10 s before "now": --since includes its bound
[ "$(rows events --since 10s)" -eq 11 ] ||
    fail "events --since 10s: $(rows events --since 10s)"
"$CTL" --db "$DB" events --limit 1 | tail -n 1 | grep -q '^159 ' ||
    fail "events newest first"
export LATTICECTL_NOW_MS=1764101700000	# the goldens' "now" again
pass "--since (s/m/h) and the events default limit"
DB=$TMP/lattice.db

# --- integers beyond 2^53 are JSON strings ----------------------------------
DB3=$TMP/big.db
mkdb "$DB3"
sqlite3 "$DB3" "UPDATE hosts SET inventory_hash = 9007199254740993
    WHERE host_id = 'NAUPHOST0001';
    UPDATE hosts SET inventory_hash = -9223372036854775807
    WHERE host_id = 'NBSTALEHOST2'"
"$CTL" --db "$DB3" --json hosts | python3 -c '
import json, sys; h = {o["host_id"]: o for o in json.load(sys.stdin)}
assert h["NAUPHOST0001"]["inventory_hash"] == "9007199254740993", h
assert h["NBSTALEHOST2"]["inventory_hash"] == "-9223372036854775807", h
assert h["NCSTOPPED003"]["inventory_hash"] == 7, h' ||
    fail "JSON integers beyond 2^53"
pass "json: integers beyond 2^53 as strings"

# --- every schema version ------------------------------------------------------
# The fixture as each release left it: 001, the rows, then the later
# migrations (004 adds the wasmCloud 2 columns of hosts; 005 renames the
# tables to latticed_* and shows them through views of the same names and
# columns).  The same rows must print the same, whatever the version;
# hosts gains its GENERATION column from version 4 on.
for v in 1 2 3 4 5; do
	f=$TMP/v$v.db
	sqlite3 "$f" < "$SRC/schema/001_init.sql"
	sqlite3 "$f" < "$DATA/fixture.sql"
	for m in "$SRC"/schema/00[2-9]_*.sql; do
		n=$(basename "$m"); n=${n%%_*}
		[ "$((10#$n))" -le "$v" ] || break
		sqlite3 "$f" < "$m"
	done
	sqlite3 "$f" "PRAGMA user_version = $v"
done
[ "$(sqlite3 "$TMP/v5.db" "SELECT type FROM sqlite_schema WHERE name = 'hosts'")" = view ] ||
    fail "version 5 fixture: hosts is not a view"
for c in hosts components providers links configs "alerts --all" events; do
	for fmt in "" --json; do
		for v in 1 4 5; do
			# shellcheck disable=SC2086
			COLUMNS=200 "$CTL" --db "$TMP/v$v.db" $fmt $c \
			    > "$TMP/ver.$v.out" || fail "v$v: latticectl $fmt $c"
		done
		diff -u "$TMP/ver.4.out" "$TMP/ver.5.out" ||
		    fail "latticectl $fmt $c: version 5 differs from 4"
		[ "$c" = hosts ] || diff -u "$TMP/ver.1.out" "$TMP/ver.5.out" ||
		    fail "latticectl $fmt $c: version 5 differs from 1"
	done
done
pass "every schema version (1, 4, 5): the same rows print the same"

# --- colour on a terminal only, NO_COLOR honoured ----------------------------
if command -v script > /dev/null; then
	TERM=xterm script -qec "\"$CTL\" --db \"$DB\" hosts" /dev/null \
	    > "$TMP/tty.out" < /dev/null
	grep -q "$(printf '\033')\[32mup" "$TMP/tty.out" ||
	    fail "no colour on a terminal: $(cat -v "$TMP/tty.out")"
	NO_COLOR=1 TERM=xterm script -qec "\"$CTL\" --db \"$DB\" hosts" \
	    /dev/null > "$TMP/tty2.out" < /dev/null
	grep -q "$(printf '\033')" "$TMP/tty2.out" && fail "colour despite NO_COLOR"
	grep -q NAUPHOST0001 "$TMP/tty2.out" || fail "NO_COLOR output: $(cat -v "$TMP/tty2.out")"
	"$CTL" --db "$DB" hosts | grep -q "$(printf '\033')" && fail "colour on a pipe"
	pass "colour: on a terminal, not with NO_COLOR, never on a pipe"
fi

# --- the database was never written ------------------------------------------
[ "$(md5sum < "$DB")" = "$SUM" ] || fail "latticectl modified the database"
pass "read-only: database file unchanged"

# --- usage and database errors ---------------------------------------------------
expect_err 2 'no command' --db "$DB"
expect_err 2 'unknown command: frob' --db "$DB" frob
expect_err 2 'unknown or incomplete option' --db "$DB" hosts --bogus
expect_err 2 'bad --status' --db "$DB" hosts --status dead
expect_err 2 'bad --since' --db "$DB" hosts --since 10x
expect_err 2 'bad --limit' --db "$DB" events --limit -3
expect_err 2 '--host does not apply to links' --db "$DB" links --host x
expect_err 2 '--type does not apply to hosts' --db "$DB" hosts --type x
expect_err 2 '--interval needs --watch' --db "$DB" hosts --interval 1s
expect_err 2 'unexpected argument' --db "$DB" hosts extra
expect_err 2 'bad --width' --db "$DB" --width 5 hosts
expect_err 2 'not --json' --db "$DB" --json --wide hosts
expect_err 1 'no such database' --db "$TMP/missing.db" hosts
[ ! -e "$TMP/missing.db" ] || fail "latticectl created a missing database"
mkdir "$TMP/cwd"
(cd "$TMP/cwd" && LATTICED_DB= expect_err 1 \
    '/var/lib/latticed/latticed.db: no such database' hosts)
[ ! -e "$TMP/cwd/lattice.db" ] || fail "latticectl created ./lattice.db"
# ./lattice.db is the default when it is there
cp "$DB" "$TMP/cwd/lattice.db"
(cd "$TMP/cwd" && LATTICED_DB= "$CTL" configs > "$TMP/cwd.out") ||
    fail "./lattice.db not used"
diff -q "$DATA/configs.out" "$TMP/cwd.out" > /dev/null || fail "./lattice.db output"
rm -f "$TMP/cwd/lattice.db"
pass "default database: ./lattice.db when present, else the daemon's"
# Permission denied names the group to join (as an unprivileged user)
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	mkdir -m 0750 "$TMP/priv"
	cp "$DB" "$TMP/priv/x.db"
	chmod 0711 "$TMP"
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$CTL" --db "$TMP/priv/x.db" hosts 2> "$TMP/perm.err" || rc=$?
	[ "$rc" = 1 ] && grep -q 'x.db: permission denied.*group latticed' \
	    "$TMP/perm.err" || fail "EACCES: $rc $(cat "$TMP/perm.err")"
	pass "permission denied: names the path and group latticed"
fi
LATTICED_DB=$DB "$CTL" configs > "$TMP/env.out" || fail "LATTICED_DB"
diff -q "$DATA/configs.out" "$TMP/env.out" > /dev/null ||
    fail "LATTICED_DB not honoured"
pass "LATTICED_DB is the default database"
echo 'just some text, not sqlite at all' > "$TMP/text.db"
expect_err 1 'not a latticed database' --db "$TMP/text.db" hosts
sqlite3 "$TMP/other.db" 'CREATE TABLE notes (t TEXT)'
expect_err 1 'not a latticed database (no hosts/events' \
    --db "$TMP/other.db" hosts
: > "$TMP/empty.db"
expect_err 1 'not a latticed database' --db "$TMP/empty.db" hosts
[ ! -s "$TMP/empty.db" ] || fail "latticectl wrote into an empty file"
mkdb "$TMP/newer.db"
sqlite3 "$TMP/newer.db" 'PRAGMA user_version = 99'
expect_err 1 'schema version 99 is newer' --db "$TMP/newer.db" hosts

# Locked: a writer holds an exclusive lock through a FIFO (no sleeps).
mkdb "$TMP/locked.db"
mkfifo "$TMP/lock.fifo"
sqlite3 "$TMP/locked.db" < "$TMP/lock.fifo" > "$TMP/lock.out" &
PIDS+=($!)
exec 3> "$TMP/lock.fifo"
echo "BEGIN EXCLUSIVE; SELECT 'holding';" >&3
wait_lines "$TMP/lock.out" 1
start=$(date +%s%N)
expect_err 1 'database is locked' --db "$TMP/locked.db" --busy-timeout 300ms \
    hosts
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed" -ge 250 ] || fail "gave up after ${elapsed} ms, before the timeout"
[ "$elapsed" -lt 5000 ] || fail "took ${elapsed} ms despite a 300 ms timeout"
# A lock released within the busy timeout is waited out.
"$CTL" --db "$TMP/locked.db" --busy-timeout 10s hosts > "$TMP/wait.out" &
waiter=$!
sleep 0.5
echo "COMMIT;" >&3
exec 3>&-
wait "$waiter" || fail "latticectl did not wait out a short lock"
diff -q "$DATA/hosts.out" "$TMP/wait.out" > /dev/null ||
    fail "output after waiting for the lock differs"
pass "locked: clear error after --busy-timeout, short locks retried"

# WAL: an exclusive-locking-mode writer also blocks us with a clear error.
mkdb "$TMP/wal.db"
sqlite3 "$TMP/wal.db" 'PRAGMA journal_mode=WAL' > /dev/null
mkfifo "$TMP/wal.fifo"
sqlite3 "$TMP/wal.db" < "$TMP/wal.fifo" > "$TMP/wal.out" &
PIDS+=($!)
exec 3> "$TMP/wal.fifo"
echo "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;
    UPDATE hosts SET version = version; SELECT 'holding';" >&3
wait_lines "$TMP/wal.out" 2
expect_err 1 'database is locked' --db "$TMP/wal.db" --busy-timeout 200ms \
    events
exec 3>&-

# --- watch ---------------------------------------------------------------------
DB=$TMP/watch.db
mkdb "$DB"
sqlite3 "$DB" 'PRAGMA journal_mode=WAL' > /dev/null
"$CTL" --db "$DB" --json --watch --interval 200ms hosts --status stale \
    > "$TMP/watch.json" 2> "$TMP/watch.err" &
wpid=$!
PIDS+=($wpid)
wait_lines "$TMP/watch.json" 1
# A change outside the filter prints nothing new ...
sqlite3 "$DB" "UPDATE hosts SET version = '2.0.0'
    WHERE host_id = 'NAUPHOST0001'"
sleep 0.7
[ "$(wc -l < "$TMP/watch.json")" -eq 1 ] ||
    fail "watch printed an unchanged result again"
# ... a change inside it prints a second array.
sqlite3 "$DB" "UPDATE hosts SET status = 'stale'
    WHERE host_id = 'NDUPHOST0004'"
wait_lines "$TMP/watch.json" 2
kill -INT "$wpid"
rc=0
wait "$wpid" || rc=$?
[ "$rc" -eq 0 ] || fail "watch exited $rc on SIGINT"
python3 - "$TMP/watch.json" <<'EOF'
import json, sys
arrays = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(arrays) == 2, arrays
assert [h["host_id"] for h in arrays[0]] == ["NBSTALEHOST2"]
assert [h["host_id"] for h in arrays[1]] == ["NBSTALEHOST2", "NDUPHOST0004"]
EOF
[ ! -s "$TMP/watch.err" ] || fail "watch wrote errors: $(cat "$TMP/watch.err")"
pass "watch --json: one array per change, clean exit on SIGINT"

# Table watch to a pipe: no ANSI clear-screen, redraws separated.
"$CTL" --db "$DB" --watch --interval 200ms configs > "$TMP/watch.txt" &
wpid=$!
PIDS+=($wpid)
wait_lines "$TMP/watch.txt" 3
sqlite3 "$DB" "INSERT INTO configs (lattice, config_name, updated_ms)
    VALUES ('prod', 'new-config', 1764101627000)"
wait_lines "$TMP/watch.txt" 8
kill -INT "$wpid"
wait "$wpid" || fail "table watch exited non-zero on SIGINT"
if grep -q "$(printf '\033')" "$TMP/watch.txt"; then
	fail "watch cleared the screen on a pipe"
fi
grep -q new-config "$TMP/watch.txt" || fail "table watch missed the change"
pass "watch table: redraw on change, no ANSI on a pipe"

# --wide: nothing shortened, whatever the width
COLUMNS=80 "$CTL" --db "$DB" --wide hosts > "$TMP/wide.out"
grep -qF '{"evil":"\u001b[31mred\nline","region":"eu-west"}' "$TMP/wide.out" ||
    fail "--wide cut a value"
grep -q "$(printf '\xe2\x80\xa6')" "$TMP/wide.out" && fail "--wide shortened"
pass "--wide shows everything"

# Heartbeat churn does not redraw a watch; --watch-all does.  Both watch
# the same database; the plain one must see one frame per visible change.
frames() { grep -c '^LATTICE' "$1" || true; }
"$CTL" --db "$DB" --watch --interval 100ms hosts > "$TMP/w1.txt" &
PIDS+=($!)
"$CTL" --db "$DB" --watch-all --interval 100ms hosts > "$TMP/w2.txt" &
PIDS+=($!)
wait_lines "$TMP/w1.txt" 5
wait_lines "$TMP/w2.txt" 5
sqlite3 "$DB" "UPDATE hosts SET last_heartbeat_ms = last_heartbeat_ms + 5000,
    last_seen_ms = last_seen_ms + 5000, uptime_seconds = uptime_seconds + 5
    WHERE host_id = 'NAUPHOST0001'"
for i in $(seq 100); do [ "$(frames "$TMP/w2.txt")" -ge 2 ] && break; sleep 0.1; done
[ "$(frames "$TMP/w2.txt")" -ge 2 ] || fail "--watch-all missed a heartbeat"
sqlite3 "$DB" "UPDATE hosts SET status = 'stale' WHERE host_id = 'NAUPHOST0001'"
for i in $(seq 100); do [ "$(frames "$TMP/w1.txt")" -ge 2 ] && break; sleep 0.1; done
[ "$(frames "$TMP/w1.txt")" = 2 ] ||
    fail "plain watch: $(frames "$TMP/w1.txt") frames, want 2 (heartbeat churn redrew)"
grep -q 'NAUPHOST0001  stale' "$TMP/w1.txt" || fail "watch missed the status change"
pass "watch ignores heartbeat churn; --watch-all does not"

# --watch events streams: the last events oldest first, then each new one
# as a line of its own; one header, no redraw.
"$CTL" --db "$DB" --watch --interval 100ms events > "$TMP/ev.txt" &
PIDS+=($!)
evpid=$!
wait_lines "$TMP/ev.txt" 7
sqlite3 "$DB" "INSERT INTO events (seq, lattice, subject, type, source, id,
    host_id, time_ms, received_ms, outcome, data) VALUES (7, 'prod', 's',
    'com.wasmcloud.lattice.host_heartbeat', 'src', 'stream-7',
    'NDUPHOST0004', 1764101690000, 1764101690000, 'applied', '{}')"
wait_lines "$TMP/ev.txt" 8
sqlite3 "$DB" "INSERT INTO events (seq, lattice, subject, type, source, id,
    host_id, time_ms, received_ms, outcome, data) VALUES (8, 'prod', 's',
    'com.wasmcloud.lattice.host_stopped', 'src', 'stream-8',
    'NDUPHOST0004', 1764101695000, 1764101695000, 'applied', '{}')"
wait_lines "$TMP/ev.txt" 9
kill -INT "$evpid"
wait "$evpid" || fail "events stream exited non-zero on SIGINT"
[ "$(grep -c '^SEQ' "$TMP/ev.txt")" = 1 ] || fail "stream printed the header again"
[ "$(awk 'NR > 1 { print $1 }' "$TMP/ev.txt" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] ||
    fail "stream order: $(cat "$TMP/ev.txt")"
pass "watch events: streamed, oldest first, one header"

echo "all latticectl tests passed"
