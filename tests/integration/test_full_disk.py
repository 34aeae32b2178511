"""
A full disk under the store (issue 11, item 7): the stack's db_dir is a
real size-limited tmpfs (256 MiB), filled for real with files of
fallocate'd blocks.  Below the store's reserve (store_reserve, automatic:
the cache, two log files and a margin; 24 MiB with the 8 MiB cache here) writes answer 507 in each dialect's
format, reads and downloads go on, quarryd restarts, and nothing panics
the environment; once the filler is removed, writes come back with no
manual step.  The same when the disk fills while jobs are being created,
and for a dataset import.

Needs root (mount); skipped otherwise, saying so.
"""

import os
import re
import subprocess
import time
import unittest

from harness import BASE, Stack
from jsonapi import (GRAPH, JSONStackTestCase, body_json, expense_csv,
                     expense_definition)

CACHE_MB = 8
# the automatic store_reserve (docs/store.md): the cache, two 4 MiB log
# files and 8 MiB of margin
RESERVE = (CACHE_MB << 20) + (8 << 20) + (8 << 20)
# room for the store, its log files (no checkpoint removes them while
# SERVER=cgi runs no daemon) and the reserve
TMPFS = "256m"


class FullDiskTest(JSONStackTestCase):

    # a small cache, so that the automatic reserve fits the tmpfs
    conf_extra = {"cache_mb": str(CACHE_MB)}

    @classmethod
    def setUpClass(cls):
        if os.getuid() != 0:
            raise unittest.SkipTest("mounting a size-limited tmpfs needs "
                                    "root")
        cls.stack = Stack(cls.__name__, cls.conf_extra)
        cls.db = os.path.join(cls.stack.vardir, "db")
        os.makedirs(cls.db)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0775"
                            % TMPFS, "tmpfs", cls.db],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            cls.stack.stop()
            raise unittest.SkipTest("cannot mount a tmpfs here: %s" %
                                    p.stdout.decode(errors="replace"))
        cls.fillers = 0
        try:
            cls.stack.start()
            cls.seed()
        except BaseException:
            print("\n%s: stack setup failed; logs:\n%s" % (
                cls.__name__, cls.stack.log_tail()))
            cls.teardown_stack()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.teardown_stack()
        if cls.stack.sanitizer:
            raise AssertionError("sanitizer reports:\n" +
                                 "\n".join(cls.stack.sanitizer))

    @classmethod
    def teardown_stack(cls):
        """Stops the stack, unmounts the tmpfs, removes VARDIR."""
        s = cls.stack
        s.sanitizer = []
        try:
            if s.started:
                s.stop_services()
            else:
                s.kill_leftovers()
            s.sanitizer = s.sanitizer_reports()
        finally:
            s.started = False
            subprocess.run(["umount", "-l", cls.db],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            s.stop()        # the safety net, and VARDIR removed

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        s.dataset("acme", "expenses", expense_csv())

    # ---- filling ----

    def free_bytes(self):
        st = os.statvfs(self.db)
        return st.f_bavail * st.f_frsize

    def fill(self, leave):
        """Fills db_dir's file system until leave bytes are free."""
        want = self.free_bytes() - leave
        if want <= 0:
            return
        type(self).fillers += 1
        path = os.path.join(self.db, "filler-%d" % self.fillers)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, want)
        finally:
            os.close(fd)

    def unfill(self):
        for n in os.listdir(self.db):
            if n.startswith("filler-"):
                os.unlink(os.path.join(self.db, n))

    def tearDown(self):
        self.unfill()

    def assert_no_panic(self):
        logs = self.stack.log_tail(lines=100000)
        for bad in ("PANIC", "run recovery", "fatal region error"):
            self.assertNotIn(bad, logs, "the environment panicked")

    # ---- requests ----

    def new_def(self, name):
        return self.add_definition(expense_definition("acme", name))

    def create(self, def_id, n=None):
        body = {"definitionId": def_id}
        if n is not None:
            body["parameters"] = {"min": str(n)}
        return self.graph("POST", "exportJobs", body, self.user)

    def assert_refused_in_every_dialect(self, def_id):
        r = self.create(def_id, 999999)
        err = self.assertGraphError(r, 507)
        self.assertEqual(err["code"], "insufficientStorage", err)
        r = self.stack.request("POST", "%s/%s/job" % (BASE, def_id),
                               body=b"", token=self.user)
        self.assertConcurError(r, 507)
        r = self.osdi("POST", "exports", {"_links": {"osdi:resource": {
            "href": "%s/definitions/%s" % (GRAPH, def_id)}},
            "parameters": {"min": "999998"}}, self.user)
        d = self.assertOsdiError(r, 507)
        self.assertEqual(d["error_code"], "INSUFFICIENT_STORAGE", d)

    # ---- the tests ----

    def test_below_the_reserve_writes_refused_reads_go_on(self):
        def_id = self.new_def("Full")
        j = body_json(self.create(def_id))
        self.assertEqual(self.wait_graph(self.user, j["id"])["status"],
                         "succeeded")
        self.fill(RESERVE // 3)
        self.assert_refused_in_every_dialect(def_id)
        # reads, lists and downloads go on
        self.assertEqual(self.graph("GET", "exportJobs/" + j["id"],
                                    token=self.user).status, 200)
        self.assertEqual(self.graph("GET", "exportJobs",
                                    token=self.user).status, 200)
        r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                       token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(len(r.body) > 0)
        # quarryd starts on a full disk (its checkpoint is refused)
        self.stack.stop_quarryd()
        self.stack.script("start")
        self.assertEqual(self.graph("GET", "exportJobs/" + j["id"],
                                    token=self.user).status, 200)
        # on a disk without a byte free, still no panic
        self.fill(0)
        self.assertGraphError(self.create(def_id, 999997), 507)
        self.assertEqual(self.graph("GET", "exportJobs/" + j["id"],
                                    token=self.user).status, 200)
        # room again: writes come back by themselves
        self.unfill()
        r = self.create(def_id, 1)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.wait_graph(self.user, body_json(r)["id"])[
            "status"], "succeeded")
        self.assert_no_panic()

    def test_the_disk_fills_while_jobs_are_created(self):
        def_id = self.new_def("Filling")
        self.fill(RESERVE + (2 << 20))
        made, refused = [], None
        for n in range(5000):
            r = self.create(def_id, n)
            if r.status == 201:
                made.append(body_json(r)["id"])
                continue
            refused = r
            break
        self.assertIsNotNone(refused, "the reserve was never reached")
        self.assertGraphError(refused, 507)
        self.assertGreater(len(made), 0)
        # every acknowledged job is there
        for jid in made[-5:]:
            self.assertEqual(self.graph("GET", "exportJobs/" + jid,
                                        token=self.user).status, 200)
        self.unfill()
        r = self.create(def_id, 99999)
        self.assertEqual(r.status, 201, r)
        self.assert_no_panic()

    def test_an_import_on_a_full_disk(self):
        big = b"id,text\r\n" + b"".join(
            b"%d,%s\r\n" % (i, b"x" * 200) for i in range(60000))
        path = os.path.join(self.stack.vardir, "big.csv")
        with open(path, "wb") as f:
            f.write(big)
        self.fill(RESERVE + (4 << 20))
        p = subprocess.run(
            [os.path.join(self.stack.bin_dir, "bin", "quarryctl"), "-c",
             self.stack.conf, "dataset", "import", "--tenant", "acme",
             "big", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"no space", p.stderr)
        self.assertNotIn("big", self.stack.ctl("dataset", "list").split())
        self.unfill()
        self.stack.ctl("dataset", "import", "--tenant", "acme", "big", path)
        self.assertTrue(re.search(r"\bbig\b.*60000 rows",
                                  self.stack.ctl("dataset", "list")))
        self.assert_no_panic()
