/*
 * Unit tests of the HTTP side: request parsing (path tricks, query
 * strings), routing (404, 405 with Allow, the program a route belongs
 * to), authentication, the Concur dialect's XML parsing and rendering,
 * and the download contract.  Requests go through an in-memory transport
 * into the real router and handlers, over a real store.
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>

#include <json-c/json.h>

#include "api/api.h"
#include "dialect/dialect.h"
#include "http/http.h"
#include "quarry/model.h"

#include "memio.h"

/* The world of a dispatch test: a tenant with a definition and tokens. */
struct world {
	struct tu	*t;
	char		 admin[TOKEN_SECRET_LEN + 1];
	char		 other[TOKEN_SECRET_LEN + 1];	/* another tenant */
	struct token	 admin_tok;
	char		 def[ID_LEN + 1];
	char		 auth[TOKEN_SECRET_LEN + 16];
	char		 auth_other[TOKEN_SECRET_LEN + 16];
};

static struct world W;

/*
 * Runs one request through the router as program p and returns the
 * status; the whole CGI output is left in out (caller frees).
 */
static int
run(enum prog p, const char *method, const char *uri, const char *auth,
    const char *body, const char *extra, struct buf *out)
{
	struct mem		 m;
	struct transport	 io = { mem_read, mem_write, mem_getenv, &m, NULL, NULL };
	struct request		 r;
	char			 mline[64], uline[PATH_MAX_LEN + 64];
	char			 aline[256], cl[64];
	int			 i = 0, status;

	memset(&m, 0, sizeof(m));
	snprintf(mline, sizeof(mline), "REQUEST_METHOD=%s", method);
	snprintf(uline, sizeof(uline), "REQUEST_URI=%s", uri);
	m.env[i++] = mline;
	m.env[i++] = uline;
	m.env[i++] = "HTTP_HOST=example.test:8080";
	if (auth != NULL) {
		snprintf(aline, sizeof(aline), "HTTP_AUTHORIZATION=%s", auth);
		m.env[i++] = aline;
	}
	if (body != NULL) {
		m.body = body;
		m.body_len = strlen(body);
		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", m.body_len);
		m.env[i++] = cl;
	}
	if (extra != NULL)
		m.env[i++] = extra;
	http_request_init(&r, &io, &W.t->conf, W.t->s, p);
	http_dispatch(&r);
	status = r.status;
	http_request_free(&r);
	*out = m.out;
	return status;
}

static int
setup_world(void **state)
{
	static const char *doc =
	    "{\"tenant\":\"acme\",\"name\":\"Std Extract\","
	    "\"source\":{\"dataset\":\"expenses\"},"
	    "\"columns\":[\"id\",\"amount\"],\"formats\":[\"csv\"]}";
	struct definition	 d;
	struct token		 tok;
	char			 err[256], csvp[PATH_MAX];
	FILE			*f;

	if (tu_setup_store(state) != 0)
		return -1;
	memset(&W, 0, sizeof(W));
	W.t = *state;
	if (token_create(W.t->s, "acme", ROLE_ADMIN, "a", 0, W.admin,
	    &W.admin_tok) != Q_OK ||
	    token_create(W.t->s, "other", ROLE_ADMIN, "o", 0, W.other,
	    &tok) != Q_OK)
		return -1;
	snprintf(W.auth, sizeof(W.auth), "OAuth %s", W.admin);
	snprintf(W.auth_other, sizeof(W.auth_other), "OAuth %s", W.other);
	tu_path(csvp, W.t->dir, "e.csv");
	if (tu_write_file(csvp, "id,amount\n1,2.50\n2,3\n") != 0 ||
	    (f = fopen(csvp, "r")) == NULL)
		return -1;
	if (dataset_import(W.t->s, "acme", "expenses", f, 0, err,
	    sizeof(err)) != Q_OK) {
		fclose(f);
		return -1;
	}
	fclose(f);
	if (tu_definition(W.t->s, doc, &d) != Q_OK)
		return -1;
	memcpy(W.def, d.id, sizeof(W.def));
	definition_free(&d);
	return 0;
}

/* ---- request parsing ---- */

static void
test_path_tricks_are_404(void **state)
{
	static const char *bad[] = {
		"/api/expense/extract/v1.0/../x",
		"/api/expense/extract/v1.0/%2e%2e/x",
		"/api/expense/extract/v1.0/a%2Fb",
		"/api/expense/extract/v1.0/a%00b",
		"/api/expense/extract/v1.0/a%zz",
		"/api/expense/extract/v1.0/./x",
		"/api/expense/extract/v1.0//x",
		"/api/expense/extract/v1.0/a%5cb",
	};
	struct buf	out;
	size_t		i;
	char		longp[PATH_MAX_LEN + 100];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run(PROG_DEFINITIONS, "GET", bad[i], W.auth,
		    NULL, NULL, &out), 404);
		assert_non_null(strstr(buf_str(&out), "<Error xmlns=\""
		    CONCUR_NS "\">"));
		buf_free(&out);
	}
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, "/api/expense/extract/v1.0/", 26);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", longp, W.auth, NULL,
	    NULL, &out), 404);
	buf_free(&out);
}

static void
test_query_decoding(void **state)
{
	struct mem		 m;
	struct transport	 io = { mem_read, mem_write, mem_getenv, &m, NULL, NULL };
	struct request		 r;
	char			 v[64];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.env[0] = "REQUEST_METHOD=GET";
	m.env[1] = "REQUEST_URI=/osdi/v1/exports?page=2&name=a%20b+c&x=%zz";
	assert_int_equal(http_request_init(&r, &io, &W.t->conf, W.t->s,
	    PROG_JOBS), Q_OK);
	assert_int_equal(r.nseg, 3);
	assert_string_equal(r.seg[2], "exports");
	assert_int_equal(http_query(&r, "page", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	assert_int_equal(http_query(&r, "name", v, sizeof(v)), 0);
	assert_string_equal(v, "a b c");
	assert_int_not_equal(http_query(&r, "x", v, sizeof(v)), 0);
	assert_int_not_equal(http_query(&r, "missing", v, sizeof(v)), 0);
	http_request_free(&r);
}

/* ---- routing ---- */

static void
test_unknown_path_and_method(void **state)
{
	struct buf out;

	(void)state;
	assert_int_equal(run(PROG_DEFINITIONS, "GET",
	    "/api/expense/extract/v1.0/x/y/z/w/v/u", W.auth, NULL, NULL,
	    &out), 404);
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "DELETE",
	    "/api/expense/extract/v1.0/", W.auth, NULL, NULL, &out), 405);
	assert_non_null(strstr(buf_str(&out), "Allow: GET, HEAD\r\n"));
	buf_free(&out);
	/* A route served by another program is not served here. */
	assert_int_equal(run(PROG_STATUS, "GET", "/api/expense/extract/v1.0/",
	    W.auth, NULL, NULL, &out), 404);
	buf_free(&out);
	/* Outside every dialect: plain text 404. */
	assert_int_equal(run(PROG_JOBS, "GET", "/nowhere", W.auth, NULL,
	    NULL, &out), 404);
	assert_non_null(strstr(buf_str(&out), "text/plain"));
	buf_free(&out);
}

