/*
 * The HTTP side of the web programs: one request abstraction over CGI and
 * FastCGI, table-driven routing, responses, authentication.
 *
 * A request becomes a struct request whatever the transport; the router
 * picks a route from the table in src/api/routes.c; the handler parses
 * the request, makes one call to the model with the caller (r->who), and
 * renders the answer through its route's dialect.
 * Errors travel as enum qerr and are turned into a status code and the
 * dialect's error body in one place (http_error).
 */
#ifndef QUARRY_HTTP_H
#define QUARRY_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "quarry/buf.h"
#include "quarry/config.h"
#include "quarry/error.h"
#include "quarry/model.h"

struct dialect;

/* Methods, as bits so a route can allow several. */
enum method {
	M_GET = 0x01, M_HEAD = 0x02, M_POST = 0x04, M_PUT = 0x08,
	M_DELETE = 0x10, M_PATCH = 0x20, M_OPTIONS = 0x40, M_OTHER = 0x80
};

/* The four web programs; each serves the routes it owns. */
enum prog { PROG_DEFINITIONS, PROG_JOBS, PROG_STATUS, PROG_FILES };

#define PATH_MAX_LEN	2048	/* longest request path accepted */
#define SEGS_MAX	16	/* most path segments accepted */
#define SEG_MAX		256	/* longest decoded segment */
#define HDRS_MAX	4096	/* response header bytes */

/* How the bytes of a request come in and a response goes out. */
struct transport {
	/* Reads up to n body bytes; 0 at the end, -1 on error. */
	ssize_t	(*read)(void *ctx, void *p, size_t n);
	/* Writes all n bytes; 0, or -1 if the client went away. */
	int	(*write)(void *ctx, const void *p, size_t n);
	/* The CGI variable name, or NULL. */
	const char *(*getenv)(void *ctx, const char *name);
	/*
	 * Optional (NULL: the caller reads the file and writes): writes n
	 * bytes of file fd from offset off, the kernel copying them, and
	 * returns how many went out (fewer: the client went away or the file
	 * ended early).
	 */
	void	*ctx;
	long long (*send_file)(void *ctx, int fd, long long off, long long n);
	/*
	 * Optional (NULL: nothing held back): hands what is buffered to the
	 * web server; 0, or -1 if it went away.
	 */
	int	(*flush)(void *ctx);
};

/*
 * Why a request failed, beyond its status, where a dialect has its own
 * words for it (Graph's notAllowed / exportJobAlreadyExists).
 */
enum err_reason {
	REASON_NONE,
	REASON_DUPLICATE_JOB,	/* an equal job is active (the 409 rule) */
	/* the goals mount's published inner codes (Graph) */
	REASON_GOALS_ORG_NOT_FOUND,	/* goalsOrganizationIdNotFound */
	REASON_GOALS_ORG_INVALID,	/* invalidGoalsOrganizationId */
	REASON_GOALS_JOB_NOT_FOUND,	/* exportJobNotFound */
	REASON_UNKNOWN			/* "unknown" */
};

struct request {
	const struct transport	*io;
	const struct conf	*conf;
	struct store		*store;		/* NULL if it could not open */
	enum prog		 prog;		/* the program serving it */

	/* What came in (pointers into the environment or own copies). */
	enum method		 method;
	const char		*method_name;
	char			 path[PATH_MAX_LEN + 1];  /* raw, no query */
	const char		*query;		/* after '?', or "" */
	char			 seg[SEGS_MAX][SEG_MAX + 1]; /* decoded */
	size_t			 nseg;
	int			 bad_path;	/* too long or a trick: 404 */
	char			 base[300];	/* scheme://host[:port] */
	struct buf		 body;
	char			 reqid[17];	/* per-request reference */
	char			 now[RFC3339_LEN];

	/* Who asks (after http_auth): every model call takes it. */
	struct caller		 who;
	int			 authed;
	int			 user_refused;	/* a web user not mapped: 403 */

	/* Routing. */
	const struct dialect	*dialect;
	const char		*capture[4];	/* '*' segments of the route */
	unsigned		 allow;		/* methods of the matched path */

	/* What goes out. */
	int			 status;
	struct buf		 hdrs;		/* extra header lines */
	struct buf		 out;		/* buffered body */
	int			 sent;		/* headers written */
	int			 client_gone;
	/* a file's bytes sent (by X-Sendfile: its size, offloaded); -1 */
	long long		 file_bytes;
	int			 file_offloaded;

	/* An error's details for the dialect's body. */
	char			 err_msg[512];
	char			 err_target[400];
	enum err_reason		 err_reason;	/* what a dialect may name */
};

/* ---- requests (request.c) ---- */

/*
 * Fills r from the transport's CGI variables: method, path split into
 * percent-decoded segments, query, base URL, request id.  Q_NOTFOUND for
 * a path that is too long or plays tricks (".", "..", encoded '/', NUL);
 * the router answers it in the dialect of its prefix.
 */
enum qerr http_request_init(struct request *r, const struct transport *io,
	      const struct conf *c, struct store *s, enum prog p);
