"""
Signed download links (issue 13, item 1; docs/http.md): a succeeded job
read through Graph carries @microsoft.graph.downloadUrl, a short-lived
URL of its file that works without an Authorization header, with the
whole download contract (Range, HEAD, ETag).  It holds no secret and no
token.  It stops working when it expires, when its signature or any of
what it names is changed, when the token it was made for is revoked,
when the key is rotated, and when the file expires (410).
"""

import json
import os
import time
import urllib.parse

from jsonapi import (JSONStackTestCase, body_json, csv_of, expected_rows,
                     expense_csv, expense_definition)

TTL = 4


class LinkTest(JSONStackTestCase):

    conf_extra = {"download_link_ttl": "%ds" % TTL}

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.admin = s.token("acme", "admin", name="link-admin")
        cls.user = s.token("acme", "user", name="link-user")
        s.dataset("acme", "expenses", expense_csv())
        path = os.path.join(s.vardir, "links.json")
        with open(path, "w") as f:
            json.dump(expense_definition("acme", "Links"), f)
        cls.def_id = s.ctl("definition", "add", path).strip()

    def job(self, token, currency):
        r = self.graph("POST", "exportJobs", {
            "definitionId": self.def_id,
            "parameters": {"currency": currency}}, token)
        self.assertEqual(r.status, 201, r)
        j = self.wait_graph(token, body_json(r)["id"])
        self.assertEqual(j["status"], "succeeded", j)
        return j

    def link(self, token, jid):
        j = self.graph_job(token, jid)
        url = j.get("@microsoft.graph.downloadUrl")
        self.assertTrue(url, j)
        return self.path_of(url)

    def get(self, path, method="GET", headers=None):
        return self.stack.request(method, path, headers=headers or {})

    def test_a_link_downloads_without_credentials(self):
        j = self.job(self.user, "EUR")
        path = self.link(self.user, j["id"])
        self.assertNotIn(self.user, path)
        self.assertNotIn(self.admin, path)
        want = csv_of(expected_rows({"currency": "EUR"}))
        r = self.get(path)
        self.assertEqual((r.status, r.body), (200, want), r)
        self.assertTrue(r.header("Content-Disposition").startswith(
            "attachment"))
        etag = r.header("ETag")
        r = self.get(path, headers={"Range": "bytes=0-9"})
        self.assertEqual((r.status, r.body), (206, want[:10]), r)
        r = self.get(path, "HEAD")
        self.assertEqual((r.status, r.body), (200, b""), r)
        r = self.get(path, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        # the download is the token's, in the audit trail
        audit = self.stack.ctl("audit", "--json")
        self.assertIn('"action":"file.download"', audit)
        self.assertIn('"name":"link-user"', audit)
        # OSDI's export carries a signed link too
        x = self.osdi_export(self.user, j["id"])
        r = self.get(self.path_of(x["signed_download_link"]))
        self.assertEqual((r.status, r.body), (200, want), r)
        # an admin's link works for the admin's caller too
        r = self.get(self.link(self.admin, j["id"]))
        self.assertEqual((r.status, r.body), (200, want), r)
        # a job not yet succeeded has no link
        r = self.graph("POST", "exportJobs", {
            "definitionId": self.def_id, "parameters": {"currency": "XXX"}},
            self.user)
        self.assertNotIn("@microsoft.graph.downloadUrl", body_json(r))

    def test_every_refusal(self):
        j = self.job(self.admin, "CHF")
        path = self.link(self.admin, j["id"])
        base, _, query = path.partition("?")
        q = dict(urllib.parse.parse_qsl(query))

        def with_(**kw):
            return base + "?" + urllib.parse.urlencode(dict(q, **kw))

        # changed signature, job, token, expiry; missing parts
        sig = q["signature"]
        bad = ("0" if sig[0] != "0" else "1") + sig[1:]
        other = self.job(self.admin, "USD")["id"]
        for p in (with_(signature=bad), with_(signature=sig[:-2]),
                  with_(token=self.stack.token_id("acme", "link-user")),
                  with_(expires=str(int(q["expires"]) + 3600)),
                  base.replace(j["id"], other) + "?" + query,
                  base, base + "?token=" + q["token"]):
            with self.subTest(path=p):
                r = self.get(p)
                self.assertGraphError(r, 403, "accessDenied")
        # a credential is not needed, and does not make a bad link good
        r = self.get(with_(signature=bad), headers={
            "Authorization": "Bearer " + self.admin})
        self.assertGraphError(r, 403, "accessDenied")
        self.assertEqual(self.get(path).status, 200)

        # the key rotated: links made before stop working
        old = path
        self.stack.ctl("link-key", "rotate")
        self.assertGraphError(self.get(old), 403, "accessDenied")
        path = self.link(self.admin, j["id"])
        self.assertEqual(self.get(path).status, 200)

        # expired
        time.sleep(TTL + 1.2)
        r = self.get(path)
        self.assertGraphError(r, 403, "accessDenied")
        self.assertIn("expired", body_json(r)["error"]["message"])

        # the token it was made for revoked
        tok = self.stack.token("acme", "user", name="link-revoked")
        jr = self.job(tok, "GBP")
        path = self.link(tok, jr["id"])
        self.assertEqual(self.get(path).status, 200)
        self.stack.ctl("token", "revoke",
                       self.stack.token_id("acme", "link-revoked"))
        r = self.get(path)
        self.assertGraphError(r, 403, "accessDenied")
        self.assertIn("revoked", body_json(r)["error"]["message"])

        # the file expired: 410
        path = self.link(self.admin, other)
        r = self.graph("DELETE", "exportJobs/" + other, token=self.admin)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.get(path).status, 410)
