"""
Microsoft Graph's goals export jobs (issue 16): the Graph dialect's
second mount, at /beta/employeeExperience/goals/exportJobs and
/v1.0/employeeExperience/goals/exportJobs, behind the server of the run.
The published create request works verbatim (its body is only
goalsOrganizationId and explorerViewId), so does its conflict; the list
takes $top, $skiptoken and $filter on goalsOrganizationId only; a job
and its content are read there; the organization and the explorer view
are the caller's tenant and one of its definitions, anything else is a
404 as for any resource the caller may not see; the jobs are the same
jobs as in the other dialects.
"""

import json
import urllib.parse

from harness import BASE
from jsonapi import (JSONStackTestCase, body_json, csv_of,
                     expected_rows, expense_csv, expense_definition)

BETA = "/beta/employeeExperience/goals/exportJobs"
V1 = "/v1.0/employeeExperience/goals/exportJobs"
# the members of a goalsExportJob in the order of the published examples
# (resourceLocation only once succeeded), then longRunningOperation's two
# that the examples leave out
JOB_MEMBERS = ["@odata.type", "id", "status", "resourceLocation",
               "goalsOrganizationId", "explorerViewId", "createdDateTime",
               "expirationDateTime", "lastActionDateTime", "statusDetail"]


class GoalsTest(JSONStackTestCase):

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="goals-admin")
        cls.user = s.token("acme", "user", name="goals-user")
        cls.user2 = s.token("acme", "user", name="goals-user2")
        cls.other = s.token("globex", "admin", name="goals-globex")
        s.dataset("acme", "expenses", expense_csv())
        s.dataset("globex", "expenses", expense_csv())

    def goals(self, method, path, token, body=None, headers=None):
        """A request as the published examples send it: a bearer token
        and, with a body, Content-Type: application/json."""
        return self.graph(method, path, body, token, headers)

    def view(self, name, tenant="acme", **extra):
        """A definition: the explorer view of an export."""
        return self.add_definition(expense_definition(tenant, name, **extra))

    def absolute(self, path):
        return "http://127.0.0.1:%d%s" % (self.stack.port, path)

    def create(self, token, view, mount=BETA, org="acme", expect=201):
        r = self.goals("POST", mount, token, {"goalsOrganizationId": org,
                                              "explorerViewId": view})
        self.assertEqual(r.status, expect, r)
        return r

    def assertJob(self, j):
        want = [m for m in JOB_MEMBERS if m != "resourceLocation" or
                j.get("status") == "succeeded"]
        self.assertEqual(list(j), want, j)
        self.assertEqual(j["@odata.type"], "#microsoft.graph.goalsExportJob")
        self.assertIn(j["status"], ("notStarted", "running", "succeeded",
                                    "failed"))

    # ---- the published create, verbatim ----

    def test_published_create_and_its_conflict(self):
        view = self.view("Goals view")
        r = self.create(self.user, view)
        self.assertTrue(r.header("Content-Type").startswith(
            "application/json"), r.headers)
        j = body_json(r)
        self.assertJob(j)
        self.assertEqual(j["status"], "notStarted")
        self.assertEqual(j["goalsOrganizationId"], "acme")
        self.assertEqual(j["explorerViewId"], view)
        self.assertNotIn("resourceLocation", j)
        self.assertIsNone(j["expirationDateTime"])
        self.assertEqual(r.header("Location"),
                         self.absolute("%s/%s" % (BETA, j["id"])))
        # the same properties while the first is pending: 409, Location
        # of the pending job, Graph's error body
        r2 = self.create(self.user, view, expect=409)
        self.assertEqual(r2.header("Location"),
                         self.absolute("%s/%s" % (BETA, j["id"])))
        err = body_json(r2)["error"]
        self.assertEqual(err["code"], "notAllowed", err)
        self.assertEqual(err["message"], "Another export job is still "
                         "active or waiting to be executed")
        self.assertEqual(err["target"], j["id"])
        self.assertEqual(err["innerError"]["code"], "exportJobAlreadyExists")
        done = self.wait_graph(self.user, j["id"])
        self.assertEqual(done["status"], "succeeded", done)
        # completed: no longer pending, a new job may be made
        r3 = self.create(self.user, view)
        self.assertNotEqual(body_json(r3)["id"], j["id"])
        self.wait_graph(self.user, body_json(r3)["id"])

    def test_paths_ignore_letter_case_and_both_versions_serve(self):
        view = self.view("Case view")
        r = self.create(self.user, view,
                        mount="/beta/employeeexperience/goals/exportJobs")
        jid = body_json(r)["id"]
        # the Location uses the published spelling
        self.assertEqual(r.header("Location"),
                         self.absolute("%s/%s" % (BETA, jid)))
        self.wait_graph(self.user, jid)
        for path in ("%s/%s" % (V1, jid), "%s/%s" % (BETA, jid),
                     "/V1.0/EMPLOYEEEXPERIENCE/GOALS/EXPORTJOBS/" + jid):
            with self.subTest(path=path):
                r = self.goals("GET", path, self.user)
                self.assertEqual(r.status, 200, r)
                j = body_json(r)
                mount = V1 if "v1.0" in path.lower() else BETA
                self.assertJob(j)
                self.assertEqual(j["status"], "succeeded")
                self.assertEqual(j["resourceLocation"], self.absolute(
                    "%s/%s/content" % (mount, jid)))

    # ---- get, content, the same jobs everywhere ----

    def test_job_and_content_are_the_other_dialects_jobs(self):
        view = self.view("Shared view")
        jid = body_json(self.create(self.user, view))["id"]
        g = self.wait_graph(self.user, jid)
        self.assertEqual(g["definitionId"], view)
        r = self.goals("GET", "%s/%s" % (BETA, jid), self.user)
        j = body_json(r)
        self.assertEqual(j["createdDateTime"], g["createdDateTime"])
        self.assertEqual(j["expirationDateTime"], g["expirationDateTime"])
        self.assertEqual(j["statusDetail"], g["statusDetail"])
        r = self.goals("GET", self.path_of(j["resourceLocation"]), self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, csv_of(expected_rows({})))
        self.assertEqual(r.header("ETag"), self.graph(
            "GET", "exportJobs/%s/content" % jid, token=self.user).header(
                "ETag"))
        # OSDI and Concur see the same job
        self.assertEqual(self.osdi_export(self.user, jid)["status"], "ready")
        self.assertEqual(self.concur_status(self.user, view, jid).findtext(
            "{http://www.concursolutions.com/api/expense/extract/2010/02}"
            "status"), "Completed")
        # a job made in Graph's first mount reads here as a goals job
        other = self.graph_create(self.user, view, {"currency": "CHF"})
        r = self.goals("GET", "%s/%s" % (V1, other["id"]), self.user)
        self.assertEqual(r.status, 200, r)
        j = body_json(r)
        self.assertEqual((j["goalsOrganizationId"], j["explorerViewId"]),
                         ("acme", view))
        self.wait_graph(self.user, other["id"])
        # HEAD of the job and of its content
        r = self.goals("HEAD", "%s/%s" % (BETA, jid), self.user)
        self.assertEqual((r.status, r.body), (200, b""))
        r = self.goals("HEAD", "%s/%s/content" % (BETA, jid), self.user)
        self.assertEqual((r.status, r.body), (200, b""))

    def test_parameters_and_format_may_come_too(self):
        view = self.view("Param view")
        r = self.goals("POST", BETA, self.user, {
            "goalsOrganizationId": "acme", "explorerViewId": view,
            "parameters": {"currency": "EUR"}, "format": "json"})
        self.assertEqual(r.status, 201, r)
        jid = body_json(r)["id"]
        g = self.wait_graph(self.user, jid)
        self.assertEqual((g["parameters"], g["format"]),
                         ({"currency": "EUR"}, "json"))
        r = self.goals("POST", BETA, self.user, {
            "goalsOrganizationId": "acme", "explorerViewId": view,
            "parameters": {"currency": 7}})
        self.assertGraphError(r, 400, "badRequest", "parameters.currency")

    # ---- who sees what ----

    def test_organization_and_view_the_caller_cannot_see_are_404(self):
        view = self.view("Acme view")
        globex_view = self.view("Globex view", tenant="globex")
        for org, v, target, inner in (
                ("globex", view, "goalsOrganizationId",
                 "goalsOrganizationIdNotFound"),
                ("94a356ab-53d5-40e7-8a85-053d6d3b9eb3", view,
                 "goalsOrganizationId", "goalsOrganizationIdNotFound"),
                ("acme", globex_view, "explorerViewId", None),
                ("acme", "AAAAAAAAAAAAAAAAAAAAAA", "explorerViewId", None),
                ("acme", "../x", "explorerViewId", None)):
            with self.subTest(org=org, view=v):
                r = self.create(self.user, v, org=org, expect=404)
                self.assertGraphError(r, 404, "notFound", target)
                self.assertEqual(body_json(r)["error"]["innerError"].get(
                    "code"), inner)
        # another tenant's job, and another user's, are not found
        jid = body_json(self.create(self.user, view))["id"]
        for tok in (self.other, self.user2):
            for path in ("%s/%s" % (BETA, jid), "%s/%s/content" % (BETA, jid)):
                r = self.goals("GET", path, tok)
                self.assertGraphError(r, 404, "notFound")
                err = body_json(r)["error"]
                self.assertEqual((err["message"], err["innerError"]["code"]),
                                 ("Specified export job not found",
                                  "exportJobNotFound"))
        # an id that cannot be one: the published 400
        r = self.goals("GET", BETA + "/j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMj",
                       self.user)
        self.assertGraphError(r, 400, "badRequest")
        self.assertEqual(body_json(r)["error"]["message"],
                         "Invalid JobKey specified")
        # the admin of the tenant reads it
        r = self.goals("GET", "%s/%s" % (BETA, jid), self.admin)
        self.assertEqual(r.status, 200, r)
        self.wait_graph(self.user, jid)

    def test_bad_bodies_and_credentials(self):
        view = self.view("Body view")
        cases = [
            ({"explorerViewId": view}, "goalsOrganizationId"),
            ({"goalsOrganizationId": "acme"}, "explorerViewId"),
            ({"goalsOrganizationId": 7, "explorerViewId": view},
             "goalsOrganizationId"),
            ({"goalsOrganizationId": "", "explorerViewId": view},
             "goalsOrganizationId"),
            ({"goalsOrganizationId": "acme", "explorerViewId": view,
              "definitionId": view}, "definitionId"),
            ({"goalsOrganizationId": "acme", "explorerViewId": view,
              "format": "pdf"}, "format"),
        ]
        for body, target in cases:
            with self.subTest(body=body):
                r = self.goals("POST", BETA, self.user, body)
                self.assertGraphError(r, 400, "badRequest", target)
        r = self.goals("POST", BETA, self.user, {"explorerViewId": view})
        self.assertEqual(body_json(r)["error"]["innerError"]["code"],
                         "invalidGoalsOrganizationId")
        r = self.goals("POST", BETA, self.user, "{not json")
        self.assertGraphError(r, 400, "badRequest")
        r = self.stack.request("POST", BETA, body=json.dumps(
            {"goalsOrganizationId": "acme", "explorerViewId": view}),
            headers={"Content-Type": "application/json"})
        self.assertGraphError(r, 401, "unauthenticated")
        r = self.goals("GET", BETA, "not-a-token")
        self.assertGraphError(r, 401, "unauthenticated")
        # what the published API does not have
        r = self.goals("DELETE", "%s/AAAAAAAAAAAAAAAAAAAAAA" % BETA,
                       self.user)
        self.assertGraphError(r, 405, "methodNotAllowed")
        self.assertEqual(r.header("Allow"), "GET, HEAD")
        r = self.goals("GET", "/beta/employeeExperience/goals/nothing",
                       self.user)
        self.assertGraphError(r, 404, "notFound")
        # Graph's client-request-id comes back in innerError
        r = self.goals("GET", BETA + "/AAAAAAAAAAAAAAAAAAAAAA", self.user,
                       headers={"client-request-id": "abc-123"})
        self.assertEqual(body_json(r)["error"]["innerError"][
            "client-request-id"], "abc-123")

    # ---- the list ----

    def test_list_filter_top_and_skiptoken(self):
        view = self.view("List view")
        ids = []
        for cur in ("CHF", "EUR", "USD"):
            j = self.graph_create(self.admin, view, {"currency": cur})
            ids.append(j["id"])
        for jid in ids:
            self.wait_graph(self.admin, jid)
        # every job of the tenant, newest first, as goals jobs
        r = self.goals("GET", BETA, self.admin)
        self.assertEqual(r.status, 200, r)
        page = body_json(r)
        self.assertEqual(list(page), ["value"])
        got = [j["id"] for j in page["value"]]
        self.assertEqual([i for i in got if i in ids], ids[::-1])
        for j in page["value"]:
            self.assertJob(j)
        # paging by the next links
        seen, url = [], BETA + "?$top=2"
        while url:
            r = self.goals("GET", url, self.admin)
            self.assertEqual(r.status, 200, r)
            page = body_json(r)
            self.assertLessEqual(len(page["value"]), 2)
            seen += [j["id"] for j in page["value"]]
            nxt = page.get("@odata.nextLink")
            if nxt:
                self.assertTrue(nxt.startswith(self.absolute(BETA + "?")),
                                nxt)
            url = self.path_of(nxt) if nxt else None
        self.assertEqual(seen, got)
        # $filter on the organization: the caller's, or nothing
        q = urllib.parse.quote("goalsOrganizationId eq 'acme'")
        r = self.goals("GET", BETA + "?$filter=" + q, self.admin)
        self.assertEqual([j["id"] for j in body_json(r)["value"]], got)
        q = urllib.parse.quote("goalsOrganizationId eq 'globex'")
        r = self.goals("GET", BETA + "?$filter=" + q, self.admin)
        self.assertEqual((r.status, body_json(r)["value"]), (200, []))
        # the globex admin sees none of acme's
        r = self.goals("GET", V1, self.other)
        self.assertFalse(set(ids) & {j["id"] for j in
                                     body_json(r)["value"]})
        # any other filter or option is 400
        r = self.goals("GET", BETA + "?$filter=" + urllib.parse.quote(
            "explorerViewId eq '%s'" % view), self.admin)
        self.assertGraphError(r, 400, "badRequest", "$filter")
        err = body_json(r)["error"]
        self.assertEqual((err["message"], err["innerError"]["code"]),
                         ("Invalid filter keys found: explorerViewId",
                          "unknown"))
        for query in ("$filter=" + urllib.parse.quote(
                "explorerViewId eq '%s'" % view),
                      "$filter=" + urllib.parse.quote(
                "definitionId eq '%s'" % view),
                      "$filter=" + urllib.parse.quote(
                "goalsOrganizationId eq 'acme' and "
                "goalsOrganizationId eq 'acme'"),
                      "$orderby=id", "$top=0", "$skiptoken=x"):
            with self.subTest(query=query):
                r = self.goals("GET", BETA + "?" + query, self.admin)
                self.assertGraphError(r, 400, "badRequest")

    def test_every_dialect_still_answers_beside_it(self):
        """The new mount takes nothing from the others."""
        r = self.graph("GET", "exportJobs", token=self.user)
        self.assertEqual(r.status, 200, r)
        r = self.osdi("GET", "exports", token=self.user)
        self.assertEqual(r.status, 200, r)
        r = self.concur("GET", BASE + "/", self.user)
        self.assertEqual(r.status, 200, r)
