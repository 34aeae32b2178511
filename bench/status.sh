#!/bin/sh
# status.sh: the status path of each dialect against a FastCGI
# hello-world behind the same lighttpd (issue 3; docs/benchmarks.md).
#
# Brings up a real stack (lighttpd + the four programs + quarryd) in a
# temporary VARDIR on a free loopback port, seeds a user token, a small
# dataset, a definition and one completed job, and serves bench/hello.c
# (built here, never installed) from a second lighttpd whose
# configuration is the stack's own with every program replaced by the
# hello-world: same lighttpd build, same modules, same rewrite rules,
# same fastcgi settings (max-procs, sockets in a run directory), so the
# only difference is the program behind the URL.
#
# A third lighttpd serves the same hello-world with a minimal
# configuration (mod_fastcgi alone, every URL to the one program: no
# rewrite, no access log, no conditions, no environment), the second
# baseline: status against it says what Quarry costs with the shipped
# configuration's cost included, and hello-world shipped against
# hello-world minimal what that configuration costs by itself.
#
# Then, BENCH_ROUNDS times, for each dialect: wrk (keep-alive) against
# hello-world at that dialect's status URL (minimal, then shipped), then
# against Quarry at the same URL with the dialect's credential header.  Prints requests/s of
# every run, then for each dialect its mean requests/s and the median of
# its per-round ratios (each run against the hello-world run just before
# it, so that the machine's other load cancels out as far as it can), e.g.
#   status concur: 12345 req/s = 0.93x hello-world (13274 req/s; goal 0.90)
# and the CPU time the server (lighttpd and its programs) spent per
# request on each side, a figure other load disturbs less.
# Any answer other than 200 fails the benchmark.
#
#   sh bench/status.sh		(OUT=build tree, BENCH_* knobs: see
#				bench/lib/common.sh)
#
# POSIX sh.

set -u
# shellcheck source=bench/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

GOAL=0.90
DIALECTS="concur graph osdi"

bench_init status.sh

VAR=$BENCH_TMP/var
HELLO=$BENCH_TMP/hello
PORT=$(bench_free_port) || bench_die "no free port"
bench_stack_start "$VAR" "$PORT"
CONF=$VAR/quarry.conf
CTL="$BIN/quarryctl -c $CONF"

# ---- seed: a tenant with a token, a dataset, a definition, one job ----

LC_ALL=C awk 'BEGIN {
	printf "id,employee,amount,currency\r\n"
	for (i = 1; i <= 200; i++)
		printf "%d,Employee %d,%d.%02d,EUR\r\n", i, i % 17, i * 7, i % 100
}' > "$BENCH_TMP/rows.csv"
$CTL dataset import --tenant bench rows "$BENCH_TMP/rows.csv" >/dev/null ||
    bench_die "dataset import failed"
cat > "$BENCH_TMP/def.json" <<'EOF'
{
  "tenant": "bench",
  "name": "Bench extract",
  "description": "The status benchmark's definition",
  "source": { "dataset": "rows" },
  "columns": ["id", "employee", "amount", "currency"],
  "parameters": [],
  "filters": [],
  "formats": ["csv"],
  "approval": false,
  "retention": "7d",
  "rows_per_file": 0
}
EOF
DEF=$($CTL definition add "$BENCH_TMP/def.json") ||
    bench_die "definition add failed"
[ -n "$DEF" ] || bench_die "definition add printed no id"
TOKEN=$($CTL token create --tenant bench --role user --name bench \
    2>/dev/null) || bench_die "token create failed"
[ -n "$TOKEN" ] || bench_die "token create printed no secret"

BASE=http://127.0.0.1:$PORT
CONCUR=/api/expense/extract/v1.0
curl -s -D "$BENCH_TMP/post.h" -o /dev/null -X POST -d '' \
    -H "Authorization: OAuth $TOKEN" -H 'Content-Type: application/xml' \
    "$BASE$CONCUR/$DEF/job" || bench_die "POST job failed"
JOB=$(tr -d '\r' < "$BENCH_TMP/post.h" |
    sed -n 's|^[Ll]ocation:.*/job/\([^/?]*\).*|\1|p')
[ -n "$JOB" ] || {
	cat "$BENCH_TMP/post.h" >&2
	bench_die "POST job gave no Location"
}

# Waits (up to 30 s) for quarryd to complete the job.
n=150
until curl -s -H "Authorization: Bearer $TOKEN" \
    "$BASE/api/v1/exportJobs/$JOB" | grep -q '"status" *: *"succeeded"'; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || bench_die "job $JOB did not complete in 30 s"
	sleep 0.2
done

# ---- the hello-world server ----

mkdir -p "$HELLO/cgi-bin" "$HELLO/run" "$HELLO/log" ||
    bench_die "cannot create $HELLO"
cc -O2 -o "$HELLO/hello.fcgi" "$TOP/bench/hello.c" -lfcgi ||
    bench_die "cannot build bench/hello.c (libfcgi-dev: make deps)"
for p in definitions jobs status files; do
	ln -s "$HELLO/hello.fcgi" "$HELLO/cgi-bin/$p.fcgi"
