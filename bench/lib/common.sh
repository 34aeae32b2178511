# shellcheck shell=sh
# bench/lib/common.sh: what every benchmark under bench/ shares.  Sourced
# (". bench/lib/common.sh"), never run.  POSIX sh: Debian's /bin/sh is
# dash.
#
# A benchmark calls bench_init first: it finds the source tree and the
# build tree (OUT, default "."), makes a temporary directory BENCH_TMP
# and installs traps so that whatever bench_on_exit registered (stopping
# stacks and servers) runs at the end, on failure and on Ctrl-C.  The
# other functions start a dev stack on a free port, run wrk and check its
# answers, and print ratios.
#
# Knobs (environment): OUT (the build tree), BENCH_DURATION (seconds per
# wrk run, 5), BENCH_ROUNDS (how many times each measurement is
# repeated, alternating with its baseline, 4), BENCH_THREADS (wrk -t, 2),
# BENCH_CONNECTIONS (wrk -c, 16), BENCH_KEEP=1 (keep BENCH_TMP),
# BENCH_STRICT=1 (a ratio below its goal fails the benchmark).

BENCH_DURATION=${BENCH_DURATION:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-4}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-16}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_STRICT=${BENCH_STRICT:-0}
BENCH_CLEANUP=''
BENCH_TMP=''

bench_die() {
	echo "$PROG: $*" >&2
	exit 1
}

# Registers the shell command $1 to run at exit (last registered runs
# first).
bench_on_exit() {
	BENCH_CLEANUP="$1
$BENCH_CLEANUP"
}

# Runs what bench_on_exit registered, then removes BENCH_TMP.
bench_cleanup() {
	_status=$?
	trap - EXIT INT TERM HUP
	_list=$BENCH_CLEANUP
	BENCH_CLEANUP=''
	_ifs=$IFS
	IFS='
'
	for _cmd in $_list; do
		IFS=$_ifs
		eval "$_cmd" || :
	done
	IFS=$_ifs
	if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
		if [ "$BENCH_KEEP" = 1 ]; then
			echo "$PROG: kept $BENCH_TMP" >&2
		else
			rm -rf "$BENCH_TMP"
		fi
	fi
	exit "$_status"
}

