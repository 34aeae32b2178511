"""
Extractor programs and split files (SPEC section 3, docs/extractors.md)
against a real lighttpd + quarryd stack: a definition whose source is a
program in VARDIR/extractors completes with the right bytes in every
format; hostile parameter values reach it as whole arguments in a scrubbed
environment; exit status 75 is retried; a failure shows the tail of its
stderr in Graph's statusDetail; cancel kills its process group; a
definition with rows_per_file downloads as a zip of whole parts.
"""

import csv
import io
import json
import os
import signal
import time
import zipfile

from harness import BASE
from jsonapi import GRAPH, JSONStackTestCase, body_json

PY = "/usr/bin/python3"

# Prints its arguments and environment as CSV rows (kind,name,value).
ECHO = """#!%s
import csv, os, sys
w = csv.writer(sys.stdout, lineterminator="\\n")
w.writerow(["kind", "name", "value"])
for i, a in enumerate(sys.argv[1:]):
    w.writerow(["arg", str(i), a])
for k in sorted(os.environ):
    w.writerow(["env", k, os.environ[k]])
w.writerow(["stdin", "", repr(sys.stdin.read())])
""" % PY

EXPENSES = """#!/bin/sh
echo 'report_id,employee,amount,currency'
echo 'R1,Ana,9.5,EUR'
echo 'R2,"Bo, Jr.",10,USD'
echo 'R3,Chen,=SUM(A1),EUR'
"""

# Exits 75 on its first run, then works (counts runs in a file).
FLAKY = """#!/bin/sh
n=$(cat flaky.count 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > flaky.count
if [ $n -lt 2 ]; then echo 'source busy' >&2; exit 75; fi
echo 'k,v'
echo "run,$n"
"""

FAILS = """#!/bin/sh
i=0
while [ $i -lt 100 ]; do echo "progress $i" >&2; i=$((i + 1)); done
echo 'ERROR: upstream login refused for user "export"' >&2
exit 4
"""

SLOW = """#!/bin/sh
echo $$ > slow.pid
sleep 300 &
echo 'k,v'
wait
"""

SEQ = """#!/bin/sh
echo 'n,sq'
i=1
while [ $i -le 10 ]; do echo "$i,$((i * i))"; i=$((i + 1)); done
"""