/* ---- authentication and tenants ---- */

static void
test_auth_statuses(void **state)
{
	struct buf	out;
	char		uri[256];

	(void)state;
	assert_int_equal(run(PROG_DEFINITIONS, "GET",
	    "/api/expense/extract/v1.0/", NULL, NULL, NULL, &out), 401);
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "GET",
	    "/api/expense/extract/v1.0/", "Bearer x", NULL, NULL, &out), 401);
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "GET",
	    "/api/expense/extract/v1.0/", "OAuth nope", NULL, NULL, &out),
	    403);
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "GET",
	    "/api/expense/extract/v1.0/", W.auth, NULL, NULL, &out), 200);
	assert_non_null(strstr(buf_str(&out), W.def));
	buf_free(&out);
	/* Another tenant neither lists nor reads it. */
	assert_int_equal(run(PROG_DEFINITIONS, "GET",
	    "/api/expense/extract/v1.0/", W.auth_other, NULL, NULL, &out),
	    200);
	assert_null(strstr(buf_str(&out), W.def));
	buf_free(&out);
	snprintf(uri, sizeof(uri), "/api/expense/extract/v1.0/%s", W.def);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", uri, W.auth_other,
	    NULL, NULL, &out), 404);
	buf_free(&out);
	assert_int_equal(token_revoke(W.t->s, W.admin_tok.id), Q_OK);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", uri, W.auth, NULL, NULL,
	    &out), 403);
	buf_free(&out);
}

/*
 * The poll (issue 11, item 10): a job's status reads the token and the
 * job in one transaction, in every dialect, and still answers a missing
 * credential, a refused token, another tenant's job and an id that is
 * no job as before.
 */
static void
test_the_poll_is_one_transaction(void **state)
{
	struct export_request	 rq = { W.def, NULL, NULL, NULL };
	struct refusal		 why;
	struct caller		 who;
	struct job		 j;
	struct buf		 out;
	char			 uri[3][256], id[ID_LEN + 1], osdi_tok[128];
	char			 existing[ID_LEN + 1];
	char			 bearer[128], bearer_other[128];
	const char		*auth[3];
	unsigned long long	 before;
	size_t			 d;

	(void)state;
	caller_of_token(&who, &W.admin_tok);
	assert_int_equal(job_create(W.t->s, &who, &rq, &j, existing, &why),
	    Q_OK);
	memcpy(id, j.id, sizeof(id));
	job_free(&j);
	snprintf(uri[0], sizeof(uri[0]),
	    "/api/expense/extract/v1.0/%s/job/%s/status", W.def, id);
	snprintf(uri[1], sizeof(uri[1]), "/api/v1/exportJobs/%s", id);
	snprintf(uri[2], sizeof(uri[2]), "/osdi/v1/exports/%s", id);
	snprintf(bearer, sizeof(bearer), "Bearer %s", W.admin);
	snprintf(bearer_other, sizeof(bearer_other), "Bearer %s", W.other);
	snprintf(osdi_tok, sizeof(osdi_tok), "HTTP_OSDI_API_TOKEN=%s",
	    W.admin);
	auth[0] = W.auth;
	auth[1] = bearer;
	auth[2] = NULL;
	for (d = 0; d < 3; d++) {
		before = store_txns(W.t->s);
		assert_int_equal(run(PROG_STATUS, "GET", uri[d], auth[d], NULL,
		    d == 2 ? osdi_tok : NULL, &out), 200);
		assert_non_null(strstr(buf_str(&out), id));
		buf_free(&out);
		assert_int_equal(store_txns(W.t->s) - before, 1);
	}
	/* no credential; a token no one has: no job read at all */
	before = store_txns(W.t->s);
	assert_int_equal(run(PROG_STATUS, "GET", uri[1], NULL, NULL, NULL,
	    &out), 401);
	buf_free(&out);
	assert_int_equal(store_txns(W.t->s) - before, 0);
	assert_int_equal(run(PROG_STATUS, "GET", uri[0], "OAuth nope", NULL,
	    NULL, &out), 403);
	assert_null(strstr(buf_str(&out), id));
	buf_free(&out);
	assert_int_equal(run(PROG_STATUS, "GET", uri[1], "Bearer nope", NULL,
	    NULL, &out), 401);
	buf_free(&out);
	/* another tenant's admin: the job is not there for it */
	assert_int_equal(run(PROG_STATUS, "GET", uri[1], bearer_other, NULL,
	    NULL, &out), 404);
	assert_null(strstr(buf_str(&out), id));
	buf_free(&out);
	/* not a job id, a job of another definition */
	assert_int_equal(run(PROG_STATUS, "GET", "/api/v1/exportJobs/x",
	    bearer, NULL, NULL, &out), 404);
	buf_free(&out);
	snprintf(uri[0], sizeof(uri[0]), "/api/expense/extract/v1.0/"
	    "AAAAAAAAAAAAAAAAAAAAAA/job/%s/status", id);
	assert_int_equal(run(PROG_STATUS, "GET", uri[0], W.auth, NULL, NULL,
	    &out), 404);
	buf_free(&out);
	/* a bad token with a bad id is a bad token */
	assert_int_equal(run(PROG_STATUS, "GET", "/api/v1/exportJobs/x",
	    "Bearer nope", NULL, NULL, &out), 401);
	buf_free(&out);
	/* revoked: refused at once */
	assert_int_equal(token_revoke(W.t->s, W.admin_tok.id), Q_OK);
	assert_int_equal(run(PROG_STATUS, "GET", uri[1], bearer, NULL, NULL,
	    &out), 401);
	assert_null(strstr(buf_str(&out), id));
	buf_free(&out);
}

