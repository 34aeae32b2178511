"""
quarryctl verify on a live stack (issue 14, item 2; docs/operations.md):
a sound store under load passes (jobs created over HTTP and built while
it reads, with --deep too); damage to the files directory planted here
(a completed job's file removed, a file of no job, a temporary file of
no running build) is found, each once, with a non-zero exit and nothing
changed; --repair mends each and says so, and the store passes again.
The indexes' damage is planted and mended in tests/unit/test_verify.c,
which reaches inside the store.
"""

import os
import threading
import time

from jsonapi import JSONStackTestCase, body_json, expense_csv


class VerifyTest(JSONStackTestCase):

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="verify-admin")
        s.dataset("acme", "expenses", expense_csv())
        cls.def_id = s.definition("acme", "Verify", "expenses", parameters=[
            {"name": "tag", "type": "string", "required": True}])

    def verify(self, *args):
        out = self.stack.ctl("verify", *args, check=False)
        return self.stack.last_ctl.returncode, out

    def create(self, tag):
        r = self.graph("POST", "exportJobs", {
            "definitionId": self.def_id, "parameters": {"tag": tag}},
            self.admin)
        self.assertEqual(r.status, 201, r)
        return body_json(r)["id"]

    def test_a_sound_store_under_load_passes(self):
        stop = threading.Event()
        made = []

        def load():
            i = 0
            while not stop.is_set():
                i += 1
                made.append(self.create("load-%d" % i))

        t = threading.Thread(target=load)
        t.start()
        try:
            while len(made) < 20:
                time.sleep(0.01)
            for args in ((), (), (), (), (), ("--deep",)):
                rc, out = self.verify(*args)
                self.assertEqual(rc, 0, out)
                self.assertIn("0 problems", out)
        finally:
            stop.set()
            t.join(30)
        self.assertGreater(len(made), 20)

    def test_files_damage_found_and_repaired(self):
        files = os.path.join(self.stack.vardir, "files")
        a = self.wait_graph(self.admin, self.create("a"))
        self.assertEqual(a["status"], "succeeded")
        # quarryd removes stale temporary files when it starts (behind
        # SERVER=cgi every drain run does): none runs while this looks
        with self.paused():
            self.damage_found_and_repaired(files, a)

    def damage_found_and_repaired(self, files, a):
        gone = [n for n in os.listdir(files) if n.startswith(a["id"])]
        self.assertEqual(len(gone), 1, gone)
        os.unlink(os.path.join(files, gone[0]))
        orphan = os.path.join(files, "Z" * 22 + ".csv")
        stale = os.path.join(files, "Y" * 22 + ".csv.tmp")
        for p in (orphan, stale):
            with open(p, "w") as f:
                f.write("x")
        rc, out = self.verify()
        self.assertEqual(rc, 1, out)
        self.assertIn("3 problems", out)
        self.assertEqual(out.count("%s is completed but its file" %
                                   a["id"]), 1, out)
        self.assertEqual(out.count("belongs to no completed job"), 1, out)
        self.assertEqual(out.count("a temporary file of no running build"),
                         1, out)
        self.assertTrue(os.path.exists(orphan) and os.path.exists(stale))
        self.assertEqual(self.graph_job(self.admin, a["id"])["status"],
                         "succeeded")
        rc, out = self.verify("--repair")
        self.assertEqual(rc, 0, out)
        self.assertIn("3 mended", out)
        self.assertEqual(out.count(": mended"), 3, out)
        self.assertFalse(os.path.exists(orphan) or os.path.exists(stale))
        # the job whose file was gone is expired: its content is 410
        r = self.graph("GET", "exportJobs/%s/content" % a["id"],
                       token=self.admin)
        self.assertEqual(r.status, 410, r)
        rc, out = self.verify()
        self.assertEqual(rc, 0, out)
