/*
 * The handlers behind the routes of src/api/routes.c, grouped by the
 * program that serves them, and the lookups they share.  A handler
 * authenticates, talks to the store through the model, renders through
 * its dialect and sends; it returns a qerr only for errors it did not
 * answer itself (the router renders those).
 */
#ifndef QUARRY_API_H
#define QUARRY_API_H

#include "http/http.h"
#include "quarry/model.h"

/* definitions.fcgi */
enum qerr concur_list_definitions(struct request *r);
enum qerr concur_show_definition(struct request *r);

/* jobs.fcgi */
enum qerr concur_create_job(struct request *r);
enum qerr concur_list_jobs(struct request *r);
enum qerr concur_show_job(struct request *r);

/* status.fcgi */
enum qerr concur_job_status(struct request *r);

/* files.fcgi */
enum qerr concur_job_file(struct request *r);

/* ---- shared lookups (common.c) ---- */

/*
 * Loads definition id if the caller's tenant owns it; Q_NOTFOUND for a
 * malformed id, a missing one or another tenant's, alike.
 */
enum qerr api_definition(struct request *r, const char *id,
	      struct definition *out);
/*
 * Loads job id if the caller may see it and, when def_id is not NULL,
 * it belongs to that definition; Q_NOTFOUND otherwise.
 */
enum qerr api_job(struct request *r, const char *def_id, const char *id,
	      struct job *out);
/*
 * Sends a job's file with SPEC section 7's headers: Q_NOTFOUND until it
 * is completed, Q_GONE once expired.
 */
enum qerr api_send_job_file(struct request *r, const struct job *j);

#endif
