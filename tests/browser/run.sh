#!/bin/sh
# tests/browser/run.sh [OUT]: the page's browser suite (test_page.py):
# a real headless Chromium driven by Selenium through Debian's
# chromedriver, against a real stack behind lighttpd built in OUT (".",
# or build/san).  make deps installs chromium, chromium-driver and
# python3-selenium; this script installs axe-core from npm into
# tests/browser/node_modules (package.json and package-lock.json pin it)
# when it is not there.  Runs with Debian's python3, which has Selenium.
# Ends with "N passed, N failed" like every suite.

set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=${1:-.}
[ $# -gt 0 ] && shift
PY=${QUARRY_BROWSER_PYTHON:-/usr/bin/python3}

if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
	echo "browser: installing axe-core from npm (tests/browser/node_modules)"
	if ! (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error); then
		echo "browser: npm could not install axe-core;" \
		    "the accessibility test will fail"
	fi
fi
for p in "$PY" /usr/bin/chromium /usr/bin/chromedriver; do
	if [ ! -x "$p" ]; then
		echo "browser: $p is missing (make deps installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if ! "$PY" -c 'import selenium' 2>/dev/null; then
	echo "browser: $PY has no selenium (make deps installs python3-selenium)"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$PY" tests/integration/run.py --bin-dir "$OUT" --server lighttpd \
    --dir tests/browser "$@"
