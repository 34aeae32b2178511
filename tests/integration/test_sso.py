"""
Single sign-on through the web server (docs/install.md): with
AUTH=basic the stack's web server (lighttpd's mod_auth, or Apache's
mod_auth_basic) signs people in against VARDIR/htpasswd, whose entries
are made with Apache's htpasswd as an administrator would, and
quarry.conf says remote_user = on.  A person is then the web user
`quarryctl user add` mapped, in every dialect; tokens keep working beside
it; no client header ever stands for REMOTE_USER.  A stack whose web
server signs no one in although remote_user = on refuses every request
without a token.
"""

import base64
import json
import os
import subprocess
import time

from jsonapi import (JSONStackTestCase, body_json, expense_csv,
                     expense_definition)
from harness import BASE, REPO, SERVER


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


class SingleSignOnTest(JSONStackTestCase):
    """A stack started with AUTH=basic."""

    auth = "basic"

    @classmethod
    def seed(cls):
        st = cls.stack
        st.dataset("acme", "expenses", expense_csv())
        path = "%s/def-sso.json" % st.vardir
        with open(path, "w") as f:
            json.dump(expense_definition("acme", "Expenses"), f)
        cls.def_id = st.ctl("definition", "add", path).strip()
        cls.token = st.token("acme", "user", name="program")
        cls.people = {}
        for name, role in (("alice", "admin"), ("bob", "user"),
                           ("carol", None)):
            cls.add_person(name, role)

    @classmethod
    def add_person(cls, name, role):
        """An htpasswd entry (bcrypt), and a mapping unless role is None."""
        pw = "pw-%s-%d" % (name, time.time_ns())
        subprocess.run(["htpasswd", "-bB", "%s/htpasswd" % cls.stack.vardir,
                        name, pw], check=True, capture_output=True)
        cls.people[name] = pw
        if role:
            cls.stack.ctl("user", "add", name, "--tenant", "acme",
                          "--role", role)

    def as_(self, name, password=None):
        return basic(name, password or self.people[name])

    def me(self, headers):
        r = self.graph("GET", "me", headers=headers)
        return r.status, (body_json(r) if r.status == 200 else r)

    def test_the_person_signed_in_is_their_mapping(self):
        """alice (admin) and bob (user) as the web server signed them in,
        in all three dialects; jobs are theirs; a signed link needs no
        sign-in."""
        st, me = self.me(self.as_("alice"))
        self.assertEqual(st, 200, me)
        self.assertEqual((me["displayName"], me["tenant"], me["role"]),
                         ("alice", "acme", "admin"))
        st, bob = self.me(self.as_("bob"))
        self.assertEqual((bob["displayName"], bob["role"]), ("bob", "user"))
        # bob's job, made through Graph, is bob's
        r = self.graph("POST", "exportJobs", {
            "definitionId": self.def_id, "parameters": {"currency": "EUR"}},
            headers=self.as_("bob"))
        self.assertEqual(r.status, 201, r)
        j = body_json(r)
        self.assertEqual(j["createdBy"]["user"],
                         {"id": bob["id"], "displayName": "bob"})
        deadline = time.time() + 60
        while j["status"] not in ("succeeded", "failed"):
            self.assertLess(time.time(), deadline, j)
            time.sleep(0.1)
            r = self.graph("GET", "exportJobs/" + j["id"],
                           headers=self.as_("bob"))
            self.assertEqual(r.status, 200, r)
            j = body_json(r)
        self.assertEqual(j["status"], "succeeded", j)
        r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                       headers=self.as_("bob"))
        self.assertEqual(r.status, 200, r)
        content = r.body
        # the signed link works with no sign-in at all
        r = self.stack.request("GET", self.path_of(
            j["@microsoft.graph.downloadUrl"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, content)
        # alice (admin) sees it, with its owner; bob is no admin
        r = self.graph("GET", "exportJobs/" + j["id"],
                       headers=self.as_("alice"))
        self.assertEqual(body_json(r)["createdBy"]["user"]["displayName"],
                         "bob")
        r = self.graph("POST", "exportJobs/%s/approve" % j["id"], {},
                       headers=self.as_("bob"))
        self.assertGraphError(r, 403, code="accessDenied")
        # Concur and OSDI take the same sign-in
        r = self.stack.request("GET", BASE + "/", headers=self.as_("bob"))
        self.assertEqual(r.status, 200, r)
        self.assertIn(self.def_id, r.text())
        r = self.osdi("GET", "exports/" + j["id"], headers=self.as_("bob"))
        self.assertEqual(r.status, 200, r)
        # the audit trail names the person
        out = self.stack.ctl("audit", "--tenant", "acme", "--json")
        self.assertIn('"bob"', out)

    def test_tokens_keep_working(self):
        """A program's token in each dialect's place needs no sign-in."""
        st, me = self.me({"Authorization": "Bearer " + self.token})
        self.assertEqual((st, me["displayName"]), (200, "program"))
        r = self.stack.request("GET", BASE + "/", token=self.token)
        self.assertEqual(r.status, 200, r)
        r = self.osdi("GET", "exports", token=self.token)
        self.assertEqual(r.status, 200, r)
        r = self.osdi("GET", "exports", token=self.token, via="query")
        self.assertEqual(r.status, 200, r)

    def test_no_sign_in_is_the_web_servers_401(self):
        """No credential, a wrong password, an unknown person: the web
        server asks for a sign-in; the page too."""
        for h in ({}, self.as_("alice", "wrong"), basic("nobody", "x")):
            r = self.graph("GET", "me", headers=h)
            self.assertEqual(r.status, 401, r)
            self.assertIn("Basic", r.header("WWW-Authenticate") or "")
        self.assertEqual(self.stack.request("GET", "/").status, 401)
        self.assertEqual(self.stack.request(
            "GET", "/", headers=self.as_("bob")).status, 200)

    def test_signed_in_but_not_mapped_is_403(self):
        """carol is in the web server's file but not mapped: 403 in every
        dialect, and the refusal is audited."""
        r = self.graph("GET", "me", headers=self.as_("carol"))
        self.assertGraphError(r, 403, code="accessDenied")
        self.assertIn("not mapped", body_json(r)["error"]["message"])
        r = self.stack.request("GET", BASE + "/", headers=self.as_("carol"))
        self.assertEqual(r.status, 403, r)
        r = self.osdi("GET", "exports", headers=self.as_("carol"))
        self.assertEqual(r.status, 403, r)
        out = self.stack.ctl("audit", "--json")
        self.assertIn("carol", out)

    def test_client_headers_never_stand_for_remote_user(self):
        """Headers a client may send as if it were the web server change
        nothing: without a sign-in the web server refuses; signed in or
        with a token, the caller is who signed in or the token."""
        spoof = {"Remote-User": "alice", "X-Remote-User": "alice",
                 "X-Forwarded-User": "alice", "REMOTE_USER": "alice"}
        r = self.graph("GET", "me", headers=spoof)
        self.assertEqual(r.status, 401, r)
        h = dict(spoof, **self.as_("bob"))
        self.assertEqual(self.me(h)[1]["displayName"], "bob")
        h = dict(spoof, Authorization="Bearer " + self.token)
        self.assertEqual(self.me(h)[1]["displayName"], "program")

    def test_user_remove_and_add_again(self):
        """A removed mapping is refused at once, its signed links stop;
        the name may be mapped again; user list shows both records."""
        self.add_person("dave", "user")
        st, dave = self.me(self.as_("dave"))
        self.assertEqual(st, 200, dave)
        r = self.graph("POST", "exportJobs", {
            "definitionId": self.def_id, "parameters": {"currency": "CHF"}},
            headers=self.as_("dave"))
        self.assertEqual(r.status, 201, r)
        jid = body_json(r)["id"]
        deadline = time.time() + 60
        while True:
            j = body_json(self.graph("GET", "exportJobs/" + jid,
                                     headers=self.as_("dave")))
            if j["status"] == "succeeded":
                break
            self.assertLess(time.time(), deadline, j)
            time.sleep(0.1)
        link = self.path_of(j["@microsoft.graph.downloadUrl"])
        self.stack.ctl("user", "remove", "dave")
        r = self.graph("GET", "me", headers=self.as_("dave"))
        self.assertGraphError(r, 403, code="accessDenied")
        self.assertEqual(self.stack.request("GET", link).status, 403)
        self.stack.ctl("user", "add", "dave", "--tenant", "acme", "--role",
                       "admin")
        st, again = self.me(self.as_("dave"))
        self.assertEqual((st, again["role"]), (200, "admin"))
        self.assertNotEqual(again["id"], dave["id"])
        rows = [line.split("\t") for line in self.stack.ctl(
            "user", "list", "--tenant", "acme").splitlines()]
        daves = sorted((r[2], r[5]) for r in rows if r[0] == "dave")
        self.assertEqual(daves, [("admin", "active"), ("user", "removed")])
        # web users are not tokens
        self.assertNotIn("dave", self.stack.ctl("token", "list"))
        # mapped once
        p = self.stack.ctl("user", "add", "dave", "--tenant", "acme",
                           "--role", "user", check=False)
        self.assertEqual(self.stack.last_ctl.returncode, 1, p)


    def test_shipped_examples_are_accepted(self):
        """The shipped sign-in examples (httpd-conf/sso/) are accepted by
        the web server this stack runs, in place of the one it uses:
        Apache's LDAP example (its bind password file made up here)."""
        if SERVER == "lighttpd":
            # its one example, lighttpd-basic.conf, is the one in use
            with open(os.path.join(self.stack.vardir, "lighttpd.conf")) as f:
                self.assertIn("auth.conf", f.read())
            return
        pw = os.path.join(self.stack.vardir, "bind.pw")
        with open(pw, "w") as f:
            f.write("not-a-real-one\n")
        with open(os.path.join(REPO, "httpd-conf", "sso",
                               "apache-ldap.conf")) as f:
            ldap = f.read().replace("@MODDIR@", "/usr/lib/apache2/modules")
        ldap = ldap.replace("/etc/quarry/ldap-bind.pw", pw)
        path = os.path.join(self.stack.vardir, "ldap.conf")
        with open(path, "w") as f:
            f.write(ldap)
        with open(os.path.join(self.stack.vardir, "apache.conf")) as f:
            conf = f.read()
        self.assertIn("auth.conf", conf)
        test = os.path.join(self.stack.vardir, "apache-ldap-test.conf")
        with open(test, "w") as f:
            f.write(conf.replace(os.path.join(self.stack.vardir,
                                              "auth.conf"), path))
        p = subprocess.run(["apache2", "-t", "-f", test],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)


class SignInMisconfiguredTest(JSONStackTestCase):
    """remote_user = on, but the web server signs no one in (a stack
    started without AUTH): every request without a token is refused with
    a 500, never served as anyone; tokens still work."""

    conf_extra = {"remote_user": "on"}

    @classmethod
    def seed(cls):
        cls.token = cls.stack.token("acme", "user", name="program")
        cls.stack.ctl("user", "add", "alice", "--tenant", "acme", "--role",
                      "admin")

    def test_refused_not_anonymous(self):
        for h in ({}, {"Remote-User": "alice"}, {"X-Remote-User": "alice"},
                  basic("alice", "x")):
            r = self.graph("GET", "me", headers=h)
            self.assertGraphError(r, 500)
            self.assertIn("signed no one in",
                          body_json(r)["error"]["message"])
        r = self.graph("GET", "me", token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertIn("remote_user = on", self.stack.log_tail(200))
