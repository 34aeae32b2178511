"""
The audit trail (issue 14, item 5; docs/operations.md): every audited
action leaves exactly one record naming who did it (tenant, token id and
name, role, remote address): token create and revoke, definition create,
replace and delete, job create, cancel, approve, reject and requeue, a
file download with its bytes, a refused authentication.  An action that
failed leaves none; a status poll leaves none.  quarryctl audit filters
by tenant and time and speaks JSON.
"""

import json
import time

from jsonapi import JSONStackTestCase, body_json, expense_csv


class AuditTest(JSONStackTestCase):

    @classmethod
    def seed(cls):
        s = cls.stack
        s.dataset("acme", "expenses", expense_csv())
        cls.admin = s.token("acme", "admin", name="audit-admin")
        cls.user = s.token("acme", "user", name="audit-user")
        cls.admin_id = s.token_id("acme", "audit-admin")
        cls.user_id = s.token_id("acme", "audit-user")

    def records(self, *args):
        out = self.stack.ctl("audit", "--json", *args)
        return [json.loads(line) for line in out.splitlines() if line]

    def since(self):
        """A --since that takes what follows (the trail is in µs)."""
        time.sleep(1.05)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def only(self, recs, action, rid=None):
        got = [r for r in recs if r["action"] == action and
               (rid is None or r["id"] == rid)]
        self.assertEqual(len(got), 1, (action, rid, recs))
        return got[0]

    def test_every_action_leaves_one_record(self):
        t0 = self.since()
        doc = {"tenant": "acme", "name": "Audited",
               "source": {"dataset": "expenses"}, "formats": ["csv"],
               "approval": True, "parameters": [
                   {"name": "tag", "type": "string", "required": True}]}
        r = self.graph("POST", "definitions", doc, self.admin)
        self.assertEqual(r.status, 201, r)
        def_id = body_json(r)["id"]
        doc["name"] = "Audited again"
        r = self.graph("PUT", "definitions/" + def_id, doc, self.admin)
        self.assertEqual(r.status, 200, r)

        def create(tag):
            r = self.graph("POST", "exportJobs", {
                "definitionId": def_id, "parameters": {"tag": tag}},
                self.user)
            self.assertEqual(r.status, 201, r)
            return body_json(r)["id"]

        a, b, c = create("a"), create("b"), create("c")
        r = self.graph("POST", "exportJobs/%s/approve" % a, {}, self.admin)
        self.assertEqual(r.status, 200, r)
        r = self.graph("POST", "exportJobs/%s/reject" % b,
                       {"reason": "not now"}, self.admin)
        self.assertEqual(r.status, 200, r)
        r = self.graph("DELETE", "exportJobs/" + c, token=self.user)
        self.assertIn(r.status, (202, 204), r)
        self.stack.ctl("job", "requeue", c)
        self.wait_graph(self.user, a)
        r = self.graph("GET", "exportJobs/%s/content" % a, token=self.user)
        self.assertEqual(r.status, 200, r)
        size = len(r.body)
        # polls and reads are not audited
        for _ in range(3):
            self.graph("GET", "exportJobs/" + a, token=self.user)
        r = self.graph("GET", "exportJobs", token="0" * 64)
        self.assertGraphError(r, 401)
        tok = self.stack.token("acme", "user", name="audit-short")
        tok_id = self.stack.token_id("acme", "audit-short")
        self.stack.ctl("token", "revoke", tok_id)
        self.stack.ctl("job", "cancel", self.make_pending(def_id))
        recs = self.records("--since", t0)

        d = self.only(recs, "definition.create", def_id)
        self.assertEqual((d["tenant"], d["token"], d["name"], d["role"]),
                         ("acme", self.admin_id, "audit-admin", "admin"))
        self.assertEqual(d["address"], "127.0.0.1")
        self.only(recs, "definition.replace", def_id)
        for jid in (a, b, c):
            j = self.only(recs, "job.create", jid)
            self.assertEqual((j["token"], j["role"]), (self.user_id, "user"))
        self.assertEqual(self.only(recs, "job.approve", a)["token"],
                         self.admin_id)
        rej = self.only(recs, "job.reject", b)
        self.assertEqual(rej["detail"], "not now")
        cancels = [x for x in recs if x["action"] == "job.cancel"]
        self.assertEqual(len(cancels), 2, cancels)
        self.assertEqual([x["token"] for x in cancels if x["id"] == c],
                         [self.user_id])
        req = self.only(recs, "job.requeue", c)
        self.assertEqual((req["role"], req["name"]), ("system",
                                                      "quarryctl"))
        dl = self.only(recs, "file.download", a)
        self.assertTrue(dl["detail"].startswith("bytes=%d" % size), dl)
        refused = self.only(recs, "auth.refused")
        self.assertEqual((refused["tenant"], refused["token"]), ("", ""))
        self.assertEqual(refused["address"], "127.0.0.1")
        created = self.only(recs, "token.create", tok_id)
        self.assertEqual(created["tenant"], "acme")
        self.only(recs, "token.revoke", tok_id)
        self.assertIsNotNone(tok)
        # nothing else was recorded: polls, lists and reads leave none
        counted = {"definition.create": 1, "definition.replace": 1,
                   "job.create": 4, "job.approve": 1, "job.reject": 1,
                   "job.cancel": 2, "job.requeue": 1, "file.download": 1,
                   "auth.refused": 1, "token.create": 1, "token.revoke": 1}
        seen = {}
        for x in recs:
            seen[x["action"]] = seen.get(x["action"], 0) + 1
        self.assertEqual(seen, counted, recs)

    def make_pending(self, def_id):
        r = self.graph("POST", "exportJobs", {
            "definitionId": def_id, "parameters": {"tag": "pending"}},
            self.user)
        self.assertEqual(r.status, 201, r)
        return body_json(r)["id"]

    def test_failed_actions_leave_none(self):
        t0 = self.since()
        bad = {"tenant": "acme", "name": 7, "source": {"dataset": "x"}}
        r = self.graph("POST", "definitions", bad, self.admin)
        self.assertEqual(r.status, 400, r)
        r = self.graph("POST", "definitions", {
            "tenant": "acme", "name": "N", "source": {"dataset": "expenses"},
            "formats": ["csv"]}, self.user)
        self.assertEqual(r.status, 403, r)
        def_id = self.stack.definition("acme", "Once", "expenses")
        t1 = self.since()
        r = self.graph("POST", "exportJobs", {"definitionId": def_id},
                       self.user)
        self.assertEqual(r.status, 201, r)
        jid = body_json(r)["id"]
        self.wait_graph(self.user, jid)
        # approving what waits for no approval, deleting what is not
        # there: refused, unrecorded
        r = self.graph("POST", "exportJobs/%s/approve" % jid, {}, self.admin)
        self.assertEqual(r.status, 409, r)
        r = self.graph("DELETE", "exportJobs/" + "A" * 22, token=self.user)
        self.assertEqual(r.status, 404, r)
        self.assertEqual([x["action"] for x in self.records("--since", t0)
                          if x["action"].startswith("definition")],
                         ["definition.create"])
        self.assertEqual([x["action"] for x in self.records("--since", t1)],
                         ["job.create"])
        # --tenant filters
        self.assertEqual(self.records("--tenant", "globex", "--since", t0),
                         [])
