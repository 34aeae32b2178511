"""
The page (www/) in a real headless Chromium, driven by Selenium through
Debian's chromedriver, against a real stack (lighttpd, the four programs,
quarryd): every flow a person has on it, as they would do it, checked on
what they would see.  The API is used beside the browser only to set up
and to check (the same file, the same job).

Needs Debian's chromium, chromium-driver and python3-selenium (run with
Debian's python3), and axe-core from npm in tests/browser/node_modules
(tests/browser/run.sh installs it).  A failing test's screenshot and page
are kept in QUARRY_SCREENSHOTS (default build/browser-failures).
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness import REPO
from jsonapi import JSONStackTestCase, body_json, expense_csv, \
    expense_definition, expected_rows

CHROMIUM = os.environ.get("QUARRY_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("QUARRY_CHROMEDRIVER", "/usr/bin/chromedriver")
AXE = os.path.join(REPO, "tests", "browser", "node_modules", "axe-core",
                   "axe.min.js")
SHOTS = os.environ.get("QUARRY_SCREENSHOTS",
                       os.path.join(REPO, "build", "browser-failures"))

# an extractor that writes ROWS rows, then waits for its gate file (the
# path is its first argument), then writes one more
HELD = """#!/bin/sh
echo 'id,name'
i=0
while [ $i -lt %d ]; do echo "$i,row $i"; i=$((i+1)); done
while [ ! -e "$1" ]; do sleep 0.05; done
echo 'last,row'
"""
HELD_ROWS = 30000

# an extractor that fails with a reason
BROKEN = """#!/bin/sh
echo 'id,name'
echo 'the warehouse database is down' >&2
exit 3
"""


class BrowserCase(JSONStackTestCase):
    """One stack and one browser for the class; each test signs in anew."""

    driver = None
    service = None
    held = {}

    @classmethod
    def seed(cls):
        st = cls.stack
        st.dataset("acme", "expenses", expense_csv())
        cls.user = st.token("acme", "user", name="ana")
        cls.user2 = st.token("acme", "user", name="bo")
        cls.admin = st.token("acme", "admin", name="boss")
        xdir = os.path.join(st.vardir, "extractors")
        for name, text in (("held", HELD % HELD_ROWS), ("broken", BROKEN)):
            path = os.path.join(xdir, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        cls.gate_dir = os.path.join(st.vardir, "gates")
        os.makedirs(cls.gate_dir)

        def add(doc):
            path = os.path.join(st.vardir, "def-%d.json" % time.time_ns())
            with open(path, "w") as f:
                json.dump(doc, f)
            return st.ctl("definition", "add", path).strip()

        cls.expenses = add(expense_definition("acme", "Expenses"))
        cls.dated = add(expense_definition(
            "acme", "Dated expenses", parameters=[
                {"name": "from", "type": "date", "required": True},
                {"name": "currency", "type": "string", "required": False},
                {"name": "min", "type": "decimal", "required": False}]))
        cls.approved = add(expense_definition("acme", "Needs approval",
                                              approval=True))
        cls.broken = add({"tenant": "acme", "name": "Broken warehouse",
                          "source": {"command": "broken"},
                          "formats": ["csv"], "retention": "7d"})
        cls.held = {}
        cls.start_browser()

    @classmethod
    def start_browser(cls):
        cls.downloads = tempfile.mkdtemp(prefix="quarry-dl-")
        cls.profile = tempfile.mkdtemp(prefix="quarry-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-dev-shm-usage", "--window-size=1280,900",
                  "--no-first-run", "--disable-extensions",
                  "--user-data-dir=" + cls.profile, "--lang=en-GB"):
            opts.add_argument(a)
        opts.add_experimental_option("prefs", {
            "download.default_directory": cls.downloads,
            "download.prompt_for_download": False})
        cls.service = Service(DRIVER, log_path=os.path.join(
            cls.stack.vardir, "log", "chromedriver.log"))
        cls.driver = webdriver.Chrome(service=cls.service, options=opts)
        cls.driver.execute_cdp_cmd("Page.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": cls.downloads})
        cls.base = "http://127.0.0.1:%d" % cls.stack.port

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.driver is not None:
                cls.driver.quit()
        finally:
            if cls.service is not None:
                cls.service.stop()
            for d in ("downloads", "profile"):
                if getattr(cls, d, None):
                    shutil.rmtree(getattr(cls, d), ignore_errors=True)
            for gate in cls.held.values():
                open(gate, "w").close()
            super().tearDownClass()

    def run(self, result=None):
        """Keeps a screenshot and the page of a failing test."""
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result is not None and self.driver is not None and \
                len(result.failures) + len(result.errors) > before:
            os.makedirs(SHOTS, exist_ok=True)
            stem = os.path.join(SHOTS, self.id().rsplit(".", 1)[-1])
            try:
                self.driver.save_screenshot(stem + ".png")
                with open(stem + ".html", "w") as f:
                    f.write(self.driver.page_source)
                print("\n    screenshot kept: %s.png" % stem)
            except Exception as e:      # the browser itself may be gone
                print("\n    no screenshot: %s" % e)
        return out

    def setUp(self):
        d = self.driver
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        d.get(self.base + "/")
        d.execute_script("sessionStorage.clear()")

    # ---- helpers ----

    def wait(self, cond, timeout=30, what="the condition"):
        """Waits until cond() is true; returns its value."""
        def check(_):
            try:
                return cond()
            except (NoSuchElementException, StaleElementReferenceException):
                return False
        try:
            return WebDriverWait(self.driver, timeout, 0.1).until(check)
        except TimeoutException:
            self.fail("%s did not happen within %ds" % (what, timeout))

    def q(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def qq(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def sign_in(self, token):
        """Types the token and presses Enter, as a person would."""
        d = self.driver
        d.execute_script("sessionStorage.clear()")
        d.get(self.base + "/")
        field = self.wait(lambda: self.q("#token").is_displayed() and
                          self.q("#token"), what="the sign-in form")
        field.send_keys(token + Keys.ENTER)
        self.wait(lambda: self.q("#who").is_displayed(), what="sign-in")
        self.wait(lambda: self.qq("#definition option"),
                  what="the definitions")
        self.wait(lambda: self.q("#export-rows") and not self.driver.
                  execute_script("return document.getElementById("
                                 "'exports').hidden"))

    def row(self, job_id):
        return self.q("#export-rows tr[data-id='%s']" % job_id)

    def state_text(self, job_id):
        return self.row(job_id).find_element(By.CSS_SELECTOR,
                                             ".state").text

    def wait_state(self, job_id, word, timeout=60):
        self.wait(lambda: self.state_text(job_id) == word, timeout,
                  "export %s showing %r" % (job_id, word))

    def choose(self, def_id, params=None, fmt=None):
        Select(self.q("#definition")).select_by_value(def_id)
        for k, v in (params or {}).items():
            f = self.q("#param-" + k)
            f.clear()
            if f.get_attribute("type") == "date":
                # a date input takes the digits in the browser's order
                self.driver.execute_script(
                    "arguments[0].value = arguments[1]", f, v)
            else:
                f.send_keys(v)
        if fmt:
            Select(self.q("#format")).select_by_value(fmt)

    def start(self, def_id, params=None, fmt=None):
        """Fills the form, starts the export; returns the new job's id."""
        before = set(r.get_attribute("data-id")
                     for r in self.qq("#export-rows tr"))
        self.choose(def_id, params, fmt)
        self.q("#start-button").click()
        self.wait(lambda: self.q("#start-result").is_displayed(),
                  what="the start's result")
        self.assertIn("Started", self.q("#start-result").text)
        new = [r.get_attribute("data-id")
               for r in self.qq("#export-rows tr")
               if r.get_attribute("data-id") not in before]
        self.assertEqual(len(new), 1, new)
        return new[0]

    def jobs_of(self, token, def_id):
        return [j for j in self.api_list(token)
                if j["definitionId"] == def_id]

    def api_list(self, token):
        r = self.graph("GET", "exportJobs?$top=1000", token=token)
        self.assertEqual(r.status, 200, r)
        return body_json(r)["value"]

    def hold(self):
        """A held definition: its build writes HELD_ROWS rows, then waits
        until release(def_id).  Returns its id."""
        name = "Held %d" % time.time_ns()
        gate = os.path.join(self.gate_dir, name.replace(" ", "-"))
        r = self.graph("POST", "definitions", {
            "tenant": "acme", "name": name, "formats": ["csv"],
            "source": {"command": "held", "args": [gate]},
            "retention": "7d"}, self.admin)
        self.assertEqual(r.status, 201, r)
        def_id = body_json(r)["id"]
        self.held[def_id] = gate
        self.addCleanup(self.release, def_id)  # a held build holds a worker
        return def_id

    def release(self, def_id):
        open(self.held[def_id], "w").close()

    def content(self, token, job_id):
        r = self.graph("GET", "exportJobs/%s/content" % job_id, token=token)
        self.assertEqual(r.status, 200, r)
        return r.body

    def unique(self):
        """Parameters no other export of the run has."""
        BrowserCase.serial = getattr(BrowserCase, "serial", 0) + 1
        return {"currency": "EUR", "min": "-%d" % BrowserCase.serial}

    def focused(self):
        return self.driver.switch_to.active_element



