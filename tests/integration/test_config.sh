#!/usr/bin/env bash
# The config file without traps, and no secret in any refusal.
#
# Lists split on commas and/or blanks; quoted values keep '#' and blanks;
# every error, semantic ones too, carries file:line; -n fails on a missing
# file; -n -v prints the effective config with secrets redacted; non-NATS
# schemes are refused for nats_url.  A bad Alertmanager URL carrying a
# password is refused by -n and by a real start, and neither prints the
# password; -n refuses every sink setting a start would refuse.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PW='am-S3CRET-4e1f'
NPW='nats-S3CRET-77c0'

# nocheat FILE...: no secret in any of them
nosecret() {
	local f
	for f in "$@"; do
		if grep -qF -e "$PW" -e "$NPW" -e 'pa#ss w0rd' "$f"; then
			fail "secret in $f: $(cat "$f")"
		fi
	done
}

# Lists: blanks, commas, both
cat >"$T/list.conf" <<CONF
db $T/x.db
lattices default prod
lattices  a,b , c
nats_url nats://u:$NPW@127.0.0.1:4222 tls://127.0.0.1:4443,127.0.0.1:4224
nats_user bob
nats_password "pa#ss w0rd"   # a comment after a quoted value
nats_token tok#en
alert_command /bin/true a,b https://hook:$PW@hooks.example.org/x
CONF
"$LATTICED_BIN" -n -v -f "$T/list.conf" >"$T/list.out" 2>"$T/list.err" ||
    fail "-n list.conf: $(cat "$T/list.err")"
grep -qx 'lattices *default, prod, a, b, c' "$T/list.out" ||
    fail "lattices not split: $(grep lattices "$T/list.out")"
grep -qx "nats_url *nats://u:xxxxx@127.0.0.1:4222, tls://127.0.0.1:4443, 127.0.0.1:4224" \
    "$T/list.out" || fail "nats_url: $(grep nats_url "$T/list.out")"
grep -qx 'nats_password *xxxxx # redacted' "$T/list.out" || fail "password shown"
grep -qx 'nats_token *xxxxx # redacted' "$T/list.out" || fail "token shown"
grep -qx 'alert_command */bin/true a,b https://hook:xxxxx@hooks.example.org/x' \
    "$T/list.out" || fail "alert_command: $(grep alert_command "$T/list.out")"
nosecret "$T/list.out" "$T/list.err"
ok "lists split on blanks and commas; -n -v redacts"

# Quoted values keep '#' and blanks (seen through a value -n -v shows)
printf 'db "%s/a #b.db"  # comment\nalert_nats_subject x#y\n' "$T" >"$T/q.conf"
"$LATTICED_BIN" -n -v -f "$T/q.conf" >"$T/q.out" 2>&1 || fail "q.conf: $(cat "$T/q.out")"
grep -qxF "db                       \"$T/a #b.db\"" "$T/q.out" ||
    fail "quoted db: $(grep '^db' "$T/q.out")"
grep -qx 'alert_nats_subject *"x#y"' "$T/q.out" || fail "# inside a word cut"
ok "quoted values keep # and blanks; # inside a word is not a comment"

# Every error has file:line, semantic ones included
cat >"$T/bad.conf" <<CONF
lattices ok
nats_url http://h:4222
tls_cert /x.pem
nats_password "unterminated
js_mode sideways
nats_nkey_seed /seed
CONF
rc=0; "$LATTICED_BIN" -n -f "$T/bad.conf" 2>"$T/bad.err" || rc=$?
[ "$rc" = 1 ] || fail "bad.conf: exit $rc"
for l in 2 3 4 5 6; do
	grep -q "^$T/bad.conf:$l: " "$T/bad.err" || fail "no error at line $l: $(cat "$T/bad.err")"
done
grep -q "bad.conf:2: nats_url: \"http://h:4222\" is not a NATS URL" "$T/bad.err" ||
    fail "http:// nats_url"
grep -v "^$T/bad.conf:[0-9]*: " "$T/bad.err" && fail "an error without a line"
ok "every error carries file:line"

# -n on a missing file fails (with or without -f)
rc=0; "$LATTICED_BIN" -n -f "$T/nope.conf" 2>"$T/nope.err" || rc=$?
[ "$rc" = 1 ] && grep -q "nope.conf" "$T/nope.err" || fail "-n -f missing: $rc"
rc=0; CONFIGURATION_DIRECTORY="$T/nodir" "$LATTICED_BIN" -n 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "-n on a missing default file said OK"
ok "-n fails on a missing file"

# Alertmanager URL with a password: -n and a real start refuse it, quietly
printf 'db %s/am.db\nalert_alertmanager_url http://alice:%s@127.0.0.1:9/\n' \
    "$T" "$PW" >"$T/am.conf"
rc=0; "$LATTICED_BIN" -n -f "$T/am.conf" >"$T/am.n" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "-n took a password in alert_alertmanager_url"
grep -q "am.conf:2: alert_alertmanager_url" "$T/am.n" || fail "am -n: $(cat "$T/am.n")"
rc=0; "$LATTICED_BIN" -d -v -v -f "$T/am.conf" >"$T/am.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "start with a password in the URL: exit $rc"
grep -q 'alice:xxxxx@' "$T/am.log" || fail "start: $(cat "$T/am.log")"
nosecret "$T/am.n" "$T/am.log"
ok "alert_alertmanager_url with a password: refused, never logged"

