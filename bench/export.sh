#!/bin/sh
# export.sh: quarryctl export against sqlite3 -csv on the same rows
# (issue 4, item 7; docs/benchmarks.md).
#
# Generates a deterministic expense dataset of BENCH_EXPORT_ROWS rows
# (1,000,000; bench/lib/expenses.py: about 87 MB of CSV, some values that
# need quoting: commas, double quotes, line breaks, non-ASCII), imports it
# with quarryctl into a temporary store, loads the same CSV into a sqlite3
# database, then BENCH_EXPORT_ROUNDS times, alternating in one run:
#   quarryctl export DEF --out A.csv	(a definition selecting every column)
#   sqlite3 -csv -header db 'select * from t' > B.csv
#   cp expenses.csv C.csv			(the floor: a plain copy)
# Prints every run, the medians, and the median of the per-round ratios
# ours/sqlite3 (goal: at most 0.50).  Checks that A.csv and sqlite3's
# output hold the same records (both parsed with Python's csv module:
# sqlite3 quotes more fields than RFC 4180 needs, so bytes differ) and
# that A.csv is byte for byte the generated file.  Then prints the peak
# RSS of quarryctl export at 100,000 and at BENCH_EXPORT_ROWS rows, and
# of it the process's own (anonymous) memory (goal: it does not grow with
# the rows; the rest is the store's shared cache, bounded by cache_mb).
#
#   sh bench/export.sh		(OUT=build tree; BENCH_EXPORT_ROWS,
#				BENCH_EXPORT_ROUNDS (5), BENCH_KEEP,
#				BENCH_STRICT: see bench/lib/common.sh)
#
# Installs sqlite3 and time (Debian packages) when missing and running as
# root; otherwise prints the command and fails.  POSIX sh.

set -u
# shellcheck source=bench/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

GOAL=0.50
ROWS=${BENCH_EXPORT_ROWS:-1000000}
SMALL=100000
ROUNDS=${BENCH_EXPORT_ROUNDS:-5}

bench_init export.sh

# ---- tools: sqlite3 and GNU time ----

need=''
command -v sqlite3 >/dev/null 2>&1 || need="$need sqlite3"
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
	cmd="apt-get install -y --no-install-recommends$need"
	if [ "$(id -u)" -ne 0 ]; then
		echo "$PROG: this benchmark needs$need; install as root with:" >&2
		echo "" >&2
		echo "    sudo sh -c 'apt-get update &&" \
		    "DEBIAN_FRONTEND=noninteractive $cmd'" >&2
		exit 1
	fi
	echo "$PROG: installing$need" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $cmd >/dev/null 2>&1 || {
		apt-get update >/dev/null 2>&1
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $cmd >/dev/null
	} || bench_die "installing$need failed"
fi

# ---- data, store, sqlite3 database ----

VAR=$BENCH_TMP/var
mkdir -p "$VAR/db" "$VAR/files" || bench_die "cannot create $VAR"
cat > "$VAR/quarry.conf" <<EOF
db_dir = $VAR/db
files_dir = $VAR/files
EOF
CTL="$BIN/quarryctl -c $VAR/quarry.conf"
CSV=$BENCH_TMP/expenses.csv
SMALLCSV=$BENCH_TMP/expenses-small.csv
DB=$BENCH_TMP/expenses.sqlite

python3 "$TOP/bench/lib/expenses.py" "$ROWS" > "$CSV" ||
    bench_die "generating the dataset failed"
python3 "$TOP/bench/lib/expenses.py" "$SMALL" > "$SMALLCSV" ||
    bench_die "generating the small dataset failed"
$CTL init >/dev/null 2>&1 || bench_die "quarryctl init failed"

