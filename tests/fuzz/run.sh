#!/bin/sh
# run.sh: runs the fuzz targets of a build tree (make FUZZ=1 fuzz-bins).
#
#	sh tests/fuzz/run.sh [--seconds N] [--only NAME] OUT
#
# For each target OUT/build/fuzz/fuzz_NAME: first replays every input of
# its seed corpus tests/fuzz/corpus/NAME once (an input that ever broke a
# parser stays there as a regression test), then fuzzes it for N seconds
# (default 10; 0 replays only), starting from the seeds, in a temporary
# working corpus.  A crash, a sanitizer report, a leak, a timeout or an
# out-of-memory stops a target and counts as a failure; its reproducer
# is kept under OUT/build/fuzz/findings/.  Ends with "N passed, N
# failed" (one per target) and exits non-zero on any failure.
# FUZZ_DETECT_LEAKS=0 turns leak detection off (where LeakSanitizer
# cannot run).
set -u

SECONDS_EACH=10
ONLY=
while [ $# -gt 1 ]; do
	case $1 in
	--seconds) SECONDS_EACH=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	*) break ;;
	esac
done
OUT=${1:?usage: run.sh [--seconds N] [--only NAME] OUT}
cd "$(dirname "$0")/../.." || exit 2
BIN=$OUT/build/fuzz
FINDINGS=$BIN/findings
WORK=$(mktemp -d "${TMPDIR:-/tmp}/quarry-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT INT TERM
mkdir -p "$FINDINGS"
LEAKS=${FUZZ_DETECT_LEAKS:-1}
passed=0
failed=0
found=0

for src in tests/fuzz/fuzz_*.c; do
	name=${src#tests/fuzz/fuzz_}
	name=${name%.c}
	[ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
	found=$((found + 1))
	prog=$BIN/fuzz_$name
	seeds=tests/fuzz/corpus/$name
	echo "=== fuzz_$name"
	if [ ! -x "$prog" ] || [ ! -d "$seeds" ]; then
		echo "run.sh: $prog or $seeds is missing" >&2
		failed=$((failed + 1))
		continue
	fi
	opts="-detect_leaks=$LEAKS -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$FINDINGS/fuzz_$name-"
	# shellcheck disable=SC2086
	if ! "$prog" $opts -runs=0 "$seeds" >"$WORK/log" 2>&1; then
		tail -n 40 "$WORK/log"
		echo "run.sh: fuzz_$name fails on its seed corpus" >&2
		failed=$((failed + 1))
		continue
	fi
	echo "replayed $(ls "$seeds" | wc -l) seeds"
	if [ "$SECONDS_EACH" -gt 0 ]; then
		mkdir -p "$WORK/$name"
		# shellcheck disable=SC2086
		if ! "$prog" $opts -max_total_time="$SECONDS_EACH" \
		    -print_final_stats=1 "$WORK/$name" "$seeds" \
		    >"$WORK/log" 2>&1; then
			tail -n 40 "$WORK/log"
			echo "run.sh: fuzz_$name found a fault (reproducer in" \
			    "$FINDINGS)" >&2
			failed=$((failed + 1))
			continue
		fi
		grep -E '^stat::number_of_executed_units' "$WORK/log" |
		    sed 's/^stat::number_of_executed_units: */executed: /'
	fi
	passed=$((passed + 1))
done

if [ "$found" -eq 0 ]; then
	echo "run.sh: no fuzz target${ONLY:+ named $ONLY}" >&2
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
