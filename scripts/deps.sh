#!/usr/bin/env bash
# Install the Debian packages latticed needs to build, test and run.
# A machine that already has them all is left alone (no apt-get at all).
# Works as root, or through sudo when it exists.
#
# scripts/deps.sh --packaging (or LATTICED_TEST_DEPS=1) adds what only the
# package tests need: building and linting the .deb (scripts/test-deb)
# and booting it under systemd in a container (scripts/test-systemd).
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config
	libnats-dev libcjson-dev libsqlite3-dev libevent-dev libsystemd-dev
	check sqlite3 nats-server openssl python3 systemd procps
	clang libclang-rt-14-dev
	curl prometheus prometheus-alertmanager
	mandoc bash-completion
)
packaging=(
	debhelper dpkg-dev lintian fakeroot debootstrap
	systemd-container
)
if [ "${1:-}" = --packaging ] || [ "${LATTICED_TEST_DEPS:-0}" = 1 ]; then
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