/*
 * GET /api/v1/me: the caller's token id, name, tenant and role, from
 * definitions.fcgi only; 401 without a token, 405 for another method.
 */
/*
 * remote_user: off (the default), REMOTE_USER is never read; on, it is the
 * mapped web user's; a client header never stands for it; a request the
 * web server signed no one in for is a 500; a token still wins.
 */
/*
 * A running build whose source knows its size shows the share read as
 * Graph's progress.percentComplete (whole percent); one that does not,
 * or a job not running, has none.
 */
static void
test_graph_percent_complete(void **state)
{
	struct caller	sys;
	struct job	j, got;
	struct buf	out;
	char		existing[ID_LEN + 1], bearer[128], uri[128];

	(void)state;
	caller_system(&sys, "acme");
	assert_int_equal(tu_job(W.t->s, &sys, W.def, NULL, NULL, &j,
	    existing), Q_OK);
	snprintf(bearer, sizeof(bearer), "Bearer %s", W.admin);
	snprintf(uri, sizeof(uri), "/api/v1/exportJobs/%s", j.id);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL, NULL,
	    &out), 200);
	assert_null(strstr(buf_str(&out), "percentComplete"));
	buf_free(&out);
	assert_int_equal(job_claim(W.t->s, 4242, 30, &got), Q_OK);
	assert_string_equal(got.id, j.id);
	job_free(&got);
	assert_int_equal(job_progress(W.t->s, j.id, 4242, 30, 10, 100, 337),
	    Q_OK);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL, NULL,
	    &out), 200);
	assert_non_null(strstr(buf_str(&out), "\"progress\":{\"rowsWritten\":"
	    "10,\"bytesWritten\":100,\"percentComplete\":33}"));
	buf_free(&out);
	assert_int_equal(job_progress(W.t->s, j.id, 4242, 30, 20, 200, -1),
	    Q_OK);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL, NULL,
	    &out), 200);
	assert_null(strstr(buf_str(&out), "percentComplete"));
	buf_free(&out);
	job_free(&j);
}

static void
test_remote_user(void **state)
{
	struct token	u;
	struct buf	out;
	char		bearer[128];

	(void)state;
	assert_int_equal(user_add(W.t->s, "alice", "acme", ROLE_USER, &u),
	    Q_OK);
	/* off: the server's variable is ignored */
	W.t->conf.remote_user = 0;
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", NULL,
	    NULL, "REMOTE_USER=alice", &out), 401);
	buf_free(&out);
	W.t->conf.remote_user = 1;
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", NULL,
	    NULL, "REMOTE_USER=alice", &out), 200);
	assert_non_null(strstr(buf_str(&out), "\"displayName\":\"alice\","
	    "\"tenant\":\"acme\",\"role\":\"user\"}"));
	assert_non_null(strstr(buf_str(&out), u.id));
	buf_free(&out);
	/* the other dialects and the poll of a job take it too */
	assert_int_equal(run(PROG_DEFINITIONS, "GET",
	    "/api/expense/extract/v1.0/", NULL, NULL, "REMOTE_USER=alice",
	    &out), 200);
	buf_free(&out);
	assert_int_equal(run(PROG_STATUS, "GET",
	    "/api/v1/exportJobs/AAAAAAAAAAAAAAAAAAAAAA", NULL, NULL,
	    "REMOTE_USER=alice", &out), 404);
	buf_free(&out);
	/* a client's header is not the server's variable */
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", NULL,
	    NULL, "HTTP_REMOTE_USER=alice", &out), 500);
	assert_non_null(strstr(buf_str(&out), "signed no one in"));
	buf_free(&out);
	assert_int_equal(run(PROG_STATUS, "GET",
	    "/api/v1/exportJobs/AAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, NULL,
	    &out), 500);
	buf_free(&out);
	/* signed in, not mapped: 403, in every dialect's words */
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", NULL,
	    NULL, "REMOTE_USER=mallory", &out), 403);
	assert_non_null(strstr(buf_str(&out), "accessDenied"));
	buf_free(&out);
	assert_int_equal(run(PROG_JOBS, "GET", "/osdi/v1/exports",
	    NULL, NULL, "REMOTE_USER=mallory", &out), 403);
	buf_free(&out);
	/* a token is the caller, whoever the server signed in */
	snprintf(bearer, sizeof(bearer), "Bearer %s", W.admin);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", bearer,
	    NULL, "REMOTE_USER=alice", &out), 200);
	assert_non_null(strstr(buf_str(&out), W.admin_tok.id));
	assert_null(strstr(buf_str(&out), "alice"));
	buf_free(&out);
	/* removed: refused */
	assert_int_equal(user_remove(W.t->s, "alice"), Q_OK);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", NULL,
	    NULL, "REMOTE_USER=alice", &out), 403);
	buf_free(&out);
	W.t->conf.remote_user = 0;
}

static void
test_graph_me(void **state)
{
	struct token	tok;
	struct buf	out;
	char		secret[TOKEN_SECRET_LEN + 1], bearer[128], want[256];

	(void)state;
	snprintf(bearer, sizeof(bearer), "Bearer %s", W.admin);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", bearer,
	    NULL, NULL, &out), 200);
	snprintf(want, sizeof(want), "\r\n\r\n{\"id\":\"%s\",\"displayName\":"
	    "\"a\",\"tenant\":\"acme\",\"role\":\"admin\"}\n",
	    W.admin_tok.id);
	assert_non_null(strstr(buf_str(&out), want));
	assert_non_null(strstr(buf_str(&out), "Content-Type: application/json"));
	assert_null(strstr(buf_str(&out), W.admin));
	buf_free(&out);
	/* a user without a name */
	assert_int_equal(token_create(W.t->s, "acme", ROLE_USER, NULL, 0,
	    secret, &tok), Q_OK);
	snprintf(bearer, sizeof(bearer), "Bearer %s", secret);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me?x=1",
	    bearer, NULL, NULL, &out), 200);
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"displayName\":null,"
	    "\"tenant\":\"acme\",\"role\":\"user\"}\n", tok.id);
	assert_non_null(strstr(buf_str(&out), want));
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me", NULL,
	    NULL, NULL, &out), 401);
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "POST", "/api/v1/me", bearer,
	    "{}", NULL, &out), 405);
	assert_non_null(strstr(buf_str(&out), "Allow: GET, HEAD\r\n"));
	buf_free(&out);
	/* the other programs do not serve it; /me/x is no resource */
	assert_int_equal(run(PROG_JOBS, "GET", "/api/v1/me", bearer, NULL,
	    NULL, &out), 404);
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/me/x", bearer,
	    NULL, NULL, &out), 404);
	buf_free(&out);
}