done
HPORT=$(bench_free_port) || bench_die "no free port"
# The stack's own configuration, with the port, the run and log
# directories and the programs replaced.
sed -e "s|^server\.port[[:space:]]*=.*|server.port = $HPORT|" \
    -e "s|$VAR/run/|$HELLO/run/|g" -e "s|$VAR/log/|$HELLO/log/|g" \
    -e "s|$CGIBIN/|$HELLO/cgi-bin/|g" \
    "$VAR/lighttpd.conf" > "$HELLO/lighttpd.conf" ||
    bench_die "cannot write $HELLO/lighttpd.conf"
if grep -qe "$VAR/run/" -e "$CGIBIN/" "$HELLO/lighttpd.conf"; then
	bench_die "$HELLO/lighttpd.conf still names the stack's files"
fi
lighttpd -tt -f "$HELLO/lighttpd.conf" >/dev/null ||
    bench_die "lighttpd refuses $HELLO/lighttpd.conf"

# Stops the hello-world lighttpd and whatever hello.fcgi is left (run
# by the exit trap).
# shellcheck disable=SC2317
stop_hello() {
	if [ -f "$HELLO/run/httpd.pid" ]; then
		_hp=$(tr -cd '0-9' < "$HELLO/run/httpd.pid")
		[ -n "$_hp" ] && kill -TERM "$_hp" 2>/dev/null
		_n=50
		while [ -n "$_hp" ] && kill -0 "$_hp" 2>/dev/null &&
		    [ "$_n" -gt 0 ]; do
			_n=$((_n - 1))
			sleep 0.1
		done
	fi
	# shellcheck disable=SC2012
	for _p in $(ls -l /proc/[0-9]*/exe 2>/dev/null |
	    awk -v exe="$HELLO/hello.fcgi" '$NF == exe {
		split($(NF - 2), f, "/"); print f[3] }'); do
		kill -TERM "$_p" 2>/dev/null
	done
}
bench_on_exit stop_hello
lighttpd -f "$HELLO/lighttpd.conf" >"$HELLO/log/lighttpd.out" 2>&1 \
    </dev/null || bench_die "the hello-world lighttpd did not start"
HBASE=http://127.0.0.1:$HPORT

# The minimal configuration: the same hello-world, the same lighttpd,
# its own run directory; nothing but mod_fastcgi.
MINI=$BENCH_TMP/minimal
mkdir -p "$MINI/run" "$MINI/log" "$MINI/www" || bench_die "cannot create $MINI"
MPORT=$(bench_free_port) || bench_die "no free port"
cat > "$MINI/lighttpd.conf" <<EOF
server.modules		= ( "mod_fastcgi" )
server.port		= $MPORT
server.bind		= "127.0.0.1"
server.document-root	= "$MINI/www"
server.pid-file		= "$MINI/run/httpd.pid"
server.errorlog		= "$MINI/log/lighttpd.error.log"
fastcgi.server = ( "/" => ((
	"bin-path"	=> "$HELLO/hello.fcgi",
	"socket"	=> "$MINI/run/hello.sock",
	"check-local"	=> "disable",
	"max-procs"	=> 2,
)) )
EOF
lighttpd -tt -f "$MINI/lighttpd.conf" >/dev/null ||
    bench_die "lighttpd refuses $MINI/lighttpd.conf"
# shellcheck disable=SC2317
stop_minimal() {
	if [ -f "$MINI/run/httpd.pid" ]; then
		_mp=$(tr -cd '0-9' < "$MINI/run/httpd.pid")
		[ -n "$_mp" ] && kill -TERM "$_mp" 2>/dev/null
		_n=50
		while [ -n "$_mp" ] && kill -0 "$_mp" 2>/dev/null &&
		    [ "$_n" -gt 0 ]; do
			_n=$((_n - 1))
			sleep 0.1
		done
	fi
}
bench_on_exit stop_minimal
lighttpd -f "$MINI/lighttpd.conf" >"$MINI/log/lighttpd.out" 2>&1 \
    </dev/null || bench_die "the minimal lighttpd did not start"
MBASE=http://127.0.0.1:$MPORT
for b in "$HBASE" "$MBASE"; do
	n=100
	until [ "$(bench_http_code "$b$CONCUR/x/job/y/status" '')" = 200 ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] ||
		    bench_die "the hello-world server $b does not answer"
		sleep 0.1
	done
done

# ---- hold (to profile by hand): print the targets and wait ----

if [ "${BENCH_HOLD:-0}" = 1 ]; then
	cat <<EOF
status.sh: holding (BENCH_HOLD=1); Ctrl-C or SIGTERM stops everything.
  quarry      $BASE   (VARDIR $VAR)
  hello-world $HBASE
  hello-world, minimal lighttpd $MBASE
  concur  $CONCUR/$DEF/job/$JOB/status   Authorization: OAuth $TOKEN
  graph   /api/v1/exportJobs/$JOB   Authorization: Bearer $TOKEN
  osdi    /osdi/v1/exports/$JOB   OSDI-API-Token: $TOKEN
