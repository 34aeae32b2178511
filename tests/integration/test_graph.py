"""
The Graph dialect end to end (SPEC sections 2, 3 and 5) against a real
lighttpd + quarryd stack: definitions, exportJobs with typed parameters,
the duplicate rule (also under concurrent creates), paging and $filter,
cancel, approval, roles and tenants -- what a client written from SPEC
section 5 alone would check.
"""

import json
import threading
import time
from urllib.parse import quote

from harness import RFC3339_Z, parse_rfc3339
from jsonapi import (EXP_COLUMNS, EXP_ROWS, GRAPH, GRAPH_WORDS, ID_RE,
                     JSONStackTestCase, body_json, csv_of, expected_rows,
                     expense_csv, expense_definition, random_id)

JOB_FIELDS = ("id", "status", "statusDetail", "state", "definitionId",
              "parameters", "format", "createdBy", "createdDateTime", "lastActionDateTime",
              "expirationDateTime", "progress")


class GraphDefinitionsTest(JSONStackTestCase):
    """GET/POST/PUT/DELETE /api/v1/definitions."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="acme-admin")
        cls.user = s.token("acme", "user", name="acme-user")
        cls.other_admin = s.token("globex", "admin", name="globex-admin")
        s.dataset("acme", "expenses", expense_csv())
        s.dataset("globex", "expenses", expense_csv())

    def post_def(self, doc, token=None):
        return self.graph("POST", "definitions", doc, token or self.admin)

    def test_list_and_get_show_only_the_tenants_definitions(self):
        tok = self.stack.token("listco", "user", name="listco-user")
        self.stack.dataset("listco", "expenses", expense_csv())
        mine = {self.add_definition(expense_definition("listco", "L1")),
                self.add_definition(expense_definition("listco", "L2"))}
        theirs = self.add_definition(expense_definition("globex", "G1"))
        r = self.graph("GET", "definitions", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith(
            "application/json"), r.header("Content-Type"))
        o = body_json(r)
        self.assertEqual(list(o.keys()), ["value"], o)
        self.assertEqual({d["id"] for d in o["value"]}, mine)
        for d in o["value"]:
            self.assertRegex(d["createdDateTime"], RFC3339_Z)
            self.assertRegex(d["modifiedDateTime"], RFC3339_Z)
        for def_id in mine:
            r = self.graph("GET", "definitions/" + def_id, token=tok)
            self.assertEqual(r.status, 200, r)
            d = body_json(r)
            self.assertEqual(d["id"], def_id)
            self.assertIn(d["name"], ("L1", "L2"))
            self.assertEqual(d["columns"], EXP_COLUMNS)
            self.assertEqual(d["source"], {"dataset": "expenses"})
            self.assertEqual([p["name"] for p in d["parameters"]],
                             ["from", "currency", "min"])
        # another tenant's definition is exactly a missing one
        for def_id in (theirs, random_id()):
            r = self.graph("GET", "definitions/" + def_id, token=tok)
            self.assertGraphError(r, 404)

    def test_admin_creates_a_definition(self):
        doc = expense_definition("acme", "Created by POST")
        del doc["tenant"]       # the token's tenant
        t0 = time.time()
        r = self.post_def(doc)
        self.assertEqual(r.status, 201, r)
        d = body_json(r)
        self.assertRegex(d["id"], ID_RE)
        self.assertEqual(self.path_of(r.header("Location")),
                         "%s/definitions/%s" % (GRAPH, d["id"]))
        for k in ("createdDateTime", "modifiedDateTime"):
            self.assertRegex(d[k], RFC3339_Z)
            self.assertLess(abs(parse_rfc3339(d[k]) - t0), 120, d)
        for k, v in doc.items():
            self.assertEqual(d[k], v, k)
        # the stored document reads back, and the user sees it
        r = self.graph("GET", "definitions/" + d["id"], token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(body_json(r), d)
        r = self.graph("GET", "definitions", token=self.user)
        self.assertIn(d["id"], [x["id"] for x in body_json(r)["value"]])
        # and a job runs on it
        j = self.graph_create(self.user, d["id"], {"currency": "USD"})
        j = self.wait_graph(self.user, j["id"])
        self.assertEqual(j["status"], "succeeded", j)

    def test_invalid_definitions_name_the_field(self):
        base = expense_definition("acme", "Bad")
        cases = [
            ("columns", dict(base, columns="report_id")),
            ("columns", dict(base, columns=[1, 2])),
            ("formats", dict(base, formats=["csv", "pdf"])),
            ("formats", dict(base, formats=[])),
            ("retention", dict(base, retention="forever")),
            ("retention", dict(base, retention=7)),
            ("colour", dict(base, colour="blue")),
            ("name", {k: v for k, v in base.items() if k != "name"}),
            ("source", dict(base, source={"dataset": "expenses",
                                          "command": "x"})),
            ("parameters", dict(base, parameters=[{"name": "from",
                                                   "type": "money"}])),
            ("filters", dict(base, filters=[{"column": "date", "op": "~",
                                             "parameter": "from"}])),
            ("filters", dict(base, filters=[{"column": "date", "op": "=",
                                             "parameter": "nope"}])),
            ("approval", dict(base, approval="yes")),
            ("rows_per_file", dict(base, rows_per_file=-1)),
            ("tenant", dict(base, tenant="globex")),
        ]
        before = self.stack.ctl("definition", "list", "--tenant", "acme")
        for field, doc in cases:
            with self.subTest(field=field, doc=doc):
                err = self.assertGraphError(self.post_def(doc), 400)
                self.assertIn(field, err.get("target", ""), err)
        self.assertEqual(self.stack.ctl("definition", "list", "--tenant",
                                        "acme"), before)

    def test_user_may_not_write_definitions(self):
        def_id = self.add_definition(expense_definition("acme", "Keep"))
        doc = expense_definition("acme", "Nope")
        for method, path, body in (
                ("POST", "definitions", doc),
                ("PUT", "definitions/" + def_id, doc),
                ("DELETE", "definitions/" + def_id, None)):
            with self.subTest(method=method):
                r = self.graph(method, path, body, self.user)
                self.assertGraphError(r, 403, code="accessDenied")
        r = self.graph("GET", "definitions/" + def_id, token=self.user)
        self.assertEqual(body_json(r)["name"], "Keep")

    def test_put_replaces_the_document(self):
        def_id = self.add_definition(expense_definition("acme", "Old"))
        old = body_json(self.graph("GET", "definitions/" + def_id,
                                   token=self.admin))
        time.sleep(1.1)     # modifiedDateTime has second resolution
        doc = expense_definition("acme", "New", description="replaced",
                                 formats=["json"])
        r = self.graph("PUT", "definitions/" + def_id, doc, self.admin)
        self.assertEqual(r.status, 200, r)
        d = body_json(r)
        self.assertEqual(d["id"], def_id)
        self.assertEqual(d["name"], "New")
        self.assertEqual(d["formats"], ["json"])
        self.assertEqual(d["createdDateTime"], old["createdDateTime"])
        self.assertGreater(parse_rfc3339(d["modifiedDateTime"]),
                           parse_rfc3339(old["modifiedDateTime"]))
        got = body_json(self.graph("GET", "definitions/" + def_id,
                                   token=self.user))
        self.assertEqual(got, d)
        # the new formats are the ones a job may ask for
        r = self.graph_create(self.user, def_id, fmt="csv", expect=400)
        self.assertGraphError(r, 400, target="format")
        j = self.graph_create(self.user, def_id)
        self.assertEqual(j["format"], "json")
        self.wait_graph(self.user, j["id"])
        # an invalid replacement changes nothing
        r = self.graph("PUT", "definitions/" + def_id,
                       dict(doc, retention="soon"), self.admin)
        self.assertGraphError(r, 400, target="retention")
        self.assertEqual(body_json(self.graph(
            "GET", "definitions/" + def_id, token=self.user)), d)
        # PUT on a missing or foreign definition is 404
        for other in (random_id(), self.add_definition(
                expense_definition("globex", "Theirs"))):
            r = self.graph("PUT", "definitions/" + other, doc, self.admin)
            self.assertGraphError(r, 404)

    def test_delete_and_active_jobs(self):
        def_id = self.add_definition(expense_definition("acme", "Del"))
        with self.paused():
            j = self.graph_create(self.user, def_id)
            r = self.graph("DELETE", "definitions/" + def_id,
                           token=self.admin)
            self.assertGraphError(r, 409)
            self.assertEqual(self.graph("GET", "definitions/" + def_id,
                                        token=self.admin).status, 200)
        self.wait_graph(self.user, j["id"])
        # another tenant's admin cannot delete it
        r = self.graph("DELETE", "definitions/" + def_id,
                       token=self.other_admin)
        self.assertGraphError(r, 404)
        r = self.graph("DELETE", "definitions/" + def_id, token=self.admin)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertGraphError(self.graph("GET", "definitions/" + def_id,
                                         token=self.admin), 404)
        self.assertGraphError(self.graph("DELETE", "definitions/" + def_id,
                                         token=self.admin), 404)
        r = self.graph_create(self.user, def_id, expect=400)
        self.assertGraphError(r, 400, target="definitionId")

    def test_auth(self):
        r = self.graph("GET", "definitions")
        self.assertGraphError(r, 401, code="unauthenticated")
        r = self.graph("GET", "definitions", token="not-a-token")
        self.assertGraphError(r, 401, code="unauthenticated")
        r = self.graph("GET", "definitions",
                       headers={"Authorization": "OAuth " + self.user})
        self.assertGraphError(r, 401, code="unauthenticated")

    # ---- who asks: /me ----

    def test_me_says_who_the_caller_is(self):
        nameless = self.stack.token("nonameco", "user")
        for tok, tenant, name, role in (
                (self.admin, "acme", "acme-admin", "admin"),
                (self.user, "acme", "acme-user", "user"),
                (self.other_admin, "globex", "globex-admin", "admin"),
                (nameless, "nonameco", "", "user")):
            with self.subTest(name=name, role=role):
                r = self.graph("GET", "me", token=tok)
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.header("Content-Type").startswith(
                    "application/json"), r.header("Content-Type"))
                o = body_json(r)
                # the id is the public one of token list, never the secret
                self.assertEqual(o, {
                    "id": self.stack.token_id(tenant, name),
                    "displayName": name or None,
                    "tenant": tenant,
                    "role": role})
                self.assertEqual(list(o), ["id", "displayName", "tenant",
                                           "role"])
                self.assertNotIn(tok, r.body.decode())
                # a query changes nothing; HEAD has no body
                r = self.graph("GET", "me?x=1", token=tok)
                self.assertEqual(body_json(r), o)
                r = self.graph("HEAD", "me", token=tok)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, b"")
        # /metrics, which /me begins, is still the jobs program's
        r = self.graph("GET", "metrics", token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))

    def test_me_refusals(self):
        r = self.graph("GET", "me")
        self.assertGraphError(r, 401, code="unauthenticated")
        self.assertTrue(r.header("WWW-Authenticate").startswith("Bearer"))
        self.assertGraphError(self.graph("GET", "me", token="not-a-token"),
                              401, code="unauthenticated")
        gone = self.stack.token("acme", "user", name="acme-gone")
        self.stack.ctl("token", "revoke",
                       self.stack.token_id("acme", "acme-gone"))
        self.assertGraphError(self.graph("GET", "me", token=gone), 401,
                              code="unauthenticated")
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                r = self.graph(method, "me", {} if method != "DELETE"
                               else None, self.user)
                self.assertGraphError(r, 405, code="methodNotAllowed")
                self.assertEqual(r.header("Allow"), "GET, HEAD")
        for path in ("me/x", "mex", "me/me"):
            with self.subTest(path=path):
                self.assertGraphError(self.graph("GET", path,
                                                 token=self.user), 404)


class GraphJobsTest(JSONStackTestCase):
    """POST/GET/DELETE /api/v1/exportJobs, content, approve/reject."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="acme-admin")
        cls.user = s.token("acme", "user", name="acme-user")
        cls.user2 = s.token("acme", "user", name="acme-user2")
        cls.other = s.token("globex", "admin", name="globex-admin")
        s.dataset("acme", "expenses", expense_csv())
        s.dataset("globex", "expenses", expense_csv())

    def new_def(self, name, tenant="acme", **extra):
        return self.add_definition(expense_definition(tenant, name, **extra))

    # ---- create ----

    def test_create_with_typed_parameters(self):
        def_id = self.new_def("Typed")
        params = {"from": "2026-03-01", "currency": "EUR", "min": "10"}
        with self.paused():
            t0 = time.time()
            j = self.graph_create(self.user, def_id, params, "csv")
            self.assertEqual(j["status"], "notStarted", j)
            self.assertEqual(j["definitionId"], def_id)
            self.assertEqual(j["parameters"], params)
            self.assertEqual(j["format"], "csv")
            self.assertRegex(j["createdDateTime"], RFC3339_Z)
            self.assertLess(abs(parse_rfc3339(j["createdDateTime"]) - t0),
                            120)
            self.assertNotIn("resourceLocation", j)
            # a GET while it waits: Retry-After, no resourceLocation
            r = self.graph("GET", "exportJobs/" + j["id"], token=self.user)
            self.assertEqual(r.status, 200, r)
            ra = r.header("Retry-After")
            self.assertIsNotNone(ra, r.headers)
            self.assertTrue(ra.isdigit() and int(ra) > 0, ra)
            g = body_json(r)
            for k in JOB_FIELDS:
                self.assertIn(k, g)
            self.assertEqual(g["status"], "notStarted")
            self.assertNotIn("resourceLocation", g)
        j = self.wait_graph(self.user, j["id"])
        self.assertEqual(j["status"], "succeeded", j)

    def test_bad_parameters_name_the_parameter(self):
        def_id = self.new_def("BadParams", formats=["csv", "json"])
        cases = [
            ("from", {"parameters": {"from": "2026-13-01"}}),
            ("from", {"parameters": {"from": "01.02.2026"}}),
            ("from", {"parameters": {"from": 20260101}}),
            ("min", {"parameters": {"min": "ten"}}),
            ("nope", {"parameters": {"nope": "x"}}),
            ("parameters", {"parameters": ["from"]}),
            ("format", {"format": "pdf"}),
            ("format", {"format": "xml"}),     # not offered by this one
            ("format", {"format": 1}),
            ("definitionId", {"definitionId": random_id()}),
            ("definitionId", {"definitionId": 7}),
            ("definitionId", {"definitionId": None}),
            ("colour", {"colour": "blue"}),
        ]
        for name, extra in cases:
            body = {"definitionId": def_id}
            body.update(extra)
            with self.subTest(body=body):
                r = self.graph("POST", "exportJobs", body, self.user)
                err = self.assertGraphError(r, 400)
                self.assertIn(name, err.get("target", ""), err)
        r = self.graph("GET", "exportJobs?$filter=" +
                       quote("definitionId eq '%s'" % def_id),
                       token=self.admin)
        self.assertEqual(body_json(r)["value"], [])

    def test_required_parameter(self):
        doc = expense_definition("acme", "Required")
        doc["parameters"][1]["required"] = True
        def_id = self.add_definition(doc)
        r = self.graph_create(self.user, def_id, {"from": "2026-01-01"},
                              expect=400)
        self.assertGraphError(r, 400, target="currency")
        j = self.graph_create(self.user, def_id, {"currency": "CHF"})
        self.wait_graph(self.user, j["id"])

    def test_duplicate_active_job_is_409_pointing_at_it(self):
        def_id = self.new_def("Dup")
        params = {"from": "2025-06-01", "currency": "USD"}
        with self.paused():
            j = self.graph_create(self.user, def_id, params, "csv")
            # the same job, parameters in another order, format implied
            for body in ({"definitionId": def_id, "format": "csv",
                          "parameters": {"currency": "USD",
                                         "from": "2025-06-01"}},
                         {"definitionId": def_id, "parameters": params}):
                r = self.graph("POST", "exportJobs", body, self.user)
                err = self.assertGraphError(r, 409, code="notAllowed")
                self.assertEqual(err.get("target"), j["id"], err)
                self.assertEqual(err["innerError"].get("code"),
                                 "exportJobAlreadyExists", err)
                self.assertEqual(
                    err["message"], "Another export job is still active "
                    "or waiting to be executed")
                self.assertEqual(self.path_of(r.header("Location")),
                                 "%s/exportJobs/%s" % (GRAPH, j["id"]))
            # other parameters, another format: other jobs
            others = [
                self.graph_create(self.user, def_id,
                                  {"from": "2025-06-02", "currency": "USD"}),
                self.graph_create(self.user, def_id, params, "json"),
                self.graph_create(self.user, def_id, {}),
            ]
            ids = {j["id"]} | {o["id"] for o in others}
            self.assertEqual(len(ids), 4)
            # A 409 points at a job its caller can see (docs/http.md):
            # another user of the tenant cannot see j, so gets a job of
            # their own, and the same again is a 409 pointing at it ...
            mine = self.graph_create(self.user2, def_id, params, "csv")
            self.assertNotIn(mine["id"], ids)
            r = self.graph("POST", "exportJobs", {"definitionId": def_id,
                                                  "parameters": params},
                           self.user2)
            err = self.assertGraphError(r, 409, code="notAllowed")
            self.assertEqual(err["target"], mine["id"])
            self.assertEqual(self.graph("GET", "exportJobs/" + j["id"],
                                        token=self.user2).status, 404)
            # ... while an admin, who sees every job of the tenant, is
            # refused pointing at the first of them
            r = self.graph("POST", "exportJobs", {"definitionId": def_id,
                                                  "parameters": params},
                           self.admin)
            err = self.assertGraphError(r, 409, code="notAllowed")
            self.assertIn(err["target"], (j["id"], mine["id"]))
            self.assertEqual(self.graph("GET", "exportJobs/" + err["target"],
                                        token=self.admin).status, 200)
            ids.add(mine["id"])
        for i in ids:
            self.assertEqual(self.wait_graph(self.admin, i)["status"],
                             "succeeded")
        # finished: a new identical job may start
        j2 = self.graph_create(self.user, def_id, params, "csv")
        self.assertNotEqual(j2["id"], j["id"])
        self.wait_graph(self.user, j2["id"])

    def test_filters_select_the_rows(self):
        def_id = self.new_def("Filters")
        cases = [
            {},
            {"currency": "EUR"},
            {"from": "2026-01-01"},
            {"min": "10"},          # typed: "9.5" < "10" < "100.25"
            {"from": "2025-07-15", "currency": "USD", "min": "9.5"},
            {"currency": "XXX"},
        ]
        jobs = []
        for p in cases:
            jobs.append((p, self.graph_create(self.user, def_id, p)))
        for p, j in jobs:
            with self.subTest(params=p):
                j = self.wait_graph(self.user, j["id"])
                self.assertEqual(j["status"], "succeeded", j)
                rows = expected_rows(p)
                if p.get("currency") != "XXX":
                    self.assertTrue(rows)
                r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                               token=self.user)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("Content-Type"),
                                 "text/csv; charset=utf-8")
                self.assertEqual(r.body, csv_of(rows))
                self.assertEqual(j["progress"]["rowsWritten"], len(rows))
                self.assertEqual(j["progress"]["bytesWritten"], len(r.body))
        # the filter on "min" is numeric, not textual
        self.assertNotEqual(expected_rows({"min": "10"}),
                            [x for x in EXP_ROWS if x[3] >= "10"])

    def test_json_format_content(self):
        def_id = self.new_def("JSON")
        p = {"currency": "CHF"}
        j = self.graph_create(self.user, def_id, p, "json")
        j = self.wait_graph(self.user, j["id"])
        r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                       token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith(
            "application/json"))
        self.assertEqual(body_json(r), [dict(zip(EXP_COLUMNS, x))
                                        for x in expected_rows(p)])

    # ---- get ----

    def test_succeeded_job_has_every_field(self):
        def_id = self.new_def("Fields", retention="2d")
        p = {"currency": "EUR"}
        j = self.graph_create(self.user, def_id, p, displayName="mine")
        r = self.graph("GET", "exportJobs/" + j["id"], token=self.user)
        j = self.wait_graph(self.user, j["id"])
        r = self.graph("GET", "exportJobs/" + j["id"], token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("Retry-After"), r.headers)
        j = body_json(r)
        for k in JOB_FIELDS:
            self.assertIn(k, j)
        self.assertEqual(j["status"], "succeeded")
        self.assertEqual(j["state"], "completed")
        self.assertIsInstance(j["statusDetail"], str)
        self.assertEqual(j["definitionId"], def_id)
        self.assertEqual(j["parameters"], p)
        self.assertEqual(j["format"], "csv")
        self.assertEqual(j.get("displayName"), "mine")
        for k in ("createdDateTime", "lastActionDateTime",
                  "expirationDateTime"):
            self.assertRegex(j[k], RFC3339_Z)
        created = parse_rfc3339(j["createdDateTime"])
        self.assertGreaterEqual(parse_rfc3339(j["lastActionDateTime"]),
                                created)
        exp = parse_rfc3339(j["expirationDateTime"]) - created
        self.assertLess(abs(exp - 2 * 86400), 120, j)
        self.assertEqual(j["progress"]["rowsWritten"],
                         len(expected_rows(p)))
        self.assertEqual(self.path_of(j["resourceLocation"]),
                         "%s/exportJobs/%s/content" % (GRAPH, j["id"]))
        r = self.graph("GET", self.path_of(j["resourceLocation"]),
                       token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, csv_of(expected_rows(p)))
        self.assertEqual(j["progress"]["bytesWritten"], len(r.body))
        self.assertIsNotNone(r.header("ETag"))
        self.assertTrue(r.header("Content-Disposition").startswith(
            "attachment"))
        r = self.graph("HEAD", "exportJobs/%s/content" % j["id"],
                       token=self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"")

    def test_missing_and_malformed_job_ids_are_404(self):
        for jid in (random_id(), "x", "..%2Fetc", "a" * 300):
            with self.subTest(id=jid):
                r = self.graph("GET", "exportJobs/" + jid, token=self.user)
                self.assertGraphError(r, 404)
                r = self.graph("GET", "exportJobs/%s/content" % jid,
                               token=self.user)
                self.assertGraphError(r, 404)
                r = self.graph("DELETE", "exportJobs/" + jid,
                               token=self.user)
                self.assertGraphError(r, 404)

    def test_content_before_completion_is_404(self):
        def_id = self.new_def("Early")
        with self.paused():
            j = self.graph_create(self.user, def_id)
            r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                           token=self.user)
            self.assertGraphError(r, 404)
        self.wait_graph(self.user, j["id"])

    # ---- list ----

    def test_list_top_and_query_options(self):
        tok = self.stack.token("topco", "admin", name="topco")
        self.stack.dataset("topco", "expenses", expense_csv(EXP_ROWS[:2]))
        def_id = self.new_def("Top", tenant="topco")
        with self.paused():
            made = [self.graph_create(tok, def_id, {"min": str(i)})["id"]
                    for i in range(105)]
        r = self.graph("GET", "exportJobs", token=tok)
        self.assertEqual(r.status, 200, r)
        o = body_json(r)
        self.assertEqual(len(o["value"]), 100)
        self.assertIn("@odata.nextLink", o)
        self.assertEqual([j["id"] for j in o["value"]], made[::-1][:100])
        r = self.graph("GET", "exportJobs?$top=1000", token=tok)
        o = body_json(r)
        self.assertEqual([j["id"] for j in o["value"]], made[::-1])
        self.assertNotIn("@odata.nextLink", o)
        self.assertEqual(self.all_graph_jobs(tok), made[::-1])
        for bad in ("$top=0", "$top=1001", "$top=abc", "$top=-1", "$top=",
                    "$skip=3", "$orderby=createdDateTime",
                    "$select=id", "$count=true", "$expand=x",
                    "$filter=format eq 'csv'",
                    "$filter=statusDetail eq 'pending_approval'",
                    "$filter=status eq 'done'",
                    "$filter=definitionId eq '%s' or status eq "
                    "'failed'" % def_id,
                    "$filter=status ne 'failed'"):
            with self.subTest(query=bad):
                r = self.graph("GET", "exportJobs?" + bad.replace(" ", "%20"),
                               token=tok)
                self.assertGraphError(r, 400)

    def test_paging_visits_every_job_once_newest_first(self):
        tok = self.stack.token("pageco", "user", name="pageco")
        self.stack.dataset("pageco", "expenses", expense_csv(EXP_ROWS[:2]))
        def_id = self.new_def("Pages", tenant="pageco")
        made = [self.graph_create(tok, def_id, {"min": str(i)})["id"]
                for i in range(10)]
        pages = []
        path = GRAPH + "/exportJobs?$top=3"
        while path is not None:
            r = self.graph("GET", path, token=tok)
            self.assertEqual(r.status, 200, r)
            o = body_json(r)
            pages.append([j["id"] for j in o["value"]])
            nl = o.get("@odata.nextLink")
            path = self.path_of(nl) if nl else None
            self.assertLess(len(pages), 10)
        self.assertEqual([len(p) for p in pages], [3, 3, 3, 1])
        self.assertEqual(sum(pages, []), made[::-1])
        for i in made:
            self.wait_graph(tok, i)

    def test_filter_by_definition_and_status(self):
        tok = self.stack.token("filtco", "admin", name="filtco")
        self.stack.dataset("filtco", "expenses", expense_csv(EXP_ROWS[:3]))
        a = self.new_def("A", tenant="filtco")
        b = self.new_def("B", tenant="filtco")
        done = {}
        for d, p in ((a, {}), (a, {"min": "1"}), (b, {})):
            j = self.graph_create(tok, d, p)
            self.assertEqual(self.wait_graph(tok, j["id"])["status"],
                             "succeeded")
            done.setdefault(d, []).append(j["id"])
        with self.paused():
            qa = self.graph_create(tok, a, {"min": "2"})["id"]
            qb = self.graph_create(tok, b, {"min": "2"})["id"]

            def ids(flt):
                return set(self.all_graph_jobs(
                    tok, "?$filter=" + flt.replace(" ", "%20")
                    .replace("'", "%27")))

            self.assertEqual(ids("definitionId eq '%s'" % a),
                             set(done[a]) | {qa})
            self.assertEqual(ids("status eq 'notStarted'"), {qa, qb})
            self.assertEqual(ids("status eq 'succeeded'"),
                             set(done[a] + done[b]))
            self.assertEqual(ids("definitionId eq '%s' and status eq "
                                 "'notStarted'" % b), {qb})
            self.assertEqual(ids("status eq 'succeeded' and definitionId "
                                 "eq '%s'" % b), set(done[b]))
            self.assertEqual(ids("status eq 'failed'"), set())
            self.assertEqual(ids("definitionId eq '%s'" % random_id()),
                             set())
            # the filter survives paging
            got = self.all_graph_jobs(tok, "?$top=1&$filter=" + (
                "definitionId eq '%s'" % a).replace(" ", "%20"))
            self.assertEqual(set(got), set(done[a]) | {qa})
            self.assertEqual(len(got), 3)
        for i in (qa, qb):
            self.wait_graph(tok, i)

    # ---- createdBy ----

    def test_created_by_names_the_token(self):
        tenant = "madeco"
        admin = self.stack.token(tenant, "admin", name="Ada Admin")
        user = self.stack.token(tenant, "user", name="Uma User")
        user2 = self.stack.token(tenant, "user", name="Ulf User")
        nameless = self.stack.token(tenant, "user")
        self.stack.dataset(tenant, "expenses", expense_csv(EXP_ROWS[:3]))
        ids = {n: self.stack.token_id(tenant, n)
               for n in ("Ada Admin", "Uma User", "Ulf User", "")}
        def_id = self.new_def("Made", tenant=tenant, approval=True)

        def by(name):
            return {"user": {"id": ids[name], "displayName": name or None}}

        # as created, as the owner polls it, as the admin polls it
        mine = self.graph_create(user, def_id, {"min": "1"})
        self.assertEqual(mine["createdBy"], by("Uma User"))
        keys = list(mine)
        self.assertEqual(keys[keys.index("format") + 1:][:2],
                         ["createdBy", "createdDateTime"], keys)
        self.assertEqual(self.graph_job(user, mine["id"])["createdBy"],
                         by("Uma User"))
        self.assertEqual(self.graph_job(admin, mine["id"])["createdBy"],
                         by("Uma User"))
        theirs = self.graph_create(user2, def_id, {"min": "1"})
        anon = self.graph_create(nameless, def_id, {"min": "1"})
        self.assertEqual(anon["createdBy"], by(""))
        self.assertIsNone(anon["createdBy"]["user"]["displayName"])
        own = self.graph_create(admin, def_id, {"min": "2"})
        self.assertEqual(own["createdBy"], by("Ada Admin"))
        self.assertEqual(self.graph_job(admin, own["id"])["createdBy"],
                         by("Ada Admin"))
        # a list: each job its own maker, the users' own only
        want = {mine["id"]: by("Uma User"), theirs["id"]: by("Ulf User"),
                anon["id"]: by(""), own["id"]: by("Ada Admin")}
        r = self.graph("GET", "exportJobs", token=admin)
        self.assertEqual({j["id"]: j["createdBy"]
                          for j in body_json(r)["value"]}, want)
        r = self.graph("GET", "exportJobs", token=user)
        self.assertEqual({j["id"]: j["createdBy"]
                          for j in body_json(r)["value"]},
                         {mine["id"]: by("Uma User")})
        # approve and reject answer the job, with its maker
        r = self.graph("POST", "exportJobs/%s/approve" % mine["id"], None,
                       admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(body_json(r)["createdBy"], by("Uma User"))
        for j in (theirs, anon, own):
            r = self.graph("POST", "exportJobs/%s/reject" % j["id"], None,
                           admin)
            self.assertEqual(body_json(r)["createdBy"], want[j["id"]])
        done = self.wait_graph(user, mine["id"])
        self.assertEqual(done["status"], "succeeded", done)
        self.assertEqual(done["createdBy"], by("Uma User"))
        # a job made through Concur has its maker too
        loc, _ = self.create_job(def_id, user2)
        self.assertEqual(self.graph_job(admin, loc.rsplit("/", 1)[-1])[
            "createdBy"], by("Ulf User"))
        # a revoked token's jobs keep its name
        self.stack.ctl("token", "revoke", ids["Ulf User"])
        self.assertEqual(self.graph_job(admin, theirs["id"])["createdBy"],
                         by("Ulf User"))
        # the goals mount's document is Microsoft's, without createdBy
        r = self.graph("GET", "/v1.0/employeeExperience/goals/exportJobs/" +
                       mine["id"], token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("createdBy", body_json(r))

    # ---- delete ----

    def test_delete_a_queued_job_cancels_it(self):
        def_id = self.new_def("Cancel")
        with self.paused():
            j = self.graph_create(self.user, def_id, {"currency": "EUR"})
            r = self.graph("DELETE", "exportJobs/" + j["id"],
                           token=self.user)
            self.assertEqual(r.status, 204, r)
            g = self.graph_job(self.user, j["id"])
            self.assertEqual(g["status"], "failed", g)
            self.assertEqual(g["state"], "cancelled", g)
            self.assertNotIn("resourceLocation", g)
            x = self.osdi_export(self.user, j["id"])
            self.assertEqual(x["status"], "cancelled", x)
            # no longer active: the same job can be created again
            j2 = self.graph_create(self.user, def_id, {"currency": "EUR"})
        time.sleep(1)
        self.assertEqual(self.graph_job(self.user, j["id"])["status"],
                         "failed")
        r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                       token=self.user)
        self.assertGraphError(r, 404)
        self.wait_graph(self.user, j2["id"])

    def test_delete_a_completed_job_removes_its_file(self):
        def_id = self.new_def("RmFile")
        j = self.graph_create(self.user, def_id)
        self.wait_graph(self.user, j["id"])
        path = "exportJobs/%s/content" % j["id"]
        self.assertEqual(self.graph("GET", path, token=self.user).status,
                         200)
        r = self.graph("DELETE", "exportJobs/" + j["id"], token=self.user)
        self.assertEqual(r.status, 204, r)
        self.assertGraphError(self.graph("GET", path, token=self.user), 410)
        self.assertEqual(self.graph("GET", "exportJobs/" + j["id"],
                                    token=self.user).status, 200)

    # ---- approval ----

    def test_approval(self):
        def_id = self.new_def("Approve", approval=True)
        a = self.graph_create(self.user, def_id, {"currency": "EUR"})
        b = self.graph_create(self.user, def_id, {"currency": "USD"})
        for j in (a, b):
            self.assertEqual(j["status"], "notStarted")
        time.sleep(1.5)     # quarryd runs, but may not take them
        for j in (a, b):
            self.assertEqual(self.graph_job(self.user, j["id"])["status"],
                             "notStarted")
            self.assertEqual(self.osdi_export(self.user, j["id"])["status"],
                             "pending_approval")
        for verb in ("approve", "reject"):
            r = self.graph("POST", "exportJobs/%s/%s" % (a["id"], verb),
                           {} if verb == "approve" else {"reason": "x"},
                           self.user)
            self.assertGraphError(r, 403, code="accessDenied")
        # another tenant's admin: 404
        r = self.graph("POST", "exportJobs/%s/approve" % a["id"], None,
                       self.other)
        self.assertGraphError(r, 404)
        reason = "Over budget for March"
        r = self.graph("POST", "exportJobs/%s/reject" % b["id"],
                       {"reason": reason}, self.admin)
        self.assertEqual(r.status, 200, r)
        g = self.graph_job(self.user, b["id"])
        self.assertEqual(g["status"], "failed")
        self.assertIn(reason, g["statusDetail"])
        # the reason is in statusDetail, the state beside it
        self.assertEqual(g["state"], "rejected")
        x = self.osdi_export(self.user, b["id"])
        self.assertEqual(x["status"], "rejected")
        self.assertIn(reason, x["detail"])
        r = self.graph("POST", "exportJobs/%s/approve" % a["id"], None,
                       self.admin)
        self.assertEqual(r.status, 200, r)
        g = self.wait_graph(self.user, a["id"])
        self.assertEqual(g["status"], "succeeded", g)
        x = self.osdi_export(self.user, a["id"])
        self.assertRegex(x["approved_date"] or "", RFC3339_Z)
        r = self.graph("GET", "exportJobs/%s/content" % a["id"],
                       token=self.user)
        self.assertEqual(r.body, csv_of(expected_rows({"currency": "EUR"})))
        # deciding twice is refused
        for j, verb in ((a, "approve"), (b, "approve"), (b, "reject")):
            r = self.graph("POST", "exportJobs/%s/%s" % (j["id"], verb),
                           None, self.admin)
            self.assertGraphError(r, 409)

    # ---- roles and tenants ----

    def test_users_see_only_their_own_jobs(self):
        def_id = self.new_def("Mine")
        mine = self.graph_create(self.user, def_id, {"currency": "EUR"})
        self.wait_graph(self.user, mine["id"])
        theirs = self.graph_create(self.user2, def_id, {"currency": "USD"})
        self.wait_graph(self.user2, theirs["id"])
        self.assertIn(mine["id"], self.all_graph_jobs(self.user))
        self.assertNotIn(theirs["id"], self.all_graph_jobs(self.user))
        both = set(self.all_graph_jobs(self.admin))
        self.assertTrue({mine["id"], theirs["id"]} <= both)
        jid = theirs["id"]
        for tok in (self.user, self.other):
            with self.subTest(token=tok[:4]):
                self.assertGraphError(self.graph(
                    "GET", "exportJobs/" + jid, token=tok), 404)
                self.assertGraphError(self.graph(
                    "GET", "exportJobs/%s/content" % jid, token=tok), 404)
                self.assertGraphError(self.graph(
                    "DELETE", "exportJobs/" + jid, token=tok), 404)
                for p in ("exports/" + jid, "exports/%s/download" % jid):
                    self.assertOsdiError(self.osdi("GET", p, token=tok), 404)
                self.assertOsdiError(self.osdi("DELETE", "exports/" + jid,
                                               token=tok), 404)
                for p in ("", "/status", "/file"):
                    r = self.concur("GET", "/api/expense/extract/v1.0/%s/job/"
                                    "%s%s" % (def_id, jid, p), tok)
                    self.assertEqual(r.status, 404, r)
                self.assertNotIn(jid, self.all_graph_jobs(tok))
        # the admin of the tenant sees and downloads it
        self.assertEqual(self.graph_job(self.admin, jid)["id"], jid)
        self.assertEqual(self.graph("GET", "exportJobs/%s/content" % jid,
                                    token=self.admin).status, 200)
        # another tenant cannot start a job on this tenant's definition
        r = self.graph("POST", "exportJobs", {"definitionId": def_id},
                       self.other)
        self.assertGraphError(r, 400, target="definitionId")
        self.assertGraphError(self.graph("GET", "definitions/" + def_id,
                                         token=self.other), 404)

    def test_user_cancels_only_own_jobs(self):
        def_id = self.new_def("CancelOwn")
        with self.paused():
            j = self.graph_create(self.user2, def_id)
            r = self.graph("DELETE", "exportJobs/" + j["id"],
                           token=self.user)
            self.assertGraphError(r, 404)
            self.assertEqual(self.graph_job(self.user2, j["id"])["status"],
                             "notStarted")
            r = self.graph("DELETE", "exportJobs/" + j["id"],
                           token=self.admin)
            self.assertEqual(r.status, 204, r)
            self.assertEqual(self.osdi_export(self.admin, j["id"])["status"],
                             "cancelled")

    # ---- concurrency ----

    def test_concurrent_identical_creates_one_wins(self):
        def_id = self.new_def("Race")
        n = 20
        with self.paused():
            for rnd in range(4):
                body = json.dumps({"definitionId": def_id,
                                   "parameters": {"min": str(rnd)}})
                barrier = threading.Barrier(n)
                results = [None] * n

                def post(i):
                    try:
                        barrier.wait(10)
                        results[i] = self.graph("POST", "exportJobs", body,
                                                self.user)
                    except Exception as e:      # noqa: BLE001
                        results[i] = e

                ts = [threading.Thread(target=post, args=(i,))
                      for i in range(n)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join(60)
                with self.subTest(round=rnd):
                    for r in results:
                        self.assertFalse(isinstance(r, Exception), r)
                    codes = sorted(r.status for r in results)
                    self.assertEqual(codes, [201] + [409] * (n - 1), codes)
                    win = [body_json(r)["id"] for r in results
                           if r.status == 201][0]
                    for r in results:
                        if r.status == 409:
                            err = self.assertGraphError(r, 409,
                                                        code="notAllowed")
                            self.assertEqual(err["target"], win)
                            self.assertEqual(err["innerError"]["code"],
                                             "exportJobAlreadyExists")
                            self.assertEqual(
                                self.path_of(r.header("Location")),
                                "%s/exportJobs/%s" % (GRAPH, win))
                    got = self.all_graph_jobs(
                        self.user, "?$filter=definitionId%%20eq%%20%%27%s%%27"
                        % def_id)
                    self.assertEqual(len(got), rnd + 1, got)
