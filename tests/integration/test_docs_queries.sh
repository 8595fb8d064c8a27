#!/usr/bin/env bash
# Keep docs/schema.md honest: run every ```sql block in it against a fresh
# database built from schema/ (empty, then with a few sample rows), and
# fail on any SQL error.
set -euo pipefail

src=${LATTICED_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
doc=$src/docs/schema.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Extract the blocks: one file per ```sql fence.
awk -v dir="$tmp" '
	/^```sql[[:space:]]*$/ { n++; f = sprintf("%s/q%03d.sql", dir, n); inb = 1; next }
	/^```/ && inb { inb = 0; close(f); next }
	inb { print > f }
' "$doc"
nq=$(find "$tmp" -name 'q*.sql' | wc -l)
if [ "$nq" -lt 10 ]; then
	echo "FAIL: only $nq sql blocks found in $doc" >&2
	exit 1
fi

# Fresh database: every migration in order, as latticed applies them.
mkdb() {
	local f
	for f in "$src"/schema/[0-9][0-9][0-9]_*.sql; do
		sqlite3 -bail "$1" <"$f"
	done
}

mkdb "$tmp/empty.db"
mkdb "$tmp/full.db"
sqlite3 -bail "$tmp/full.db" <<'SQL'
INSERT INTO latticed_hosts (lattice, host_id, status, friendly_name, version, labels,
    first_seen_ms, last_seen_ms, last_heartbeat_ms, status_changed_ms,
    state_ms)
VALUES ('default', 'NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'stale', 'misty-river-1234', '1.9.2', '{"zone":"eu-west-1a"}',
    1735689600000, 1735689630000, 1735689630000, 1735689700000,
    1735689630000);
INSERT INTO latticed_components (lattice, host_id, component_id, image_ref,
    max_instances, annotations, updated_ms)
VALUES ('default', 'NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'kv-counter-component', 'ghcr.io/x/kv-counter:0.1.0', 4,
    '{"wasmcloud.dev/appspec":"app-kv-counter"}', 1735689610000);
INSERT INTO latticed_providers (lattice, host_id, provider_id, health, updated_ms)
VALUES ('default', 'NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'kvredis', 'failing', 1735689610000);
INSERT INTO latticed_links (lattice, source_id, name, wit_namespace, wit_package,
    target, interfaces, target_config, updated_ms)
VALUES ('default', 'kv-counter-component', 'default', 'wasi', 'keyvalue',
    'kvredis', '["atomics","store"]', '["kv-counter-kvredis-config"]',
    1735689610000);
INSERT INTO latticed_events (lattice, subject, type, source, id, host_id, time_ms,
    received_ms, outcome, data)
VALUES ('default', 'wasmbus.evt.default.component_scale_failed',
    'com.wasmcloud.lattice.component_scale_failed',
    'NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'e1',
    'NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    1735689620000, 1735689620000, 'recorded',
    '{"error":"no such image"}');
INSERT INTO latticed_rejected_events (received_ms, lattice, subject, reason, error,
    raw, raw_size)
VALUES (1735689620000, 'default', 'wasmbus.evt.default.x', 'not JSON',
    'parse', x'7b', 1);
INSERT INTO latticed_alerts (lattice, kind, severity, entity, host_id, summary,
    fired_ms)
VALUES ('default', 'host_stale', 'warning',
    'NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'host misty-river-1234 is silent', 1735689700000);
SQL

fail=0
for q in "$tmp"/q*.sql; do
	for db in empty full; do
		if ! out=$(sqlite3 -bail "$tmp/$db.db" <"$q" 2>&1) ||
		    printf '%s' "$out" | grep -q '^\(Parse \)\{0,1\}[Ee]rror'; then
			echo "FAIL ($db db): $(basename "$q"):" >&2
			sed 's/^/    /' "$q" >&2
			echo "    -> $out" >&2
			fail=1
		fi
	done
done
# The sample rows must be found by the queries that look for them.
n=$(sqlite3 "$tmp/full.db" "SELECT count(*) FROM active_alerts;")
[ "$n" = 1 ] || { echo "FAIL: active_alerts shows $n rows, want 1" >&2; fail=1; }
if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "ok: $nq sql blocks from docs/schema.md ran on empty and sample databases"
