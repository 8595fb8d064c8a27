#!/usr/bin/env bash
# batch_linger: at a trickle (fewer than 32 messages waiting) batches start
# at most once per batch_linger and the decode stage takes its input as
# seldom; a message that finds latticed idle still folds at once, and 32
# or more waiting fold within batch_delay.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_nats "$PORT"
DB="$T/l.db"
cat >"$T/l.conf" <<CONF
db $DB
nats_url nats://127.0.0.1:$PORT
batch_delay 20ms
batch_linger 1500ms
CONF
start_notify
start_latticed -v -f "$T/l.conf"
wait_ready
# batch_linger counts from start-up: let it pass, latticed is then idle
ready=$(log_ms ' ready: ')
linger_passed() { [ "$(date +%s%3N)" -gt $((ready + 1600)) ]; }
wait_for 5 linger_passed || fail "batch_linger never passed"

# the commit time of the first event of a type minus a received_ms, in ms
after() { echo $(($(applied_ms "wasmbus.evt.$1") - $2)); }

# idle: at once, well inside batch_linger
ev host_heartbeat gl GLHOST 1 | pub
wait_q 5 "select count(*) from events where lattice='gl'" 1
recv=$(q "select received_ms from events where lattice='gl'")
took=$(after gl.host_heartbeat "$recv")
[ "$took" -lt 1000 ] || fail "idle: event committed $took ms after it was received"
ok "idle: event committed $took ms after it was received (batch_linger 1500ms)"

# a trickle right after: waits for batch_linger, not batch_delay
ev component_scaled gl GLHOST 1 | pub
wait_q 5 "select count(*) from events where lattice='gl'" 2
gap=$(($(applied_ms wasmbus.evt.gl.component_scaled) -
    $(applied_ms wasmbus.evt.gl.host_heartbeat)))
[ "$gap" -ge 1400 ] || fail "a lone message committed $gap ms after the last batch (batch_linger 1500ms)"
ok "a trickle: the next batch started $gap ms after the last (batch_linger 1500ms)"

# 40 at once, right after that batch: 32 waiting end the linger
ev component_scaled gm GLHOST 40 | pub
wait_q 5 "select count(*) from events where lattice='gm'" 40
recv=$(q "select min(received_ms) from events where lattice='gm'")
took=$(after gm.component_scaled "$recv")
[ "$took" -lt 1000 ] || fail "40 messages: the first committed $took ms after it was received"
ok "40 messages: the first committed $took ms after it was received"

stop_latticed TERM || fail "exit status"
ok "clean stop"
