"""
Crash recovery for real (SPEC section 8, issue 4 item 2): dozens of jobs
are created over HTTP on a real stack, then the whole scheduler (master
and workers) is killed with SIGKILL several times at random moments while
they build, each time brought back with `scripts/stack.sh start`.  In the
end every acknowledged (201) job has completed exactly once, with a whole,
correct file, and no partial file is left.

The moments of the kills come from a random seed, printed when the test
starts; QUARRY_CRASH_SEED=N replays a run with seed N.
"""

import os
import random
import re
import signal
import time
import unittest

from harness import BASE, StackTestCase

TENANTS = ("acme", "globex")
DEFS_PER_TENANT = 15            # 30 jobs, all active at once
ROWS = 400000
KILLS = 4
MAX_ATTEMPTS = 20


def big_csv(tenant):
    """The import file and, being plain (no quoting, CRLF), the bytes its
    export to CSV must be."""
    lines = ["id,tenant,amount,note"]
    lines += ["%d,%s,%d.%02d,row %d of the crash test" % (
        i, tenant, i % 977, i % 100, i) for i in range(ROWS)]
    return ("\r\n".join(lines) + "\r\n").encode()


class CrashTest(StackTestCase):

    conf_extra = {"workers": "4", "lease_seconds": "5",
                  "max_attempts": str(MAX_ATTEMPTS),
                  "retry_backoff_seconds": "1", "poll_seconds": "1",
                  # a web program waiting on a latch a killed quarryd held
                  # ends itself after this (the store's stall guard), if
                  # no recovery has ended it earlier
                  "stall_seconds": "10"}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.tokens, cls.defs, cls.expected = {}, [], {}
        for t in TENANTS:
            cls.tokens[t] = s.token(t, "user", name=t + "-user")
            cls.expected[t] = big_csv(t)
            s.dataset(t, "big", cls.expected[t])
            for i in range(DEFS_PER_TENANT):
                cls.defs.append((t, s.definition(t, "crash %d" % i, "big")))

    # ---- the scheduler ----

    def qpid(self):
        """The pid of a quarryd that runs now, or None.  Behind SERVER=cgi
        a quarryd --drain runs only now and then (every DRAIN_SECONDS),
        with its pid file only while it runs."""
        pid = self.stack.read_pid("quarryd")
        return pid if pid is not None and self.stack._alive(pid) else None

    def children(self, pid):
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(st[1]) == pid and st[0] != "Z":
                out.append(int(d))
        return out

    def kill_scheduler(self):
        """SIGKILL to the master, its process group and its children;
        returns once none of them lives."""
        deadline = time.time() + 10
        while (pid := self.qpid()) is None and time.time() < deadline:
            time.sleep(0.01)
        self.assertIsNotNone(pid, "no quarryd runs (no live pid file)")
        victims = [pid] + self.children(pid)
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for p in victims:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while any(self.stack._alive(p) for p in victims):
            self.assertLess(time.time(), deadline, "killed quarryd lives")
            time.sleep(0.02)
        return len(victims) - 1

    def files_dir(self):
        return os.path.join(self.stack.vardir, "files")

    def building(self):
        return [n for n in os.listdir(self.files_dir())
                if n.endswith(".tmp")]

    # ---- the test ----

    def create(self, tenant, def_id):
        """Creates a job until acknowledged: 201, or 409 naming the job a
        request that got no answer created.  A request that meets the
        store while a killed process's recovery is due may get a 5xx
        (counted in self.errors) or no answer (self.hung): it acknowledged
        nothing."""
        for _ in range(20):
            try:
                r = self.stack.request("POST", "%s/%s/job" % (BASE, def_id),
                                       body=b"", token=self.tokens[tenant],
                                       timeout=10)
            except OSError:             # a program stuck on the store
                self.hung += 1
                continue
            if r.status in (201, 409):
                return r.header("Location").rstrip("/").rsplit("/", 1)[1]
            self.assertGreaterEqual(r.status, 500, r)
            self.errors += 1
            time.sleep(0.1)
        self.fail("no job created for %s" % def_id)

    def job(self, jid):
        out = self.stack.ctl("job", "show", jid)
        return dict(line.split(": ", 1) for line in out.splitlines()
                    if ": " in line)

    def test_kill_the_scheduler_while_jobs_run(self):
        seed = int(os.environ.get("QUARRY_CRASH_SEED") or time.time_ns())
        print("\n  seed %d (replay with QUARRY_CRASH_SEED=%d)" % (seed, seed),
              end=" ", flush=True)
        rnd = random.Random(seed)
        jobs = {}                       # id -> (tenant, def)
        self.errors = self.hung = 0
        half = len(self.defs) // 2
        for t, d in self.defs[:half]:
            jobs[self.create(t, d)] = (t, d)
        pending = list(self.defs[half:])
        kills = workers_killed = builds_hit = 0
        while kills < KILLS:
            # let builds get going, then kill at a random moment (a .tmp
            # file alone may be a killed build's, not yet cleaned up)
            deadline = time.time() + 10
            while not (self.qpid() and self.building()) and \
                    time.time() < deadline:
                time.sleep(0.01)
            time.sleep(rnd.uniform(0.0, 0.2))
            # the builds seen may have ended meanwhile (on a fast or a
            # loaded machine alike): the kill waits for the next one
            deadline = time.time() + 10
            while not (self.qpid() and self.building()) and \
                    time.time() < deadline:
                time.sleep(0.005)
            builds_hit += len(self.building())
            workers_killed += self.kill_scheduler()
            kills += 1
            # acknowledged while no scheduler runs
            for t, d in pending[:4]:
                jobs[self.create(t, d)] = (t, d)
            pending = pending[4:]
            self.stack.script("start")
        for t, d in pending:
            jobs[self.create(t, d)] = (t, d)
        self.assertGreaterEqual(len(jobs), 24)
        self.assertGreater(builds_hit, 0, "no kill hit a running build")

        deadline = time.time() + 90
        left = set(jobs)
        while left:
            for jid in list(left):
                st = self.job(jid)["state"]
                self.assertNotIn(st, ("failed", "cancelled"),
                                 "job %s: %s" % (jid, self.job(jid)))
                if st == "completed":
                    left.discard(jid)
            self.assertLess(time.time(), deadline,
                            "jobs not finished: %s" % sorted(left))
            time.sleep(0.3)

        with open(os.path.join(self.stack.vardir, "log",
                               "quarryd.log")) as f:
            log = f.read()
        retried = logged = 0
        for jid, (t, d) in jobs.items():
            j = self.job(jid)
            self.assertEqual(j["state"], "completed")
            attempts = int(j["attempts"])
            self.assertTrue(1 <= attempts <= KILLS + 1,
                            "job %s: %d attempts" % (jid, attempts))
            retried += attempts > 1
            done = re.findall(r"job %s tenant %s: completed in" % (
                re.escape(jid), t), log)
            # one "completed" line per job: never built to the end twice
            # (a kill between the commit and the log line may leave none)
            self.assertLessEqual(len(done), 1, "job %s completed %d "
                                 "times" % (jid, len(done)))
            logged += len(done)
            path = os.path.join(self.files_dir(), jid + ".csv")
            with open(path, "rb") as f:
                self.assertTrue(f.read() == self.expected[t],
                                "job %s: the file differs" % jid)
            r = self.stack.request("GET", "%s/%s/job/%s/file" % (
                BASE, d, jid), token=self.tokens[t])
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.body == self.expected[t],
                            "job %s: the download differs" % jid)
        self.assertEqual(self.building(), [], "partial files left")
        names = sorted(os.listdir(self.files_dir()))
        self.assertEqual(names, sorted(j + ".csv" for j in jobs))
        self.assertGreater(retried, 0, "no job was interrupted")
        # the store's log files are removed once checkpointed (the sweep
        # at each start): they do not pile up across crashes
        logs = [n for n in os.listdir(os.path.join(self.stack.vardir, "db"))
                if n.startswith("log.")]
        self.assertLessEqual(len(logs), 2, logs)
        self.assertGreaterEqual(logged, len(jobs) - KILLS)
        print("\n  %d jobs, %d kills (%d workers, %d partial files), "
              "%d jobs retried, %d 5xx answers and %d timeouts to creates"
              % (len(jobs), kills, workers_killed, builds_hit, retried,
                 self.errors, self.hung), end=" ")
