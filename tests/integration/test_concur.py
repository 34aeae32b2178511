"""
The Concur dialect end to end (SPEC sections 4 and 11) against a real
lighttpd + quarryd stack: what a client of the API would check.
"""

import os
import random
import re
import socket
import threading
import time

from harness import (BASE, NS, RFC3339_Z, StackTestCase, parse_rfc3339, q)
import csvdata

ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

SMALL_CSV = b"k,v\r\na,1\r\nb,2\r\n"


def random_id():
    """A well-formed ID that names nothing."""
    return "".join(random.choice(B64URL) for _ in range(22))


def last_segment(uri):
    return uri.rstrip("/").rsplit("/", 1)[-1]


def passwd_marker():
    """A line of /etc/passwd that must never appear in an answer."""
    try:
        with open("/etc/passwd") as f:
            return f.readline().strip()
    except OSError:
        return "root:x:0:0"


class ConcurAPITest(StackTestCase):
    """Definitions, jobs, status, files, job list, 404 and 405."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        cls.admin = s.token("acme", "admin", name="acme-admin")
        cls.other = s.token("globex", "user", name="globex-user")
        s.dataset("acme", "rt", csvdata.csv_source())
        s.dataset("acme", "small", SMALL_CSV)
        s.dataset("globex", "small", SMALL_CSV)

    def small_def(self, name="Small", tenant="acme"):
        return self.stack.definition(tenant, name, "small", ["k", "v"])

    def completed_job(self, def_id, token=None):
        """Creates a job and waits for it; returns (uri, final <job>)."""
        token = token or self.user
        uri, _ = self.create_job(def_id, token)
        job = self.wait_finished(uri, token)
        self.assertEqual(self.child_text(job, "status"), "Completed")
        return uri, job

    # ---- definitions ----

    def test_definitions_list_shows_one_entry_per_definition_of_the_tenant(self):
        s = self.stack
        tok = s.token("listco", "user", name="listco")
        s.dataset("listco", "small", SMALL_CSV)
        s.dataset("listother", "small", SMALL_CSV)
        mine = {s.definition("listco", "List A", "small"): "List A",
                s.definition("listco", "List B & <b>", "small"): "List B & <b>"}
        s.definition("listother", "Not mine", "small")
        r = s.request("GET", BASE + "/", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertTrue((r.header("Content-Type") or "").startswith(
            "application/xml"), r.header("Content-Type"))
        root = r.xml()
        self.assertEqual(root.tag, q("definitions"))
        seen = {}
        for d in root.findall(q("definition")):
            uri = self.child_text(d, "id")
            path = self.uri_path(uri)
            def_id = last_segment(path)
            self.assertEqual(path, "%s/%s" % (BASE, def_id))
            link = self.child_text(d, "job-link")
            self.assertTrue(link.endswith("/job"), link)
            self.assertEqual(self.uri_path(link), path + "/job")
            seen[def_id] = self.child_text(d, "name")
        self.assertEqual(seen, mine)
        # the list without the trailing slash is the same resource
        r2 = s.request("GET", BASE, token=tok)
        self.assertIn(r2.status, (200, 301, 308), r2)

    def test_definition_details(self):
        def_id = self.stack.definition("acme", "Details “ü”", "small")
        r = self.stack.request("GET", self.def_path(def_id), token=self.user)
        self.assertEqual(r.status, 200, r)
        d = r.xml()
        self.assertEqual(d.tag, q("definition"))
        self.assertEqual(self.uri_path(self.child_text(d, "id")),
                         self.def_path(def_id))
        self.assertEqual(self.child_text(d, "name"), "Details “ü”")
        self.assertEqual(self.uri_path(self.child_text(d, "job-link")),
                         self.def_path(def_id) + "/job")

    # ---- creating jobs ----

    def check_new_job(self, def_id, r):
        self.assertEqual(r.status, 201, r)
        job = r.xml()
        self.assertEqual(job.tag, q("job"))
        uri = self.child_text(job, "id")
        path = self.uri_path(uri)
        self.assertEqual(r.header("Location"), uri)
        prefix = self.def_path(def_id) + "/job/"
        self.assertTrue(path.startswith(prefix), path)
        self.assertRegex(path[len(prefix):], ID_RE)
        self.assertEqual(self.child_text(job, "status-link"), uri + "/status")
        start = self.child_text(job, "start-time")
        self.assertRegex(start or "", RFC3339_Z)
        self.assertLess(abs(parse_rfc3339(start) - time.time()), 300,
                        "start-time %s is not now" % start)
        self.assertEqual(self.child_text(job, "status"), "Queued")
        self.assertIsNone(job.find(q("stop-time")), r)
        self.assertIsNone(job.find(q("file-link")), r)
        return uri

    def test_post_job_with_empty_body(self):
        def_id = self.small_def()
        uri = self.check_new_job(def_id, self.post_job(def_id, self.user))
        self.wait_finished(uri, self.user)

    def test_post_job_without_content_type_or_body(self):
        def_id = self.small_def()
        r = self.stack.request("POST", self.def_path(def_id) + "/job",
                               token=self.user, headers={})
        uri = self.check_new_job(def_id, r)
        self.wait_finished(uri, self.user)

    def test_post_job_with_body_naming_this_definition(self):
        def_id = self.small_def()
        d = self.stack.request("GET", self.def_path(def_id), token=self.user)
        self.assertEqual(d.status, 200, d)
        def_uri = self.child_text(d.xml(), "id")
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' \
               '<definition><id>%s</id></definition>' % def_uri
        uri = self.check_new_job(def_id, self.post_job(def_id, self.user,
                                                       body))
        self.wait_finished(uri, self.user)
        # the same body in the Concur namespace
        body_ns = '<definition xmlns="%s"><id>%s</id></definition>' % (
            NS, def_uri)
        uri2 = self.check_new_job(def_id, self.post_job(def_id, self.user,
                                                        body_ns))
        self.wait_finished(uri2, self.user)

    def test_post_job_with_body_naming_another_definition_is_400(self):
        def_id = self.small_def()
        other = self.small_def("Another")
        d = self.stack.request("GET", self.def_path(other), token=self.user)
        other_uri = self.child_text(d.xml(), "id")
        for body in ('<definition><id>%s</id></definition>' % other_uri,
                     '<definition><id>%s/%s</id></definition>' % (
                         other_uri.rsplit("/", 1)[0], random_id())):
            r = self.post_job(def_id, self.user, body)
            self.assertConcurError(r, 400)
        self.assertEqual(self.job_ids(def_id, self.user), [])
        self.assertEqual(self.job_ids(other, self.user), [])

    # ---- running, polling, downloading ----

    def test_job_completes_and_file_round_trips_byte_for_byte(self):
        columns = ["name", "id", "note", "extra"]
        def_id = self.stack.definition("acme", "Round trip", "rt", columns)
        r = self.post_job(def_id, self.user)
        uri = self.check_new_job(def_id, r)
        start = self.child_text(r.xml(), "start-time")

        # stop-time and file-link appear only once finished
        deadline = time.time() + 60
        while True:
            st = self.stack.request("GET", self.uri_path(uri) + "/status",
                                    token=self.user)
            self.assertEqual(st.status, 200, st)
            job = st.xml()
            self.assertEqual(job.tag, q("job"))
            status = self.child_text(job, "status")
            self.assertEqual(self.child_text(job, "id"), uri)
            self.assertEqual(self.child_text(job, "status-link"),
                             uri + "/status")
            if status == "Completed":
                break
            self.assertIn(status, ("Queued", "Running"), st)
            self.assertIsNone(job.find(q("stop-time")), st)
            self.assertIsNone(job.find(q("file-link")), st)
            self.assertLess(time.time(), deadline, "never completed")
            time.sleep(0.2)
        stop = self.child_text(job, "stop-time")
        self.assertRegex(stop or "", RFC3339_Z)
        self.assertGreaterEqual(parse_rfc3339(stop), parse_rfc3339(start))
        self.assertEqual(self.child_text(job, "start-time"), start)
        file_link = self.child_text(job, "file-link")
        self.assertEqual(self.uri_path(file_link), self.uri_path(uri) +
                         "/file")

        # the job's details say the same
        det = self.stack.request("GET", self.uri_path(uri), token=self.user)
        self.assertEqual(det.status, 200, det)
        dj = det.xml()
        for tag in ("id", "status-link", "start-time", "stop-time",
                    "file-link", "status"):
            self.assertEqual(self.child_text(dj, tag),
                             self.child_text(job, tag), tag)

        f = self.stack.request("GET", self.uri_path(file_link),
                               token=self.user)
        self.assertEqual(f.status, 200, f)
        self.assertTrue((f.header("Content-Type") or "").startswith(
            "text/csv"), f.header("Content-Type"))
        want = csvdata.expected_csv(columns)
        self.assertEqual(f.body, want, "download differs from the dataset:"
                         "\n got  %r\n want %r" % (f.body, want))
        if f.header("Content-Length") is not None:
            self.assertEqual(int(f.header("Content-Length")), len(f.body))

    def test_definition_without_columns_exports_every_column(self):
        def_id = self.stack.definition("acme", "All columns", "rt")
        uri, job = self.completed_job(def_id)
        f = self.stack.request("GET", self.uri_path(
            self.child_text(job, "file-link")), token=self.user)
        self.assertEqual(f.status, 200, f)
        self.assertEqual(f.body, csvdata.expected_csv(csvdata.COLUMNS))

    # ---- job list ----

    def test_job_list_is_newest_first(self):
        def_id = self.small_def("Ordering")
        self.assertEqual(self.job_ids(def_id, self.user), [])
        made = [self.completed_job(def_id)[0] for _ in range(3)]
        r = self.stack.request("GET", self.def_path(def_id) + "/job",
                               token=self.user)
        self.assertEqual(r.status, 200, r)
        root = r.xml()
        self.assertEqual(root.tag, q("jobs"))
        jobs = root.findall(q("job"))
        self.assertEqual([self.child_text(j, "id") for j in jobs],
                         list(reversed(made)))
        for j in jobs:
            self.assertEqual(self.child_text(j, "status"), "Completed")
            self.assertEqual(self.child_text(j, "status-link"),
                             self.child_text(j, "id") + "/status")
            self.assertRegex(self.child_text(j, "start-time") or "",
                             RFC3339_Z)

    def test_job_list_holds_the_last_100(self):
        def_id = self.small_def("Hundred")
        made = []
        for _ in range(101):
            uri, _ = self.create_job(def_id, self.user)
            self.wait_finished(uri, self.user, interval=0.02)
            made.append(uri)
        ids = self.job_ids(def_id, self.user)
        self.assertEqual(len(ids), 100)
        self.assertEqual(ids, list(reversed(made))[:100])

    def test_job_list_of_another_definition_is_separate(self):
        a = self.small_def("Sep A")
        b = self.small_def("Sep B")
        uri, _ = self.completed_job(a)
        self.assertEqual(self.job_ids(a, self.user), [uri])
        self.assertEqual(self.job_ids(b, self.user), [])

    def test_job_under_the_wrong_definition_is_404(self):
        a = self.small_def("Wrong A")
        b = self.small_def("Wrong B")
        uri, _ = self.completed_job(a)
        job_id = last_segment(uri)
        for suffix in ("", "/status", "/file"):
            r = self.stack.request("GET", "%s/%s/job/%s%s" % (
                BASE, b, job_id, suffix), token=self.user)
            self.assertConcurError(r, 404)

    # ---- 404 and 405 ----

    def test_unknown_malformed_and_tricky_paths_are_404(self):
        def_id = self.small_def("Paths")
        uri, _ = self.completed_job(def_id)
        job = last_segment(uri)
        d = "%s/%s" % (BASE, def_id)
        unknown = random_id()
        paths = [
            BASE + "/" + unknown,
            BASE + "/" + unknown + "/job",
            BASE + "/nope",
            BASE + "/" + def_id + "x",
            BASE + "/" + def_id[:-1],
            BASE + "/" + def_id.lower() if def_id.lower() != def_id else
            BASE + "/" + def_id.upper(),
            d + "/job/" + unknown,
            d + "/job/" + unknown + "/status",
            d + "/job/" + unknown + "/file",
            d + "/job/" + job + "x/status",
            d + "/job/" + job[:-1] + "/status",
            d + "/job/" + job + "/status/extra",
            d + "/job/" + job + "/statusx",
            d + "/job/" + job + "/filex",
            d + "/job/" + job + "/file/extra",
            d + "/job/" + job + "/bogus",
            d + "/bogus",
            d + "/job/" + job + "/file/..",
            d + "/job/" + job + "/../" + job + "/file",
            d + "/job/%2e%2e%2f%2e%2e%2fetc%2fpasswd/status",
            d + "%2Fjob",
            d + "/job/" + job + "%2Fstatus",
            d + "/job/" + job + "%2Ffile",
            BASE + "/" + job + "/job/" + def_id,
            BASE + "/" + "A" * 4000,
            d + "/job/" + "A" * 4000 + "/status",
            d + "/job/" + "A" * 4000 + "/file",
            BASE + "/" + "%41" * 22,
        ]
        marker = passwd_marker()
        for p in paths:
            with self.subTest(path=p[:120]):
                r = self.stack.request("GET", p, token=self.user)
                self.assertConcurError(r, 404)
                self.assertNotIn(marker, r.text())

    def test_paths_escaping_the_api_are_404_and_never_reach_files(self):
        """Paths whose dot segments (plain or percent-encoded) lead out of
        the API: the web server normalises them before routing, so the
        answer need not be a Concur <Error>, but it is a 404 and it
        serves no file."""
        marker = passwd_marker()
        def_id = self.small_def("Escapes")
        d = self.def_path(def_id)
        for p in (BASE + "/../../../../etc/passwd",
                  BASE + "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                  BASE + "/%2e%2e",
                  BASE + "/%2e%2e/job",
                  BASE + "/..%2F..%2F..%2Fetc%2Fpasswd",
                  d + "/job/..%2F..%2F..%2Fetc%2Fpasswd",
                  d + "/job/../../../../../etc/passwd",
                  BASE + "/../../../../quarry.conf",
                  "/api/expense/extract/v2.0/",
                  "/api/expense/nothing"):
            with self.subTest(path=p):
                r = self.stack.request("GET", p, token=self.user)
                self.assertEqual(r.status, 404, r)
                self.assertNotIn(marker, r.text())
                self.assertNotIn("db_dir", r.text())

    def test_wrong_methods_are_405_with_allow(self):
        def_id = self.small_def("Methods")
        uri, _ = self.completed_job(def_id)
        jp = self.uri_path(uri)
        d = self.def_path(def_id)
        cases = [
            ("DELETE", BASE + "/", "GET"),
            ("POST", BASE + "/", "GET"),
            ("PATCH", BASE + "/", "GET"),
            ("PUT", d, "GET"),
            ("POST", d, "GET"),
            ("DELETE", d, "GET"),
            ("PUT", d + "/job", "POST"),
            ("DELETE", d + "/job", "POST"),
            ("PUT", jp, "GET"),
            ("POST", jp, "GET"),
            ("POST", jp + "/status", "GET"),
            ("PUT", jp + "/status", "GET"),
            ("DELETE", jp + "/status", "GET"),
            ("POST", jp + "/file", "GET"),
            ("PUT", jp + "/file", "GET"),
        ]
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                r = self.stack.request(method, path, token=self.user,
                                       body=b"" if method in ("POST", "PUT")
                                       else None)
                self.assertConcurError(r, 405)
                allow = [m.strip() for m in
                         (r.header("Allow") or "").split(",")]
                self.assertIn(allowed, allow, "Allow: %r" %
                              r.header("Allow"))
                self.assertNotIn(method, allow)
        # none of it changed anything
        self.assertEqual(self.job_ids(def_id, self.user), [uri])

    def test_error_ids_differ_per_request(self):
        a = self.stack.request("GET", BASE + "/" + random_id(),
                               token=self.user)
        b = self.stack.request("GET", BASE + "/" + random_id(),
                               token=self.user)
        ia = self.assertConcurError(a, 404).find(q("Id")).text.strip()
        ib = self.assertConcurError(b, 404).find(q("Id")).text.strip()
        self.assertNotEqual(ia, ib)
        # the reference is written to the log too (SPEC section 4)
        deadline = time.time() + 5
        while ib not in self.stack.log_tail(100000):
            self.assertLess(time.time(), deadline,
                            "error id %s is in no file under log/" % ib)
            time.sleep(0.1)

    # ---- the admin CLI sees what HTTP did ----

    def test_quarryctl_shows_the_job_created_over_http(self):
        def_id = self.small_def("Seen by ctl")
        uri, _ = self.completed_job(def_id)
        job_id = last_segment(uri)
        rows = [l.split("\t") for l in
                self.stack.ctl("job", "list", "--tenant", "acme").splitlines()]
        mine = [r for r in rows if r[0] == job_id]
        self.assertEqual(len(mine), 1, rows)
        self.assertEqual(mine[0][1], "acme")
        self.assertEqual(mine[0][2], def_id)
        self.assertEqual(mine[0][3], "completed")
        other = self.stack.ctl("job", "list", "--tenant", "globex")
        self.assertNotIn(job_id, other)
        show = self.stack.ctl("job", "show", job_id)
        fields = dict(l.split(": ", 1) for l in show.splitlines()
                      if ": " in l)
        self.assertEqual(fields.get("id"), job_id)
        self.assertEqual(fields.get("definition"), def_id)
        self.assertEqual(fields.get("state"), "completed")
        self.assertEqual(fields.get("rows"), "2")


class AuthTest(StackTestCase):
    """401 without credentials, 403 for bad, revoked or expired tokens,
    404 across tenants."""

    @classmethod
    def seed(cls):
        s = cls.stack
        # created first so that it has expired by the time its test runs
        cls.expiring = s.token("acme", "user", name="expiring",
                               expires="1s")
        cls.expiring_made = time.time()
        cls.user = s.token("acme", "user", name="acme-user")
        cls.later = s.token("acme", "user", name="later", expires="1h")
        cls.other = s.token("globex", "user", name="globex-user")
        cls.other_admin = s.token("globex", "admin", name="globex-admin")
        s.dataset("acme", "small", SMALL_CSV)
        s.dataset("globex", "small", SMALL_CSV)
        cls.def_id = s.definition("acme", "Acme only", "small", ["k", "v"])
        cls.other_def = s.definition("globex", "Globex only", "small",
                                     ["k", "v"])

    def setUp(self):
        if not hasattr(type(self), "job_uri"):
            uri, _ = self.create_job(self.def_id, self.user)
            self.wait_finished(uri, self.user)
            type(self).job_uri = uri

    def acme_paths(self):
        jp = self.uri_path(self.job_uri)
        return [("GET", BASE + "/"), ("GET", self.def_path(self.def_id)),
                ("GET", self.def_path(self.def_id) + "/job"),
                ("POST", self.def_path(self.def_id) + "/job"),
                ("GET", jp), ("GET", jp + "/status"), ("GET", jp + "/file")]

    def jobs_now(self):
        return self.job_ids(self.def_id, self.user)

    def test_missing_authorization_is_401(self):
        before = self.jobs_now()
        for method, path in self.acme_paths():
            with self.subTest(method=method, path=path):
                r = self.stack.request(method, path, body=b""
                                       if method == "POST" else None)
                self.assertConcurError(r, 401)
        self.assertEqual(self.jobs_now(), before)

    def test_unknown_tokens_are_403(self):
        before = self.jobs_now()
        flipped = self.user[:-1] + ("0" if self.user[-1] != "0" else "1")
        for tok in ("bogus", "0" * 64, flipped, self.user + "0",
                    self.user[:-1]):
            for method, path in self.acme_paths():
                with self.subTest(token=tok[:12], method=method, path=path):
                    r = self.stack.request(method, path, token=tok,
                                           body=b"" if method == "POST"
                                           else None)
                    self.assertConcurError(r, 403)
        self.assertEqual(self.jobs_now(), before)

    def test_valid_token_with_another_scheme_is_refused(self):
        for scheme in ("Bearer ", "Basic ", ""):
            r = self.stack.request("GET", BASE + "/", headers={
                "Authorization": scheme + self.user})
            with self.subTest(scheme=scheme):
                self.assertIn(r.status, (401, 403), r)
                self.assertConcurError(r, r.status)

    def test_revoked_token_is_403(self):
        s = self.stack
        tok = s.token("acme", "user", name="to-revoke")
        self.assertEqual(s.request("GET", BASE + "/", token=tok).status, 200)
        tid = s.token_id("acme", "to-revoke")
        s.ctl("token", "revoke", tid)
        listed = [l.split("\t") for l in
                  s.ctl("token", "list", "--tenant", "acme").splitlines()]
        self.assertIn("revoked", [r[-1] for r in listed if r[0] == tid])
        for method, path in self.acme_paths():
            with self.subTest(method=method, path=path):
                r = s.request(method, path, token=tok,
                              body=b"" if method == "POST" else None)
                self.assertConcurError(r, 403)

    def test_expired_token_is_403_and_unexpired_one_works(self):
        r = self.stack.request("GET", BASE + "/", token=self.later)
        self.assertEqual(r.status, 200, r)
        wait = self.expiring_made + 2.2 - time.time()
        if wait > 0:
            time.sleep(wait)
        for method, path in self.acme_paths():
            with self.subTest(method=method, path=path):
                r = self.stack.request(method, path, token=self.expiring,
                                       body=b"" if method == "POST"
                                       else None)
                self.assertConcurError(r, 403)

    def test_other_tenant_gets_404_for_everything_of_acme(self):
        before = self.jobs_now()
        for tok in (self.other, self.other_admin):
            for method, path in self.acme_paths()[1:]:
                with self.subTest(method=method, path=path):
                    r = self.stack.request(method, path, token=tok,
                                           body=b"" if method == "POST"
                                           else None)
                    self.assertConcurError(r, 404)
        self.assertEqual(self.jobs_now(), before)

    def test_other_tenant_answers_match_a_missing_resource(self):
        """A resource of another tenant answers exactly as a missing one:
        same status, same message."""
        jp = self.uri_path(self.job_uri)
        job_id = last_segment(jp)
        pairs = [
            (self.def_path(self.def_id), self.def_path(random_id())),
            (jp + "/status", "%s/job/%s/status" % (
                self.def_path(self.def_id), random_id())),
            ("%s/job/%s/status" % (self.def_path(self.other_def), job_id),
             "%s/job/%s/status" % (self.def_path(self.other_def),
                                   random_id())),
        ]
        for theirs, missing in pairs:
            a = self.stack.request("GET", theirs, token=self.other)
            b = self.stack.request("GET", missing, token=self.other)
            ea = self.assertConcurError(a, 404)
            eb = self.assertConcurError(b, 404)
            self.assertEqual(ea.find(q("Message")).text,
                             eb.find(q("Message")).text)

    def test_each_tenant_lists_only_its_own_definitions(self):
        for tok, mine, theirs in ((self.user, self.def_id, self.other_def),
                                  (self.other, self.other_def, self.def_id)):
            r = self.stack.request("GET", BASE + "/", token=tok)
            self.assertEqual(r.status, 200, r)
            ids = [last_segment(self.child_text(d, "id"))
                   for d in r.xml().findall(q("definition"))]
            self.assertEqual(ids, [mine])
            self.assertNotIn(theirs, r.text())

    def test_other_tenant_can_use_its_own_definition(self):
        uri, _ = self.create_job(self.other_def, self.other)
        job = self.wait_finished(uri, self.other)
        self.assertEqual(self.child_text(job, "status"), "Completed")
        # and acme cannot see that job
        r = self.stack.request("GET", self.uri_path(uri), token=self.user)
        self.assertConcurError(r, 404)


# ---- hostile XML ----

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<definition><id>&lol9;</id></definition>"""


