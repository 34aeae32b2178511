"""
The four programs as plain CGI (SPEC section 1): the same binaries, run
directly with a CGI environment and the body on stdin, no web server in
between, against the store of a running stack (quarryd builds the files).
"""

import os
import re
import subprocess
import xml.etree.ElementTree as ET

from harness import BASE, SANITIZER_RE, StackTestCase, q

SMALL_CSV = b"k,v\r\na,1\r\nb,\"x,y\"\r\n"


class CGIResult:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.raw = out
        self.stderr = err
        sep = out.find(b"\r\n\r\n")
        seplen = 4
        lf = out.find(b"\n\n")
        if sep < 0 or (0 <= lf < sep):
            sep, seplen = lf, 2
        if sep < 0:
            self.head, self.body = out, b""
        else:
            self.head, self.body = out[:sep], out[sep + seplen:]
        self.headers = []
        for line in re.split(rb"\r?\n", self.head):
            if b":" in line:
                k, v = line.split(b":", 1)
                self.headers.append((k.decode("latin-1").strip(),
                                     v.decode("latin-1").strip()))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def status(self):
        """The code of the Status header (200 if there is none, as CGI
        says: RFC 3875 section 6.3.3)."""
        st = self.header("Status")
        return int(st.split()[0]) if st else 200

    def __repr__(self):
        return "<CGI rc=%d %r stderr=%r>" % (self.rc, self.raw[:600],
                                             self.stderr[-400:])


