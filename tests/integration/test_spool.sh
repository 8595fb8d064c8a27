#!/usr/bin/env bash
# The inbox spool (inbox_spool; lib/spool.h): in core NATS a burst the
# inbox cannot hold is kept in <db>.spool and folded whole, in the order
# it came; past the spool's bound messages are shed as before, and every
# one is accounted for (rows + the shutdown line's drops); the file is
# emptied when read, removed at exit, and what a killed run left is
# discarded (logged) at the next start.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl

PORT=$(free_port)
start_nats "$PORT"
N=5000
ev component_scaled sp SPHOST "$N" >"$T/burst.jsonl"
# the CloudEvent ids in publish order
"$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["event"]["id"])' "$T/burst.jsonl" >"$T/sent.ids"

# run NAME [conf lines...]: a latticed of its own (inbox_max 100), the
# burst published at once
run() {
	local name=$1
	shift
	DB="$T/$name.db"
	{
		printf 'db %s\nnats_url nats://127.0.0.1:%s\ninbox_max 100\n' \
		    "$DB" "$PORT"
		printf '%s\n' "$@"
	} >"$T/$name.conf"
	mv "$T/latticed.log" "$T/latticed.log.before-$name" 2>/dev/null || true
	start_latticed -f "$T/$name.conf"
	wait_log 'ready: subscriptions live' 15
	pub <"$T/burst.jsonl"
}
# dropped: the shutdown line's count
dropped() {
	sed -n 's/.*shutdown: folded .*, \([0-9]*\) dropped).*/\1/p' \
	    "$T/latticed.log" | tail -1
}

# --- (a) the default spool: all of it folded, in order
run whole
wait_q 60 "select count(*) from events where lattice = 'sp'" "$N"
q "select id from events where lattice = 'sp' order by rowid" >"$T/folded.ids"
cmp -s "$T/sent.ids" "$T/folded.ids" ||
    fail "whole: folded in another order than published"
grep -q "nats: the inbox is full: keeping messages in $DB.spool" \
    "$T/latticed.log" || fail "whole: no spool line"
wait_log 'nats: inbox spool emptied: [0-9]* messages kept on disk' 10
[ -f "$DB.spool" ] || fail "whole: no spool file while running"
[ "$(stat -c %s "$DB.spool")" = 0 ] || fail "whole: spool not emptied once read"
stop_latticed TERM || fail "whole: exit status"
[ "$(dropped)" = 0 ] || fail "whole: $(dropped) dropped"
# each once: a message given twice would fold (as a duplicate) twice
grep -q "shutdown: folded $N messages (0 rejected, 0 dropped)" \
    "$T/latticed.log" ||
    fail "whole: $(grep -o 'shutdown: folded.*' "$T/latticed.log")"
[ ! -e "$DB.spool" ] || fail "whole: spool file left after exit"
ok "spool: $N messages into an inbox of 100, all folded in publish order; $(grep -o 'spool emptied: [0-9]* messages' "$T/latticed.log")"

# --- (b) a spool of 64 KiB: the rest shed, every message accounted for
HP=$(free_port)
run small 'inbox_spool 64k' "http_listen 127.0.0.1:$HP"
wait_log 'inbox spool: spool full' 30
# folded + dropped (latticed_inbox_overflows_total) reach what was sent
accounted() {
	local o
	o=$(curl -fsS "http://127.0.0.1:$HP/metrics" |
	    awk '$1 == "latticed_inbox_overflows_total" { print $2 }')
	[ -n "$o" ] && [ $(( $(q "select count(*) from events where lattice = 'sp'") + o )) = "$N" ]
}
wait_for 60 accounted || fail "small: folded + dropped never reached $N"
stop_latticed TERM || fail "small: exit status"
folded=$(q "select count(*) from events where lattice = 'sp'")
d=$(dropped)
[ -n "$d" ] && [ "$d" -gt 0 ] || fail "small: nothing dropped ($d)"
[ $((folded + d)) = "$N" ] ||
    fail "small: $folded folded + $d dropped != $N published"
# what was folded came in order (a subsequence of what was sent)
q "select id from events where lattice = 'sp' order by rowid" >"$T/folded.ids"
"$PY" - "$T/sent.ids" "$T/folded.ids" <<'PY' || fail "small: folded out of order"
import sys
sent = [l.strip() for l in open(sys.argv[1])]
pos = {v: i for i, v in enumerate(sent)}
got = [pos[l.strip()] for l in open(sys.argv[2])]
sys.exit(0 if got == sorted(got) else 1)
PY
ok "spool of 64k: $folded folded in order + $d dropped = $N"

# --- (c) SIGTERM while the spool holds messages: what it held is said
# (a batch_delay of 2 s keeps them there)
run term 'batch_delay 2s'
wait_log 'nats: the inbox is full: keeping messages in' 30
wait_for 30 test -s "$DB.spool" || fail "term: nothing spooled"
stop_latticed TERM || fail "term: exit status"
lost=$(sed -n 's/.*nats: \([0-9]*\) messages in the inbox spool were not folded before exit.*/\1/p' \
    "$T/latticed.log")
[ -n "$lost" ] && [ "$lost" -gt 0 ] || fail "term: no line on what the spool held"
# (what nats-server had not handed over yet when latticed unsubscribed
# is core NATS's, and not counted here)
folded=$(q "select count(*) from events where lattice = 'sp'")
d=$(dropped)
[ $((folded + d + lost)) -le "$N" ] ||
    fail "term: $folded folded + $d dropped + $lost in the spool > $N"
[ ! -e "$DB.spool" ] || fail "term: spool file left after exit"
ok "SIGTERM with $lost messages in the spool: said, $folded folded, $d dropped"

# --- (d) a spool left by a killed run is discarded, and said so
run killed
wait_q 60 "select count(*) from events where lattice = 'sp'" "$N"
printf 'left over' >"$DB.spool.tmp"
stop_latticed KILL || true
mv "$DB.spool.tmp" "$DB.spool"
: >"$T/latticed.log"
start_latticed -f "$T/killed.conf"
wait_log 'ready: subscriptions live' 15
grep -q "inbox spool: $DB.spool held 9 bytes of messages from the previous run, not folded: discarded" \
    "$T/latticed.log" || fail "killed: no line on the spool left"
[ "$(stat -c %s "$DB.spool")" = 0 ] || fail "killed: the old spool was kept"
stop_latticed TERM || fail "killed: exit status"
ok "a spool left by a killed run: discarded at the next start, with a log line"
