#!/bin/sh
# queue.sh: the scheduler's cost per job against the queue's depth
# (issue 11; docs/benchmarks.md).
#
# bench/queue.c, built against the build tree's library, queues DEPTH
# jobs over three tenants in a new store, then claims and completes
# BENCH_CLAIMS of them, queueing a new one after each so that the depth
# stays DEPTH, and prints claims and completions per second.  It runs
# at a depth of 100 and of BENCH_DEEP (100,000), alternated, BENCH_ROUNDS
# times; the figure is the median of the ratios of each deep run to the
# shallow run before it (goal >= 0.8: claiming does not slow with depth).
#
#   sh bench/queue.sh	(OUT=build tree; BENCH_* knobs: bench/lib/common.sh,
#			BENCH_DEEP = 100000, BENCH_CLAIMS = 3000)
#
# POSIX sh.

set -u
# shellcheck source=bench/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

BENCH_DEEP=${BENCH_DEEP:-100000}
BENCH_CLAIMS=${BENCH_CLAIMS:-3000}

bench_init queue.sh
LIBQ=$OUTDIR/build/obj/libquarry.a
[ -f "$LIBQ" ] || bench_die "no $LIBQ (run make first)"
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/include" -o "$BENCH_TMP/queue" \
    "$TOP/bench/queue.c" "$LIBQ" -ldb -ljson-c -lzip ||
    bench_die "cannot build bench/queue.c"

# Prints the claims per second at depth $1.
rate() {
	rm -rf "$BENCH_TMP/store"
	mkdir "$BENCH_TMP/store" || bench_die "mkdir"
	"$BENCH_TMP/queue" "$BENCH_TMP/store" "$1" "$BENCH_CLAIMS" ||
	    bench_die "the queue at depth $1 failed"
}

ratios=''
shallow_all=''
deep_all=''
i=0
while [ "$i" -lt "$BENCH_ROUNDS" ]; do
	s=$(rate 100)
	d=$(rate "$BENCH_DEEP")
	echo "round $((i + 1)): depth 100: $s claims/s, depth $BENCH_DEEP: $d claims/s"
	ratios="$ratios $(bench_ratio "$d" "$s")"
	shallow_all="$shallow_all $s"
	deep_all="$deep_all $d"
	i=$((i + 1))
done
# shellcheck disable=SC2086
r=$(bench_median $ratios)
# shellcheck disable=SC2086
echo "claims at depth $BENCH_DEEP: $(bench_mean $deep_all)/s = ${r}x depth 100 ($(bench_mean $shallow_all)/s) (goal 0.8)"
if [ "$BENCH_STRICT" = 1 ] && ! bench_meets "$r" 0.8; then
	bench_die "below the goal"
fi