class PageTest(BrowserCase):
    """Every flow of the page, for people with tokens."""

    def test_form_is_built_from_the_definition(self):
        """Typed inputs for the declared parameters, required ones marked,
        a choice among the definition's formats."""
        self.sign_in(self.user)
        Select(self.q("#definition")).select_by_value(self.dated)
        f = self.q("#param-from")
        self.assertEqual(f.get_attribute("type"), "date")
        self.assertEqual(f.get_attribute("aria-required"), "true")
        self.assertIn("(required)", self.q("label[for='param-from']").text)
        self.assertEqual(self.q("#param-currency").get_attribute("type"),
                         "text")
        self.assertIsNone(self.q("#param-currency").get_attribute(
            "aria-required"))
        self.assertEqual(self.q("#param-min").get_attribute("inputmode"),
                         "decimal")
        self.assertEqual([o.get_attribute("value") for o in
                          self.qq("#format option")],
                         ["csv", "tsv", "json", "xml"])
        self.assertEqual(self.q("#definition-description").text,
                         "Approved expense lines")

    def test_every_format_downloads_by_signed_link(self):
        """Start with parameters in each format; the row shows what was
        asked; the plain download link (no token) gives the API's file
        byte for byte; clicking it saves that file to disk."""
        self.sign_in(self.user)
        params = {"from": "2025-06-01", "currency": "EUR"}
        rows = len(expected_rows(params))
        ids = {}
        for fmt in ("csv", "tsv", "json", "xml"):
            ids[fmt] = self.start(self.expenses, params, fmt)
        for fmt, jid in ids.items():
            self.wait_state(jid, "Ready")
            row = self.row(jid)
            self.assertIn("from = 2025-06-01", row.text)
            self.assertIn("currency = EUR", row.text)
            self.assertEqual(row.find_element(By.CSS_SELECTOR,
                                              ".format").text.lower(), fmt)
            self.assertIn("%d rows" % rows, row.find_element(
                By.CSS_SELECTOR, ".file").text)
            link = row.find_element(By.CSS_SELECTOR, "a[data-action="
                                    "'download']")
            href = link.get_attribute("href")
            self.assertTrue(href.startswith(self.base + "/api/v1/downloads/"),
                            href)
            self.assertNotIn(self.user, href)
            with urllib.request.urlopen(href, timeout=30) as resp:
                got = resp.read()
            self.assertEqual(got, self.content(self.user, jid), fmt)
        # a click: the browser streams the file to disk
        jid = ids["csv"]
        want = self.content(self.user, jid)
        for f in os.listdir(self.downloads):
            os.remove(os.path.join(self.downloads, f))
        self.row(jid).find_element(By.CSS_SELECTOR,
                                   "a[data-action='download']").click()

        def saved():
            done = [f for f in os.listdir(self.downloads)
                    if not f.endswith(".crdownload")]
            return done and os.path.join(self.downloads, done[0])
        path = self.wait(saved, what="the download")
        self.wait(lambda: os.path.getsize(path) == len(want),
                  what="the whole download")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), want)
        # the page is still there, the job still listed
        self.assertEqual(self.state_text(jid), "Ready")

    def test_api_400_is_shown_next_to_its_field(self):
        """A required parameter left empty: the API's 400 appears next to
        that field, which is marked invalid; no export was made."""
        self.sign_in(self.user)
        before = len(self.jobs_of(self.user, self.dated))
        self.choose(self.dated)
        self.q("#start-button").click()
        err = self.wait(lambda: self.q("#param-from-error").is_displayed()
                        and self.q("#param-from-error"),
                        what="the field's error")
        self.assertIn("from", err.text)
        self.assertEqual(self.q("#param-from").get_attribute("aria-invalid"),
                         "true")
        self.assertEqual(self.focused(), self.q("#param-from"))
        self.assertEqual(len(self.jobs_of(self.user, self.dated)), before)
        # once filled in, it goes
        jid = self.start(self.dated, {"from": "2026-01-01"})
        self.assertIsNone(self.q("#param-from").get_attribute(
            "aria-invalid"))
        self.wait_state(jid, "Ready")

    def test_progress_of_a_held_build_then_finish(self):
        """A running export shows a progress bar with its rows and bytes;
        when it finishes the title and the live region say so, polling
        honours Retry-After and stops once nothing is active."""
        held = self.hold()
        # a user of its own: no other export of the run is active
        watcher = self.stack.token("acme", "user", name="watcher")
        self.sign_in(watcher)
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.base, "permissions": ["notifications"]})
        jid = self.start(held)
        self.wait_state(jid, "Running")
        bar = self.row(jid).find_element(By.CSS_SELECTOR, "progress")
        # no total is known: an indeterminate bar
        self.assertEqual(self.driver.execute_script(
            "return arguments[0].position", bar), -1)
        self.assertIn("Progress of", bar.get_attribute("aria-label"))

        def counted():
            t = self.row(jid).find_element(By.CSS_SELECTOR, ".counts").text
            n = int(t.split(" rows")[0].replace(",", ""))
            return n > 0 and t
        text = self.wait(counted, what="rows counted while running")
        self.assertIn("written", text)
        api = self.graph_job(watcher, jid)["progress"]
        self.assertGreater(api["rowsWritten"], 0)
        # the polls of this job come no faster than its Retry-After (2 s)
        polls = self.driver.execute_script(
            "return performance.getEntriesByType('resource')"
            ".filter(e => e.name.indexOf('/exportJobs/%s') >= 0)"
            ".map(e => e.startTime)" % jid)
        self.assertGreaterEqual(len(polls), 1)
        gaps = [b - a for a, b in zip(polls, polls[1:])]
        self.assertTrue(all(g >= 1900 for g in gaps), gaps)
        # the notifications the page raises (headless Chromium shows none)
        self.driver.execute_script("""
            var N = window.Notification;
            window.shown = [];
            window.Notification = function (title, o) {
                window.shown.push(title + ': ' + o.body);
                return new N(title, o);
            };
            Object.defineProperty(window.Notification, 'permission',
                                  { get: function () { return N.permission; } });""")
        self.release(held)
        self.wait_state(jid, "Ready")
        self.assertIn("finished", self.driver.title)
        shown = self.driver.execute_script("return window.shown")
        self.assertEqual(len(shown), 1, shown)
        self.assertIn("ready", shown[0])
        self.assertIn("Held", shown[0])
        self.wait(lambda: "ready" in self.q("#announce").text,
                  what="the announcement")
        self.assertIn("Held", self.q("#announce").text)
        # nothing active: no more requests
        time.sleep(0.5)
        n = self.driver.execute_script(
            "return performance.getEntriesByType('resource').length")
        time.sleep(4.5)
        self.assertEqual(self.driver.execute_script(
            "return performance.getEntriesByType('resource').length"), n,
            "the page went on polling with nothing active")
        # a key press: the news was seen
        self.q("body").send_keys(Keys.SHIFT)
        self.wait(lambda: self.driver.title == "Quarry: exports")

    def test_cancel_by_keyboard(self):
        """Cancel a running export with the keyboard alone; it reads
        Cancelled and offers no download, only Run again."""
        held = self.hold()
        self.sign_in(self.user)
        jid = self.start(held)
        self.wait_state(jid, "Running")
        cancel = self.row(jid).find_element(By.CSS_SELECTOR,
                                            "[data-action='cancel']")
        self.assertIn("Cancel Held", cancel.get_attribute("aria-label"))
        self.driver.execute_script("arguments[0].focus()", cancel)
        self.focused().send_keys(Keys.ENTER)
        self.wait_state(jid, "Cancelled")
        row = self.row(jid)
        self.assertEqual(row.find_elements(By.CSS_SELECTOR,
                                           "[data-action='download']"), [])
        self.assertEqual(row.find_elements(By.CSS_SELECTOR,
                                           "[data-action='cancel']"), [])
        # the focus stayed in the row, not on the page body
        self.assertNotEqual(self.focused().tag_name, "body")
        self.assertEqual(self.graph_job(self.user, jid)["status"], "failed")
        self.release(held)

    def test_failure_reason_and_run_again(self):
        """A failed export says why; Run again makes a new export with the
        same definition, parameters and format."""
        self.sign_in(self.user)
        jid = self.start(self.broken)
        self.wait_state(jid, "Failed")
        reason = self.row(jid).find_element(By.CSS_SELECTOR, ".reason").text
        self.assertIn("warehouse database is down", reason)
        api = self.graph_job(self.user, jid)
        self.assertIn(reason, api["statusDetail"])
        # run again on an export with parameters
        ok = self.start(self.expenses, {"currency": "CHF"}, "json")
        self.wait_state(ok, "Ready")
        before = len(self.qq("#export-rows tr"))
        self.row(ok).find_element(By.CSS_SELECTOR,
                                  "[data-action='rerun']").click()
        self.wait(lambda: len(self.qq("#export-rows tr")) == before + 1,
                  what="the new export's row")
        new = self.qq("#export-rows tr")[0].get_attribute("data-id")
        self.assertNotEqual(new, ok)
        j = self.graph_job(self.user, new)
        self.assertEqual((j["parameters"], j["format"], j["definitionId"]),
                         ({"currency": "CHF"}, "json", self.expenses))
        self.wait_state(new, "Ready")

    def test_expired_export_offers_no_download(self):
        """Deleting a file (or its expiry) leaves an Expired export with no
        download; the old signed link answers 410."""
        self.sign_in(self.user)
        jid = self.start(self.expenses, {"currency": "USD"}, "tsv")
        self.wait_state(jid, "Ready")
        href = self.row(jid).find_element(
            By.CSS_SELECTOR, "a[data-action='download']").get_attribute(
            "href")
        self.row(jid).find_element(By.CSS_SELECTOR,
                                   "[data-action='delete']").click()
        self.driver.switch_to.alert.accept()
        self.wait_state(jid, "Expired")
        row = self.row(jid)
        self.assertEqual(row.find_elements(By.CSS_SELECTOR,
                                           "a[data-action='download']"), [])
        self.assertIn("Expired", row.find_element(By.CSS_SELECTOR,
                                                  "dl.times").text)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(href, timeout=30)
        self.assertEqual(cm.exception.code, 410)
        # after a reload, too
        self.sign_in(self.user)
        self.assertEqual(self.state_text(jid), "Expired")

    def test_double_click_and_409(self):
        """A double click makes one export and no error; asking again for
        the same running export says so and shows it; another user asking
        for the same export gets their own."""
        held = self.hold()
        self.sign_in(self.user)
        self.choose(held)
        ActionChains(self.driver).double_click(
            self.q("#start-button")).perform()
        self.wait(lambda: "Started" in self.q("#start-result").text,
                  what="the start")
        time.sleep(1)           # a second request would have answered
        mine = self.jobs_of(self.user, held)
        self.assertEqual(len(mine), 1, mine)
        self.assertNotIn("409", self.q("#start-result").text)
        self.assertFalse(self.q("#message").is_displayed())
        jid = mine[0]["id"]
        # again: the same export is already running
        self.q("#start-button").click()
        self.wait(lambda: "already running" in self.q("#start-result").text,
                  what="the duplicate's message")
        self.assertNotIn("error", self.q("#start-result").get_attribute(
            "class"))
        self.q("[data-action='show-duplicate']").click()
        self.wait(lambda: self.focused() == self.row(jid),
                  what="the focus on the running export")
        self.assertEqual(len(self.jobs_of(self.user, held)), 1)
        # another user: their own export, no 409
        self.sign_in(self.user2)
        other = self.start(held)
        self.assertNotEqual(other, jid)
        self.release(held)
        self.wait_state(other, "Ready")

    def test_revoked_token_signs_out(self):
        """A token revoked while the page is open: the next request brings
        the sign-in form back with a plain message."""
        tok = self.stack.token("acme", "user", name="short-lived")
        self.sign_in(tok)
        jid = self.start(self.expenses, {"currency": "EUR"}, "csv")
        self.wait_state(jid, "Ready")
        tid = self.stack.token_id("acme", "short-lived")
        self.stack.ctl("token", "revoke", tid)
        self.q("#refresh").click()
        self.wait(lambda: self.q("#token").is_displayed(),
                  what="the sign-in form")
        self.assertIn("revoked", self.q("#message").text)
        self.assertFalse(self.q("#exports").is_displayed())
        self.assertEqual(self.driver.execute_script(
            "return sessionStorage.getItem('quarry-token')"), None)

    def test_admin_approves_and_rejects(self):
        """An admin sees the tenant's exports with owners and the ones
        awaiting approval; approves one, rejects one with a reason, which
        the user then reads."""
        a = self.graph_create(self.user, self.approved, self.unique())
        b = self.graph_create(self.user, self.approved, self.unique())
        self.sign_in(self.admin)
        self.wait(lambda: len(self.qq("#approval-rows tr")) >= 2,
                  what="the approvals")
        self.assertIn("ana", self.row(a["id"]).find_element(
            By.CSS_SELECTOR, ".owner").text)
        self.assertEqual(self.state_text(a["id"]), "Awaiting approval")
        arow = self.q("#approval-rows tr[data-id='%s']" % a["id"])
        self.assertIn("ana", arow.text)
        arow.find_element(By.CSS_SELECTOR, "[data-action='approve']").click()
        self.wait(lambda: not self.qq("#approval-rows tr[data-id='%s']"
                                      % a["id"]), what="the approval")
        brow = self.q("#approval-rows tr[data-id='%s']" % b["id"])
        reason = brow.find_element(By.CSS_SELECTOR, "input")
        label = self.q("label[for='%s']" % reason.get_attribute("id"))
        self.assertIn("Reason for rejecting", label.text)
        reason.send_keys("Over budget for March")
        brow.find_element(By.CSS_SELECTOR, "[data-action='reject']").click()
        self.wait(lambda: not self.qq("#approval-rows tr[data-id='%s']"
                                      % b["id"]), what="the rejection")
        self.wait_state(b["id"], "Rejected")
        self.wait_state(a["id"], "Ready")
        # the user reads the reason
        self.sign_in(self.user)
        self.assertFalse(self.q("#approvals").is_displayed())
        self.assertEqual(self.state_text(b["id"]), "Rejected")
        self.assertIn("Over budget for March", self.row(b["id"]).text)
        self.assertFalse(self.q("#export-table th.owner").is_displayed())

    def test_admin_manages_definitions(self):
        """An admin writes a new definition in the editor, gets the API's
        refusal of a wrong one and a plain one for text that is not JSON,
        starts an export of it from the form, renames it, deletes it."""
        self.sign_in(self.admin)
        self.assertTrue(self.q("#definitions").is_displayed())
        self.q("#new-definition").click()
        box = self.q("#definition-json")
        self.assertEqual(self.focused(), box)
        self.assertEqual(self.q("label[for='definition-json']").text,
                         "New definition (JSON)")
        doc = {"name": "Made on the page", "source": {"dataset": "expenses"},
               "columns": ["report_id", "amount"],
               "parameters": [{"name": "cur", "type": "string",
                               "required": True}],
               "filters": [{"column": "currency", "op": "=",
                            "parameter": "cur"}],
               "formats": ["pdf"], "retention": "7d"}

        def write(text):
            box.clear()
            self.driver.execute_script("arguments[0].value = arguments[1]",
                                       box, text)
            self.q("#save-definition").click()

        write("{not json")
        err = self.wait(lambda: self.q("#definition-error").is_displayed()
                        and self.q("#definition-error"), what="the error")
        self.assertIn("not JSON", err.text)
        write(json.dumps(doc))
        self.wait(lambda: "formats[0]" in self.q("#definition-error").text,
                  what="the API's refusal")
        self.assertEqual(box.get_attribute("aria-invalid"), "true")
        doc["formats"] = ["csv", "json"]
        write(json.dumps(doc))
        self.wait(lambda: not self.q("#definition-form").is_displayed(),
                  what="the save")
        made = [d for d in body_json(self.graph(
            "GET", "definitions", token=self.admin))["value"]
            if d["name"] == "Made on the page"]
        self.assertEqual(len(made), 1)
        did = made[0]["id"]
        self.assertEqual(made[0]["tenant"], "acme")
        row = self.q("#definition-rows tr[data-id='%s']" % did)
        self.assertIn("cur (string, required)", row.text)
        # it is in the form at once
        jid = self.start(did, {"cur": "CHF"}, "json")
        self.wait_state(jid, "Ready")
        rows = json.loads(self.content(self.admin, jid))
        self.assertEqual(len(rows), len(expected_rows({"currency": "CHF"})))
        # renamed
        row.find_element(By.CSS_SELECTOR, "[data-action='edit']").click()
        text = self.q("#definition-json").get_attribute("value")
        self.assertEqual(json.loads(text)["name"], "Made on the page")
        write(text.replace("Made on the page", "Renamed on the page"))
        self.wait(lambda: "Renamed on the page" in self.q(
            "#definition-rows tr[data-id='%s']" % did).text,
            what="the new name")
        self.assertEqual(body_json(self.graph(
            "GET", "definitions/" + did, token=self.admin))["name"],
            "Renamed on the page")
        self.assertIn("Renamed on the page", [
            o.text for o in self.qq("#definition option")])
        # deleted
        self.q("#definition-rows tr[data-id='%s'] [data-action="
               "'delete-definition']" % did).click()
        self.driver.switch_to.alert.accept()
        self.wait(lambda: not self.qq("#definition-rows tr[data-id='%s']"
                                      % did), what="the deletion")
        self.assertEqual(self.graph("GET", "definitions/" + did,
                                    token=self.admin).status, 404)
        self.assertNotIn(did, [o.get_attribute("value")
                               for o in self.qq("#definition option")])
        # a user sees no editor
        self.sign_in(self.user)
        self.assertFalse(self.q("#definitions").is_displayed())

    def test_focus_and_scroll_survive_refreshes(self):
        """The row of a polled export is redrawn in place: the control that
        had the focus keeps it, the page does not scroll."""
        held = self.hold()
        self.sign_in(self.user)
        with self.paused():
            jid = self.start(held)
            self.assertEqual(self.state_text(jid), "Queued")
            cancel = self.row(jid).find_element(By.CSS_SELECTOR,
                                                "[data-action='cancel']")
            self.driver.execute_script(
                "arguments[0].focus(); arguments[1].__old = true;"
                "window.scrollTo(0, 120)", cancel, self.row(jid))
            y = self.driver.execute_script("return window.scrollY")
        self.wait_state(jid, "Running")
        self.assertFalse(self.driver.execute_script(
            "return !!arguments[0].__old", self.row(jid)), "row not redrawn")
        f = self.focused()
        self.assertEqual(f.get_attribute("data-action"), "cancel")
        self.assertEqual(f.find_element(By.XPATH, "ancestor::tr")
                         .get_attribute("data-id"), jid)
        self.assertEqual(self.driver.execute_script(
            "return window.scrollY"), y)
        self.release(held)
        self.wait_state(jid, "Ready")

    def test_filter_by_definition_leaves_no_stale_row(self):
        """Showing one definition's exports while another's is running and
        polled: no row of the other comes back, and the running one is
        there again with every definition."""
        held = self.hold()
        self.sign_in(self.user)
        jid = self.start(held)
        self.wait_state(jid, "Running")
        Select(self.q("#filter")).select_by_value(self.expenses)
        self.wait(lambda: not self.qq("#export-rows tr[data-id='%s']" % jid),
                  what="the other definition's row gone")
        time.sleep(2.5)         # past a poll of the running export
        self.assertEqual(self.qq("#export-rows tr[data-id='%s']" % jid), [])
        names = set(r.find_element(By.CSS_SELECTOR, ".export strong").text
                    for r in self.qq("#export-rows tr"))
        self.assertLessEqual(names, {"Expenses"})
        Select(self.q("#filter")).select_by_value("")
        self.wait_state(jid, "Running")
        self.release(held)
        self.wait_state(jid, "Ready")

    def test_pages_of_exports(self):
        """More exports than a page: Older exports shows the next page,
        Newest the first again, no export on two pages."""
        tok = self.stack.token("acme", "user", name="pager")
        for i in range(23):
            self.graph_create(tok, self.expenses, {"min": str(i)}, "csv")
        self.sign_in(tok)
        first = [r.get_attribute("data-id")
                 for r in self.qq("#export-rows tr")]
        self.assertEqual(len(first), 20)
        self.q("#older").click()
        self.wait(lambda: self.qq("#export-rows tr") and
                  self.qq("#export-rows tr")[0].get_attribute("data-id")
                  not in first, what="the second page")
        second = [r.get_attribute("data-id")
                  for r in self.qq("#export-rows tr")]
        self.assertEqual(len(second), 3)
        self.assertFalse(set(first) & set(second))
        self.assertFalse(self.q("#older").is_displayed())
        self.q("#newest").click()
        self.wait(lambda: [r.get_attribute("data-id") for r in
                           self.qq("#export-rows tr")] == first,
                  what="the first page again")
        api = [j["id"] for j in self.api_list(tok)]
        self.assertEqual(first + second, api)

    def populated(self, token):
        """Signs in where exports of every kind are shown."""
        held = self.hold()
        for _ in range(2):
            self.graph_create(self.user, self.approved, self.unique())
        self.graph_create(self.user, held)
        self.sign_in(token)
        return held

    def test_phone_width_has_no_horizontal_scroll(self):
        """At 390 px no element is wider than the viewport and every row
        is a labelled card."""
        held = self.populated(self.admin)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 390, "height": 844, "deviceScaleFactor": 2,
            "mobile": True})
        self.driver.refresh()
        self.wait(lambda: self.qq("#export-rows tr"), what="the list")
        self.wait(lambda: self.qq("#approval-rows tr"),
                  what="the approvals")
        wide = self.driver.execute_script("""
            var w = document.documentElement.clientWidth, out = [];
            document.querySelectorAll('body *').forEach(function (e) {
                var r = e.getBoundingClientRect();
                if (r.width && (r.right > w + 0.5 || r.left < -0.5) &&
                    e.offsetParent !== null && !e.closest('.skip') &&
                    !e.closest('.visually-hidden') && !e.closest('thead'))
                    out.push(e.tagName + '#' + e.id + '.' + e.className +
                             ' ' + Math.round(r.left) + '..' +
                             Math.round(r.right));
            });
            return [w, document.documentElement.scrollWidth, out];""")
        self.assertEqual(wide[0], 390)
        self.assertLessEqual(wide[1], 390, wide)
        self.assertEqual(wide[2], [], wide)
        # the captions are read across the screen, not a letter a line
        for cap in self.qq("caption"):
            if cap.is_displayed():
                self.assertGreater(cap.size["width"], 300, cap.text)
                self.assertLess(cap.size["height"], 80, cap.text)
        label = self.driver.execute_script(
            "return getComputedStyle(document.querySelector("
            "'#export-rows td'), '::before').content")
        self.assertEqual(label, '"Export"')
        self.release(held)

    def test_accessibility_check(self):
        """axe-core (served from this machine) finds no serious or critical
        violation on the page of an admin, on a desktop and a phone."""
        self.assertTrue(os.path.exists(AXE), "axe-core is not installed in "
                        "tests/browser/node_modules (tests/browser/run.sh "
                        "installs it with npm)")
        with open(AXE) as f:
            axe = f.read()
        held = self.populated(self.admin)
        for metrics in (None, {"width": 390, "height": 844,
                               "deviceScaleFactor": 2, "mobile": True}):
            if metrics:
                self.driver.execute_cdp_cmd(
                    "Emulation.setDeviceMetricsOverride", metrics)
                self.driver.refresh()
            self.wait(lambda: self.qq("#approval-rows tr"),
                      what="the approvals")
            self.driver.execute_script(axe)
            found = self.driver.execute_async_script("""
                var done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] })
                  .then(function (r) {
                    done(r.violations.map(function (v) {
                      return [v.id, v.impact, v.help,
                              v.nodes.slice(0, 3).map(function (n) {
                                return n.target.join(' '); })];
                    }));
                  }, function (e) { done([['axe-error', 'critical',
                                           String(e), []]]); });""")
            bad = [v for v in found if v[1] in ("serious", "critical")]
            self.assertEqual(bad, [], "%s: %s" % (
                "phone" if metrics else "desktop", found))
        self.release(held)

    def test_signed_out_page_and_bad_token(self):
        """Without a token the page asks for one; a wrong token is refused
        with a message, and nothing is shown."""
        self.driver.get(self.base + "/")
        self.wait(lambda: self.q("#token").is_displayed(),
                  what="the sign-in form")
        self.assertFalse(self.q("#exports").is_displayed())
        self.q("#token").send_keys("not-a-token" + Keys.ENTER)
        self.wait(lambda: "refused" in self.q("#message").text,
                  what="the refusal")
        self.assertFalse(self.q("#exports").is_displayed())


