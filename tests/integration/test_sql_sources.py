"""
SQL sources end to end (issue 12, docs/sources.md): a real PostgreSQL
and a real MariaDB, each started in a temporary directory on a unix
socket, and an SQLite file, declared in the stack's quarry.conf;
definitions with parameterised queries posted over Graph; jobs built by
quarryd and downloaded over HTTP; the files compared with what psql
--csv, mariadb --batch and sqlite3 -csv print for the same rows.  For
each server also: every output format, hostile parameter values, a
writing query, a wrong password, a query past its timeout, a cancel that
stops the query on the server, and the server killed during an export
and started again.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from dbservers import MariaDBServer, PostgresServer, wait_for
from jsonapi import JSONStackTestCase, body_json

PASSWORD = "s3cret-Pa55"
ROWS = 3000             # rows of the slow table

EXPENSES_QUERY = ("SELECT * FROM expenses WHERE created >= :from AND "
                  "(:currency IS NULL OR currency = :currency) ORDER BY id")
EXPENSES_PARAMS = [{"name": "from", "type": "date", "required": True},
                   {"name": "currency", "type": "string"}]
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def parse_csv(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


class SQLServerCases(JSONStackTestCase):
    """What every SQL server must do; a subclass brings the server.

    Subclasses set: SERVER (a server class), SCHEMA, DRIVER and the
    [database] settings (settings()), SLOW_QUERY (ROWS rows, a little
    wait each), SLEEP_QUERY (waits a minute), HEAVY_QUERY (works for
    long), WRITING_QUERIES; and define native_rows(query) (what the
    server's own client prints) and active() (Quarry's statements
    running on the server now)."""

    conf_extra = {"workers": "2", "poll_seconds": "1",
                  "retry_backoff_seconds": "1", "max_attempts": "5"}

    @classmethod
    def setUpClass(cls):
        if cls is SQLServerCases:
            raise unittest.SkipTest("the cases alone, without a server")
        super().setUpClass()

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.db = cls.SERVER()
        cls.db.start()
        cls.db.sql(cls.SCHEMA)
        cls.pwfile = os.path.join(s.vardir, "db.pw")
        with open(cls.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        cls.wrongpw = os.path.join(s.vardir, "wrong.pw")
        with open(cls.wrongpw, "w") as f:
            f.write("not-the-password\n")
        if os.getuid() == 0:
            # quarryd and the web programs may run as another user
            for p in (cls.pwfile, cls.wrongpw):
                os.chmod(p, 0o644)
        s.add_database("main", password_file=cls.pwfile, **cls.settings())
        s.add_database("wrongpw", password_file=cls.wrongpw,
                       **cls.settings())
        s.add_database("fast", password_file=cls.pwfile, query_timeout="2",
                       **cls.settings())
        cls.seed_more()
        s.restart()
        cls.admin = s.token("acme", "admin", name="acme-admin")

    @classmethod
    def seed_more(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if getattr(cls, "db", None) is not None:
                cls.db.stop()

    # ---- helpers ----

    def define(self, database, query, parameters=(), expect=201):
        doc = {"name": "sql %d" % time.time_ns(),
               "source": {"database": database, "query": query},
               "parameters": list(parameters),
               "formats": ["csv", "tsv", "json", "xml"]}
        r = self.graph("POST", "definitions", doc, self.admin)
        self.assertEqual(r.status, expect, r)
        return body_json(r)["id"] if expect == 201 else body_json(r)

    def export(self, def_id, parameters=None, fmt=None, timeout=90):
        j = self.graph_create(self.admin, def_id, parameters, fmt)
        return self.wait_graph(self.admin, j["id"], timeout)

    def content(self, job_id):
        r = self.graph("GET", "exportJobs/%s/content" % job_id,
                       token=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.body

    def attempts(self, job_id):
        show = self.stack.ctl("job", "show", job_id)
        return int(show.split("attempts: ")[1].split()[0])

    # ---- the cases ----

    def test_csv_is_what_the_server_prints(self):
        d = self.define("main", EXPENSES_QUERY, EXPENSES_PARAMS)
        j = self.export(d, {"from": "2026-01-01"})
        self.assertEqual(j["status"], "succeeded", j)
        got = parse_csv(self.content(j["id"]))
        self.assertEqual(got, self.native_rows(
            "SELECT * FROM expenses WHERE created >= '2026-01-01' "
            "ORDER BY id"))
        self.assertEqual(len(got), 5)
        self.assertEqual(got[2][4], 'comma, "quote"\nnewline')
        self.assertEqual(got[3][3], "1234567890123456789012345678.99")
        self.assertEqual(got[4][4], "Grüße ✓ 日本")
        self.assertEqual(got[1][7], "\\x00ff")      # binary, in hex

    def test_every_format_keeps_types_and_nulls(self):
        d = self.define("main", EXPENSES_QUERY, EXPENSES_PARAMS)
        j = self.export(d, {"from": "2026-01-01"}, fmt="json")
        self.assertEqual(j["status"], "succeeded", j)
        rows = json.loads(self.content(j["id"]))
        self.assertEqual([r["id"] for r in rows], [1, 2, 3, 4])
        self.assertIsNone(rows[2]["currency"])      # NULL
        self.assertEqual(rows[2]["note"], "")       # the empty string
        self.assertEqual(rows[0]["big"], 9007199254740993)
        self.assertIsNone(rows[1]["big"])
        self.assertEqual(rows[3]["note"], "Grüße ✓ 日本")
        self.assertIn(rows[0]["ok"], (True, 1))
        self.assertIn(rows[1]["ok"], (False, 0))
        self.assertIsNone(rows[2]["ok"])
        j = self.export(d, {"from": "2026-01-01"}, fmt="xml")
        third = ET.fromstring(self.content(j["id"])).findall("row")[2]
        self.assertEqual(third.find("currency").get(NIL), "true")
        self.assertIsNone(third.find("note").get(NIL))
        self.assertEqual(third.find("note").text or "", "")
        j = self.export(d, {"from": "2026-01-01"}, fmt="tsv")
        lines = self.content(j["id"]).decode().split("\n")
        self.assertEqual(lines[2].split("\t")[4],
                         'comma, "quote"\\nnewline')

    def test_parameters_are_bound_never_pasted(self):
        d = self.define("main", EXPENSES_QUERY, EXPENSES_PARAMS)
        j = self.export(d, {"from": "2026-01-01", "currency": "EUR"})
        self.assertEqual([r[0] for r in parse_csv(
            self.content(j["id"]))[1:]], ["1", "4"])
        for hostile in ("EUR' OR '1'='1", "'; DROP TABLE expenses; --",
                        "EUR\\' OR 1=1 -- ", ":currency", "?"):
            j = self.export(d, {"from": "2000-01-01",
                                "currency": hostile})
            self.assertEqual(j["status"], "succeeded", j)
            self.assertEqual(len(parse_csv(self.content(j["id"]))), 1,
                             hostile)
        self.assertEqual(self.db.sql("SELECT count(*) FROM expenses")
                         .strip(), "4")

    def test_typed_parameters(self):
        d = self.define("main", self.TYPED_QUERY, [
            {"name": "below", "type": "int", "required": True},
            {"name": "over", "type": "decimal", "required": True},
            {"name": "at", "type": "datetime", "required": True}])
        j = self.export(d, {"below": 6, "over": "2.5",
                            "at": "2026-06-01T10:00:00+02:00"})
        self.assertEqual(j["status"], "succeeded", j)
        self.assertEqual(parse_csv(self.content(j["id"])),
                         [["n"], ["3"], ["4"], ["5"]])

    def test_definition_refusals_name_the_field(self):
        cases = [
            ({"database": "nope", "query": "SELECT 1"}, "source.database"),
            ({"database": "main", "query": "SELECT 1; SELECT 2"},
             "source.query"),
            ({"database": "main", "query": "SELECT :x"}, "source.query"),
            ({"database": "main", "query": "  "}, "source.query"),
        ]
        for src, target in cases:
            r = self.graph("POST", "definitions",
                           {"name": "bad", "source": src}, self.admin)
            self.assertGraphError(r, 400, target=target)
        doc = {"name": "bad", "source": {"database": "main",
                                         "query": "SELECT n FROM slow"},
               "parameters": [{"name": "p", "type": "int"}],
               "filters": [{"column": "n", "op": "=", "parameter": "p"}]}
        self.assertGraphError(self.graph("POST", "definitions", doc,
                                         self.admin), 400, target="filters")

    def test_a_writing_query_fails_and_changes_nothing(self):
        for q in self.WRITING_QUERIES:
            j = self.export(self.define("main", q))
            self.assertEqual(j["status"], "failed", j)
            self.assertIn("database 'main'", j["statusDetail"])
        self.assertEqual(self.db.sql("SELECT v FROM precious").strip(),
                         "keep me")

    def test_wrong_password_is_a_clear_failure(self):
        j = self.export(self.define("wrongpw", "SELECT 1 AS one"))
        self.assertEqual(j["status"], "failed", j)
        self.assertRegex(j["statusDetail"], self.AUTH_FAILED)
        self.assertEqual(self.attempts(j["id"]), 1)     # not retried
        for secret in (PASSWORD, "not-the-password"):
            self.assertNotIn(secret, j["statusDetail"])
            logdir = os.path.join(self.stack.vardir, "log")
            for name in os.listdir(logdir):
                with open(os.path.join(logdir, name), errors="replace") as f:
                    self.assertNotIn(secret, f.read(), name)

    def test_query_timeout(self):
        t0 = time.time()
        j = self.export(self.define("fast", self.HEAVY_QUERY))
        self.assertEqual(j["status"], "failed", j)
        self.assertIn("query_timeout", j["statusDetail"])
        self.assertLess(time.time() - t0, 25)

    def test_cancel_stops_the_query_on_the_server(self):
        j = self.graph_create(self.admin,
                              self.define("main", self.SLEEP_QUERY))
        self.assertTrue(wait_for(lambda: self.active() == 1, 30),
                        "the query never ran")
        r = self.graph("DELETE", "exportJobs/" + j["id"], token=self.admin)
        self.assertIn(r.status, (202, 204), r)
        t0 = time.time()
        self.assertTrue(wait_for(lambda: self.active() == 0, 10),
                        "the query still runs on the server")
        # about a second: the worker sees the cancel at its next
        # progress report, then stops the query on the server
        self.assertLess(time.time() - t0, 5)

    def test_server_killed_during_an_export(self):
        j = self.graph_create(self.admin,
                              self.define("main", self.SLOW_QUERY))
        self.assertTrue(wait_for(lambda: self.active() == 1, 30),
                        "the export never started")
        time.sleep(0.5)
        self.db.kill()
        time.sleep(1.5)
        self.db.start()
        j = self.wait_graph(self.admin, j["id"], timeout=120)
        self.assertEqual(j["status"], "succeeded", j)
        self.assertGreaterEqual(self.attempts(j["id"]), 2)
        rows = parse_csv(self.content(j["id"]))
        self.assertEqual([int(r[0]) for r in rows[1:]],
                         list(range(1, ROWS + 1)))


class PostgreSQLSourceTest(SQLServerCases):

    SERVER = PostgresServer
    SCHEMA = r"""
