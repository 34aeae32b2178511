#!/usr/bin/env python3
"""
The manual pages (man/, issue 14 item 6): each passes `mandoc -T lint`
at warning level with nothing to say; quarry.conf(5) names every key the
configuration parser knows and docs/configuration.md lists; quarryctl(8)
names every command quarryctl knows.  Prints a line per check and
"N passed, N failed"; exits 1 on a failure.
"""

import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
MAN = os.path.join(TOP, "man")
PAGES = ["quarryctl.8", "quarryd.8", "quarry.conf.5", "quarry-web.8"]


def read(*p):
    with open(os.path.join(TOP, *p), encoding="utf-8") as f:
        return f.read()


def main():
    passed = failed = 0

    def check(ok, what, why=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok: " + what)
        else:
            failed += 1
            print("FAIL: %s%s" % (what, ": " + why if why else ""))

    for page in PAGES:
        path = os.path.join(MAN, page)
        if not os.path.exists(path):
            check(False, page, "missing")
            continue
        p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.decode(errors="replace").strip()
        check(p.returncode == 0 and not out, "mandoc -T lint " + page, out)

    conf = read("man", "quarry.conf.5")
    documented = set(re.findall(r"\.It Cm ([a-z_]+)", conf))
    documented |= set(re.findall(r"\.It Cm [a-z_]+ , Cm ([a-z_]+)", conf))
    parsed = set(re.findall(r'strcmp\(key, "([a-z_]+)"\)',
                            read("src", "lib", "config.c")))
    listed = set(re.findall(r"^\| `([a-z_]+)`", read("docs",
                                                      "configuration.md"),
                            re.M))
    listed |= set(re.findall(r"^\| `[a-z_]+`, `([a-z_]+)`",
                             read("docs", "configuration.md"), re.M))
    missing = sorted((parsed | listed) - documented)
    check(not missing, "quarry.conf(5) names every key",
          "missing: " + ", ".join(missing))

    main_c = read("src", "ctl", "main.c")
    commands = set(re.findall(r'\{ "([a-z-]+)", cmd_', main_c))
    ctl = read("man", "quarryctl.8")
    named = set(re.findall(r"\.It Cm ([a-z-]+)", ctl))
    missing = sorted(commands - named)
    check(bool(commands) and not missing, "quarryctl(8) names every command",
          "missing: " + ", ".join(missing))

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
