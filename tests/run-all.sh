#!/bin/sh
# run-all.sh: everything 'make test' runs, after 'make deps'.
#
#   1. build the plain tree (make all unit-bins)
#   2. the unit tests (plain, then under valgrind: no report allowed), the
#      integration tests and the scheduler's crash
#      tests (tests/scheduler/run.sh), against it; the integration suite
#      four times, behind lighttpd, Apache (mod_fcgid), Apache with
#      mod_proxy_fcgi and the programs started by spawn-fcgi, and Apache
#      running the programs as plain CGI (run.py --server; QUARRY_SERVERS
#      lists the servers, default "lighttpd apache proxy cgi").  Behind
#      mod_proxy_fcgi, which differs from mod_fcgid only in how Apache
#      reaches the same FastCGI programs, a selection runs (PROXY_TESTS: a
#      full Concur job with its byte-for-byte file, the error reference in
#      the log, Graph jobs with filters and a JSON file, credentials, the
#      body limit, and the whole download contract in every dialect);
#      QUARRY_PROXY_FULL=1 runs everything there too.  The suites behind
#      Apache and cgi run in the background, beside those behind lighttpd
#      and beside the ones after it (each with a port range of its own;
#      QUARRY_SERIAL=1 runs them one by one), their output shown when they
#      end.  Then a selection over HTTPS (run.py --tls: stack.sh TLS=1, a self-signed
#      certificate as the client's only CA) behind lighttpd and Apache
#      (QUARRY_TLS_SERVERS): TLS_TESTS, i.e. test_tls (every absolute URL
#      https in every dialect, Graph paging, content and signed links,
#      Concur's file-link, OSDI's links, TLS 1.1 and CBC suites refused,
#      Microsoft's Graph JavaScript client paging with PageIterator, and
#      trusted_proxies over plain HTTP), the whole download contract, a
#      signed link, a Concur job's file and Graph's paging.  Then the
#      conformance suite (tests/conformance/run.py): every published
#      example request of the three APIs, replayed behind lighttpd.
#      Then the page's browser suite (tests/browser/run.sh): www/ in a
#      real headless Chromium driven by Selenium, behind lighttpd.  Then
#      the Debian package (tests/deb/run.sh, make test-deb): built,
#      checked by lintian, installed, used behind lighttpd and Apache,
#      upgraded over itself and purged (as root only).
#   3. the same build and both suites under ASan + UBSan (make SAN=1)
#   4. the fuzz targets (make FUZZ=1, clang and libFuzzer): each replays
#      its seed corpus and fuzzes QUARRY_FUZZ_SECONDS (default 10) under
#      ASan + UBSan (tests/fuzz/run.sh; 'make fuzz' runs them longer)
#
# Every suite runs even if an earlier one failed.  Each suite ends with a
# line "N passed, N failed"; a suite that cannot run (build failure,
# missing runner), ends without that line, or reports no test passed
# counts as one failure, whatever its exit status.  The last line sums
# them all.  Exits non-zero on any failure.  MAKEFLAGS_JOBS overrides -j2.

set -u
cd "$(dirname "$0")/.." || exit 1

JOBS=${MAKEFLAGS_JOBS:--j2}
MAKE=${MAKE:-make}
passed=0
failed=0
notes=""
log=$(mktemp "${TMPDIR:-/tmp}/quarry-test-log.XXXXXX") || exit 1
probe_dir=$(mktemp -d "${TMPDIR:-/tmp}/quarry-lsan.XXXXXX") || exit 1
trap 'rm -f "$log" "$log.rc"; rm -rf "$probe_dir"' EXIT INT TERM

note() {
	notes="$notes
  $*"
	echo "run-all.sh: $*"
}

# Runs "$@" (a suite), showing its output, and adds its counts: the
# last "N passed, N failed" line.  A suite that exits non-zero without a
# failure counted, ends without that line (whatever its exit status),
# leaves no exit status, or passes nothing counts as one failure: a
# suite must show that it tested.
suite() {
	label=$1
	shift
	echo
	echo "########## $label"
	rm -f "$log.rc"
	"$@" </dev/null 2>&1 | tee "$log"
	rc=$(cat "$log.rc" 2>/dev/null)
	tally
}

