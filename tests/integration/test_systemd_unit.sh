#!/usr/bin/env bash
# systemd/latticed.service.in (as configured into the build directory):
# `systemd-analyze verify` passes (ExecStart pointed at the built binary),
# the offline security exposure is <= 2.0, it runs as the static user and
# group latticed from sysusers.d (no DynamicUser), and unit, README and
# docs agree on the mode of latticed.conf (root:latticed 0640).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 ||
    fail "systemd-analyze missing (install the systemd package)"
UNIT="$LATTICED_BUILD_DIR/systemd/latticed.service"
[ -f "$UNIT" ] || fail "no $UNIT"

mkdir -p "$T/units"
sed "s|^ExecStart=.*|ExecStart=$LATTICED_BIN|" "$UNIT" \
    >"$T/units/latticed.service"
grep -q "^ExecStart=$LATTICED_BIN\$" "$T/units/latticed.service" ||
    fail "ExecStart not rewritten"
for k in 'Type=notify' 'WatchdogSec=' 'User=latticed$' 'Group=latticed$' \
    'StateDirectory=latticed$' 'StateDirectoryMode=0750$' 'UMask=0027$' \
    'ConfigurationDirectory=latticed' 'ExecReload=/bin/sh -c .kill -HUP \$\$MAINPID.' \
    'ProtectSystem=strict' 'CapabilityBoundingSet=$' 'Restart=on-failure'; do
	grep -q "^$k" "$UNIT" || fail "unit lacks $k"
done
grep -q '^DynamicUser=' "$UNIT" && fail "unit still uses DynamicUser="
grep -q '@[A-Z_]*@' "$UNIT" && fail "unit has unsubstituted @VARS@"
# the sysusers.d entry creates the user the unit names
grep -qE '^u latticed ' "$LATTICED_SOURCE_DIR/systemd/latticed.sysusers" ||
    fail "sysusers.d entry lacks user latticed"
# one story about latticed.conf's mode: root:latticed 0640 everywhere
for f in "$UNIT" "$LATTICED_SOURCE_DIR/README.md" \
    "$LATTICED_SOURCE_DIR/docs/security.md" \
    "$LATTICED_SOURCE_DIR/docs/operations.md"; do
	grep -q 'root:latticed 0640' "$f" ||
	    fail "$(basename "$f") does not say latticed.conf is root:latticed 0640"
	if grep -nE 'latticed\.conf[^.]*0644|0644[^.]*latticed\.conf' "$f"; then
		fail "$(basename "$f") still says latticed.conf 0644"
	fi
done
ok "static user latticed, state 0750, config root:latticed 0640 agreed" 

# verify: any message about our unit is a failure (other units on the host
# may be noisy, so only lines naming latticed count)
systemd-analyze verify --man=no "$T/units/latticed.service" \
    >"$T/verify.log" 2>&1 || {
	cat "$T/verify.log" >&2
	fail "systemd-analyze verify failed"
}
if grep -i 'latticed' "$T/verify.log"; then
	fail "systemd-analyze verify complained about the unit"
fi
ok "systemd-analyze verify"

systemd-analyze security --offline=yes "$T/units/latticed.service" \
    >"$T/security.log" 2>&1 || true
exposure=$(sed -nE 's/.*Overall exposure level for latticed\.service: ([0-9]+\.[0-9]+).*/\1/p' "$T/security.log")
[ -n "$exposure" ] || { cat "$T/security.log" >&2; fail "no exposure level"; }
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' ||
    fail "exposure $exposure > 2.0"
ok "systemd-analyze security exposure $exposure <= 2.0"

# the example config documents every key latticed accepts, and passes -n
EX="$LATTICED_SOURCE_DIR/systemd/latticed.conf.example"
for k in db nats_url lattices nats_user nats_password nats_token nats_creds \
    nats_nkey nats_nkey_seed tls_ca tls_cert tls_key stale_threshold \
    sweep_interval batch_max batch_delay batch_linger inbox_max inbox_max_bytes \
    inbox_spool verbose \
    reconnect_wait; do
	grep -qE "^#?$k " "$EX" || fail "example config lacks $k"
done
"$LATTICED_BIN" -n -f "$EX" 2>/dev/null || fail "example config fails -n"
# uncommented, the example lines parse too (except the cross-key pairs)
sed -nE 's/^#((db|nats_url|lattices|stale_threshold|sweep_interval|batch_max|batch_delay|batch_linger|inbox_max|inbox_max_bytes|inbox_spool|verbose|reconnect_wait) .*)/\1/p' "$EX" |
    awk '!seen[$1]++ || $1 == "nats_url" || $1 == "lattices"' >"$T/ex.conf"
"$LATTICED_BIN" -n -f "$T/ex.conf" 2>"$T/ex.err" || fail "example values: $(cat "$T/ex.err")"
ok "latticed.conf.example documents every key and parses"
