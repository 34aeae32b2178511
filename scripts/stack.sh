#!/bin/sh
# stack.sh: the development stack behind make run, make start, make stop
# (SPEC section 10).
#
#   sh scripts/stack.sh run	start, print the demo banner, keep quarryd in
#				the foreground; Ctrl-C stops both
#   sh scripts/stack.sh start	start whatever part is not running, in the
#				background, and wait until the port answers
#   sh scripts/stack.sh stop	stop whatever part runs
#
# Environment: PORT (8080), VARDIR (./var), SERVER (lighttpd, apache,
# proxy or cgi), OUT (".", the build tree holding bin/ and cgi-bin/), QUARRY_DEMO
# (1; 0 = no demo data), STACK_TIMEOUT (seconds to wait for a start or a
# stop, 20), DRAIN_SECONDS (SERVER=cgi: the period of quarryd --drain, 1),
# APACHE_USER (www-data: the user of Apache's children when started as
# root), QUARRY_WWW (the document root, the source tree's www/; the
# benchmarks point it elsewhere).
#
#   SERVER=lighttpd	lighttpd with mod_fastcgi (httpd-conf/lighttpd.conf)
#   SERVER=apache	Debian's apache2 with mod_fcgid
#			(httpd-conf/apache-fcgid.conf)
#   SERVER=proxy	Debian's apache2 with mod_proxy_fcgi, the programs
#			started by spawn-fcgi on unix sockets in run/
#			(httpd-conf/apache-proxy-fcgi.conf), two
#			processes each, their pids in run/NAME.fcgi.pid
#   SERVER=cgi		the same apache2 running the programs as plain CGI,
#			routed by the .htaccess of www/ as on a shared host
#			(httpd-conf/apache-cgi.conf); no quarryd daemon: a
#			loop runs quarryd --drain every DRAIN_SECONDS, the
#			way cron would
#
# AUTH=basic: the web server signs people in (Basic auth against
# VARDIR/htpasswd, httpd-conf/sso/) and quarry.conf gets remote_user = on;
# tokens keep working beside it.  AUTH=none sets remote_user = off again;
# without AUTH the key is left as it is.  With demo data, two web users are made,
# alice (admin) and bob (user) of acme, their passwords in
# VARDIR/demo-users (mode 600); add more with htpasswd and
# quarryctl user add.
#
# TLS=1: the web server speaks HTTPS on PORT (lighttpd with mod_openssl,
# Apache with mod_ssl: every SERVER), with httpd-conf/lighttpd-tls.conf or
# apache-tls.conf included, and a self-signed certificate for localhost,
# 127.0.0.1 and ::1 made once under VARDIR/tls/ (cert.pem, key.pem; made
# again only when it is about to expire).  TLS=0 (the default): plain
# HTTP.  A running server keeps its mode: 'make stop' first to change it.
#
# Layout under VARDIR: quarry.conf, lighttpd.conf or apache.conf
# (generated from httpd-conf/ on every start), db/, files/, extractors/,
# log/, run/quarryd.pid, run/httpd.pid, run/server (the server that runs),
# run/drain.pid (SERVER=cgi), htdocs/ (SERVER=cgi: the document root),
# demo/ and demo.env (the demo tenant); with TLS=1, tls/ (the
# certificate and its key), tls.conf (generated) and run/tls (the mode
# the server was started in).
#
# POSIX sh: Debian's /bin/sh is dash.

set -u

PROG=stack.sh
PORT=${PORT:-8080}
VARDIR=${VARDIR:-./var}
SERVER=${SERVER:-lighttpd}
OUT=${OUT:-.}
QUARRY_DEMO=${QUARRY_DEMO:-1}
STACK_TIMEOUT=${STACK_TIMEOUT:-20}
DRAIN_SECONDS=${DRAIN_SECONDS:-1}
APACHE_USER=${APACHE_USER:-www-data}
AUTH=${AUTH:-}
TLS=${TLS:-0}

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	echo "usage: sh scripts/stack.sh run|start|stop" >&2
	exit 2
}

# Prints the last lines of each log file given that exists.
log_tail() {
	for f in "$@"; do
		if [ -s "$f" ]; then
			echo "---- last lines of $f" >&2
			tail -n 15 "$f" >&2
		fi
	done
}

# Prints the pid in pid file $1 when that process is alive (not a zombie)
# and runs one of the programs in $2 (names separated by '|'); fails
# otherwise.
running_pid() {
	[ -f "$1" ] || return 1
	_pid=$(head -n 1 "$1" 2>/dev/null | tr -cd '0-9')
	[ -n "$_pid" ] || return 1
	kill -0 "$_pid" 2>/dev/null || return 1
	if [ -r "/proc/$_pid/comm" ]; then
		_comm=$(cat "/proc/$_pid/comm" 2>/dev/null) || return 1
		case "|$2|" in
		*"|$_comm|"*) ;;
		*) return 1 ;;
		esac
		_state=$(sed 's/.*) //' "/proc/$_pid/stat" 2>/dev/null |
		    cut -c 1)
		[ "$_state" != Z ] || return 1
	fi
	echo "$_pid"
}