/* Counts the times needle occurs in hay. */
static size_t
occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/*
 * Graph's createdBy: the owner's token id and name; a user polling its
 * own job, and an admin its own, read nothing more than the poll does;
 * an admin's read of another token's job reads that token's name, once
 * per answer however many of its jobs a list shows; a nameless token's
 * displayName and a job of the system are null.
 */
static void
test_graph_created_by(void **state)
{
	static const char *docs[2] = {
	    "{\"tenant\":\"acme\",\"name\":\"B\","
	    "\"source\":{\"dataset\":\"expenses\"},\"formats\":[\"csv\"]}",
	    "{\"tenant\":\"acme\",\"name\":\"C\","
	    "\"source\":{\"dataset\":\"expenses\"},\"formats\":[\"csv\"]}" };
	struct export_request	 rq = { NULL, NULL, NULL, NULL };
	struct refusal		 why;
	struct definition	 d;
	struct caller		 una, anon, sys;
	struct token		 una_tok, anon_tok;
	struct job		 j;
	struct buf		 out;
	char			 una_secret[TOKEN_SECRET_LEN + 1];
	char			 anon_secret[TOKEN_SECRET_LEN + 1];
	char			 defs[3][ID_LEN + 1], ids[4][ID_LEN + 1];
	char			 existing[ID_LEN + 1], uri[256], want[256];
	char			 bearer[128], bearer_una[128], bearer_anon[128];
	unsigned long long	 before;
	size_t			 i;

	(void)state;
	memcpy(defs[0], W.def, sizeof(defs[0]));
	for (i = 0; i < 2; i++) {
		assert_int_equal(tu_definition(W.t->s, docs[i], &d), Q_OK);
		memcpy(defs[i + 1], d.id, sizeof(defs[i + 1]));
		definition_free(&d);
	}
	assert_int_equal(token_create(W.t->s, "acme", ROLE_USER, "Una", 0,
	    una_secret, &una_tok), Q_OK);
	assert_int_equal(token_create(W.t->s, "acme", ROLE_USER, NULL, 0,
	    anon_secret, &anon_tok), Q_OK);
	caller_of_token(&una, &una_tok);
	caller_of_token(&anon, &anon_tok);
	caller_system(&sys, "acme");
	snprintf(bearer, sizeof(bearer), "Bearer %s", W.admin);
	snprintf(bearer_una, sizeof(bearer_una), "Bearer %s", una_secret);
	snprintf(bearer_anon, sizeof(bearer_anon), "Bearer %s", anon_secret);
	/* Una's jobs of A and B, the nameless token's of A, the system's of C */
	for (i = 0; i < 4; i++) {
		rq.def_id = defs[i < 2 ? i : i == 2 ? 0 : 2];
		assert_int_equal(job_create(W.t->s, i < 2 ? &una : i == 2 ?
		    &anon : &sys, &rq, &j, existing, &why), Q_OK);
		memcpy(ids[i], j.id, sizeof(ids[i]));
		job_free(&j);
	}

	/* the owner's own poll: one transaction, its own name */
	snprintf(want, sizeof(want), "\"format\":\"csv\",\"createdBy\":"
	    "{\"user\":{\"id\":\"%s\",\"displayName\":\"Una\"}},"
	    "\"createdDateTime\":", una_tok.id);
	snprintf(uri, sizeof(uri), "/api/v1/exportJobs/%s", ids[0]);
	before = store_txns(W.t->s);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer_una, NULL, NULL,
	    &out), 200);
	assert_int_equal(store_txns(W.t->s) - before, 1);
	assert_non_null(strstr(buf_str(&out), want));
	buf_free(&out);
	/* the admin's poll of it: the token's name read too */
	before = store_txns(W.t->s);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL, NULL,
	    &out), 200);
	assert_int_equal(store_txns(W.t->s) - before, 2);
	assert_non_null(strstr(buf_str(&out), want));
	buf_free(&out);
	/* a token without a name, the system's job */
	snprintf(want, sizeof(want), "\"createdBy\":{\"user\":{\"id\":"
	    "\"%s\",\"displayName\":null}}", anon_tok.id);
	snprintf(uri, sizeof(uri), "/api/v1/exportJobs/%s", ids[2]);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL, NULL,
	    &out), 200);
	assert_non_null(strstr(buf_str(&out), want));
	buf_free(&out);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer_anon, NULL, NULL,
	    &out), 200);
	assert_non_null(strstr(buf_str(&out), want));
	buf_free(&out);
	snprintf(uri, sizeof(uri), "/api/v1/exportJobs/%s", ids[3]);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL, NULL,
	    &out), 200);
	assert_non_null(strstr(buf_str(&out), "\"createdBy\":null,"));
	buf_free(&out);

	/*
	 * The admin's list of the four: the token, the index, each job,
	 * and each of the two tokens' names once.
	 */
	before = store_txns(W.t->s);
	assert_int_equal(run(PROG_JOBS, "GET", "/api/v1/exportJobs", bearer,
	    NULL, NULL, &out), 200);
	assert_int_equal(store_txns(W.t->s) - before, 2 + 4 + 2);
	assert_int_equal(occurrences(buf_str(&out), "\"displayName\":"
	    "\"Una\""), 2);
	assert_int_equal(occurrences(buf_str(&out), "\"displayName\":null"),
	    1);
	assert_int_equal(occurrences(buf_str(&out), "\"createdBy\":null"),
	    1);
	buf_free(&out);

	/* a revoked token's jobs keep its name */
	assert_int_equal(token_revoke(W.t->s, una_tok.id), Q_OK);
	snprintf(uri, sizeof(uri), "/api/v1/exportJobs/%s", ids[1]);
	assert_int_equal(run(PROG_STATUS, "GET", uri, bearer, NULL, NULL,
	    &out), 200);
	assert_non_null(strstr(buf_str(&out), "\"displayName\":\"Una\""));
	buf_free(&out);
}

