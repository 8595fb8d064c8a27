#!/bin/sh
# smoke.sh - build the libFuzzer harnesses with clang and run each briefly.
#
# usage: tests/fuzz/smoke.sh [builddir]	(default ./build-fuzz)
# env:   FUZZ_SECONDS	seconds per harness (default 60; 0 = replay only)
#        FUZZ_HARNESSES	which harnesses (default "ce fold v2hb")
#        CC		clang to use (default clang-14, else clang)
#        FUZZ_EXTRA_CFLAGS	appended when compiling lib/ and harnesses
#			(e.g. -fno-sanitize=nonnull-attribute to get past a
#			known bug while hunting for the next one)
#
# Builds lib/*.c and the embedded schema with -fsanitize=fuzzer,address,
# undefined, replays tests/fuzz/regressions/<harness>/* and the seed corpus
# (each input once), then fuzzes each harness for FUZZ_SECONDS with the
# dictionary, starting from a scratch copy of tests/fuzz/corpus/<harness>
# so the repository is never modified.  Exits non-zero on any crash, leak,
# timeout or sanitizer report; crashers are left in <builddir>/artifacts/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-./build-fuzz}
mkdir -p "$build"
build=$(cd "$build" && pwd)
secs=${FUZZ_SECONDS:-60}
harnesses=${FUZZ_HARNESSES:-"ce fold v2hb"}
if [ -z "${CC:-}" ]; then
	if command -v clang-14 >/dev/null 2>&1; then CC=clang-14; else CC=clang; fi
fi

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror
    -D_GNU_SOURCE -DLATTICED_VERSION=\"fuzz\" -I$src/lib
    $(pkg-config --cflags libcjson sqlite3) ${FUZZ_EXTRA_CFLAGS:-}"
libs="$(pkg-config --libs libcjson sqlite3) -lm"

echo "fuzz: building into $build with $CC"
mkdir -p "$build/obj" "$build/artifacts"
cmake -DSCHEMA_DIR="$src/schema" -DOUT="$build/schema_sql.c" \
    -P "$src/cmake/embed_schema.cmake"
objs=""
for f in "$src"/lib/*.c "$build/schema_sql.c"; do
	o="$build/obj/$(basename "$f" .c).o"
	# shellcheck disable=SC2086
	$CC $cflags $san -fsanitize=fuzzer-no-link -c "$f" -o "$o"
	objs="$objs $o"
done
for h in $harnesses; do
	# shellcheck disable=SC2086
	$CC $cflags $san -fsanitize=fuzzer "$here/fuzz_$h.c" $objs $libs \
	    -o "$build/fuzz_$h"
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for h in $harnesses; do
	bin="$build/fuzz_$h"
	log="$build/fuzz_$h.log"
	work="$build/work/$h"
	rm -rf "$work"
	mkdir -p "$work/corpus"
	cp "$here/corpus/$h/"* "$work/corpus/"
	opts="-rss_limit_mb=2048 -timeout=10 -artifact_prefix=$build/artifacts/$h-"

	# Regressions one by one (so every failing one is named), then the
	# seeds; each input once, fresh database per input.
	failed=0
	for f in "$here/regressions/$h"/*; do
		[ -f "$f" ] || continue
		# shellcheck disable=SC2086
		if ! FUZZ_FOLD_RESET=1 "$bin" $opts "$f" >"$log.replay" 2>&1
		then
			echo "fuzz_$h: FAIL regression $(basename "$f"):" \
			    "$(grep -m1 -E 'runtime error|check failed|fuzz_[a-z]+: [a-z]|ERROR: [A-Z]' \
			    "$log.replay")"
			failed=1
		fi
	done
	set -- "$here/corpus/$h"
	# shellcheck disable=SC2086
	if ! FUZZ_FOLD_RESET=1 "$bin" $opts -runs=0 "$@" \
	    >"$log.replay" 2>&1; then
		echo "fuzz_$h: FAIL replaying seeds, see $log.replay"
		grep -m5 -E 'runtime error|ERROR:|check failed|fuzz_[a-z]+: [a-z]' \
		    "$log.replay" || true
		failed=1
	fi
	if [ $failed -ne 0 ]; then
		status=1
		continue
	fi
	nrep=$(find "$here/corpus/$h" "$here/regressions/$h" -type f | wc -l)
	if [ "$secs" -eq 0 ]; then
		echo "fuzz_$h: ok replay of $nrep inputs"
		continue
	fi

	# The fold keeps state (SQLite page cache, its arenas) across inputs,
	# so libFuzzer's per-input leak check would run LSan on nearly every
	# input (5x slower).  LSan still checks once at exit and fails the run.
	extra=""
	[ "$h" = fold ] && extra="-detect_leaks=0"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	if "$bin" $opts $extra -max_total_time="$secs" -print_final_stats=1 \
	    -dict="$here/cloudevents.dict" "$work/corpus" >"$log" 2>&1; then
		res=ok
	else
		res=FAIL
		status=1
	fi
	el=$(($(date +%s) - t0))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 |
	    sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*/cov=\1 ft=\2/p')
	ncorp=$(ls "$work/corpus" | wc -l)
	echo "fuzz_$h: $res ${el}s/${secs}s execs=${execs:-?} ${cov:-} corpus=$ncorp replayed=$nrep log=$log"
	if [ "$res" = FAIL ]; then
		grep -m10 -E 'ERROR|runtime error|check failed|fuzz_|Test unit written' \
		    "$log" || true
	fi
done
exit $status
