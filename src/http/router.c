/*
 * Routing: the table in src/api/routes.c maps a method and a path pattern
 * to a handler and a dialect.  A pattern is literal segments and '*'
 * (exactly one segment, captured).  The router answers unknown paths
 * (404) and wrong methods (405 with Allow) itself, in the dialect that
 * owns the path's prefix.  It authenticates the caller before any
 * handler runs.
 */
#include <string.h>
#include <strings.h>

#include "dialect/dialect.h"
#include "http/http.h"
#include "quarry/log.h"

static const struct dialect *const dialects[] = {
	&dialect_concur,
	&dialect_graph,
	&dialect_goals_beta,
	&dialect_goals_v1,
	&dialect_osdi,
};

/* The dialect whose mount the raw path is under, or NULL. */
static const struct dialect *
dialect_of_path(const char *path)
{
	size_t i, n;

	for (i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
		n = strlen(dialects[i]->mount);
		if ((dialects[i]->nocase ? strncasecmp(path,
		    dialects[i]->mount, n) : strncmp(path, dialects[i]->mount,
		    n)) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return dialects[i];
	}
	return NULL;
}

/*
 * True if r's segments match pattern (its literal segments whatever
 * their case with nocase); the '*' segments are stored in cap (at most
 * 4).
 */
static int
match(const struct request *r, const char *pattern, int nocase,
    const char *cap[4])
{
	const char	*p = pattern, *e;
	size_t		 i = 0, n, ncap = 0;

	while (*p == '/') {
		p++;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0)
			break;
		if (i >= r->nseg)
			return 0;
		if (n == 1 && *p == '*') {
			if (ncap == 4)
				return 0;
			cap[ncap++] = r->seg[i];
		} else if (strlen(r->seg[i]) != n ||
		    (nocase ? strncasecmp(r->seg[i], p, n) :
		    strncmp(r->seg[i], p, n)) != 0)
			return 0;
		i++;
		p += n;
	}
	return i == r->nseg;
}

/* Routes r and runs its handler (see http.h). */
void
http_dispatch(struct request *r)
{
	const struct route	*hit = NULL;
	const char		*cap[4] = { NULL, NULL, NULL, NULL };
	const char		*tmp[4];
	unsigned		 m;
	size_t			 i;
	enum qerr		 e;

	r->dialect = dialect_of_path(r->path);
	if (r->bad_path) {
		http_error(r, Q_NOTFOUND, "no such resource");
		return;
	}
	for (i = 0; i < nroutes; i++) {
		if (!match(r, routes[i].pattern, routes[i].dialect->nocase,
		    tmp))
			continue;
		m = routes[i].methods;
		if (m & M_GET)
			m |= M_HEAD;
		r->allow |= m;
		if (hit == NULL && (r->method & m)) {
			hit = &routes[i];
			memcpy(cap, tmp, sizeof(cap));
		}
	}
	if (hit == NULL) {
		if (r->allow != 0)
			http_error(r, Q_METHOD, "%s is not allowed here",
			    r->method_name);
		else
			http_error(r, Q_NOTFOUND, "no such resource");
		return;
	}
	r->dialect = hit->dialect;
	memcpy(r->capture, cap, sizeof(cap));
	if (hit->prog != r->prog) {
		qlog(LOG_WARN, "%s reached the wrong program: check the web "
		    "server's routing (httpd-conf/)", r->path);
		http_error(r, Q_NOTFOUND, "no such resource");
		return;
	}
	if (r->store == NULL) {
		http_error(r, Q_BUSY, "the job store is not available");
		return;
	}
	/*
	 * Every route answers a caller only: who asks is known before the
	 * handler runs, or (ROUTE_AUTH_JOB) found with the job it shows.
	 */
	if ((hit->flags & (ROUTE_AUTH_JOB | ROUTE_NO_AUTH)) ||
	    (e = http_auth(r)) == Q_OK)
		e = hit->fn(r);
	if (e != Q_OK && !r->sent)
		http_error(r, e, NULL);
	else if (!r->sent)
		http_error(r, Q_STORE, "no response");
}
