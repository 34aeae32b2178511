#!/bin/sh
# run-unit.sh: runs each cmocka unit test program given as an argument,
# shows its output, and ends with one line "N passed, N failed" counting
# test cases.  A program that crashes, is missing, or exits non-zero
# without reporting a failed case (a sanitizer or valgrind report) counts
# as one failed case.  Exits non-zero if anything failed.
#
# QUARRY_UNIT_WRAPPER, if set, is put before each program (for example
# "valgrind --leak-check=full --error-exitcode=1").

set -u

passed=0
failed=0
bad=""
log=$(mktemp "${TMPDIR:-/tmp}/quarry-unit-log.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT INT TERM

for prog in "$@"; do
	name=$(basename "$prog")
	echo "=== $name"
	if [ ! -x "$prog" ]; then
		echo "run-unit.sh: $prog: no such program" >&2
		failed=$((failed + 1))
		bad="$bad $name"
		continue
	fi
	# cmocka writes some summary lines to stderr: keep both, in order.
	CMOCKA_MESSAGE_OUTPUT=stdout ${QUARRY_UNIT_WRAPPER:-} "$prog" \
	    </dev/null >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" |
	    tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" |
	    tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "run-unit.sh: $name exited with status $rc" \
		    "without a failed case (crash, sanitizer or valgrind" \
		    "report): counted as one failure" >&2
		f=1
	fi
	if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "run-unit.sh: $name ran no test" >&2
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && bad="$bad $name"
done

[ -n "$bad" ] && echo "failed programs:$bad"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
