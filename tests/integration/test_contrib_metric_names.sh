#!/usr/bin/env bash
# contrib/grafana-dashboard.json and contrib/prometheus-rules.yml use only
# metrics latticed really exports: every latticed_* name in them must be a
# family in a real /metrics scrape (a histogram's _bucket/_sum/_count
# allowed).  The rules pass `promtool check rules`, the dashboard is JSON
# with panels whose every target has an expression.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need curl
if ! command -v promtool >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || fail "promtool missing (apt-get install prometheus)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends prometheus </dev/null >>"$T/apt.log" 2>&1 ||
	    fail "cannot install prometheus (promtool)"
fi
C="$LATTICED_SOURCE_DIR/contrib"
RULES="$C/prometheus-rules.yml"
DASH="$C/grafana-dashboard.json"

promtool check rules "$RULES" >"$T/rules.out" 2>&1 ||
    { cat "$T/rules.out" >&2; fail "promtool check rules"; }
ok "promtool check rules contrib/prometheus-rules.yml"

"$PY" - "$DASH" <<'PYEOF' || fail "dashboard JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["title"] and d["panels"], "no panels"
for p in d["panels"]:
    assert p["targets"], p["title"]
    for t in p["targets"]:
        assert t["expr"].strip(), p["title"]
titles = " ".join(p["title"].lower() for p in d["panels"])
for want in ("hosts by status", "event rate", "rejected", "alerts",
             "commit latency", "inbox depth"):
    assert want in titles, want
PYEOF
ok "dashboard is JSON with the expected panels"

PORT=$(free_port)
HP=$(free_port)
start_nats "$PORT"
start_notify
DB="$T/c.db"
printf 'db %s\nnats_url nats://127.0.0.1:%s\nhttp_listen %s\n' "$DB" \
    "$PORT" "$HP" >"$T/c.conf"
start_latticed -f "$T/c.conf"
wait_ready
ev host_heartbeat alpha NC1 1 | pub
wait_q 5 "select count(*) from events" 1
sleep 1.1	# census cache
curl -fsS "http://127.0.0.1:$HP/metrics" >"$T/m.txt" || fail "scrape"
awk '$1 == "#" && $2 == "TYPE" {print $3, $4}' "$T/m.txt" | sort -u >"$T/families"
[ "$(wc -l <"$T/families")" -ge 20 ] || fail "too few families in the scrape"

names=$(cat "$RULES" "$DASH" | grep -oE 'latticed_[a-z0-9_]+' | sort -u)
[ -n "$names" ] || fail "no latticed_ names in contrib"
n=0
for name in $names; do
	n=$((n + 1))
	if grep -q "^$name " "$T/families"; then
		continue
	fi
	base=${name%_bucket}
	base=${base%_sum}
	base=${base%_count}
	if [ "$base" != "$name" ] &&
	    grep -q "^$base histogram$" "$T/families"; then
		continue
	fi
	fail "contrib uses $name, which latticed does not export"
done
ok "$n latticed_* names in contrib all exported"

# the check itself catches a made-up name
echo 'latticed_made_up_total' | grep -oE 'latticed_[a-z0-9_]+' | while read -r x; do
	! grep -q "^$x " "$T/families" || fail "made-up name found"
done
stop_latticed TERM || fail "exit status"