void	 http_request_free(struct request *r);
/* A request header by CGI name ("HTTP_AUTHORIZATION"), or NULL. */
const char *http_env(const struct request *r, const char *name);
/*
 * Reads the body (at most conf->max_body bytes, by CONTENT_LENGTH) into
 * r->body.  Q_TOOBIG over the limit, Q_INVALID if it ends early.
 */
enum qerr http_read_body(struct request *r);
/*
 * The value of a query parameter, decoded into out: 0 if present, -1 if
 * absent, -2 if present but not usable (a bad percent escape, a NUL,
 * longer than len, or not UTF-8 text).
 */
int	 http_query(const struct request *r, const char *name, char *out,
	     size_t len);

/* ---- responses (response.c) ---- */

const char *http_status_text(int status);
/* The status a library error maps to: the one place this is decided. */
int	 http_status_of_err(enum qerr e);
/* Adds one response header; CR and LF in value are dropped. */
void	 http_header(struct request *r, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Sends the status, the headers, Content-Type and Content-Length, and
 * r->out (unless the method is HEAD).  Once only.
 */
int	 http_send(struct request *r, int status, const char *ctype);
/*
 * What to do when a download is about to have gone out whole: in a 200
 * answer to a GET, every byte but the last handed to the web server
 * without error (not a HEAD, a 304, a range, or a client gone on the
 * way).  fn runs then, before the last byte goes: a client that has the
 * whole file finds fn's work done.  With a hook the program sends the
 * bytes itself (no X-Sendfile), so that it knows they went out.
 */
struct whole_hook {
	void	(*fn)(void *arg);
	void	*arg;
};

/*
 * Sends a finished file, open as fd (the caller closes it) at path, with
 * the download contract of SPEC section 7: ETag, Last-Modified,
 * Content-Disposition, Range, If-None-Match, HEAD.  With config sendfile
 * = lighttpd | apache a GET's body (and its Range) is left to the web
 * server through X-Sendfile, unless a whole hook is given (see below).
 */
enum qerr http_send_file(struct request *r, int fd, const char *path,
	      const char *ctype, const char *filename,
	      const struct whole_hook *hook);
/* A byte range of a download, inclusive. */
struct range {
	long long first, last;
};
/*
 * Parses a single "bytes=" range of RFC 9110 section 14.1.2 against a
 * file of size.  0: whole file (no usable Range); 1: *rg set; -1:
 * unsatisfiable (416).
 */
int	 http_parse_range(const char *h, long long size, struct range *rg);
/* True if an If-None-Match list names etag (or is "*"). */
int	 http_etag_listed(const char *list, const char *etag);
/*
 * Answers e in the route's dialect (or plain text without one), with
 * msg as the message; logs it with the request id.
 */
void	 http_error(struct request *r, enum qerr e, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * The i-th of the statuses a web server answers itself in front of the
 * programs (a malformed request, a body or header over its limits, a
 * program that is down), 0 past the last; and the static document of
 * one of them in dialect d's error format (no request id, no time), for
 * the web server's error pages under www/errors/ (docs/http.md).  -1 for
 * a status not in the list.
 */
int	 http_server_error(size_t i);
int	 http_error_document(const struct dialect *d, int status,
	     struct buf *out);

/* ---- routing (router.c) ---- */

typedef enum qerr (*handler_fn)(struct request *r);

struct route {
	enum prog		 prog;
	unsigned		 methods;
	const char		*pattern;	/* "/a/b/ * /c", '*' = one segment */
	const struct dialect	*dialect;
	handler_fn		 fn;
	/*
	 * ROUTE_AUTH_JOB: the handler shows one job and authenticates with
	 * http_auth_job (token and job in one transaction); until it does,
	 * r->who is CALLER_NONE, which the model shows nothing.  0: the
	 * router authenticates before the handler runs.
	 */
	unsigned		 flags;
};
#define ROUTE_AUTH_JOB	0x1
/* the handler authenticates (a signed download link): no credential */
#define ROUTE_NO_AUTH	0x2

extern const struct route	routes[];
extern const size_t		nroutes;

/* Picks the route for r and runs it; answers every error itself. */
void	 http_dispatch(struct request *r);

/* Runs a web program: FastCGI if started so, else one CGI request. */
int	 http_main(enum prog p, const char *name);

/* ---- authentication (auth.c) ---- */

/*
 * Authenticates r by its dialect's credential.  Q_UNAUTH without one,
 * Q_FORBIDDEN for an unknown, expired or revoked token (dialects map
 * that to their own status).  On Q_OK r->who is the caller.
 */
enum qerr http_auth(struct request *r);
/*
 * The poll's authentication: as http_auth, and job id loaded as the
 * caller into *j, both in one read transaction (job_get_by_token).  For
 * the routes marked ROUTE_AUTH_JOB, whose handler calls it instead of
 * the router calling http_auth.  The errors are http_auth's, then
 * job_get's (Q_NOTFOUND for a job the caller may not see).
 */
enum qerr http_auth_job(struct request *r, const char *id, struct job *j);

#endif
