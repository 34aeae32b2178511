"""
Helpers for the JSON dialects' integration tests (Graph, SPEC section 5;
OSDI, SPEC section 6): requests with each dialect's credential, error body
checks, polling, a paused scheduler, and a small typed expense dataset
with an independent model of what its filters select.

Python 3 standard library only.
"""

import contextlib
import json
import random
import re
import time

from harness import BASE, RFC3339_Z, StackTestCase, q

GRAPH = "/api/v1"
OSDI = "/osdi/v1"
HAL = "application/hal+json"
OSDI_CACHE = "max-age=0, private, must-revalidate"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,}$")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

GRAPH_WORDS = {"notStarted", "running", "succeeded", "failed"}
GRAPH_FINISHED = ("succeeded", "failed")
OSDI_WORDS = {"pending_approval", "queued", "processing", "ready", "failed",
              "rejected", "cancelled", "expired"}
OSDI_FINISHED = ("ready", "failed", "rejected", "cancelled", "expired")


def random_id():
    """A well-formed ID that names nothing."""
    return "".join(random.choice(B64URL) for _ in range(22))


def body_json(r):
    try:
        return json.loads(r.body.decode("utf-8"))
    except ValueError as e:
        raise AssertionError("not JSON (%s): %r" % (e, r))


# ---- the expense dataset of SPEC section 3 ----

EXP_COLUMNS = ["report_id", "employee", "date", "amount", "currency"]


def expense_rows(n=40):
    """Deterministic rows: dates across two years (so that string and date
    order agree but a day matters), amounts whose string order differs
    from their numeric order (9.5 < 10 < 100.25), three currencies."""
    names = ["Ana", "Bo", "Chen", "Dee", "Eli"]
    cur = ["EUR", "USD", "CHF"]
    amounts = ["9.5", "10", "100.25", "2", "1000", "0.75", "55", "-3"]
    rows = []
    for i in range(n):
        month = 1 + (i * 5) % 12
        day = 1 + (i * 7) % 28
        year = 2025 + (i % 2)
        rows.append(["R%03d" % i, names[i % len(names)],
                     "%04d-%02d-%02d" % (year, month, day),
                     amounts[i % len(amounts)], cur[i % len(cur)]])
    return rows


EXP_ROWS = expense_rows()


def expense_csv(rows=EXP_ROWS):
    return ("\r\n".join([",".join(EXP_COLUMNS)] +
                        [",".join(r) for r in rows]) + "\r\n").encode()


def expense_definition(tenant, name, dataset="expenses", **extra):
    """The definition document of SPEC section 3 (plus a decimal
    parameter "min" on amount)."""
    doc = {
        "tenant": tenant,
        "name": name,
        "description": "Approved expense lines",
        "source": {"dataset": dataset},
        "columns": list(EXP_COLUMNS),
        "parameters": [
            {"name": "from", "type": "date", "required": False},
            {"name": "currency", "type": "string", "required": False},
            {"name": "min", "type": "decimal", "required": False},
        ],
        "filters": [
            {"column": "date", "op": ">=", "parameter": "from"},
            {"column": "currency", "op": "=", "parameter": "currency"},
            {"column": "amount", "op": ">=", "parameter": "min"},
        ],
        "formats": ["csv", "tsv", "json", "xml"],
        "approval": False,
        "retention": "7d",
        "rows_per_file": 0,
    }
    doc.update(extra)
    return doc


def expected_rows(params, rows=EXP_ROWS):
    """The rows the filters of expense_definition select (typed)."""
    out = []
    for r in rows:
        if "from" in params and not r[2] >= params["from"]:
            continue
        if "currency" in params and r[4] != params["currency"]:
            continue
        if "min" in params and not float(r[3]) >= float(params["min"]):
            continue
        out.append(r)
    return out


def csv_of(rows, columns=EXP_COLUMNS):
    return ("".join(",".join(x) + "\r\n" for x in [columns] + rows)).encode()