# Prints the pids of the children of process $1 (Linux /proc only).
children_of() {
	_cparent=$1
	# One file at a time: a process may exit while we look (awk over
	# all of /proc/*/stat stops at the first file that vanished).
	for _f in /proc/[0-9]*/stat; do
		_line=$(cat "$_f" 2>/dev/null) || continue
		_rest=${_line##*) }	# past "pid (comm) ": state, ppid, ...
		# shellcheck disable=SC2086
		set -- $_rest
		if [ "${2:-}" = "$_cparent" ]; then
			_p=${_f#/proc/}
			echo "${_p%/stat}"
		fi
	done
	return 0
}

# Stops the programs of CGIBIN left behind by a web server of this stack
# that died (they carry QUARRY_CONF=CONF in their environment).
stop_orphans() {
	# shellcheck disable=SC2012
	for _p in $(ls -l /proc/[0-9]*/exe 2>/dev/null | awk -v dir="$CGIBIN/" '{
		t = NF; if ($t == "(deleted)") t--	# rebuilt since
		if (index($t, dir) == 1) { split($(t - 2), f, "/"); print f[3] }
	    }'); do
		tr '\0' '\n' < "/proc/$_p/environ" 2>/dev/null |
		    grep -qxF "QUARRY_CONF=$CONF" || continue
		echo "$PROG: stopping leftover $_p" \
		    "($(readlink "/proc/$_p/exe"))" >&2
		kill -TERM "$_p" 2>/dev/null
	done
	return 0
}

# Waits up to STACK_TIMEOUT seconds for process $1 to end; fails if it
# does not.
wait_gone() {
	_n=$((STACK_TIMEOUT * 5))
	while kill -0 "$1" 2>/dev/null; do
		if [ -r "/proc/$1/stat" ] &&
		    [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c 1)" = Z ]; then
			return 0
		fi
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || return 1
		sleep 0.2
	done
	return 0
}

# Stops the process named by pid file $1 if it runs one of the programs
# $2 ('|'-separated): TERM, then KILL (with its children) after
# STACK_TIMEOUT seconds.  Removes the pid file.  $3 names it for humans.
stop_one() {
	if ! _spid=$(running_pid "$1" "$2"); then
		rm -f "$1"
		return 0
	fi
	kill -TERM "$_spid" 2>/dev/null
	if ! wait_gone "$_spid"; then
		echo "$PROG: $3 (pid $_spid) did not stop; killing it" >&2
		_kids=$(children_of "$_spid")
		# shellcheck disable=SC2086
		kill -KILL "$_spid" $_kids 2>/dev/null
		wait_gone "$_spid" || :
	fi
	rm -f "$1"
	echo "$PROG: stopped $3 (pid $_spid)"
}

# Succeeds when something answers on 127.0.0.1:PORT (any HTTP answer, or
# a connection that is accepted but never answered).
port_answers() {
	# shellcheck disable=SC2086
	curl -s -o /dev/null --max-time 2 $CURL_TLS "$SCHEME://127.0.0.1:$PORT/"
	[ $? -ne 7 ]
}

# Refuses to go on when another program holds PORT (and ours does not).
check_port_free() {
	running_pid "$HTTPD_PID" "$HTTPD_NAMES" >/dev/null && return 0
	if port_answers; then
		die "port $PORT on 127.0.0.1 is taken by another program;" \
		    "pick another with PORT=..."
	fi
}

# Sets the absolute paths everything below uses.
setup_paths() {
	case "$PORT" in
	''|*[!0-9]*) die "PORT must be a number, not '$PORT'" ;;
	esac
	[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] ||
	    die "PORT must be between 1 and 65535"
	TOP=$(cd "$(dirname "$0")/.." && pwd -P) ||
	    die "cannot find the source tree"
	OUTDIR=$(cd "$OUT" 2>/dev/null && pwd -P) ||
	    die "no build tree at OUT=$OUT (run make first)"
	if [ "$1" = stop ] && [ ! -d "$VARDIR" ]; then
		echo "$PROG: nothing runs ($VARDIR does not exist)"
		exit 0
	fi
	mkdir -p "$VARDIR" || die "cannot create VARDIR=$VARDIR"
	VARDIR=$(cd "$VARDIR" && pwd -P) || die "cannot enter VARDIR"
	BIN=$OUTDIR/bin
	CGIBIN=$OUTDIR/cgi-bin
	WWW=$(cd "${QUARRY_WWW:-$TOP/www}" 2>/dev/null && pwd -P) ||
	    die "no document root at QUARRY_WWW=${QUARRY_WWW:-}"
	CONF=$VARDIR/quarry.conf
	RUN=$VARDIR/run
	LOG=$VARDIR/log
	HTTPD_PID=$RUN/httpd.pid
	QUARRYD_PID=$RUN/quarryd.pid
	HTTPD_NAMES="lighttpd|apache2|httpd"
	QUARRYD_NAMES="quarryd"
	SERVER_FILE=$RUN/server
	DRAIN_PID=$RUN/drain.pid
	HTDOCS=$VARDIR/htdocs
	tls_paths
}

# Refuses a SERVER this version cannot start.
check_server() {
	case "$SERVER" in
	lighttpd|apache|proxy|cgi) ;;
	*)	die "unknown SERVER=$SERVER (lighttpd, apache, proxy or cgi)" ;;
	esac
}

# Checks that the programs the stack runs are built.
check_programs() {
	for p in "$BIN/quarryctl" "$BIN/quarryd" "$CGIBIN/definitions.fcgi" \
	    "$CGIBIN/jobs.fcgi" "$CGIBIN/status.fcgi" "$CGIBIN/files.fcgi"; do
		[ -x "$p" ] || die "$p is missing; run make first"
	done
	case "$SERVER" in
	lighttpd) HTTPD_BIN=lighttpd ;;
	*)	HTTPD_BIN=apache2 ;;
	esac
	command -v "$HTTPD_BIN" >/dev/null 2>&1 ||
	    PATH=$PATH:/usr/sbin:/sbin
	command -v "$HTTPD_BIN" >/dev/null 2>&1 ||
	    die "$HTTPD_BIN is not installed (make deps installs it)"
	if [ "$SERVER" != lighttpd ]; then
		APACHE_MODDIR=${APACHE_MODDIR:-/usr/lib/apache2/modules}
		for m in mod_fcgid mod_xsendfile mod_rewrite mod_cgid \
		    mod_proxy mod_proxy_fcgi; do
			[ -f "$APACHE_MODDIR/$m.so" ] ||
			    die "$APACHE_MODDIR/$m.so is missing (make deps" \
			    "installs apache2, libapache2-mod-fcgid and" \
			    "libapache2-mod-xsendfile)"
		done
	fi
	if [ "$SERVER" = proxy ]; then
		command -v spawn-fcgi >/dev/null 2>&1 ||
		    die "spawn-fcgi is not installed (make deps installs it)"
	fi
	command -v curl >/dev/null 2>&1 ||
	    die "curl is not installed (make deps installs it)"
}

