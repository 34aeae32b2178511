#!/usr/bin/env python3
"""
Runs Quarry's integration tests against real stacks (lighttpd + the four
FastCGI programs + quarryd) in temporary directories.

    python3 tests/integration/run.py --bin-dir OUT [--server S] [--tls]
        [-k PATTERN]

OUT holds bin/ and cgi-bin/ (make's OUT: "." or build/san).  S is the web
server of every stack: lighttpd (default), apache, proxy or cgi (also
QUARRY_SERVER).  --tls (or QUARRY_TLS=1): every stack speaks HTTPS with
a self-signed certificate (make start TLS=1), unless its class says
otherwise.  Prints one
line per test, the tail of the stack's logs for each failure, and last a
summary line "N passed, N failed" (skips are counted on the line
before it); exits 1 on any failure.  Every tests/integration/test_*.py
is a module of the suite; a run that selects no test (a -k pattern or an
--only that matches nothing) fails.
Set QUARRY_KEEP_TMP=1 to keep the temporary directories.
"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def modules(where):
    """Every test module of directory where, in name order."""
    return sorted(f[:-3] for f in os.listdir(where)
                  if f.startswith("test_") and f.endswith(".py"))


class Result(unittest.TextTestResult):
    """Counts outcomes and prints the stack's logs next to a failure."""

    def _logs(self, test):
        stack = getattr(test, "stack", None)
        if not hasattr(self, "_shown"):
            self._shown = set()
        if test.id() in self._shown:
            return
        self._shown.add(test.id())
        if stack is not None and getattr(stack, "started", False):
            self.stream.write("\n" + stack.log_tail() + "\n")
            self.stream.flush()

    def startTest(self, test):
        self._t0 = time.time()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        took = time.time() - getattr(self, "_t0", time.time())
        if took >= 5:
            self.stream.write("    (%s took %.1f s)\n" % (
                test.id().rsplit(".", 1)[-1], took))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._logs(test)

    def addError(self, test, err):
        super().addError(test, err)
        self._logs(test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._logs(test)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--bin-dir", default=".",
                    help="directory holding bin/ and cgi-bin/")
    ap.add_argument("--server", default=os.environ.get("QUARRY_SERVER",
                                                       "lighttpd"),
                    choices=("lighttpd", "apache", "proxy", "cgi"),
                    help="the web server the stacks run (default lighttpd)")
    ap.add_argument("--tls", action="store_true",
                    default=os.environ.get("QUARRY_TLS", "0") == "1",
                    help="stacks speak HTTPS (stack.sh TLS=1) and requests "
                    "go over TLS")
    ap.add_argument("--only", action="append", default=[],
                    metavar="NAME", help="run only this module, class or "
                    "test (test_download, test_concur.ConcurAPITest, ...) "
                    "instead of every module; repeatable")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only tests whose name contains PATTERN")
    ap.add_argument("--dir", default=HERE,
                    help="the directory of the test modules (default this "
                    "one; tests/browser for the page's suite), whose "
                    "modules may import this directory's harness")
    ap.add_argument("-v", action="store_true", help="verbose (default)")
    args = ap.parse_args()

    repo = os.path.dirname(os.path.dirname(HERE))
    bin_dir = os.path.abspath(args.bin_dir)
    os.environ["QUARRY_BIN_DIR"] = bin_dir
    os.environ["QUARRY_SERVER"] = args.server
    os.environ["QUARRY_TLS"] = "1" if args.tls else "0"
    suite_dir = os.path.abspath(args.dir)
    label = os.path.basename(suite_dir)
    sys.path.insert(0, HERE)
    if suite_dir != HERE:
        sys.path.insert(0, suite_dir)

    missing = [p for p in ("bin/quarryctl", "bin/quarryd",
                           "cgi-bin/definitions.fcgi", "cgi-bin/jobs.fcgi",
                           "cgi-bin/status.fcgi", "cgi-bin/files.fcgi")
               if not os.access(os.path.join(bin_dir, p), os.X_OK)]
    if missing:
        print(label + ": missing in %s: %s (run make first)" % (
            bin_dir, ", ".join(missing)))
        print("0 passed, 1 failed")
        return 1
    if not os.path.exists(os.path.join(repo, "scripts", "stack.sh")):
        print(label + ": scripts/stack.sh is missing")
        print("0 passed, 1 failed")
        return 1

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in args.patterns]
    suite = unittest.TestSuite()
    for name in args.only or modules(suite_dir):
        suite.addTests(loader.loadTestsFromName(name))
    if suite.countTestCases() == 0:
        print(label + ": no test selected (%s)" % (
            ", ".join(["-k " + p for p in args.patterns] +
                      ["--only " + o for o in args.only]) or
            "no test module in %s" % suite_dir))
        print("0 passed, 1 failed")
        return 1

    t0 = time.time()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     resultclass=Result)
    res = runner.run(suite)
    skipped = len(res.skipped)
    failing, holders = set(), 0
    for t, _ in res.failures + res.errors:
        if isinstance(t, unittest.case._SubTest):
            failing.add(t.test_case.id())
        elif isinstance(t, unittest.TestCase):
            failing.add(t.id())
        else:
            holders += 1        # setUpClass/tearDownClass and the like
    failed = len(failing) + holders + len(res.unexpectedSuccesses)
    passed = res.testsRun - skipped - len(res.expectedFailures) - \
        len(res.unexpectedSuccesses) - len(failing)
    print(label + ": %.1fs with binaries from %s behind %s%s" % (
        time.time() - t0, bin_dir, args.server,
        " over HTTPS" if args.tls else ""))
    if skipped:
        print(label + ": %d skipped (reasons above)" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and res.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
