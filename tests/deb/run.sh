#!/bin/sh
# tests/deb/run.sh (make test-deb): the Debian package, for real.
#
# Builds it (scripts/deb.sh, DEB_BUILD_OPTIONS "parallel=2 nocheck" unless
# set), checks it with lintian (no error), installs it with apt-get (and
# what it depends on), checks what it installed (programs, manual pages,
# the conffile, the units, the user quarry, the directories' owners and
# modes, a new store), enables it under lighttpd with lighty-enable-mod
# quarry, and runs a Concur and a Graph job through the installed stack:
# lighttpd -D on a free 127.0.0.1 port with the system's configuration
# (/etc/lighttpd/lighttpd.conf without its port, conf-enabled/ as it is),
# and quarryd as the unit runs it (its ExecStart, as quarry).  The files
# downloaded are compared byte for byte with the imported data.  Then
# Apache (a2enconf quarry) serves the Graph job's file too, from its own
# apache2 -f on another loopback port.  Then it installs the same .deb
# over itself (an upgrade: the store, tokens, jobs and a changed conffile
# are kept, the old job's file still downloads) and purges it (the data,
# /etc/quarry, the user and group, the web server snippets are gone, and
# no process of the package is left).
#
# It never starts a system service (a policy-rc.d refuses them while it
# runs, when there is none already), never listens on anything but
# 127.0.0.1, and leaves the machine as it found it: servers stopped, the
# package purged, lighttpd's and Apache's enabled modules as they were.
# It runs as root only; without root, dpkg or apt-get it says why and
# skips.  It refuses to run where a package quarry is installed already.
# Each step is a check; the last line is "N passed, N failed".

set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd -P)
PROG=test-deb

passed=0
failed=0

skip() {
	echo "$PROG: SKIPPED: $*"
	echo "0 passed, 0 failed"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip "it installs a package: run it as root"
for c in dpkg dpkg-query apt-get; do
	command -v "$c" >/dev/null 2>&1 || skip "no $c here"
done
[ -w /var/lib/dpkg ] || skip "the dpkg database is not writable"
if dpkg-query -W -f='${db:Status-Abbrev}' quarry 2>/dev/null |
    grep -q '^[ih]'; then
	skip "a package quarry is installed already (purge it first)"
fi
PATH=$PATH:/usr/sbin:/sbin
export PATH

START=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quarry-test-deb.XXXXXX") || exit 1
chmod 755 "$tmp"	# lighttpd writes its log here as www-data
LOG=$tmp/steps.log
APT="apt-get -y -q -o DPkg::Lock::Timeout=300"
export DEBIAN_FRONTEND=noninteractive

ok() {
	passed=$((passed + 1))
	echo "ok    $*"
}

not_ok() {
	failed=$((failed + 1))
	echo "FAIL  $*"
}

# check DESCRIPTION COMMAND...: runs the command (its output in LOG) and
# counts the result; on failure shows the command's last lines.
check() {
	_d=$1
	shift
	echo "## $_d: $*" >>"$LOG"
	_from=$(wc -l <"$LOG")
	if "$@" >>"$LOG" 2>&1; then
		ok "$_d"
		return 0
	fi
	not_ok "$_d"
	tail -n +"$((_from + 1))" "$LOG" | tail -n 15 | sed 's/^/      /'
	return 1
}

# Waits up to $1 seconds for COMMAND... to succeed.
wait_for() {
	_n=$(($1 * 5))
	shift
	until "$@" >/dev/null 2>&1; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || return 1
		sleep 0.2
	done
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- what is undone at the end, whatever happened ----

policy_ours=0
made_run_lighttpd=0
installed=0
LIGHTTPD_PID=
QUARRYD_PID=
APACHE_UP=0
lighttpd_before=$(ls /etc/lighttpd/conf-enabled 2>/dev/null | tr '\n' ' ')
apache_state_before=$(ls -d /var/lib/apache2/*/*_by_* 2>/dev/null | tr '\n' ' ')

# Stops process $1 (TERM, then KILL after $2 seconds) and waits for it.
stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	if ! wait_for "$2" sh -c '! kill -0 "$0"' "$1"; then
		kill -KILL "$1" 2>/dev/null
		wait_for 5 sh -c '! kill -0 "$0"' "$1"
	fi
	wait "$1" 2>/dev/null
	return 0
}

stop_lighttpd() {
	stop_pid "$LIGHTTPD_PID" 15
	LIGHTTPD_PID=
}

stop_quarryd() {
	stop_pid "$QUARRYD_PID" 20
	QUARRYD_PID=
}

apache_env() {
	env APACHE_RUN_DIR="$tmp/apache" APACHE_LOCK_DIR="$tmp/apache" \
	    APACHE_PID_FILE="$tmp/apache/apache2.pid" \
	    APACHE_LOG_DIR="$tmp/apache" APACHE_RUN_USER=www-data \
	    APACHE_RUN_GROUP=www-data "$@"
}

stop_apache() {
	[ "$APACHE_UP" = 1 ] || return 0
	_apid=$(cat "$tmp/apache/apache2.pid" 2>/dev/null)
	apache_env apache2 -d /etc/apache2 -f "$tmp/apache/apache2.conf" \
	    -k stop >>"$LOG" 2>&1
	if [ -n "$_apid" ]; then
		wait_for 15 sh -c '! kill -0 "$0"' "$_apid" ||
		    kill -KILL "$_apid" 2>/dev/null
	fi
	APACHE_UP=0
}

# Disables what lighty-enable-mod quarry enabled (quarry and the modules
# it depends on) that was not enabled before.
restore_lighttpd() {
	for f in /etc/lighttpd/conf-enabled/*; do
		[ -L "$f" ] || continue
		case " $lighttpd_before " in
		*" ${f##*/} "*) ;;
		*) rm -f "$f" ;;
		esac
	done
}