# Creates the VARDIR layout and quarry.conf (never overwritten).
make_layout() {
	mkdir -p "$VARDIR/db" "$VARDIR/files" "$VARDIR/extractors" "$LOG" \
	    "$RUN" || die "cannot create the layout under $VARDIR"
	[ -f "$CONF" ] && return 0
	cat > "$CONF.tmp" <<EOF || die "cannot write $CONF"
# Quarry configuration of the development stack (written by make start;
# edit freely, it is never overwritten).  See docs/ for every key.
db_dir = $VARDIR/db
files_dir = $VARDIR/files
extractors_dir = $VARDIR/extractors
log_file = $LOG/quarryd.log
pid_file = $QUARRYD_PID
# Empty: URIs in answers are built from the request's Host header.
base_url =
max_body = 1048576
workers = 2
lease_seconds = 30
max_attempts = 3
poll_seconds = 5
cache_mb = 32
retention = 7d
EOF
	mv "$CONF.tmp" "$CONF"
	echo "$PROG: wrote $CONF"
}

# Creates the store if it does not exist yet (a new store gets the demo
# data unless QUARRY_DEMO=0), or brings an existing one of an older
# format up to date: quarryctl init does either, and nothing otherwise.
init_store() {
	if [ ! -f "$VARDIR/db/quarry.db" ]; then
		"$BIN/quarryctl" -c "$CONF" init ||
		    die "quarryctl init failed"
		[ "$QUARRY_DEMO" = 0 ] || : > "$VARDIR/demo.pending"
	elif ! "$BIN/quarryctl" -c "$CONF" init 2>"$LOG/init.out"; then
		cat "$LOG/init.out" >&2
		die "quarryctl init failed"
	fi
	if [ -f "$VARDIR/demo.pending" ]; then
		seed_demo
	fi
}