# Sets PROG ($1), TOP, OUTDIR, BIN, CGIBIN and BENCH_TMP; checks that the
# build tree holds the programs and that wrk, curl and lighttpd exist;
# installs the exit traps.
bench_init() {
	PROG=$1
	TOP=$(cd "$(dirname "$0")/.." && pwd -P) ||
	    bench_die "cannot find the source tree"
	OUT=${OUT:-.}
	case "$OUT" in
	/*) ;;
	*) OUT=$TOP/$OUT ;;
	esac
	OUTDIR=$(cd "$OUT" 2>/dev/null && pwd -P) ||
	    bench_die "no build tree at OUT=$OUT (run make first)"
	BIN=$OUTDIR/bin
	CGIBIN=$OUTDIR/cgi-bin
	for _p in "$BIN/quarryctl" "$BIN/quarryd" "$CGIBIN/status.fcgi"; do
		[ -x "$_p" ] || bench_die "$_p is missing; run make first"
	done
	command -v lighttpd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	for _p in wrk curl lighttpd python3; do
		command -v "$_p" >/dev/null 2>&1 ||
		    bench_die "$_p is not installed (make bench installs" \
		    "wrk; make deps the rest)"
	done
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/quarry-bench.XXXXXX") ||
	    bench_die "cannot make a temporary directory"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

# Prints a TCP port on 127.0.0.1 that nothing listens on.
bench_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Starts a dev stack (lighttpd + the four programs + quarryd, without
# demo data) in VARDIR $1 on port $2 with the programs of OUTDIR, and
# registers its stop.
bench_stack_start() {
	bench_on_exit "bench_stack_stop '$1' '$2'"
	VARDIR=$1 PORT=$2 OUT=$OUTDIR QUARRY_DEMO=0 \
	    sh "$TOP/scripts/stack.sh" start >"$BENCH_TMP/stack.out" 2>&1 || {
		cat "$BENCH_TMP/stack.out" >&2
		bench_die "the stack did not start"
	}
}

# Seeds the stack of VARDIR $1 with a two-line dataset of tenant "bench",
# a CSV definition of it named $2 and a user token; sets BENCH_DEF and
# BENCH_TOKEN.
bench_seed_def() {
	_ctl="$BIN/quarryctl -c $1/quarry.conf"
	printf 'k,v\r\na,1\r\n' > "$BENCH_TMP/tiny.csv"
	$_ctl dataset import --tenant bench tiny "$BENCH_TMP/tiny.csv" \
	    >/dev/null || bench_die "dataset import failed"
	cat > "$BENCH_TMP/def.json" <<EOF
{ "tenant": "bench", "name": "$2", "source": { "dataset": "tiny" },
  "columns": ["k", "v"], "parameters": [], "filters": [], "formats": ["csv"],
  "approval": false, "retention": "7d", "rows_per_file": 0 }
EOF
	BENCH_DEF=$($_ctl definition add "$BENCH_TMP/def.json") ||
	    bench_die "definition add failed"
	BENCH_TOKEN=$($_ctl token create --tenant bench --role user \
	    --name bench 2>/dev/null) || bench_die "token create failed"
}

bench_stack_stop() {
	VARDIR=$1 PORT=$2 OUT=$OUTDIR sh "$TOP/scripts/stack.sh" stop \
	    >/dev/null 2>&1
}

# Prints the HTTP status of a GET of URL $1 with the extra header $2
# (may be empty).
bench_http_code() {
	if [ -n "$2" ]; then
		curl -s -o /dev/null -w '%{http_code}' -H "$2" "$1"
	else
		curl -s -o /dev/null -w '%{http_code}' "$1"
	fi
}

# Prints the CPU time (user + system, in clock ticks) that process $1 and
# its children have used so far: for a web server, the server and the
# programs it spawned (Linux /proc only; 0 elsewhere).
bench_ticks() {
	if [ -z "$1" ] || [ ! -r "/proc/$1/stat" ]; then
		echo 0
		return 0
	fi
	# cat, not awk, opens the files: processes come and go meanwhile.
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v top="$1" '{
		pid = $1
		sub(/^[^(]*\(.*\) /, "")	# past "pid (comm) "
		# now $2 is the ppid, $12 utime, $13 stime
		if (pid == top || $2 == top)
			t += $12 + $13
	} END { print t + 0 }'
}

# Runs wrk with keep-alive against URL $2 with the extra header $3 (may
# be empty), after checking with curl that the URL answers 200.  Prints
# one line "  LABEL($1): N req/s, avg latency L, non-2xx N, socket errors
# N" and sets BENCH_RPS.  With $4, the pid of the web server, also prints
# and sets BENCH_CPU: the CPU time the server and its programs used per
# request, in microseconds (a figure other loads on the machine disturb
# far less than requests/s).  Fails (returns 1) on any answer other than
# 2xx or any socket error.
bench_wrk() {
	_code=$(bench_http_code "$2" "$3")
	if [ "$_code" != 200 ]; then
		echo "$PROG: $1: GET $2 answers $_code, not 200" >&2
		return 1
	fi
	_out=$BENCH_TMP/wrk.out
	_t0=$(bench_ticks "${4:-}")
	if [ -n "$3" ]; then
		wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" \
		    -d"${BENCH_DURATION}s" -H "$3" "$2" >"$_out" 2>&1
	else
		wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" \
		    -d"${BENCH_DURATION}s" "$2" >"$_out" 2>&1
	fi || {
		cat "$_out" >&2
		echo "$PROG: $1: wrk failed" >&2
		return 1
	}
	_t1=$(bench_ticks "${4:-}")
	# wrk prints "Non-2xx or 3xx responses: N" (answers >= 400, or
	# unparsable) and "Socket errors: ..." only when they are not 0.
	BENCH_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$_out")
	_lat=$(awk '$1 == "Latency" { print $2; exit }' "$_out")
	_bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$_out")
	_sock=$(awk '/Socket errors:/ {
		n = 0
		for (i = 3; i <= NF; i++) { gsub(/,/, "", $i); n += $i }
		print n
	}' "$_out")
	_bad=${_bad:-0}
	_sock=${_sock:-0}
	if [ -z "$BENCH_RPS" ]; then
		cat "$_out" >&2
		echo "$PROG: $1: no Requests/sec in wrk's output" >&2
		return 1
	fi
	_n=$(awk '/ requests in / { print $1; exit }' "$_out")
	BENCH_CPU=$(awk -v a="$_t0" -v b="$_t1" -v n="${_n:-0}" \
	    -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" \
	    'BEGIN { printf "%.1f", (n > 0 ? (b - a) * 1e6 / hz / n : 0) }')
	_cpu=''
	[ -n "${4:-}" ] && _cpu=$(printf '  server CPU %5.1f us/req' "$BENCH_CPU")
	printf '  %-24s %8.0f req/s  avg latency %-8s%s  non-2xx %s, socket errors %s\n' \
	    "$1" "$BENCH_RPS" "$_lat" "$_cpu" "$_bad" "$_sock"
	if [ "$_bad" != 0 ] || [ "$_sock" != 0 ]; then
		echo "$PROG: $1: $_bad answers other than 2xx, $_sock socket" \
		    "errors" >&2
		return 1
	fi
	return 0
}

# Prints $1 / $2 with three decimals.
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'
}

# Prints the median of the numbers in $@.
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print 0
		else if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Prints the mean of the numbers in $@.
bench_mean() {
	echo "$@" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i
	    printf "%.1f", NF ? s / NF : 0 }'
}

# Succeeds when ratio $1 is at least goal $2.
bench_meets() {
	awk -v r="$1" -v g="$2" 'BEGIN { exit !(r + 0 >= g + 0) }'
}
