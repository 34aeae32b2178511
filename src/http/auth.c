/*
 * Authentication: the dialect says where its credential travels; the
 * token's SHA-256 is looked up in the store (token_auth).  Missing and
 * refused credentials are different errors, which each dialect maps to
 * its own status (Concur: 401 / 403; Graph and OSDI: 401 / 401).
 */
#include <string.h>

#include "dialect/dialect.h"
#include "http/http.h"

/* Authenticates r (see http.h). */
enum qerr
http_auth(struct request *r)
{
	struct token	tok;
	char		secret[256];
	enum qerr	e;

	if (r->dialect == NULL ||
	    r->dialect->credential(r, secret, sizeof(secret)) != 0) {
		snprintf(r->err_msg, sizeof(r->err_msg),
		    "authentication required");
		return Q_UNAUTH;
	}
	e = token_auth(r->store, secret, &tok);
	memset(secret, 0, sizeof(secret));
	if (e == Q_FORBIDDEN || e == Q_NOTFOUND || e == Q_INVALID) {
		snprintf(r->err_msg, sizeof(r->err_msg),
		    "the token is unknown, expired or revoked");
		return Q_FORBIDDEN;
	}
	if (e != Q_OK)
		return e;
	caller_of_token(&r->who, &tok);
	r->authed = 1;
	return Q_OK;
}