# Writes the demo expense dataset (CSV, CRLF lines as RFC 4180 has them)
# to $1: 12,000 rows, deterministic, with commas, quotes and non-ASCII
# UTF-8 in the values.
gen_expenses() {
	LC_ALL=C awk -v rows=12000 '
	function q(s) {
		if (s ~ /[",\r\n]/) {
			gsub(/"/, "\"\"", s)
			return "\"" s "\""
		}
		return s
	}
	function rnd() {	# Park-Miller: exact in doubles
		seed = (seed * 16807) % 2147483647
		return seed
	}
	BEGIN {
		seed = 20260101
		ne = split("Ada Lovelace|José Müller|Zoë Ångström|" \
		    "Smith, John|Renée O\047Brien|李雷|Παναγιώτης Κ.|" \
		    "Øyvind Ås|Chloé \"Coco\" Dubois|Nguyễn Văn An|" \
		    "Grace Hopper|Søren Kierkegaard", emp, "|")
		nc = split("USD|EUR|GBP|JPY|CHF|SEK", cur, "|")
		nk = split("Travel|Meals|Lodging|Office supplies|" \
		    "Software|Mileage|Training", cat, "|")
		nd = split("Taxi to airport|Dinner with client, \"Acme\"|" \
		    "Hotel Zürich, 2 nights|Café crème & croissant|" \
		    "Train Köln–Düsseldorf|Conference ticket \"C in 2026\"|" \
		    "Books: Ünïcödé handbook|Snacks 🍪 for the team|" \
		    "Parking, garage level 2|Printer paper (A4, 80 g/m²)|" \
		    "Mileage 42 km @ 0,30 €|Flight LHR→JFK", desc, "|")
		split("31 28 31 30 31 30 31 31 30 31 30 31", mlen, " ")
		printf "report_id,employee,date,amount,currency,category," \
		    "description\r\n"
		for (i = 0; i < rows; i++) {
			doy = rnd() % 365
			for (m = 1; doy >= mlen[m] + 0; m++)
				doy -= mlen[m]
			cents = 100 + rnd() % 250000
			printf "R%06d,%s,2026-%02d-%02d,%d.%02d,%s,%s,%s\r\n",
			    100000 + int(i / 4), q(emp[1 + rnd() % ne]),
			    m, doy + 1, int(cents / 100), cents % 100,
			    cur[1 + rnd() % nc], q(cat[1 + rnd() % nk]),
			    q(desc[1 + rnd() % nd])
		}
	}' > "$1"
}

# Seeds the demo tenant "acme": the dataset, a definition, an admin and a
# user token, saved in VARDIR/demo.env for the banner.
seed_demo() {
	echo "$PROG: seeding the demo tenant 'acme'"
	mkdir -p "$VARDIR/demo" || die "cannot create $VARDIR/demo"
	gen_expenses "$VARDIR/demo/expenses.csv" ||
	    die "cannot generate the demo dataset"
	"$BIN/quarryctl" -c "$CONF" dataset import --tenant acme --replace \
	    expenses "$VARDIR/demo/expenses.csv" ||
	    die "importing the demo dataset failed"
	cat > "$VARDIR/demo/definition.json" <<'EOF'
{
  "tenant": "acme",
  "name": "Standard Accounting Extract",
  "description": "Approved expense lines",
  "source": { "dataset": "expenses" },
  "columns": ["report_id", "employee", "date", "amount", "currency",
	      "category", "description"],
  "parameters": [
    { "name": "from", "type": "date", "required": false },
    { "name": "currency", "type": "string", "required": false }
  ],
  "filters": [
    { "column": "date", "op": ">=", "parameter": "from" },
    { "column": "currency", "op": "=", "parameter": "currency" }
  ],
  "formats": ["csv"],
  "approval": false,
  "retention": "7d",
  "rows_per_file": 0
}
EOF
	def=$("$BIN/quarryctl" -c "$CONF" definition add \
	    "$VARDIR/demo/definition.json") && [ -n "$def" ] ||
	    die "adding the demo definition failed"
	admin=$("$BIN/quarryctl" -c "$CONF" token create --tenant acme \
	    --role admin --name demo-admin) && [ -n "$admin" ] ||
	    die "creating the demo admin token failed"
	user=$("$BIN/quarryctl" -c "$CONF" token create --tenant acme \
	    --role user --name demo-user) && [ -n "$user" ] ||
	    die "creating the demo user token failed"
	(umask 077 && printf 'DEF=%s\nADMIN_TOKEN=%s\nUSER_TOKEN=%s\n' \
	    "$def" "$admin" "$user" > "$VARDIR/demo.env.tmp") &&
	    mv "$VARDIR/demo.env.tmp" "$VARDIR/demo.env" ||
	    die "cannot write $VARDIR/demo.env"
	rm -f "$VARDIR/demo.pending"
}

# AUTH: sets remote_user in quarry.conf and, for AUTH=basic, makes
# VARDIR/htpasswd (readable by the web server) and the demo web users.
setup_auth() {
	case "$AUTH" in
	'')	return 0 ;;
	none)	_mode=off ;;
	basic)	_mode=on
		command -v htpasswd >/dev/null 2>&1 ||
		    die "htpasswd is not installed (make deps installs apache2-utils)" ;;
	*)	die "unknown AUTH=$AUTH (basic, or none)" ;;
	esac
	if grep -q '^remote_user[ 	]*=' "$CONF"; then
		sed -i "s/^remote_user[ 	]*=.*/remote_user = $_mode/" "$CONF"
	else
		printf '%s\n%s\n' "# make start AUTH=basic sets this on, AUTH=none off" \
		    "remote_user = $_mode" >> "$CONF"
	fi || die "cannot set remote_user in $CONF"
	[ "$_mode" = on ] || return 0
	[ -f "$VARDIR/htpasswd" ] || : > "$VARDIR/htpasswd" ||
	    die "cannot create $VARDIR/htpasswd"
	if [ "$SERVER" != lighttpd ] && [ "$(id -u)" -eq 0 ]; then
		chgrp "$AGROUP" "$VARDIR/htpasswd" || die "cannot chgrp htpasswd"
	fi
	chmod 640 "$VARDIR/htpasswd"
	if [ -f "$VARDIR/demo.env" ] && [ ! -f "$VARDIR/demo-users" ]; then
		: > "$VARDIR/demo-users.tmp" && chmod 600 "$VARDIR/demo-users.tmp"
		for _u in alice:admin bob:user; do
			_pw=$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
			htpasswd -bB "$VARDIR/htpasswd" "${_u%:*}" "$_pw" \
			    2>/dev/null || die "htpasswd failed"
			"$BIN/quarryctl" -c "$CONF" user add "${_u%:*}" \
			    --tenant acme --role "${_u#*:}" >/dev/null 2>&1
			echo "${_u%:*} $_pw ${_u#*:}" >> "$VARDIR/demo-users.tmp"
		done
		mv "$VARDIR/demo-users.tmp" "$VARDIR/demo-users" ||
		    die "cannot write $VARDIR/demo-users"
	fi
}

# AUTH=basic: appends the sign-in snippet of server kind $1 (lighttpd or
# apache) to the generated configuration $2.
add_auth_conf() {
	[ "$AUTH" = basic ] || return 0
	fill_template "$TOP/httpd-conf/sso/$1-basic.conf" "$VARDIR/auth.conf"
	if [ "$1" = lighttpd ]; then
		echo "include \"$VARDIR/auth.conf\"" >> "$2"
	else
		echo "Include \"$VARDIR/auth.conf\"" >> "$2"
	fi || die "cannot include $VARDIR/auth.conf"
}

# TLS: checks it, and sets SCHEME, CURL_TLS (what the start's own probes
# give curl: -k, they only ask whether the server answers) and the paths
# of the certificate and its key.
tls_paths() {
	case "$TLS" in
	''|0)	TLS=0 SCHEME=http CURL_TLS= ;;
	1)	SCHEME=https CURL_TLS=-k ;;
	*)	die "TLS must be 0 or 1, not '$TLS'" ;;
	esac
	TLS_DIR=$VARDIR/tls
	TLS_CERT=$TLS_DIR/cert.pem
	TLS_KEY=$TLS_DIR/key.pem
}

# Refuses to go on when the running web server's mode (run/tls) is not
# TLS's.
check_tls_mode() {
	_htls=$(cat "$RUN/tls" 2>/dev/null || echo 0)
	[ "$_htls" = "$TLS" ] && return 0
	if [ "$_htls" = 1 ]; then
		die "the web server of $VARDIR speaks HTTPS (TLS=1);" \
		    "'make stop' first to change it"
	fi
	die "the web server of $VARDIR speaks plain HTTP (TLS=0);" \
	    "'make stop' first to change it"
}

