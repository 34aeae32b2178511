/*
 * Responses: status line and headers in CGI form ("Status: 200 OK"),
 * which the web server turns into HTTP, then the body.  Errors are
 * mapped to status codes here and only here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dialect/dialect.h"
#include "http/http.h"
#include "quarry/log.h"

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

/* The one mapping from library errors to HTTP status codes. */
int
http_status_of_err(enum qerr e)
{
	switch (e) {
	case Q_OK:		return 200;
	case Q_NOTFOUND:	return 404;
	case Q_EXISTS:		return 409;
	case Q_INVALID:		return 400;
	case Q_UNAUTH:		return 401;
	case Q_FORBIDDEN:	return 403;
	case Q_TOOBIG:		return 413;
	case Q_GONE:		return 410;
	case Q_METHOD:		return 405;
	case Q_STATE:		return 409;
	case Q_BUSY:		return 503;
	case Q_TIMEOUT:		return 504;
	case Q_NOSPACE:		return 507;
	case Q_NOMEM:
	case Q_IO:
	case Q_STORE:
	case Q_RETRY:
	case Q_CANCELLED:
	case Q_TRANSIENT:
	case Q_CONFIG:		return 500;
	}
	return 500;
}

static void
method_list(struct buf *b, unsigned m)
{
	static const struct { unsigned m; const char *n; } t[] = {
		{ M_GET, "GET" }, { M_HEAD, "HEAD" }, { M_POST, "POST" },
		{ M_PUT, "PUT" }, { M_DELETE, "DELETE" }, { M_PATCH, "PATCH" },
	};
	size_t	i;
	int	first = 1;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (m & t[i].m) {
			if (!first)
				buf_adds(b, ", ");
			buf_adds(b, t[i].n);
			first = 0;
		}
}

