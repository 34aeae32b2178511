"""
quarryctl stats and the Prometheus metrics (issue 14, items 3 and 4;
docs/operations.md): the figures agree with quarryctl job list (jobs by
tenant and state, the queue, a build running behind a gated extractor,
what the builds of the last hour did); `stats --prometheus` and the HTTP
endpoint GET /api/v1/metrics pass `promtool check metrics`; the endpoint
answers an admin token only, with its tenant's figures alone.
"""

import json
import os
import shutil
import subprocess
import time
import unittest

from jsonapi import JSONStackTestCase, body_json, expense_csv

GATED = """#!/bin/sh
echo 'k,v'
echo 'a,1'
while [ ! -e '%s' ]; do sleep 0.05; done
"""


def promtool_check(text):
    """promtool check metrics on text: (exit status, its output)."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode()


class StatsTest(JSONStackTestCase):

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="stats-admin")
        cls.user = s.token("acme", "user", name="stats-user")
        cls.other = s.token("globex", "admin", name="stats-globex")
        s.dataset("acme", "expenses", expense_csv())
        s.dataset("globex", "expenses", expense_csv())
        cls.gate = os.path.join(s.vardir, "gate.open")
        path = os.path.join(s.vardir, "extractors", "gated")
        with open(path, "w") as f:
            f.write(GATED % cls.gate)
        os.chmod(path, 0o755)

    def definition(self, tenant, name, **extra):
        return self.stack.definition(tenant, name, "expenses", parameters=[
            {"name": "tag", "type": "string", "required": True}], **extra)

    def create(self, token, def_id, tag):
        r = self.graph("POST", "exportJobs", {
            "definitionId": def_id, "parameters": {"tag": tag}}, token)
        self.assertEqual(r.status, 201, r)
        return body_json(r)["id"]

    def listing(self):
        """(tenant, state) -> count, from quarryctl job list."""
        out = {}
        for line in self.stack.ctl("job", "list").splitlines():
            f = line.split("\t")
            out[(f[1], f[3])] = out.get((f[1], f[3]), 0) + 1
        return out

    def test_figures_agree_with_the_job_list(self):
        plain = self.definition("acme", "Plain")
        approve = self.definition("acme", "Approve", approval=True)
        theirs = self.definition("globex", "Theirs")
        done = [self.create(self.user, plain, "t%d" % i) for i in range(3)]
        for jid in done:
            self.wait_graph(self.user, jid)
        pending = self.create(self.user, approve, "p")
        rejected = self.create(self.user, approve, "r")
        r = self.graph("POST", "exportJobs/%s/reject" % rejected, {},
                       self.admin)
        self.assertEqual(r.status, 200, r)
        self.wait_graph(self.other, self.create(self.other, theirs, "g"))
        r = self.graph("POST", "definitions", {
            "tenant": "acme", "name": "Gated", "formats": ["csv"],
            "source": {"command": "gated"}}, self.admin)
        gated = body_json(r)["id"]
        r = self.graph("POST", "exportJobs", {"definitionId": gated},
                       self.admin)
        running = body_json(r)["id"]
        try:
            deadline = time.time() + 30
            while "state: running" not in self.stack.ctl("job", "show",
                                                         running):
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
            st = json.loads(self.stack.ctl("stats", "--json"))
            listing = self.listing()
            for (tenant, state), n in listing.items():
                self.assertEqual(st["jobs"][tenant][state], n,
                                 (tenant, state, st["jobs"]))
            for tenant, states in st["jobs"].items():
                for state, n in states.items():
                    self.assertEqual(listing.get((tenant, state), 0), n,
                                     (tenant, state))
            self.assertEqual(st["jobs"]["acme"]["pending_approval"], 1)
            self.assertEqual(st["jobs"]["acme"]["rejected"], 1)
            self.assertEqual(st["queue"]["queued"], sum(
                n for (t, s), n in listing.items() if s == "queued"))
            self.assertEqual([x["id"] for x in st["running"]], [running])
            self.assertGreaterEqual(st["last_hour"]["completed"], 4)
            self.assertEqual(st["last_hour"]["completed"], sum(
                n for (t, s), n in listing.items() if s == "completed"))
            self.assertGreater(st["last_hour"]["rows"], 0)
            self.assertGreater(st["store"]["database_bytes"], 0)
            self.assertGreater(st["files"]["count"], 0)
            self.assertGreater(st["files"]["bytes"], 0)
            text = self.stack.ctl("stats")
            self.assertIn("running builds: 1", text)
            self.assertIn("cache hit ratio", text)
            prom = self.stack.ctl("stats", "--prometheus")
            self.assertIn('quarry_jobs{tenant="acme",state='
                          '"pending_approval"} 1', prom)
            self.assertIn('quarry_jobs{tenant="globex",state="completed"} 1',
                          prom)
            self.assertIn("quarry_builds_running 1", prom)
            self.assertIn('quarry_build_rows_per_second{tenant="acme",'
                          'job="%s"}' % running, prom)
            if shutil.which("promtool") is None:
                raise unittest.SkipTest("promtool is not installed "
                                        "(make deps installs prometheus)")
            rc, out = promtool_check(prom.encode())
            self.assertEqual(rc, 0, out)
        finally:
            open(self.gate, "w").close()
        self.assertIsNotNone(pending)

    def test_metrics_endpoint(self):
        r = self.graph("GET", "metrics")
        self.assertGraphError(r, 401, "unauthenticated")
        r = self.graph("GET", "metrics", token=self.user)
        self.assertGraphError(r, 403, "accessDenied")
        r = self.graph("GET", "metrics", token=self.other)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn('tenant="acme"', r.body.decode())
        r = self.graph("GET", "metrics", token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith(
            "text/plain; version=0.0.4"), r.headers)
        text = r.body.decode()
        self.assertIn("# TYPE quarry_jobs gauge", text)
        self.assertNotIn('tenant="globex"', text)
        # the installation's figures are the operator's, not a tenant's
        self.assertNotIn("quarry_store_bytes", text)
        if shutil.which("promtool") is None:
            raise unittest.SkipTest("promtool is not installed (make deps "
                                    "installs prometheus)")
        rc, out = promtool_check(r.body)
        self.assertEqual(rc, 0, out)