# TLS=1: makes the self-signed certificate of the dev stack, once (again
# only when it expires within a day): an ECDSA P-256 key, CN=localhost,
# subjectAltName localhost, 127.0.0.1 and ::1, a year; a server's
# certificate (CA:FALSE, serverAuth), which clients trust as itself when
# given it as their CA file.  No openssl.cnf is read (-config /dev/null).
# The key is the user's alone (the web server reads it before it gives
# up root).
make_cert() {
	if [ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ] &&
	    openssl x509 -checkend 86400 -noout -in "$TLS_CERT" \
	    >/dev/null 2>&1; then
		return 0
	fi
	command -v openssl >/dev/null 2>&1 ||
	    die "openssl is not installed (make deps installs it)"
	mkdir -p "$TLS_DIR" || die "cannot create $TLS_DIR"
	rm -f "$TLS_KEY.tmp" "$TLS_CERT.tmp"
	(umask 077 && openssl req -x509 -config /dev/null -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
	    -subj /CN=localhost \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
	    -addext "basicConstraints=critical,CA:FALSE" \
	    -addext "keyUsage=critical,digitalSignature" \
	    -addext "extendedKeyUsage=serverAuth" \
	    -keyout "$TLS_KEY.tmp" -out "$TLS_CERT.tmp") \
	    >"$LOG/openssl.out" 2>&1 || {
		cat "$LOG/openssl.out" >&2
		die "openssl could not make a certificate in $TLS_DIR"
	}
	chmod 644 "$TLS_CERT.tmp" && mv "$TLS_KEY.tmp" "$TLS_KEY" &&
	    mv "$TLS_CERT.tmp" "$TLS_CERT" ||
	    die "cannot write the certificate in $TLS_DIR"
	rm -f "$LOG/openssl.out"
	echo "$PROG: made a self-signed certificate, $TLS_CERT"
}

# TLS=1: appends the HTTPS part of server kind $1 (lighttpd or apache),
# httpd-conf/$1-tls.conf with the certificate filled in, to the generated
# configuration $2.
add_tls_conf() {
	[ "$TLS" = 1 ] || return 0
	make_cert
	fill_template "$TOP/httpd-conf/$1-tls.conf" "$VARDIR/tls.conf.tmp"
	sed -e "s|@CERT@|$TLS_CERT|g" -e "s|@KEY@|$TLS_KEY|g" \
	    "$VARDIR/tls.conf.tmp" > "$VARDIR/tls.conf" &&
	    rm -f "$VARDIR/tls.conf.tmp" ||
	    die "cannot write $VARDIR/tls.conf"
	if [ "$1" = lighttpd ]; then
		echo "include \"$VARDIR/tls.conf\"" >> "$2"
	else
		echo "Include \"$VARDIR/tls.conf\"" >> "$2"
	fi || die "cannot include $VARDIR/tls.conf"
}

# TLS=1: the lines of the banner that make curl trust the self-signed
# certificate (CURL_CA_BUNDLE is curl's own variable; --cacert FILE does
# the same for one command); nothing otherwise.
tls_hint() {
	[ "$TLS" = 1 ] || return 0
	cat <<EOF

  # HTTPS with a self-signed certificate: curl trusts it with this
  # (or --cacert FILE on each command); a browser asks you to accept it
  export CURL_CA_BUNDLE=$TLS_CERT
EOF
}

# Prints the demo banner with ready-to-paste curl commands, when there is
# demo data.
banner() {
	B="$SCHEME://localhost:$PORT/api/expense/extract/v1.0"
	if [ ! -f "$VARDIR/demo.env" ]; then
		echo "Quarry is up on $SCHEME://localhost:$PORT/ (no demo data)"
		[ "$TLS" = 1 ] && echo "Its certificate: $TLS_CERT (curl --cacert)"
		echo "Administer it with: $BIN/quarryctl -c $CONF ..."
		return 0
	fi
	DEF='' ADMIN_TOKEN='' USER_TOKEN=''
	# shellcheck disable=SC1091
	. "$VARDIR/demo.env"
	cat <<EOF

Quarry is up on $SCHEME://localhost:$PORT/  (VARDIR $VARDIR)

Demo tenant "acme": dataset "expenses" (12,000 rows), one definition and
two tokens:
  DEF=$DEF
  ADMIN_TOKEN=$ADMIN_TOKEN
  USER_TOKEN=$USER_TOKEN
The browser page at $SCHEME://localhost:$PORT/ takes a token too.

Paste into a shell (the Concur dialect, SPEC section 4):
$(tls_hint)
  T=$USER_TOKEN
  B=$B
  DEF=$DEF

  # the definitions this token can use
  curl -s -H "Authorization: OAuth \$T" \$B/

  # start a job (201, Location: the job); -d '' sends Content-Length: 0,
  # without which lighttpd answers 411 to any POST
  curl -si -X POST -d '' -H "Authorization: OAuth \$T" \\
      -H 'Content-Type: application/xml' \$B/\$DEF/job

  # the jobs of the definition, newest first; keep the newest one's id
  curl -s -H "Authorization: OAuth \$T" \$B/\$DEF/job
  JOB=\$(curl -s -H "Authorization: OAuth \$T" \$B/\$DEF/job |
      grep -o '/job/[^<]*</id>' | head -n 1 | sed 's|/job/||; s|</id>||')

  # its status: repeat until Completed
  curl -s -H "Authorization: OAuth \$T" \$B/\$DEF/job/\$JOB/status

  # the file, byte for byte the imported data
  curl -s -H "Authorization: OAuth \$T" -o expenses.csv \\
      \$B/\$DEF/job/\$JOB/file
  cmp expenses.csv $VARDIR/demo/expenses.csv && echo identical

Administer it: $BIN/quarryctl -c $CONF job list
Logs: $LOG/
EOF
	if [ "$AUTH" = basic ] && [ -f "$VARDIR/demo-users" ]; then
		echo ""
		echo "Signed in by the web server (AUTH=basic, remote_user = on):"
		while read -r _u _pw _role; do
			echo "  $_u / $_pw ($_role of acme)"
		done < "$VARDIR/demo-users"
		echo "The page at $SCHEME://localhost:$PORT/ asks for one of them;" \
		    "tokens keep working."
	fi
}

