#!/bin/sh
# deps.sh: makes sure the Debian packages Quarry needs are installed.
#
# Quiet when nothing is missing.  As root, installs what is missing with
# apt-get (non-interactive, no recommends).  Otherwise prints the exact
# command to run and exits 1.  Set QUARRY_DEPS_OPTIONAL=1 to also want the
# optional packages (wrk for make bench).

set -eu

# What building, running and testing Quarry needs.
BUILD="gcc make pkg-config libdb5.3-dev libfcgi-dev libjson-c-dev libxml2-dev libcmocka-dev libzip-dev"
# The drivers of SQL sources (docs/sources.md).
BUILD="$BUILD libsqlite3-dev libpq-dev libmariadb-dev unixodbc-dev"
# HMAC-SHA256 of the signed download links (nettle, not a hand-written MAC).
BUILD="$BUILD nettle-dev"
# Apache (SERVER=apache, SERVER=cgi, and the suite runs against both).
RUN="lighttpd apache2 libapache2-mod-fcgid libapache2-mod-xsendfile spawn-fcgi"
# htpasswd (make start AUTH=basic)
RUN="$RUN apache2-utils"
# HTTPS (make start TLS=1): lighttpd's mod_openssl (Apache's mod_ssl comes
# with apache2) and openssl, which makes the self-signed certificate.
RUN="$RUN lighttpd-mod-openssl openssl"
# The fuzz targets (make fuzz, and a short run in make test) need clang
# and libFuzzer's runtime.
TEST="python3 curl procps clang libclang-rt-14-dev valgrind sqlite3"
# Real database servers for the SQL source tests (started in a temporary
# directory on unix sockets, never as a system service).
TEST="$TEST postgresql mariadb-server mariadb-client odbc-postgresql"
# promtool (in Debian's prometheus package; its service is not started)
# checks the metrics Quarry writes.
TEST="$TEST prometheus"
# mandoc lints the manual pages (man/).
TEST="$TEST mandoc"
# The Debian package (make deb, and make test-deb builds, checks and
# installs it): debhelper, lintian.
TEST="$TEST debhelper dpkg-dev fakeroot lintian"
# The page's browser suite (tests/browser): a real headless Chromium, driven
# by Selenium through Debian's chromedriver; npm fetches axe-core for its
# accessibility check (a Node.js that came with its own npm needs none).
TEST="$TEST chromium chromium-driver python3-selenium"
if ! command -v npm >/dev/null 2>&1; then
	TEST="$TEST npm"
fi
OPTIONAL="wrk"

want="$BUILD $RUN $TEST"
if [ "${QUARRY_DEPS_OPTIONAL:-0}" = 1 ]; then
	want="$want $OPTIONAL"
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found; this script knows Debian only." >&2
	echo "deps.sh: install by hand: $want" >&2
	exit 1
fi

# Prints the packages of "$@" that are not installed.
missing_of() {
	for p in "$@"; do
		s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || :)
		case "$s" in
		ii*) ;;
		*) printf '%s ' "$p" ;;
		esac
	done
}

# shellcheck disable=SC2086
missing=$(missing_of $want)
if [ -z "$missing" ]; then
	exit 0
fi
missing=${missing% }

cmd="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "Quarry needs these Debian packages: $missing" >&2
	echo "Install them as root with:" >&2
	echo "" >&2
	echo "    sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive $cmd'" >&2
	echo "" >&2
	echo "(or run 'make deps' as root)" >&2
	exit 1
fi

echo "deps.sh: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive

# Package installation must not start system services (the init scripts
# of lighttpd and apache2 would start a server on port 80).  Only when no policy exists
# already, add one for the duration of the install and remove it after.
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ] && [ -d /usr/sbin ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	ours=1
	trap 'rm -f "$policy"' EXIT INT TERM
fi

# Refresh the package lists only when apt does not know a package yet
# (a fresh container has no lists at all).
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends --simulate $missing \
    >/dev/null 2>&1; then
	apt-get update
fi
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing

if [ "$ours" = 1 ]; then
	rm -f "$policy"
	trap - EXIT INT TERM
fi
