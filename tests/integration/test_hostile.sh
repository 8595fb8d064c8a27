#!/usr/bin/env bash
# Hostile strings through the daemon: ids, labels and annotation values with
# quotes, SQL, control characters, direction overrides are stored byte for
# byte (compared with hex()); NULs, invalid UTF-8 and raw control bytes are
# rejected with a reason; the schema is intact afterwards; latticectl's
# table output never lets a raw control character reach the terminal.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
GEN="$LATTICED_SOURCE_DIR/tests/data/hostile/gen.py"
CTL="$LATTICED_BUILD_DIR/tools/latticectl/latticectl"
g() { "$PY" "$GEN" "$@"; }
[ -x "$CTL" ] || fail "latticectl not built: $CTL"
# hexof STRING: upper-case hex of the UTF-8 bytes, as sqlite's hex()
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }

PORT=$(free_port)
start_nats "$PORT"
DB="$T/hostile.db"
start_notify
start_latticed --db "$DB" --nats "nats://127.0.0.1:$PORT"
wait_ready 20
SCHEMA0=$(q "select type, name, sql from sqlite_master order by name")

SQLI="N'); DROP TABLE hosts;--"
QUOTES="N\"q'u\`o\\te"
ESC=$'N\e[31mred\e[0m\e]0;title\a'
BIDI=$'Nabc\u202edcba\u2066x\u00e9\U0001F600'
for H in "$SQLI" "$QUOTES" "$ESC" "$BIDI"; do
	hj=$("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$H")
	g hb hostile "$H" host_id="$hj" friendly_name="$hj" \
	    labels="{$hj: $hj, \"sql\": \"'); DROP TABLE components;--\"}" \
	    components="[{\"id\": $hj, \"image_ref\": $hj, \"max_instances\": 1,
	      \"annotations\": {\"k\": $hj}}]" | pub
done
wait_q 10 "select count(*) from hosts where lattice='hostile'" 4
for H in "$SQLI" "$QUOTES" "$ESC" "$BIDI"; do
	hx=$(hexof "$H")
	# bound, never interpreted: the exact bytes come back
	[ "$(q "select count(*) from hosts where hex(host_id)='$hx' and
	    hex(friendly_name)='$hx' and
	    (select hex(value) from json_each(hosts.labels)
	    where key = hosts.host_id)='$hx'")" = 1 ] ||
	    fail "host $(printf %q "$H") not stored exactly: $(q "select quote(host_id), quote(friendly_name), quote(labels) from hosts where lattice='hostile'")"
	[ "$(q "select count(*) from components where hex(host_id)='$hx' and
	    hex(component_id)='$hx' and hex(image_ref)='$hx' and
	    hex(json_extract(annotations, '\$.k'))='$hx'")" = 1 ] ||
	    fail "component of $(printf %q "$H") not stored exactly"
	[ "$(q "select count(*) from events where hex(source)='$hx' and
	    hex(host_id)='$hx'")" = 1 ] || fail "event of $(printf %q "$H")"
done
ok "quotes, SQL, ESC/OSC sequences, bidi controls, emoji stored byte for byte"

# the lattice comes from the subject: a quote in a subject token is data
LQ="l'q\"x"
g hb "$LQ" NLQHOST | pub
wait_q 10 "select count(*) from hosts where hex(lattice)='$(hexof "$LQ")'" 1
ok "lattice with quotes from the subject stored exactly"

# rejected with a reason: NUL (escaped), invalid UTF-8 and raw control
# bytes (sent raw), a lone surrogate
nrej=$(q "select count(*) from rejected_events")
reject() {
	local name=$1
	pub
	nrej=$((nrej + 1))
	wait_q 10 "select count(*) from rejected_events" "$nrej"
	row=$(q "select error || '|' || reason || '|' || coalesce(field, '')
	    from rejected_events order by seq desc limit 1")
	case "$row" in
	parse\|?*|invalid\|?*) ;;
	*) fail "$name: rejected as '$row'" ;;
	esac
	ok "$name rejected: $row"
}
shopt -s lastpipe
# first (reject warnings are rate-limited): a subject is attacker text too
# its ESC reaches the log escaped
printf '%s\n' '{"subject": "wasmbus.evt.l\u001b[31mX.host_heartbeat", "raw": "{bad"}' |
    reject "bad JSON on a subject with ESC"
wait_log 'subject=wasmbus\.evt\.l\\x1b\[31mX'
if grep -q $'\e' "$T/latticed.log"; then
	fail "raw ESC byte in latticed's log"
fi
ok "log lines escape control bytes from subjects"
g hb hostile NNULHOST raw host_id='"NNUL\u0000HOST"' |
    reject "NUL in host_id"
g hb hostile NNULLABEL raw labels='{"a":"x\u0000y"}' | reject "NUL in a label"
g hb hostile NBADUTF8 rawfn=4e80ff | reject "invalid UTF-8"
g hb hostile NOVERLONG rawfn=c0af | reject "overlong UTF-8"
g hb hostile NRAWCTL rawfn=411b5b3331 | reject "raw ESC byte in a string"
g hb hostile NSURR raw friendly_name='"\ud800"' | reject "lone surrogate"
g raw hostile "7b2769273a31" | reject "not JSON"
[ "$(q "select count(*) from hosts where lattice='hostile' and
    (host_id like 'NNUL%' or host_id in ('NBADUTF8', 'NOVERLONG', 'NRAWCTL',
    'NSURR'))")" = 0 ] || fail "a rejected event made a host"