# Sets AUSER and AGROUP, the user and group Apache's children (and so the
# programs) run as.  As an ordinary user that is the user itself.  As
# root (Apache refuses to run its children as root) it is APACHE_USER;
# VARDIR then becomes that group's: the directories group-writable and
# setgid, and everything the stack starts runs with umask 002, so that
# root's quarryd and quarryctl and the programs share the store.
apache_user() {
	if [ "$(id -u)" -ne 0 ]; then
		AUSER=$(id -un)
		AGROUP=$(id -gn)
		return 0
	fi
	id "$APACHE_USER" >/dev/null 2>&1 ||
	    die "user $APACHE_USER does not exist (set APACHE_USER)"
	AUSER=$APACHE_USER
	AGROUP=$(id -gn "$APACHE_USER")
	umask 002
	chgrp "$AGROUP" "$VARDIR" "$CONF" && chmod g+rx "$VARDIR" &&
	    chmod g+r "$CONF" || die "cannot give $VARDIR to group $AGROUP"
	for d in db files extractors log run; do
		share_tree "$VARDIR/$d" ||
		    die "cannot give $VARDIR/$d to group $AGROUP"
	done
}

# Gives the tree $1 to group AGROUP: group-writable, directories setgid
# (so what is made in them later is the group's too).  A file that
# vanishes meanwhile (a build's temporary file, removed by a build that
# a start is recovering) is no failure; whatever is there at the end
# must be the group's.
share_tree() {
	find "$1" -exec chgrp "$AGROUP" {} + 2>/dev/null
	find "$1" -exec chmod g+rwX {} + 2>/dev/null
	find "$1" -type d -exec chmod g+s {} + 2>/dev/null
	[ -z "$(find "$1" ! -group "$AGROUP" -print 2>/dev/null | head -n 1)" ]
}

# Replaces the placeholders of template $1, writing $2.
fill_template() {
	sed -e "s|@PORT@|$PORT|g" -e "s|@BIND@|127.0.0.1|g" \
	    -e "s|@VARDIR@|$VARDIR|g" -e "s|@CGIBIN@|$CGIBIN|g" \
	    -e "s|@WWW@|$WWW|g" -e "s|@CONF@|$CONF|g" \
	    -e "s|@FILES@|$VARDIR/files|g" -e "s|@HTDOCS@|$HTDOCS|g" \
	    -e "s|@MODDIR@|${APACHE_MODDIR:-}|g" \
	    -e "s|@USER@|${AUSER:-}|g" -e "s|@GROUP@|${AGROUP:-}|g" \
	    -e "s|@SOCKDIR@|$RUN|g" \
	    "$1" > "$2.tmp" && mv "$2.tmp" "$2" || die "cannot write $2"
}

# Writes VARDIR/lighttpd.conf from the template.
write_lighttpd_conf() {
	fill_template "$TOP/httpd-conf/lighttpd.conf" "$VARDIR/lighttpd.conf"
	add_auth_conf lighttpd "$VARDIR/lighttpd.conf"
	add_tls_conf lighttpd "$VARDIR/lighttpd.conf"
	if ! lighttpd -tt -f "$VARDIR/lighttpd.conf" >"$LOG/lighttpd.check" \
	    2>&1; then
		cat "$LOG/lighttpd.check" >&2
		die "lighttpd refuses $VARDIR/lighttpd.conf"
	fi
	rm -f "$LOG/lighttpd.check"
}

# SERVER=cgi: builds the document root a shared-host customer would
# upload: a copy of www/ with its .htaccess (QUARRY_CONF filled in) and
# quarry-cgi/ holding links to the four programs.
make_htdocs() {
	rm -rf "$HTDOCS" && mkdir -p "$HTDOCS/quarry-cgi" &&
	    cp -R "$WWW/." "$HTDOCS/" &&
	    fill_template "$TOP/www/.htaccess" "$HTDOCS/.htaccess" ||
	    die "cannot build $HTDOCS"
	for p in definitions jobs status files; do
		ln -s "$CGIBIN/$p.fcgi" "$HTDOCS/quarry-cgi/$p.fcgi" ||
		    die "cannot link $p.fcgi into $HTDOCS/quarry-cgi"
	done
	chgrp -R "$AGROUP" "$HTDOCS" 2>/dev/null
	chmod -R g+rX "$HTDOCS"
}

# Writes VARDIR/apache.conf from httpd-conf/apache-fcgid.conf
# (SERVER=apache) or apache-cgi.conf (SERVER=cgi) and checks it.
write_apache_conf() {
	mkdir -p "$RUN/fcgid" || die "cannot create $RUN/fcgid"
	if [ "$SERVER" = cgi ]; then
		make_htdocs
		fill_template "$TOP/httpd-conf/apache-cgi.conf" \
		    "$VARDIR/apache.conf"
	elif [ "$SERVER" = proxy ]; then
		fill_template "$TOP/httpd-conf/apache-proxy-fcgi.conf" \
		    "$VARDIR/apache.conf"
	else
		fill_template "$TOP/httpd-conf/apache-fcgid.conf" \
		    "$VARDIR/apache.conf"
	fi
	add_auth_conf apache "$VARDIR/apache.conf"
	add_tls_conf apache "$VARDIR/apache.conf"
	if [ "$(id -u)" -eq 0 ]; then
		chgrp "$AGROUP" "$RUN/fcgid" && chmod 2770 "$RUN/fcgid" ||
		    die "cannot prepare $RUN/fcgid"
	fi
	if ! apache2 -t -f "$VARDIR/apache.conf" >"$LOG/apache.check" \
	    2>&1; then
		cat "$LOG/apache.check" >&2
		die "apache2 refuses $VARDIR/apache.conf"
	fi
	rm -f "$LOG/apache.check"
}

