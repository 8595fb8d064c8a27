# debroot.sh - a cached Debian 12 (bookworm) tree for the package tests.
# Sourced by scripts/test-deb and scripts/test-systemd.
#
# debroot_base DIR PKG...: debootstrap --variant=minbase bookworm into DIR
#	with PKG... included, from the Debian mirror this machine's apt uses;
#	reused as long as the package list is the same (a second run takes
#	no time).
# debroot_overlay BASE WORK: mount a throw-away overlay of BASE on
#	WORK/root (the base stays clean); debroot_unmount WORK undoes it.

# Print the Debian mirror of this machine's apt sources (bookworm).
debroot_mirror() {
	local f u
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		u=$(awk '$1 == "deb" {
			for (i = 2; i < NF; i++)
				if ($i ~ /^https?:\/\// && $(i + 1) == "bookworm") {
					print $i; exit
				}
		}' "$f")
		[ -n "$u" ] && { echo "$u"; return 0; }
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		u=$(awk 'BEGIN { RS = "" } {
			uri = ""; ok = 0
			n = split($0, l, "\n")
			for (i = 1; i <= n; i++) {
				if (l[i] ~ /^URIs:/) { split(l[i], w, " "); uri = w[2] }
				if (l[i] ~ /^Suites:/ && l[i] ~ /[ \t]bookworm([ \t]|$)/) ok = 1
			}
			if (ok && uri != "") { print uri; exit }
		}' "$f")
		[ -n "$u" ] && { echo "$u"; return 0; }
	done
	echo "debroot: no bookworm mirror in /etc/apt/sources.list*" >&2
	return 1
}

# Build or reuse the base tree.
debroot_base() {
	local dir=$1 list mirror
	shift
	list=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
	if [ -f "$dir/.debroot-complete" ] &&
	    [ "$(cat "$dir/.debroot-complete")" = "$list" ]; then
		return 0
	fi
	mirror=$(debroot_mirror) || return 1
	echo "debroot: debootstrap bookworm into $dir from $mirror ($list)" >&2
	rm -rf "$dir"
	mkdir -p "$(dirname "$dir")"
	debootstrap --variant=minbase --include="$list" bookworm "$dir" \
	    "$mirror" >"$dir.log" 2>&1 || {
		tail -n 20 "$dir.log" >&2
		echo "debroot: debootstrap failed (log: $dir.log)" >&2
		return 1
	}
	# nothing in the tree may start services while we install into it
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 0755 "$dir/usr/sbin/policy-rc.d"
	echo "$list" >"$dir/.debroot-complete"
}

# Overlay BASE on WORK/root.
debroot_overlay() {
	local base=$1 work=$2
	debroot_unmount "$work"
	rm -rf "$work"
	mkdir -p "$work/upper" "$work/wk" "$work/root"
	mount -t overlay overlay \
	    -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/wk" \
	    "$work/root"
}

# Undo debroot_overlay (and anything mounted below it).
debroot_unmount() {
	local work=$1 m
	[ -d "$work/root" ] || return 0
	for m in $(awk -v r="$work/root" 'index($2, r) == 1 { print $2 }' \
	    /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}

# The packages of the shared base tree: the .deb's dependencies and what
# the tests run in it (a booting systemd, nats-server, sqlite3).
debroot_packages() {
	debroot_deb_depends "$1"
	printf '%s\n' systemd systemd-sysv dbus nats-server sqlite3
}

# Runtime dependencies of a .deb (first alternative, no versions).
debroot_deb_depends() {
	dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' |
	    grep -v '^$'
}
