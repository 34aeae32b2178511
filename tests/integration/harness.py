"""
The integration harness: brings up a real Quarry stack (a web server + the
four programs + quarryd) in a fresh temporary directory on a free loopback
port with scripts/stack.sh, seeds it with the real quarryctl, and talks to
it over HTTP.  Every process a stack starts is stopped when the stack is
torn down, also when a test fails or the run is interrupted.

The web server is QUARRY_SERVER (run.py --server): lighttpd (default),
apache (mod_fcgid), proxy (Apache with mod_proxy_fcgi, the programs started
by spawn-fcgi) or cgi (Apache running the programs as plain CGI through
www/.htaccess, with quarryd --drain every 0.2 s instead of the daemon);
stack.sh gets it as SERVER.  The same tests run against each.

QUARRY_TLS=1 (run.py --tls) makes every stack speak HTTPS (stack.sh's
TLS=1: a self-signed certificate under VARDIR/tls) unless its class says
otherwise (tls = False); requests then go over TLS with that certificate
as the only CA, and every absolute URI the tests read must be https.

Python 3 standard library only.
"""

import atexit
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Set by run.py from --bin-dir: binaries are in BIN_DIR/bin and
# BIN_DIR/cgi-bin.
BIN_DIR = os.environ.get("QUARRY_BIN_DIR", REPO)

# The web server every stack of this run uses (stack.sh's SERVER).
SERVER = os.environ.get("QUARRY_SERVER", "lighttpd")
if SERVER not in ("lighttpd", "apache", "proxy", "cgi"):
    raise SystemExit("QUARRY_SERVER must be lighttpd, apache, proxy or cgi, "
                     "not %r" % SERVER)
# HTTPS for every stack of this run whose class does not decide itself.
TLS = os.environ.get("QUARRY_TLS", "0") == "1"

if SERVER != "lighttpd" and os.getuid() == 0:
    # Apache's children run as www-data when root starts it; stack.sh
    # makes VARDIR group-shared, and what quarryctl creates here must stay
    # group-writable too (a new Berkeley DB log file, say).
    os.umask(0o002)

NS = "http://www.concursolutions.com/api/expense/extract/2010/02"
BASE = "/api/expense/extract/v1.0"
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|"
                          r"SUMMARY: UndefinedBehaviorSanitizer")
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

# Every stack still up, so that atexit and signals can stop them.
_live_stacks = []


def q(tag):
    """The Concur-namespaced name of an element."""
    return "{%s}%s" % (NS, tag)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now: one the
    kernel picks, or, when QUARRY_PORT_RANGE ("20000-23999") is set, one
    of that range, so that suites running at the same time (run-all.sh
    gives each its own range, below the kernel's ephemeral ports) never
    pick the same port."""
    rng = os.environ.get("QUARRY_PORT_RANGE", "")
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rng:
                lo, hi = (int(x) for x in rng.split("-"))
                s.bind(("127.0.0.1", random.randint(lo, hi)))
            else:
                s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in QUARRY_PORT_RANGE=%s" % rng)


def parse_rfc3339(s):
    """Seconds since the epoch of an RFC 3339 UTC time ending in Z."""
    s = re.sub(r"\.\d+Z$", "Z", s)
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - \
        time.mktime(time.gmtime(0))


class Response:
    """One HTTP answer: status, headers (case-insensitive), body bytes."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def text(self):
        return self.body.decode("utf-8", "replace")

    def xml(self):
        return ET.fromstring(self.body)

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.reason, self.body[:600])