# Imports $2 as dataset $1 and prints the id of a definition of every
# column of it, in csv.
add_dataset() {
	$CTL dataset import --tenant bench "$1" "$2" >/dev/null ||
	    bench_die "importing $2 failed"
	cat > "$BENCH_TMP/def-$1.json" <<EOF
{
  "tenant": "bench",
  "name": "Every expense ($1)",
  "description": "Every column of every row",
  "source": { "dataset": "$1" },
  "columns": [],
  "parameters": [],
  "filters": [],
  "formats": ["csv"],
  "approval": false,
  "retention": "7d",
  "rows_per_file": 0
}
EOF
	$CTL definition add "$BENCH_TMP/def-$1.json" ||
	    bench_die "definition add failed"
}

t0=$(date +%s%N)
DEF=$(add_dataset expenses "$CSV")
t1=$(date +%s%N)
sqlite3 "$DB" ".import --csv $CSV t" || bench_die "sqlite3 .import failed"
t2=$(date +%s%N)
DEF_SMALL=$(add_dataset small "$SMALLCSV")
echo "export.sh: $ROWS rows, $(wc -c < "$CSV" | tr -d ' ') bytes of CSV;" \
    "$(nproc) cores; sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "import: quarryctl " \
    "%.1f s, sqlite3 %.1f s\n", (b - a) / 1e9, (c - b) / 1e9 }'

# ---- the runs ----

A=$BENCH_TMP/A.csv
B=$BENCH_TMP/B.csv
C=$BENCH_TMP/C.csv

# Runs the command "$@" and prints its wall time and its CPU time (user
# + system), in seconds.
timed() {
	/usr/bin/time -f '%e %U %S' -o "$BENCH_TMP/time" "$@" || return 1
	awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$BENCH_TMP/time"
}

ours() { $CTL export "$DEF" --out "$A" </dev/null 2>/dev/null; }
theirs() { sqlite3 -csv -header "$DB" 'select * from t' > "$B"; }
copy() { cp "$CSV" "$C"; }

# One unmeasured round so every file is in the page cache.
ours || bench_die "quarryctl export failed"
theirs || bench_die "sqlite3 failed"
copy || bench_die "cp failed"

t_ours=''
t_theirs=''
t_copy=''
ratios=''
cpu_ratios=''
r=1
while [ "$r" -le "$ROUNDS" ]; do
	# /usr/bin/time runs programs, not functions: sh -c does the
	# redirections.
	a=$(timed sh -c "$CTL export '$DEF' --out '$A' </dev/null \
	    2>/dev/null") || bench_die "quarryctl export failed"
	b=$(timed sh -c "sqlite3 -csv -header '$DB' 'select * from t' \
	    > '$B'") || bench_die "sqlite3 failed"
	c=$(timed cp "$CSV" "$C") || bench_die "cp failed"
	# shellcheck disable=SC2086
	set -- $a $b $c
	printf '  round %d: quarryctl export %5.2f s (cpu %5.2f)' "$r" "$1" "$2"
	printf '   sqlite3 -csv %5.2f s (cpu %5.2f)   cp %5.2f s' "$3" "$4" "$5"
	printf '   ratio %s (cpu %s)\n' "$(bench_ratio "$1" "$3")" \
	    "$(bench_ratio "$2" "$4")"
	t_ours="$t_ours $1"
	t_theirs="$t_theirs $3"
	t_copy="$t_copy $5"
	ratios="$ratios $(awk -v a="$1" -v b="$3" \
	    'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')"
	cpu_ratios="$cpu_ratios $(awk -v a="$2" -v b="$4" \
	    'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')"
	r=$((r + 1))
done

# Prints the median of the numbers in $@.
median() {
	echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print 0; else if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
	    else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# shellcheck disable=SC2086
{
m_ours=$(median $t_ours)
m_theirs=$(median $t_theirs)
m_copy=$(median $t_copy)
ratio=$(median $ratios)
cpu_ratio=$(median $cpu_ratios)
}
ratio=$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r }')
cpu_ratio=$(awk -v r="$cpu_ratio" 'BEGIN { printf "%.2f", r }')
echo "medians: quarryctl export $m_ours s, sqlite3 -csv $m_theirs s," \
    "cp $m_copy s"

failed=0

# ---- the output: record for record, and byte for byte ----