# the rejected raw bytes are kept exactly, as a blob
q "select count(*) from rejected_events where instr(raw, x'4e80ff') > 0" |
    grep -qx 1 || fail "raw invalid UTF-8 not kept byte for byte"
ok "rejects change no state; raw bytes kept"

# An escaped key names the member cJSON sees: "d\u0061ta" is data, stored
# as sent.  Beside a plain "data" (or any two members of one name) the
# event is refused: cJSON and SQLite read the first, Python and jq the
# last, and SQLite matches escaped names raw, so the stored history could
# say NESCFAKE of a host folded as NESCREAL.  ltpub sends "raw" byte for
# byte (an "event" would be re-serialised).
cat >"$T/esc.jsonl" <<'JSON'
{"specversion":"1.0","id":"esc-1","source":"NESCREAL","type":"com.wasmcloud.lattice.host_started","time":"2026-12-07T00:00:00Z","d\u0061ta":{"host_id":"NESCREAL","labels":{},"version":"1.9.2"},"data":{"host_id":"NESCFAKE","labels":{}}}
{"specversion":"1.0","id":"esc-2","source":"NESCDUP","type":"com.wasmcloud.lattice.host_started","time":"2026-12-07T00:00:00Z","data":{"host_id":"NESCDUP","labels":{"zone":"a","zone":"b"},"version":"1.9.2"}}
{"specversion":"1.0","id":"esc-3","source":"NESCONE","type":"com.wasmcloud.lattice.host_started","time":"2026-12-07T00:00:00Z","d\u0061ta":{"host_id":"NESCONE","labels":{},"version":"1.9.2"}}
JSON
nrej=$(q "select count(*) from rejected_events")
"$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    print(json.dumps({"subject": "wasmbus.evt.hostile.host_started",
        "raw": l.strip()}))' "$T/esc.jsonl" | pub
wait_q 10 "select count(*) from hosts where host_id='NESCONE'" 1
wait_q 10 "select count(*) from rejected_events" $((nrej + 2))
[ "$(q "select data from events where id='esc-3'")" = \
    '{"host_id":"NESCONE","labels":{},"version":"1.9.2"}' ] ||
    fail "escaped data not stored as sent: $(q "select data from events where id='esc-3'")"
[ "$(q "select count(*) from hosts where host_id like 'NESC%'")" = 1 ] ||
    fail "hosts: $(q "select host_id from hosts where host_id like 'NESC%'")"
[ "$(q "select count(*) from events where id in ('esc-1', 'esc-2')")" = 0 ] ||
    fail "an event with a repeated name was folded"
[ "$(q "select error || '|' || reason from rejected_events
    where instr(raw, '\"id\":\"esc-1\"') > 0")" = \
    "invalid|duplicate member name at byte 193" ] ||
    fail "esc-1 rejection: $(q "select error, reason, raw from rejected_events order by seq desc limit 2")"
[ "$(q "select error || '|' || reason from rejected_events
    where instr(raw, '\"id\":\"esc-2\"') > 0")" = \
    "invalid|duplicate member name at byte 176" ] ||
    fail "esc-2 rejection: $(q "select error, reason, raw from rejected_events order by seq desc limit 2")"
ok "escaped names are decoded; two members of one name are refused, kept"

# still folding, schema untouched
g hb hostile NAFTER | pub
wait_q 10 "select count(*) from hosts where host_id='NAFTER'" 1
[ "$(q "select type, name, sql from sqlite_master order by name")" = "$SCHEMA0" ] ||
    fail "schema changed"
q "pragma integrity_check" | grep -qx ok || fail "integrity_check"
q "pragma foreign_key_check" | grep -q . && fail "foreign key violations"
ok "schema intact, still folding"

# latticectl's table output: escaped, never a raw control character
"$CTL" --db "$DB" hosts --lattice hostile >"$T/ctl.out" 2>"$T/ctl.err" ||
    fail "latticectl hosts: $(cat "$T/ctl.err")"
"$CTL" --db "$DB" components --lattice hostile >>"$T/ctl.out" 2>>"$T/ctl.err" ||
    fail "latticectl components: $(cat "$T/ctl.err")"
"$PY" - "$T/ctl.out" <<'PY' || fail "latticectl printed raw controls"
import sys
b = open(sys.argv[1], "rb").read()
bad = [c for c in b if (c < 0x20 and c not in (0x0a,)) or c == 0x7f]
t = b.decode("utf-8")          # must be valid UTF-8 too
bidi = [ch for ch in t if ch in "\u202a\u202b\u202c\u202d\u202e"
        "\u2066\u2067\u2068\u2069\u200e\u200f\u2028\u2029"
        or 0x80 <= ord(ch) <= 0x9f]
if bad or bidi:
    sys.exit("raw control bytes %r, bidi/C1 %r" % (bad[:5], bidi[:5]))
PY
grep -qF '\x1b[31mred' "$T/ctl.out" || fail "ESC not shown escaped: $(cat -v "$T/ctl.out")"
grep -qF "DROP TABLE hosts;--" "$T/ctl.out" || fail "SQL id not printed"
ok "latticectl escapes control characters (no raw ESC, C1 or bidi)"

stop_latticed TERM || fail "latticed exit status"