class Stack:
    """A running Quarry stack in its own temporary VARDIR."""

    def __init__(self, name="stack", conf_extra=None, vardir=None,
                 auth=None, tls=None):
        """vardir: an existing VARDIR (a restored one) instead of a new
        temporary one; removed by stop() all the same.  auth: stack.sh's
        AUTH ("basic": the web server signs people in).  tls: HTTPS
        (stack.sh's TLS=1) or not; None: the run's (QUARRY_TLS)."""
        self.name = name
        self.auth = auth
        self.tls = TLS if tls is None else bool(tls)
        self._ssl = None
        self.conf_extra = conf_extra or {}
        self.bin_dir = os.path.abspath(BIN_DIR)
        self.vardir = vardir or tempfile.mkdtemp(prefix="quarry-it-")
        self.port = None
        self.started = False
        _live_stacks.append(self)

    # ---- lifecycle ----

    def env(self):
        e = dict(os.environ)
        e.update({
            "VARDIR": self.vardir,
            "PORT": str(self.port),
            "OUT": self.bin_dir,
            "QUARRY_DEMO": "0",
            "SERVER": SERVER,
            "AUTH": self.auth or "",
            "TLS": "1" if self.tls else "0",
            # behind cgi, how often quarryd --drain runs (cron's part):
            # often, so that tests wait for builds about as long as with
            # the daemon
            "DRAIN_SECONDS": os.environ.get("QUARRY_DRAIN_SECONDS", "0.2"),
        })
        return e

    def script(self, verb, timeout=90):
        """Runs scripts/stack.sh VERB for this stack; raises on failure."""
        p = subprocess.run(["sh", os.path.join(REPO, "scripts", "stack.sh"),
                            verb], cwd=REPO, env=self.env(),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           start_new_session=True)
        if p.returncode != 0:
            raise RuntimeError("stack.sh %s exited %d:\n%s" % (
                verb, p.returncode, p.stdout.decode("utf-8", "replace")))
        return p.stdout.decode("utf-8", "replace")

    def start(self):
        """Starts the stack (stack.sh start is idempotent)."""
        if self.port is None:
            self.port = free_port()
        if self not in _live_stacks:
            _live_stacks.append(self)
        for attempt in range(3):
            try:
                self.script("start")
                break
            except RuntimeError as e:
                # another program took the port since free_port saw it
                # free: stop what started, take another
                if "is taken by another program" not in str(e) or \
                        attempt == 2:
                    raise
                self.script("stop")
                self.port = free_port()
        self.started = True
        if self.conf_extra and not getattr(self, "_conf_applied", False):
            # stack.sh wrote quarry.conf on the first start; set our keys
            # and restart so that every program reads them.
            self.stop_services()
            self.set_conf(self.conf_extra)
            self._conf_applied = True
            self.script("start")
        self.wait_port()

    def set_conf(self, kv):
        """Sets main keys in VARDIR/quarry.conf (replacing earlier values),
        before any [database NAME] section."""
        path = self.conf
        with open(path) as f:
            lines = f.read().splitlines()
        main, sections = [], []
        for line in lines:
            if sections or line.strip().startswith("[database"):
                sections.append(line)
                continue
            key = line.split("=", 1)[0].strip()
            if "=" in line and key in kv:
                continue
            main.append(line)
        for k, v in kv.items():
            main.append("%s = %s" % (k, v))
        with open(path, "w") as f:
            f.write("\n".join(main + sections) + "\n")

    def add_database(self, name, **settings):
        """Appends a [database NAME] section to VARDIR/quarry.conf; the
        programs read it when they next start (restart())."""
        with open(self.conf, "a") as f:
            f.write("\n[database %s]\n" % name)
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def restart(self):
        """Stops and starts every service, so that all read quarry.conf
        again."""
        self.stop_services()
        self.script("start")
        self.wait_port()

    def wait_port(self, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("port %d never answered" % self.port)
                time.sleep(0.05)

    def stop_services(self):
        """stack.sh stop, then the safety net."""
        try:
            self.script("stop", timeout=60)
        finally:
            self.kill_leftovers()

    def pidfiles(self):
        run = os.path.join(self.vardir, "run")
        if not os.path.isdir(run):
            return []
        return [os.path.join(run, n) for n in sorted(os.listdir(run))
                if n.endswith(".pid")]

    def read_pid(self, name):
        """The pid in VARDIR/run/NAME.pid, or None."""
        try:
            with open(os.path.join(self.vardir, "run", name + ".pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _ours(self, pid):
        """True if pid is a live process of this user that mentions our
        VARDIR in its command line or environment."""
        try:
            # As root, Apache's children and the programs run as another
            # user (www-data); they are ours all the same.
            if os.getuid() != 0 and \
                    os.stat("/proc/%d" % pid).st_uid != os.getuid():
                return False
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read()
            if self.vardir.encode() in cmd:
                return True
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read()
            return self.vardir.encode() in env
        except OSError:
            return False

    def _alive(self, pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False

    def _signal(self, pids, sig):
        for pid in pids:
            try:
                pgid = os.getpgid(pid)
                if pgid == pid and pgid != os.getpgrp():
                    os.killpg(pgid, sig)
                else:
                    os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def kill_leftovers(self):
        """Stops every process this stack started that is still running:
        the pids in VARDIR/run/*.pid (and their process groups), then any
        process of ours that names this VARDIR (FastCGI children)."""
        pids = set()
        for pf in self.pidfiles():
            try:
                with open(pf) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if pid > 1 and self._ours(pid):
                pids.add(pid)
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) != os.getpid() and self._ours(int(d)):
                pids.add(int(d))
        pids = [p for p in pids if self._alive(p)]
        if not pids:
            return []
        self._signal(pids, signal.SIGTERM)
        deadline = time.time() + 5
        while time.time() < deadline and any(self._alive(p) for p in pids):
            time.sleep(0.05)
        left = [p for p in pids if self._alive(p)]
        self._signal(left, signal.SIGKILL)
        return pids

    def stop_quarryd(self):
        """Stops the scheduler only (SIGTERM, then waits for it to go).
        With SERVER=cgi that is the drain loop standing in for cron and
        the quarryd --drain it may be running; start() brings it back."""
        if SERVER == "cgi":
            pid = self.read_pid("drain")
            if pid is None or not self._alive(pid):
                raise RuntimeError("no running drain loop in run/drain.pid")
            self._signal([pid], signal.SIGTERM)
            qpid = self.read_pid("quarryd")
            deadline = time.time() + 15
            while self._alive(pid) or (qpid and self._alive(qpid)):
                if time.time() > deadline:
                    self._signal([pid] + ([qpid] if qpid else []),
                                 signal.SIGKILL)
                    break
                time.sleep(0.05)
            return
        pid = self.read_pid("quarryd")
        if pid is None or not self._alive(pid):
            raise RuntimeError("no running quarryd in run/quarryd.pid")
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 15
        while self._alive(pid):
            if time.time() > deadline:
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
                break
            time.sleep(0.05)

    def sanitizer_reports(self):
        """Excerpts of AddressSanitizer, LeakSanitizer and UBSan reports
        found in VARDIR/log (an ASan build writes them there)."""
        found = []
        logdir = os.path.join(self.vardir, "log")
        if not os.path.isdir(logdir):
            return found
        for n in sorted(os.listdir(logdir)):
            p = os.path.join(logdir, n)
            if not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            for i, line in enumerate(lines):
                if SANITIZER_RE.search(line):
                    found.append("%s:\n%s" % (n, "\n".join(
                        lines[max(0, i - 2):i + 25])))
                    break
        return found

    def stop(self, keep=False):
        """Stops everything and removes VARDIR (unless keep).  Sanitizer
        reports found in the logs are left in self.sanitizer."""
        self.sanitizer = []
        try:
            if self.started:
                self.stop_services()
            else:
                self.kill_leftovers()
            self.sanitizer = self.sanitizer_reports()
        finally:
            self.started = False
            if self in _live_stacks:
                _live_stacks.remove(self)
            if not keep and not os.environ.get("QUARRY_KEEP_TMP"):
                shutil.rmtree(self.vardir, ignore_errors=True)
            else:
                print("kept %s" % self.vardir)

    def log_tail(self, lines=40):
        """The tail of every file under VARDIR/log, for failure reports."""
        out = []
        logdir = os.path.join(self.vardir, "log")
        if not os.path.isdir(logdir):
            return "(no %s)" % logdir
        for n in sorted(os.listdir(logdir)):
            p = os.path.join(logdir, n)
            if not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
            out.append("---- %s (last %d lines) ----" % (n, lines))
            out.extend(data[-lines:])
        return "\n".join(out)

    # ---- admin CLI ----

    @property
    def conf(self):
        return os.path.join(self.vardir, "quarry.conf")

    def ctl(self, *args, stdin=None, check=True):
        """Runs quarryctl -c VARDIR/quarry.conf ARGS; returns its stdout."""
        p = subprocess.run([os.path.join(self.bin_dir, "bin", "quarryctl"),
                            "-c", self.conf] + list(args),
                           input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if check and p.returncode != 0:
            raise RuntimeError("quarryctl %s exited %d: %s" % (
                " ".join(args), p.returncode,
                p.stderr.decode("utf-8", "replace")))
        self.last_ctl = p
        return p.stdout.decode("utf-8")

    def token(self, tenant, role="user", name=None, expires=None):
        """Creates a token; returns its secret."""
        args = ["token", "create", "--tenant", tenant, "--role", role]
        if name:
            args += ["--name", name]
        if expires:
            args += ["--expires", expires]
        out = self.ctl(*args)
        lines = out.splitlines()
        if len(lines) != 1 or not lines[0].strip():
            raise AssertionError("token create printed %r, not the secret "
                                 "alone" % out)
        return lines[0].strip()

    def token_id(self, tenant, name):
        """The id of the token called name, from token list."""
        for line in self.ctl("token", "list", "--tenant", tenant).splitlines():
            f = line.split("\t")
            if len(f) >= 4 and f[3] == name:
                return f[0]
        raise AssertionError("token %r not in token list" % name)

    def dataset(self, tenant, name, data):
        """Imports bytes data as dataset tenant/name."""
        path = os.path.join(self.vardir, "import-%s-%s.csv" % (tenant, name))
        with open(path, "wb") as f:
            f.write(data)
        self.ctl("dataset", "import", "--tenant", tenant, name, path)

    def definition(self, tenant, name, dataset, columns=None, **extra):
        """Adds a definition; returns its id."""
        doc = {"tenant": tenant, "name": name,
               "source": {"dataset": dataset}, "formats": ["csv"],
               "approval": False, "retention": "7d", "rows_per_file": 0}
        if columns is not None:
            doc["columns"] = columns
        doc.update(extra)
        path = os.path.join(self.vardir, "def-%d.json" % time.time_ns())
        with open(path, "w") as f:
            json.dump(doc, f)
        out = self.ctl("definition", "add", path)
        lines = out.splitlines()
        if len(lines) != 1 or not lines[0].strip():
            raise AssertionError("definition add printed %r, not the id "
                                 "alone" % out)
        return lines[0].strip()

    # ---- HTTP ----

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def cert(self):
        """The stack's self-signed certificate (TLS), PEM."""
        return os.path.join(self.vardir, "tls", "cert.pem")

    def url(self, path):
        """The absolute URL of path on this stack, as a client names it."""
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def ssl_context(self):
        """A client context trusting the stack's certificate alone (read
        again when the file changed), with host name checks."""
        st = os.stat(self.cert)
        key = (st.st_ino, st.st_mtime_ns)
        if self._ssl is None or self._ssl[0] != key:
            self._ssl = (key, ssl.create_default_context(cafile=self.cert))
        return self._ssl[1]

    def connection(self, timeout=30):
        """An HTTP or HTTPS connection to 127.0.0.1:PORT, as the stack
        speaks."""
        if self.tls:
            return http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=timeout,
                context=self.ssl_context())
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, token=None, headers=None,
                timeout=30, raw=False):
        """One request to 127.0.0.1:PORT; path is sent as is.  raw: only
        the headers given (no Content-Type of its own)."""
        h = {}
        if token is not None:
            h["Authorization"] = "OAuth " + token
        if body is not None and method in ("POST", "PUT") and not raw:
            h["Content-Type"] = "application/xml"
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = self.connection(timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in h.items():
                conn.putheader(k, v)
            if body is not None or method in ("POST", "PUT"):
                conn.putheader("Content-Length", str(len(body or b"")))
            conn.endheaders()
            if body:
                conn.send(body)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.reason, r.getheaders(), data)
        finally:
            conn.close()


def stop_all():
    for s in list(_live_stacks):
        try:
            s.stop()
        except Exception as e:      # noqa: BLE001 - last-resort cleanup
            print("stopping %s: %s" % (s.vardir, e))


atexit.register(stop_all)


def _on_signal(signum, frame):
    stop_all()
    raise SystemExit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass


class StackTestCase(unittest.TestCase):
    """A test class sharing one stack: setUpClass starts it, seeds it with
    seed(), and tearDownClass stops it, whatever happened."""

    conf_extra = None
    stack = None

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(cls.__name__, cls.conf_extra,
                          auth=getattr(cls, "auth", None),
                          tls=getattr(cls, "tls", None))
        try:
            cls.stack.start()
            cls.seed()
        except BaseException:
            print("\n%s: stack setup failed; logs:\n%s" % (
                cls.__name__, cls.stack.log_tail()))
            cls.stack.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.stack is not None:
            cls.stack.stop()
            if cls.stack.sanitizer:
                raise AssertionError("sanitizer reports in the logs of %s:"
                                     "\n%s" % (cls.__name__, "\n".join(
                                         cls.stack.sanitizer)))

    @classmethod
    def seed(cls):
        pass

    # ---- helpers every test uses ----

    def uri_path(self, uri):
        """The path of an absolute URI the server gave, after checking it
        is absolute and points back at this server."""
        m = re.match(r"^(https?)://([^/]+)(/.*)$", uri or "")
        self.assertTrue(m, "not an absolute URI: %r" % uri)
        self.assertEqual(m.group(1), self.stack.scheme,
                         "URI %r: not the scheme the stack speaks" % uri)
        host = m.group(2)
        self.assertTrue(host.endswith(":%d" % self.stack.port),
                        "URI %r does not name this server's port %d" % (
                            uri, self.stack.port))
        return m.group(3)

    def assertConcurError(self, r, status):
        """r is an error answer with status and a Concur <Error> body."""
        self.assertEqual(r.status, status, r)
        ctype = r.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("application/xml") or
                        ctype.startswith("text/xml"),
                        "error Content-Type %r" % ctype)
        root = r.xml()
        self.assertEqual(root.tag, q("Error"), r)
        msg = root.find(q("Message"))
        st = root.find(q("Server-Time"))
        rid = root.find(q("Id"))
        self.assertIsNotNone(msg, r)
        self.assertTrue((msg.text or "").strip(), "empty <Message>")
        self.assertIsNotNone(st, r)
        self.assertRegex((st.text or "").strip(), RFC3339_Z)
        self.assertIsNotNone(rid, r)
        self.assertTrue((rid.text or "").strip(), "empty <Id>")
        return root

    def child_text(self, el, tag):
        c = el.find(q(tag))
        return None if c is None else (c.text or "").strip()

    def def_path(self, def_id):
        return "%s/%s" % (BASE, def_id)

    def post_job(self, def_id, token, body=None):
        return self.stack.request("POST", self.def_path(def_id) + "/job",
                                  body=body if body is not None else b"",
                                  token=token)

    def create_job(self, def_id, token, body=None):
        """POSTs a job, checks the 201 answer; returns (job uri, element)."""
        r = self.post_job(def_id, token, body)
        self.assertEqual(r.status, 201, r)
        job = r.xml()
        self.assertEqual(job.tag, q("job"), r)
        loc = r.header("Location")
        self.assertEqual(loc, self.child_text(job, "id"))
        return loc, job

    def wait_finished(self, job_uri, token, timeout=60, interval=0.2):
        """Polls the job's status until it has finished; returns the
        <job> element.  Fails after timeout seconds."""
        path = self.uri_path(job_uri) + "/status"
        deadline = time.time() + timeout
        while True:
            r = self.stack.request("GET", path, token=token)
            self.assertEqual(r.status, 200, r)
            job = r.xml()
            st = self.child_text(job, "status")
            if st in ("Completed", "Failed"):
                return job
            self.assertIn(st, ("Queued", "Running"), r)
            if time.time() > deadline:
                self.fail("job %s still %s after %ds" % (job_uri, st,
                                                          timeout))
            time.sleep(interval)

    def job_ids(self, def_id, token):
        """The job URIs the job list shows, in its order."""
        r = self.stack.request("GET", self.def_path(def_id) + "/job",
                               token=token)
        self.assertEqual(r.status, 200, r)
        root = r.xml()
        self.assertEqual(root.tag, q("jobs"), r)
        return [self.child_text(j, "id") for j in root.findall(q("job"))]