# SERVER=proxy: starts each program as a FastCGI server of its own with
# spawn-fcgi, as httpd-conf/quarry-fcgi@.service does: two processes on
# run/NAME.sock, the socket Apache's children's (mode 0660), the pids in
# run/NAME.fcgi.pid, their log in log/NAME.fcgi.log.
start_fcgi_servers() {
	for p in definitions jobs status files; do
		rm -f "$RUN/$p.sock" "$RUN/$p.fcgi.pid"
		if [ "$(id -u)" -eq 0 ]; then
			set -- -U "$AUSER" -G "$AGROUP"
		else
			set --
		fi
		# spawn-fcgi points a program's stderr (its log) at /dev/null:
		# a shell sends it to log/NAME.fcgi.log and execs the program,
		# which keeps the FastCGI socket on its stdin.
		env QUARRY_CONF="$CONF" spawn-fcgi -s "$RUN/$p.sock" -M 0660 \
		    "$@" -F 2 -P "$RUN/$p.fcgi.pid" -- /bin/sh -c \
		    'exec "$0" 2>>"$1"' "$CGIBIN/$p.fcgi" "$LOG/$p.fcgi.log" \
		    >>"$LOG/spawn-fcgi.out" 2>&1 </dev/null || {
			log_tail "$LOG/spawn-fcgi.out"
			die "spawn-fcgi could not start $p.fcgi"
		}
	done
	echo "$PROG: started the four programs with spawn-fcgi (run/*.sock)"
}