CREATE ROLE quarry_ro LOGIN PASSWORD '%s';
CREATE TABLE expenses (
    id int PRIMARY KEY, created date, currency text, amount numeric(30,2),
    note text, ok boolean, at timestamptz, data bytea, f float8, big bigint);
INSERT INTO expenses VALUES
 (1, '2026-01-05', 'EUR', 12.50, 'plain', true,
  '2026-01-05 10:00:00+00', '\x00ff', 0.1, 9007199254740993),
 (2, '2026-02-01', 'USD', -3, E'comma, "quote"\nnewline', false,
  NULL, NULL, 1e20, NULL),
 (3, '2026-03-01', NULL, 1234567890123456789012345678.99, '', NULL,
  '2026-03-01 23:59:59.5+02', '', 'NaN', -1),
 (4, '2026-03-02', 'EUR', 0, 'Grüße ✓ 日本', true, NULL, NULL, -0.5, 0);
CREATE TABLE slow AS SELECT g AS n, md5(g::text) AS h
    FROM generate_series(1, %d) g;
CREATE TABLE precious (v text);
INSERT INTO precious VALUES ('keep me');
GRANT SELECT ON expenses, slow, precious TO quarry_ro;
GRANT UPDATE, DELETE ON precious TO quarry_ro;
""" % (PASSWORD, ROWS)
    TYPED_QUERY = ("SELECT n FROM slow WHERE n < :below AND "
                   ":at > '2026-06-01 07:59:59+00' AND n > :over "
                   "ORDER BY n")
    SLOW_QUERY = ("SELECT n, h, pg_sleep(0.002) IS NULL AS s FROM slow "
                  "ORDER BY n")
    SLEEP_QUERY = "SELECT pg_sleep(60) AS z"
    HEAVY_QUERY = "SELECT pg_sleep(30) AS z"
    WRITING_QUERIES = ("WITH d AS (DELETE FROM precious RETURNING v) "
                       "SELECT * FROM d",
                       "SELECT v FROM precious FOR UPDATE")
    AUTH_FAILED = "password authentication failed"

    @classmethod
    def settings(cls):
        return {"driver": "postgresql",
                "conninfo": cls.db.conninfo("quarry_ro")}

    @classmethod
    def seed_more(cls):
        cls.lite = os.path.join(cls.stack.vardir, "local.db")
        subprocess.run(["sqlite3", cls.lite,
                        "CREATE TABLE t(id INTEGER, name TEXT, x REAL);"
                        "INSERT INTO t VALUES (1, 'a,b', 1.5), "
                        "(2, NULL, -2), (3, 'Grüße', 1e20);"], check=True)
        os.chmod(cls.lite, 0o644)
        cls.stack.add_database("local", driver="sqlite", path=cls.lite)

    def native_rows(self, query):
        return parse_csv(self.db.psql_csv(query).encode())

    def active(self):
        # an export's query runs as the FETCHes of its cursor
        return int(self.db.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE "
            "application_name = 'quarry' AND state = 'active'"))

    def test_sqlite_is_what_sqlite3_prints(self):
        d = self.define("local", "SELECT * FROM t WHERE id <= :n "
                        "ORDER BY id", [{"name": "n", "type": "int"}])
        j = self.export(d, {"n": 3})
        self.assertEqual(j["status"], "succeeded", j)
        want = subprocess.run(["sqlite3", "-csv", "-header", self.lite,
                               "SELECT * FROM t ORDER BY id"],
                              stdout=subprocess.PIPE, check=True).stdout
        self.assertEqual(parse_csv(self.content(j["id"])), parse_csv(want))

    def test_quarryctl_database_commands(self):
        out = self.stack.ctl("database", "list")
        self.assertIn("main\tpostgresql\t", out)
        self.assertIn("local\tsqlite\t" + self.lite, out)
        self.assertNotIn(PASSWORD, out)
        self.assertIn("PostgreSQL 1", self.stack.ctl("database", "test",
                                                     "main"))
        self.assertIn("SQLite 3", self.stack.ctl("database", "test",
                                                 "local"))
        self.stack.ctl("database", "test", "wrongpw", check=False)
        p = self.stack.last_ctl
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"password authentication failed", p.stderr)
        cols = self.stack.ctl("definition", "check", self.define(
            "main", EXPENSES_QUERY, EXPENSES_PARAMS))
        self.assertIn("amount\tnumeric(30,2)", cols)
        self.assertIn("at\ttimestamp with time zone", cols)


class MariaDBSourceTest(SQLServerCases):

    SERVER = MariaDBServer
    SCHEMA = r"""
