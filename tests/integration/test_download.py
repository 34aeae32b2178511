"""
The download contract (SPEC section 7) on the server of the run, with the
program streaming the file (sendfile = off) and with the web server sending
it (sendfile = lighttpd | apache, X-Sendfile): Content-Type by format,
Content-Disposition with a safe name and RFC 6266 filename*, Content-Length,
a strong ETag, Last-Modified, Accept-Ranges, single ranges (closed, open,
suffix, clipped) -> 206, unsatisfiable -> 416, If-None-Match -> 304,
If-Range, HEAD, 410 for an expired file; the same in every dialect.
"""

import email.utils
import json
import os
import re
import subprocess
import time
import urllib.parse

from harness import BASE, SERVER
from jsonapi import (GRAPH, OSDI, JSONStackTestCase, csv_of, expected_rows,
                     expense_csv, expense_definition)

# A definition name with what a file name must not carry: a slash, quotes,
# a backslash, a semicolon, a control character, and non-ASCII letters.
UGLY_NAME = 'Frais "Q1"/Été\\Zoë; \x01 déjà'
CTYPES = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "json": "application/json",
    "xml": "application/xml",
}


def sendfile_mode():
    """The sendfile value matching the server of this run."""
    return "lighttpd" if SERVER == "lighttpd" else "apache"


