#!/usr/bin/env python3
"""
The conformance suite (issue 16): replays every published example request
of the three APIs Quarry speaks (tests/conformance/examples.py) against a
real stack (lighttpd, the four programs, quarryd) and checks each answer
against the published one: the status code, the Location, the content
type, the members or elements and their order, the status words, and the
values an example fixes (error codes and messages, notices).

    python3 tests/conformance/run.py [--bin-dir OUT] [-k PATTERN]

Every example prints "ok" or "FAIL" with what differs, and under it each
deliberate difference with its reason (the list of docs/http.md).  Ends
with "N passed, N failed"; exits 1 on a failure, or when no example ran.
QUARRY_SERVER picks the web server as for the integration suite.
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=REPO)
    ap.add_argument("-k", dest="pattern", default=None,
                    help="only examples whose title holds PATTERN")
    return ap.parse_args()


ARGS = parse_args()
os.environ["QUARRY_BIN_DIR"] = os.path.abspath(ARGS.bin_dir)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from examples import EXAMPLES, WORDS  # noqa: E402
from jsonapi import expense_csv, expense_definition  # noqa: E402

NS = "http://www.concursolutions.com/api/expense/extract/2010/02"
ID = r"[A-Za-z0-9_-]{22}"
# the members whose published values an answer must carry (after the
# example's substitutions): what a client branches on
EXACT = ("code", "message", "notice", "target")
REJECT_REASON = "Please ride your fixie to  campaign security, you are fired!"

# A gated extractor: a job of it runs until the gate file exists.
GATE = """#!/bin/sh
echo 'k,v'
echo 'a,1'
while [ ! -e '%s' ]; do sleep 0.05; done
"""


class World:
    """The stack and what the examples need in it."""

    def __init__(self):
        self.stack = harness.Stack("conformance")
        self.values = {}

    def request(self, method, path, body=None, headers=None):
        return self.stack.request(method, path, body=body,
                                  headers=headers or {})

    def graph(self, method, path, token, body=None):
        h = {"Authorization": "Bearer " + token}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        r = self.request(method, "/api/v1/" + path, body, h)
        return r, (json.loads(r.body) if r.body else None)

    def create(self, def_id, params=None):
        r, j = self.graph("POST", "exportJobs", self.admin, {
            "definitionId": def_id, "parameters": params or {}})
        if r.status != 201:
            raise AssertionError("create: %r" % r)
        return j["id"]

    def wait(self, jid, want):
        deadline = time.time() + 60
        while time.time() < deadline:
            r, j = self.graph("GET", "exportJobs/" + jid, self.admin)
            if j["status"] == want or j["statusDetail"] == want:
                return
            time.sleep(0.05)
        raise AssertionError("job %s never became %s: %r" % (jid, want, j))

    def definition(self, name, **extra):
        doc = expense_definition("acme", name, **extra)
        r, j = self.graph("POST", "definitions", self.admin, doc)
        if r.status != 201:
            raise AssertionError("definition: %r" % r)
        return j["id"]

    def setup(self):
        s = self.stack
        s.start()
        self.admin = s.token("acme", "admin", name="conformance")
        s.dataset("acme", "expenses", expense_csv())
        root = "http://127.0.0.1:%d" % s.port
        self.gate = os.path.join(s.vardir, "gate.open")
        path = os.path.join(s.vardir, "extractors", "gated")
        with open(path, "w") as f:
            f.write(GATE % self.gate)
        os.chmod(path, 0o755)
        v = self.values
        v["{root}"] = root
        v["{osdi}"] = root + "/osdi/v1"
        v["{token}"] = v["{token:osdi}"] = self.admin
        v["{org}"] = "acme"
        # D: jobs wait for approval; one approved (succeeded), one not
        d = self.definition("Standard Accounting Extract", approval=True)
        v["{def}"] = v["{view}"] = d
        a = self.create(d)
        r, _ = self.graph("POST", "exportJobs/%s/approve" % a, self.admin)
        assert r.status == 200, r
        self.wait(a, "succeeded")
        v["{job:succeeded}"] = a
        v["{job:pending}"] = self.create(d)
        v["{view:pending}"] = d
        v["{view:plain}"] = d
        # F: a view without an active job (create example 1)
        v["{view:fresh}"] = self.definition("Fresh view", approval=True)
        # a job that runs until the gate opens
        g = self.graph("POST", "definitions", self.admin, {
            "tenant": "acme", "name": "Gated", "formats": ["csv"],
            "source": {"command": "gated"}})[1]["id"]
        v["{job:running}"] = gj = self.create(g)
        self.wait(gj, "running")
        # a definition built as parts in a zip
        sp = self.definition("Split", rows_per_file=10)
        v["{def:split}"] = sp
        v["{job:split}"] = self.create(sp)
        self.wait(v["{job:split}"], "succeeded")
        # P: plain, csv and tsv
        p = self.definition("People", formats=["csv", "tsv"])
        v["{def:post}"] = p
        v["{def-url:tsv}"] = "%s/api/v1/definitions/%s" % (root, p)
        # a rejected job, with the document's reason
        rj = self.create(d, {"currency": "CHF"})
        r, _ = self.graph("POST", "exportJobs/%s/reject" % rj, self.admin,
                          {"reason": REJECT_REASON})
        assert r.status == 200, r
        v["{job:rejected}"] = rj
        v["{job:deletable}"] = self.create(p, {"currency": "USD"})
        v["{job:unknown}"] = "AAAAAAAAAAAAAAAAAAAAAA"
        # more exports than a page holds (OSDI's next link), ready ones
        many = [self.create(p, {"currency": "X%02d" % i}) for i in range(26)]
        for jid in many + [v["{job:deletable}"]]:
            self.wait(jid, "succeeded")

    def stop(self):
        try:
            open(self.gate, "w").close()
        except OSError:
            pass
        self.stack.stop()


# ---- reading the published texts ----

def substitute(text, ex, world):
    for pub, key in ex.subst.items():
        text = text.replace(pub, key)
    for key, val in world.values.items():
        text = text.replace(key, val)
    return text


def split_message(text):
    """(first line, headers as a list, body) of a published message; a
    "Header:" label line (OSDI) is dropped by the example's subst."""
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    headers = []
    for line in lines[1:]:
        if ":" in line:
            k, _, val = line.partition(":")
            headers.append((k.strip(), val.strip()))
    return lines[0].rstrip(), headers, body.strip()


