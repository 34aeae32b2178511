/*
 * Requests: the CGI variables of one request (from the process
 * environment in CGI mode, from the FastCGI params otherwise) parsed once
 * into a struct request.  Nothing else reads the environment.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "quarry/seams.h"
#include "quarry/util.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes p[0..n) into out (RFC 3986 section 2.1); '+' is kept
 * unless plus is set (query strings).  -1 on a bad escape, a NUL, or an
 * overflow of len.
 */
static int
pct_decode(const char *p, size_t n, char *out, size_t len, int plus)
{
	size_t	i, o = 0;
	int	hi, lo, c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval(p[i + 1])) < 0 ||
			    (lo = hexval(p[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0' || o + 1 >= len)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static enum method
method_of(const char *m)
{
	static const struct { const char *n; enum method m; } t[] = {
		{ "GET", M_GET }, { "HEAD", M_HEAD }, { "POST", M_POST },
		{ "PUT", M_PUT }, { "DELETE", M_DELETE }, { "PATCH", M_PATCH },
		{ "OPTIONS", M_OPTIONS },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].n) == 0)
			return t[i].m;
	return M_OTHER;
}

/* True if a Host header value is a plain host[:port] (no injection). */
static int
host_valid(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 255)
		return 0;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && strchr(".-:[]_", *h) == NULL)
			return 0;
	return 1;
}

/*
 * The first value of a forwarded header's comma-separated list, without
 * the spaces and tabs around it, into out; -1 if it is empty or does not
 * fit.
 */
static int
first_value(const char *h, char *out, size_t len)
{
	size_t n;

	h += strspn(h, " \t");
	n = strcspn(h, ",");
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, h, n);
	out[n] = '\0';
	return 0;
}

/*
 * r->base, the scheme://host[:port] of every absolute URL in the answer:
 * base_url when configured; else https when the web server says the
 * connection is TLS (HTTPS=on), and the Host header.  A request from a
 * trusted proxy (REMOTE_ADDR in trusted_proxies) may replace the scheme
 * with X-Forwarded-Proto (http or https) and the host with
 * X-Forwarded-Host (checked as Host is), each the first value of its
 * list; anyone else's X-Forwarded-* is ignored, as is a value that is
 * not one of those (docs/http.md, "Absolute URLs").
 */
static void
set_base(struct request *r)
{
	const char	*host, *https, *port, *name, *fw;
	char		 fproto[8], fhost[256];
	int		 tls;

	if (r->conf->base_url[0] != '\0') {
		snprintf(r->base, sizeof(r->base), "%s", r->conf->base_url);
		/* A configured base names the mount, without a final '/'. */
		if (r->base[0] != '\0' && r->base[strlen(r->base) - 1] == '/')
			r->base[strlen(r->base) - 1] = '\0';
		return;
	}
	https = http_env(r, "HTTPS");
	tls = https != NULL && strcasecmp(https, "on") == 0;
	host = http_env(r, "HTTP_HOST");
	if (r->conf->ntrusted_proxies > 0 &&
	    conf_proxy_trusted(r->conf, http_env(r, "REMOTE_ADDR"))) {
		if ((fw = http_env(r, "HTTP_X_FORWARDED_PROTO")) != NULL &&
		    first_value(fw, fproto, sizeof(fproto)) == 0) {
			if (strcasecmp(fproto, "https") == 0)
				tls = 1;
			else if (strcasecmp(fproto, "http") == 0)
				tls = 0;
		}
		if ((fw = http_env(r, "HTTP_X_FORWARDED_HOST")) != NULL &&
		    first_value(fw, fhost, sizeof(fhost)) == 0 &&
		    host_valid(fhost))
			host = fhost;
	}
	if (host != NULL && host_valid(host)) {
		snprintf(r->base, sizeof(r->base), "%s://%s",
		    tls ? "https" : "http", host);
		return;
	}
	name = http_env(r, "SERVER_NAME");
	port = http_env(r, "SERVER_PORT");
	if (name == NULL || !host_valid(name))
		name = "localhost";
	if (port == NULL || !host_valid(port))
		port = tls ? "443" : "80";
	snprintf(r->base, sizeof(r->base), "%s://%s:%s",
	    tls ? "https" : "http", name, port);
}

/* Splits r->path into decoded segments; -1 on any path trick. */
static int
split_path(struct request *r)
{
	const char	*p = r->path, *e;
	size_t		 n;

	if (*p != '/')
		return -1;
	r->nseg = 0;
	while (*p == '/') {
		p++;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 && e == NULL)
			break;		/* a final '/' */
		if (r->nseg == SEGS_MAX)
			return -1;
		if (pct_decode(p, n, r->seg[r->nseg], SEG_MAX + 1, 0) != 0)
			return -1;
		if (r->seg[r->nseg][0] == '\0' ||
		    strcmp(r->seg[r->nseg], ".") == 0 ||
		    strcmp(r->seg[r->nseg], "..") == 0 ||
		    strchr(r->seg[r->nseg], '/') != NULL ||
		    strchr(r->seg[r->nseg], '\\') != NULL)
			return -1;
		r->nseg++;
		p += n;
	}
	return 0;
}