# -n refuses what the sink refuses at start (query, no host, bad scheme)
for url in "http://127.0.0.1:9093/?x=1" "http:///api" "https://a:$PW@h/"; do
	printf 'db %s/am.db\nalert_alertmanager_url %s\n' "$T" "$url" >"$T/am2.conf"
	rc=0; "$LATTICED_BIN" -n -f "$T/am2.conf" >"$T/am2.n" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "-n took $url: $(cat "$T/am2.n")"
	grep -q "am2.conf:2: " "$T/am2.n" || fail "no line for $url: $(cat "$T/am2.n")"
	nosecret "$T/am2.n"
done
printf 'db %s/c.db\nalert_command relative/path\n' "$T" >"$T/cmd.conf"
! "$LATTICED_BIN" -n -f "$T/cmd.conf" 2>/dev/null || fail "relative alert_command"
ok "-n refuses every alert sink setting start-up refuses"

# A NATS URL with a password and a wrong scheme: refused, redacted
printf 'db %s/n.db\nnats_url https://u:%s@127.0.0.1:4222\n' "$T" "$NPW" >"$T/n.conf"
rc=0; "$LATTICED_BIN" -d -f "$T/n.conf" >"$T/n.log" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "n.conf:2: nats_url: .*is not a NATS URL" "$T/n.log" ||
    fail "https nats_url: $rc $(cat "$T/n.log")"
nosecret "$T/n.log"
ok "non-NATS scheme refused for nats_url, password redacted"

# Usage errors exit 2 and say what was wrong; -V has the schema version
rc=0; "$LATTICED_BIN" --no-such-flag 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--no-such-flag" "$T/u.err" || fail "bad flag: $rc"
rc=0; "$LATTICED_BIN" -f 2>"$T/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "-f needs an argument" "$T/u.err" || fail "-f: $rc"
"$LATTICED_BIN" -V | grep -qE '^latticed [0-9.]+ \(database schema version [0-9]+\)$' ||
    fail "-V: $("$LATTICED_BIN" -V)"
for f in -f -d -n -v -V --db --nats --replay --help; do
	"$LATTICED_BIN" --help | grep -qE "^  ($f|-., $f|-., --[a-z]+)( |,)" ||
	    "$LATTICED_BIN" --help | grep -qE "^  .*$f " || fail "--help lacks $f"
done
ok "usage errors exit 2; --help lists every flag; -V shows the schema"

# Names that go into subjects are refused, never cut: a lattice name that
# would not fit one, a js_stream too long for its position key
long=$(printf 'l%.0s' $(seq 250))
printf 'db %s/l.db\nlattices ok, %s\n' "$T" "$long" >"$T/long.conf"
rc=0; "$LATTICED_BIN" -n -f "$T/long.conf" >"$T/long.err" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'long.conf:2: invalid lattice name "l\{40\}\.\.\." (at most 200 bytes' "$T/long.err" ||
    fail "long lattice: $rc $(cat "$T/long.err")"
printf 'db %s/l.db\njetstream yes\njs_stream %s\n' "$T" "$long" >"$T/longjs.conf"
rc=0; "$LATTICED_BIN" -n -f "$T/longjs.conf" >"$T/longjs.err" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'longjs.conf:3: js_stream and js_durable take at most 200 bytes' "$T/longjs.err" ||
    fail "long js_stream: $rc $(cat "$T/longjs.err")"
ok "a lattice or stream name too long for a subject is refused with file:line, never cut"

# v2_lattice and the lattice side of v2_lattice_map are lattice names too
# ("*" is fleet_silent's); an environment on the left is only a key
printf 'db %s/v.db\nv2_lattice *\n' "$T" >"$T/v2a.conf"
rc=0; "$LATTICED_BIN" -n -f "$T/v2a.conf" >"$T/v2a.err" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'v2a.conf:2: v2_lattice: "\*" is not a lattice name' "$T/v2a.err" ||
    fail "v2_lattice *: $rc $(cat "$T/v2a.err")"
printf 'db %s/v.db\nv2_lattice_map prod.eu=prod-eu,dev=a.b\n' "$T" >"$T/v2m.conf"
rc=0; "$LATTICED_BIN" -n -f "$T/v2m.conf" >"$T/v2m.err" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'v2m.conf:2: v2_lattice_map: "a.b" is not a lattice name' "$T/v2m.err" ||
    fail "v2_lattice_map dev=a.b: $rc $(cat "$T/v2m.err")"
printf 'db %s/v.db\nv2_lattice_map prod.eu=prod-eu\n' "$T" >"$T/v2ok.conf"
"$LATTICED_BIN" -n -f "$T/v2ok.conf" >"$T/v2ok.err" 2>&1 ||
    fail "v2_lattice_map prod.eu=prod-eu refused: $(cat "$T/v2ok.err")"
ok "v2_lattice and v2_lattice_map's lattices must be lattice names"