def request_of(ex, world):
    first, headers, body = split_message(substitute(ex.request, ex, world))
    parts = first.split()
    if parts[0].startswith("http"):          # no method written: a GET
        parts.insert(0, "GET")
    method, url = parts[0], parts[1]
    if len(parts) > 2 and not parts[2].startswith("HTTP/"):
        url = " ".join(parts[1:])            # blanks inside the query
    root = world.values["{root}"]
    assert url.startswith(root), url
    path = url[len(root):]
    # what HTTP cannot carry as written is percent-encoded
    path = urllib.parse.quote(path, safe="/?&=$'!*(),;:@+~-._%")
    h = dict(headers)
    if ex.auth == "graph" and "Authorization" not in h:
        h["Authorization"] = "Bearer " + world.admin
    return method, path, h, (body.encode() if body else None)


# ---- comparing ----

class Check:
    def __init__(self, ex):
        self.ex = ex
        self.problems = []

    def fail(self, msg):
        self.problems.append(msg)

    def word(self, api, published, actual, where):
        words = self.ex.how("words", {})
        allowed = WORDS[api]
        if actual not in allowed:
            self.fail("%s: %r is not a word %s publishes" % (
                where, actual, api))
        want = words.get(published, published)
        if published in allowed | set(words) and \
                actual not in want.split("|"):
            self.fail("%s: %r, the example shows %r" % (where, actual,
                                                        published))

    def json(self, pub, act, where="$"):
        extra = set(self.ex.how("extra", []))
        missing = set(self.ex.how("missing", []))
        nullable = set(self.ex.how("nullable", []))
        values = self.ex.how("values", {})
        if isinstance(pub, dict):
            if not isinstance(act, dict):
                return self.fail("%s: an object in the example, %r here" %
                                 (where, act))
            for k in pub:
                if k not in act and k not in missing and \
                        k.lower() not in (a.lower() for a in act):
                    self.fail("%s: no member %r" % (where, k))
            for k in act:
                if k not in pub and k not in extra and \
                        k.lower() not in (p.lower() for p in pub):
                    self.fail("%s: member %r is not in the example" %
                              (where, k))
            common = [k for k in act if k in pub]
            if self.ex.how("order", True) and \
                    common != [k for k in pub if k in act]:
                self.fail("%s: members in the order %s, the example's is "
                          "%s" % (where, common, [k for k in pub
                                                  if k in act]))
            for k, pv in pub.items():
                ak = k if k in act else next(
                    (a for a in act if a.lower() == k.lower()), None)
                if ak is None:
                    continue
                av = act[ak]
                w = "%s.%s" % (where, k)
                if k == "status" and isinstance(pv, str) and \
                        isinstance(av, str):
                    self.word(self.ex.api, pv, av, w)
                elif k in EXACT and isinstance(pv, str):
                    want = values.get(k, pv)
                    if av != want:
                        self.fail("%s: %r, the example says %r" % (w, av,
                                                                   want))
                elif av is None and pv is not None:
                    if k not in nullable:
                        self.fail("%s: null, the example has a value" % w)
                else:
                    self.json(pv, av, w)
        elif isinstance(pub, list):
            if not isinstance(act, list):
                return self.fail("%s: an array in the example" % where)
            if not pub:
                return
            seen = 0
            for i, a in enumerate(act):
                # compared with the example's element of the same status
                p = next((p for p in pub if not isinstance(p, dict) or
                          not isinstance(a, dict) or
                          p.get("status") == a.get("status")), None)
                if p is not None:
                    seen += 1
                    self.json(p, a, "%s[%d]" % (where, i))
            if act and not seen:
                self.fail("%s: no element like the example's (status %r)" %
                          (where, pub[0].get("status")
                           if isinstance(pub[0], dict) else None))
        elif isinstance(pub, bool) or isinstance(pub, (int, float)):
            if type(act) is not type(pub):
                self.fail("%s: %r, the example has a %s" % (
                    where, act, type(pub).__name__))
        elif isinstance(pub, str):
            if not isinstance(act, str):
                self.fail("%s: %r, the example has a string" % (where, act))

    def xml(self, pub, act, where):
        if pub.tag != act.tag:
            return self.fail("%s: <%s>, the example has <%s>" % (
                where, act.tag, pub.tag))
        pk = [c.tag for c in pub]
        ak = [c.tag for c in act]
        if not pk:
            if pub.tag == "{%s}status" % NS:
                self.word("concur", (pub.text or "").strip(),
                          (act.text or "").strip(), where)
            return
        if len(set(pk)) == 1 and len(pk) > 1 or pub.tag.endswith(
                ("}definitions", "}jobs")):
            # a list: each element like one of the example's
            shapes = {tuple(c.tag for c in p): p for p in pub}
            published = set(shapes)
            for extra in self.ex.how("shapes", []):
                el = ET.Element(pub[0].tag)
                for t in extra:
                    ET.SubElement(el, "{%s}%s" % (NS, t))
                shapes[tuple(c.tag for c in el)] = el
            if not list(act):
                return self.fail("%s: empty, the example lists some" %
                                 where)
            for i, a in enumerate(act):
                shape = tuple(c.tag for c in a)
                if shape not in shapes:
                    self.fail("%s[%d]: elements %s, the example's are %s" % (
                        where, i, [t.split("}")[1] for t in shape],
                        [[t.split("}")[1] for t in s] for s in shapes]))
                else:
                    self.xml(shapes[shape], a, "%s[%d]" % (where, i))
            missing = published - {tuple(c.tag for c in a) for a in act}
            for s in missing:
                self.fail("%s: no element shaped as the example's %s" % (
                    where, [t.split("}")[1] for t in s]))
            return
        if pk != ak:
            self.fail("%s: elements %s, the example's are %s" % (
                where, [t.split("}")[1] for t in ak],
                [t.split("}")[1] for t in pk]))
        for p, a in zip(pub, act):
            self.xml(p, a, "%s/%s" % (where, p.tag.split("}")[1]))