class JSONStackTestCase(StackTestCase):
    """A StackTestCase with requests in the JSON dialects."""

    # ---- requests ----

    def graph(self, method, path, body=None, token=None, headers=None):
        """A Graph request; path is relative to /api/v1 unless absolute."""
        h = {}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h["Content-Type"] = "application/json"
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        h.update(headers or {})
        if not path.startswith("/"):
            path = GRAPH + "/" + path
        return self.stack.request(method, path, body=body, headers=h)

    def osdi(self, method, path, body=None, token=None, headers=None,
             via="header"):
        """An OSDI request with the token in the header or the query."""
        h = {}
        if not path.startswith("/"):
            path = OSDI + "/" + path
        if token is not None:
            if via == "header":
                h["OSDI-API-Token"] = token
            else:
                path += ("&" if "?" in path else "?") + \
                    "osdi-api-token=" + token
        if body is not None:
            h["Content-Type"] = "application/json"
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        h.update(headers or {})
        return self.stack.request(method, path, body=body, headers=h)

    def concur(self, method, path, token, body=None):
        return self.stack.request(method, path, body=body, token=token)

    def path_of(self, url):
        return self.uri_path(url)

    # ---- error bodies ----

    def assertGraphError(self, r, status, code=None, target=None):
        """r is a Graph error answer; returns the "error" object."""
        self.assertEqual(r.status, status, r)
        self.assertTrue((r.header("Content-Type") or "").startswith(
            "application/json"), r.header("Content-Type"))
        o = body_json(r)
        self.assertEqual(list(o.keys()), ["error"], r)
        err = o["error"]
        self.assertIsInstance(err.get("code"), str, r)
        self.assertTrue(err["code"], r)
        self.assertIsInstance(err.get("message"), str, r)
        self.assertTrue(err["message"], r)
        inner = err.get("innerError")
        self.assertIsInstance(inner, dict, r)
        self.assertRegex(inner.get("date") or "", RFC3339_Z)
        self.assertTrue(inner.get("request-id"), r)
        if code is not None:
            self.assertEqual(err["code"], code, r)
        if target is not None:
            self.assertIn("target", err, r)
            self.assertIn(target, err["target"], r)
        return err

    def assertOsdiError(self, r, status, hint=None):
        """r is an osdi:error answer; returns the error description."""
        self.assertEqual(r.status, status, r)
        self.assertTrue((r.header("Content-Type") or "").startswith(HAL),
                        r.header("Content-Type"))
        self.assertEqual(r.header("Cache-Control"), OSDI_CACHE, r)
        o = body_json(r)
        err = o.get("osdi:error")
        self.assertIsInstance(err, dict, r)
        self.assertEqual(err.get("request_type"), "atomic", r)
        self.assertEqual(err.get("response_code"), status, r)
        rs = err.get("resource_status")
        self.assertIsInstance(rs, list, r)
        self.assertEqual(len(rs), 1, r)
        self.assertEqual(rs[0].get("resource"), "osdi:export", r)
        self.assertEqual(rs[0].get("response_code"), status, r)
        ds = rs[0].get("error_descriptions")
        self.assertIsInstance(ds, list, r)
        self.assertTrue(ds, r)
        self.assertTrue(ds[0].get("error_code"), r)
        self.assertTrue(ds[0].get("description"), r)
        if hint is not None:
            self.assertIn(hint, ds[0].get("hint") or "", r)
        return ds[0]

    # ---- definitions and jobs ----

    def add_definition(self, doc):
        """Adds a definition document with quarryctl; returns its id."""
        path = "%s/def-%d.json" % (self.stack.vardir, time.time_ns())
        with open(path, "w") as f:
            json.dump(doc, f)
        out = self.stack.ctl("definition", "add", path).strip()
        self.assertRegex(out, ID_RE)
        return out

    def graph_create(self, token, def_id, parameters=None, fmt=None,
                     expect=201, **extra):
        """POSTs an export job; returns the answer's JSON (201) or the
        answer itself (other statuses)."""
        body = {"definitionId": def_id}
        if parameters is not None:
            body["parameters"] = parameters
        if fmt is not None:
            body["format"] = fmt
        body.update(extra)
        r = self.graph("POST", "exportJobs", body, token)
        self.assertEqual(r.status, expect, r)
        if expect != 201:
            return r
        j = body_json(r)
        self.assertRegex(j.get("id", ""), ID_RE)
        self.assertEqual(self.path_of(r.header("Location")),
                         "%s/exportJobs/%s" % (GRAPH, j["id"]))
        return j

    def graph_job(self, token, job_id):
        r = self.graph("GET", "exportJobs/" + job_id, token=token)
        self.assertEqual(r.status, 200, r)
        return body_json(r)

    def wait_graph(self, token, job_id, timeout=60):
        """Polls a job until it is succeeded or failed; returns it."""
        deadline = time.time() + timeout
        while True:
            j = self.graph_job(token, job_id)
            self.assertIn(j["status"], GRAPH_WORDS, j)
            if j["status"] in GRAPH_FINISHED:
                return j
            if time.time() > deadline:
                self.fail("job %s still %s after %ds" % (job_id, j["status"],
                                                          timeout))
            time.sleep(0.1)

    def osdi_export(self, token, job_id):
        r = self.osdi("GET", "exports/" + job_id, token=token)
        self.assertEqual(r.status, 200, r)
        return body_json(r)

    def wait_osdi(self, token, job_id, timeout=60):
        """Polls an export until finished; returns (export, words seen)."""
        deadline = time.time() + timeout
        seen = []
        while True:
            x = self.osdi_export(token, job_id)
            if not seen or seen[-1] != x["status"]:
                seen.append(x["status"])
            if x["status"] in OSDI_FINISHED:
                return x, seen
            if time.time() > deadline:
                self.fail("export %s still %s after %ds" % (
                    job_id, x["status"], timeout))
            time.sleep(0.02)

    def concur_status(self, token, def_id, job_id):
        """The Concur <job> of a job, from its status resource."""
        r = self.concur("GET", "%s/%s/job/%s/status" % (BASE, def_id,
                                                        job_id), token)
        self.assertEqual(r.status, 200, r)
        job = r.xml()
        self.assertEqual(job.tag, q("job"), r)
        return job

    def all_graph_jobs(self, token, query=""):
        """Every job the Graph list shows, following @odata.nextLink."""
        ids = []
        path = "%s/exportJobs%s" % (GRAPH, query)
        for _ in range(100):
            r = self.graph("GET", path, token=token)
            self.assertEqual(r.status, 200, r)
            o = body_json(r)
            ids.extend(j["id"] for j in o["value"])
            if "@odata.nextLink" not in o:
                return ids
            path = self.path_of(o["@odata.nextLink"])
        self.fail("more than 100 pages")

    # ---- the scheduler ----

    @contextlib.contextmanager
    def paused(self):
        """Stops quarryd for the block, so that new jobs stay queued,
        and starts it again afterwards (stack.sh start is idempotent)."""
        self.stack.stop_quarryd()
        try:
            yield
        finally:
            self.stack.script("start")
            self.stack.wait_port()
