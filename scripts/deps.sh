#!/usr/bin/env bash
# Install the Debian packages latticed needs.
#
#   scripts/deps.sh run        build and run latticed, latticectl and the demo
#   scripts/deps.sh test       run + what the test suite needs (default)
#   scripts/deps.sh packaging  test + what the package tests need
#
# A machine that already has them all is left alone (no apt-get at all).
# Works as root, or through sudo when it exists.
#
# packaging (also --packaging, or LATTICED_TEST_DEPS=1) adds what only the
# package tests need: building and linting the .deb (scripts/test-deb)
# and booting it under systemd in a container (scripts/test-systemd).
set -euo pipefail

# To build and run (check: CMake's configure step requires it).
run_pkgs=(
	build-essential cmake pkg-config
	libnats-dev libcjson-dev libsqlite3-dev libevent-dev libsystemd-dev
	check sqlite3 nats-server curl
)
# To run the tests: sanitizers and fuzzers (clang), promtool
# (prometheus), a real Alertmanager, man page lint, the harness's tools.
test_pkgs=(
	openssl python3 systemd procps
	clang libclang-rt-14-dev
	prometheus prometheus-alertmanager
	mandoc bash-completion e2fsprogs mount
)
# To build, lint and boot the .deb (scripts/test-deb, scripts/test-systemd).
packaging=(
	debhelper dpkg-dev lintian fakeroot debootstrap
	systemd-container
)

case ${1:-test} in
run) pkgs=("${run_pkgs[@]}") ;;
test) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
packaging|--packaging)
	pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}" "${packaging[@]}") ;;
*) echo "usage: scripts/deps.sh [run|test|packaging]" >&2; exit 2 ;;
esac
if [ "${LATTICED_TEST_DEPS:-0}" = 1 ]; then
	pkgs+=("${packaging[@]}")
fi

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