cleanup() {
	stop_apache
	stop_lighttpd
	stop_quarryd
	if [ "$installed" = 1 ] && dpkg-query -W -f='${db:Status-Abbrev}' \
	    quarry 2>/dev/null | grep -q '^[ihc]'; then
		echo "$PROG: purging the package left installed"
		$APT purge quarry >>"$LOG" 2>&1 || dpkg --purge quarry >>"$LOG" 2>&1
	fi
	if [ -L /etc/apache2/conf-enabled/quarry.conf ]; then
		a2disconf -q -p quarry >>"$LOG" 2>&1 ||
		    rm -f /etc/apache2/conf-enabled/quarry.conf
	fi
	restore_lighttpd
	# The state directories a2enconf and a2disconf made (empty ones).
	for d in /var/lib/apache2/*/*_by_*; do
		case " $apache_state_before " in
		*" $d "*) ;;
		*) rmdir "$d" 2>/dev/null ;;
		esac
	done
	[ "$made_run_lighttpd" = 1 ] && rm -rf /run/lighttpd
	[ "$policy_ours" = 1 ] && rm -f /usr/sbin/policy-rc.d
	rm -rf "$tmp"
}
trap 'cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- build ----

ARCH=$(dpkg --print-architecture)
VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DEB=$TOP/build/deb/quarry_${VERSION}_$ARCH.deb
rm -f "$DEB"
t0=$(date +%s)
check "make deb builds quarry_${VERSION}_$ARCH.deb" env \
    DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=2 nocheck}" \
    sh scripts/deb.sh
echo "      (built in $(($(date +%s) - t0)) s)"
if [ ! -f "$DEB" ]; then
	echo "$PROG: no package to test"
	echo "$passed passed, $failed failed"
	exit 1
fi

if command -v lintian >/dev/null 2>&1; then
	lintian "$DEB" >"$tmp/lintian.out" 2>&1
	sed 's/^/      lintian: /' "$tmp/lintian.out"
	check "lintian finds no error" sh -c '! grep -q "^E: " "$0"' \
	    "$tmp/lintian.out"
else
	not_ok "lintian is not installed (make deps installs it)"
fi

# ---- install ----

if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy_ours=1
fi
installed=1
check "apt-get installs the package" $APT install --no-install-recommends \
    "$DEB"
check "dpkg says it is installed" sh -c \
    'dpkg-query -W -f="\${db:Status-Abbrev}" quarry | grep -q "^ii"'

# mode_is PATH "USER GROUP MODE"
mode_is() {
	[ "$(stat -c '%U %G %a' "$1")" = "$2" ]
}

check "the programs are installed" test -x /usr/bin/quarryd -a \
    -x /usr/bin/quarryctl -a -x /usr/lib/quarry/cgi-bin/definitions.fcgi \
    -a -x /usr/lib/quarry/cgi-bin/jobs.fcgi \
    -a -x /usr/lib/quarry/cgi-bin/status.fcgi \
    -a -x /usr/lib/quarry/cgi-bin/files.fcgi
check "the manual pages are installed" test \
    -f /usr/share/man/man8/quarryctl.8.gz -a \
    -f /usr/share/man/man8/quarryd.8.gz -a \
    -f /usr/share/man/man8/quarry-web.8.gz -a \
    -f /usr/share/man/man5/quarry.conf.5.gz
check "quarry.conf and the web server snippets are conffiles" sh -c '
	c=$(dpkg-query -W -f="\${Conffiles}" quarry)
	for f in /etc/quarry/quarry.conf \
	    /etc/lighttpd/conf-available/50-quarry.conf \
	    /etc/apache2/conf-available/quarry.conf; do
		echo "$c" | grep -q " $f " || { echo "not a conffile: $f"; exit 1; }
	done'
check "quarry.conf points at /var/lib/quarry and /var/log/quarry" sh -c '
	grep -qx "db_dir = /var/lib/quarry/db" /etc/quarry/quarry.conf &&
	grep -qx "files_dir = /var/lib/quarry/files" /etc/quarry/quarry.conf &&
	grep -qx "extractors_dir = /var/lib/quarry/extractors" /etc/quarry/quarry.conf &&
	grep -qx "log_file = /var/log/quarry/quarryd.log" /etc/quarry/quarry.conf'
check "quarryd.service is installed and enabled" sh -c '
	grep -qx "ExecStart=/usr/bin/quarryd -c /etc/quarry/quarry.conf" \
	    /lib/systemd/system/quarryd.service &&
	test -f "/lib/systemd/system/quarry-fcgi@.service" &&
	test -L /etc/systemd/system/multi-user.target.wants/quarryd.service'
check "a system user quarry, www-data in its group" sh -c '
	u=$(getent passwd quarry) || exit 1
	uid=$(echo "$u" | cut -d: -f3)
	[ "$uid" -lt 1000 ] && [ "$(echo "$u" | cut -d: -f6)" = /var/lib/quarry ] &&
	id -Gn www-data | tr " " "\n" | grep -qx quarry'
check "/var/lib/quarry is quarry's, 750" mode_is /var/lib/quarry \
    "quarry quarry 750"
check "the store's directory is the group's, 2770" mode_is \
    /var/lib/quarry/db "quarry quarry 2770"
check "the files directory is the group's, 2770" mode_is \
    /var/lib/quarry/files "quarry quarry 2770"
check "the extractors directory is root's, 755" mode_is \
    /var/lib/quarry/extractors "root root 755"
check "/var/log/quarry is quarry's and adm's, 2750" mode_is /var/log/quarry \
    "quarry adm 2750"
check "the documents the guide and the snippets name are installed" sh -c '
	for f in $(cat /usr/share/doc/quarry/install.md \
	    /etc/lighttpd/conf-available/50-quarry.conf \
	    /etc/apache2/conf-available/quarry.conf \
	    "/lib/systemd/system/quarry-fcgi@.service" |
	    grep -o "/usr/share/doc/quarry/[A-Za-z0-9_./@-]*[A-Za-z0-9_/-]" |
	    sort -u); do
		test -e "$f" || { echo "missing: $f"; exit 1; }
	done'
check "postinst made the store, as quarry" sh -c '
	test "$(stat -c %U /var/lib/quarry/db/quarry.db)" = quarry &&
	test -f /var/lib/quarry/db/link.key'

# ---- behind lighttpd ----

PORT=$(free_port)
if [ ! -d /run/lighttpd ]; then
	install -d -o www-data -g www-data -m 750 /run/lighttpd
	made_run_lighttpd=1
fi
check "lighty-enable-mod quarry" sh -c 'lighty-enable-mod quarry &&
	test -L /etc/lighttpd/conf-enabled/50-quarry.conf'
# The system's configuration, on 127.0.0.1:PORT only, its pid file and
# error log here.
mkdir -p "$tmp/log"
chown www-data:www-data "$tmp/log"
sed -e '/^[[:space:]]*server\.port[[:space:]]*=/d' -e '/use-ipv6\.pl/d' \
    -e "s|^[[:space:]]*server\.pid-file[[:space:]]*=.*|server.pid-file = \"$tmp/lighttpd.pid\"|" \
    -e "s|^[[:space:]]*server\.errorlog[[:space:]]*=.*|server.errorlog = \"$tmp/log/lighttpd.error.log\"|" \
    /etc/lighttpd/lighttpd.conf >"$tmp/lighttpd.conf"
printf 'server.port = %s\nserver.bind = "127.0.0.1"\n' "$PORT" \
    >>"$tmp/lighttpd.conf"
# lighttpd -p prints the configuration as lighttpd reads it.
if check "lighttpd accepts it, on 127.0.0.1:$PORT alone" sh -c '
	lighttpd -tt -f "$0" || exit 1
	p=$(lighttpd -p -f "$0") || exit 1
	echo "$p" | grep -q "server.port *= *$1" &&
	echo "$p" | grep -q "server.bind *= *\"127.0.0.1\"" &&
	! echo "$p" | grep -q "SERVER\[\"socket\"\]"' "$tmp/lighttpd.conf" "$PORT"
then
	lighttpd -D -f "$tmp/lighttpd.conf" >>"$LOG" 2>&1 </dev/null &
	LIGHTTPD_PID=$!
fi
check "lighttpd answers" wait_for 10 curl -s -o /dev/null \
    "http://127.0.0.1:$PORT/"
check "the page is at /quarry/" sh -c \
    'curl -sf "$0" | grep -q "<title>"' "http://127.0.0.1:$PORT/quarry/"

# quarryd as its unit runs it.
QUARRYD_CMD=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/quarryd.service)
# shellcheck disable=SC2086
setpriv --reuid=quarry --regid=quarry --init-groups $QUARRYD_CMD \
    >>"$LOG" 2>&1 </dev/null &
QUARRYD_PID=$!
check "quarryd runs as quarry and logs to /var/log/quarry" wait_for 10 \
    grep -q started /var/log/quarry/quarryd.log

# ---- the first tenant ----

ctl() {
	setpriv --reuid=quarry --regid=quarry --init-groups \
	    quarryctl -c /etc/quarry/quarry.conf "$@"
}

python3 - "$tmp/expenses.csv" <<'EOF'
import random, sys
random.seed(15)
emps = ["Ada Lovelace", "Smith, John", "Zoë Ångström",
        "Chloé \"Coco\" Dubois", "李雷"]
def q(s):
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\r\n') else s
rows = ["report_id,employee,date,amount,currency,category,description"]
for i in range(2000):
    rows.append(",".join([
        "R%06d" % (100000 + i // 4), q(random.choice(emps)),
        "2026-%02d-%02d" % (1 + i % 12, 1 + i % 28),
        "%.2f" % (random.randint(1, 999999) / 100),
        random.choice(["EUR", "USD", "GBP"]), "Travel",
        q('Taxi, "airport" → hotel %d' % i)]))
open(sys.argv[1], "w", newline="").write("\r\n".join(rows) + "\r\n")
EOF
chmod 644 "$tmp/expenses.csv"
cat >"$tmp/definition.json" <<'EOF'
{"tenant": "acme", "name": "All expenses", "source": {"dataset": "expenses"},
 "columns": ["report_id", "employee", "date", "amount", "currency",
             "category", "description"],
 "formats": ["csv"]}
EOF
check "quarryctl dataset import (as quarry)" ctl dataset import \
    --tenant acme expenses "$tmp/expenses.csv"
DEF=$(ctl definition add "$tmp/definition.json" 2>>"$LOG")
check "quarryctl definition add" test -n "$DEF"
T=$(ctl token create --tenant acme --role user --name test-deb 2>>"$LOG")
check "quarryctl token create" test -n "$T"

# ---- a Concur job and a Graph job ----

H=http://127.0.0.1:$PORT
B=$H/api/expense/extract/v1.0

# Polls URL $2 with header $1 until its body matches $3 (30 s at most).
poll() {
	wait_for 30 sh -c 'curl -sf -H "$0" "$1" | grep -q "$2"' "$1" "$2" "$3"
}

check "Concur: POST a job answers 201" sh -c '
	curl -s -o /dev/null -w "%{http_code}" -X POST -d "" \
	    -H "Authorization: OAuth $0" -H "Content-Type: application/xml" \
	    "$1" | grep -qx 201' "$T" "$B/$DEF/job"
CJOB=$(curl -s -H "Authorization: OAuth $T" "$B/$DEF/job" |
    grep -o '/job/[^<]*</id>' | head -n 1 | sed 's|/job/||; s|</id>||')
check "Concur: the job completes" poll "Authorization: OAuth $T" \
    "$B/$DEF/job/$CJOB/status" "<status>Completed</status>"
check "Concur: its file is the imported data, byte for byte" sh -c '
	curl -sf -H "Authorization: OAuth $0" -o "$2" "$1" && cmp "$2" "$3"' \
    "$T" "$B/$DEF/job/$CJOB/file" "$tmp/concur.csv" "$tmp/expenses.csv"

A=$H/api/v1
curl -s -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
    -d "{\"definitionId\":\"$DEF\",\"format\":\"csv\"}" \
    -o "$tmp/graph-job.json" -w '%{http_code}' "$A/exportJobs" \
    >"$tmp/graph-code" 2>>"$LOG"
check "Graph: POST exportJobs answers 201" grep -qx 201 "$tmp/graph-code"
GJOB=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' \
    "$tmp/graph-job.json" 2>>"$LOG")
check "Graph: the job succeeds" poll "Authorization: Bearer $T" \
    "$A/exportJobs/$GJOB" '"status":"succeeded"'
check "Graph: its content is the imported data, byte for byte" sh -c '
	curl -sf -H "Authorization: Bearer $0" -o "$2" "$1" && cmp "$2" "$3"' \
    "$T" "$A/exportJobs/$GJOB/content" "$tmp/graph.csv" "$tmp/expenses.csv"

# root's quarryctl, beside quarryd (quarry) and the web programs
# (www-data): the store's files stay the group's.
RT=$(quarryctl -c /etc/quarry/quarry.conf token create --tenant acme \
    --role user --name by-root 2>>"$LOG")
check "a token root's quarryctl made works over HTTP" sh -c '
	test -n "$0" &&
	curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $0" \
	    "$1" | grep -qx 200' "$RT" "$A/exportJobs"
check "every file of the store is the group's to write" sh -c '
	bad=$(find /var/lib/quarry/db \( -name "__db.*" -o -name "log.*" \
	    -o -name "*.db" -o -name quarryd.wake \) \
	    \( ! -group quarry -o ! -perm -g=rw \) -print)
	[ -z "$bad" ] || { ls -l $bad; exit 1; }'

# ---- behind Apache ----

if command -v apache2 >/dev/null 2>&1 &&
    [ -f /usr/lib/apache2/modules/mod_fcgid.so ]; then
	APORT=$(free_port)
	mkdir -p "$tmp/apache/fcgid"
	chown www-data:www-data "$tmp/apache/fcgid"
	# Debian's apache2.conf without ports.conf and the sites: one
	# virtual host (without a RewriteEngine of its own) on
	# 127.0.0.1:APORT; the modules Quarry needs loaded here when they
	# are not enabled.
	load=
	for m in rewrite fcgid alias; do
		[ -e "/etc/apache2/mods-enabled/$m.load" ] ||
		    load="$load\\nLoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
	done
	sed -e "s|^Include ports.conf|Listen 127.0.0.1:$APORT|" \
	    -e 's|^IncludeOptional sites-enabled/.*||' \
	    -e "s|^IncludeOptional conf-enabled/|$load\\n&|" \
	    /etc/apache2/apache2.conf >"$tmp/apache/apache2.conf"
	cat >>"$tmp/apache/apache2.conf" <<EOF
ServerName 127.0.0.1
FcgidIPCDir $tmp/apache/fcgid
FcgidProcessTableFile $tmp/apache/fcgid/shm
<VirtualHost 127.0.0.1:$APORT>
	DocumentRoot /var/www/html
</VirtualHost>
EOF
	check "a2enconf quarry" sh -c 'a2enconf -q quarry &&
		test -L /etc/apache2/conf-enabled/quarry.conf'
	if check "apache2 accepts it" apache_env apache2 -d /etc/apache2 \
	    -f "$tmp/apache/apache2.conf" -t; then
		APACHE_UP=1
		apache_env apache2 -d /etc/apache2 \
		    -f "$tmp/apache/apache2.conf" -k start >>"$LOG" 2>&1
	fi
	check "Apache answers" wait_for 10 curl -s -o /dev/null \
	    "http://127.0.0.1:$APORT/"
	check "Apache: the Graph job's content, byte for byte" sh -c '
		curl -sf -H "Authorization: Bearer $0" -o "$2" "$1" &&
		cmp "$2" "$3"' "$T" \
	    "http://127.0.0.1:$APORT/api/v1/exportJobs/$GJOB/content" \
	    "$tmp/apache.csv" "$tmp/expenses.csv"
	check "Apache: the Concur job's status" sh -c '
		curl -sf -H "Authorization: OAuth $0" "$1" |
		grep -q "<status>Completed</status>"' "$T" \
	    "http://127.0.0.1:$APORT/api/expense/extract/v1.0/$DEF/job/$CJOB/status"
	stop_apache
else
	not_ok "Apache with mod_fcgid is not installed (make deps installs it)"
fi

# ---- upgrade: the same package over itself ----

echo "# changed by test-deb: kept by the upgrade" >>/etc/quarry/quarry.conf
key=$(md5sum </var/lib/quarry/db/link.key)
stop_quarryd
stop_lighttpd
check "dpkg installs the package over itself" dpkg -i "$DEB"
check "the changed conffile is kept" grep -qx \
    "# changed by test-deb: kept by the upgrade" /etc/quarry/quarry.conf
check "the store is kept (its link key unchanged)" sh -c \
    '[ "$(md5sum </var/lib/quarry/db/link.key)" = "$0" ]' "$key"
check "the directories keep their owners and modes" sh -c '
	[ "$(stat -c "%U %G %a" /var/lib/quarry/db)" = "quarry quarry 2770" ] &&
	[ "$(stat -c "%U %G %a" /var/lib/quarry/files)" = "quarry quarry 2770" ]'
lighttpd -D -f "$tmp/lighttpd.conf" >>"$LOG" 2>&1 </dev/null &
LIGHTTPD_PID=$!
# shellcheck disable=SC2086
setpriv --reuid=quarry --regid=quarry --init-groups $QUARRYD_CMD \
    >>"$LOG" 2>&1 </dev/null &
QUARRYD_PID=$!
check "lighttpd answers again" wait_for 10 curl -s -o /dev/null "$H/"
check "the token still works, both jobs are listed" sh -c '
	l=$(curl -sf -H "Authorization: Bearer $0" "$1") &&
	echo "$l" | grep -q "\"$2\"" && echo "$l" | grep -q "\"$3\""' \
    "$T" "$A/exportJobs" "$CJOB" "$GJOB"
check "the old Concur job's file still downloads, byte for byte" sh -c '
	curl -sf -H "Authorization: OAuth $0" -o "$2" "$1" && cmp "$2" "$3"' \
    "$T" "$B/$DEF/job/$CJOB/file" "$tmp/concur2.csv" "$tmp/expenses.csv"
check "a new Graph job runs after the upgrade" sh -c '
	id=$(curl -sf -H "Authorization: Bearer $0" \
	    -H "Content-Type: application/json" \
	    -d "{\"definitionId\":\"$2\",\"format\":\"csv\"}" "$1/exportJobs" |
	    python3 -c "import json, sys; print(json.load(sys.stdin)[\"id\"])") &&
	n=150 && until curl -sf -H "Authorization: Bearer $0" \
	    "$1/exportJobs/$id" | grep -q "\"status\":\"succeeded\""; do
		n=$((n - 1)); [ $n -gt 0 ] || exit 1; sleep 0.2; done' \
    "$T" "$A" "$DEF"

# ---- purge ----

stop_quarryd
stop_lighttpd
check "apt-get purges the package" $APT purge quarry
check "dpkg no longer knows it" sh -c \
    '! dpkg-query -W -f="\${db:Status-Abbrev}" quarry 2>/dev/null |
	grep -q "^[ihc]"'
check "/var/lib/quarry, /var/log/quarry and /etc/quarry are gone" sh -c \
    '! test -e /var/lib/quarry && ! test -e /var/log/quarry &&
	! test -e /etc/quarry'
check "the user and the group quarry are gone" sh -c \
    '! getent passwd quarry && ! getent group quarry &&
	! id -Gn www-data | tr " " "\n" | grep -qx quarry'
check "the lighttpd and Apache snippets are gone, and disabled" sh -c '
	! test -e /etc/lighttpd/conf-available/50-quarry.conf &&
	! test -L /etc/lighttpd/conf-enabled/50-quarry.conf &&
	! test -e /etc/apache2/conf-available/quarry.conf &&
	! test -L /etc/apache2/conf-enabled/quarry.conf'
check "no process of the package is left" sh -c '
	left=$(ls -l /proc/[0-9]*/exe 2>/dev/null |
	    grep -E " -> (/usr/bin/quarry(d|ctl)|/usr/lib/quarry/)")
	[ -z "$left" ] || { echo "$left"; exit 1; }'

echo "$PROG: $(($(date +%s) - START)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
