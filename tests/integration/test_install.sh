#!/usr/bin/env bash
# cmake --install into a DESTDIR: the binaries, the systemd unit, the
# sysusers.d and tmpfiles.d entries, the example configuration (and
# latticed.conf from it, 0640, never overwritten), the alert-command
# example, man pages, bash completion and the documentation are in the
# tree, and every installed path the unit, the man pages and the docs
# name exists.  systemd-sysusers and systemd-tmpfiles, run on the tree,
# create user latticed and /var/lib/latticed 0750 latticed:latticed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need cmake

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$LATTICED_BUILD_DIR/CMakeCache.txt")
[ -n "$prefix" ] || fail "no CMAKE_INSTALL_PREFIX in the cache"
R="$T/root"
DESTDIR="$R" cmake --install "$LATTICED_BUILD_DIR" >"$T/install.log" 2>&1 ||
    fail "cmake --install: $(tail -5 "$T/install.log")"

unitf=$(find "$R" -name latticed.service -path '*/systemd/system/*')
[ "$(printf '%s\n' "$unitf" | grep -c .)" = 1 ] || fail "units: $unitf"
for f in "$prefix/sbin/latticed" "$prefix/bin/latticectl" \
    "$prefix/libexec/latticed/alert-command-example.sh"; do
	[ -x "$R$f" ] || fail "not installed (executable): $f"
done
for f in "$prefix/lib/sysusers.d/latticed.conf" \
    "$prefix/lib/tmpfiles.d/latticed.conf" \
    "$prefix/share/latticed/latticed.conf.example" \
    "$prefix/share/man/man8/latticed.8" \
    "$prefix/share/man/man5/latticed.conf.5" \
    "$prefix/share/man/man1/latticectl.1" \
    "$prefix/share/bash-completion/completions/latticectl" \
    "$prefix/share/bash-completion/completions/latticed" \
    "$prefix/share/doc/latticed/README.md" \
    "$prefix/share/doc/latticed/LICENSE" \
    "$prefix/share/doc/latticed/CHANGELOG.md" \
    "$prefix/share/doc/latticed/docs/security.md" \
    "$prefix/share/doc/latticed/docs/operations.md" \
    "$prefix/share/doc/latticed/docs/schema.md" \
    /etc/latticed/latticed.conf; do
	[ -f "$R$f" ] || fail "not installed: $f"
done
[ "$(stat -c %a "$R/etc/latticed/latticed.conf")" = 640 ] ||
    fail "latticed.conf mode $(stat -c %a "$R/etc/latticed/latticed.conf")"
ok "binaries, unit, sysusers/tmpfiles, config, man pages, completion, docs installed"

# the unit names installed paths: ExecStart, Documentation= (file: and man:)
exec_start=$(sed -n 's/^ExecStart=//p' "$unitf")
[ "$exec_start" = "$prefix/sbin/latticed" ] || fail "ExecStart=$exec_start"
[ -x "$R$exec_start" ] || fail "ExecStart $exec_start not in the tree"
docs=$(sed -n 's/^Documentation=//p' "$unitf" | tr ' ' '\n')
[ "$(printf '%s\n' "$docs" | grep -c .)" -ge 3 ] || fail "Documentation=: $docs"
for d in $docs; do
	case $d in
	file://*) [ -f "$R${d#file://}" ] || fail "Documentation=$d not in the tree" ;;
	man:*)
		page=${d#man:}
		sec=${page##*(}
		sec=${sec%)}
		[ -f "$R$prefix/share/man/man$sec/${page%(*}.$sec" ] ||
		    fail "Documentation=$d not in the tree"
		;;
	*) fail "Documentation=$d: neither file: nor man:" ;;
	esac
done
ok "unit: ExecStart=$exec_start and Documentation= exist in the tree"

# every path under the prefix that the unit, man pages, example config
# and docs name exists after install
: >"$T/named"
for f in "$unitf" "$R$prefix"/share/man/man*/* \
    "$R$prefix/share/latticed/latticed.conf.example" \
    "$R$prefix"/share/doc/latticed/*.md "$R$prefix"/share/doc/latticed/docs/*.md; do
	grep -oE "$prefix/[A-Za-z0-9_./-]+" "$f" | sed -E 's/[.,]+$//' >>"$T/named" || true
done
sort -u "$T/named" -o "$T/named"
[ "$(grep -c . "$T/named")" -ge 5 ] || fail "too few paths found: $(cat "$T/named")"
while read -r p; do
	[ -e "$R$p" ] || fail "named but not installed: $p"
done <"$T/named"
ok "$(grep -c . "$T/named") paths named by the unit, man pages and docs exist"

# an operator's latticed.conf is never overwritten
echo 'lattices prod' >"$R/etc/latticed/latticed.conf"
DESTDIR="$R" cmake --install "$LATTICED_BUILD_DIR" >"$T/install2.log" 2>&1 ||
    fail "second cmake --install"
[ "$(cat "$R/etc/latticed/latticed.conf")" = 'lattices prod' ] ||
    fail "cmake --install overwrote latticed.conf"
grep -q 'Keeping: .*latticed.conf' "$T/install2.log" || fail "no Keeping line"
ok "an existing latticed.conf is kept"

# the installed example passes -n
"$R$prefix/sbin/latticed" -n -f "$R$prefix/share/latticed/latticed.conf.example" \
    2>"$T/n.err" || fail "example -n: $(cat "$T/n.err")"

# sysusers.d and tmpfiles.d entries do what the docs say, on the tree
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	mkdir -p "$R/etc"
	touch "$R/etc/passwd" "$R/etc/group"
	# as the README says: plain systemd-sysusers / systemd-tmpfiles --create
	# find the entries where cmake --install put them
	systemd-sysusers --root="$R" \
	    >"$T/sysusers.log" 2>&1 || fail "systemd-sysusers: $(cat "$T/sysusers.log")"
	grep -qE '^latticed:x:[0-9]+:[0-9]+:.*:/var/lib/latticed:/(usr/)?s?bin/nologin$' \
	    "$R/etc/passwd" || fail "no user latticed: $(cat "$R/etc/passwd")"
	grep -q '^latticed:x:' "$R/etc/group" || fail "no group latticed"
	systemd-tmpfiles --root="$R" --create \
	    >"$T/tmpfiles.log" 2>&1 || fail "systemd-tmpfiles: $(cat "$T/tmpfiles.log")"
	uid=$(awk -F: '$1 == "latticed" { print $3 }' "$R/etc/passwd")
	gid=$(awk -F: '$1 == "latticed" { print $3 }' "$R/etc/group")
	[ "$(stat -c '%a %u %g' "$R/var/lib/latticed")" = "750 $uid $gid" ] ||
	    fail "/var/lib/latticed: $(stat -c '%a %u %g' "$R/var/lib/latticed")"
	ok "sysusers.d creates latticed ($uid:$gid); tmpfiles.d makes /var/lib/latticed 0750"
else
	fail "systemd-sysusers/systemd-tmpfiles missing (install systemd)"
fi