/* Adds a header line; CR, LF and other controls in the value are dropped. */
void
http_header(struct request *r, const char *name, const char *fmt, ...)
{
	struct buf	 v = BUF_INIT;
	va_list		 ap;
	char		*tmp = NULL;
	const char	*p;
	int		 n;

	va_start(ap, fmt);
	n = vasprintf(&tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (p = tmp; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			buf_addc(&v, *p);
	buf_printf(&r->hdrs, "%s: %s\r\n", name, buf_str(&v));
	buf_free(&v);
	free(tmp);
}

static int
emit(struct request *r, const void *p, size_t n)
{
	if (r->client_gone || n == 0)
		return r->client_gone ? -1 : 0;
	if (r->io->write(r->io->ctx, p, n) != 0) {
		r->client_gone = 1;
		return -1;
	}
	return 0;
}

/* Writes the status and header block (with Content-Length if >= 0). */
static int
send_head(struct request *r, int status, const char *ctype, long long clen)
{
	struct buf h = BUF_INIT;
	int rc;

	r->status = status;
	buf_printf(&h, "Status: %d %s\r\n", status, http_status_text(status));
	if (ctype != NULL)
		buf_printf(&h, "Content-Type: %s\r\n", ctype);
	if (clen >= 0)
		buf_printf(&h, "Content-Length: %lld\r\n", clen);
	buf_add(&h, r->hdrs.data ? r->hdrs.data : "", r->hdrs.len);
	buf_adds(&h, "\r\n");
	rc = h.oom ? -1 : emit(r, h.data, h.len);
	buf_free(&h);
	r->sent = 1;
	return rc;
}

/* Sends status, headers and the buffered body (see http.h). */
int
http_send(struct request *r, int status, const char *ctype)
{
	if (r->sent)
		return -1;
	if (status == 204 || status == 304) {
		buf_reset(&r->out);
		return send_head(r, status, NULL, -1);
	}
	if (r->out.oom) {
		buf_reset(&r->out);
		r->out.oom = 0;
		status = 500;
		ctype = "text/plain; charset=utf-8";
		buf_adds(&r->out, "out of memory\n");
	}
	if (send_head(r, status, ctype, (long long)r->out.len) != 0)
		return -1;
	if (r->method == M_HEAD)
		return 0;
	return emit(r, r->out.data, r->out.len);
}

/* Answers an error in the route's dialect (see http.h). */
void
http_error(struct request *r, enum qerr e, const char *fmt, ...)
{
	va_list	ap;
	int	status = http_status_of_err(e);

	if (r->sent)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(r->err_msg, sizeof(r->err_msg), fmt, ap);
		va_end(ap);
	} else if (r->err_msg[0] == '\0' && e == Q_FORBIDDEN && r->authed)
		snprintf(r->err_msg, sizeof(r->err_msg), "this needs an admin "
		    "token");
	else if (r->err_msg[0] == '\0')
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", qerr_str(e));
	if (e == Q_FORBIDDEN && r->dialect != NULL && !r->authed &&
	    !r->user_refused)
		status = r->dialect->bad_token_status;
	if (status == 405 && r->allow != 0) {
		struct buf a = BUF_INIT;

		method_list(&a, r->allow);
		http_header(r, "Allow", "%s", buf_str(&a));
		buf_free(&a);
	}
	qlog(status >= 500 ? LOG_ERR : LOG_INFO, "%s %s -> %d %s [id %s]",
	    r->method_name, r->path, status, r->err_msg, r->reqid);
	buf_reset(&r->out);
	if (r->dialect != NULL) {
		r->dialect->error(r, status, e);
		http_send(r, status, r->dialect->error_ctype);
	} else {
		buf_printf(&r->out, "%d %s: %s (id %s)\n", status,
		    http_status_text(status), r->err_msg, r->reqid);
		http_send(r, status, "text/plain; charset=utf-8");
	}
}

/* What the web server's own errors say, in every dialect. */
static const struct {
	int		 status;
	const char	*msg;
} server_error[] = {
	{ 400, "the request is malformed (its request line, a header or "
	    "an escape in the path)" },
	{ 405, "the method is not allowed here" },
	{ 408, "the request did not arrive in time" },
	{ 411, "a request with a body needs a Content-Length" },
	{ 413, "the request is larger than the server accepts" },
	{ 414, "the URL is longer than the server accepts" },
	{ 417, "the expectation cannot be met" },
	{ 431, "the request headers are larger than the server accepts" },
	{ 500, "the server could not answer this request" },
	{ 501, "the method is not implemented" },
	{ 502, "the export service gave no valid answer; try again later" },
	{ 503, "the export service is not available; try again later" },
	{ 504, "the export service did not answer in time; try again later" },
	{ 505, "the HTTP version is not supported" },
};

#define N_SERVER_ERROR (sizeof(server_error) / sizeof(server_error[0]))

int
http_server_error(size_t i)
{
	return i < N_SERVER_ERROR ? server_error[i].status : 0;
}

/* A static error document for the web server (see http.h). */
int
http_error_document(const struct dialect *d, int status, struct buf *out)
{
	struct request	r;
	size_t		i;

	for (i = 0; i < N_SERVER_ERROR; i++)
		if (server_error[i].status == status)
			break;
	if (i == N_SERVER_ERROR)
		return -1;
	/* reqid and now stay empty: the renderers leave them out. */
	memset(&r, 0, sizeof(r));
	r.dialect = d;
	snprintf(r.err_msg, sizeof(r.err_msg), "%s", server_error[i].msg);
	d->error(&r, status, Q_OK);
	buf_free(&r.hdrs);
	if (r.out.oom) {
		buf_free(&r.out);
		return -1;
	}
	buf_add(out, r.out.data, r.out.len);
	buf_free(&r.out);
	return 0;
}

/* ---- files ---- */

/* Parses a Range header against a file of size (see http.h). */
int
http_parse_range(const char *h, long long size, struct range *rg)
{
	char		*end;
	long long	 a, b;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return 0;
	h += 6;
	if (strchr(h, ',') != NULL)
		return 0;		/* several ranges: send it whole */
	if (*h == '-') {
		errno = 0;
		b = strtoll(h + 1, &end, 10);
		if (end == h + 1 || *end != '\0' || errno != 0 || b < 0)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		rg->first = b >= size ? 0 : size - b;
		rg->last = size - 1;
		return 1;
	}
	errno = 0;
	a = strtoll(h, &end, 10);
	if (end == h || *end != '-' || errno != 0 || a < 0)
		return 0;
	h = end + 1;
	if (*h == '\0')
		b = size - 1;
	else {
		b = strtoll(h, &end, 10);
		if (end == h || *end != '\0' || errno != 0 || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	rg->first = a;
	rg->last = b;
	return 1;
}

/* True if an If-None-Match list names etag (see http.h). */
int
http_etag_listed(const char *list, const char *etag)
{
	if (list == NULL)
		return 0;
	return strcmp(list, "*") == 0 || strstr(list, etag) != NULL;
}

static int
isalnum_ascii(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/*
 * Content-Disposition: attachment with an ASCII filename (no separators,
 * quotes or controls) and, for non-ASCII names, RFC 6266's filename*.
 */
static void
disposition(struct request *r, const char *filename)
{
	struct buf	 a = BUF_INIT, u = BUF_INIT;
	const unsigned char *p;
	int		 ascii = 1;

	for (p = (const unsigned char *)filename; *p != '\0'; p++) {
		if (*p >= 0x80)
			ascii = 0;
		if (*p < 0x20 || *p == 0x7f)
			continue;
		if (*p >= 0x80 && *p < 0xc0)
			;	/* one '_' per character, not per byte */
		else if (*p >= 0x80 || *p == '"' || *p == '\\' || *p == '/' ||
		    *p == ';' || *p == '%')
			buf_addc(&a, '_');
		else
			buf_addc(&a, (char)*p);
		if (isalnum_ascii(*p) || strchr("-._~", *p) != NULL)
			buf_addc(&u, (char)*p);
		else if (*p >= 0x20)
			buf_printf(&u, "%%%02X", *p);
	}
	if (ascii)
		http_header(r, "Content-Disposition",
		    "attachment; filename=\"%s\"", buf_str(&a));
	else
		http_header(r, "Content-Disposition",
		    "attachment; filename=\"%s\"; filename*=UTF-8''%s",
		    buf_str(&a), buf_str(&u));
	buf_free(&a);
	buf_free(&u);
}

/*
 * With config sendfile = lighttpd | apache, hands the body of a GET to
 * the web server: status 200, the headers set so far and "X-Sendfile:
 * <absolute path>", no Content-Length and no body.  The server sends the
 * bytes and answers Range itself (206, 416, If-Range), from the ETag and
 * Last-Modified given here.  Returns 1 if it did so, 0 if the program
 * must stream the file (offload off, or a path the servers would read
 * differently: not resolvable, or holding '%' or a control character).
 */
static int
offload(struct request *r, const char *path, const char *ctype)
{
	char			 abs[PATH_MAX];
	const unsigned char	*p;

	if (r->conf == NULL || r->conf->sendfile == SENDFILE_OFF)
		return 0;
	if (realpath(path, abs) == NULL)
		return 0;
	for (p = (const unsigned char *)abs; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '%')
			return 0;
	http_header(r, "X-Sendfile", "%s", abs);
	send_head(r, 200, ctype, -1);
	return 1;
}

/*
 * Sends n bytes of fd from off as the body; how many went out (fewer:
 * the client went away, or the file ended early).
 */
static long long
send_range(struct request *r, int fd, long long off, long long n)
{
	char		chunk[256 * 1024];
	long long	sent = 0;
	ssize_t		got;

	if (n <= 0 || r->client_gone)
		return 0;
	if (r->io->send_file != NULL) {
		sent = r->io->send_file(r->io->ctx, fd, off, n);
		if (sent < n)
			r->client_gone = 1;
		return sent;
	}
	while (sent < n && !r->client_gone) {
		got = pread(fd, chunk, n - sent < (long long)sizeof(chunk) ?
		    (size_t)(n - sent) : sizeof(chunk), (off_t)(off + sent));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || emit(r, chunk, (size_t)got) != 0)
			break;
		sent += got;
	}
	return sent;
}

/* Sends a finished file (see http.h). */
enum qerr
http_send_file(struct request *r, int fd, const char *path,
    const char *ctype, const char *filename, const struct whole_hook *hook)
{
	struct stat	 st;
	struct range	 rg;
	char		 etag[64], lm[64];
	const char	*inm, *ifr;
	long long	 left, hold;
	struct tm	 tm;
	int		 partial;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return Q_IO;
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"",
	    (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtime);
	gmtime_r(&st.st_mtime, &tm);
	strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	http_header(r, "ETag", "%s", etag);
	http_header(r, "Last-Modified", "%s", lm);
	http_header(r, "Accept-Ranges", "bytes");
	http_header(r, "Cache-Control", "private, no-transform");
	disposition(r, filename);
	inm = http_env(r, "HTTP_IF_NONE_MATCH");
	if (http_etag_listed(inm, etag)) {
		http_send(r, 304, NULL);
		return Q_OK;
	}
	rg.first = 0;
	rg.last = (long long)st.st_size - 1;
	partial = http_parse_range(http_env(r, "HTTP_RANGE"), st.st_size, &rg);
	ifr = http_env(r, "HTTP_IF_RANGE");
	if (partial != 0 && ifr != NULL && strcmp(ifr, etag) != 0 &&
	    strcmp(ifr, lm) != 0) {
		partial = 0;
		rg.first = 0;
		rg.last = (long long)st.st_size - 1;
	}
	if (partial < 0) {
		http_header(r, "Content-Range", "bytes */%lld",
		    (long long)st.st_size);
		buf_reset(&r->out);
		http_send(r, 416, NULL);
		return Q_OK;
	}
	if (r->method == M_GET && hook == NULL && offload(r, path, ctype)) {
		r->file_bytes = (long long)st.st_size;
		r->file_offloaded = 1;
		return Q_OK;
	}
	if (partial > 0)
		http_header(r, "Content-Range", "bytes %lld-%lld/%lld",
		    rg.first, rg.last, (long long)st.st_size);
	left = rg.last - rg.first + 1;
	/* the whole file to a GET: the hook runs before its last byte */
	hold = hook != NULL && partial == 0 && r->method == M_GET;
	if (hold && left == 0)
		hook->fn(hook->arg);	/* nothing to hold back */
	if (send_head(r, partial > 0 ? 206 : 200, ctype, left) != 0 ||
	    r->method == M_HEAD)
		return Q_OK;
	r->file_bytes = left;
	if (left == 0)
		return Q_OK;		/* an empty file, sent whole */
	if (hold) {
		hold = send_range(r, fd, rg.first, left - 1);
		if (hold == left - 1 && !r->client_gone &&
		    (r->io->flush == NULL || r->io->flush(r->io->ctx) == 0))
			hook->fn(hook->arg);
		else
			r->client_gone = 1;
		left -= hold;
		left -= send_range(r, fd, rg.last, 1);
	} else
		left -= send_range(r, fd, rg.first, left);
	r->file_bytes -= left;
	if (left > 0)
		qlog(LOG_WARN, "download of %s ended early [id %s]", path,
		    r->reqid);
	return Q_OK;
}
