#!/bin/sh
# webconf.sh OUTDIR: writes the package's web server configurations,
#
#   OUTDIR/lighttpd/50-quarry.conf	/etc/lighttpd/conf-available/
#					(lighty-enable-mod quarry)
#   OUTDIR/apache2/quarry.conf		/etc/apache2/conf-available/
#					(a2enconf quarry)
#
# from the source tree's templates (httpd-conf/lighttpd.conf and
# httpd-conf/apache-fcgid.conf): their routing rules and the blocks that
# answer the server's own errors in each API's format are taken from
# there, with the installed paths in place of the placeholders (lighttpd's
# as they are, Apache's turned into the same rules for a <LocationMatch>,
# see location_rules), so that the package routes exactly as the tested
# templates do; what differs from a whole server of its own (a module of a
# server that serves other sites too) is written here.  Run by
# debian/rules from the top of the source tree.  Fails when a template no
# longer has the parts it takes (so a changed template cannot make a
# package that routes nothing).

set -eu

OUT=$1
LIGHTTPD_TEMPLATE=httpd-conf/lighttpd.conf
APACHE_TEMPLATE=httpd-conf/apache-fcgid.conf

CGIBIN=/usr/lib/quarry/cgi-bin
WWW=/usr/share/quarry/www
CONF=/etc/quarry/quarry.conf
FILES=/var/lib/quarry/files
SOCKDIR=/run/lighttpd

die() {
	echo "webconf.sh: $*" >&2
	exit 1
}

