/*
 * jobs.fcgi: creating jobs, listing them, showing one.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "dialect/dialect.h"

/* The most jobs a Concur job list shows (SPEC section 4). */
#define CONCUR_JOBS_MAX 100

/*
 * POST /api/expense/extract/v1.0/{def}/job: starts a job of the
 * definition with its default format and no parameters.  The body may
 * name the definition; if it does, it must be this one.
 */
enum qerr
concur_create_job(struct request *r)
{
	struct definition	 d;
	struct job		 j;
	struct buf		 uri = BUF_INIT;
	char			 given[1024], existing[ID_LEN + 1];
	char			 err[256];
	enum qerr		 e;

	memset(&j, 0, sizeof(j));
	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = http_read_body(r)) != Q_OK) {
		if (e == Q_TOOBIG)
			snprintf(r->err_msg, sizeof(r->err_msg), "the body is "
			    "larger than %zu bytes", r->conf->max_body);
		return e;
	}
	if ((e = api_definition(r, r->capture[0], &d)) != Q_OK)
		return e;
	e = concur_parse_job_request(r->body.data ? r->body.data : "",
	    r->body.len, given, sizeof(given), err, sizeof(err));
	if (e != Q_OK) {
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", err);
		goto out;
	}
	concur_def_uri(&uri, r->base, d.id);
	if (given[0] != '\0' && strcmp(given, buf_str(&uri)) != 0 &&
	    strcmp(given, d.id) != 0) {
		snprintf(r->err_msg, sizeof(r->err_msg), "the <id> in the body "
		    "does not name this definition");
		e = Q_INVALID;
		goto out;
	}
	e = api_create_job(r, &d, NULL, NULL, NULL, &j, existing);
	if (e == Q_EXISTS) {
		struct job ex;

		memset(&ex, 0, sizeof(ex));
		memcpy(ex.def_id, d.id, sizeof(ex.def_id));
		memcpy(ex.id, existing, sizeof(ex.id));
		buf_reset(&uri);
		concur_job_uri(&uri, r->base, &ex);
		http_header(r, "Location", "%s", buf_str(&uri));
		snprintf(r->err_msg, sizeof(r->err_msg), "a job of this "
		    "definition is still active: %s", buf_str(&uri));
		goto out;
	}
	if (e != Q_OK)
		goto out;
	buf_reset(&uri);
	concur_job_uri(&uri, r->base, &j);
	http_header(r, "Location", "%s", buf_str(&uri));
	concur_job(&r->out, r->base, &j, 1);
	http_send(r, 201, CONCUR_CTYPE);
out:
	job_free(&j);
	definition_free(&d);
	buf_free(&uri);
	return e;
}

struct job_render {
	struct request	*r;
	size_t		 n;
};

static int
render_job(const struct job *j, void *arg)
{
	struct job_render *a = arg;

	if (!http_may_see_job(a->r, j))
		return 0;
	concur_job(&a->r->out, a->r->base, j, 0);
	return ++a->n >= CONCUR_JOBS_MAX;
}

/* GET …/{def}/job: the definition's last 100 jobs, newest first. */
enum qerr
concur_list_jobs(struct request *r)
{
	struct definition	d;
	struct job_render	a = { r, 0 };
	enum qerr		e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = api_definition(r, r->capture[0], &d)) != Q_OK)
		return e;
	definition_free(&d);
	concur_jobs_begin(&r->out);
	/* A user sees only their own jobs: read past others' to fill 100. */
	e = job_list_by_def(r->store, r->capture[0],
	    r->tok.role == ROLE_ADMIN ? CONCUR_JOBS_MAX : 0, render_job, &a);
	if (e != Q_OK) {
		buf_reset(&r->out);
		return e;
	}
	concur_jobs_end(&r->out);
	http_send(r, 200, CONCUR_CTYPE);
	return Q_OK;
}

