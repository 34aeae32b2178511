"""
sql.py: SQL sources through quarryd against each database's own client
(issue 12, item 8; docs/benchmarks.md).  Run by bench/sql.sh.

Starts a real PostgreSQL and a real MariaDB (tests/integration/
dbservers.py) and writes an SQLite file, each holding the same
BENCH_SQL_ROWS rows (1,000,000) of seven mixed-type columns: an integer,
a date, a timestamp, a decimal, a bigint, a boolean and a text with
commas, quotes, line breaks and non-ASCII now and then.  Starts a Quarry
stack (lighttpd, the programs, quarryd) with the three declared, then
BENCH_ROUNDS times, for each database, alternating in one run (which
of the two goes first alternates too):

  a Graph export job of "SELECT * FROM t ORDER BY id" (csv), timed from
  the POST until the poll sees it succeeded;
  the database's own client writing the same rows to a file:
    psql -c "\\copy (SELECT …) TO 'f' CSV HEADER"      goal <= 1.2x its time
    sqlite3 -csv -header db "SELECT …" > f            goal <= 0.8x
    mariadb --batch -e "SELECT …" > f                 goal <= 1.0x

Before each timed run, sync(2): the dirty pages of the run before (the
clients do not fsync their output, Quarry does) are not the next run's
work.  The ratio printed is the median of the per-round ratios
ours/theirs.
Checks that each export holds the client's records (parsed; NULL
and binary spellings aside, there are none here).  Then the worker's
peak RSS (VmHWM of the quarryd worker that built the job, polled from
/proc) at 100,000 and at BENCH_SQL_ROWS rows, for each database: goal,
at most 1.5x.

Knobs: OUT (build tree), BENCH_SQL_ROWS, BENCH_ROUNDS (3 here),
BENCH_STRICT=1 (exit 1 below a goal), BENCH_KEEP=1.
"""

import csv
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
OUT = os.environ.get("OUT", ".")
if not os.path.isabs(OUT):
    OUT = os.path.join(TOP, OUT)
os.environ["QUARRY_BIN_DIR"] = OUT

import harness  # noqa: E402
from dbservers import MariaDBServer, PostgresServer  # noqa: E402

ROWS = int(os.environ.get("BENCH_SQL_ROWS", "1000000"))
SMALL = 100000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
STRICT = os.environ.get("BENCH_STRICT", "0") == "1"
GOALS = {"postgresql": 1.2, "sqlite": 0.8, "mysql": 1.0}
PASSWORD = "bench-Pa55"
QUERY = "SELECT * FROM t ORDER BY id"


def gen_csv(path, n):
    """The rows, as CSV without a header (NULL never appears)."""
    rnd = random.Random(12)
    notes = ["plain", "with, comma", 'say "hi"', "two\nlines", "Grüße ✓",
             "日本語", "x" * 40]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        for i in range(1, n + 1):
            w.writerow([i, "2026-%02d-%02d" % (1 + i % 12, 1 + i % 28),
                        "2026-%02d-%02d %02d:%02d:%02d" % (
                            1 + i % 12, 1 + i % 28, i % 24, i % 60,
                            (i * 7) % 60),
                        "%d.%02d" % (rnd.randrange(-99999, 99999),
                                     rnd.randrange(100)),
                        rnd.randrange(1 << 40), "1" if i % 3 else "0",
                        notes[i % len(notes)]])


def timed(argv, out=None, env=None):
    os.sync()       # the last run's dirty pages are not this run's work
    t0 = time.monotonic()
    if out is None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                       env=env)
    else:
        with open(out, "wb") as f:
            subprocess.run(argv, check=True, stdout=f, env=env)
    return time.monotonic() - t0


class Peak:
    """Polls the VmHWM of quarryd's children (the workers) while on."""

    def __init__(self, master):
        self.master = master
        self.peak = {}
        self.on = True
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while self.on:
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read().rsplit(")", 1)[1].split()
                    if int(st[1]) != self.master:
                        continue
                    with open("/proc/%s/status" % d) as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                kb = int(line.split()[1])
                                self.peak[d] = max(self.peak.get(d, 0), kb)
                except (OSError, ValueError, IndexError):
                    pass
            time.sleep(0.005)

    def stop(self):
        self.on = False
        self.t.join()
        return max(self.peak.values()) if self.peak else 0


