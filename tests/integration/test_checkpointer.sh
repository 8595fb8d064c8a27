#!/usr/bin/env bash
# The checkpointer (daemon/ckpt.c) is woken by the WAL's growth, not by a
# poll: its thread is not woken while nothing is written; with
# checkpoint_interval 1h it still copies the WAL back once a flood grew it
# by 4 MiB; a single small commit is copied within checkpoint_interval.
# --replay runs the same checkpointer and ends with no WAL.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIM_BIN="${SIM_BIN:-$LATTICED_BUILD_DIR/tools/sim/latticed-sim}"
[ -x "$SIM_BIN" ] || fail "latticed-sim not built: $SIM_BIN"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/k.db"
write_conf() {
	cat >"$T/k.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
stale_threshold 1h
checkpoint_interval $1
CONF
}
write_conf 1h
start_notify
start_latticed -v -f "$T/k.conf"
wait_ready

# the checkpointer's thread, by its name, and how often it was woken
tid=$(grep -lx ckpt /proc/"$LATTICED_PID"/task/*/comm | cut -d/ -f5)
[ -n "$tid" ] || fail "no thread named ckpt"
wakes() {
	awk '/^voluntary_ctxt_switches/ { print $2 }' \
	    /proc/"$LATTICED_PID"/task/"$tid"/status
}
passes() { grep -c 'checkpoint: passive' "$T/latticed.log" || true; }

# idle: not one wake-up in 3 s (the 100 ms poll it replaces woke 30
# times); a loaded machine can only make it fewer, so this cannot flake
w0=$(wakes)
sleep 3
w1=$(wakes)
[ "$((w1 - w0))" -eq 0 ] || fail "idle checkpointer woken $((w1 - w0)) times"
[ "$(passes)" -eq 0 ] || fail "a passive checkpoint on an idle database"
ok "idle database: the checkpointer was not woken ($w0 wake-ups since start)"

# a small commit: copied within checkpoint_interval, not at 4 MiB
write_conf 300ms
kill -HUP "$LATTICED_PID"
wait_log 'reload: retention: .* checkpoint 300ms'
n0=$(passes)
ev host_heartbeat kq KQHOST 1 | pub
wait_q 10 "select count(*) from events where lattice='kq'" 1
wait_for 10 bash -c "[ \$(grep -c 'checkpoint: passive' '$T/latticed.log') -gt $n0 ]" ||
    fail "one event not checkpointed within checkpoint_interval"
last=$(grep 'checkpoint: passive' "$T/latticed.log" | tail -n1 |
    grep -oE '[0-9]+ of [0-9]+')
ok "one event: copied by the timer ($last frames)"

# and idle again: no pass, no wake-up, for 10 checkpoint_intervals
n1=$(passes)
w0=$(wakes)
sleep 3
w1=$(wakes)
[ "$(passes)" -eq "$n1" ] || fail "passes on an idle database"
[ "$((w1 - w0))" -eq 0 ] || fail "idle checkpointer woken $((w1 - w0)) times"
ok "idle again: no pass, no wake-up"

# a flood grows the WAL past 4 MiB: passes with checkpoint_interval 1h
write_conf 1h
kill -HUP "$LATTICED_PID"
wait_log 'reload: retention: .* checkpoint 3600000ms'
n0=$(passes)
"$SIM_BIN" --nats "nats://127.0.0.1:$PORT" --mode flood --hosts 200 \
    --lattices 2 --components-per-host 3 --count 6000 --seed 7 \
    >"$T/sim.out" 2>"$T/sim.log" || fail "latticed-sim failed"
wait_for 60 bash -c "[ \$(grep -c 'checkpoint: passive' '$T/latticed.log') -gt $n0 ]" ||
    fail "no passive checkpoint after a flood ($(q 'select count(*) from events') events)"
frames=$(grep -oE 'checkpoint: passive, [0-9]+ of [0-9]+' "$T/latticed.log" |
    sed -n "$((n0 + 1))p" | awk '{ print $5 }')
[ "$frames" -ge 1024 ] || fail "first pass at $frames frames, before 4 MiB"
ok "flood: passive checkpoints by growth ($(($(passes) - n0)), the first at $frames frames)"

stop_latticed || fail "latticed exited non-zero"
grep -qE 'checkpoint: [^pt]' "$T/latticed.log" &&
    fail "checkpoint warnings: $(grep 'checkpoint: [^pt]' "$T/latticed.log")"
ok "clean stop, no checkpoint warnings"

# --replay: the checkpointer copies the WAL while the fold runs, and the
# WAL is gone at the end
"$SIM_BIN" --out "$T/r.jsonl" --mode flood --hosts 200 --lattices 2 \
    --components-per-host 3 --count 8000 --seed 7 2>>"$T/sim.log" ||
    fail "latticed-sim --out failed"
R="$T/replay.db"
"$LATTICED_BIN" -v --db "$R" --replay "$T/r.jsonl" >"$T/replay.out" \
    2>"$T/replay.log" || fail "replay failed: $(tail -n3 "$T/replay.log")"
rp=$(grep -c 'checkpoint: passive' "$T/replay.log" || true)
[ "$rp" -gt 0 ] || fail "replay: no passive checkpoint on the checkpointer"
[ -e "$R-wal" ] && fail "replay left a WAL of $(stat -c %s "$R-wal") bytes"
DB=$R
[ "$(q 'select count(*) from events')" -eq 8000 ] ||
    fail "replay stored $(q 'select count(*) from events') events"
ok "replay: $rp passive checkpoints on the checkpointer, no WAL left"