def header(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def check(ex, world, r):
    c = Check(ex)
    first, pheaders, pbody = split_message(substitute(ex.response, ex,
                                                      world))
    status = ex.how("status", int(first.split()[1]))
    if r.status != status:
        c.fail("status %d, the example says %d" % (r.status, status))
    pct = header(pheaders, "Content-Type")
    act_ct = r.header("Content-Type") or ""
    if pct and not act_ct.split(";")[0].strip() == pct.split(";")[0]:
        c.fail("Content-Type %r, the example says %r" % (act_ct, pct))
    ploc = header(pheaders, "Location")
    if ploc is not None and ex.how("location", True):
        ploc = ploc.strip('"')
        loc = r.header("Location")
        if loc is None:
            c.fail("no Location")
        else:
            pat = re.escape(ploc).replace(re.escape("{created}"), ID)
            if not re.fullmatch(pat, loc, re.I if ex.api == "graph" else 0):
                c.fail("Location %r, the example's is %r" % (loc, ploc))
    for name, what in [d.how["header"] for d in ex.differences
                       if "header" in d.how]:
        if r.header(name) is None:
            c.fail("no %s header" % name)
    for name, _ in pheaders:
        if name.lower() in ("retry-after", "cache-control") and \
                r.header(name) is None:
            c.fail("no %s header" % name)
    if not ex.how("body", True) or not pbody:
        return c, None
    if pbody.startswith("<"):
        try:
            pub = ET.fromstring(pbody)
            act = ET.fromstring(r.body)
        except ET.ParseError as e:
            c.fail("the answer is not XML: %s" % e)
            return c, None
        c.xml(pub, act, act.tag.split("}")[1])
        return c, None
    pub = json.loads(pbody)
    try:
        act = json.loads(r.body)
    except ValueError as e:
        c.fail("the answer is not JSON: %s" % e)
        return c, None
    unwrap = ex.how("unwrap")
    if unwrap:
        pub = pub[unwrap]
    c.json(pub, act)
    return c, act


def main():
    world = World()
    passed = failed = 0
    chosen = [e for e in EXAMPLES
              if not ARGS.pattern or ARGS.pattern.lower() in e.title.lower()]
    t0 = time.time()
    try:
        world.setup()
        for ex in chosen:
            method, path, headers, body = request_of(ex, world)
            r = world.stack.request(method, path, body, headers=headers,
                                    raw=True)
            c, _ = check(ex, world, r)
            if c.problems:
                failed += 1
                print("FAIL: %s: %s" % (ex.api, ex.title))
                print("  %s %s -> %d" % (method, path, r.status))
                for p in c.problems:
                    print("  - " + p)
                print("  answer: %s" % r.body[:600].decode("utf-8",
                                                           "replace"))
            else:
                passed += 1
                print("ok: %s: %s" % (ex.api, ex.title))
            print("  (%s)" % ex.source)
            for d in ex.differences:
                print("  differs: %s: %s" % (d.what, d.why))
    except Exception:
        import traceback
        traceback.print_exc()
        print(world.stack.log_tail())
        failed += 1
    finally:
        world.stop()
    print("conformance: %d published examples in %.1fs behind %s" % (
        len(chosen), time.time() - t0, harness.SERVER))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
