/*
 * status.fcgi: the hot path every client polls.  One token lookup and
 * one job read, nothing else.
 */
#include <stdio.h>

#include "api/api.h"
#include "dialect/dialect.h"

/* GET …/{def}/job/{job}/status: the job, as its details show it. */
enum qerr
concur_job_status(struct request *r)
{
	struct job	j;
	enum qerr	e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = api_job(r, r->capture[0], r->capture[1], &j)) != Q_OK) {
		snprintf(r->err_msg, sizeof(r->err_msg), "no such job");
		return e;
	}
	concur_job(&r->out, r->base, &j, 1);
	job_free(&j);
	http_send(r, 200, CONCUR_CTYPE);
	return Q_OK;
}