/* ---- jobs through the handlers ---- */

static void
test_create_conflict_and_body_checks(void **state)
{
	struct buf	out;
	char		uri[256], body[512];
	size_t		n = 0;

	(void)state;
	snprintf(uri, sizeof(uri), "/api/expense/extract/v1.0/%s/job", W.def);
	assert_int_equal(run(PROG_JOBS, "POST", uri, W.auth,
	    "<definition><id>http://example.test:8080/api/expense/extract/"
	    "v1.0/AAAAAAAAAAAAAAAAAAAAAA</id></definition>", NULL, &out), 400);
	buf_free(&out);
	assert_int_equal(run(PROG_JOBS, "POST", uri, W.auth,
	    "<!DOCTYPE d [<!ENTITY x \"y\">]><definition>&x;</definition>",
	    NULL, &out), 400);
	buf_free(&out);
	snprintf(body, sizeof(body), "<definition xmlns=\"" CONCUR_NS "\">"
	    "<id>http://example.test:8080/api/expense/extract/v1.0/%s</id>"
	    "</definition>", W.def);
	assert_int_equal(run(PROG_JOBS, "POST", uri, W.auth, body, NULL,
	    &out), 201);
	assert_non_null(strstr(buf_str(&out), "Location: http://example.test:"
	    "8080/api/expense/extract/v1.0/"));
	assert_non_null(strstr(buf_str(&out), "<status>Queued</status>"));
	buf_free(&out);
	assert_int_equal(run(PROG_JOBS, "POST", uri, W.auth, "", NULL, &out),
	    409);
	assert_non_null(strstr(buf_str(&out), "Location: "));
	buf_free(&out);
	/* Another tenant cannot create a job of it. */
	assert_int_equal(run(PROG_JOBS, "POST", uri, W.auth_other, "", NULL,
	    &out), 404);
	buf_free(&out);
	assert_int_equal(run(PROG_JOBS, "GET", uri, W.auth, NULL, NULL, &out),
	    200);
	for (const char *p = buf_str(&out); (p = strstr(p, "<job>")); p++)
		n++;
	assert_int_equal(n, 1);
	buf_free(&out);
}

/*
 * A query option whose value cannot be read (a bad percent escape, over
 * the length limit, not UTF-8, a number out of range) is 400 naming the
 * option, never ignored.
 */
static void
test_bad_query_options_are_400(void **state)
{
	static const struct { const char *query, *option; } cases[] = {
		{ "$filter=%", "$filter" },
		{ "$filter=%zz", "$filter" },
		{ "$filter=status%20eq%20%27%C0%AF%27", "$filter" },
		{ "$top=%", "$top" },
		{ "$top=99999999999999999999999", "$top" },
		{ "$skiptoken=%zz", "$skiptoken" },
		{ "$skiptoken=99999999999999999999999", "$skiptoken" },
	};
	struct buf	out;
	char		uri[2048], auth[TOKEN_SECRET_LEN + 16], target[64];
	size_t		i;

	(void)state;
	snprintf(auth, sizeof(auth), "Bearer %s", W.admin);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(uri, sizeof(uri), "/api/v1/exportJobs?%s",
		    cases[i].query);
		if (run(PROG_JOBS, "GET", uri, auth, NULL, NULL, &out) != 400)
			fail_msg("%s: not 400: %s", cases[i].query,
			    buf_str(&out));
		snprintf(target, sizeof(target), "\"target\":\"%s\"",
		    cases[i].option);
		if (strstr(buf_str(&out), target) == NULL)
			fail_msg("%s: no %s in %s", cases[i].query, target,
			    buf_str(&out));
		buf_free(&out);
	}
	/* over the length limit */
	memset(uri, 0, sizeof(uri));
	strcpy(uri, "/api/v1/exportJobs?$filter=");
	memset(uri + strlen(uri), 'a', 600);
	assert_int_equal(run(PROG_JOBS, "GET", uri, auth, NULL, NULL, &out),
	    400);
	buf_free(&out);
	/* OSDI's paging, likewise */
	snprintf(uri, sizeof(uri), "/osdi/v1/exports?page=%%zz&"
	    "osdi-api-token=%s", W.admin);
	assert_int_equal(run(PROG_JOBS, "GET", uri, NULL, NULL, NULL, &out),
	    400);
	assert_non_null(strstr(buf_str(&out), "\"hint\":\"page\""));
	buf_free(&out);
}

/*
 * Text that is not strict UTF-8 in a JSON body is 400 naming the member,
 * and nothing is stored: no job, no definition.
 */
static void
test_bodies_must_be_utf8_text(void **state)
{
	struct buf	out;
	char		body[512], auth[TOKEN_SECRET_LEN + 16];

	(void)state;
	snprintf(auth, sizeof(auth), "Bearer %s", W.admin);
	snprintf(body, sizeof(body), "{\"definitionId\":\"%s\","
	    "\"displayName\":\"a\xc0\xaf" "b\"}", W.def);
	assert_int_equal(run(PROG_JOBS, "POST", "/api/v1/exportJobs", auth,
	    body, NULL, &out), 400);
	assert_non_null(strstr(buf_str(&out), "\"target\":\"displayName\""));
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "POST", "/api/v1/definitions",
	    auth, "{\"name\":\"x\\ufffe\",\"source\":{\"dataset\":"
	    "\"expenses\"}}", NULL, &out), 400);
	assert_non_null(strstr(buf_str(&out), "\"target\":\"name\""));
	buf_free(&out);
	/* nothing was stored: the tenant has its one definition, no job */
	assert_int_equal(run(PROG_JOBS, "GET", "/api/v1/exportJobs", auth,
	    NULL, NULL, &out), 200);
	assert_non_null(strstr(buf_str(&out), "{\"value\":[]}"));
	buf_free(&out);
	assert_int_equal(run(PROG_DEFINITIONS, "GET", "/api/v1/definitions",
	    auth, NULL, NULL, &out), 200);
	assert_null(strstr(strstr(buf_str(&out), W.def), "\"id\""));
	buf_free(&out);
}

