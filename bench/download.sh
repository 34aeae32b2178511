#!/bin/sh
# download.sh: a 100 MB download through files.fcgi, streamed by the
# program and offloaded with X-Sendfile, against the same web server
# sending the same file statically (issue 5; docs/benchmarks.md).
#
# For each server of BENCH_SERVERS (lighttpd and apache): two real stacks
# (scripts/stack.sh) behind that server, one with sendfile = off and one
# with sendfile = lighttpd | apache, each with one completed job whose
# file is then replaced by BENCH_MB MB of random bytes.  Both job files and
# a copy under the first stack's document root (a temporary one, QUARRY_WWW,
# never the source tree's www/) are hard links of one file, so every
# variant reads the same cached pages.
#
# Then BENCH_ROUNDS times, alternated: static, streamed, X-Sendfile; each
# measurement is BENCH_DOWNLOADS sequential downloads with curl -o
# /dev/null over one connection, and its rate is bytes / seconds.  Prints
# every rate, then per server the median of the per-round ratios, e.g.
#   download lighttpd streamed: 1234 MB/s = 0.85x static (1450 MB/s; goal 0.80)
# Any answer other than 200 or a short body fails the benchmark.
#
#   sh bench/download.sh	(OUT=build tree; BENCH_SERVERS, BENCH_MB,
#				BENCH_DOWNLOADS, BENCH_ROUNDS: see below and
#				bench/lib/common.sh)
#
# POSIX sh.

set -u
# shellcheck source=bench/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

GOAL_SENDFILE=0.95
GOAL_STREAMED=0.80
BENCH_SERVERS=${BENCH_SERVERS:-lighttpd apache}
BENCH_MB=${BENCH_MB:-100}
BENCH_DOWNLOADS=${BENCH_DOWNLOADS:-3}

bench_init download.sh
command -v apache2 >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin

DATA=$BENCH_TMP/data.bin
head -c $((BENCH_MB * 1024 * 1024)) /dev/urandom > "$DATA" ||
    bench_die "cannot write $BENCH_MB MB to $DATA"
SIZE=$(wc -c < "$DATA" | tr -d ' ')

# Starts a stack of server $1 in VARDIR $2 on port $3 with document root
# $4 and sendfile = $5; registers its stop.
stack_up() {
	bench_on_exit "VARDIR='$2' PORT='$3' OUT='$OUTDIR' sh '$TOP/scripts/stack.sh' stop >/dev/null 2>&1"
	_env="SERVER=$1 VARDIR=$2 PORT=$3 OUT=$OUTDIR QUARRY_DEMO=0"
	_env="$_env QUARRY_WWW=$4"
	# shellcheck disable=SC2086
	env $_env sh "$TOP/scripts/stack.sh" start \
	    >"$BENCH_TMP/stack.out" 2>&1 || {
		cat "$BENCH_TMP/stack.out" >&2
		bench_die "the $1 stack did not start"
	}
	echo "sendfile = $5" >> "$2/quarry.conf"
	# shellcheck disable=SC2086
	env $_env sh "$TOP/scripts/stack.sh" stop >/dev/null 2>&1
	# shellcheck disable=SC2086
	env $_env sh "$TOP/scripts/stack.sh" start \
	    >"$BENCH_TMP/stack.out" 2>&1 || {
		cat "$BENCH_TMP/stack.out" >&2
		bench_die "the $1 stack did not restart"
	}
}

