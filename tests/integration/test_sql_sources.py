"""
SQL sources end to end (issue 12, docs/sources.md): a real PostgreSQL
started in a temporary directory and an SQLite file, declared in the
stack's quarry.conf; definitions with parameterised queries posted over
Graph; jobs built by quarryd and downloaded over HTTP; the files
compared with what psql --csv and sqlite3 -csv print for the same rows.
Also: every output format, hostile parameter values, a writing query, a
wrong password, a query past its timeout, a cancel that stops the query
on the server, and the server killed during an export and started again.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

from dbservers import PostgresServer, wait_for
from jsonapi import GRAPH, JSONStackTestCase, body_json

PASSWORD = "s3cret-Pa55"
ROWS = 3000             # rows of the slow table

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

EXPENSES_QUERY = ("SELECT * FROM expenses WHERE created >= :from AND "
                  "(:currency IS NULL OR currency = :currency) ORDER BY id")


def parse_csv(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


class SQLSourceTest(JSONStackTestCase):

    conf_extra = {"workers": "2", "poll_seconds": "1",
                  "retry_backoff_seconds": "1", "max_attempts": "5"}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.pg = PostgresServer()
        cls.pg.start()
        cls.pg.sql(SCHEMA)
        cls.pwfile = os.path.join(s.vardir, "reports.pw")
        with open(cls.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(cls.pwfile, 0o640)
        cls.wrongpw = os.path.join(s.vardir, "wrong.pw")
        with open(cls.wrongpw, "w") as f:
            f.write("not-the-password\n")
        cls.lite = os.path.join(s.vardir, "local.db")
        subprocess.run(["sqlite3", cls.lite,
                        "CREATE TABLE t(id INTEGER, name TEXT, x REAL);"
                        "INSERT INTO t VALUES (1, 'a,b', 1.5), "
                        "(2, NULL, -2), (3, 'Grüße', 1e20);"], check=True)
        if os.getuid() == 0:
            # the web programs and quarryd may run as another user
            os.chmod(cls.lite, 0o644)
        s.add_database("reports", driver="postgresql",
                       conninfo=cls.pg.conninfo("quarry_ro"),
                       password_file=cls.pwfile)
        s.add_database("wrongpw", driver="postgresql",
                       conninfo=cls.pg.conninfo("quarry_ro"),
                       password_file=cls.wrongpw)
        s.add_database("fast", driver="postgresql",
                       conninfo=cls.pg.conninfo("quarry_ro"),
                       password_file=cls.pwfile, query_timeout="2")
        s.add_database("local", driver="sqlite", path=cls.lite)
        s.restart()
        cls.admin = s.token("acme", "admin", name="acme-admin")

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.pg.stop()

    # ---- helpers ----

    def define(self, database, query, parameters=(), formats=None,
               expect=201):
        doc = {"name": "sql %d" % time.time_ns(),
               "source": {"database": database, "query": query},
               "parameters": list(parameters),
               "formats": formats or ["csv", "tsv", "json", "xml"]}
        r = self.graph("POST", "definitions", doc, self.admin)
        self.assertEqual(r.status, expect, r)
        return body_json(r)["id"] if expect == 201 else body_json(r)

    def export(self, def_id, parameters=None, fmt=None, timeout=90):
        j = self.graph_create(self.admin, def_id, parameters, fmt)
        j = self.wait_graph(self.admin, j["id"], timeout)
        return j

    def content(self, job_id):
        r = self.graph("GET", "exportJobs/%s/content" % job_id,
                       token=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.body

    def expenses_def(self):
        return self.define("reports", EXPENSES_QUERY, [
            {"name": "from", "type": "date", "required": True},
            {"name": "currency", "type": "string"}])

    # ---- tests ----

    def test_csv_is_what_psql_prints(self):
        d = self.expenses_def()
        j = self.export(d, {"from": "2026-01-01"})
        self.assertEqual(j["status"], "succeeded", j)
        got = parse_csv(self.content(j["id"]))
        want = parse_csv(self.pg.psql_csv(
            "SELECT * FROM expenses WHERE created >= '2026-01-01' "
            "ORDER BY id").encode())
        self.assertEqual(got, want)
        self.assertEqual(len(got), 5)
        # NULL and '' are both empty fields in CSV; the text is whole
        self.assertEqual(got[3][4], "")
        self.assertEqual(got[2][4], 'comma, "quote"\nnewline')
        self.assertEqual(got[3][3], "1234567890123456789012345678.99")
        self.assertEqual(got[1][7], "\\x00ff")

    def test_every_format_keeps_types_and_nulls(self):
        d = self.expenses_def()
        j = self.export(d, {"from": "2026-01-01"}, fmt="json")
        self.assertEqual(j["status"], "succeeded", j)
        rows = json.loads(self.content(j["id"]))
        self.assertEqual([r["id"] for r in rows], [1, 2, 3, 4])
        self.assertIs(rows[0]["ok"], True)
        self.assertIs(rows[1]["ok"], False)
        self.assertIsNone(rows[2]["ok"])
        self.assertIsNone(rows[2]["currency"])      # NULL
        self.assertEqual(rows[2]["note"], "")       # the empty string
        self.assertEqual(rows[0]["big"], 9007199254740993)
        self.assertEqual(rows[2]["f"], "NaN")       # no JSON number
        self.assertEqual(rows[3]["note"], "Grüße ✓ 日本")
        j = self.export(d, {"from": "2026-01-01"}, fmt="xml")
        root = ET.fromstring(self.content(j["id"]))
        nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
        third = root.findall("row")[2]
        self.assertEqual(third.find("currency").get(nil), "true")
        self.assertIsNone(third.find("note").get(nil))
        self.assertEqual(third.find("note").text or "", "")
        j = self.export(d, {"from": "2026-01-01"}, fmt="tsv")
        lines = self.content(j["id"]).decode().split("\n")
        self.assertEqual(lines[2].split("\t")[4],
                         'comma, "quote"\\nnewline')

    def test_parameters_are_bound_never_pasted(self):
        d = self.expenses_def()
        j = self.export(d, {"from": "2026-01-01", "currency": "EUR"})
        self.assertEqual([r[0] for r in parse_csv(
            self.content(j["id"]))[1:]], ["1", "4"])
        for hostile in ("EUR' OR '1'='1", "'; DROP TABLE expenses; --",
                        "EUR\\' OR 1=1 --", ":currency"):
            j = self.export(d, {"from": "2000-01-01",
                                "currency": hostile})
            self.assertEqual(j["status"], "succeeded", j)
            self.assertEqual(len(parse_csv(self.content(j["id"]))), 1,
                             hostile)
        self.assertEqual(self.pg.sql("SELECT count(*) FROM expenses")
                         .strip(), "4")

    def test_typed_parameters(self):
        d = self.define("reports", "SELECT n FROM slow WHERE n < :below "
                        "AND :at::timestamptz > '2026-01-01' AND "
                        "n::numeric > :over ORDER BY n", [
                            {"name": "below", "type": "int",
                             "required": True},
                            {"name": "over", "type": "decimal",
                             "required": True},
                            {"name": "at", "type": "datetime",
                             "required": True}])
        j = self.export(d, {"below": 6, "over": "2.5",
                            "at": "2026-06-01T10:00:00+02:00"})
        self.assertEqual(j["status"], "succeeded", j)
        self.assertEqual(parse_csv(self.content(j["id"])),
                         [["n"], ["3"], ["4"], ["5"]])

    def test_definition_refusals_name_the_field(self):
        cases = [
            ({"database": "nope", "query": "SELECT 1"}, [],
             "source.database"),
            ({"database": "reports", "query": "SELECT 1; SELECT 2"}, [],
             "source.query"),
            ({"database": "reports", "query": "SELECT :x"}, [],
             "source.query"),
            ({"database": "reports", "query": "  "}, [], "source.query"),
        ]
        for src, params, target in cases:
            doc = {"name": "bad", "source": src, "parameters": params}
            r = self.graph("POST", "definitions", doc, self.admin)
            self.assertGraphError(r, 400, target=target)
        doc = {"name": "bad", "source": {"database": "reports",
                                         "query": "SELECT n FROM slow"},
               "parameters": [{"name": "p", "type": "int"}],
               "filters": [{"column": "n", "op": "=", "parameter": "p"}]}
        self.assertGraphError(self.graph("POST", "definitions", doc,
                                         self.admin), 400, target="filters")

    def test_a_writing_query_fails_and_changes_nothing(self):
        for q in ("WITH d AS (DELETE FROM precious RETURNING v) "
                  "SELECT * FROM d",
                  "SELECT v FROM precious FOR UPDATE"):
            d = self.define("reports", q)
            j = self.export(d)
            self.assertEqual(j["status"], "failed", j)
            self.assertIn("database 'reports'", j["statusDetail"])
        self.assertEqual(self.pg.sql("SELECT v FROM precious").strip(),
                         "keep me")

    def test_wrong_password_is_a_clear_failure(self):
        d = self.define("wrongpw", "SELECT 1 AS one")
        j = self.export(d)
        self.assertEqual(j["status"], "failed", j)
        self.assertIn("password authentication failed", j["statusDetail"])
        for secret in (PASSWORD, "not-the-password"):
            self.assertNotIn(secret, j["statusDetail"])
            for name in os.listdir(os.path.join(self.stack.vardir, "log")):
                with open(os.path.join(self.stack.vardir, "log", name),
                          errors="replace") as f:
                    self.assertNotIn(secret, f.read(), name)

    def test_query_timeout(self):
        d = self.define("fast", "SELECT pg_sleep(30) AS z")
        t0 = time.time()
        j = self.export(d)
        self.assertEqual(j["status"], "failed", j)
        self.assertIn("query_timeout", j["statusDetail"])
        self.assertLess(time.time() - t0, 25)

    def active_queries(self):
        """Statements of Quarry's running on the server now (an export's
        query runs as the FETCHes of its cursor)."""
        return self.pg.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE "
            "application_name = 'quarry' AND state = 'active'").strip()

    def test_cancel_stops_the_query_on_the_server(self):
        d = self.define("reports", "SELECT pg_sleep(60) AS zz_cancel_me")
        j = self.graph_create(self.admin, d)
        self.assertTrue(wait_for(
            lambda: self.active_queries() == "1", 30),
            "the query never ran")
        r = self.graph("DELETE", "exportJobs/" + j["id"], token=self.admin)
        self.assertIn(r.status, (202, 204), r)
        t0 = time.time()
        self.assertTrue(wait_for(
            lambda: self.active_queries() == "0", 10),
            "the query still runs on the server")
        # within about a second (the worker sees the cancel at its next
        # progress report, then cancels on the server)
        self.assertLess(time.time() - t0, 5)

    def test_server_killed_during_an_export(self):
        # a slow stream: every row waits a little on the server
        d = self.define("reports", "SELECT n, h, pg_sleep(0.002) IS NULL "
                        "AS s FROM slow ORDER BY n")
        j = self.graph_create(self.admin, d)
        self.assertTrue(wait_for(
            lambda: self.active_queries() == "1", 30),
            "the export never started")
        time.sleep(0.5)
        self.pg.kill()
        time.sleep(1.5)
        self.pg.start()
        j = self.wait_graph(self.admin, j["id"], timeout=120)
        self.assertEqual(j["status"], "succeeded", j)
        # the kill did land in the build: it took a second attempt
        show = self.stack.ctl("job", "show", j["id"])
        attempts = int(show.split("attempts: ")[1].split()[0])
        self.assertGreaterEqual(attempts, 2, show)
        rows = parse_csv(self.content(j["id"]))
        self.assertEqual(len(rows), ROWS + 1)
        self.assertEqual([int(r[0]) for r in rows[1:]],
                         list(range(1, ROWS + 1)))

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
        self.assertIn("reports\tpostgresql\t", out)
        self.assertIn("local\tsqlite\t" + self.lite, out)
        self.assertNotIn(PASSWORD, out)
        self.assertIn("PostgreSQL 1", self.stack.ctl("database", "test",
                                                     "reports"))
        self.assertIn("SQLite 3", self.stack.ctl("database", "test",
                                                 "local"))
        self.stack.ctl("database", "test", "wrongpw", check=False)
        p = self.stack.last_ctl
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"password authentication failed", p.stderr)
        d = self.expenses_def()
        cols = self.stack.ctl("definition", "check", d)
        self.assertIn("amount\tnumeric(30,2)", cols)
        self.assertIn("at\ttimestamp with time zone", cols)


if __name__ == "__main__":
    unittest.main()