/*
 * An OSDI link to a definition that is a bare scheme ("http://") is a
 * 400, not a read past the end of the string (ASan watches this one).
 */
static void
test_osdi_href_of_a_scheme_alone(void **state)
{
	static const char *const hrefs[] = { "http://", "https://", "http:/",
	    "https:", "", "http://x", "/api/v1/definitions/" };
	struct buf	out;
	char		body[256], hdr[TOKEN_SECRET_LEN + 32];
	size_t		i;

	(void)state;
	snprintf(hdr, sizeof(hdr), "HTTP_OSDI_API_TOKEN=%s", W.admin);
	for (i = 0; i < sizeof(hrefs) / sizeof(hrefs[0]); i++) {
		snprintf(body, sizeof(body), "{\"_links\":{\"osdi:resource\":"
		    "{\"href\":\"%s\"}}}", hrefs[i]);
		assert_int_equal(run(PROG_JOBS, "POST", "/osdi/v1/exports",
		    NULL, body, hdr, &out), 400);
		buf_free(&out);
	}
}

static void
test_body_over_limit_is_413(void **state)
{
	struct buf	 out;
	char		 uri[256], *big;

	(void)state;
	W.t->conf.max_body = 100;
	big = calloc(1, 200);
	assert_non_null(big);
	memset(big, ' ', 199);
	snprintf(uri, sizeof(uri), "/api/expense/extract/v1.0/%s/job", W.def);
	assert_int_equal(run(PROG_JOBS, "POST", uri, W.auth, big, NULL, &out),
	    413);
	buf_free(&out);
	free(big);
}

/* ---- the Concur dialect ---- */

static void
test_concur_parse(void **state)
{
	char	id[256], err[256];

	(void)state;
	assert_int_equal(concur_parse_job_request("", 0, id, sizeof(id), err,
	    sizeof(err)), Q_OK);
	assert_string_equal(id, "");
	assert_int_equal(concur_parse_job_request(" \r\n", 3, id, sizeof(id),
	    err, sizeof(err)), Q_OK);
#define P(s) concur_parse_job_request(s, strlen(s), id, sizeof(id), err, \
	    sizeof(err))
	assert_int_equal(P("<definition><id> http://h/x </id></definition>"),
	    Q_OK);
	assert_string_equal(id, "http://h/x");
	assert_int_equal(P("<definition xmlns=\"" CONCUR_NS "\"/>"), Q_OK);
	assert_string_equal(id, "");
	assert_int_equal(P("<definition xmlns=\"urn:other\"/>"), Q_INVALID);
	assert_int_equal(P("<job/>"), Q_INVALID);
	assert_int_equal(P("<definition><id>a</id>"), Q_INVALID);
	assert_int_equal(P("<definition><name>a</name></definition>"),
	    Q_INVALID);
	assert_int_equal(P("<?xml version=\"1.0\"?><!doctype definition>"
	    "<definition/>"), Q_INVALID);
	assert_int_equal(P("<!DOCTYPE d SYSTEM \"file:///etc/passwd\">"
	    "<definition/>"), Q_INVALID);
	assert_int_equal(P("<definition><id>&amp;</id></definition>"), Q_OK);
	assert_string_equal(id, "&");
	assert_int_equal(P("<definition><id><b/></id></definition>"),
	    Q_INVALID);
#undef P
}

static void
test_concur_render_job(void **state)
{
	struct job	j;
	struct buf	b = BUF_INIT;

	(void)state;
	memset(&j, 0, sizeof(j));
	strcpy(j.id, "JJJJJJJJJJJJJJJJJJJJJJ");
	strcpy(j.def_id, "DDDDDDDDDDDDDDDDDDDDDD");
	j.created = 1795338902;		/* 2026-11-22T09:15:02Z */
	j.state = JS_RUNNING;
	concur_job(&b, "http://h", &j, 1);
	assert_non_null(strstr(buf_str(&b), "<id>http://h/api/expense/extract/"
	    "v1.0/DDDDDDDDDDDDDDDDDDDDDD/job/JJJJJJJJJJJJJJJJJJJJJJ</id>"));
	assert_non_null(strstr(buf_str(&b),
	    "<start-time>2026-11-22T09:15:02Z</start-time>"));
	assert_non_null(strstr(buf_str(&b), "<status>Running</status>"));
	assert_null(strstr(buf_str(&b), "stop-time"));
	assert_null(strstr(buf_str(&b), "file-link"));
	buf_reset(&b);
	j.state = JS_COMPLETED;
	j.finished = j.created + 60;
	concur_job(&b, "http://h", &j, 1);
	assert_non_null(strstr(buf_str(&b),
	    "<stop-time>2026-11-22T09:16:02Z</stop-time>"));
	assert_non_null(strstr(buf_str(&b), "/JJJJJJJJJJJJJJJJJJJJJJ/file"
	    "</file-link>"));
	assert_non_null(strstr(buf_str(&b), "<status>Completed</status>"));
	buf_reset(&b);
	j.state = JS_CANCELLED;
	concur_job(&b, "http://h", &j, 1);
	assert_non_null(strstr(buf_str(&b), "<status>Failed</status>"));
	assert_null(strstr(buf_str(&b), "file-link"));
	buf_free(&b);
}

/* ---- downloads ---- */

static int	 use_send_file;	/* give the transport a send_file */
static unsigned	 send_file_calls;
static int	 sent_whole;	/* the whole hook ran, last call */
static size_t	 whole_at;	/* bytes of the body out when it ran */
static int	 use_hook;	/* give http_send_file a whole hook */

static void
on_whole(void *arg)
{
	struct mem	*m = arg;
	const char	*p = strstr(buf_str(&m->out), "\r\n\r\n");

	sent_whole++;
	whole_at = p ? m->out.len - (size_t)(p + 4 - m->out.data) : 0;
}

/* A transport's send_file: the bytes of fd from off, as the kernel would. */
static long long
mem_send_file(void *ctx, int fd, long long off, long long n)
{
	struct mem	*m = ctx;
	char		 chunk[4096];
	long long	 sent = 0;
	ssize_t		 got;

	send_file_calls++;
	while (sent < n) {
		got = pread(fd, chunk, n - sent < (long long)sizeof(chunk) ?
		    (size_t)(n - sent) : sizeof(chunk), (off_t)(off + sent));
		if (got <= 0)
			break;
		buf_add(&m->out, chunk, (size_t)got);
		sent += got;
	}
	return sent;
}