if python3 - "$A" "$B" "$CSV" <<'EOF'
import csv, sys
ours, theirs, source = sys.argv[1:4]
with open(ours, newline="", encoding="utf-8") as fa, \
        open(theirs, newline="", encoding="utf-8") as fb:
    ra, rb = csv.reader(fa, strict=True), csv.reader(fb, strict=True)
    n = 0
    for a, b in zip(ra, rb):
        if a != b:
            sys.exit("record %d differs: %r (ours) != %r (sqlite3)" % (n, a, b))
        n += 1
    rest_a, rest_b = next(ra, None), next(rb, None)
    if rest_a is not None or rest_b is not None:
        sys.exit("record counts differ after %d records" % n)
with open(ours, "rb") as fa, open(source, "rb") as fs:
    while True:
        x, y = fa.read(1 << 20), fs.read(1 << 20)
        if x != y:
            sys.exit("the export is not byte for byte the generated file")
        if not x:
            break
print("output: %d records (header included) equal to sqlite3's, and the "
      "bytes equal the generated file" % n)
EOF
then :; else
	echo "$PROG: the export does not match" >&2
	failed=1
fi

# ---- peak memory ----

# Prints the peak RSS and the peak anonymous RSS (the process's own
# memory, without the store's shared cache and other mapped files), in
# kB, of quarryctl exporting definition $1: /proc/PID/status polled every
# 2 ms.
peak_mem() {
	# shellcheck disable=SC2086
	python3 - $CTL export "$1" --out "$BENCH_TMP/rss.csv" <<'EOF'
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
hwm = anon = 0
while p.poll() is None:
    try:
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "VmHWM":
                    hwm = max(hwm, int(v.split()[0]))
                elif k == "RssAnon":
                    anon = max(anon, int(v.split()[0]))
    except (OSError, ValueError, IndexError):
        pass
    time.sleep(0.002)
if p.returncode != 0:
    sys.exit("quarryctl export failed")
print(hwm, anon)
EOF
}

mem_small=$(peak_mem "$DEF_SMALL") || bench_die "quarryctl export failed"
mem_big=$(peak_mem "$DEF") || bench_die "quarryctl export failed"
rss_sqlite=$(/usr/bin/time -f %M sqlite3 -csv -header "$DB" \
    'select * from t' 2>&1 >/dev/null | tail -n 1)
# shellcheck disable=SC2086
set -- $mem_small $mem_big
awk -v n1="$SMALL" -v n2="$ROWS" -v r1="$1" -v a1="$2" -v r2="$3" \
    -v a2="$4" -v sq="$rss_sqlite" 'BEGIN {
	printf "peak RSS of quarryctl export: %d rows %.1f MB, %d rows " \
	    "%.1f MB (sqlite3: %.1f MB)\n", n1, r1 / 1024, n2, r2 / 1024,
	    sq / 1024
	printf "  of which its own memory (anonymous): %.1f MB and %.1f MB; " \
	    "the rest is\n  the mapped store, chiefly the shared cache the " \
	    "scan touched (at most cache_mb)\n", a1 / 1024, a2 / 1024 }'
# The process's own memory must not grow with the rows; its whole RSS
# grows only until the scan has touched all of the store's cache.
if ! awk -v a="$2" -v b="$4" 'BEGIN { exit !(b <= a * 1.25 + 256) }'; then
	echo "$PROG: peak memory grows with the rows" >&2
	[ "$BENCH_STRICT" = 1 ] && failed=1
fi

echo "export: quarryctl export $m_ours s = ${ratio}x sqlite3 -csv (goal" \
    "$GOAL; median of per-round ratios; of CPU time: ${cpu_ratio}x)"
if ! awk -v r="$ratio" -v g="$GOAL" 'BEGIN { exit !(r + 0 <= g + 0) }'; then
	echo "$PROG: export: misses the goal ($ratio > $GOAL)" >&2
	[ "$BENCH_STRICT" = 1 ] && failed=1
fi
exit "$failed"
