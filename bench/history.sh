#!/bin/sh
# history.sh: what a list page costs against the number of jobs kept
# (issue 11; docs/benchmarks.md).
#
# bench/history.c, built against the build tree's library, fills a new
# store with N jobs of one tenant and times pages of the listings the
# dialects make, through the same model calls as their handlers: an
# admin's and a user's OSDI page (count and 25 jobs), and Graph pages of
# 101 jobs with $filter status, with $filter definitionId, and past a
# $skiptoken.  It runs with 1,000 and with BENCH_JOBS (100,000) jobs,
# alternated, BENCH_ROUNDS times; each figure is the median of the
# ratios big/small of the time per page (goal <= 1.5: flat).
#
#   sh bench/history.sh	(OUT=build tree; BENCH_* knobs: bench/lib/common.sh,
#			BENCH_JOBS = 100000, BENCH_PAGES = 200)
#
# POSIX sh.

set -u
# shellcheck source=bench/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

BENCH_JOBS=${BENCH_JOBS:-100000}
BENCH_PAGES=${BENCH_PAGES:-200}

bench_init history.sh
LIBQ=$OUTDIR/build/obj/libquarry.a
[ -f "$LIBQ" ] || bench_die "no $LIBQ (run make first)"
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/include" \
    -o "$BENCH_TMP/history" "$TOP/bench/history.c" "$LIBQ" -ldb -ljson-c \
    -lzip || bench_die "cannot build bench/history.c"

# Runs the program with $1 jobs; its output in $BENCH_TMP/out.$1.
run() {
	rm -rf "$BENCH_TMP/store"
	mkdir "$BENCH_TMP/store" || bench_die "mkdir"
	"$BENCH_TMP/history" "$BENCH_TMP/store" "$1" "$BENCH_PAGES" \
	    >"$BENCH_TMP/out.$1" || bench_die "the run with $1 jobs failed"
}

# The figure of kind $1 in the output of the run with $2 jobs.
figure() {
	sed -n "s/^$1 //p" "$BENCH_TMP/out.$2"
}

KINDS="osdi user status def cursor"
for k in $KINDS; do
	eval "r_$k=''"
done
i=0
while [ "$i" -lt "$BENCH_ROUNDS" ]; do
	run 1000
	run "$BENCH_JOBS"
	line="round $((i + 1)):"
	for k in $KINDS; do
		a=$(figure "$k" 1000)
		b=$(figure "$k" "$BENCH_JOBS")
		line="$line $k $a/$b us"
		eval "r_$k=\"\$r_$k $(bench_ratio "$b" "$a")\""
	done
	echo "$line"
	i=$((i + 1))
done
worst=0
for k in $KINDS; do
	eval "rs=\$r_$k"
	# shellcheck disable=SC2086
	r=$(bench_median $rs)
	echo "$k page with $BENCH_JOBS jobs: ${r}x the page with 1000 (goal <= 1.5)"
	bench_meets "$r" "$worst" && worst=$r
done
if [ "$BENCH_STRICT" = 1 ] && bench_meets "$worst" 1.5001; then
	bench_die "above the goal"
fi