# Starts suite $2 ("$@" after it) in the background under tag $1 (a
# word), its output in a file of its own; bg_suite_end shows it and adds
# its counts as suite() does.  The integration suites spend their time
# waiting on their stacks, so two of them share the machine well; each
# takes its ports from a range of its own (QUARRY_PORT_RANGE, below the
# kernel's ephemeral ports, which the suites in the foreground use).
bg_suite() {
	_tag=$1
	shift
	eval "bg_label_$_tag=\$1"
	shift
	rm -f "$probe_dir/$_tag.out" "$probe_dir/$_tag.rc"
	( "$@" </dev/null >"$probe_dir/$_tag.out" 2>&1
	  echo $? >"$probe_dir/$_tag.rc" ) &
	eval "bg_pid_$_tag=$!"
}

bg_suite_end() {
	eval "_pid=\$bg_pid_$1 label=\$bg_label_$1"
	wait "$_pid"
	echo
	echo "########## $label (ran beside the suites above)"
	cat "$probe_dir/$1.out"
	cp "$probe_dir/$1.out" "$log"
	rc=$(cat "$probe_dir/$1.rc" 2>/dev/null)
	tally
}

# Runs "$@" (after $1, the server) with a port range of that server's.
with_ports() {
	case "$1" in
	apache)	QUARRY_PORT_RANGE=24000-27999 ;;
	cgi)	QUARRY_PORT_RANGE=28000-31999 ;;
	*)	QUARRY_PORT_RANGE=20000-23999 ;;
	esac
	export QUARRY_PORT_RANGE
	shift
	"$@"
}

# Counts the suite $label whose output is in $log and exit status in $rc.
tally() {
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed}
	else
		p=0
		f=0
	fi
	why=
	if [ -z "$rc" ]; then
		why="it left no exit status"
	elif [ -z "$line" ]; then
		why="it printed no summary line (exit status $rc)"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="it exited with status $rc without counting a failure"
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		why="it ran no test"
	fi
	if [ -n "$why" ]; then
		f=$((f + 1))
		note "$label: counted as failed: $why"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && note "$label: $f failed"
	rm -f "$log.rc"
}

# Runs a command and records its exit status for suite() (tee hides it).
st() {
	"$@"
	echo $? >"$log.rc"
}

# Builds a tree; 0 on success, else counts one failure.
build() {
	label=$1
	shift
	echo
	echo "########## build: $label"
	if "$@" </dev/null; then
		return 0
	fi
	failed=$((failed + 1))
	note "build ($label) failed: its suites were not run"
	return 1
}

integration() {
	if [ ! -f tests/integration/run.py ]; then
		echo "tests/integration/run.py does not exist"
		return 1
	fi
	$MAKE -s "$@" integration
}

PROXY_TESTS="test_download
    test_concur.ConcurAPITest.test_job_completes_and_file_round_trips_byte_for_byte
    test_concur.ConcurAPITest.test_error_ids_differ_per_request
    test_concur.AuthTest.test_missing_authorization_is_401
    test_concur.AuthTest.test_unknown_tokens_are_403
    test_concur.MaxBodyTest
    test_graph.GraphJobsTest.test_json_format_content
    test_graph.GraphJobsTest.test_filters_select_the_rows"

# The integration suite of the plain tree behind server $1 (run.py reads
# QUARRY_SERVER); PROXY_TESTS only behind proxy unless
# QUARRY_PROXY_FULL=1.
integration_on() {
	QUARRY_SERVER=$1
	export QUARRY_SERVER
	if [ "$1" != proxy ] || [ "${QUARRY_PROXY_FULL:-0}" = 1 ]; then
		integration
		return
	fi
	set --
	for t in $PROXY_TESTS; do
		set -- "$@" --only "$t"
	done
	python3 tests/integration/run.py --bin-dir . "$@"
}

TLS_TESTS="test_tls
    test_download
    test_links.LinkTest.test_a_link_downloads_without_credentials
    test_concur.ConcurAPITest.test_job_completes_and_file_round_trips_byte_for_byte
    test_graph.GraphJobsTest.test_paging_visits_every_job_once_newest_first
    test_graph.GraphJobsTest.test_succeeded_job_has_every_field"

# TLS_TESTS over HTTPS behind server $1 (run.py --tls).
integration_tls_on() {
	set -- --server "$1" --tls
	for t in $TLS_TESTS; do
		set -- "$@" --only "$t"
	done
	python3 tests/integration/run.py --bin-dir . "$@"
}