class PageSignedInByWebServerTest(BrowserCase):
    """With AUTH=basic (remote_user = on) the web server signs the person
    in: the page works with no token at all."""

    auth = "basic"

    @classmethod
    def seed(cls):
        st = cls.stack
        st.dataset("acme", "expenses", expense_csv())
        path = os.path.join(st.vardir, "def-sso.json")
        with open(path, "w") as f:
            json.dump(expense_definition("acme", "Expenses"), f)
        cls.expenses = st.ctl("definition", "add", path).strip()
        cls.password = "pw-%d" % time.time_ns()
        subprocess.run(["htpasswd", "-bB", os.path.join(st.vardir,
                        "htpasswd"), "erin", cls.password], check=True,
                       capture_output=True)
        st.ctl("user", "add", "erin", "--tenant", "acme", "--role", "user")
        cls.start_browser()

    def setUp(self):
        """(The page answers 401 before the sign-in: nothing to clear.)"""

    def test_page_without_a_token(self):
        """Signed in by the web server (Basic, as the browser sends it
        once the person typed their password), the page shows who they
        are, asks for no token, starts an export and downloads it."""
        d = self.driver
        d.execute_cdp_cmd("Network.enable", {})
        # without a sign-in the web server refuses the page itself
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(self.base + "/", timeout=30)
        self.assertEqual(cm.exception.code, 401)
        d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {
            "Authorization": "Basic " + base64.b64encode(
                ("erin:" + self.password).encode()).decode()}})
        try:
            d.get(self.base + "/")
            self.wait(lambda: self.q("#who").is_displayed(),
                      what="the sign-in by the web server")
            self.assertIn("erin (user) of acme", self.q("#who").text)
            self.assertFalse(self.q("#auth").is_displayed())
            self.assertFalse(self.q("#sign-out").is_displayed())
            self.assertIsNone(d.execute_script(
                "return sessionStorage.getItem('quarry-token')"))
            jid = self.start(self.expenses, {"currency": "USD"}, "csv")
            self.wait_state(jid, "Ready")
            href = self.row(jid).find_element(
                By.CSS_SELECTOR, "a[data-action='download']").get_attribute(
                "href")
        finally:
            d.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                              {"headers": {}})
        # the signed link needs no sign-in; it is erin's file
        with urllib.request.urlopen(href, timeout=30) as resp:
            got = resp.read()
        r = self.stack.request("GET", "/api/v1/exportJobs/%s/content" % jid,
                               headers={"Authorization": "Basic " +
                                        base64.b64encode(("erin:" +
                                                          self.password)
                                                         .encode()).decode()})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(got, r.body)


if __name__ == "__main__":
    unittest.main()
