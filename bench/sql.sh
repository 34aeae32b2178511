#!/bin/sh
# sql.sh: SQL sources through quarryd against psql, sqlite3 and mariadb
# on the same rows (issue 12, item 8; docs/benchmarks.md).  The work is
# done by bench/sql.py (read its header): real PostgreSQL and MariaDB
# servers in a temporary directory, an SQLite file, a Quarry stack.
#
#   sh bench/sql.sh		(OUT=build tree; BENCH_SQL_ROWS (1,000,000),
#				BENCH_ROUNDS (3), BENCH_KEEP, BENCH_STRICT)
#
# POSIX sh.

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd -P) || exit 1
exec python3 "$TOP/bench/sql.py"