class DownloadContract:
    """The tests; the classes below give them a stack each (a mixin, so
    that unittest does not run it on its own)."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="dl-user")
        s.ctl("dataset", "import", "--tenant", "acme", "expenses", "-",
              stdin=expense_csv())
        cls.def_id = cls.add_def(expense_definition("acme", UGLY_NAME))
        cls.jobs = {}

    @classmethod
    def add_def(cls, doc):
        path = "%s/def-%d.json" % (cls.stack.vardir, time.time_ns())
        with open(path, "w") as f:
            json.dump(doc, f)
        return cls.stack.ctl("definition", "add", path).strip()

    # ---- helpers ----

    def job(self, fmt="csv"):
        """A completed job of the definition in format fmt (one per
        format, made on first use)."""
        if fmt not in self.jobs:
            j = self.graph_create(self.user, self.def_id, fmt=fmt)
            j = self.wait_graph(self.user, j["id"])
            self.assertEqual(j["status"], "succeeded", j)
            self.jobs[fmt] = j["id"]
        return self.jobs[fmt]

    def urls(self, jid):
        """The file's URL and credential header in each dialect."""
        return [
            ("concur", "%s/%s/job/%s/file" % (BASE, self.def_id, jid),
             {"Authorization": "OAuth " + self.user}),
            ("graph", "%s/exportJobs/%s/content" % (GRAPH, jid),
             {"Authorization": "Bearer " + self.user}),
            ("osdi", "%s/exports/%s/download" % (OSDI, jid),
             {"OSDI-API-Token": self.user}),
        ]

    def get(self, headers=None, method="GET", fmt="csv", dialect="graph"):
        for name, url, cred in self.urls(self.job(fmt)):
            if name == dialect:
                h = dict(cred)
                h.update(headers or {})
                return self.stack.request(method, url, headers=h)
        raise AssertionError(dialect)

    def expected(self):
        return csv_of(expected_rows({}))

    def assertNoLeak(self, r):
        """Nothing of the offload reaches the client."""
        for h in ("X-Sendfile", "X-LIGHTTPD-send-file", "X-Sendfile2"):
            self.assertIsNone(r.header(h), "%s reached the client: %r" % (
                h, r.headers))

    # ---- the tests ----

    def test_full_get_has_every_header(self):
        r = self.get()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.expected())
        self.assertEqual(r.header("Content-Length"), str(len(r.body)))
        self.assertTrue(r.header("Content-Type").startswith(
            "text/csv; charset=utf-8"), r.header("Content-Type"))
        etag = r.header("ETag")
        self.assertRegex(etag or "", r'^"[^"]+"$', "not a strong ETag")
        lm = r.header("Last-Modified")
        self.assertIsNotNone(email.utils.parsedate_to_datetime(lm), lm)
        self.assertTrue(lm.endswith(" GMT"), lm)
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertNoLeak(r)

    def test_content_type_by_format(self):
        for fmt, ctype in CTYPES.items():
            with self.subTest(fmt=fmt):
                r = self.get(fmt=fmt)
                self.assertEqual(r.status, 200, r)
                self.assertTrue((r.header("Content-Type") or "").startswith(
                    ctype), r.header("Content-Type"))
                self.assertEqual(int(r.header("Content-Length")),
                                 len(r.body))
                self.assertTrue(r.body)
                disp = r.header("Content-Disposition") or ""
                self.assertIn('.%s"' % fmt, disp)

    def test_disposition_is_a_safe_attachment_name(self):
        disp = self.get().header("Content-Disposition") or ""
        m = re.match(r'^attachment; filename="([^"]*)"'
                     r"(; filename\*=UTF-8''([A-Za-z0-9%._~-]+))?$", disp)
        self.assertTrue(m, "Content-Disposition %r" % disp)
        plain = m.group(1)
        for bad in '/\\";':
            self.assertNotIn(bad, plain)
        self.assertTrue(all(0x20 <= ord(c) < 0x7f for c in plain), plain)
        self.assertTrue(plain.endswith(".csv"), plain)
        # non-ASCII name: RFC 6266 filename* carries it in UTF-8
        self.assertIsNotNone(m.group(3), "no filename* for a non-ASCII "
                             "name: %r" % disp)
        full = urllib.parse.unquote(m.group(3), encoding="utf-8",
                                    errors="strict")
        for c in full:
            self.assertNotIn(c, '/\\"', full)
            self.assertGreaterEqual(ord(c), 0x20, full)
        self.assertIn("Été", full)
        self.assertIn("Zoë", full)
        self.assertTrue(full.endswith(".csv"), full)

    def test_every_dialect_sends_the_same_file(self):
        jid = self.job()
        got = set()
        for name, url, cred in self.urls(jid):
            r = self.stack.request("GET", url, headers=cred)
            self.assertEqual(r.status, 200, (name, r))
            self.assertEqual(r.body, self.expected(), name)
            got.add((r.header("ETag"), r.header("Last-Modified"),
                     r.header("Content-Disposition")))
            self.assertNoLeak(r)
        self.assertEqual(len(got), 1, got)

    def check_range(self, rng, first, last):
        full = self.expected()
        r = self.get({"Range": rng})
        self.assertEqual(r.status, 206, (rng, r))
        self.assertEqual(r.header("Content-Range"), "bytes %d-%d/%d" % (
            first, last, len(full)), rng)
        self.assertEqual(r.body, full[first:last + 1], rng)
        self.assertEqual(r.header("Content-Length"), str(last - first + 1))
        self.assertIsNotNone(r.header("ETag"))
        self.assertNoLeak(r)

    def test_single_ranges(self):
        n = len(self.expected())
        for rng, first, last in (
                ("bytes=0-0", 0, 0),
                ("bytes=10-19", 10, 19),
                ("bytes=%d-" % (n - 5), n - 5, n - 1),     # open
                ("bytes=-7", n - 7, n - 1),                # suffix
                ("bytes=-%d" % (n + 100), 0, n - 1),       # suffix > size
                ("bytes=5-%d" % (n + 1000), 5, n - 1)):    # clipped
            with self.subTest(rng=rng):
                self.check_range(rng, first, last)

    def test_ranges_in_every_dialect(self):
        full = self.expected()
        for name, url, cred in self.urls(self.job()):
            h = dict(cred, Range="bytes=3-8")
            r = self.stack.request("GET", url, headers=h)
            self.assertEqual(r.status, 206, (name, r))
            self.assertEqual(r.body, full[3:9], name)

    def test_unsatisfiable_range_is_416(self):
        n = len(self.expected())
        for rng in ("bytes=%d-" % n, "bytes=%d-%d" % (n + 10, n + 20)):
            with self.subTest(rng=rng):
                r = self.get({"Range": rng})
                self.assertEqual(r.status, 416, (rng, r))
                self.assertEqual(r.header("Content-Range"), "bytes */%d" % n)

    def test_several_ranges_are_whole_or_multipart(self):
        """Several ranges: the program sends the whole file (200); a web
        server that answers Range itself may send multipart/byteranges
        (Apache) or one coalesced range covering them (lighttpd), both
        allowed by RFC 9110 section 14.2.  Whichever, it is correct."""
        full = self.expected()
        r = self.get({"Range": "bytes=0-3,10-12"})
        if r.status == 200:
            self.assertEqual(r.body, full)
            return
        self.assertEqual(r.status, 206, r)
        if r.header("Content-Type").startswith("multipart/byteranges"):
            self.assertIn(full[0:4], r.body)
            self.assertIn(full[10:13], r.body)
            return
        m = re.match(r"^bytes (\d+)-(\d+)/(\d+)$",
                     r.header("Content-Range") or "")
        self.assertTrue(m, r.headers)
        a, b, n = (int(x) for x in m.groups())
        self.assertEqual(n, len(full))
        self.assertTrue(a <= 0 and b >= 12, r.header("Content-Range"))
        self.assertEqual(r.body, full[a:b + 1])

    def test_malformed_range_is_ignored(self):
        for rng in ("bytes=abc", "bytes=5-2", "lines=1-2", "bytes=--3"):
            with self.subTest(rng=rng):
                r = self.get({"Range": rng})
                self.assertIn(r.status, (200, 416), (rng, r))
                if r.status == 200:
                    self.assertEqual(r.body, self.expected())

    def test_if_none_match_is_304(self):
        etag = self.get().header("ETag")
        for inm in (etag, '"nope", ' + etag, "*"):
            with self.subTest(inm=inm):
                r = self.get({"If-None-Match": inm})
                self.assertEqual(r.status, 304, (inm, r))
                self.assertEqual(r.body, b"")
                self.assertEqual(r.header("ETag"), etag)
                self.assertNoLeak(r)
        r = self.get({"If-None-Match": '"something-else"'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.expected())

    def test_if_range(self):
        first = self.get()
        etag, lm = first.header("ETag"), first.header("Last-Modified")
        full = self.expected()
        # the validator matches: the range.  Apache answering Range itself
        # (X-Sendfile) treats a date as a weak validator and sends the
        # whole file instead, which RFC 9110 section 13.1.5 allows.
        lenient = self.server_does_ranges and SERVER != "lighttpd"
        for ifr in (etag, lm):
            with self.subTest(ifr=ifr):
                r = self.get({"Range": "bytes=2-5", "If-Range": ifr})
                if ifr == lm and lenient and r.status == 200:
                    self.assertEqual(r.body, full)
                    continue
                self.assertEqual(r.status, 206, (ifr, r))
                self.assertEqual(r.body, full[2:6])
        # it does not (the file changed since): the whole file
        for ifr in ('"stale"', "Mon, 01 Jan 2001 00:00:00 GMT"):
            with self.subTest(ifr=ifr):
                r = self.get({"Range": "bytes=2-5", "If-Range": ifr})
                self.assertEqual(r.status, 200, (ifr, r))
                self.assertEqual(r.body, full)

    def test_head_has_the_headers_and_no_body(self):
        g = self.get()
        for dialect in ("concur", "graph", "osdi"):
            with self.subTest(dialect=dialect):
                r = self.get(method="HEAD", dialect=dialect)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, b"")
                self.assertEqual(r.header("Content-Length"),
                                 str(len(g.body)))
                for h in ("ETag", "Last-Modified", "Content-Type",
                          "Content-Disposition", "Accept-Ranges"):
                    self.assertEqual(r.header(h), g.header(h), h)
                self.assertNoLeak(r)

    def test_expired_file_is_410_everywhere(self):
        j = self.graph_create(self.user, self.def_id, {"currency": "CHF"})
        jid = self.wait_graph(self.user, j["id"])["id"]
        r = self.graph("DELETE", "exportJobs/" + jid, token=self.user)
        self.assertEqual(r.status, 204, r)
        for name, url, cred in self.urls(jid):
            with self.subTest(dialect=name):
                r = self.stack.request("GET", url, headers=cred)
                self.assertEqual(r.status, 410, (name, r))
                self.assertNoLeak(r)

    def test_expire_after_download(self):
        """OSDI's expiry on download (issue 16): a definition with
        expire_after_download expires its job once one whole 200 answer
        sent the file (through any dialect), not after a HEAD, a range
        or a 304; then every dialect answers 410 and OSDI says expired.
        The program sends such a file itself even with X-Sendfile
        configured: it must see the whole file go out."""
        def_id = self.add_def(expense_definition(
            "acme", "Once", expire_after_download=True))
        want = self.expected()
        for via in ("concur", "graph", "osdi"):
            with self.subTest(downloaded_through=via):
                j = self.graph_create(self.user, def_id)
                jid = self.wait_graph(self.user, j["id"])["id"]
                urls = {name: (url.replace(self.def_id, def_id), cred)
                        for name, url, cred in self.urls(jid)}
                url, cred = urls[via]
                r = self.stack.request("HEAD", url, headers=cred)
                self.assertEqual(r.status, 200, r)
                r = self.stack.request("GET", url, headers=dict(
                    cred, Range="bytes=0-9"))
                self.assertEqual((r.status, r.body), (206, want[:10]), r)
                r = self.stack.request("GET", url, headers=dict(
                    cred, Range="bytes=0-"))
                self.assertEqual((r.status, r.body), (206, want), r)
                r = self.stack.request("GET", url, headers=dict(
                    cred, **{"If-None-Match": r.header("ETag")}))
                self.assertEqual(r.status, 304, r)
                self.assertEqual(self.osdi_export(self.user, jid)["status"],
                                 "ready")
                r = self.stack.request("GET", url, headers=cred)
                self.assertEqual((r.status, r.body), (200, want), r)
                self.assertNoLeak(r)
                x = self.osdi_export(self.user, jid)
                self.assertEqual(x["status"], "expired", x)
                self.assertNotIn("download_link", x)
                g = self.graph_job(self.user, jid)
                self.assertEqual(g["statusDetail"], "the file expired once "
                                 "it was downloaded", g)
                self.assertNotIn("resourceLocation", g)
                for name, (u, c) in urls.items():
                    r = self.stack.request("GET", u, headers=c)
                    self.assertEqual(r.status, 410, (name, r))
                out = self.stack.ctl("job", "show", jid)
                self.assertIn("expired", out)
        # the definition without it keeps its file after a download
        r = self.get()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.get().status, 200)

    def run_files_cgi(self, method, extra=None):
        """files.fcgi as a CGI program with this stack's config: the raw
        answer (head, body)."""
        jid = self.job()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "QUARRY_CONF": self.stack.conf,
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": method,
            "REQUEST_URI": "%s/exportJobs/%s/content" % (GRAPH, jid),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.stack.port),
            "HTTP_HOST": "127.0.0.1:%d" % self.stack.port,
            "HTTP_AUTHORIZATION": "Bearer " + self.user,
        }
        env.update(extra or {})
        p = subprocess.run([os.path.join(self.stack.bin_dir, "cgi-bin",
                                         "files.fcgi")], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        head, _, body = p.stdout.partition(b"\r\n\r\n")
        return head.decode("latin-1"), body


class DownloadStreamedTest(DownloadContract, JSONStackTestCase):
    """sendfile = off: files.fcgi streams the bytes itself."""

    conf_extra = {"sendfile": "off"}
    server_does_ranges = False

    def test_program_streams_without_x_sendfile(self):
        head, body = self.run_files_cgi("GET")
        self.assertNotIn("X-Sendfile", head)
        self.assertIn("Content-Length: %d" % len(self.expected()), head)
        self.assertEqual(body, self.expected())


class DownloadSendfileTest(DownloadContract, JSONStackTestCase):
    """sendfile = lighttpd | apache (the one of this run's server): the
    program answers with X-Sendfile and the server sends the bytes."""

    conf_extra = {"sendfile": sendfile_mode()}
    server_does_ranges = True

    def test_program_answers_with_x_sendfile_only(self):
        head, body = self.run_files_cgi("GET")
        m = re.search(r"^X-Sendfile: (.+)$", head, re.M)
        self.assertTrue(m, head)
        path = m.group(1).strip()
        self.assertTrue(os.path.isabs(path), path)
        files = os.path.realpath(os.path.join(self.stack.vardir, "files"))
        self.assertTrue(path.startswith(files + "/"), (path, files))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), self.expected())
        self.assertNotIn("Content-Length", head)
        self.assertIn("ETag: ", head)
        self.assertIn("Content-Disposition: attachment", head)
        self.assertEqual(body, b"")

    def test_head_and_304_are_answered_by_the_program(self):
        head, body = self.run_files_cgi("HEAD")
        self.assertNotIn("X-Sendfile", head)
        self.assertIn("Content-Length: %d" % len(self.expected()), head)
        self.assertEqual(body, b"")
        etag = re.search(r"^ETag: (.+)$", head, re.M).group(1).strip()
        head, body = self.run_files_cgi("GET", {"HTTP_IF_NONE_MATCH": etag})
        self.assertTrue(head.startswith("Status: 304"), head)
        self.assertNotIn("X-Sendfile", head)