# SERVER=proxy: stops the programs spawn-fcgi started (SIGTERM: each ends
# after the request in hand), then removes their sockets.
stop_fcgi_servers() {
	for _f in "$RUN"/*.fcgi.pid; do
		[ -f "$_f" ] || continue
		for _p in $(tr -cs '0-9' ' ' < "$_f"); do
			kill -TERM "$_p" 2>/dev/null || continue
			wait_gone "$_p" || kill -KILL "$_p" 2>/dev/null
		done
		rm -f "$_f"
		echo "$PROG: stopped $(basename "$_f" .pid)"
	done
}

# Starts the configured web server (which detaches and writes its pid
# file).
launch_httpd() {
	case "$SERVER" in
	lighttpd)
		write_lighttpd_conf
		lighttpd -f "$VARDIR/lighttpd.conf" \
		    >>"$LOG/lighttpd.out" 2>&1 </dev/null || {
			log_tail "$LOG/lighttpd.out" "$LOG/lighttpd.error.log"
			die "lighttpd did not start"
		} ;;
	*)
		write_apache_conf
		[ "$SERVER" != proxy ] || start_fcgi_servers
		# No /etc/apache2, no apache2ctl, no system service: the
		# binary with our own configuration file.
		apache2 -f "$VARDIR/apache.conf" -k start \
		    >>"$LOG/apache.out" 2>&1 </dev/null || {
			log_tail "$LOG/apache.out" "$LOG/apache.error.log"
			die "apache2 did not start"
		} ;;
	esac
	echo "$SERVER" > "$SERVER_FILE"
	echo "$TLS" > "$RUN/tls"
	echo "$PROG: started $SERVER on $SCHEME://127.0.0.1:$PORT/"
}

# Starts the web server unless it runs, then waits until the port
# answers.
start_httpd() {
	if hpid=$(running_pid "$HTTPD_PID" "$HTTPD_NAMES"); then
		hserver=$(cat "$SERVER_FILE" 2>/dev/null || echo lighttpd)
		if [ "$hserver" != "$SERVER" ]; then
			die "the web server of $VARDIR is $hserver, not" \
			    "$SERVER; 'make stop' first to change it"
		fi
		case "$hserver" in
		lighttpd) hconf=$VARDIR/lighttpd.conf ;;
		*)	hconf=$VARDIR/apache.conf ;;
		esac
		hport=$(sed -n -e \
		    's/^server\.port[[:space:]]*=[[:space:]]*//p' -e \
		    's/^Listen[[:space:]]*[0-9.]*:\([0-9]*\).*/\1/p' \
		    "$hconf" 2>/dev/null | head -n 1)
		if [ -n "$hport" ] && [ "$hport" != "$PORT" ]; then
			die "the web server of $VARDIR runs on port $hport," \
			    "not $PORT; 'make stop' first to change the port"
		fi
		check_tls_mode
		echo "$PROG: the web server runs already (pid $hpid)"
	else
		rm -f "$HTTPD_PID" "$RUN"/*.sock "$RUN"/*.sock-*
		stop_orphans
		check_port_free
		launch_httpd
	fi
	n=$((STACK_TIMEOUT * 5))
	# shellcheck disable=SC2086
	until curl -s -o /dev/null --max-time 2 $CURL_TLS \
	    "$SCHEME://127.0.0.1:$PORT/"; do
		n=$((n - 1))
		if [ "$n" -le 0 ] || ! running_pid "$HTTPD_PID" \
		    "$HTTPD_NAMES" >/dev/null; then
			log_tail "$LOG/lighttpd.out" "$LOG/lighttpd.error.log" \
			    "$LOG/apache.out" "$LOG/apache.error.log"
			die "the web server does not answer on port $PORT"
		fi
		sleep 0.2
	done
}

# SERVER=cgi: starts the loop standing in for cron (quarryd --drain every
# DRAIN_SECONDS) unless it runs; its pid (a process group leader when
# setsid exists) goes to run/drain.pid.
start_drain() {
	if dpid=$(running_pid "$DRAIN_PID" "sh|dash"); then
		echo "$PROG: the drain loop runs already (pid $dpid)"
		return 0
	fi
	case "$DRAIN_SECONDS" in
	''|*[!0-9.]*) die "DRAIN_SECONDS must be a number" ;;
	esac
	_loop='echo $$ > "$0"; while :; do "$1" -c "$2" --drain; sleep "$3"; done'
	if command -v setsid >/dev/null 2>&1; then
		setsid sh -c "$_loop" "$DRAIN_PID" "$BIN/quarryd" "$CONF" \
		    "$DRAIN_SECONDS" >>"$LOG/quarryd.out" 2>&1 </dev/null &
	else
		sh -c "$_loop" "$DRAIN_PID" "$BIN/quarryd" "$CONF" \
		    "$DRAIN_SECONDS" >>"$LOG/quarryd.out" 2>&1 </dev/null &
	fi
	QCHILD=$!
	n=25
	until running_pid "$DRAIN_PID" "sh|dash" >/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || die "the drain loop did not start"
		sleep 0.2
	done
	echo "$PROG: started quarryd --drain every ${DRAIN_SECONDS}s" \
	    "(pid $(head -n 1 "$DRAIN_PID")), standing in for cron"
}

# Stops the drain loop and the quarryd --drain it may be running.
stop_drain() {
	if ! _dpid=$(running_pid "$DRAIN_PID" "sh|dash"); then
		rm -f "$DRAIN_PID"
		return 0
	fi
	if [ "$(ps -o pgid= -p "$_dpid" 2>/dev/null | tr -d ' ')" = \
	    "$_dpid" ]; then
		# (no "--": dash's kill takes it for a number and fails)
		kill -TERM "-$_dpid" 2>/dev/null
	else
		kill -TERM "$_dpid" 2>/dev/null
	fi
	wait_gone "$_dpid" || kill -KILL "$_dpid" 2>/dev/null
	rm -f "$DRAIN_PID"
	echo "$PROG: stopped the drain loop (pid $_dpid)"
}

# Starts quarryd in the background unless it runs; waits for its pid
# file.  With $1 = fg, stays attached (for run), else detached.
start_quarryd() {
	if qpid=$(running_pid "$QUARRYD_PID" "$QUARRYD_NAMES"); then
		echo "$PROG: quarryd runs already (pid $qpid)"
		return 0
	fi
	rm -f "$QUARRYD_PID"
	if [ "${1:-}" != fg ] && command -v setsid >/dev/null 2>&1; then
		setsid "$BIN/quarryd" -c "$CONF" >>"$LOG/quarryd.out" 2>&1 \
		    </dev/null &
	else
		"$BIN/quarryd" -c "$CONF" >>"$LOG/quarryd.out" 2>&1 \
		    </dev/null &
	fi
	qpid=$!
	QCHILD=$qpid
	# quarryd writes its own pid file; wait for it, and write it here
	# if it has not after a few seconds (so stop still works).
	n=25
	until running_pid "$QUARRYD_PID" "$QUARRYD_NAMES" >/dev/null; do
		if ! kill -0 "$qpid" 2>/dev/null; then
			log_tail "$LOG/quarryd.out" "$LOG/quarryd.log"
			die "quarryd exited at start"
		fi
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			echo "$qpid" > "$QUARRYD_PID"
			break
		fi
		sleep 0.2
	done
	qpid=$(head -n 1 "$QUARRYD_PID")
	echo "$PROG: started quarryd (pid $qpid)"
}

# Stops both parts of the stack, whatever runs.
do_stop() {
	stop_drain
	stop_one "$QUARRYD_PID" "$QUARRYD_NAMES" quarryd
	stop_one "$HTTPD_PID" "$HTTPD_NAMES" "the web server"
	stop_fcgi_servers
	stop_orphans
	rm -f "$RUN"/*.sock "$RUN"/*.sock-* "$SERVER_FILE"
}

# Everything start and run have in common before quarryd starts.
prepare() {
	check_server
	check_programs
	check_port_free
	make_layout
	init_store
	[ "$SERVER" = lighttpd ] || apache_user
	setup_auth
	start_httpd
}

# Starts the scheduler: the daemon, or with SERVER=cgi the drain loop.
start_scheduler() {
	if [ "$SERVER" = cgi ]; then
		start_drain
	else
		start_quarryd "$1"
	fi
}

do_start() {
	prepare
	start_scheduler bg
	banner
}

do_run() {
	if qpid=$(running_pid "$QUARRYD_PID" "$QUARRYD_NAMES"); then
		die "the stack runs in the background already (quarryd pid" \
		    "$qpid); 'make stop' first, or use it as it is"
	fi
	if qpid=$(running_pid "$DRAIN_PID" "sh|dash"); then
		die "the stack runs in the background already (drain loop" \
		    "pid $qpid); 'make stop' first, or use it as it is"
	fi
	trap 'do_stop; exit 130' INT
	trap 'do_stop; exit 143' TERM HUP
	prepare
	start_scheduler fg
	banner
	echo ""
	if [ "$SERVER" = cgi ]; then
		echo "quarryd --drain runs every ${DRAIN_SECONDS}s in the" \
		    "foreground (as cron would); Ctrl-C stops the stack."
	else
		echo "quarryd runs in the foreground; Ctrl-C stops the stack."
	fi
	echo "(its log: $LOG/quarryd.log)"
	# Wait for quarryd; a signal runs the trap above.
	wait "$QCHILD" 2>/dev/null
	status=$?
	trap - INT TERM HUP
	if [ "$status" -ne 0 ]; then
		echo "$PROG: quarryd exited (status $status)" >&2
		log_tail "$LOG/quarryd.out" "$LOG/quarryd.log"
	fi
	do_stop
	exit "$status"
}

[ $# -eq 1 ] || usage
case "$1" in
run)	setup_paths run; do_run ;;
start)	setup_paths start; do_start ;;
stop)	setup_paths stop; do_stop ;;
*)	usage ;;
esac