# Prints the lines of file $1 from the first matching the extended regex
# $2 up to, not including, the next matching $3 ("" = the end of the
# file), without the comments and blank lines that end that stretch (they
# belong to what follows).  Fails when either line is missing.
between() {
	FROM=$2 TO=$3 awk '
	BEGIN { from = ENVIRON["FROM"]; to = ENVIRON["TO"] }
	!on && $0 ~ from { on = 1 }
	on && to != "" && n > 0 && $0 ~ to { done = 1; exit }
	on { line[++n] = $0 }
	END {
		if (!on || (to != "" && !done))
			exit 1
		while (n > 0 && line[n] ~ /^[[:space:]]*(#.*)?$/)
			n--
		for (i = 1; i <= n; i++)
			print line[i]
	}' "$1" || die "$1: no lines from /$2/ to /$3/"
}

# Replaces the placeholders with the installed paths.
fill() {
	sed -e "s|@CGIBIN@|$CGIBIN|g" -e "s|@WWW@|$WWW|g" \
	    -e "s|@CONF@|$CONF|g" -e "s|@FILES@|$FILES|g"
}

# Fails when file $1 still holds a placeholder.
check_filled() {
	if grep -n '@[A-Z]*@' "$1" >&2; then
		die "$1: placeholders left"
	fi
}

lighttpd_conf() {
	# The three route lists, then how they are used (the GET|HEAD block).
	routes=$(between "$LIGHTTPD_TEMPLATE" '^var\.quarry_concur = \($' \
	    '^url\.rewrite-once = ')
	use=$(between "$LIGHTTPD_TEMPLATE" '^url\.rewrite-once = ' '^$')
	errors=$(between "$LIGHTTPD_TEMPLATE" '^\$HTTP\["url"\] =~ ' \
	    '^setenv\.add-environment')
	cat <<EOF
# -*- depends: fastcgi, rewrite, setenv -*-
#
# Quarry's export-job API in lighttpd (package quarry).  Enable it with
#
#	lighty-enable-mod quarry
#	systemctl restart lighttpd
#
# (restart, not reload, the first time: lighttpd's user www-data joined
# the group quarry when the package was installed, and a running lighttpd
# has not seen that yet).  /usr/share/doc/quarry/install.md says more.
#
# Whatever sites this server has, this adds:
#   - the API's URLs, sent to Quarry's four FastCGI programs, which
#     lighttpd starts as its user (www-data) on sockets in $SOCKDIR:
#	/api/expense/extract/v1.0/...			Concur
#	/api/v1/...  /{beta,v1.0}/employeeExperience/goals/...	Graph
#	/osdi/v1/...					OSDI
#     every other URL is the site's as before;
#   - the exports page, $WWW, at /quarry/;
#   - the errors lighttpd answers itself under those URLs (a body too
#     large, a program that is down) in each API's format.
# If you turn on mod_accesslog, give it a format that logs %U, not %r:
# an OSDI client may send its token in the query string.
#
# Made from httpd-conf/lighttpd.conf of Quarry's source (its routing and
# error blocks, as they are there); httpd-conf/README.md in
# /usr/share/doc/quarry explains them.

alias.url += ( "/quarry/" => "$WWW/" )

$routes

# Only under the API's URLs (as sent, and as rewritten to a program):
# there Quarry's rewrite rules replace any of the site's.
\$HTTP["url"] =~ "^(/quarry-fcgi/[a-z]+\\.fcgi)?(/api/expense/extract/v1\\.0|/api/v1/|/osdi/v1/|(?i:/(beta|v1\\.0)/employeeExperience/goals))" {
$(printf '%s\n' "$use" | sed 's/^/	/')
	setenv.add-environment	= ( "QUARRY_CONF" => "$CONF" )
	# The programs enforce max_body (413 in the dialect's format); this
	# is only a backstop well above it, in KiB.
	server.max-request-size	= 16384
	# Pass a program's answer on as it comes, as fast as the client
	# takes it (a large download is not collected first).
	server.stream-response-body = 2
}

$errors

# The four programs.  lighttpd starts them (bin-path) as its own user,
# two of each, and stops them when it stops; it passes every request
# header, Authorization included.  files.fcgi may answer with X-Sendfile
# (sendfile = lighttpd in quarry.conf), for the files directory only.
fastcgi.server += (
EOF
	for p in definitions jobs status files; do
		cat <<EOF
	"/quarry-fcgi/$p.fcgi" => ((
		"bin-path"	  => "$CGIBIN/$p.fcgi",
		"socket"	  => "$SOCKDIR/quarry-$p.sock",
		"check-local"	  => "disable",
		"max-procs"	  => 2,
		"bin-environment" => ( "QUARRY_CONF" => "$CONF" ),
EOF
		if [ "$p" = files ]; then
			cat <<EOF
		"x-sendfile"	  => "enable",
		"x-sendfile-docroot" => ( "$FILES" ),
EOF
		fi
		printf '\t)),\n'
	done
	printf ')\n'
}

# Turns the server-level rewrite rules on standard input into the same
# rules for a <LocationMatch> (per-directory context, where a rule's
# pattern would see a file name, not the URL-path): each RewriteRule
# "PATTERN" TARGET [FLAGS] (on one line or two) becomes a RewriteCond on
# %{REQUEST_URI} with PATTERN (and NC if FLAGS have it) before
# RewriteRule ^ TARGET [FLAGS]; other lines are kept, indented.  Fails on
# a rule it cannot read, or on one outside the API's mounts (which the
# <LocationMatch> would not reach).
location_rules() {
	awk '
	function flush(r,   pat, rest, target, flags) {
		if (!match(r, /^RewriteRule[ \t]+"[^"]*"[ \t]+/)) {
			print "cannot read: " r > "/dev/stderr"
			bad = 1
			return
		}
		rest = substr(r, RLENGTH + 1)
		pat = substr(r, 1, RLENGTH)
		sub(/^RewriteRule[ \t]+"/, "", pat)
		sub(/"[ \t]+$/, "", pat)
		if (!match(rest, /^[^ \t]+[ \t]+\[[A-Za-z,]+\][ \t]*$/)) {
			print "cannot read: " r > "/dev/stderr"
			bad = 1
			return
		}
		target = rest
		sub(/[ \t].*$/, "", target)
		flags = rest
		sub(/^[^[]*/, "", flags)
		sub(/[ \t]*$/, "", flags)
		if (pat !~ /^\^\/(api\/|osdi\/|\(beta\|v1\\\.0\)\/)/) {
			print "outside the mounts: " pat > "/dev/stderr"
			bad = 1
		}
		print "\tRewriteCond %{REQUEST_URI} \"" pat "\"" \
		    (flags ~ /NC/ ? " [NC]" : "")
		print "\tRewriteRule ^ " target " " flags
		n++
	}
	cont != "" {
		line = $0
		sub(/^[ \t]+/, "", line)
		cont = cont " " line
		if (cont ~ /\\$/)
			sub(/[ \t]*\\$/, "", cont)
		else {
			flush(cont)
			cont = ""
		}
		next
	}
	/^RewriteRule/ {
		if ($0 ~ /\\$/) {
			cont = $0
			sub(/[ \t]*\\$/, "", cont)
		} else
			flush($0)
		next
	}
	/^$/ { print; next }
	{ print "\t" $0 }
	END { exit bad || n == 0 || cont != "" }'
}

apache_conf() {
	# The rewrite rules (for a <LocationMatch>), then the error
	# documents of each API (under /quarry/errors/).
	routes=$(between "$APACHE_TEMPLATE" '^RewriteEngine On$' \
	    '^<Directory "@WWW@/errors/' | awk 'NR > 1 && (n || $0 != "") {
		n = 1; print }' | location_rules) ||
	    die "$APACHE_TEMPLATE: cannot turn its rewrite rules into a" \
	    "<LocationMatch>"
	errors=$(between "$APACHE_TEMPLATE" '^<Directory "@WWW@/errors/' \
	    '^# ---- Quarry ends ----' |
	    sed 's|^\([[:space:]]*ErrorDocument [0-9]* \)/errors/|\1/quarry/errors/|')
	cat <<EOF
# Quarry's export-job API in Apache with mod_fcgid (package quarry).
# Enable it with
#
#	apt install libapache2-mod-fcgid
#	a2enmod rewrite fcgid alias
#	a2enconf quarry
#	systemctl restart apache2
#
# (libapache2-mod-xsendfile and a2enmod xsendfile too for sendfile =
# apache in quarry.conf).  /usr/share/doc/quarry/install.md says more.
#
# A server-wide configuration: every virtual host gets
#   - the API's URLs, sent to Quarry's four FastCGI programs, which
#     mod_fcgid starts as Apache's user (www-data):
#	/api/expense/extract/v1.0/...			Concur
#	/api/v1/...  /{beta,v1.0}/employeeExperience/goals/...	Graph
#	/osdi/v1/...					OSDI
#     every other URL is the site's as before;
#   - the exports page, $WWW, at /quarry/;
#   - the errors Apache answers itself under those URLs (a body too
#     large, a program that is down) in each API's format.
#
# Made from httpd-conf/apache-fcgid.conf of Quarry's source (its rewrite
# rules and error documents); httpd-conf/README.md in /usr/share/doc/quarry
# explains them.  The rewrite rules stand in a <LocationMatch> of the
# API's URLs, not at the server level: Apache does not apply the server's
# rewrite rules in a virtual host that does not turn the engine on itself
# (Debian's 000-default does not), while a <LocationMatch> reaches every
# virtual host, and under the API's URLs Quarry's rules replace a site's
# own (of a .htaccess too).  There a rule's pattern would see a file
# name, so each tests %{REQUEST_URI} instead.

# mod_fcgid.  These apply to every program mod_fcgid runs on this
# server: FcgidMaxRequestLen, its own request-body limit (128 KiB by
# default: a larger body gets a 500 before the program sees it), at or
# above max_body of quarry.conf so that Quarry answers 413 in the
# dialect's format; a busy timeout that outlasts a slow client's large
# download; no penalty for a program that exits on purpose after it found
# the store in need of recovery (a killed quarryd); the answer passed on
# as it comes.
FcgidMaxRequestLen		16777216
FcgidBusyTimeout		3600
FcgidTerminationScore		0
FcgidSpawnScoreUpLimit		64
FcgidOutputBufferSize		65536
# And these Quarry's programs alone: at most four of each, never recycled
# after N requests (a restart costs a store open), QUARRY_CONF.
EOF
	for p in definitions jobs status files; do
		printf 'FcgidCmdOptions %s/%s.fcgi \\\n' "$CGIBIN" "$p"
		printf '\tInitialEnv QUARRY_CONF=%s MaxProcesses 4 \\\n' "$CONF"
		printf '\tMaxRequestsPerProcess 0 IOTimeout 300 ConnectTimeout 20\n'
	done
	cat <<EOF

Alias /quarry-fcgi/ "$CGIBIN/"
<Directory "$CGIBIN">
	Options +ExecCGI
	SetHandler fcgid-script
	# The Authorization header reaches the programs as HTTP_AUTHORIZATION.
	CGIPassAuth On
	Require all granted
	# files.fcgi may answer with X-Sendfile (sendfile = apache in
	# quarry.conf), for the files directory only.
	<IfModule mod_xsendfile.c>
		XSendFile On
		XSendFilePath "$FILES"
	</IfModule>
</Directory>

Alias /quarry/ "$WWW/"
<Directory "$WWW">
	Options None
	AllowOverride None
	Require all granted
</Directory>

<LocationMatch "^/(api/expense/extract/v1\\.0|api/v1/|osdi/v1/|(?i:(beta|v1\\.0)/employeeExperience/goals))">
	# Rewriting in a directory's context needs it, whatever the site's
	# Options.
	Options +FollowSymLinks
	RewriteEngine On

$routes
</LocationMatch>

$errors
EOF
}

mkdir -p "$OUT/lighttpd" "$OUT/apache2"
lighttpd_conf | fill > "$OUT/lighttpd/50-quarry.conf"
apache_conf | fill > "$OUT/apache2/quarry.conf"
check_filled "$OUT/lighttpd/50-quarry.conf"
check_filled "$OUT/apache2/quarry.conf"
