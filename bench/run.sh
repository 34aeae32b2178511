#!/bin/sh
# run.sh: make bench.  Runs every benchmark bench/*.sh (this file
# aside), or those named on the command line ("status" or
# "bench/status.sh"), one after the other, and says which failed.
# Not part of make test: the figures depend on the machine.
#
#   sh bench/run.sh [NAME...]	OUT=build tree (default "."); the BENCH_*
#				knobs of bench/lib/common.sh pass through
#
# Installs wrk (Debian package wrk) when missing and running as root;
# otherwise prints the command and fails.  POSIX sh.

set -u

PROG=run.sh
TOP=$(cd "$(dirname "$0")/.." && pwd -P) || exit 1

if ! command -v wrk >/dev/null 2>&1; then
	cmd="apt-get install -y --no-install-recommends wrk"
	if [ "$(id -u)" -ne 0 ]; then
		echo "$PROG: the benchmarks need wrk; install it as root with:" >&2
		echo "" >&2
		echo "    sudo sh -c 'apt-get update &&" \
		    "DEBIAN_FRONTEND=noninteractive $cmd'" >&2
		exit 1
	fi
	echo "$PROG: installing wrk" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $cmd >/dev/null 2>&1 || {
		apt-get update >/dev/null 2>&1
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $cmd
	} || {
		echo "$PROG: installing wrk failed" >&2
		exit 1
	}
fi

if [ $# -eq 0 ]; then
	set --
	for f in "$TOP"/bench/*.sh; do
		[ "$(basename "$f")" = run.sh ] || set -- "$@" "$f"
	done
fi

failed=''
for b in "$@"; do
	case "$b" in
	*/*)	f=$b ;;
	*.sh)	f=$TOP/bench/$b ;;
	*)	f=$TOP/bench/$b.sh ;;
	esac
	name=$(basename "$f" .sh)
	if [ ! -f "$f" ]; then
		echo "$PROG: no benchmark $b" >&2
		failed="$failed $name"
		continue
	fi
	echo "==== $name"
	if sh "$f"; then
		echo "==== $name: done"
	else
		echo "==== $name: FAILED"
		failed="$failed $name"
	fi
	echo ""
done

if [ -n "$failed" ]; then
	echo "$PROG: failed:$failed" >&2
	exit 1
fi
exit 0