/* Parses the request (see http.h). */
enum qerr
http_request_init(struct request *r, const struct transport *io,
    const struct conf *c, struct store *s, enum prog p)
{
	const char	*uri, *q, *m;
	static uint64_t	 seed, count;
	uint64_t	 v;
	size_t		 n;

	memset(r, 0, sizeof(*r));
	r->file_bytes = -1;
	r->io = io;
	r->conf = c;
	r->store = s;
	r->prog = p;
	r->query = "";
	r->status = 200;
	/* A random start per process, then a counter: unique, and cheap. */
	if (seed == 0 && random_bytes(&seed, sizeof(seed)) != Q_OK)
		seed = (uint64_t)getpid() << 32;
	v = seed + count++;
	for (n = 0; n < 16; n++, v >>= 4)
		r->reqid[15 - n] = "0123456789abcdef"[v & 15];
	r->reqid[16] = '\0';
	time_rfc3339(q_seams.now(), r->now);
	m = http_env(r, "REQUEST_METHOD");
	r->method_name = m ? m : "GET";
	r->method = method_of(r->method_name);
	set_base(r);
	/* REQUEST_URI is the original URI, whatever rewriting happened. */
	if ((uri = http_env(r, "REQUEST_URI")) == NULL) {
		if ((uri = http_env(r, "SCRIPT_NAME")) == NULL)
			uri = "/";
	}
	q = strchr(uri, '?');
	n = q ? (size_t)(q - uri) : strlen(uri);
	if (q != NULL)
		r->query = q + 1;
	if (n > PATH_MAX_LEN) {
		snprintf(r->path, sizeof(r->path), "%.*s", 64, uri);
		r->bad_path = 1;
		return Q_NOTFOUND;
	}
	memcpy(r->path, uri, n);
	r->path[n] = '\0';
	if (split_path(r) != 0) {
		r->bad_path = 1;
		return Q_NOTFOUND;
	}
	return Q_OK;
}

void
http_request_free(struct request *r)
{
	buf_free(&r->body);
	buf_free(&r->hdrs);
	buf_free(&r->out);
}

const char *
http_env(const struct request *r, const char *name)
{
	/* no transport: a static error document, of no request */
	return r->io == NULL ? NULL : r->io->getenv(r->io->ctx, name);
}

/* Reads the body by CONTENT_LENGTH, within max_body (see http.h). */
enum qerr
http_read_body(struct request *r)
{
	const char	*cl = http_env(r, "CONTENT_LENGTH");
	char		*end;
	unsigned long long want;
	ssize_t		 got;
	char		 chunk[8192];

	buf_reset(&r->body);
	if (cl == NULL || *cl == '\0')
		return Q_OK;
	errno = 0;
	want = strtoull(cl, &end, 10);
	if (*end != '\0' || errno != 0 || !isdigit((unsigned char)*cl))
		return Q_INVALID;
	if (want > r->conf->max_body)
		return Q_TOOBIG;
	if (buf_reserve(&r->body, (size_t)want + 1) != 0)
		return Q_NOMEM;
	while (r->body.len < want) {
		size_t ask = want - r->body.len;

		if (ask > sizeof(chunk))
			ask = sizeof(chunk);
		got = r->io->read(r->io->ctx, chunk, ask);
		if (got <= 0)
			return Q_INVALID;
		buf_add(&r->body, chunk, (size_t)got);
	}
	return r->body.oom ? Q_NOMEM : Q_OK;
}

/* Finds name in the query string and decodes its value (see http.h). */
int
http_query(const struct request *r, const char *name, char *out, size_t len)
{
	const char	*p = r->query, *e, *eq;
	char		 key[64];

	while (*p != '\0') {
		e = strchr(p, '&');
		if (e == NULL)
			e = p + strlen(p);
		eq = memchr(p, '=', (size_t)(e - p));
		/* Keys are compared decoded: "%24top" is "$top". */
		if (eq != NULL && pct_decode(p, (size_t)(eq - p), key,
		    sizeof(key), 1) == 0 && strcmp(key, name) == 0) {
			if (pct_decode(eq + 1, (size_t)(e - eq - 1), out, len,
			    1) != 0 || utf8_check(out, strlen(out)) !=
			    strlen(out)) {
				out[0] = '\0';
				return -2;
			}
			return 0;
		}
		p = *e ? e + 1 : e;
	}
	return -1;
}
