#!/bin/sh
# quarryd's own test: drain mode, waking through the FIFO, the lock, pid
# file, SIGHUP, SIGTERM, and crash recovery by killing the scheduler and
# its workers with SIGKILL for real.  Self-contained: everything lives in
# a temporary directory and every process it starts is stopped, also on
# failure.
#
#	sh tests/scheduler/run.sh [OUT]
#
# OUT is the build tree (default "."): it needs OUT/bin/quarryd,
# OUT/bin/quarryctl and OUT/build/obj/libquarry.a ("make OUT=... all").
# VALGRIND=1 runs every quarryd under valgrind and fails on any report.
# Builds that a test interrupts are held by an extractor that waits for
# a file, so no test depends on how fast a build is.
set -u

OUT=${1:-.}
QD=$OUT/bin/quarryd
CTL=$OUT/bin/quarryctl
LIBQ=$OUT/build/obj/libquarry.a
for f in "$QD" "$CTL" "$LIBQ"; do
	[ -e "$f" ] || { echo "missing $f: build it first" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/quarryd-test.XXXXXX") || exit 2
PIDS=
FAILED=0
PASSED=0

cleanup() {
	for p in $PIDS $(cat "$T/holders" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	# workers die with their master (PR_SET_PDEATHSIG); wait for them
	sleep 0.2
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	FAILED=$((FAILED + 1))
}

ok() {
	echo "ok: $*"
	PASSED=$((PASSED + 1))
}

VG=
if [ "${VALGRIND:-0}" = 1 ]; then
	VG="valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --log-file=$T/vg.%p"
fi

# Fails if valgrind reported anything (its logs are empty when clean).
check_valgrind() {
	[ -n "$VG" ] || return 0
	for f in "$T"/vg.*; do
		[ -s "$f" ] || continue
		fail "valgrind report in $f"; cat "$f" >&2
	done
	rm -f "$T"/vg.*
}

# qd ARGS...: runs quarryd in the background; its pid in $QPID.
qd() {
	$VG "$QD" -c "$CONF" "$@" >>"$T/quarryd.out" 2>&1 &
	QPID=$!
	PIDS="$PIDS $QPID"
}

# waitfor SECONDS COMMAND...: retries the command every 0.1 s.
waitfor() {
	_n=$(($1 * 10)); shift
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

field() {	# field JOB NAME: one field of 'quarryctl job show'
	"$CTL" -c "$CONF" job show "$1" | sed -n "s/^$2: //p"
}

state_is() {
	[ "$(field "$1" state)" = "$2" ]
}

# expected FILE.csv [CURRENCY]: the export of columns id,amount,currency
expected() {
	awk -F, -v c="${2:-}" 'NR == 1 { printf "id,amount,currency\r\n"; next }
	    c == "" || $4 == c { printf "%s,%s,%s\r\n", $1, $3, $4 }' "$1"
}

gen() {		# gen ROWS: a dataset of expense-like rows
	awk -v n="$1" 'BEGIN { print "id,employee,amount,currency";
	    for (i = 1; i <= n; i++) printf "%d,emp %d,%d.%02d,%s\n", i,
	    i % 97, i, i % 100, i % 3 == 0 ? "EUR" : i % 3 == 1 ? "USD" : "GBP" }'
}

# ---- set-up ----
mkdir -p "$T/log" "$T/run" "$T/extractors"
CONF=$T/quarry.conf
cat >"$CONF" <<EOF
db_dir = $T/db
files_dir = $T/files
extractors_dir = $T/extractors
log_file = $T/log/quarryd.log
pid_file = $T/run/quarryd.pid
workers = 2
poll_seconds = 30
lease_seconds = 30
max_attempts = 3
retry_backoff_seconds = 1
EOF
ENQ=$T/enqueue
cc -std=c11 -D_GNU_SOURCE -Iinclude -o "$ENQ" tests/scheduler/enqueue.c \
    "$LIBQ" -ldb -ljson-c -lzip || { echo "cannot build enqueue" >&2; exit 2; }
"$CTL" -c "$CONF" init >/dev/null 2>&1 || { echo "init failed" >&2; exit 2; }
gen 20000 >"$T/small.csv"
"$CTL" -c "$CONF" dataset import --tenant acme small "$T/small.csv" ||
    exit 2
def() {		# def DATASET: adds a definition, prints its id
	cat >"$T/def.json" <<EOF
{"tenant": "acme", "name": "Expenses $1", "source": {"dataset": "$1"},
 "columns": ["id", "amount", "currency"],
 "parameters": [{"name": "currency", "type": "string", "required": false}],
 "filters": [{"column": "currency", "op": "=", "parameter": "currency"}],
 "formats": ["csv"]}
EOF
	"$CTL" -c "$CONF" definition add "$T/def.json"
}
SMALL=$(def small) || exit 2

# ---- 1. drain mode: every queued job completes, files are right ----
JOBS=$("$ENQ" "$CONF" "$SMALL" - currency=EUR currency=USD currency=GBP)
set -- $JOBS
$VG "$QD" -c "$CONF" --drain >>"$T/quarryd.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "quarryd --drain exited $rc"
i=0
for cur in "" EUR USD GBP; do
	i=$((i + 1))
	eval j=\${$i}
	if ! state_is "$j" completed; then
		fail "drain: job $j is $(field "$j" state)"
		continue
	fi
	expected "$T/small.csv" "$cur" >"$T/expect.csv"
	cmp -s "$T/expect.csv" "$T/files/$j.csv" ||
	    fail "drain: file of job $j ($cur) differs"
done
[ -e "$T/run/quarryd.pid" ] && fail "drain: pid file left behind"
grep -q "tenant acme: completed in" "$T/log/quarryd.log" ||
    fail "drain: no transition in the log"
[ $FAILED -eq 0 ] && ok "drain mode builds every queued job correctly"
check_valgrind

# ---- 2. the daemon: wake FIFO, lock, pid file, SIGHUP, SIGTERM ----
qd
waitfor 10 test -p "$T/db/quarryd.wake" || fail "no wake FIFO"
waitfor 10 test -s "$T/run/quarryd.pid" || fail "no pid file"
[ "$(cat "$T/run/quarryd.pid" 2>/dev/null)" = "$QPID" ] ||
    fail "pid file does not hold quarryd's pid"
if "$QD" -c "$CONF" >/dev/null 2>&1; then
	fail "a second quarryd started on the same store"
else
	ok "a second quarryd is refused"
fi
# poll_seconds is 30: only the nudge can make this quick
J=$("$ENQ" "$CONF" "$SMALL" currency=XXX)
if waitfor 3 state_is "$J" completed; then
	ok "a new job wakes the scheduler at once"
else
	fail "job $J not built within 3 s of creation (state $(field "$J" state))"
fi
mv "$T/log/quarryd.log" "$T/log/quarryd.log.1"
kill -HUP "$QPID"
waitfor 10 grep -q "configuration reloaded" "$T/log/quarryd.log" &&
    ok "SIGHUP reopens the log and re-reads the configuration" ||
    fail "SIGHUP: no new log"
kill -TERM "$QPID"
wait "$QPID"
rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
[ -e "$T/run/quarryd.pid" ] && fail "SIGTERM: pid file left behind"
check_valgrind

# ---- 3. crash recovery, builds held by a waiting extractor ----
# Each build of definition HELD writes its first rows, then waits until
# the file named by its gate parameter exists in $T/gates: a kill lands
# mid-build by construction, however fast the machine.  The kills aim at
# the process that holds the job: `quarryctl job show` names it.
mkdir -p "$T/gates"
cat >"$T/extractors/hold" <<EOF
#!/bin/sh
echo \$\$ >>"$T/holders"
head -n 1001 "$T/small.csv"
while [ ! -e "$T/gates/\$QUARRY_PARAM_GATE" ]; do sleep 0.05; done
tail -n +1002 "$T/small.csv"
EOF
chmod 755 "$T/extractors/hold"
cat >"$T/held.json" <<EOF
{"tenant": "acme", "name": "Held", "source": {"command": "hold"},
 "columns": ["id", "amount", "currency"],
 "parameters": [{"name": "gate", "type": "string", "required": true}],
 "formats": ["csv"]}
EOF
HELD=$("$CTL" -c "$CONF" definition add "$T/held.json") || exit 2
expected "$T/small.csv" "" >"$T/expect-held.csv"

open_gate() {	# open_gate NAME: lets the builds waiting on NAME finish
	: >"$T/gates/$1"
}

# held JOB N: JOB is running its attempt N, held mid-build
held() {
	[ "$(field "$1" state)" = running ] &&
	    [ "$(field "$1" attempts)" = "$2" ] &&
	    [ "$(field "$1" worker)" != 0 ] &&
	    test -e "$T/files/$1.csv.tmp"
}

# 3a. kill -9 the whole scheduler mid-build, start again
qd
J=$("$ENQ" "$CONF" "$HELD" gate=a)
waitfor 20 held "$J" 1 || fail "3a: the build never started"
WORKERS=$(pgrep -P "$QPID" | tr '\n' ' ')
kill -9 "$QPID"
wait "$QPID" 2>/dev/null
if [ "$(field "$J" state)" = running ]; then
	ok "3a: killed mid-build, the job is left running"
else
	fail "3a: job is $(field "$J" state) after kill -9"
fi
sleep 0.3
for w in $WORKERS; do
	# A zombie is dead: where PID 1 does not reap orphans, they stay.
	st=$(ps -o stat= -p "$w" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ] &&
	    fail "3a: worker $w outlived its master"
done
open_gate a
qd --drain
wait "$QPID"
rc=$?
[ $rc -eq 0 ] || fail "3a: quarryd --drain after the crash exited $rc"
if state_is "$J" completed && [ "$(field "$J" attempts)" = 2 ] &&
    cmp -s "$T/expect-held.csv" "$T/files/$J.csv"; then
	ok "3a: the next start requeues and finishes it (attempt 2, file right)"
else
	fail "3a: job $J: $(field "$J" state), attempts $(field "$J" attempts)"
fi
ls "$T/files" | grep -q '\.tmp$' && fail "3a: partial file left"
check_valgrind

# 3b. kill -9 only the worker: the master requeues the job at once
qd
J=$("$ENQ" "$CONF" "$HELD" gate=b)
waitfor 20 held "$J" 1 || fail "3b: the build never started"
W=$(field "$J" worker)
kill -9 "$W"
waitfor 20 held "$J" 2 || fail "3b: attempt 2 did not start"
open_gate b
if waitfor 60 state_is "$J" completed &&
    [ "$(field "$J" attempts)" = 2 ] &&
    cmp -s "$T/expect-held.csv" "$T/files/$J.csv"; then
	ok "3b: a killed worker's job is requeued and finished by another"
else
	fail "3b: job $J: $(field "$J" state), attempts $(field "$J" attempts)"
fi
grep -q "job $J tenant acme: requeued after" "$T/log/quarryd.log" ||
    fail "3b: the requeue is not in the log"

# 3c. a worker killed max_attempts times: the job fails with a detail
J=$("$ENQ" "$CONF" "$HELD" gate=c)
for n in 1 2 3; do
	waitfor 20 held "$J" $n || fail "3c: attempt $n did not start"
	W=$(field "$J" worker)
	kill -9 "$W"
done
if waitfor 60 state_is "$J" failed; then
	ok "3c: after max_attempts interrupted builds the job fails"
else
	fail "3c: job $J is $(field "$J" state) after 3 kills"
fi
field "$J" detail | grep -q "died" || fail "3c: unclear detail: $(field "$J" detail)"
ls "$T/files" | grep -q '\.tmp$' && fail "3c: partial file left"

# 3d. SIGTERM during a build: it finishes within the grace, exit 0
J=$("$ENQ" "$CONF" "$HELD" gate=d)
waitfor 20 held "$J" 1 || fail "3d: the build never started"
kill -TERM "$QPID"
sleep 0.5
open_gate d
wait "$QPID"
rc=$?
if [ $rc -eq 0 ] && state_is "$J" completed &&
    cmp -s "$T/expect-held.csv" "$T/files/$J.csv"; then
	ok "3d: SIGTERM lets the running build finish"
else
	fail "3d: exit $rc, job $(field "$J" state)"
fi
check_valgrind

echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
