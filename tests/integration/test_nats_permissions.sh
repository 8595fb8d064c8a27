#!/usr/bin/env bash
# The NATS permission blocks in docs/security.md (and the README's copy)
# are the test input, taken from the file as they are: nats-server runs
# with each block (plus an unrestricted user for the host and the test),
# latticed logs in as user latticed, starts, resyncs (ctlresponder answers
# the control interface and has a config bucket) and folds an event, in
# core and in JetStream mode, and neither nats-server nor latticed reports
# a permissions violation.  The same run with one line removed from the
# block must report one, so the check can fail.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_ctlr

# block FILE NAME: the fenced block after <!-- test_nats_permissions: NAME -->
block() {
	awk -v tag="<!-- test_nats_permissions: $2 -->" '
		$0 == tag { armed = 1; next }
		armed && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$1"
}
DOC="$LATTICED_SOURCE_DIR/docs/security.md"
block "$DOC" core >"$T/core.block"
block "$DOC" jetstream >"$T/jetstream.block"
block "$LATTICED_SOURCE_DIR/README.md" core >"$T/readme.block"
for b in core jetstream; do
	grep -q 'user: latticed' "$T/$b.block" || fail "no $b block in docs/security.md"
done
cmp -s "$T/core.block" "$T/readme.block" ||
    fail "README's block differs from docs/security.md's: $(diff "$T/core.block" "$T/readme.block")"
ok "blocks extracted (README's copy is identical)"

export LATTICED_PASS="pw-$$-latticed"
HOSTPASS="pw-$$-host"
cat >"$T/fixture.json" <<'JSON'
{"lattice": "prod",
 "hosts": [{"host_id": "NPRODHOSTA", "friendly_name": "alpha", "version": "1.9.2",
   "labels": {}, "uptime_seconds": 60,
   "components": [{"id": "echo", "image_ref": "ghcr.io/x/echo:0.1.0",
     "max_instances": 2, "revision": 0}], "providers": []}],
 "links": [{"source_id": "echo", "target": "kv", "name": "default",
   "wit_namespace": "wasi", "wit_package": "keyvalue",
   "interfaces": ["store"], "source_config": [], "target_config": []}],
 "configs": {"echo-cfg": {"k": "v"}}}
JSON

# run MODE BLOCKFILE: nats-server with the block, ctlresponder, latticed;
# leaves the logs in $T/MODE.*.log
run() {
	local mode=$1 blk=$2 url hurl
	# the doc's block, plus an unrestricted user for hosts and the test
	{
		echo "jetstream { store_dir: \"$T/js-$mode\" }"
		sed "s|^\\(  users = \\[\\)\$|\\1\\n    { user: host, password: $HOSTPASS }|" "$blk"
	} >"$T/nats-$mode.conf"
	grep -q 'user: host' "$T/nats-$mode.conf" || fail "could not add the host user"
	: >"$T/nats.log"
	PORT=$(free_port)
	start_nats "$PORT" -c "$T/nats-$mode.conf"
	url="nats://127.0.0.1:$PORT"
	hurl="nats://host:$HOSTPASS@127.0.0.1:$PORT"
	"$CTLR" --nats "$hurl" --fixture "$T/fixture.json" --kv \
	    >"$T/ctlr-$mode.out" 2>"$T/ctlr-$mode.log" &
	CTLR_PID=$!
	PIDS+=("$CTLR_PID")
	wait_for 10 grep -q ready "$T/ctlr-$mode.out" || fail "$mode: ctlresponder"
	DB="$T/$mode.db"
	cat >"$T/$mode.conf" <<CONF
db $DB
nats_url $url
nats_user latticed
nats_password $LATTICED_PASS
lattices prod
resync_gather 500ms
CONF
	[ "$mode" != jetstream ] || echo "jetstream yes" >>"$T/$mode.conf"
	: >"$T/latticed.log"
	start_latticed -f "$T/$mode.conf"
	wait_log 'resync: #1 done' 20
	ev host_started prod NPRODHOSTB 1 | "$LTPUB_BIN" --nats "$hurl" - \
	    2>>"$T/ltpub.log" || fail "ltpub"
	wait_for 15 q_is "select count(*) from hosts where lattice='prod' and status='up'" 2 || true
	stop_latticed || fail "$mode: latticed exit status"
	kill "$CTLR_PID" 2>/dev/null || true
	wait "$CTLR_PID" 2>/dev/null || true
	stop_nats
	cp "$T/nats.log" "$T/$mode.nats.log"
	cp "$T/latticed.log" "$T/$mode.latticed.log"
}

violations() {
	grep -hiE 'violation|not permitted|permission' "$T/$1.nats.log" \
	    "$T/$1.latticed.log" || true
}

for mode in core jetstream; do
	run "$mode" "$T/$mode.block"
	v=$(violations "$mode")
	[ -z "$v" ] || fail "$mode: permissions violations:
$v"
	grep -q 'resync: lattice=prod: 1 host(s) answered, 1 inventories, 1 links, 1 configs observed' \
	    "$T/$mode.latticed.log" || fail "$mode: resync incomplete: $(grep resync "$T/$mode.latticed.log")"
	[ "$(q "select count(*) from hosts where lattice='prod' and status='up'")" = 2 ] ||
	    fail "$mode: hosts $(q "select host_id, status from hosts")"
	[ "$(q "select count(*) from configs where lattice='prod'")" = 1 ] ||
	    fail "$mode: configs"
	[ "$(q "select count(*) from events where id not like 'resync-%'")" = 1 ] ||
	    fail "$mode: the published event was not folded"
	if [ "$mode" = jetstream ]; then
		grep -q 'consumer latticed on latticed_events created' \
		    "$T/$mode.latticed.log" || fail "jetstream: no consumer"
	fi
	ok "$mode: started, resynced (host, link, config) and folded under the documented block, no violation"
done

# the check can fail: without the config bucket's line, resync is refused
grep -v 'KV_CONFIGDATA_prod' "$T/core.block" | sed 's/config.get.\*",$/config.get.*"] }/' \
    >"$T/narrow.block"
run narrow "$T/narrow.block"
v=$(violations narrow)
[ -n "$v" ] || fail "a block missing a subject gave no violation: the check cannot fail"
ok "a block missing one subject is caught: $(printf '%s\n' "$v" | head -1 | cut -c1-120)"