class Listener:
    """A TCP listener on loopback that records whether anyone connected:
    proof that the server fetched nothing."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.hits = 0

    def check(self, wait=0.5):
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                c, _ = self.sock.accept()
                self.hits += 1
                c.close()
            except socket.timeout:
                pass
        return self.hits

    def close(self):
        self.sock.close()


class HostileXMLTest(StackTestCase):
    """Bad bodies on POST job: 400 or 413, nothing expanded, nothing
    fetched, nothing created, and the server stays up."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        s.dataset("acme", "small", SMALL_CSV)

    def setUp(self):
        self.def_id = self.stack.definition("acme", "Hostile", "small",
                                            ["k", "v"])
        r = self.stack.request("GET", self.def_path(self.def_id),
                               token=self.user)
        self.assertEqual(r.status, 200, r)
        self.def_uri = self.child_text(r.xml(), "id")

    def assert_refused(self, body, status=400):
        r = self.post_job(self.def_id, self.user, body)
        self.assertConcurError(r, status)
        self.assertEqual(self.job_ids(self.def_id, self.user), [],
                         "a refused request created a job")
        self.assertNotIn(last_segment(self.def_id),
                         self.stack.ctl("job", "list", "--tenant", "acme"))
        return r

    def assert_still_serving(self):
        r = self.stack.request("GET", BASE + "/", token=self.user)
        self.assertEqual(r.status, 200, r)
        uri, _ = self.create_job(self.def_id, self.user)
        self.wait_finished(uri, self.user)

    def test_malformed_xml_is_400(self):
        for body in ("<definition><id>", "<definition><id></definition>",
                     "not xml at all", "<definition>&bogus;</definition>",
                     "<definition><id>%s</id></definition><extra/>" %
                     self.def_uri, "\xff\xfe<\x00d\x00",
                     '<?xml version="1.0" encoding="UTF-8"?>'
                     '<definition><id>\udcff</id></definition>'
                     .encode("utf-8", "surrogateescape")):
            with self.subTest(body=repr(body)[:60]):
                self.assert_refused(body)
        self.assert_still_serving()

    def test_wrong_root_element_is_400(self):
        for body in ("<job><id>%s</id></job>" % self.def_uri,
                     "<definitions><definition><id>%s</id></definition>"
                     "</definitions>" % self.def_uri,
                     '<x:definition xmlns:x="urn:other"><x:id>%s</x:id>'
                     "</x:definition>" % self.def_uri):
            with self.subTest(body=body[:60]):
                self.assert_refused(body)

    def test_doctype_is_400(self):
        body = ('<?xml version="1.0"?>\n<!DOCTYPE definition [\n'
                '<!ELEMENT definition ANY>]>\n'
                '<definition><id>%s</id></definition>' % self.def_uri)
        self.assert_refused(body)

    def test_internal_entities_are_refused_and_server_stays_up(self):
        t0 = time.time()
        self.assert_refused(BILLION_LAUGHS)
        self.assertLess(time.time() - t0, 10, "entity expansion took long")
        self.assert_still_serving()

    def test_external_entity_is_refused_and_never_read(self):
        marker = passwd_marker()
        body = ('<?xml version="1.0"?>\n<!DOCTYPE definition [\n'
                '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                '<definition><id>&xxe;</id></definition>')
        r = self.assert_refused(body)
        self.assertNotIn(marker, r.text())
        self.assertNotIn(marker, "\n".join(v for _, v in r.headers))
        lst = self.stack.request("GET", self.def_path(self.def_id) + "/job",
                                 token=self.user)
        self.assertNotIn(marker, lst.text())
        self.assertNotIn(marker, self.stack.log_tail(1000))

    def test_external_dtd_and_entities_are_never_fetched(self):
        lis = Listener()
        try:
            url = "http://127.0.0.1:%d/evil" % lis.port
            bodies = [
                '<?xml version="1.0"?><!DOCTYPE definition SYSTEM "%s.dtd">'
                '<definition><id>%s</id></definition>' % (url, self.def_uri),
                '<?xml version="1.0"?><!DOCTYPE definition [<!ENTITY %% p '
                'SYSTEM "%s.ent"> %%p;]><definition/>' % url,
                '<?xml version="1.0"?><!DOCTYPE definition [<!ENTITY e '
                'SYSTEM "%s.xml">]><definition><id>&e;</id></definition>'
                % url,
                '<definition xmlns:xi="http://www.w3.org/2001/XInclude">'
                '<id><xi:include href="%s.xi" parse="text"/></id>'
                '</definition>' % url,
            ]
            for body in bodies:
                with self.subTest(body=body[:70]):
                    self.assert_refused(body)
            self.assertEqual(lis.check(), 0, "the server fetched a URL")
        finally:
            lis.close()

    def test_body_over_max_body_is_413(self):
        pad = " " * (1024 * 1024)
        body = '<definition><id>%s</id>%s</definition>' % (self.def_uri, pad)
        self.assert_refused(body, 413)
        self.assert_still_serving()

    def test_processing_instructions_and_comments_change_nothing(self):
        body = ('<?xml version="1.0"?><!-- c --><?pi x?>'
                '<definition><id>%s</id></definition>' % self.def_uri)
        r = self.post_job(self.def_id, self.user, body)
        self.assertIn(r.status, (201, 400), r)
        if r.status == 400:
            self.assertConcurError(r, 400)


class MaxBodyTest(StackTestCase):
    """max_body in quarry.conf is honoured."""

    conf_extra = {"max_body": "4096"}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        s.dataset("acme", "small", SMALL_CSV)

    def body_of(self, def_uri, size):
        head = '<definition><id>%s</id>' % def_uri
        tail = '</definition>'
        return head + " " * (size - len(head) - len(tail)) + tail

    def test_body_over_the_configured_limit_is_413(self):
        def_id = self.stack.definition("acme", "Limit", "small", ["k"])
        r = self.stack.request("GET", self.def_path(def_id), token=self.user)
        def_uri = self.child_text(r.xml(), "id")
        r = self.post_job(def_id, self.user, self.body_of(def_uri, 5000))
        self.assertConcurError(r, 413)
        self.assertEqual(self.job_ids(def_id, self.user), [])
        r = self.post_job(def_id, self.user, self.body_of(def_uri, 4097))
        self.assertConcurError(r, 413)
        self.assertEqual(self.job_ids(def_id, self.user), [])
        # within the limit the same document is accepted
        uri, _ = self.create_job(def_id, self.user,
                                 self.body_of(def_uri, 4000))
        self.wait_finished(uri, self.user)


class ActiveJobTest(StackTestCase):
    """The 409 rule, and what a job looks like while it waits: quarryd is
    stopped so that jobs stay Queued deterministically."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        cls.user2 = s.token("acme", "user", name="acme-user2")
        s.dataset("acme", "small", SMALL_CSV)

    def setUp(self):
        self.stack.stop_quarryd()
        self.addCleanup(self.stack.start)

    def test_second_job_while_one_is_active_is_409(self):
        def_id = self.stack.definition("acme", "Busy", "small", ["k", "v"])
        uri, _ = self.create_job(def_id, self.user)
        job_id = last_segment(uri)
        r = self.post_job(def_id, self.user)
        err = self.assertConcurError(r, 409)
        self.assertTrue(r.header("Location") == uri or job_id in r.text(),
                        "the 409 does not point at the active job: %r" % r)
        self.assertIsNotNone(err)
        self.assertEqual(self.job_ids(def_id, self.user), [uri])
        # the scheduler comes back, the job completes, a new job is fine
        self.stack.start()
        job = self.wait_finished(uri, self.user)
        self.assertEqual(self.child_text(job, "status"), "Completed")
        uri2, _ = self.create_job(def_id, self.user)
        self.assertNotEqual(uri2, uri)
        self.wait_finished(uri2, self.user)
        self.assertEqual(self.job_ids(def_id, self.user), [uri2, uri])

    def test_concurrent_creates_give_one_201_and_the_rest_409(self):
        def_id = self.stack.definition("acme", "Race", "small", ["k", "v"])
        results = []
        gate = threading.Barrier(8)

        def one():
            gate.wait()
            results.append(self.post_job(def_id, self.user))

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        codes = sorted(r.status for r in results)
        self.assertEqual(codes, [201] + [409] * 7, results)
        made = [r.header("Location") for r in results if r.status == 201]
        self.assertEqual(self.job_ids(def_id, self.user), made)
        job_id = last_segment(made[0])
        for r in results:
            if r.status == 409:
                self.assertConcurError(r, 409)
                self.assertTrue(r.header("Location") == made[0] or
                                job_id in r.text(), "the 409 does not "
                                "point at the active job: %r" % r)

    def test_other_definitions_are_not_blocked(self):
        a = self.stack.definition("acme", "Busy A", "small", ["k"])
        b = self.stack.definition("acme", "Busy B", "small", ["k"])
        self.create_job(a, self.user)
        self.create_job(b, self.user)

    def test_queued_job_has_no_stop_time_or_file_and_file_is_404(self):
        def_id = self.stack.definition("acme", "Waiting", "small", ["k"])
        uri, _ = self.create_job(def_id, self.user)
        jp = self.uri_path(uri)
        for path in (jp, jp + "/status"):
            r = self.stack.request("GET", path, token=self.user)
            self.assertEqual(r.status, 200, r)
            job = r.xml()
            self.assertEqual(self.child_text(job, "status"), "Queued")
            self.assertEqual(self.child_text(job, "id"), uri)
            self.assertRegex(self.child_text(job, "start-time") or "",
                             RFC3339_Z)
            self.assertIsNone(job.find(q("stop-time")), r)
            self.assertIsNone(job.find(q("file-link")), r)
        r = self.stack.request("GET", jp + "/file", token=self.user)
        self.assertConcurError(r, 404)
        lst = self.stack.request("GET", self.def_path(def_id) + "/job",
                                 token=self.user)
        jobs = lst.xml().findall(q("job"))
        self.assertEqual(len(jobs), 1)
        self.assertEqual(self.child_text(jobs[0], "status"), "Queued")
        self.assertIsNone(jobs[0].find(q("file-link")))
        # once the scheduler runs, the file appears
        self.stack.start()
        self.wait_finished(uri, self.user)
        r = self.stack.request("GET", jp + "/file", token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"k\r\na\r\nb\r\n")
