"""
The OSDI dialect end to end (SPEC sections 2 and 6) against a real
lighttpd + quarryd stack: the entry point, credentials, the exports
collection and its page arithmetic, one export's fields and status words,
create by a definition URL of any dialect, PUT, DELETE and download.
"""

import os
import time

from harness import BASE, RFC3339_Z, parse_rfc3339
from jsonapi import (EXP_COLUMNS, GRAPH, HAL, ID_RE, OSDI, OSDI_CACHE,
                     OSDI_WORDS, JSONStackTestCase, body_json, csv_of,
                     expected_rows, expense_csv, expense_definition,
                     random_id)

EXPORT_FIELDS = ("identifiers", "origin_system", "created_date",
                 "modified_date", "action_date", "approved_date",
                 "processed_date", "name", "status", "detail",
                 "export_type", "_links")

BIG_ROWS = 1000000     # a build of about 0.3 s: seen processing


def job_id_of(export):
    ids = export["identifiers"]
    assert len(ids) == 1 and ids[0].startswith("quarry:"), ids
    return ids[0][len("quarry:"):]


class OSDITest(JSONStackTestCase):

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="acme-admin")
        cls.user = s.token("acme", "user", name="acme-user")
        cls.other = s.token("globex", "admin", name="globex-admin")
        s.dataset("acme", "expenses", expense_csv())
        s.dataset("globex", "expenses", expense_csv())
        # big enough that a build takes a visible moment (processing)
        big = ["k,v,w"] + ["%d,value-%d,some longer text here %d" % (
            i, i, i) for i in range(BIG_ROWS)]
        s.dataset("acme", "big", ("\r\n".join(big) + "\r\n").encode())

    def new_def(self, name, tenant="acme", **extra):
        return self.add_definition(expense_definition(tenant, name, **extra))

    def hal(self, r, status=200):
        self.assertEqual(r.status, status, r)
        self.assertTrue((r.header("Content-Type") or "").startswith(HAL),
                        r.header("Content-Type"))
        self.assertEqual(r.header("Cache-Control"), OSDI_CACHE, r.headers)
        return body_json(r)

    def post_export(self, token, href, name="an export", export_type=None,
                    parameters=None, expect=201):
        body = {"name": name,
                "_links": {"osdi:resource": {"href": href}}}
        if export_type is not None:
            body["export_type"] = export_type
        if parameters is not None:
            body["parameters"] = parameters
        r = self.osdi("POST", "exports", body, token)
        if expect != 201:
            return r
        x = self.hal(r, 201)
        jid = job_id_of(x)
        self.assertRegex(jid, ID_RE)
        return x

    def graph_href(self, def_id):
        return "http://127.0.0.1:%d%s/definitions/%s" % (
            self.stack.port, GRAPH, def_id)

    def concur_href(self, def_id):
        return "http://127.0.0.1:%d%s/%s" % (self.stack.port, BASE, def_id)

    # ---- entry point and credentials ----

    def test_entry_point(self):
        for via in ("header", "query"):
            with self.subTest(via=via):
                o = self.hal(self.osdi("GET", OSDI + "/", token=self.user,
                                       via=via))
                links = o["_links"]
                href = links["osdi:exports"]["href"]
                self.assertEqual(self.path_of(href), OSDI + "/exports")
                curies = links["curies"]
                self.assertIsInstance(curies, list)
                self.assertIn("osdi", [c["name"] for c in curies])
                for c in curies:
                    self.assertIn("{rel}", c["href"])
                    self.assertIs(c["templated"], True)
                r = self.osdi("GET", self.path_of(href), token=self.user,
                              via=via)
                self.hal(r)

    def test_credentials(self):
        for path in (OSDI + "/", OSDI + "/exports",
                     OSDI + "/exports/" + random_id()):
            with self.subTest(path=path):
                self.assertOsdiError(self.osdi("GET", path), 401)
                for via in ("header", "query"):
                    self.assertOsdiError(self.osdi(
                        "GET", path, token="bogus-token", via=via), 401)
                # another dialect's credential is not OSDI's
                self.assertOsdiError(self.osdi("GET", path, headers={
                    "Authorization": "Bearer " + self.user}), 401)
        r = self.osdi("POST", "exports", {"name": "x"})
        self.assertOsdiError(r, 401)
        self.hal(self.osdi("GET", "exports", token=self.user, via="query"))

    def test_no_log_holds_a_token_sent_in_the_query(self):
        """A token in the osdi-api-token query parameter (good or bad,
        on a page, a 404 and a download path) lands in no log of the
        stack: the web server's access and error logs, the programs'
        and quarryd's."""
        bogus = "f" * 64
        for token in (self.user, bogus):
            for path in ("exports", "exports?page=1", "exports/" +
                         random_id(), "exports/%s/download" % random_id(),
                         "nowhere"):
                self.osdi("GET", path, token=token, via="query")
        self.osdi("GET", "exports?osdi-api-token=%s&page=%%zz" % self.user)
        logdir = os.path.join(self.stack.vardir, "log")
        seen = 0
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name), "rb") as f:
                text = f.read()
            seen += len(text)
            for token in (self.user, bogus):
                self.assertNotIn(token.encode(), text,
                                 "a token in log/%s" % name)
        self.assertGreater(seen, 0, "no log written at all")

    # ---- create ----

    def test_create_by_graph_and_concur_urls(self):
        def_id = self.new_def("ByURL", formats=["csv", "json"])
        made = []
        with self.paused():
            for href, params in (
                    (self.graph_href(def_id), {"currency": "EUR"}),
                    (self.concur_href(def_id), {"currency": "USD"}),
                    ("%s/definitions/%s" % (GRAPH, def_id),
                     {"currency": "CHF"}),
                    ("%s/%s" % (BASE, def_id), {"min": "10"})):
                with self.subTest(href=href):
                    x = self.post_export(self.user, href, name="n " + href,
                                         parameters=params)
                    self.assertEqual(x["status"], "queued", x)
                    self.assertEqual(x["name"], "n " + href)
                    self.assertEqual(x["export_type"], "csv")
                    self.assertNotIn("download_link", x)
                    res = x["_links"]["osdi:resource"]["href"]
                    r = self.graph("GET", self.path_of(res),
                                   token=self.user)
                    self.assertEqual(body_json(r)["id"], def_id)
                    made.append((job_id_of(x), params))
            # the same again: 409 pointing at it
            r = self.post_export(self.user, self.graph_href(def_id),
                                 parameters={"currency": "EUR"}, expect=409)
            self.assertOsdiError(r, 409)
            self.assertEqual(self.path_of(r.header("Location")),
                             "%s/exports/%s" % (OSDI, made[0][0]))
        for jid, params in made:
            x, _ = self.wait_osdi(self.user, jid)
            self.assertEqual(x["status"], "ready", x)
            r = self.osdi("GET", self.path_of(x["download_link"]),
                          token=self.user)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, csv_of(expected_rows(params)))

    def test_bad_creates(self):
        def_id = self.new_def("BadCreate", formats=["csv", "json"])
        theirs = self.new_def("Theirs", tenant="globex")
        good = self.graph_href(def_id)
        cases = [
            ("_links", {"name": "x"}),
            ("_links", {"_links": {"osdi:resource": {"href":
                                                     random_id()}}}),
            ("_links", {"_links": {"osdi:resource": {
                "href": self.graph_href(random_id())}}}),
            ("_links", {"_links": {"osdi:resource": {
                "href": self.graph_href(theirs)}}}),
            ("_links", {"_links": {"osdi:resource": {
                "href": "%s/exports/%s" % (OSDI, def_id)}}}),
            ("_links", {"_links": {"osdi:resource": {"href": 5}}}),
            ("export_type", {"export_type": "pdf",
                             "_links": {"osdi:resource": {"href": good}}}),
            ("export_type", {"export_type": "xml",
                             "_links": {"osdi:resource": {"href": good}}}),
            ("name", {"name": 7,
                      "_links": {"osdi:resource": {"href": good}}}),
            # the later revision's export_template: a format, or nothing
            ("export_template", {"export_template": "my_template_tsv",
                                 "_links": {"osdi:resource": {"href": good}}}),
            ("export_template", {"export_template": "json",
                                 "export_type": "csv",
                                 "_links": {"osdi:resource": {"href": good}}}),
            ("from", {"parameters": {"from": "yesterday"},
                      "_links": {"osdi:resource": {"href": good}}}),
            ("nope", {"parameters": {"nope": "1"},
                      "_links": {"osdi:resource": {"href": good}}}),
        ]
        for hint, body in cases:
            with self.subTest(body=body):
                r = self.osdi("POST", "exports", body, self.user)
                d = self.assertOsdiError(r, 400)
                self.assertIn(hint, d.get("hint", "") + d["description"], d)
        o = self.hal(self.osdi("GET", "exports?per_page=100",
                               token=self.admin))
        self.assertNotIn(def_id, str(o["_embedded"]))
        # export_template naming a format is export_type
        x = self.post_export(self.user, good, export_type=None,
                             parameters={"currency": "CHF"})
        self.assertEqual(x["export_type"], "csv")
        r = self.osdi("POST", "exports", {
            "export_template": "json", "parameters": {"currency": "EUR"},
            "_links": {"osdi:resource": {"href": good}}}, self.user)
        self.assertEqual(self.hal(r, 201)["export_type"], "json")

    # ---- one export ----

    def test_export_fields_and_status_words(self):
        def_id = self.add_definition({
            "tenant": "acme", "name": "Big", "source": {"dataset": "big"},
            "formats": ["csv", "tsv"], "retention": "1d"})
        with self.paused():
            t0 = time.time()
            x = self.post_export(self.user, self.graph_href(def_id),
                                 name="Big one", export_type="tsv")
            jid = job_id_of(x)
            r = self.osdi("GET", "exports/" + jid, token=self.user)
            x = self.hal(r)
            for k in EXPORT_FIELDS:
                self.assertIn(k, x)
            self.assertEqual(x["identifiers"], ["quarry:" + jid])
            self.assertIsInstance(x["origin_system"], str)
            for k in ("created_date", "modified_date", "action_date"):
                self.assertRegex(x[k], RFC3339_Z)
            self.assertIsNone(x["processed_date"])
            self.assertIsNone(x["approved_date"])
            self.assertEqual(x["name"], "Big one")
            self.assertEqual(x["status"], "queued")
            self.assertEqual(x["export_type"], "tsv")
            self.assertNotIn("download_link", x)
            self.assertEqual(self.path_of(x["_links"]["self"]["href"]),
                             "%s/exports/%s" % (OSDI, jid))
            self.assertEqual(self.path_of(
                x["_links"]["osdi:resource"]["href"]).rsplit("/", 1)[-1],
                def_id)
        x, seen = self.wait_osdi(self.user, jid)
        if seen[0] != "queued":
            seen.insert(0, "queued")    # as seen while paused
        self.assertEqual(seen[-1], "ready", seen)
        for w in seen:
            self.assertIn(w, OSDI_WORDS)
        self.assertEqual(seen, [w for w in ("queued", "processing", "ready")
                                if w in seen], seen)
        self.assertRegex(x["processed_date"], RFC3339_Z)
        self.assertGreaterEqual(x["processed_date"], x["created_date"])
        self.assertLess(abs(parse_rfc3339(x["created_date"]) - t0), 120)
        self.assertEqual(self.path_of(x["download_link"]),
                         "%s/exports/%s/download" % (OSDI, jid))
        r = self.osdi("GET", self.path_of(x["download_link"]),
                      token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith(
            "text/tab-separated-values"), r.header("Content-Type"))
        lines = r.body.split(b"\r\n") if b"\r\n" in r.body else \
            r.body.split(b"\n")
        self.assertEqual(lines[0], b"k\tv\tw")
        self.assertEqual(lines[1], b"0\tvalue-0\tsome longer text here 0")
        self.assertEqual(len([ln for ln in lines if ln]), BIG_ROWS + 1)
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        # the same job in Graph
        g = self.graph_job(self.user, jid)
        self.assertEqual(g["status"], "succeeded")
        self.assertEqual(g["progress"]["rowsWritten"], BIG_ROWS)
        # A build in progress reads "processing": an extractor that writes
        # a row and waits holds its job there, however fast the machine.
        slow = os.path.join(self.stack.vardir, "extractors", "slow")
        with open(slow, "w") as f:
            f.write("#!/bin/sh\necho a,b\necho 1,2\nexec sleep 120\n")
        os.chmod(slow, 0o755)
        d2 = self.add_definition({
            "tenant": "acme", "name": "Slow", "source": {"command": "slow"},
            "formats": ["csv"]})
        j2 = job_id_of(self.post_export(self.user, self.graph_href(d2)))
        deadline = time.time() + 30
        while self.osdi_export(self.user, j2)["status"] != "processing":
            self.assertLess(time.time(), deadline,
                            "a running build was never seen processing")
            time.sleep(0.05)
        r = self.osdi("DELETE", "exports/" + j2, token=self.user)
        self.assertEqual(r.status, 200, r)

    def test_put_is_405_with_allow(self):
        def_id = self.new_def("Put")
        x = self.post_export(self.user, self.graph_href(def_id))
        jid = job_id_of(x)
        r = self.osdi("PUT", "exports/" + jid, {"name": "renamed"},
                      self.user)
        self.assertOsdiError(r, 405)
        allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
        self.assertIn("GET", allow)
        self.assertIn("DELETE", allow)
        self.assertNotIn("PUT", allow)
        x, _ = self.wait_osdi(self.user, jid)
        self.assertEqual(x["name"], "an export")

    def test_delete(self):
        def_id = self.new_def("Delete")
        # a queued export: cancelled
        with self.paused():
            x = self.post_export(self.user, self.graph_href(def_id),
                                 parameters={"currency": "EUR"})
            jid = job_id_of(x)
            r = self.osdi("DELETE", "exports/" + jid, token=self.user)
            self.assertEqual(self.hal(r), {
                "notice": "This export was successfully deleted."})
            x = self.osdi_export(self.user, jid)
            self.assertEqual(x["status"], "cancelled", x)
            self.assertNotIn("download_link", x)
            self.assertEqual(self.graph_job(self.user, jid)["status"],
                             "failed")
        # a ready export: its file goes
        x = self.post_export(self.user, self.graph_href(def_id))
        jid = job_id_of(x)
        x, _ = self.wait_osdi(self.user, jid)
        dl = "exports/%s/download" % jid
        self.assertEqual(self.osdi("GET", dl, token=self.user).status, 200)
        r = self.osdi("DELETE", "exports/" + jid, token=self.user)
        self.assertEqual(self.hal(r)["notice"],
                         "This export was successfully deleted.")
        r = self.osdi("GET", dl, token=self.user)
        self.assertIn(r.status, (404, 410), r)
        self.assertOsdiError(r, r.status)
        # missing, foreign: 404
        for tok, i in ((self.user, random_id()), (self.other, jid)):
            self.assertOsdiError(self.osdi("DELETE", "exports/" + i,
                                           token=tok), 404)

    def test_download_json_and_errors(self):
        def_id = self.new_def("Download")
        with self.paused():
            x = self.post_export(self.user, self.graph_href(def_id),
                                 export_type="json",
                                 parameters={"from": "2026-01-01"})
            jid = job_id_of(x)
            r = self.osdi("GET", "exports/%s/download" % jid,
                          token=self.user)
            self.assertOsdiError(r, 404)
        x, _ = self.wait_osdi(self.user, jid)
        self.assertEqual(x["export_type"], "json")
        r = self.osdi("GET", "exports/%s/download" % jid, token=self.user,
                      via="query")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(body_json(r), [
            dict(zip(EXP_COLUMNS, row))
            for row in expected_rows({"from": "2026-01-01"})])
        self.assertOsdiError(self.osdi("GET", "exports/%s/download" %
                                       random_id(), token=self.user), 404)

    # ---- the collection ----

    def test_paging_arithmetic(self):
        tok = self.stack.token("pagers", "user", name="pagers")
        self.stack.dataset("pagers", "expenses", expense_csv())
        def_id = self.new_def("Pages", tenant="pagers")
        href = "%s/definitions/%s" % (GRAPH, def_id)
        empty = self.hal(self.osdi("GET", "exports", token=tok))
        self.assertEqual((empty["page"], empty["per_page"],
                          empty["total_records"]), (1, 25, 0))
        self.assertEqual(empty["_embedded"]["osdi:exports"], [])
        self.assertNotIn("next", empty["_links"])
        self.assertNotIn("previous", empty["_links"])
        made = [job_id_of(self.post_export(tok, href, parameters={
            "min": str(i)})) for i in range(7)]
        o = self.hal(self.osdi("GET", "exports", token=tok))
        self.assertEqual((o["page"], o["per_page"], o["total_pages"],
                          o["total_records"]), (1, 25, 1, 7))
        seen = []
        for page, n, nxt, prev in ((1, 3, True, False), (2, 3, True, True),
                                   (3, 1, False, True)):
            with self.subTest(page=page):
                o = self.hal(self.osdi(
                    "GET", "exports?page=%d&per_page=3" % page, token=tok))
                self.assertEqual(o["page"], page)
                self.assertEqual(o["per_page"], 3)
                self.assertEqual(o["total_pages"], 3)
                self.assertEqual(o["total_records"], 7)
                emb = o["_embedded"]["osdi:exports"]
                self.assertEqual(len(emb), n)
                ids = [job_id_of(x) for x in emb]
                seen.extend(ids)
                links = o["_links"]
                self.assertEqual([self.path_of(h["href"]) for h in
                                  links["osdi:exports"]],
                                 ["%s/exports/%s" % (OSDI, i) for i in ids])
                self.assertIn("curies", links)
                self.hal(self.osdi("GET", self.path_of(
                    links["self"]["href"]), token=tok))
                self.assertEqual("next" in links, nxt, links)
                self.assertEqual("previous" in links, prev, links)
                for rel, want in (("next", page + 1), ("previous",
                                                       page - 1)):
                    if rel in links:
                        p = self.hal(self.osdi("GET", self.path_of(
                            links[rel]["href"]), token=tok))
                        self.assertEqual(p["page"], want)
                        self.assertEqual(p["per_page"], 3)
        self.assertEqual(seen, made[::-1])
        o = self.hal(self.osdi("GET", "exports?per_page=7", token=tok))
        self.assertEqual((o["total_pages"], len(
            o["_embedded"]["osdi:exports"])), (1, 7))
        self.assertNotIn("next", o["_links"])
        o = self.hal(self.osdi("GET", "exports?per_page=100", token=tok))
        self.assertEqual(o["per_page"], 100)
        for bad in ("per_page=101", "per_page=0", "page=0", "page=abc",
                    "per_page=-5"):
            with self.subTest(query=bad):
                self.assertOsdiError(self.osdi("GET", "exports?" + bad,
                                               token=tok), 400)
        for i in made:
            self.wait_osdi(tok, i)

    def test_collection_respects_roles_and_tenants(self):
        def_id = self.new_def("Roles")
        u2 = self.stack.token("acme", "user", name="acme-user-2")
        mine = job_id_of(self.post_export(self.user, self.graph_href(def_id),
                                          parameters={"currency": "EUR"}))
        theirs = job_id_of(self.post_export(u2, self.graph_href(def_id),
                                            parameters={"currency": "USD"}))

        def ids(tok):
            o = self.hal(self.osdi("GET", "exports?per_page=100", token=tok))
            self.assertLessEqual(o["total_records"], 100)
            return [job_id_of(x) for x in o["_embedded"]["osdi:exports"]]

        self.assertIn(mine, ids(self.user))
        self.assertNotIn(theirs, ids(self.user))
        self.assertTrue({mine, theirs} <= set(ids(self.admin)))
        self.assertFalse({mine, theirs} & set(ids(self.other)))
        self.assertOsdiError(self.osdi("GET", "exports/" + theirs,
                                       token=self.user), 404)
        self.assertOsdiError(self.osdi("GET", "exports/" + theirs,
                                       token=self.other), 404)
        self.assertEqual(self.osdi_export(self.admin, theirs)["status"] in
                         OSDI_WORDS, True)
        for i, t in ((mine, self.user), (theirs, u2)):
            self.wait_osdi(t, i)

    def test_unknown_paths_and_ids(self):
        for p in ("exports/" + random_id(), "exports/bad..id",
                  "exports/%2e%2e", "nothing-here",
                  "exports/%s/other" % random_id()):
            with self.subTest(path=p):
                r = self.osdi("GET", p, token=self.user)
                self.assertEqual(r.status, 404, r)