EOF
	while :; do
		sleep 1
	done
fi

# ---- measure ----

# Sets URL and HDR for dialect $1.
target() {
	case "$1" in
	concur)	URL=$CONCUR/$DEF/job/$JOB/status
		HDR="Authorization: OAuth $TOKEN" ;;
	graph)	URL=/api/v1/exportJobs/$JOB
		HDR="Authorization: Bearer $TOKEN" ;;
	osdi)	URL=/osdi/v1/exports/$JOB
		HDR="OSDI-API-Token: $TOKEN" ;;
	esac
}

echo "status.sh: wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS" \
    "-d${BENCH_DURATION}s, $BENCH_ROUNDS round(s), $(nproc) cores"
QPID=$(tr -cd '0-9' < "$VAR/run/httpd.pid")
HPID=$(tr -cd '0-9' < "$HELLO/run/httpd.pid")
MPID=$(tr -cd '0-9' < "$MINI/run/httpd.pid")
failed=0
for d in $DIALECTS; do
	eval "rps_$d=''; hello_$d=''; cpu_$d=''; hcpu_$d=''; ratio_$d=''"
	eval "mini_$d=''; mcpu_$d=''; mratio_$d=''; conf_$d=''"
done
r=1
while [ "$r" -le "$BENCH_ROUNDS" ]; do
	echo "round $r"
	for d in $DIALECTS; do
		target "$d"
		bench_wrk "hello-world, minimal lighttpd ($d url)" \
		    "$MBASE$URL" "$HDR" "$MPID" || failed=1
		eval "mini_$d=\"\$mini_$d $BENCH_RPS\""
		eval "mcpu_$d=\"\$mcpu_$d $BENCH_CPU\""
		# The same URL and header, so lighttpd does the same work.
		bench_wrk "hello-world ($d url)" "$HBASE$URL" "$HDR" \
		    "$HPID" || failed=1
		eval "hello_$d=\"\$hello_$d $BENCH_RPS\""
		eval "hcpu_$d=\"\$hcpu_$d $BENCH_CPU\""
		bench_wrk "status $d" "$BASE$URL" "$HDR" "$QPID" || failed=1
		eval "rps_$d=\"\$rps_$d $BENCH_RPS\""
		eval "cpu_$d=\"\$cpu_$d $BENCH_CPU\""
		# Each run against the hello-world run just before it: the
		# machine's other load changes less within a pair.
		eval "ratio_$d=\"\$ratio_$d \$(bench_ratio $BENCH_RPS \
		    \${hello_$d##* })\""
		eval "mratio_$d=\"\$mratio_$d \$(bench_ratio $BENCH_RPS \
		    \${mini_$d##* })\""
		eval "conf_$d=\"\$conf_$d \$(bench_ratio \${hello_$d##* } \
		    \${mini_$d##* })\""
	done
	r=$((r + 1))
done

echo ""
below=0
for d in $DIALECTS; do
	eval "q=\$rps_$d h=\$hello_$d qc=\$cpu_$d hc=\$hcpu_$d rs=\$ratio_$d"
	# shellcheck disable=SC2086,SC2154
	q=$(bench_mean $q) h=$(bench_mean $h)
	# shellcheck disable=SC2086,SC2154
	qc=$(bench_mean $qc) hc=$(bench_mean $hc)
	# shellcheck disable=SC2086,SC2154
	ratio=$(bench_median $rs)
	printf 'status %s: %.0f req/s = %.2fx hello-world (%.0f req/s; goal %s)\n' \
	    "$d" "$q" "$ratio" "$h" "$GOAL"
	# shellcheck disable=SC2086
	printf '    ratio per round:%s (the figure above is their median)\n' \
	    "$(printf ' %.2f' $rs)"
	printf '    server CPU per request: %.1f us, hello-world %.1f us' \
	    "$qc" "$hc"
	printf ' (hello-world/status %.2f)\n' "$(bench_ratio "$hc" "$qc")"
	bench_meets "$ratio" "$GOAL" || below=1
	eval "m=\$mini_$d mc=\$mcpu_$d mr=\$mratio_$d cr=\$conf_$d"
	# shellcheck disable=SC2086,SC2154
	m=$(bench_mean $m) mc=$(bench_mean $mc)
	# shellcheck disable=SC2086,SC2154
	mratio=$(bench_median $mr) cratio=$(bench_median $cr)
	printf '    against a minimal lighttpd: %.2fx (hello-world there %.0f' \
	    "$mratio" "$m"
	printf ' req/s, server CPU %.1f us);\n' "$mc"
	printf '    the shipped configuration alone: hello-world %.2fx' \
	    "$cratio"
	printf ' its minimal-lighttpd rate\n'
	bench_meets "$mratio" "$GOAL" || below=1
done
if [ "$failed" = 1 ]; then
	bench_die "some runs had answers other than 200 (see above)"
fi
if [ "$below" = 1 ]; then
	echo "status.sh: below the goal of ${GOAL}x"
	[ "$BENCH_STRICT" = 1 ] && exit 1
fi
exit 0
