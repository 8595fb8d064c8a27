#!/usr/bin/env bash
# The man pages (as configured into the build directory) are clean under
# `mandoc -Tlint -W warning`, document every config key latticed accepts
# (daemon/config.c's key table) and every flag of latticed and latticectl
# (their getopt tables); the bash completions complete commands, options
# and option values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need mandoc

M="$LATTICED_BUILD_DIR/man"
S="$LATTICED_SOURCE_DIR"
for p in latticed.8 latticed.conf.5 latticectl.1; do
	[ -f "$M/$p" ] || fail "not configured: $M/$p"
	# mandoc's "outdated mandoc.db" notes are about this machine
	mandoc -Tlint -W warning "$M/$p" 2>&1 | grep -v 'mandoc\.db' \
	    >"$T/lint-$p.log" || true
	if [ -s "$T/lint-$p.log" ]; then
		cat "$T/lint-$p.log" >&2
		fail "mandoc -Tlint: $p"
	fi
	grep -q '@[A-Z_]*@' "$M/$p" && fail "$p has unsubstituted @VARS@"
done
ok "mandoc -Tlint -W warning: clean"

keys=$(sed -nE 's/^[[:space:]]*\{ "([a-z_]+)", K_[A-Z0-9]+,.*/\1/p' "$S/daemon/config.c")
[ "$(printf '%s\n' "$keys" | grep -c .)" -ge 40 ] || fail "key table not found"
for k in $keys; do
	grep -qE "^\.It Cm $k( |$)" "$M/latticed.conf.5" ||
	    fail "latticed.conf(5) does not document key $k"
done
ok "latticed.conf(5) documents all $(printf '%s\n' "$keys" | grep -c .) keys"

# long options from a getopt_long table; short ones from the optstring
longopts() {
	sed -n '/struct option longopts\[\] = {/,/NULL, 0, NULL, 0/p' "$1" |
	    sed -nE 's/.*\{ "([a-z-]+)",.*/\1/p'
}
shortopts() {
	sed -nE 's/.*getopt_long\(argc, argv, "([^"]*)".*/\1/p' "$1" | tr -d ':' |
	    fold -w1
}
check_flags() {
	local page=$1 src=$2 o n=0
	for o in $(longopts "$src"); do
		grep -qE "Fl Fl $o( |$)" "$page" ||
		    fail "$(basename "$page") does not document --$o"
		n=$((n + 1))
	done
	for o in $(shortopts "$src"); do
		grep -qE "^\.It Fl $o( |$)" "$page" ||
		    fail "$(basename "$page") does not document -$o"
		n=$((n + 1))
	done
	[ "$n" -ge 4 ] || fail "too few flags found in $src"
	ok "$(basename "$page") documents $n flags of $(basename "$(dirname "$src")")"
}
check_flags "$M/latticed.8" "$S/daemon/main.c"
check_flags "$M/latticectl.1" "$S/tools/latticectl/main.c"
for c in hosts components providers links configs alerts events; do
	grep -qE "^\.It Cm $c$" "$M/latticectl.1" ||
	    fail "latticectl(1) does not document command $c"
done

# bash completion: source bash-completion's helpers and our files, then
# ask for completions as bash would
BC=/usr/share/bash-completion/bash_completion
[ -f "$BC" ] || fail "bash-completion missing (install bash-completion)"
complete_words() {
	bash --norc -c '
		. "$1"; . "$2"; . "$3"
		shift 3
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		case ${COMP_WORDS[0]} in
		latticectl) _latticectl ;;
		latticed) _latticed ;;
		esac
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$BC" \
	    "$S/contrib/completion/latticectl.bash" \
	    "$S/contrib/completion/latticed.bash" "$@"
}
expect() {
	local want=$1 got
	shift
	got=$(complete_words "$@" | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "completing '$*': got '$got', want '$want'"
}
expect 'components configs ' latticectl co
expect 'hosts ' latticectl --json h
expect 'stale stopped ' latticectl hosts --status st
expect '--lattice --limit ' latticectl hosts --l
expect '' latticectl hosts ho
expect '--db ' latticed --d
expect '-v ' latticed -v
expect '-V ' latticed -V
expect '--replay ' latticed --re
ok "bash completion for latticectl and latticed"