static int
send_file(const char *path, const char *extra, struct buf *out)
{
	struct mem		 m;
	struct transport	 io = { mem_read, mem_write, mem_getenv, &m, NULL, NULL };
	struct request		 r;
	struct whole_hook	 hook = { on_whole, &m };
	int			 status, fd;

	memset(&m, 0, sizeof(m));
	if (use_send_file)
		io.send_file = mem_send_file;
	m.env[0] = "REQUEST_METHOD=GET";
	m.env[1] = "REQUEST_URI=/x";
	if (extra != NULL && strncmp(extra, "HEAD", 4) == 0)
		m.env[0] = "REQUEST_METHOD=HEAD";
	else if (extra != NULL)
		m.env[2] = extra;
	http_request_init(&r, &io, &W.t->conf, W.t->s, PROG_FILES);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	sent_whole = 0;
	assert_int_equal(http_send_file(&r, fd, path, "text/csv",
	    "Ré port.csv", use_hook ? &hook : NULL), Q_OK);
	close(fd);
	status = r.status;
	http_request_free(&r);
	*out = m.out;
	return status;
}

/* The body of a CGI response (after the blank line). */
static const char *
body_of(const struct buf *b)
{
	const char *p = strstr(buf_str(b), "\r\n\r\n");

	return p ? p + 4 : "";
}

static void
test_download_contract(void **state)
{
	struct buf	 out;
	char		 path[PATH_MAX], etag[64], inm[100];
	const char	*p, *q;

	(void)state;
	tu_path(path, W.t->dir, "f.csv");
	assert_int_equal(tu_write_file(path, "0123456789"), 0);
	assert_int_equal(send_file(path, NULL, &out), 200);
	assert_string_equal(body_of(&out), "0123456789");
	/* a hook runs once, before the last byte goes out */
	assert_int_equal(sent_whole, use_hook);
	if (use_hook)
		assert_int_equal(whole_at, 9);
	assert_non_null(strstr(buf_str(&out), "Content-Length: 10\r\n"));
	assert_non_null(strstr(buf_str(&out), "Accept-Ranges: bytes\r\n"));
	assert_non_null(strstr(buf_str(&out), "filename=\"R_ port.csv\"; "
	    "filename*=UTF-8''R%C3%A9%20port.csv"));
	p = strstr(buf_str(&out), "ETag: ");
	assert_non_null(p);
	q = strstr(p, "\r\n");
	snprintf(etag, sizeof(etag), "%.*s", (int)(q - p - 6), p + 6);
	buf_free(&out);
	assert_int_equal(send_file(path, "HTTP_RANGE=bytes=2-4", &out), 206);
	assert_string_equal(body_of(&out), "234");
	assert_int_equal(sent_whole, 0);	/* a range is not the file */
	assert_non_null(strstr(buf_str(&out), "Content-Range: bytes 2-4/10"));
	buf_free(&out);
	assert_int_equal(send_file(path, "HTTP_RANGE=bytes=-3", &out), 206);
	assert_string_equal(body_of(&out), "789");
	buf_free(&out);
	assert_int_equal(send_file(path, "HTTP_RANGE=bytes=7-", &out), 206);
	assert_string_equal(body_of(&out), "789");
	buf_free(&out);
	assert_int_equal(send_file(path, "HTTP_RANGE=bytes=0-", &out), 206);
	assert_string_equal(body_of(&out), "0123456789");
	assert_int_equal(sent_whole, 0);	/* a 206, even of every byte */
	buf_free(&out);
	assert_int_equal(send_file(path, "HTTP_RANGE=bytes=10-", &out), 416);
	assert_int_equal(sent_whole, 0);
	assert_non_null(strstr(buf_str(&out), "Content-Range: bytes */10"));
	buf_free(&out);
	snprintf(inm, sizeof(inm), "HTTP_IF_NONE_MATCH=%s", etag);
	assert_int_equal(send_file(path, inm, &out), 304);
	assert_string_equal(body_of(&out), "");
	assert_int_equal(sent_whole, 0);
	buf_free(&out);
	assert_int_equal(send_file(path, "HEAD", &out), 200);
	assert_non_null(strstr(buf_str(&out), "Content-Length: 10\r\n"));
	assert_string_equal(body_of(&out), "");
	assert_int_equal(sent_whole, 0);
	buf_free(&out);
}

/* sendfile = lighttpd | apache: a GET gets X-Sendfile and no body. */
/*
 * The same contract through a transport that has the kernel copy file
 * bytes (FastCGI's sendfile): the same answers, whole files and ranges
 * sent through it, HEAD and 304 never calling it.
 */
static void
test_download_contract_kernel_copy(void **state)
{
	use_send_file = 1;
	send_file_calls = 0;
	test_download_contract(state);
	use_send_file = 0;
	assert_int_equal(send_file_calls, 5);	/* 200 and four 206 */
}

/*
 * With a whole hook (expire_after_download): the same answers, and the
 * hook runs for the whole 200 only, with one byte still to go; over
 * FastCGI's kernel copy too.  An empty file runs it before the head.
 */
static void
test_download_contract_whole_hook(void **state)
{
	struct buf	out;
	char		path[PATH_MAX];

	use_hook = 1;
	test_download_contract(state);
	use_send_file = 1;
	test_download_contract(state);
	use_send_file = 0;
	tu_path(path, W.t->dir, "empty.csv");
	assert_int_equal(tu_write_file(path, ""), 0);
	assert_int_equal(send_file(path, NULL, &out), 200);
	assert_int_equal(sent_whole, 1);
	assert_int_equal(whole_at, 0);
	buf_free(&out);
	assert_int_equal(send_file(path, "HEAD", &out), 200);
	assert_int_equal(sent_whole, 0);
	buf_free(&out);
	use_hook = 0;
}

