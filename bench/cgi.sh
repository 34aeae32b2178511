#!/bin/sh
# cgi.sh: what a request costs when the programs run as plain CGI (a
# shared host, SERVER=cgi) instead of FastCGI (SERVER=apache), and where
# that cost goes (issue 5; docs/benchmarks.md).
#
# Brings up two real stacks behind Debian's apache2: mod_fcgid and CGI
# through www/.htaccess, each with a user token and one completed job.
# Then, BENCH_ROUNDS times alternated, wrk with one connection (one
# request at a time) against the Concur status URL of each: the mean time
# per request of each and their difference, the CGI start-up cost.  Last,
# the parts of that cost: status.fcgi run directly as CGI (fork, exec,
# dynamic loading, store_open, the request) against a program that does
# nothing (/bin/true, fork and exec alone), BENCH_EXECS times each.
#
#   sh bench/cgi.sh	(OUT=build tree; BENCH_* knobs: bench/lib/common.sh,
#			BENCH_EXECS = 200)
#
# POSIX sh.

set -u
# shellcheck source=bench/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

BENCH_EXECS=${BENCH_EXECS:-200}

bench_init cgi.sh
command -v apache2 >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
BENCH_THREADS=1
BENCH_CONNECTIONS=1

# Starts a stack of server $1 in VARDIR $2 on port $3 with one completed
# job; sets URL and HDR (its status URL and credential).
stack_job() {
	bench_on_exit "VARDIR='$2' OUT='$OUTDIR' sh '$TOP/scripts/stack.sh' stop >/dev/null 2>&1"
	SERVER=$1 VARDIR=$2 PORT=$3 OUT=$OUTDIR QUARRY_DEMO=0 \
	    sh "$TOP/scripts/stack.sh" start >"$BENCH_TMP/stack.out" 2>&1 || {
		cat "$BENCH_TMP/stack.out" >&2
		bench_die "the $1 stack did not start"
	}
	bench_seed_def "$2" "CGI bench"
	_def=$BENCH_DEF
	_tok=$BENCH_TOKEN
	_b=http://127.0.0.1:$3/api/expense/extract/v1.0/$_def/job
	HDR="Authorization: OAuth $_tok"
	_loc=$(curl -s -D - -o /dev/null -X POST -d '' -H "$HDR" "$_b" |
	    sed -n 's/^Location: *\([^[:space:]]*\).*/\1/p')
	[ -n "$_loc" ] || bench_die "creating a job on the $1 stack failed"
	URL=$_loc/status
	_n=200
	until curl -s -H "$HDR" "$URL" | grep -q '<status>Completed<'; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || bench_die "the $1 job did not complete"
		sleep 0.1
	done
}

# Runs "$@" BENCH_EXECS times; sets MS to the mean wall time in ms.
execs() {
	_t0=$(date +%s%N)
	_i=0
	while [ "$_i" -lt "$BENCH_EXECS" ]; do
		"$@" >/dev/null 2>&1 </dev/null
		_i=$((_i + 1))
	done
	_t1=$(date +%s%N)
	MS=$(awk -v a="$_t0" -v b="$_t1" -v n="$BENCH_EXECS" \
	    'BEGIN { printf "%.2f", (b - a) / n / 1e6 }')
}

p1=$(bench_free_port) && p2=$(bench_free_port) || bench_die "no free port"
[ "$p1" != "$p2" ] || p2=$(bench_free_port)
chmod a+rx "$BENCH_TMP"
stack_job apache "$BENCH_TMP/var-fcgi" "$p1"
url_f=$URL hdr_f=$HDR
stack_job cgi "$BENCH_TMP/var-cgi" "$p2"
url_c=$URL hdr_c=$HDR

ms_f='' ms_c=''
round=1
while [ "$round" -le "$BENCH_ROUNDS" ]; do
	bench_wrk "FastCGI (mod_fcgid)" "$url_f" "$hdr_f" || exit 1
	ms_f="$ms_f $(awk -v r="$BENCH_RPS" 'BEGIN { printf "%.3f", 1000 / r }')"
	bench_wrk "CGI (mod_cgid)" "$url_c" "$hdr_c" || exit 1
	ms_c="$ms_c $(awk -v r="$BENCH_RPS" 'BEGIN { printf "%.3f", 1000 / r }')"
	round=$((round + 1))
done
# shellcheck disable=SC2086
f=$(bench_median $ms_f)
# shellcheck disable=SC2086
c=$(bench_median $ms_c)
echo "status path, one request at a time: FastCGI $f ms, CGI $c ms per" \
    "request; CGI start-up $(awk -v a="$c" -v b="$f" \
    'BEGIN { printf "%.1f", a - b }') ms"

# The parts: the program run directly as CGI, against fork and exec alone.
conf=$BENCH_TMP/var-cgi/quarry.conf
path=/${url_c#http://*/}
execs env -i QUARRY_CONF="$conf" GATEWAY_INTERFACE=CGI/1.1 \
    REQUEST_METHOD=GET REQUEST_URI="$path" SERVER_NAME=127.0.0.1 \
    SERVER_PORT="$p2" HTTP_AUTHORIZATION="${hdr_c#Authorization: }" \
    "$CGIBIN/status.fcgi"
full=$MS
execs env -i QUARRY_CONF="$conf" GATEWAY_INTERFACE=CGI/1.1 \
    REQUEST_METHOD=GET REQUEST_URI=/nothing SERVER_NAME=127.0.0.1 \
    SERVER_PORT="$p2" "$CGIBIN/status.fcgi"
nothing=$MS
execs env -i /bin/true
true_ms=$MS
echo "status.fcgi as CGI, run directly: $full ms (a 404 that needs no" \
    "lookup: $nothing ms; fork + exec of /bin/true: $true_ms ms)"
echo "dynamic libraries of status.fcgi: $(ldd "$CGIBIN/status.fcgi" |
    grep -c '=>')"
exit 0
