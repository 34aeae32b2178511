/*
 * The Concur dialect's handlers (SPEC section 4): definitions, and jobs
 * nested under their definition: create, list, show and status, file.
 * Which program serves each is in routes.c.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "dialect/dialect.h"

/* The most jobs a Concur job list shows (SPEC section 4). */
#define CONCUR_JOBS_MAX 100

static int
render_def(const struct definition *d, void *arg)
{
	struct request *r = arg;

	concur_definition(&r->out, r->base, d, 0);
	return VISIT_NEXT;
}

/* GET /api/expense/extract/v1.0/: the definitions the caller may use. */
enum qerr
concur_list_definitions(struct request *r)
{
	enum qerr e;

	concur_definitions_begin(&r->out);
	if ((e = definition_list(r->store, &r->who, render_def, r)) != Q_OK) {
		buf_reset(&r->out);
		return e;
	}
	concur_definitions_end(&r->out);
	http_send(r, 200, CONCUR_CTYPE);
	return Q_OK;
}

/* GET /api/expense/extract/v1.0/{def}: one definition. */
enum qerr
concur_show_definition(struct request *r)
{
	struct definition	d;
	enum qerr		e;

	if ((e = definition_get(r->store, &r->who, r->capture[0], &d)) !=
	    Q_OK) {
		snprintf(r->err_msg, sizeof(r->err_msg), "no such definition");
		return e;
	}
	concur_definition(&r->out, r->base, &d, 1);
	definition_free(&d);
	http_send(r, 200, CONCUR_CTYPE);
	return Q_OK;
}

/*
 * POST /api/expense/extract/v1.0/{def}/job: starts a job of the
 * definition with its default format and no parameters.  The body may
 * name the definition; if it does, it must be this one.
 */
enum qerr
concur_create_job(struct request *r)
{
	struct export_request	 rq = { r->capture[0], NULL, NULL, NULL };
	struct refusal		 why;
	struct job		 j;
	struct buf		 uri = BUF_INIT;
	char			 given[1024], existing[ID_LEN + 1];
	char			 err[256];
	enum qerr		 e;

	memset(&j, 0, sizeof(j));
	if ((e = api_body(r)) != Q_OK)
		return e;
	e = concur_parse_job_request(r->body.data ? r->body.data : "",
	    r->body.len, given, sizeof(given), err, sizeof(err));
	if (e != Q_OK) {
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", err);
		return e;
	}
	concur_def_uri(&uri, r->base, r->capture[0]);
	if (given[0] != '\0' && strcmp(given, buf_str(&uri)) != 0 &&
	    strcmp(given, r->capture[0]) != 0) {
		snprintf(r->err_msg, sizeof(r->err_msg), "the <id> in the body "
		    "does not name this definition");
		e = Q_INVALID;
		goto out;
	}
	buf_reset(&uri);
	e = job_create(r->store, &r->who, &rq, &j, existing, &why);
	if (e == Q_EXISTS) {
		concur_job_uri(&uri, r->base, r->capture[0], existing);
		http_header(r, "Location", "%s", buf_str(&uri));
		snprintf(r->err_msg, sizeof(r->err_msg), "a job of this "
		    "definition is still active: %s", buf_str(&uri));
		goto out;
	}
	if (e != Q_OK) {
		api_refused(r, e, &why);
		goto out;
	}
	concur_job_uri(&uri, r->base, j.def_id, j.id);
	http_header(r, "Location", "%s", buf_str(&uri));
	concur_job(&r->out, r->base, &j, 1);
	http_send(r, 201, CONCUR_CTYPE);
out:
	job_free(&j);
	buf_free(&uri);
	return e;
}

static int
render_job(const struct job *j, void *arg)
{
	struct request *r = arg;

	concur_job(&r->out, r->base, j, 0);
	return VISIT_NEXT;
}

/* GET …/{def}/job: the definition's last 100 jobs, newest first. */
enum qerr
concur_list_jobs(struct request *r)
{
	struct job_query	q = { r->capture[0], 0, 0, 0, CONCUR_JOBS_MAX };
	enum qerr		e;

	concur_jobs_begin(&r->out);
	if ((e = job_list(r->store, &r->who, &q, render_job, r)) != Q_OK) {
		buf_reset(&r->out);
		if (e == Q_NOTFOUND)
			snprintf(r->err_msg, sizeof(r->err_msg), "no such "
			    "definition");
		return e;
	}
	concur_jobs_end(&r->out);
	http_send(r, 200, CONCUR_CTYPE);
	return Q_OK;
}

/* GET …/{def}/job/{job} and …/{def}/job/{job}/status. */
enum qerr
concur_show_job(struct request *r)
{
	struct job	j;
	enum qerr	e;

	/* its routes are ROUTE_AUTH_JOB: who asks is found with the job */
	e = http_auth_job(r, r->capture[1], &j);
	if (e != Q_OK && e != Q_NOTFOUND)
		return e;
	if (e == Q_OK && strcmp(j.def_id, r->capture[0]) != 0)
		e = Q_NOTFOUND;		/* a job of another definition */
	if (e == Q_OK) {
		concur_job(&r->out, r->base, &j, 1);
		http_send(r, 200, CONCUR_CTYPE);
	} else if (e == Q_NOTFOUND)
		api_no_job(r, e);
	job_free(&j);
	return e;
}

/* GET …/{def}/job/{job}/file */
enum qerr
concur_job_file(struct request *r)
{
	return api_download(r, r->capture[0], r->capture[1]);
}