CREATE USER quarry_ro@localhost IDENTIFIED BY '%s';
CREATE TABLE expenses (
    id int PRIMARY KEY, created date, currency varchar(3),
    amount decimal(30,2), note text, ok boolean, at datetime(3),
    data varbinary(10), f double, big bigint);
INSERT INTO expenses VALUES
 (1, '2026-01-05', 'EUR', 12.50, 'plain', true, '2026-01-05 10:00:00.5',
  x'00ff', 0.1, 9007199254740993),
 (2, '2026-02-01', 'USD', -3, 'comma, "quote"\nnewline', false, NULL,
  NULL, 1e20, NULL),
 (3, '2026-03-01', NULL, 1234567890123456789012345678.99, '', NULL, NULL,
  '', -0.5, -1),
 (4, '2026-03-02', 'EUR', 0, 'Grüße ✓ 日本', true, NULL, NULL, 1.5e-7, 0);
CREATE TABLE slow AS SELECT seq AS n, md5(seq) AS h FROM seq_1_to_%d;
CREATE TABLE precious (v text);
INSERT INTO precious VALUES ('keep me');
GRANT SELECT, UPDATE, DELETE ON quarry_test.* TO quarry_ro@localhost;
""" % (PASSWORD, ROWS)
    TYPED_QUERY = ("SELECT n FROM slow WHERE n < :below AND "
                   ":at > '2026-06-01 07:59:59' AND n > :over ORDER BY n")
    SLOW_QUERY = "SELECT n, h, SLEEP(0.002) AS s FROM slow ORDER BY n"
    SLEEP_QUERY = "SELECT SLEEP(60) AS z"
    HEAVY_QUERY = ("SELECT count(*) AS c FROM seq_1_to_1000000 a, "
                   "seq_1_to_1000000 b")
    WRITING_QUERIES = ("DELETE FROM precious",
                       "UPDATE precious SET v = 'gone'")
    AUTH_FAILED = "Access denied for user"

    @classmethod
    def settings(cls):
        return {"driver": "mysql", "socket": cls.db.socket,
                "user": "quarry_ro", "dbname": "quarry_test"}

    def native_rows(self, query):
        """mariadb --batch's output, unescaped; NULL is an empty field
        in CSV, and binary values are hex (docs/sources.md)."""
        # the binary column as the export writes it: \\x and hex
        query = query.replace("SELECT *", (
            "SELECT id, created, currency, amount, note, ok, at, "
            "IF(data IS NULL, NULL, CONCAT('\\\\x', LOWER(HEX(data)))) "
            "AS data, f, big"))
        lines = self.db.batch(query).rstrip("\n").split("\n")
        esc = {"n": "\n", "t": "\t", "\\": "\\", "0": "\0"}
        rows = []
        for line in lines:
            fields = []
            for v in line.split("\t"):
                out, i = "", 0
                while i < len(v):
                    if v[i] == "\\" and i + 1 < len(v):
                        out += esc.get(v[i + 1], v[i + 1])
                        i += 2
                    else:
                        out += v[i]
                        i += 1
                fields.append("" if v == "NULL" else out)
            rows.append(fields)
        return rows

    def active(self):
        return int(self.db.sql(
            "SELECT count(*) FROM information_schema.processlist WHERE "
            "user = 'quarry_ro' AND command = 'Query'"))


PSQLODBC = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"


@unittest.skipUnless(os.path.exists(PSQLODBC), "Debian's PostgreSQL ODBC "
                     "driver (odbc-postgresql, make deps) is not installed")
class ODBCSourceTest(SQLServerCases):
    """ODBC through unixODBC, with Debian's PostgreSQL ODBC driver
    registered in a temporary odbcinst.ini (ODBCSYSINI), not the
    system's."""

    SERVER = PostgresServer
    SCHEMA = PostgreSQLSourceTest.SCHEMA
    # how the server types a parameter is the ODBC driver's business:
    # psqlodbc sends a decimal as text the server reads by its context
    # (an integer here), so the query says numeric (docs/sources.md)
    TYPED_QUERY = PostgreSQLSourceTest.TYPED_QUERY.replace(
        ":over", "CAST(:over AS numeric)")
    SLOW_QUERY = PostgreSQLSourceTest.SLOW_QUERY
    SLEEP_QUERY = PostgreSQLSourceTest.SLEEP_QUERY
    HEAVY_QUERY = PostgreSQLSourceTest.HEAVY_QUERY
    # a statement without rows; a cursor over a data-modifying WITH
    WRITING_QUERIES = ("DELETE FROM precious",
                       PostgreSQLSourceTest.WRITING_QUERIES[0])
    AUTH_FAILED = "password authentication failed"

    @classmethod
    def setUpClass(cls):
        cls.odbcdir = tempfile.mkdtemp(prefix="quarry-odbc-")
        os.chmod(cls.odbcdir, 0o755)
        with open(os.path.join(cls.odbcdir, "odbcinst.ini"), "w") as f:
            f.write("[Quarry PostgreSQL]\nDriver = %s\n" % PSQLODBC)
        with open(os.path.join(cls.odbcdir, "odbc.ini"), "w") as f:
            f.write("")
        cls.old_sysini = os.environ.get("ODBCSYSINI")
        os.environ["ODBCSYSINI"] = cls.odbcdir
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.old_sysini is None:
                os.environ.pop("ODBCSYSINI", None)
            else:
                os.environ["ODBCSYSINI"] = cls.old_sysini
            shutil.rmtree(cls.odbcdir, ignore_errors=True)

    @classmethod
    def settings(cls):
        # psqlodbc streams only with UseDeclareFetch (docs/sources.md)
        return {"driver": "odbc",
                "connection": "Driver={Quarry PostgreSQL};Servername=%s;"
                              "Database=quarry_test;UID=quarry_ro;"
                              "UseDeclareFetch=1;Fetch=10000;BoolsAsChar=0"
                              % cls.db.sock}

    def native_rows(self, query):
        """psql's text, as psqlodbc hands it over: booleans as 1 and 0,
        timestamptz converted to a timestamp in the session's zone."""
        rows = parse_csv(self.db.psql_csv(query).encode())
        for r in rows[1:]:
            r[5] = {"t": "1", "f": "0"}.get(r[5], r[5])
            if r[6]:
                r[6] = self.db.sql("SELECT '%s'::timestamptz::timestamp"
                                   % r[6]).strip()
        return rows

    def active(self):
        return int(self.db.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE "
            "usename = 'quarry_ro' AND state = 'active'"))


if __name__ == "__main__":
    unittest.main()
