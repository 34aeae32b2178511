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

struct json_object;

/* definitions.fcgi */
enum qerr concur_list_definitions(struct request *r);
enum qerr concur_show_definition(struct request *r);
enum qerr graph_list_definitions(struct request *r);
enum qerr graph_show_definition(struct request *r);
enum qerr graph_create_definition(struct request *r);
enum qerr graph_replace_definition(struct request *r);
enum qerr graph_delete_definition(struct request *r);

/* jobs.fcgi */
enum qerr concur_create_job(struct request *r);
enum qerr concur_list_jobs(struct request *r);
enum qerr graph_create_job(struct request *r);
enum qerr graph_list_jobs(struct request *r);
enum qerr graph_delete_job(struct request *r);
enum qerr graph_approve_job(struct request *r);
enum qerr graph_reject_job(struct request *r);
enum qerr osdi_entry(struct request *r);
enum qerr osdi_list_exports(struct request *r);
enum qerr osdi_create_export(struct request *r);
enum qerr osdi_delete_export(struct request *r);

/* status.fcgi */
enum qerr concur_show_job(struct request *r);
enum qerr graph_show_job(struct request *r);
enum qerr osdi_show_export(struct request *r);

/* files.fcgi */
enum qerr concur_job_file(struct request *r);
enum qerr graph_job_content(struct request *r);
enum qerr osdi_download(struct request *r);

/* ---- shared lookups (common.c) ---- */

/*
 * Loads definition id if the caller's tenant owns it; Q_NOTFOUND for a
 * malformed id, a missing one or another tenant's, alike, with the
 * request's error message set to "no such definition".
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
 * Authenticates r, then loads job id as api_job does; on Q_NOTFOUND the
 * message names the dialect's noun.
 */
enum qerr api_auth_job(struct request *r, const char *def_id,
	      const char *id, struct job *out);
/* Authenticates r and sends the file of job id (api_send_job_file). */
enum qerr api_download(struct request *r, const char *def_id,
	      const char *id);
/*
 * Sends a job's file with SPEC section 7's headers: Q_NOTFOUND until it
 * is completed, Q_GONE once expired.
 */
enum qerr api_send_job_file(struct request *r, const struct job *j);

/*
 * Reads r's body as one JSON object (strict, depth-limited) into out;
 * with !required an empty body gives NULL.  Errors set r->err_msg.
 */
enum qerr api_body_json(struct request *r, int required,
	      struct json_object **out);
/* Q_FORBIDDEN unless the caller holds an admin token. */
enum qerr api_admin(struct request *r);
/*
 * Creates a job of d for the caller: format (NULL = the default) must be
 * one d offers, params are validated and made canonical.  On Q_INVALID
 * r->err_target names the member; on Q_EXISTS existing is the active job.
 * Wakes the scheduler.
 */
enum qerr api_create_job(struct request *r, const struct definition *d,
	      struct json_object *params, const char *format, const char *name,
	      struct job *out, char existing[ID_LEN + 1]);
/*
 * Calls cb with each job the caller may see, newest first: of one
 * definition if def_id is not NULL, in the given states (bit 1 << state;
 * 0 = every state).
 */
enum qerr api_list_jobs(struct request *r, const char *def_id,
	      unsigned states, job_cb cb, void *arg);

#endif
