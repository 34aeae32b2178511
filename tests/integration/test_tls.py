"""
HTTPS (issue 15, item 2; docs/http.md, "Absolute URLs: HTTPS and
proxies").  These run only in an HTTPS run (run.py --tls, QUARRY_TLS=1;
make test runs a selection so, tests/run-all.sh TLS_TESTS), and are
skipped otherwise.

- Behind TLS (make start TLS=1, a self-signed certificate as the client's
  only CA): a Graph job created, paged through with @odata.nextLink and
  downloaded through resourceLocation and its signed link; a Concur job
  through its file-link; OSDI's links; with Range and ETag; and every
  absolute URL of every answer, in bodies and Location, on
  https://127.0.0.1:PORT.  TLS 1.1 and a CBC suite are refused.
- Microsoft's own Graph JavaScript client (@microsoft/microsoft-graph-
  client, tests/graphjs/) lists a user's export jobs two at a time and
  follows every @odata.nextLink with PageIterator; pointed at plain HTTP
  it sends no token.
- trusted_proxies, over plain HTTP: X-Forwarded-Proto and -Host from
  127.0.0.1 make the URLs https on the forwarded host when 127.0.0.1 is
  trusted, and change nothing on a stack that trusts nobody (the
  default); bad values are ignored; a bad entry stops the programs with
  an error naming it.
"""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import unittest
import urllib.parse
import warnings

import harness
from harness import BASE
from jsonapi import (GRAPH, OSDI, JSONStackTestCase, body_json, csv_of,
                     expected_rows, expense_csv, expense_definition)

REPO = harness.REPO
GRAPHJS = os.path.join(REPO, "tests", "graphjs")
# The fixed URLs answers carry that are no address of the server: the
# Concur namespace, XML Schema's, OSDI's curies template.
FIXED = ("http://www.concursolutions.com/", "http://www.w3.org/",
         "https://opensupporter.github.io/")
URL_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]*")

only_https = unittest.skipUnless(
    harness.TLS, "an HTTPS run's (run.py --tls, QUARRY_TLS=1)")


def absolute_urls(r):
    """Every absolute URL in an answer's headers and body (JSON's "\\/"
    read as "/"), the fixed ones aside."""
    text = "\n".join("%s: %s" % h for h in r.headers) + "\n" + \
        r.body.decode("utf-8", "replace").replace("\\/", "/")
    return [u for u in URL_RE.findall(text) if not u.startswith(FIXED)]


class URLChecks:
    """Checks that an answer's absolute URLs all name one base."""

    def assertOnBase(self, r, base, at_least=1):
        urls = absolute_urls(r)
        self.assertGreaterEqual(len(urls), at_least, r)
        for u in urls:
            self.assertTrue(u.startswith(base + "/"),
                            "%s is not on %s in %r" % (u, base, r))
        return urls