static void
test_download_offload(void **state)
{
	struct buf	 out;
	char		 path[PATH_MAX], real[PATH_MAX], want[PATH_MAX + 16];

	(void)state;
	assert_int_equal(conf_set(&W.t->conf, "sendfile", "nginx"), Q_INVALID);
	assert_int_equal(conf_set(&W.t->conf, "sendfile", "apache"), Q_OK);
	assert_int_equal(W.t->conf.sendfile, SENDFILE_APACHE);
	tu_path(path, W.t->dir, "f.csv");
	assert_int_equal(tu_write_file(path, "0123456789"), 0);
	assert_non_null(realpath(path, real));
	snprintf(want, sizeof(want), "X-Sendfile: %s\r\n", real);
	assert_int_equal(send_file(path, NULL, &out), 200);
	assert_non_null(strstr(buf_str(&out), want));
	assert_null(strstr(buf_str(&out), "Content-Length"));
	assert_non_null(strstr(buf_str(&out), "ETag: "));
	assert_non_null(strstr(buf_str(&out), "Content-Disposition: "));
	assert_string_equal(body_of(&out), "");
	assert_int_equal(sent_whole, 0);	/* the server sends it */
	buf_free(&out);
	/* a download that must know it went out whole is not offloaded */
	use_hook = 1;
	assert_int_equal(send_file(path, NULL, &out), 200);
	assert_null(strstr(buf_str(&out), "X-Sendfile"));
	assert_string_equal(body_of(&out), "0123456789");
	assert_int_equal(sent_whole, 1);
	use_hook = 0;
	buf_free(&out);
	/* a Range is the server's to answer, from the same headers */
	assert_int_equal(send_file(path, "HTTP_RANGE=bytes=2-4", &out), 200);
	assert_non_null(strstr(buf_str(&out), want));
	buf_free(&out);
	/* what the program still answers itself: 416, 304 and HEAD */
	assert_int_equal(send_file(path, "HTTP_RANGE=bytes=10-", &out), 416);
	assert_null(strstr(buf_str(&out), "X-Sendfile"));
	buf_free(&out);
	assert_int_equal(send_file(path, "HEAD", &out), 200);
	assert_null(strstr(buf_str(&out), "X-Sendfile"));
	assert_non_null(strstr(buf_str(&out), "Content-Length: 10\r\n"));
	buf_free(&out);
	assert_int_equal(conf_set(&W.t->conf, "sendfile", "off"), Q_OK);
	assert_int_equal(send_file(path, NULL, &out), 200);
	assert_null(strstr(buf_str(&out), "X-Sendfile"));
	assert_string_equal(body_of(&out), "0123456789");
	buf_free(&out);
}

/*
 * The web server's error documents in www/errors/ (issue 11, item 5) are
 * what the dialects' own code renders for each status the server
 * answers itself, and nothing else is there: "make error-documents"
 * writes them again after a dialect changes.  Run from the top of the
 * tree, as make does.
 */
static void
test_error_documents_are_current(void **state)
{
	static const struct dialect *const ds[] = {
		&dialect_concur, &dialect_graph, &dialect_osdi
	};
	char		 path[256], file[8192], code[16];
	struct buf	 want = BUF_INIT;
	struct json_object *o, *v;
	size_t		 d, i, n, nfiles;
	int		 status;
	FILE		*f;
	DIR		*dir;
	struct dirent	*de;

	(void)state;
	assert_int_equal(http_error_document(&dialect_graph, 404, &want), -1);
	assert_int_equal(want.len, 0);
	for (d = 0; d < sizeof(ds) / sizeof(ds[0]); d++) {
		for (i = 0; (status = http_server_error(i)) != 0; i++) {
			buf_reset(&want);
			assert_int_equal(http_error_document(ds[d], status,
			    &want), 0);
			snprintf(path, sizeof(path), "www/errors/%s/%d.html",
			    ds[d]->name, status);
			if ((f = fopen(path, "rb")) == NULL)
				fail_msg("%s is missing: make error-documents",
				    path);
			n = fread(file, 1, sizeof(file), f);
			fclose(f);
			if (n != want.len || memcmp(file, want.data, n) != 0)
				fail_msg("%s is out of date: make "
				    "error-documents", path);
			/* each says what it is, in its own format */
			snprintf(code, sizeof(code), "%d", status);
			if (ds[d] == &dialect_concur) {
				assert_non_null(strstr(buf_str(&want),
				    "<Message>"));
				assert_null(strstr(buf_str(&want), "<Id>"));
				continue;
			}
			assert_non_null(o = json_tokener_parse(buf_str(&want)));
			if (ds[d] == &dialect_osdi) {
				assert_true(json_object_object_get_ex(o,
				    "osdi:error", &v));
				assert_true(json_object_object_get_ex(v,
				    "response_code", &v));
				assert_int_equal(json_object_get_int(v), status);
			} else {
				assert_true(json_object_object_get_ex(o, "error",
				    &v));
				assert_true(json_object_object_get_ex(v,
				    "message", &v));
				assert_true(json_object_get_string_len(v) > 0);
			}
			json_object_put(o);
		}
		/* no document for a status the list no longer has */
		snprintf(path, sizeof(path), "www/errors/%s", ds[d]->name);
		assert_non_null(dir = opendir(path));
		nfiles = 0;
		while ((de = readdir(dir)) != NULL)
			if (de->d_name[0] != '.')
				nfiles++;
		closedir(dir);
		assert_int_equal(nfiles, i);
	}
	buf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path_tricks_are_404,
		    setup_world, tu_teardown),
		cmocka_unit_test(test_error_documents_are_current),
		cmocka_unit_test_setup_teardown(test_query_decoding,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_path_and_method,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(test_auth_statuses,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(test_the_poll_is_one_transaction,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(test_graph_percent_complete,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(test_remote_user, setup_world,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_graph_me, setup_world,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_graph_created_by,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(
		    test_create_conflict_and_body_checks, setup_world,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_bad_query_options_are_400,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(test_bodies_must_be_utf8_text,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(
		    test_osdi_href_of_a_scheme_alone, setup_world,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_body_over_limit_is_413,
		    setup_world, tu_teardown),
		cmocka_unit_test(test_concur_parse),
		cmocka_unit_test(test_concur_render_job),
		cmocka_unit_test_setup_teardown(test_download_contract,
		    setup_world, tu_teardown),
		cmocka_unit_test_setup_teardown(
		    test_download_contract_kernel_copy, setup_world,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(
		    test_download_contract_whole_hook, setup_world,
		    tu_teardown),
		cmocka_unit_test_setup_teardown(test_download_offload,
		    setup_world, tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
