"""
Hot backup and restore (issue 14, item 1; docs/operations.md): a backup
of a stack taken while jobs are created over HTTP as fast as the stack
takes them and builds run; restored into a new VARDIR; the restored stack
started; every job acknowledged with 201 before the backup began is
there and completes with its whole file (running ones were put back in
the queue).  A non-empty target, a VARDIR with a store, a directory that
is not a whole backup are refused; a full disk fails the backup clearly
and leaves no backup behind.
"""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Stack
from jsonapi import JSONStackTestCase, body_json

ROWS = 150000
# an extractor that runs until its gate file exists
GATED = """#!/bin/sh
echo 'k,v'
echo 'a,1'
while [ ! -e '%s' ]; do sleep 0.05; done
"""


def big_csv():
    lines = ["id,name,amount"]
    lines += ["%d,item %d,%d.%02d" % (i, i, i % 991, i % 100)
              for i in range(ROWS)]
    return ("\r\n".join(lines) + "\r\n").encode()


class BackupTest(JSONStackTestCase):

    conf_extra = {"workers": "2"}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="backup-admin")
        cls.data = big_csv()
        s.dataset("acme", "big", cls.data)
        cls.def_id = cls.add_def()

    @classmethod
    def add_def(cls):
        return cls.stack.definition(
            "acme", "Backup", "big", parameters=[
                {"name": "tag", "type": "string", "required": True}])

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="quarry-backup-")
        # behind Apache the programs run as another user: they must
        # reach a VARDIR restored in here
        os.chmod(d, 0o755)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def ctl_fails(self, *args):
        self.stack.ctl(*args, check=False)
        p = self.stack.last_ctl
        self.assertNotEqual(p.returncode, 0, p)
        return p.stderr.decode()

    def test_backup_under_load_restores_every_acknowledged_job(self):
        acked = []                      # (job id, monotonic time of 201)
        stop = threading.Event()
        errors = []

        def load():
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = self.graph("POST", "exportJobs", {
                        "definitionId": self.def_id,
                        "parameters": {"tag": "t%d" % i}}, self.admin)
                except OSError as e:    # pragma: no cover - reported
                    errors.append(e)
                    return
                if r.status != 201:
                    errors.append(r)
                    return
                acked.append((body_json(r)["id"], time.monotonic()))

        t = threading.Thread(target=load)
        t.start()
        try:
            deadline = time.time() + 60
            while len(acked) < 30 and time.time() < deadline and \
                    not errors:
                time.sleep(0.02)
            self.assertGreaterEqual(len(acked), 30, errors)
            began = time.monotonic()
            before = [jid for jid, at in acked if at < began]
            bdir = os.path.join(self.tmpdir(), "b")
            out = self.stack.ctl("backup", bdir)
            n_during = len(acked)
            # a little more load after the backup, then stop
            time.sleep(0.3)
        finally:
            stop.set()
            t.join(30)
        self.assertFalse(errors, errors)
        self.assertGreater(len(acked), n_during - 1)
        self.assertIn("job files:", out)
        self.assertTrue(os.path.isfile(os.path.join(bdir, "BACKUP")))
        self.assertTrue(os.path.isfile(os.path.join(bdir, "quarry.conf")))

        vardir = os.path.join(self.tmpdir(), "restored")
        out = self.stack.ctl("restore", bdir, vardir)
        self.assertIn("restored", out)
        with open(os.path.join(vardir, "quarry.conf")) as f:
            conf = f.read()
        self.assertIn("db_dir = %s/db" % os.path.realpath(vardir), conf)
        self.assertIn("files_dir = %s/files" % os.path.realpath(vardir),
                      conf)

        restored = Stack("restored", vardir=vardir)
        try:
            restored.start()
            self.check_restored(restored, before)
        except Exception as e:
            raise AssertionError("%s\n%s" % (e, restored.log_tail())) \
                from e
        finally:
            restored.stop()
        # the source stack went on all along
        r = self.graph("GET", "exportJobs/" + acked[-1][0], token=self.admin)
        self.assertEqual(r.status, 200, r)

    def check_restored(self, restored, before):
        """Every job of before is in the restored stack and completes
        there with its whole file."""
        if True:
            h = {"Authorization": "Bearer " + self.admin}
            left = set(before)
            deadline = time.time() + 120
            while left and time.time() < deadline:
                for jid in sorted(left):
                    r = restored.request("GET", "/api/v1/exportJobs/" + jid,
                                         headers=h)
                    self.assertEqual(r.status, 200,
                                     "job %s acknowledged before the backup "
                                     "is not in the restored store: %r" %
                                     (jid, r))
                    j = body_json(r)
                    self.assertIn(j["status"], ("notStarted", "running",
                                                "succeeded"), j)
                    if j["status"] == "succeeded":
                        left.discard(jid)
                time.sleep(0.1)
            self.assertFalse(left, "jobs that never completed after the "
                             "restore: %s\n%s" % (sorted(left),
                                                  restored.log_tail()))
            for jid in before:
                r = restored.request(
                    "GET", "/api/v1/exportJobs/%s/content" % jid, headers=h)
                self.assertEqual(r.status, 200, (jid, r))
                self.assertEqual(r.body, self.data, jid)
            # the restored store is sound, and quarryctl works on it
            out = restored.ctl("verify")
            self.assertIn("0 problems", out)
            listing = restored.ctl("job", "list")
            for jid in before:
                self.assertIn(jid, listing)

    def test_a_running_job_goes_back_to_the_queue(self):
        """A job running when the backup is made (an extractor held at a
        gate) is queued in the restored store, and completes there."""
        gate = os.path.join(self.tmpdir(), "gate")
        xdir = os.path.join(self.stack.vardir, "extractors")
        with open(os.path.join(xdir, "gated"), "w") as f:
            f.write(GATED % gate)
        os.chmod(os.path.join(xdir, "gated"), 0o755)
        r = self.graph("POST", "definitions", {
            "tenant": "acme", "name": "Gated", "formats": ["csv"],
            "source": {"command": "gated"}}, self.admin)
        self.assertEqual(r.status, 201, r)
        gdef = body_json(r)["id"]
        r = self.graph("POST", "exportJobs", {"definitionId": gdef},
                       self.admin)
        self.assertEqual(r.status, 201, r)
        jid = body_json(r)["id"]
        try:
            deadline = time.time() + 30
            while "state: running" not in self.stack.ctl("job", "show", jid):
                self.assertLess(time.time(), deadline, "never ran")
                time.sleep(0.05)
            bdir = os.path.join(self.tmpdir(), "b")
            self.stack.ctl("backup", bdir)
        finally:
            open(gate, "w").close()
        vardir = os.path.join(self.tmpdir(), "restored")
        out = self.stack.ctl("restore", bdir, vardir)
        self.assertIn("running jobs put back in the queue: 1", out)
        restored = Stack("restored-gated", vardir=vardir)
        try:
            self.assertIn("state: queued", restored.ctl("job", "show", jid))
            # the extractor is a program of the host, not of the backup
            shutil.copy(os.path.join(xdir, "gated"),
                        os.path.join(vardir, "extractors", "gated"))
            restored.start()
            h = {"Authorization": "Bearer " + self.admin}
            deadline = time.time() + 60
            while True:
                r = restored.request("GET", "/api/v1/exportJobs/" + jid,
                                     headers=h)
                self.assertEqual(r.status, 200, r)
                if body_json(r)["status"] == "succeeded":
                    break
                self.assertLess(time.time(), deadline, body_json(r))
                time.sleep(0.1)
            r = restored.request("GET", "/api/v1/exportJobs/%s/content" %
                                 jid, headers=h)
            self.assertEqual(r.body, b"k,v\r\na,1\r\n")
        except Exception as e:
            raise AssertionError("%s\n%s" % (e, restored.log_tail())) \
                from e
        finally:
            restored.stop()

    def test_refusals(self):
        d = self.tmpdir()
        with open(os.path.join(d, "something"), "w") as f:
            f.write("x")
        err = self.ctl_fails("backup", d)
        self.assertIn("not empty", err)
        self.assertEqual(os.listdir(d), ["something"])
        # not a whole backup: no manifest
        partial = self.tmpdir()
        os.makedirs(os.path.join(partial, "db"))
        err = self.ctl_fails("restore", partial,
                             os.path.join(self.tmpdir(), "v"))
        self.assertIn("not a complete Quarry backup", err)
        # a VARDIR that holds a store
        b = os.path.join(self.tmpdir(), "b")
        self.stack.ctl("backup", b)
        err = self.ctl_fails("restore", b, self.stack.vardir)
        self.assertIn("holds a store", err)

    def test_full_disk_leaves_no_backup(self):
        if os.getuid() != 0:
            raise unittest.SkipTest("mounting a size-limited tmpfs needs "
                                    "root")
        mnt = self.tmpdir()
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m",
                            "tmpfs", mnt], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise unittest.SkipTest("cannot mount a tmpfs here: %s" %
                                    p.stdout.decode().strip())
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        # the store alone is larger than 1 MiB (its log file is 4 MiB)
        target = os.path.join(mnt, "b")
        err = self.ctl_fails("backup", target)
        self.assertIn("backup failed", err)
        self.assertIn("no space left on device", err)
        self.assertFalse(os.path.exists(target), os.listdir(mnt))
        self.assertEqual(os.listdir(mnt), [])
