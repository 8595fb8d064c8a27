#!/usr/bin/env bash
# Resync follows wasmCloud 1.x hosts started with --ctl-topic-prefix and
# --js-domain: latticed's ctl_topic_prefix puts its requests on
# <prefix>.v1.<lattice>..., and js_domain looks the CONFIGDATA_<lattice>
# bucket up through $JS.<domain>.API.  A wrong domain finds no configs;
# the default prefix finds no hosts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_ctlr

PORT=$(free_port)
cat >"$T/nats.conf" <<CONF
jetstream {
	store_dir: "$T/store"
	domain: hub
}
CONF
start_nats "$PORT" -c "$T/nats.conf"
URL="nats://127.0.0.1:$PORT"
cat >"$T/fixture.json" <<'JSON'
{"lattice": "px",
 "hosts": [
  {"host_id": "NPXHOSTA", "friendly_name": "alpha-1", "version": "1.9.2",
   "labels": {}, "uptime_seconds": 10,
   "components": [{"id": "echo", "image_ref": "ghcr.io/x/echo:0.1.0",
     "max_instances": 2, "revision": 0}],
   "providers": []}],
 "links": [],
 "configs": {"px-cfg": {"k": "v"}}}
JSON
"$CTLR" --nats "$URL" --fixture "$T/fixture.json" --kv \
    --ctl-topic-prefix acme.ctl --js-domain hub \
    >"$T/ctlr.out" 2>"$T/ctlr.log" &
PIDS+=("$!")
wait_for 10 grep -q ready "$T/ctlr.out" || fail "ctlresponder: $(cat "$T/ctlr.log")"

run() {	# run NAME CONFIG-LINES...: one latticed until its first resync ends
	local name=$1
	shift
	DB="$T/$name.db"
	{
		echo "db $DB"
		echo "nats_url $URL"
		echo "lattices px"
		echo "resync_gather 500ms"
		printf '%s\n' "$@"
	} >"$T/$name.conf"
	: >"$T/latticed.log"
	start_latticed -f "$T/$name.conf"
	wait_log 'resync: #1 done' 15
	stop_latticed || fail "$name: exit status"
}

run plain
[ "$(q "select count(*) from hosts")" = 0 ] ||
    fail "default prefix: hosts found on acme.ctl"
ok "the default prefix does not reach hosts started with another"

run prefix "ctl_topic_prefix acme.ctl" "js_domain hub"
[ "$(q "select host_id || ' ' || status from hosts")" = "NPXHOSTA up" ] ||
    fail "ctl_topic_prefix: hosts: $(q "select * from hosts")"
[ "$(q "select component_id from components")" = echo ] ||
    fail "ctl_topic_prefix: inventory"
[ "$(q "select config_name from configs")" = px-cfg ] ||
    fail "js_domain: configs: $(q "select * from configs")"
ok "ctl_topic_prefix and js_domain: hosts, inventory and configs restored"

run wrongdomain "ctl_topic_prefix acme.ctl" "js_domain nope"
[ "$(q "select count(*) from hosts")" = 1 ] || fail "wrong domain: hosts"
[ "$(q "select count(*) from configs")" = 0 ] ||
    fail "a wrong js_domain still found the bucket"
ok "the bucket is looked up in the configured domain"

# config checks
printf 'db %s\nctl_topic_prefix bad..prefix\njs_domain a.b\nv2_lattice_map prod\n' \
    "$T/x.db" >"$T/bad.conf"
if "$LATTICED_BIN" -n -f "$T/bad.conf" >"$T/bad.out" 2>&1; then
	fail "bad keys accepted"
fi
for k in ctl_topic_prefix js_domain v2_lattice_map; do
	grep -q "$k" "$T/bad.out" || fail "no error for $k: $(cat "$T/bad.out")"
done
ok "bad ctl_topic_prefix, js_domain and v2_lattice_map are reported"
