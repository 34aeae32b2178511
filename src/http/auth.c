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

/* Authenticates r (see http.h). */
enum qerr
http_auth(struct request *r)
{
	struct token	tok;
	char		secret[256];
	enum qerr	e;

	if ((e = credential(r, secret, sizeof(secret))) != Q_OK)
		return e;
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
	if ((e = credential(r, secret, sizeof(secret))) != Q_OK)
		return e;
	e = job_get_by_token(r->store, secret, id, &r->who, j);
	memset(secret, 0, sizeof(secret));
	if (r->who.kind == CALLER_NONE)
		return e == Q_OK || e == Q_FORBIDDEN || e == Q_NOTFOUND ||
		    e == Q_INVALID ? refused(r) : e;
	remote(r, &r->who);
	r->authed = 1;
	return e;
}
