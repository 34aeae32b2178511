/*
 * status.fcgi: the hot path every client polls.  One token lookup and
 * one job read, in every dialect.
 */
#include "api/api.h"
#include "dialect/dialect.h"

#define RETRY_AFTER	2	/* seconds a Graph client should wait */

/* GET …/{def}/job/{job} and …/{def}/job/{job}/status (Concur). */
enum qerr
concur_show_job(struct request *r)
{
	struct job	j;
	enum qerr	e;

	if ((e = api_auth_job(r, r->capture[0], r->capture[1], &j)) == Q_OK) {
		concur_job(&r->out, r->base, &j, 1);
		http_send(r, 200, CONCUR_CTYPE);
	}
	job_free(&j);
	return e;
}

/* GET /api/v1/exportJobs/{id}: the poll, with Retry-After while active. */
enum qerr
graph_show_job(struct request *r)
{
	struct job	j;
	enum qerr	e;

	if ((e = api_auth_job(r, NULL, r->capture[0], &j)) == Q_OK) {
		if (job_state_active(j.state))
			http_header(r, "Retry-After", "%d", RETRY_AFTER);
		json_send(r, 200, GRAPH_CTYPE, graph_job(r, &j));
	}
	job_free(&j);
	return e;
}

/* GET /osdi/v1/exports/{id} */
enum qerr
osdi_show_export(struct request *r)
{
	struct job	j;
	enum qerr	e;

	if ((e = api_auth_job(r, NULL, r->capture[0], &j)) == Q_OK) {
		osdi_headers(r);
		json_send(r, 200, OSDI_CTYPE, osdi_export(r, &j));
	}
	job_free(&j);
	return e;
}
