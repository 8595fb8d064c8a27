#!/usr/bin/env bash
# latticectl against a database a running latticed writes: latticed-sim
# (story mode, heartbeats every 300 ms) feeds latticed through NATS; while
# it runs every latticectl command works in table and --json form, the
# host the sim stops is listed by `hosts --status stopped`, `--watch
# --json` prints a new array as events arrive, and latticed is never
# disturbed (keeps folding, no "database is locked").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SIM_BIN="${SIM_BIN:-$LATTICED_BUILD_DIR/tools/sim/latticed-sim}"
CTL="${LATTICECTL_BIN:-$LATTICED_BUILD_DIR/tools/latticectl/latticectl}"
[ -x "$SIM_BIN" ] || fail "latticed-sim not built: $SIM_BIN"
[ -x "$CTL" ] || fail "latticectl not built: $CTL"

PORT=$(free_port)
start_nats "$PORT"
URL="nats://127.0.0.1:$PORT"
DB="$T/live.db"
cat >"$T/live.conf" <<CONF
db $DB
nats_url $URL
lattices *
batch_delay 20ms
checkpoint_interval 1s
CONF
start_latticed -f "$T/live.conf"
wait_log 'ready: subscriptions live'

# 12 s of story: the host stop comes at 2/5 of it (~4.8 s)
"$SIM_BIN" --nats "$URL" --mode story --hosts 5 --lattices 2 \
    --heartbeat-interval 300ms --duration 12s --seed 7 \
    >>"$T/sim.log" 2>&1 &
SIMPID=$!
PIDS+=("$SIMPID")

# ctl NAME ARGS...: run latticectl, output in $T/NAME.out, fail on error
ctl() {
	local name=$1 rc=0
	shift
	"$CTL" --db "$DB" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	[ "$rc" = 0 ] || fail "latticectl $* exited $rc: $(cat "$T/$name.err")"
	[ ! -s "$T/$name.err" ] || fail "latticectl $* stderr: $(cat "$T/$name.err")"
}

# jcheck FILE MIN KEYS...: a JSON array of >= MIN objects with these keys
jcheck() {
	"$PY" - "$@" <<'PY' || fail "json check $*"
import json, sys
path, least, keys = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with open(path) as f:
    text = f.read()
assert text.count("\n") == 1, "not one line"
a = json.loads(text)
assert isinstance(a, list), "not an array"
assert len(a) >= least, "%d rows, want >= %d" % (len(a), least)
for row in a:
    missing = [k for k in keys if k not in row]
    assert not missing, "missing %s in %s" % (missing, row)
PY
}

# theader FILE COLUMNS...: the table's header names these columns and
# there is at least one row under it
theader() {
	local f=$1 c
	shift
	for c in "$@"; do
		head -n 1 "$f" | grep -qw -- "$c" || fail "$f: no column $c: $(head -n 1 "$f")"
	done
	[ "$(wc -l <"$f")" -ge 2 ] || fail "$f: no rows"
}

# wait until the story set up links and configs (half a heartbeat in)
wait_for 15 q_is "select count(*) > 0 from links" 1 || fail "no links folded"
wait_for 15 q_is "select count(*) > 0 from configs" 1 || fail "no configs folded"
seq0=$(q "select max(seq) from events")

ctl hosts hosts
theader "$T/hosts.out" LATTICE NAME HOST_ID STATUS SILENT AGE
ctl hosts_j --json hosts
jcheck "$T/hosts_j.out" 3 lattice host_id status last_seen_ms last_seen_at
ctl comps components
theader "$T/comps.out" LATTICE COMPONENT_ID HOST HOST_ID IMAGE_REF MAX
ctl comps_j --json components
jcheck "$T/comps_j.out" 1 lattice host_id component_id image_ref max_instances
ctl provs providers
theader "$T/provs.out" LATTICE PROVIDER_ID HOST HOST_ID HEALTH
ctl provs_j --json providers
jcheck "$T/provs_j.out" 1 lattice host_id provider_id link_name health
ctl links links
theader "$T/links.out" LATTICE SOURCE_ID NAME TARGET
ctl links_j --json links
jcheck "$T/links_j.out" 1 lattice source_id name target interfaces
ctl configs configs
theader "$T/configs.out" LATTICE CONFIG_NAME
ctl configs_j --json configs
jcheck "$T/configs_j.out" 1 lattice config_name updated_ms
ctl ev events --limit 5
theader "$T/ev.out" SEQ AGE LATTICE TYPE HOST HOST_ID OUTCOME
[ "$(wc -l <"$T/ev.out")" = 6 ] || fail "events --limit 5: $(cat "$T/ev.out")"
ctl ev_j --json events --limit 5
jcheck "$T/ev_j.out" 5 seq lattice type id source data
"$PY" - "$T/ev_j.out" <<'PY' || fail "events --json not newest first"
import json, sys
a = json.load(open(sys.argv[1]))
seqs = [r["seq"] for r in a]
assert len(a) == 5 and seqs == sorted(seqs, reverse=True), seqs
PY
ok "hosts, components, providers, links, configs, events: table and --json while latticed writes"