# LeakSanitizer cannot run under ptrace (a debugger, strace, some
# sandboxes).  Detect that once and say so loudly instead of letting
# every sanitized program fail with LSan's own fatal error.
lsan_works() {
	cc=${CC:-cc}
	printf 'int main(void){return 0;}\n' >"$probe_dir/p.c"
	$cc -fsanitize=address -o "$probe_dir/p" "$probe_dir/p.c" \
	    >/dev/null 2>&1 || return 1
	ASAN_OPTIONS=detect_leaks=1 "$probe_dir/p" >"$probe_dir/out" 2>&1
}

start=$(date +%s)

# ---- the plain tree ----
if build plain $MAKE $JOBS all unit-bins; then
	suite "unit" st $MAKE -s unit
	suite "unit (valgrind)" st env QUARRY_UNDER_VALGRIND=1 \
	    QUARRY_UNIT_WRAPPER="valgrind -q --leak-check=full --error-exitcode=1 --suppressions=tests/valgrind.supp" \
	    $MAKE -s unit
	# Behind apache beside lighttpd, then behind cgi beside everything
	# up to the Debian package; QUARRY_SERIAL=1 runs them one after the
	# other.
	servers=${QUARRY_SERVERS:-lighttpd apache proxy cgi}
	bg=
	if [ "${QUARRY_SERIAL:-0}" != 1 ] &&
	    case " $servers " in *" lighttpd "*) true ;; *) false ;; esac; then
		for server in apache cgi; do
			case " $servers " in
			*" $server "*) bg="$bg $server" ;;
			esac
		done
	fi
	case " $bg " in
	*" apache "*) bg_suite apache "integration (apache)" \
	    with_ports apache integration_on apache ;;
	esac
	for server in $servers; do
		case " $bg " in
		*" $server "*) continue ;;
		esac
		suite "integration ($server)" st integration_on "$server"
		if [ "$server" = lighttpd ]; then
			case " $bg " in
			*" apache "*) bg_suite_end apache ;;
			esac
			case " $bg " in
			*" cgi "*) bg_suite cgi "integration (cgi)" \
			    with_ports cgi integration_on cgi ;;
			esac
		fi
	done
	for server in ${QUARRY_TLS_SERVERS:-lighttpd apache}; do
		suite "integration over HTTPS ($server, a selection)" st \
		    integration_tls_on "$server"
	done
	suite "scheduler (kill -9, recovery)" st sh tests/scheduler/run.sh .
	suite "conformance (the published examples, lighttpd)" st \
	    python3 tests/conformance/run.py --bin-dir .
	suite "manual pages (mandoc lint, coverage)" st \
	    python3 tests/man/check.py
	suite "browser (the page in headless Chromium, lighttpd)" st \
	    sh tests/browser/run.sh .
	suite "Debian package (build, lintian, install, lighttpd, Apache, upgrade, purge)" \
	    st sh tests/deb/run.sh
	case " $bg " in
	*" cgi "*) bg_suite_end cgi ;;
	esac
fi

# ---- ASan + UBSan ----
leaks=1
if ! lsan_works; then
	leaks=0
	note "LeakSanitizer does not work here (ptrace'd or sandboxed:" \
	    "$(head -n 1 "$probe_dir/out" 2>/dev/null)); the sanitizer runs" \
	    "use detect_leaks=0, so LEAKS ARE NOT CHECKED in this run"
fi
ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS UBSAN_OPTIONS
if build san $MAKE SAN=1 $JOBS all unit-bins; then
	suite "unit (ASan+UBSan)" st $MAKE -s SAN=1 unit
	suite "integration (ASan+UBSan)" st integration SAN=1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

# ---- the fuzz targets ----
if build fuzz $MAKE -s FUZZ=1 $JOBS fuzz-bins; then
	FUZZ_DETECT_LEAKS=$leaks
	export FUZZ_DETECT_LEAKS
	suite "fuzz (seed corpora, ${QUARRY_FUZZ_SECONDS:-10} s a target)" \
	    st sh tests/fuzz/run.sh --seconds "${QUARRY_FUZZ_SECONDS:-10}" \
	    build/fuzz
fi

echo
echo "########## summary ($(($(date +%s) - start)) s)"
[ -n "$notes" ] && echo "notes:$notes"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