class ExtractorTest(JSONStackTestCase):

    conf_extra = {"retry_backoff_seconds": "0", "max_attempts": "3"}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="acme-admin")
        cls.user = s.token("acme", "user", name="acme-user")
        cls.xdir = os.path.join(s.vardir, "extractors")
        for name, text in (("echo", ECHO), ("expenses", EXPENSES),
                           ("flaky", FLAKY), ("fails", FAILS),
                           ("slow", SLOW), ("seq", SEQ)):
            path = os.path.join(cls.xdir, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)

    def cmd_def(self, name, command, args=None, **extra):
        doc = {"tenant": "acme", "name": name,
               "source": {"command": command, "args": args or []},
               "parameters": [
                   {"name": "who", "type": "string", "required": False},
                   {"name": "currency", "type": "string",
                    "required": False}],
               "formats": ["csv", "tsv", "json", "xml"],
               "approval": False, "retention": "7d", "rows_per_file": 0}
        doc.update(extra)
        return self.add_definition(doc)

    def content(self, job_id, token=None):
        r = self.graph("GET", "exportJobs/%s/content" % job_id,
                       token=token or self.user)
        self.assertEqual(r.status, 200, r)
        return r

    def test_command_job_completes_with_right_bytes(self):
        def_id = self.cmd_def(
            "Expenses by program", "expenses",
            columns=["employee", "amount"], formula_guard=True,
            filters=[{"column": "currency", "op": "=",
                      "parameter": "currency"}])
        j = self.graph_create(self.user, def_id, {"currency": "EUR"})
        self.assertEqual(self.wait_graph(self.user, j["id"])["status"],
                         "succeeded")
        r = self.content(j["id"])
        self.assertTrue(r.header("Content-Type").startswith("text/csv"))
        self.assertEqual(r.body, b"employee,amount\r\nAna,9.5\r\n"
                         b"Chen,'=SUM(A1)\r\n")
        # the same through Concur, in JSON
        j = self.graph_create(self.user, def_id, fmt="json")
        self.wait_graph(self.user, j["id"])
        r = self.stack.request("GET", "%s/%s/job/%s/file" % (
            BASE, def_id, j["id"]), token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(r.body), [
            {"employee": "Ana", "amount": "9.5"},
            {"employee": "Bo, Jr.", "amount": "10"},
            {"employee": "Chen", "amount": "'=SUM(A1)"}])

    def test_hostile_parameters_are_whole_arguments(self):
        hostile = ("-rf x 'q' \"d\" ;rm -rf / $(touch pwned) `id` "
                   "line\nbreak & | > out")
        def_id = self.cmd_def("Echo", "echo",
                              ["{who}", "--who={who}", "{currency}"])
        os.environ["QUARRY_SHOULD_NOT_LEAK"] = "1"
        j = self.graph_create(self.user, def_id, {"who": hostile})
        job = self.wait_graph(self.user, j["id"])
        self.assertEqual(job["status"], "succeeded", job)
        rows = list(csv.reader(io.StringIO(
            self.content(j["id"]).body.decode("utf-8"), newline="")))
        self.assertEqual(rows[0], ["kind", "name", "value"])
        args = [r[2] for r in rows[1:] if r[0] == "arg"]
        self.assertEqual(args, [hostile, "--who=" + hostile, ""])
        env = {r[1]: r[2] for r in rows[1:] if r[0] == "env"}
        self.assertEqual(env.pop("QUARRY_PARAM_WHO"), hostile)
        self.assertEqual(env.pop("PATH"), "/usr/bin:/bin")
        self.assertEqual(env.pop("LANG"), "C.UTF-8")
        self.assertEqual(env.pop("QUARRY_TENANT"), "acme")
        self.assertEqual(env.pop("QUARRY_DEFINITION"), def_id)
        # what the interpreter itself may add, nothing inherited
        env.pop("LC_CTYPE", None)
        self.assertEqual(env, {})
        self.assertEqual([r[2] for r in rows if r[0] == "stdin"], ["''"])
        self.assertFalse(os.path.exists(os.path.join(self.xdir, "pwned")))

    def test_exit_75_is_retried(self):
        def_id = self.cmd_def("Flaky", "flaky")
        j = self.graph_create(self.user, def_id)
        job = self.wait_graph(self.user, j["id"])
        self.assertEqual(job["status"], "succeeded", job)
        self.assertEqual(self.content(j["id"]).body, b"k,v\r\nrun,2\r\n")
        with open(os.path.join(self.xdir, "flaky.count")) as f:
            self.assertEqual(f.read().strip(), "2")

    def test_failure_shows_stderr_tail(self):
        def_id = self.cmd_def("Fails", "fails")
        j = self.graph_create(self.user, def_id)
        job = self.wait_graph(self.user, j["id"])
        self.assertEqual(job["status"], "failed", job)
        detail = job["statusDetail"]
        self.assertIn("exit status 4", detail)
        self.assertTrue(detail.endswith(
            'ERROR: upstream login refused for user "export"'), detail)
        self.assertNotIn("progress 0 ", detail)
        self.assertLessEqual(len(detail.encode()), 512)
        r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                       token=self.user)
        self.assertNotEqual(r.status, 200)

    def test_cancel_kills_the_process_group(self):
        def_id = self.cmd_def("Slow", "slow")
        pidfile = os.path.join(self.xdir, "slow.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        j = self.graph_create(self.user, def_id)
        deadline = time.time() + 30
        while not os.path.exists(pidfile) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        with open(pidfile) as f:
            pg = int(f.read())
        r = self.graph("DELETE", "exportJobs/" + j["id"], token=self.user)
        self.assertIn(r.status, (200, 202, 204), r)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                os.killpg(pg, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.killpg(pg, signal.SIGKILL)
            self.fail("the extractor's process group outlived the cancel")

    def test_split_downloads_a_zip(self):
        def_id = self.cmd_def("Squares split", "seq", rows_per_file=4)
        for fmt, ext in (("csv", "csv"), ("json", "json")):
            j = self.graph_create(self.user, def_id, fmt=fmt)
            job = self.wait_graph(self.user, j["id"])
            self.assertEqual(job["status"], "succeeded", job)
            r = self.content(j["id"])
            self.assertEqual(r.header("Content-Type"), "application/zip")
            self.assertRegex(r.header("Content-Disposition"),
                             r'attachment; filename="?[^"]*\.zip"?')
            self.assertEqual(int(r.header("Content-Length")), len(r.body))
            z = zipfile.ZipFile(io.BytesIO(r.body))
            self.assertIsNone(z.testzip())
            names = z.namelist()
            self.assertEqual(names, ["Squares_split-part%04d.%s" % (i, ext)
                                     for i in (1, 2, 3)])
            if fmt == "csv":
                got = [z.read(n).decode() for n in names]
                self.assertEqual(got, [
                    "n,sq\r\n1,1\r\n2,4\r\n3,9\r\n4,16\r\n",
                    "n,sq\r\n5,25\r\n6,36\r\n7,49\r\n8,64\r\n",
                    "n,sq\r\n9,81\r\n10,100\r\n"])
            else:
                rows = [x for n in names for x in json.loads(z.read(n))]
                self.assertEqual(rows, [{"n": str(i), "sq": str(i * i)}
                                        for i in range(1, 11)])
        # the files directory holds no part or temporary file
        files = os.listdir(os.path.join(self.stack.vardir, "files"))
        self.assertEqual([f for f in files if ".tmp" in f or ".p0" in f],
                         [])

    def test_command_outside_directory_fails(self):
        link = os.path.join(self.xdir, "escape")
        if not os.path.lexists(link):
            os.symlink("/bin/echo", link)
        def_id = self.cmd_def("Escape", "escape")
        j = self.graph_create(self.user, def_id)
        job = self.wait_graph(self.user, j["id"])
        self.assertEqual(job["status"], "failed", job)
        self.assertIn("outside the extractors directory",
                      job["statusDetail"])