# --watch --json events: streamed, one array per batch of new events
"$CTL" --db "$DB" --watch --json --interval 200ms events --limit 1 \
    >"$T/watch.out" 2>"$T/watch.err" &
WPID=$!
PIDS+=("$WPID")
# two arrays at least: the first (the newest event at start) and one more
# for an event published once the first is out (on a loaded machine the
# story may be over by now); waiting on the output, not on the clock
watch_arrays() { [ "$(grep -c . "$T/watch.out" 2>/dev/null)" -ge "$1" ]; }
wait_for 20 watch_arrays 1 ||
    fail "--watch printed nothing in 20 s: $(cat "$T/watch.err")"
ev host_heartbeat watchlat NWATCHHOST 1 | pub
wait_for 20 watch_arrays 2 ||
    fail "--watch printed $(grep -c . "$T/watch.out") arrays in 20 s: $(cat "$T/watch.err")"
kill -TERM "$WPID"
rc=0
wait "$WPID" || rc=$?
[ "$rc" = 0 ] || fail "latticectl --watch exit $rc: $(cat "$T/watch.err")"
"$PY" - "$T/watch.out" <<'PY' || fail "--watch output: $(head -c 600 "$T/watch.out")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
arrays = [json.loads(l) for l in lines]
assert len(arrays) >= 2, "%d arrays" % len(arrays)
seqs = [a[0]["seq"] for a in arrays if a]
assert len(seqs) == len(arrays), "an empty array"
assert len(set(seqs)) == len(seqs), "a repeated array: %s" % seqs
assert seqs == sorted(seqs), seqs
PY
ok "--watch --json printed $(grep -c . "$T/watch.out") arrays while events flowed"

# the host the story stops (at ~4.8 s of 12) shows up as stopped
wait_for 15 q_is "select count(*) from events where type like '%host_stopped'" 1 ||
    fail "the sim stopped no host"
stopped=$(q "select lattice || ' ' || host_id from events where type like '%host_stopped'")
ctl st hosts --status stopped
[ "$(wc -l <"$T/st.out")" = 2 ] || fail "hosts --status stopped: $(cat "$T/st.out")"
grep -q "^${stopped%% *} .* ${stopped#* } *stopped " "$T/st.out" ||
    fail "stopped host $stopped not listed: $(cat "$T/st.out")"
ctl st_j --json hosts --status stopped
"$PY" - "$T/st_j.out" "${stopped#* }" <<'PY' || fail "--json hosts --status stopped"
import json, sys
a = json.load(open(sys.argv[1]))
assert [r["host_id"] for r in a] == [sys.argv[2]], a
assert a[0]["status"] == "stopped", a
PY
ok "hosts --status stopped lists the host the sim stopped (${stopped#* })"

# latticed was never disturbed: it kept folding, no lock errors
wait "$SIMPID" || fail "latticed-sim failed: $(tail -n 3 "$T/sim.log")"
sent=$(sed -n 's/.*: \([0-9]*\) events (.*/\1/p' "$T/sim.log" | tail -n 1)
[ -n "$sent" ] || fail "sim summary: $(cat "$T/sim.log")"
wait_q 10 "select count(*) from events where lattice != 'watchlat'" "$sent"
[ "$(q "select max(seq) from events")" -gt "$seq0" ] || fail "folding stopped"
kill -0 "$LATTICED_PID" 2>/dev/null || fail "latticed exited"
grep -qiE 'locked|busy|store: ' "$T/latticed.log" &&
    fail "latticed logged a database error"
stop_latticed || fail "latticed exit status $?"
[ "$(q "pragma integrity_check")" = ok ] || fail "integrity_check"
ok "latticed folded all $sent sim events undisturbed, no lock errors, clean exit"