class CGIModeTest(StackTestCase):

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        cls.other = s.token("globex", "user", name="globex-user")
        s.dataset("acme", "small", SMALL_CSV)

    def cgi(self, prog, method, uri, token=None, body=b"", extra=None):
        """Runs cgi-bin/PROG as CGI for one request."""
        path = uri.split("?", 1)[0]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "quarry-integration",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.stack.port),
            "SERVER_ADDR": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "40000",
            "HTTP_HOST": "127.0.0.1:%d" % self.stack.port,
            "REQUEST_METHOD": method,
            "REQUEST_URI": uri,
            "SCRIPT_NAME": "/cgi-bin/" + prog,
            "SCRIPT_FILENAME": os.path.join(self.stack.bin_dir, "cgi-bin",
                                            prog),
            "PATH_INFO": path,
            "QUERY_STRING": uri.split("?", 1)[1] if "?" in uri else "",
            "QUARRY_CONF": self.stack.conf,
            "CONTENT_LENGTH": str(len(body)),
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        if body:
            env["CONTENT_TYPE"] = "application/xml"
        if token is not None:
            env["HTTP_AUTHORIZATION"] = "OAuth " + token
        env.update(extra or {})
        p = subprocess.run([env["SCRIPT_FILENAME"]], input=body, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.stack.vardir, timeout=60)
        res = CGIResult(p.returncode, p.stdout, p.stderr)
        self.assertEqual(p.returncode, 0, res)
        self.assertNotRegex(p.stderr.decode("utf-8", "replace"),
                            SANITIZER_RE, "sanitizer report from %s" % prog)
        return res

    def test_definitions_status_jobs_and_files_as_cgi(self):
        user = self.stack.token("cgico", "user", name="cgico")
        self.stack.dataset("cgico", "small", SMALL_CSV)
        def_id = self.stack.definition("cgico", "CGI", "small", ["v", "k"])
        d = "%s/%s" % (BASE, def_id)

        r = self.cgi("definitions.fcgi", "GET", BASE + "/", user)
        self.assertRegex(r.head.decode("latin-1"),
                         r"(?m)^Status: 200 OK\r?$")
        self.assertTrue((r.header("Content-Type") or "").startswith(
            "application/xml"), r)
        root = ET.fromstring(r.body)
        self.assertEqual(root.tag, q("definitions"))
        self.assertEqual(len(root.findall(q("definition"))), 1)

        r = self.cgi("jobs.fcgi", "POST", d + "/job", user,
                     body=b"<definition><id>http://127.0.0.1:%d%s</id>"
                     b"</definition>" % (self.stack.port, d.encode()))
        self.assertEqual(r.status, 201, r)
        self.assertRegex(r.head.decode("latin-1"),
                         r"(?m)^Status: 201 Created\r?$")
        job = ET.fromstring(r.body)
        self.assertEqual(job.tag, q("job"))
        loc = r.header("Location")
        self.assertEqual(loc, self.child_text(job, "id"))
        jp = self.uri_path(loc)
        self.assertEqual(self.child_text(job, "status"), "Queued")

        # the same job is visible over HTTP, and quarryd builds it
        done = self.wait_finished(loc, user)
        self.assertEqual(self.child_text(done, "status"), "Completed")

        r = self.cgi("status.fcgi", "GET", jp + "/status", user)
        self.assertRegex(r.head.decode("latin-1"),
                         r"(?m)^Status: 200 OK\r?$")
        st = ET.fromstring(r.body)
        self.assertEqual(self.child_text(st, "status"), "Completed")
        self.assertEqual(self.child_text(st, "id"), loc)
        self.assertIsNotNone(st.find(q("file-link")))

        r = self.cgi("files.fcgi", "GET", jp + "/file", user)
        self.assertEqual(r.status, 200, r)
        self.assertTrue((r.header("Content-Type") or "").startswith(
            "text/csv"), r)
        self.assertEqual(r.body, b"v,k\r\n1,a\r\n\"x,y\",b\r\n")

        r = self.cgi("jobs.fcgi", "GET", d + "/job", user)
        self.assertEqual(r.status, 200, r)
        ids = [self.child_text(j, "id")
               for j in ET.fromstring(r.body).findall(q("job"))]
        self.assertEqual(ids, [loc])

    def test_cgi_errors(self):
        def_id = self.stack.definition("acme", "CGI errors", "small", ["k"])
        d = "%s/%s" % (BASE, def_id)
        cases = [
            ("definitions.fcgi", "GET", BASE + "/", None, b"", 401),
            ("definitions.fcgi", "GET", BASE + "/", "bogus", b"", 403),
            ("definitions.fcgi", "GET", d, self.other, b"", 404),
            ("definitions.fcgi", "DELETE", BASE + "/", self.user, b"", 405),
            ("status.fcgi", "GET", d + "/job/%s/status" % ("A" * 22),
             self.user, b"", 404),
            ("status.fcgi", "GET", d + "/job/../../status", self.user, b"",
             404),
            ("files.fcgi", "GET", d + "/job/%s/file" % ("A" * 22),
             self.user, b"", 404),
            ("jobs.fcgi", "POST", d + "/job", self.user, b"<definition>",
             400),
            ("jobs.fcgi", "POST", d + "/job", self.user,
             b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
             b"<definition><id>&e;</id></definition>", 400),
        ]
        for prog, method, uri, tok, body, code in cases:
            with self.subTest(prog=prog, method=method, uri=uri[-40:],
                              code=code):
                r = self.cgi(prog, method, uri, tok, body)
                self.assertEqual(r.status, code, r)
                self.assertRegex(r.head.decode("latin-1"),
                                 r"(?m)^Status: %d [A-Z]" % code)
                root = ET.fromstring(r.body)
                self.assertEqual(root.tag, q("Error"))
                if code == 405:
                    self.assertIn("GET", r.header("Allow") or "")
        self.assertEqual(self.job_ids(def_id, self.user), [])

    def test_cgi_body_longer_than_max_body_is_413(self):
        def_id = self.stack.definition("acme", "CGI big", "small", ["k"])
        body = b"<definition>" + b" " * (1024 * 1024) + b"</definition>"
        r = self.cgi("jobs.fcgi", "POST", "%s/%s/job" % (BASE, def_id),
                     self.user, body)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(self.job_ids(def_id, self.user), [])

    def test_cgi_short_body_is_refused_not_waited_for(self):
        """CONTENT_LENGTH larger than the body that arrives: the program
        must not hang or create a job (it reads EOF)."""
        def_id = self.stack.definition("acme", "CGI short", "small", ["k"])
        r = self.cgi("jobs.fcgi", "POST", "%s/%s/job" % (BASE, def_id),
                     self.user, b"<definition>",
                     extra={"CONTENT_LENGTH": "1000"})
        self.assertIn(r.status, (400, 413), r)
        self.assertEqual(self.job_ids(def_id, self.user), [])
