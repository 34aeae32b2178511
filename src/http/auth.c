/*
 * Authentication: the dialect says where its credential travels; the
 * token's SHA-256 is looked up in the store (token_auth).  Missing and
 * refused credentials are different errors, which each dialect maps to
 * its own status (Concur: 401 / 403; Graph and OSDI: 401 / 401).
 */
#include <string.h>

#include "dialect/dialect.h"
#include "http/http.h"

/* The caller's secret into secret; Q_UNAUTH (with its message) if none. */
static enum qerr
credential(struct request *r, char *secret, size_t len)
{
	if (r->dialect == NULL || r->dialect->credential(r, secret, len) != 0) {
		snprintf(r->err_msg, sizeof(r->err_msg),
		    "authentication required");
		return Q_UNAUTH;
	}
	return Q_OK;
}

/* Where the request came from, for the audit trail. */
static void
remote(struct request *r, struct caller *who)
{
	const char *a = http_env(r, "REMOTE_ADDR");

	snprintf(who->addr, sizeof(who->addr), "%s", a ? a : "");
}

/* What a refused token answers; the audit trail keeps it. */
static enum qerr
refused(struct request *r)
{
	struct caller nobody;

	snprintf(r->err_msg, sizeof(r->err_msg),
	    "the token is unknown, expired or revoked");
	memset(&nobody, 0, sizeof(nobody));
	remote(r, &nobody);
	if (r->store != NULL)
		(void)audit_record(r->store, &nobody, "auth.refused", "token",
		    "", "unknown, expired or revoked token");
	return Q_FORBIDDEN;
}

/*
 * remote_user = on and no credential of the dialect: the person the web
 * server signed in.  REMOTE_USER is a variable of the server's own (CGI,
 * RFC 3875 section 4.1.11); a client's "Remote-User:" header arrives as
 * HTTP_REMOTE_USER and is never read.  A request the server let through
 * without signing anyone in means its authentication is not configured:
 * refused with a 500 and an error in the log, never served anonymously.
 */
static enum qerr
web_user(struct request *r)
{
	const char	*u = http_env(r, "REMOTE_USER");
	struct caller	 nobody;
	struct token	 tok;
	enum qerr	 e;

	if (u == NULL || *u == '\0') {
		snprintf(r->err_msg, sizeof(r->err_msg), "remote_user = on, "
		    "but the web server signed no one in (no REMOTE_USER): its "
		    "authentication must cover every request without a token");
		return Q_CONFIG;
	}
	if ((e = user_auth(r->store, u, &tok)) == Q_OK) {
		caller_of_token(&r->who, &tok);
		remote(r, &r->who);
		r->authed = 1;
		return Q_OK;
	}
	if (e != Q_FORBIDDEN)
		return e;
	/* signed in by the web server, but not one of Quarry's users */
	snprintf(r->err_msg, sizeof(r->err_msg), "the web user is not mapped "
	    "to a tenant of this server (quarryctl user add)");
	r->user_refused = 1;
	memset(&nobody, 0, sizeof(nobody));
	remote(r, &nobody);
	(void)audit_record(r->store, &nobody, "auth.refused", "user", "",
	    user_name_valid(u) ? u : "(a name that is not text)");
	return Q_FORBIDDEN;
}

/* Authenticates r (see http.h). */
enum qerr
http_auth(struct request *r)
{
	struct token	tok;
	char		secret[256];
	enum qerr	e;

	if ((e = credential(r, secret, sizeof(secret))) != Q_OK)
		return r->conf != NULL && r->conf->remote_user ? web_user(r) : e;
	e = token_auth(r->store, secret, &tok);
	memset(secret, 0, sizeof(secret));
	if (e == Q_FORBIDDEN || e == Q_NOTFOUND || e == Q_INVALID)
		return refused(r);
	if (e != Q_OK)
		return e;
	caller_of_token(&r->who, &tok);
	remote(r, &r->who);
	r->authed = 1;
	return Q_OK;
}

/* Authenticates r and loads job id in one transaction (see http.h). */
enum qerr
http_auth_job(struct request *r, const char *id, struct job *j)
{
	char		secret[256];
	enum qerr	e;

	memset(j, 0, sizeof(*j));
	if ((e = credential(r, secret, sizeof(secret))) != Q_OK) {
		if (r->conf == NULL || !r->conf->remote_user)
			return e;
		/* a web user: two transactions, as with any other route */
		if ((e = web_user(r)) != Q_OK)
			return e;
		return job_get(r->store, &r->who, id, j);
	}
	e = job_get_by_token(r->store, secret, id, &r->who, j);
	memset(secret, 0, sizeof(secret));
	if (r->who.kind == CALLER_NONE)
		return e == Q_OK || e == Q_FORBIDDEN || e == Q_NOTFOUND ||
		    e == Q_INVALID ? refused(r) : e;
	remote(r, &r->who);
	r->authed = 1;
	return e;
}
