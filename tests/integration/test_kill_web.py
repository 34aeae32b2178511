"""
The web programs killed under load (issue 11): clients create jobs and
poll them over HTTP while the FastCGI programs are killed with SIGKILL
ten times at random moments; the web server starts them again.  In the
end every job acknowledged with 201 exists exactly once and completes
with the right file, and a create that got no answer made at most one
job (a kill can land after the commit and before the answer: its job is
then there, complete, and the client's retry would get a 409 naming it).

The moments come from a seed printed when the test starts;
QUARRY_KILL_SEED=N replays a run.  Behind lighttpd and Apache with
mod_fcgid, which restart a program that died; not behind
mod_proxy_fcgi (spawn-fcgi restarts nothing: systemd does, in
production) nor plain CGI (no program lives between requests).
"""

import json
import os
import random
import signal
import threading
import time
import unittest

from harness import SERVER, StackTestCase
from jsonapi import GRAPH, body_json

KILLS = 10
CLIENTS = 4
ROWS = 2000


def small_csv():
    lines = ["id,amount"] + ["%d,%d.%02d" % (i, i, i % 100)
                             for i in range(ROWS)]
    return ("\r\n".join(lines) + "\r\n").encode()


@unittest.skipIf(SERVER in ("proxy", "cgi"), "behind %s nothing restarts a "
                 "killed web program" % SERVER)
class KillWebTest(StackTestCase):

    conf_extra = {"workers": "2", "poll_seconds": "1",
                  # a program waiting on a latch a killed one held ends
                  # itself at the latest after this
                  "stall_seconds": "10"}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        cls.admin = s.token("acme", "admin", name="acme-admin")
        s.dataset("acme", "rows", small_csv())
        cls.def_id = s.definition("acme", "kill", "rows", parameters=[
            {"name": "n", "type": "int", "required": True}])

    def programs(self):
        """The pids of this stack's FastCGI programs."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b".fcgi" in cmd and b"cgi-bin/" in cmd and \
                    self.stack._ours(int(d)):
                out.append(int(d))
        return out

    def graph(self, method, path, body=None, token=None):
        h = {"Authorization": "Bearer " + (token or self.user)}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        return self.stack.request(method, GRAPH + "/" + path, body=body,
                                  headers=h, timeout=30)

    def test_kill_the_web_programs_under_load(self):
        seed = int(os.environ.get("QUARRY_KILL_SEED") or time.time_ns())
        print("\n  seed %d (replay with QUARRY_KILL_SEED=%d)" % (seed, seed),
              end=" ", flush=True)
        rnd = random.Random(seed)
        lock = threading.Lock()
        acked, unanswered, refused = {}, [], []
        stop = threading.Event()
        counter = iter(range(10 ** 9))

        def client():
            while not stop.is_set():
                with lock:
                    n = next(counter)
                try:
                    r = self.graph("POST", "exportJobs", {
                        "definitionId": self.def_id,
                        "parameters": {"n": n}})
                except OSError:
                    with lock:
                        unanswered.append(n)
                    continue
                with lock:
                    if r.status == 201:
                        acked[body_json(r)["id"]] = n
                    elif r.status >= 500:
                        unanswered.append(n)    # acknowledged nothing
                    else:
                        refused.append((n, r.status, r.body[:200]))
                # poll one acknowledged job, as clients do
                with lock:
                    ids = list(acked)
                if ids:
                    try:
                        self.graph("GET", "exportJobs/" + rnd.choice(ids))
                    except OSError:
                        pass

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        kills = 0
        try:
            while kills < KILLS:
                time.sleep(rnd.uniform(0.1, 0.5))
                pids = self.programs()
                if not pids:
                    continue
                try:
                    os.kill(rnd.choice(pids), signal.SIGKILL)
                    kills += 1
                except ProcessLookupError:
                    pass
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(refused, [], "creates refused with 4xx")
        self.assertGreater(len(acked), KILLS, "too little load")

        # every job there: wait until all are finished
        deadline = time.time() + 120
        while True:
            jobs = self.all_jobs()
            waiting = [j for j in jobs if j["status"] in
                       ("notStarted", "running")]
            if not waiting:
                break
            self.assertLess(time.time(), deadline, "jobs not finished: "
                            "%d" % len(waiting))
            time.sleep(0.5)
        by_n = {}
        for j in jobs:
            by_n.setdefault(int(j["parameters"]["n"]), []).append(j)
        for jid, n in acked.items():
            self.assertEqual([j["id"] for j in by_n.get(n, [])], [jid],
                             "acknowledged job %s (n=%d)" % (jid, n))
        for n in unanswered:
            self.assertLessEqual(len(by_n.get(n, [])), 1,
                                 "unanswered n=%d made several jobs" % n)
        self.assertEqual(len(jobs), len(acked) + sum(
            len(by_n.get(n, [])) for n in unanswered))
        expected = small_csv()
        for j in jobs:
            self.assertEqual(j["status"], "succeeded", j)
            r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                           token=self.admin)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.body == expected, "job %s: the file "
                            "differs" % j["id"])
        print("\n  %d kills, %d jobs acknowledged, %d creates without an "
              "answer (%d of them made a job)" % (
                  kills, len(acked), len(unanswered), len(jobs) -
                  len(acked)), end=" ")

    def all_jobs(self):
        """Every job of the tenant, through Graph's pages."""
        out, path = [], "exportJobs?$top=1000"
        while path:
            r = self.graph("GET", path, token=self.admin)
            self.assertEqual(r.status, 200, r)
            b = body_json(r)
            out += b["value"]
            nxt = b.get("@odata.nextLink")
            path = nxt.split(GRAPH + "/", 1)[1] if nxt else None
        return out
