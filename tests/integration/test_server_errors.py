"""
The errors the web server answers itself, not a Quarry program (issue 11,
item 5; docs/http.md "The web server's own errors"): under an API's
mount they come in that API's error format, with its Content-Type, from
the documents in www/errors/; elsewhere (the page) the server's own page
stays.  Each server is made to answer an error itself in the way its
shipped configuration allows:

- lighttpd: a body over server.max-request-size (413);
- Apache with mod_fcgid: a body over FcgidMaxRequestLen (mod_fcgid's 500);
- Apache with mod_proxy_fcgi: a program that is down (mod_proxy's 503);
- Apache running CGI from .htaccess: a body over the host's
  LimitRequestBody (413).

The documents are compared byte for byte with the files the server was
given, and parsed as what their dialect says they are.
"""

import http.client
import json
import os
import signal
import time
import unittest
import xml.etree.ElementTree as ET

from harness import REPO, SERVER, StackTestCase

LIMIT = 16 * 1024 * 1024        # the shipped configurations' body limit

# dialect name, a URL under its mount, its error Content-Type
MOUNTS = [
    ("concur", "/api/expense/extract/v1.0/nodef/job", "application/xml"),
    ("graph", "/api/v1/exportJobs", "application/json"),
    ("graph", "/api/v1/me", "application/json"),      # definitions.fcgi
    ("osdi", "/osdi/v1/exports", "application/hal+json"),
    ("graph", "/beta/employeeExperience/goals/exportJobs", "application/json"),
]

# The one-job URLs of each dialect, served by the status program.
STATUS_URLS = [
    ("concur", "/api/expense/extract/v1.0/d/job/j/status",
     "application/xml"),
    ("graph", "/api/v1/exportJobs/abc", "application/json"),
    ("osdi", "/osdi/v1/exports/abc", "application/hal+json"),
    ("graph", "/v1.0/employeeexperience/goals/exportJobs/abc",
     "application/json"),
]


def document(dialect, status):
    with open(os.path.join(REPO, "www", "errors", dialect,
                           "%d.html" % status), "rb") as f:
        return f.read()


class ServerErrorTest(StackTestCase):

    @classmethod
    def seed(cls):
        cls.token = cls.stack.token("acme", "user", name="acme-user")

    def post_over_limit(self, path, send_body):
        """POSTs a body one byte over LIMIT to path with a valid token;
        without send_body only the headers go (the server refuses on the
        Content-Length).  Returns (status, content type, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port,
                                          timeout=60)
        try:
            conn.putrequest("POST", path, skip_accept_encoding=True)
            conn.putheader("Authorization", "Bearer " + self.token)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(LIMIT + 1))
            conn.endheaders()
            if send_body:
                chunk = b" " * 65536
                left = LIMIT + 1
                try:
                    while left > 0:
                        n = min(left, len(chunk))
                        conn.send(chunk[:n])
                        left -= n
                except (BrokenPipeError, ConnectionResetError):
                    pass        # refused before the end: the answer counts
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type") or "", r.read()
        finally:
            conn.close()

    def assertDialectError(self, dialect, ctype, status, got):
        got_status, got_ctype, body = got
        self.assertEqual(got_status, status, body[:300])
        self.assertEqual(got_ctype.split(";")[0].strip(), ctype)
        self.assertEqual(body, document(dialect, status))
        # and it is what its dialect says it is
        if dialect == "concur":
            root = ET.fromstring(body)
            self.assertTrue(root.tag.endswith("Error"))
            self.assertTrue(root.find("{*}Message").text)
        elif dialect == "graph":
            self.assertTrue(json.loads(body)["error"]["message"])
        else:
            err = json.loads(body)["osdi:error"]
            self.assertEqual(err["response_code"], status)

    @unittest.skipIf(SERVER not in ("lighttpd", "cgi"),
                     "behind %s the body limit is not the server's own" %
                     SERVER)
    def test_body_over_the_server_limit(self):
        for dialect, path, ctype in MOUNTS:
            with self.subTest(dialect=dialect):
                self.assertDialectError(
                    dialect, ctype, 413,
                    self.post_over_limit(path, send_body=False))

    @unittest.skipIf(SERVER != "apache", "mod_fcgid only behind apache")
    def test_body_over_mod_fcgid_limit(self):
        for dialect, path, ctype in MOUNTS:
            with self.subTest(dialect=dialect):
                self.assertDialectError(
                    dialect, ctype, 500,
                    self.post_over_limit(path, send_body=True))

    @unittest.skipIf(SERVER != "proxy", "only behind mod_proxy_fcgi does "
                     "a stopped program stay down")
    def test_program_down(self):
        s = self.stack
        # spawn-fcgi -F 2: the pid file lists every process of the program
        with open(os.path.join(s.vardir, "run", "status.fcgi.pid")) as f:
            pids = [int(p) for p in f.read().split()]
        self.assertTrue(pids, "no status.fcgi pids")
        try:
            for pid in pids:
                os.kill(pid, signal.SIGTERM)
            deadline = time.time() + 20
            while any(s._alive(p) for p in pids) and \
                    time.time() < deadline:
                time.sleep(0.05)
            self.assertFalse(any(s._alive(p) for p in pids),
                             "status.fcgi did not stop")
            for dialect, path, ctype in STATUS_URLS:
                with self.subTest(dialect=dialect):
                    r = s.request("GET", path)
                    self.assertDialectError(
                        dialect, ctype, 503,
                        (r.status, r.header("Content-Type") or "", r.body))
        finally:
            # stack.sh starts the programs with the web server
            s.stop_services()
            s.start()
        # the program answers again, with its own error body
        r = s.request("GET", "/api/v1/exportJobs/abc",
                      headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(r.status, 404, r)
        self.assertIn(b"request-id", r.body)

    def test_the_page_keeps_the_server_pages(self):
        """Outside the API mounts nothing changes: a missing page is the
        server's own HTML 404, not an API's error document."""
        r = self.stack.request("GET", "/no-such-page.html")
        self.assertEqual(r.status, 404, r)
        self.assertTrue((r.header("Content-Type") or "").startswith(
            "text/html"), r)


if __name__ == "__main__":
    unittest.main()
