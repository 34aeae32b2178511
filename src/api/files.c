/*
 * files.fcgi: downloads of finished jobs' files.
 */
#include <stdio.h>

#include "api/api.h"
#include "dialect/dialect.h"

/* GET …/{def}/job/{job}/file: the file once completed; 410 once expired. */
enum qerr
concur_job_file(struct request *r)
{
	struct job	j;
	enum qerr	e;

	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = api_job(r, r->capture[0], r->capture[1], &j)) != Q_OK) {
		snprintf(r->err_msg, sizeof(r->err_msg), "no such job");
		return e;
	}
	e = api_send_job_file(r, &j);
	job_free(&j);
	return e;
}