def main():
    tmp = tempfile.mkdtemp(prefix="quarry-bench-sql-")
    src = os.path.join(tmp, "rows.csv")
    print("sql.py: %d rows, %d round(s)" % (ROWS, ROUNDS), flush=True)
    gen_csv(src, ROWS)
    pg = PostgresServer()
    my = MariaDBServer()
    stack = harness.Stack("bench-sql", {"workers": "1",
                                        "poll_seconds": "1"})
    try:
        pg.start()
        my.start()
        os.chmod(tmp, 0o755)
        os.chmod(src, 0o644)
        pg.sql("CREATE ROLE bench LOGIN PASSWORD '%s';"
               "CREATE TABLE t (id int PRIMARY KEY, d date, ts timestamp, "
               "amount numeric(12,2), big bigint, ok boolean, note text);"
               "COPY t FROM '%s' CSV;"
               "GRANT SELECT ON t TO bench; ANALYZE t;" % (PASSWORD, src))
        my.sql("CREATE USER bench@localhost IDENTIFIED BY '%s';"
               "CREATE TABLE t (id int PRIMARY KEY, d date, ts datetime, "
               "amount decimal(12,2), big bigint, ok boolean, note text);"
               "GRANT SELECT ON quarry_test.* TO bench@localhost;"
               % PASSWORD)
        subprocess.run(["mariadb", "--no-defaults", "-S", my.socket, "-u",
                        "root", "--local-infile=1", "quarry_test", "-e",
                        "SET GLOBAL local_infile = 1; LOAD DATA LOCAL "
                        "INFILE '%s' INTO TABLE t CHARACTER SET utf8mb4 "
                        "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY "
                        "'\"' ESCAPED BY '' LINES TERMINATED BY '\\n'"
                        % src], check=True)
        lite = os.path.join(tmp, "t.db")
        subprocess.run(["sqlite3", lite,
                        "CREATE TABLE t (id INTEGER PRIMARY KEY, d TEXT, "
                        "ts TEXT, amount NUMERIC, big INTEGER, ok INTEGER, "
                        "note TEXT);", ".mode csv", ".import %s t" % src],
                       check=True)
        os.chmod(lite, 0o644)
        stack.start()
        pw = os.path.join(stack.vardir, "bench.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw, 0o644)
        stack.add_database("pg", driver="postgresql", password_file=pw,
                           conninfo=pg.conninfo("bench"))
        stack.add_database("my", driver="mysql", password_file=pw,
                           socket=my.socket, user="bench",
                           dbname="quarry_test")
        stack.add_database("lite", driver="sqlite", path=lite)
        stack.restart()
        admin = stack.token("bench", "admin", name="bench")
        hdr = {"Authorization": "Bearer " + admin,
               "Content-Type": "application/json"}

        def define(db, query):
            r = stack.request("POST", "/api/v1/definitions",
                              json.dumps({"tenant": "bench",
                                          "name": "bench %s" % db,
                                          "source": {"database": db,
                                                     "query": query}}),
                              headers=hdr)
            assert r.status == 201, r
            return json.loads(r.body)["id"]

        def run_job(def_id, watch=False):
            """Seconds from POST to succeeded, the job id, and with watch
            the worker's peak RSS (the /proc poller takes CPU: never
            while timing)."""
            peak = Peak(stack.read_pid("quarryd")) if watch else None
            os.sync()
            t0 = time.monotonic()
            r = stack.request("POST", "/api/v1/exportJobs",
                              json.dumps({"definitionId": def_id}),
                              headers=hdr)
            assert r.status == 201, r
            jid = json.loads(r.body)["id"]
            while True:
                r = stack.request("GET", "/api/v1/exportJobs/" + jid,
                                  headers=hdr)
                j = json.loads(r.body)
                if j["status"] in ("succeeded", "failed"):
                    break
                time.sleep(0.02)
            took = time.monotonic() - t0
            kb = peak.stop() if peak else 0
            assert j["status"] == "succeeded", j
            return took, jid, kb

        def content(jid):
            r = stack.request("GET", "/api/v1/exportJobs/%s/content" % jid,
                              headers=hdr)
            assert r.status == 200, r
            return r.body

        defs = {d: define(d, QUERY) for d in ("pg", "my", "lite")}
        small = {d: define(d, QUERY.replace("ORDER BY id",
                                            "WHERE id <= %d ORDER BY id"
                                            % SMALL))
                 for d in ("pg", "my", "lite")}
        native = {
            "pg": lambda f: timed([os.path.join(pg.bindir, "psql"), "-X",
                                   "-q", "-h", pg.sock, "-U", "postgres",
                                   "-d", "quarry_test", "-c",
                                   "\\copy (%s) TO '%s' CSV HEADER"
                                   % (QUERY, f)]),
            "my": lambda f: timed(["mariadb", "--no-defaults", "-S",
                                   my.socket, "-u", "root", "--batch",
                                   "quarry_test", "-e", QUERY], out=f),
            "lite": lambda f: timed(["sqlite3", "-csv", "-header", lite,
                                     QUERY], out=f),
        }
        names = {"pg": "postgresql", "my": "mysql", "lite": "sqlite"}
        ours = {d: [] for d in defs}
        theirs = {d: [] for d in defs}
        ratios = {d: [] for d in defs}
        last = {}
        for r in range(ROUNDS):
            print("round %d" % (r + 1), flush=True)
            for d in defs:
                f = os.path.join(tmp, "native-%s" % d)
                os.chmod(tmp, 0o777)
                # who goes first alternates: what a run leaves behind
                # (a server's background work) falls on both alike
                if r % 2 == 0:
                    b = native[d](f)
                    a, jid, _ = run_job(defs[d])
                else:
                    a, jid, _ = run_job(defs[d])
                    b = native[d](f)
                ours[d].append(a)
                theirs[d].append(b)
                ratios[d].append(a / b)
                last[d] = (jid, f)
                print("  %-10s quarry %6.2f s   %-8s %6.2f s   ratio %.2f"
                      % (names[d], a, {"pg": "psql", "my": "mariadb",
                                       "lite": "sqlite3"}[d], b, a / b),
                      flush=True)
        # the same records
        for d, (jid, f) in last.items():
            got = list(csv.reader(io.StringIO(content(jid).decode(),
                                              newline="")))
            with open(f, encoding="utf-8", newline="") as fh:
                text = fh.read()
            if d == "my":
                # --batch: a record per line, tab-separated, a line break
                # in a value written as \\n (no tab or backslash here)
                want = [[v.replace("\\n", "\n") for v in line.split("\t")]
                        for line in text.rstrip("\n").split("\n")]
            else:
                want = list(csv.reader(io.StringIO(text, newline="")))
            assert len(got) == ROWS + 1, (d, len(got))
            assert got == want, "%s: the export differs" % d
        below = False
        print()
        for d in defs:
            med = statistics.median(ratios[d])
            goal = GOALS[names[d]]
            print("%-10s %.2fx its client's time (quarry %.2f s, client "
                  "%.2f s; goal <= %.1fx)%s" % (
                      names[d], med, statistics.median(ours[d]),
                      statistics.median(theirs[d]), goal,
                      "" if med <= goal else "  BELOW THE GOAL"))
            below = below or med > goal
        print()
        for d in defs:
            _, _, kb_small = run_job(small[d], watch=True)
            _, _, kb_big = run_job(defs[d], watch=True)
            ratio = kb_big / kb_small if kb_small else 0
            print("%-10s worker peak RSS: %d rows %.1f MB, %d rows %.1f MB "
                  "(%.2fx; goal <= 1.5x)%s" % (
                      names[d], SMALL, kb_small / 1024, ROWS, kb_big / 1024,
                      ratio, "" if ratio <= 1.5 else "  BELOW THE GOAL"))
            below = below or ratio > 1.5
        if below:
            print("sql.py: below a goal")
            return 1 if STRICT else 0
        return 0
    finally:
        stack.stop(keep=os.environ.get("BENCH_KEEP") == "1")
        pg.stop()
        my.stop()
        if os.environ.get("BENCH_KEEP") != "1":
            subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    sys.exit(main())