# Seeds stack VARDIR $1 (port $2) with one completed job, replaces its
# file by a hard link of DATA, and prints "URL TOKEN".
seed_job() {
	bench_seed_def "$1" "Download bench"
	_def=$BENCH_DEF
	_tok=$BENCH_TOKEN
	_job=$(curl -s -X POST -H "Authorization: Bearer $_tok" \
	    -H 'Content-Type: application/json' \
	    -d "{\"definitionId\":\"$_def\"}" \
	    "http://127.0.0.1:$2/api/v1/exportJobs" |
	    sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
	[ -n "$_job" ] || bench_die "creating the job failed"
	_n=300
	until curl -s -H "Authorization: Bearer $_tok" \
	    "http://127.0.0.1:$2/api/v1/exportJobs/$_job" |
	    grep -q '"status":"succeeded"'; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || bench_die "the job did not complete"
		sleep 0.1
	done
	_f=$(find "$1/files" -type f -name '*' | head -n 1)
	[ -n "$_f" ] || bench_die "no job file under $1/files"
	ln -f "$DATA" "$_f" || bench_die "cannot link the data to $_f"
	echo "http://127.0.0.1:$2/api/v1/exportJobs/$_job/content $_tok"
}

# Downloads URL $1 (with header $2, may be empty) BENCH_DOWNLOADS times;
# sets RATE (MB/s).  Fails on a status other than 200 or a short body.
measure() {
	_bytes=0
	_secs=0
	_i=0
	while [ "$_i" -lt "$BENCH_DOWNLOADS" ]; do
		if [ -n "$2" ]; then
			_r=$(curl -s -o /dev/null -H "$2" \
			    -w '%{http_code} %{size_download} %{time_total}' "$1")
		else
			_r=$(curl -s -o /dev/null \
			    -w '%{http_code} %{size_download} %{time_total}' "$1")
		fi
		set -- "$1" "$2" $_r
		[ "$3" = 200 ] || bench_die "$1 answered $3"
		[ "$4" = "$SIZE" ] || bench_die "$1 sent $4 bytes, not $SIZE"
		_bytes=$((_bytes + $4))
		_secs=$(awk -v a="$_secs" -v b="$5" 'BEGIN { print a + b }')
		set -- "$1" "$2"
		_i=$((_i + 1))
	done
	RATE=$(awk -v b="$_bytes" -v s="$_secs" \
	    'BEGIN { printf "%.0f", (s > 0 ? b / s / 1048576 : 0) }')
}

fails=0
for server in $BENCH_SERVERS; do
	case "$server" in
	lighttpd) mode=lighttpd ;;
	apache)	mode=apache ;;
	*)	bench_die "BENCH_SERVERS: $server (lighttpd or apache)" ;;
	esac
	docroot=$BENCH_TMP/www-$server
	mkdir -p "$docroot" && cp -R "$TOP/www/." "$docroot/" &&
	    ln -f "$DATA" "$docroot/big.bin" ||
	    bench_die "cannot set up $docroot"
	chmod -R a+rX "$BENCH_TMP"
	p1=$(bench_free_port) && p2=$(bench_free_port) ||
	    bench_die "no free port"
	[ "$p1" != "$p2" ] || p2=$(bench_free_port)
	stack_up "$server" "$BENCH_TMP/var-$server-s" "$p1" "$docroot" off
	stack_up "$server" "$BENCH_TMP/var-$server-x" "$p2" "$docroot" "$mode"
	# shellcheck disable=SC2046
	set -- $(seed_job "$BENCH_TMP/var-$server-s" "$p1")
	[ $# -eq 2 ] || bench_die "seeding the $server stack failed"
	url_s=$1
	hdr="Authorization: Bearer $2"
	# shellcheck disable=SC2046
	set -- $(seed_job "$BENCH_TMP/var-$server-x" "$p2")
	[ $# -eq 2 ] || bench_die "seeding the $server stack failed"
	url_x=$1
	hdr_x="Authorization: Bearer $2"
	url_static=http://127.0.0.1:$p1/big.bin

	echo "$server: $BENCH_MB MB, $BENCH_DOWNLOADS downloads per run," \
	    "$BENCH_ROUNDS rounds"
	r_st='' r_sf='' m_static='' m_stream='' m_send=''
	round=1
	while [ "$round" -le "$BENCH_ROUNDS" ]; do
		measure "$url_static" ""
		st=$RATE
		measure "$url_s" "$hdr"
		sm=$RATE
		measure "$url_x" "$hdr_x"
		sf=$RATE
		printf '  round %d: static %6s MB/s  streamed %6s MB/s' \
		    "$round" "$st" "$sm"
		printf '  X-Sendfile %6s MB/s\n' "$sf"
		m_static="$m_static $st"
		m_stream="$m_stream $sm"
		m_send="$m_send $sf"
		r_st="$r_st $(bench_ratio "$sm" "$st")"
		r_sf="$r_sf $(bench_ratio "$sf" "$st")"
		round=$((round + 1))
	done
	# shellcheck disable=SC2086
	static=$(bench_mean $m_static)
	for what in streamed X-Sendfile; do
		if [ "$what" = streamed ]; then
			# shellcheck disable=SC2086
			ratio=$(bench_median $r_st)
			# shellcheck disable=SC2086
			rate=$(bench_mean $m_stream)
			goal=$GOAL_STREAMED
		else
			# shellcheck disable=SC2086
			ratio=$(bench_median $r_sf)
			# shellcheck disable=SC2086
			rate=$(bench_mean $m_send)
			goal=$GOAL_SENDFILE
		fi
		line="download $server $what: $rate MB/s = ${ratio}x static"
		line="$line ($static MB/s; goal $goal)"
		if bench_meets "$ratio" "$goal"; then
			echo "$line"
		else
			echo "$line  below the goal"
			fails=$((fails + 1))
		fi
	done
done

if [ "$fails" -gt 0 ] && [ "$BENCH_STRICT" = 1 ]; then
	exit 1
fi
exit 0
