#!/usr/bin/env bash
# Install the Debian packages latticed needs.
#
#   scripts/deps.sh run    build and run latticed, latticectl and the demo
#   scripts/deps.sh test   run + what the test suite needs (default)
#
# A machine that already has them all is left alone (no apt-get at all).
# Works as root, or through sudo when it exists.
set -euo pipefail

# To build and run (check: CMake's configure step requires it).
run_pkgs=(
	build-essential cmake pkg-config
	libnats-dev libcjson-dev libsqlite3-dev libevent-dev libsystemd-dev
	check sqlite3 nats-server curl
)
# To run the tests: sanitizers and fuzzers (clang), promtool
# (prometheus), a real Alertmanager, the harness's tools.
test_pkgs=(
	openssl python3 systemd procps
	clang libclang-rt-14-dev
	prometheus prometheus-alertmanager
)

case ${1:-test} in
run) pkgs=("${run_pkgs[@]}") ;;
test) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: scripts/deps.sh [run|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "deps: missing ${missing[*]}; run as root or install sudo" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