@only_https
class HTTPSTest(URLChecks, JSONStackTestCase):
    """A stack behind TLS: every dialect's jobs, files and links."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.base = "https://127.0.0.1:%d" % s.port
        cls.user = s.token("acme", "user", name="tls-user")
        cls.admin = s.token("acme", "admin", name="tls-admin")
        s.dataset("acme", "expenses", expense_csv())
        cls.def_id = cls.add_def("TLS")
        cls.graph_def = cls.add_def("TLS Graph")

    @classmethod
    def add_def(cls, name):
        path = os.path.join(cls.stack.vardir, "def-%d.json" % time.time_ns())
        with open(path, "w") as f:
            json.dump(expense_definition("acme", name), f)
        return cls.stack.ctl("definition", "add", path).strip()

    def test_the_stack_speaks_tls_only_with_its_certificate(self):
        self.assertTrue(self.stack.tls)
        self.assertEqual(self.stack.scheme, "https")
        r = self.graph("GET", "me", token=self.user)
        self.assertEqual(r.status, 200, r)
        # the certificate names 127.0.0.1 and localhost, and nothing else
        # vouches for it
        ctx = ssl.create_default_context()
        with self.assertRaises(ssl.SSLCertVerificationError):
            c = http.client.HTTPSConnection("127.0.0.1", self.stack.port,
                                            timeout=10, context=ctx)
            try:
                c.request("GET", "/")
            finally:
                c.close()

    def handshake(self, version, ciphers=None):
        """Tries a TLS handshake capped at version (and ciphers); returns
        the negotiated (version, cipher) or raises ssl.SSLError."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.stack.cert)
        with warnings.catch_warnings():     # TLS 1.0 and 1.1: deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            ctx.maximum_version = version
        # let this client offer what the server must refuse
        ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
        with socket.create_connection(("127.0.0.1", self.stack.port),
                                      10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                return tls.version(), tls.cipher()[0]

    def test_old_protocols_and_weak_suites_are_refused(self):
        v, _ = self.handshake(ssl.TLSVersion.MAXIMUM_SUPPORTED)
        self.assertEqual(v, "TLSv1.3")
        v, c = self.handshake(ssl.TLSVersion.TLSv1_2)
        self.assertEqual(v, "TLSv1.2")
        self.assertRegex(c, r"^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20)", c)
        # (a client that offers them, as this one, gets them from a server
        # that allows them: the refusals are the server's)
        for version, ciphers in (
                (ssl.TLSVersion.TLSv1_1, None),
                (ssl.TLSVersion.TLSv1, None),
                (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA"),  # CBC
                (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES256-SHA384")):
            with self.subTest(version=version, ciphers=ciphers):
                with self.assertRaises((ssl.SSLError, ConnectionError)):
                    self.handshake(version, ciphers)

    def test_graph_job_pages_content_and_link(self):
        made = []
        for cur in ("EUR", "USD", "CHF"):
            r = self.graph("POST", "exportJobs", {
                "definitionId": self.graph_def,
                "parameters": {"currency": cur}}, self.user)
            self.assertEqual(r.status, 201, r)
            self.assertOnBase(r, self.base)     # Location
            made.append(body_json(r)["id"])
        jobs = {i: self.wait_graph(self.user, i) for i in made}
        # the list, a job a page, through every @odata.nextLink
        seen, pages = [], 0
        path = GRAPH + "/exportJobs?$top=1&$filter=" + urllib.parse.quote(
            "definitionId eq '%s'" % self.graph_def)
        while path is not None:
            r = self.graph("GET", path, token=self.user)
            self.assertEqual(r.status, 200, r)
            self.assertOnBase(r, self.base, at_least=0)
            o = body_json(r)
            seen.extend(j["id"] for j in o["value"])
            nl = o.get("@odata.nextLink")
            if nl is not None:
                self.assertTrue(nl.startswith(self.base + GRAPH + "/"), nl)
            path = self.path_of(nl) if nl else None
            pages += 1
            self.assertLess(pages, 10)
        self.assertEqual(seen, made[::-1])
        self.assertEqual(pages, 3)
        # a succeeded job: resourceLocation and the signed link
        j = jobs[made[0]]
        self.assertEqual(j["status"], "succeeded", j)
        r = self.graph("GET", "exportJobs/" + made[0], token=self.user)
        urls = self.assertOnBase(r, self.base, at_least=2)
        self.assertIn(j["resourceLocation"], urls)
        self.assertIn(j["@microsoft.graph.downloadUrl"], urls)
        want = csv_of(expected_rows({"currency": "EUR"}))
        content = self.path_of(j["resourceLocation"])
        r = self.graph("GET", content, token=self.user)
        self.assertEqual((r.status, r.body), (200, want), r)
        etag = r.header("ETag")
        self.assertTrue(etag, r)
        r = self.graph("GET", content, token=self.user,
                       headers={"Range": "bytes=5-14"})
        self.assertEqual((r.status, r.body), (206, want[5:15]), r)
        r = self.graph("GET", content, token=self.user,
                       headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        link = self.path_of(j["@microsoft.graph.downloadUrl"])
        r = self.stack.request("GET", link)             # no credential
        self.assertEqual((r.status, r.body), (200, want), r)
        r = self.stack.request("GET", link, headers={"Range": "bytes=-7"})
        self.assertEqual((r.status, r.body), (206, want[-7:]), r)

    def test_concur_job_and_its_file_link(self):
        r = self.post_job(self.def_id, self.user, b"")
        self.assertEqual(r.status, 201, r)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(self.base + BASE + "/"), loc)
        self.assertOnBase(r, self.base, at_least=3)     # Location, id, link
        job = self.wait_finished(loc, self.user)
        self.assertEqual(self.child_text(job, "status"), "Completed")
        r = self.stack.request("GET", self.uri_path(loc) + "/status",
                               token=self.user)
        urls = self.assertOnBase(r, self.base, at_least=3)
        link = self.child_text(r.xml(), "file-link")
        self.assertIn(link, urls)
        want = csv_of(expected_rows({}))
        r = self.stack.request("GET", self.uri_path(link), token=self.user)
        self.assertEqual((r.status, r.body), (200, want), r)
        r = self.stack.request("GET", self.uri_path(link), token=self.user,
                               headers={"Range": "bytes=0-3",
                                        "If-Range": r.header("ETag")})
        self.assertEqual((r.status, r.body), (206, want[:4]), r)
        # the definitions and the job list too
        r = self.stack.request("GET", BASE + "/", token=self.user)
        self.assertOnBase(r, self.base, at_least=2)
        r = self.stack.request("GET", self.def_path(self.def_id) + "/job",
                               token=self.user)
        self.assertOnBase(r, self.base, at_least=2)

    def test_osdi_links(self):
        r = self.osdi("POST", "exports", {
            "_links": {"osdi:resource": {
                "href": self.base + GRAPH + "/definitions/" + self.def_id}},
            "parameters": {"currency": "GBP"}}, self.user)
        self.assertEqual(r.status, 201, r)
        self.assertOnBase(r, self.base, at_least=3)
        jid = body_json(r)["identifiers"][0].split(":", 1)[1]
        x, _ = self.wait_osdi(self.user, jid)
        self.assertEqual(x["status"], "ready", x)
        r = self.osdi("GET", "exports/" + jid, token=self.user)
        urls = self.assertOnBase(r, self.base, at_least=4)
        self.assertIn(x["download_link"], urls)
        r = self.stack.request("GET", self.path_of(x["download_link"]),
                               headers={"OSDI-API-Token": self.user})
        self.assertEqual(r.status, 200, r)
        r = self.osdi("GET", "exports?per_page=1&page=1", token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertOnBase(r, self.base, at_least=3)
        r = self.osdi("GET", OSDI + "/", token=self.user)
        self.assertOnBase(r, self.base, at_least=2)


@only_https
class GraphJSClientTest(JSONStackTestCase):
    """Microsoft's Graph JavaScript client against the HTTPS stack."""

    @classmethod
    def seed(cls):
        s = cls.stack
        install_graphjs()
        cls.user = s.token("acme", "user", name="graphjs")
        other = s.token("acme", "user", name="someone-else")
        s.dataset("acme", "expenses", expense_csv())
        path = os.path.join(s.vardir, "graphjs-def.json")
        with open(path, "w") as f:
            json.dump(expense_definition("acme", "GraphJS"), f)
        cls.def_id = s.ctl("definition", "add", path).strip()
        cls.mine = []
        for i in range(5):
            cls.mine.append(cls.create(cls.user, str(i)))
        cls.create(other, "9")          # not the user's: not listed

    @classmethod
    def create(cls, token, minimum):
        r = cls.stack.request("POST", GRAPH + "/exportJobs", body=json.dumps(
            {"definitionId": cls.def_id, "parameters": {"min": minimum}}),
            headers={"Authorization": "Bearer " + token,
                     "Content-Type": "application/json"})
        if r.status != 201:
            raise AssertionError("create: %r" % r)
        return json.loads(r.body)["id"]

    def run_client(self):
        env = dict(os.environ)
        env.update({
            "QUARRY_BASE": "https://127.0.0.1:%d/api/" % self.stack.port,
            "QUARRY_TOKEN": self.user,
            "NODE_EXTRA_CA_CERTS": self.stack.cert,
        })
        env.pop("NODE_TLS_REJECT_UNAUTHORIZED", None)
        p = subprocess.run([node(), os.path.join(GRAPHJS, "list_jobs.js")],
                           cwd=GRAPHJS, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return json.loads(p.stdout)

    def test_the_graph_client_pages_through_every_job(self):
        out = self.run_client()
        https = out["https"]
        self.assertNotIn("failed", https, https)
        # every job of the user, newest first, each once; two a page
        self.assertEqual(https["ids"], self.mine[::-1], https)
        self.assertEqual(https["firstPage"], 2, https)
        reqs = https["requests"]
        self.assertEqual(len(reqs), 3, reqs)    # 2 + 2 + 1
        base = "https://127.0.0.1:%d/api/v1/exportJobs?" % self.stack.port
        for rq in reqs:
            self.assertTrue(rq["url"].startswith(base), rq)
            self.assertTrue(rq["authorization"], rq)
        self.assertIn("$top=2", reqs[0]["url"])
        self.assertIn("$skiptoken=", reqs[1]["url"])
        self.assertEqual(https["tokenCalls"], len(reqs), https)

    def test_the_graph_client_sends_no_token_over_plain_http(self):
        plain = self.run_client()["http"]
        # it made the request, without Authorization and without asking
        # its authProvider, and reports the listener's 401
        self.assertEqual(len(plain["received"]), 1, plain)
        self.assertIsNone(plain["received"][0]["authorization"], plain)
        self.assertEqual(plain["tokenCalls"], 0, plain)
        self.assertFalse(plain["requests"][0]["authorization"], plain)
        self.assertEqual(plain["error"]["statusCode"], 401, plain)


def node():
    n = shutil.which("node") or shutil.which("nodejs")
    if n is None:
        raise AssertionError("node is not installed (make deps installs "
                             "npm, which brings it)")
    return n


def install_graphjs():
    """npm ci in tests/graphjs when its node_modules is missing (pinned
    by package-lock.json)."""
    if os.path.isdir(os.path.join(GRAPHJS, "node_modules", "@microsoft",
                                  "microsoft-graph-client")):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise AssertionError("npm is not installed (make deps installs it)")
    p = subprocess.run([npm, "ci", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=GRAPHJS,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    if p.returncode != 0:
        raise AssertionError("npm ci in tests/graphjs failed:\n%s" %
                             p.stdout.decode("utf-8", "replace"))


class ForwardedChecks(URLChecks):
    """Requests as a proxy on 127.0.0.1 would send them."""

    HEADERS = {"X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "quarry.example:8443"}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="proxied")
        s.dataset("acme", "expenses", expense_csv())
        path = os.path.join(s.vardir, "fwd-def.json")
        with open(path, "w") as f:
            json.dump(expense_definition("acme", "Forwarded"), f)
        cls.def_id = s.ctl("definition", "add", path).strip()
        cls.n = 0
        # a job beforehand, so that a list of one a page has a next page
        r = s.request("POST", GRAPH + "/exportJobs", body=json.dumps({
            "definitionId": cls.def_id, "parameters": {"min": "0"}}),
            headers={"Authorization": "Bearer " + cls.user,
                     "Content-Type": "application/json"})
        if r.status != 201:
            raise AssertionError("create: %r" % r)

    def own(self):
        return "http://127.0.0.1:%d" % self.stack.port

    def urls_with(self, headers):
        """The base the answers use when a request carries headers:
        checked over Graph's create (Location), list (nextLink) and
        Concur's definitions."""
        type(self).n += 1
        h = {"Authorization": "Bearer " + self.user}
        h.update(headers)
        r = self.graph("POST", "exportJobs", {
            "definitionId": self.def_id,
            "parameters": {"min": str(self.n)}}, headers=h)
        self.assertEqual(r.status, 201, r)
        base = re.match(r"^[a-z]+://[^/]+", r.header("Location")).group(0)
        lst = self.graph("GET", "exportJobs?$top=1", headers=h)
        self.assertIn("@odata.nextLink", body_json(lst))
        for rr in (lst,
                   self.stack.request("GET", BASE + "/", headers={
                       "Authorization": "OAuth " + self.user,
                       **headers})):
            self.assertEqual(rr.status, 200, rr)
            self.assertOnBase(rr, base)
        return base


@only_https
class TrustedProxyTest(ForwardedChecks, JSONStackTestCase):
    """Plain HTTP with trusted_proxies naming 127.0.0.1."""

    tls = False
    conf_extra = {"trusted_proxies": "10.0.0.0/8, 127.0.0.1 ::1"}

    def test_a_trusted_proxy_sets_scheme_and_host(self):
        self.assertEqual(self.urls_with(self.HEADERS),
                         "https://quarry.example:8443")
        self.assertEqual(self.urls_with({"X-Forwarded-Proto": "https"}),
                         "https://127.0.0.1:%d" % self.stack.port)
        self.assertEqual(self.urls_with({
            "X-Forwarded-Host": "quarry.example"}), "http://quarry.example")
        # lists: the first value
        self.assertEqual(self.urls_with({
            "X-Forwarded-Proto": "https, http",
            "X-Forwarded-Host": "a.example, b.example"}),
            "https://a.example")
        self.assertEqual(self.urls_with({}), self.own())

    def test_bad_values_are_ignored(self):
        self.assertEqual(self.urls_with({
            "X-Forwarded-Proto": "ftp",
            "X-Forwarded-Host": "evil.example/x?"}), self.own())
        self.assertEqual(self.urls_with({
            "X-Forwarded-Proto": "https://",
            "X-Forwarded-Host": "user@evil.example"}), self.own())
        # one bad, the other still applies
        self.assertEqual(self.urls_with({
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil example"}),
            "https://127.0.0.1:%d" % self.stack.port)


@only_https
class UntrustedProxyTest(ForwardedChecks, JSONStackTestCase):
    """Plain HTTP with the default configuration: nobody is trusted."""

    tls = False

    def test_forwarded_headers_change_nothing(self):
        self.assertEqual(self.urls_with(self.HEADERS), self.own())
        self.assertEqual(self.urls_with({
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "127.0.0.1"}), self.own())

    def test_a_bad_entry_is_an_error_naming_it(self):
        with open(self.stack.conf) as f:
            text = f.read()
        bad = os.path.join(self.stack.vardir, "bad.conf")
        with open(bad, "w") as f:
            f.write(text + "trusted_proxies = 127.0.0.1 10.0.0.1/8\n")
        p = subprocess.run([os.path.join(self.stack.bin_dir, "bin",
                                         "quarryctl"), "-c", bad, "job",
                            "list"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        err = p.stderr.decode()
        n = len(text.splitlines()) + 1
        self.assertIn("bad.conf:%d: trusted_proxies: '10.0.0.1/8' has bits "
                      "set past its prefix (the network is 10.0.0.0/8)" % n,
                      err)
