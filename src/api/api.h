/*
 * The handlers behind the routes of src/api/routes.c, one file per
 * dialect (concur.c, graph.c, osdi.c), and what they share (shared.c).
 * The router has authenticated the caller (r->who) before a handler
 * runs.  A handler parses the request, makes one call to the model with
 * the caller, and renders the answer through its dialect; it returns a
 * qerr only for errors it did not answer itself (the router renders
 * those, with r->err_* set).
 */
#ifndef QUARRY_API_H
#define QUARRY_API_H

#include "http/http.h"
#include "quarry/model.h"

struct json_object;

/* ---- Concur (concur.c) ---- */
enum qerr concur_list_definitions(struct request *r);
enum qerr concur_show_definition(struct request *r);
enum qerr concur_create_job(struct request *r);
enum qerr concur_list_jobs(struct request *r);
enum qerr concur_show_job(struct request *r);
enum qerr concur_job_file(struct request *r);

/* ---- Graph (graph.c) ---- */
enum qerr graph_list_definitions(struct request *r);
enum qerr graph_show_definition(struct request *r);
enum qerr graph_create_definition(struct request *r);
enum qerr graph_replace_definition(struct request *r);
enum qerr graph_delete_definition(struct request *r);
enum qerr graph_create_job(struct request *r);
enum qerr graph_list_jobs(struct request *r);
enum qerr graph_show_job(struct request *r);
enum qerr graph_delete_job(struct request *r);
enum qerr graph_approve_job(struct request *r);
enum qerr graph_reject_job(struct request *r);
enum qerr graph_job_content(struct request *r);
enum qerr graph_metrics(struct request *r);
enum qerr graph_signed_download(struct request *r);
enum qerr graph_me(struct request *r);

/* the goals mount (GOALS_BETA_MOUNT, GOALS_V1_MOUNT) */
enum qerr goals_create_job(struct request *r);
enum qerr goals_list_jobs(struct request *r);
enum qerr goals_show_job(struct request *r);
enum qerr goals_job_content(struct request *r);

/* ---- OSDI (osdi.c) ---- */
enum qerr osdi_entry(struct request *r);
enum qerr osdi_list_exports(struct request *r);
enum qerr osdi_create_export(struct request *r);
enum qerr osdi_show_export(struct request *r);
enum qerr osdi_delete_export(struct request *r);
enum qerr osdi_download(struct request *r);

/*
 * Parses Graph's "$filter": clauses "definitionId eq '…'" and "status eq
 * '…'" joined by "and".  -1 with r's error on anything else.
 */
int	 graph_parse_filter(struct request *r, const char *f,
	     char def[ID_LEN + 1], unsigned *states);
/*
 * Parses the goals mount's "$filter": one clause "goalsOrganizationId eq
 * '…'" (org).  -1 with r's error on anything else.
 */
int	 goals_parse_filter(struct request *r, const char *f,
	     char org[TENANT_MAX + 1]);
/*
 * The definition id a definition URL of any dialect names (absolute or a
 * path): …/api/expense/extract/v1.0/{id} or …/api/v1/definitions/{id}.
 * 0, or -1 if it names none.
 */
int	 osdi_definition_of_href(const char *href, char id[ID_LEN + 1]);

/* ---- shared (shared.c) ---- */

/*
 * A positive integer query parameter in [1, max] into out, def if
 * absent; -1 with r's error naming it otherwise.
 */
int	 api_query_int(struct request *r, const char *name, long max,
	     long def, long *out);

/*
 * Reads r's body as one JSON object (strict, depth-limited) into out;
 * with !required an empty body gives NULL.  Errors set r->err_msg.
 */
enum qerr api_body_json(struct request *r, int required,
	      struct json_object **out);
/*
 * Reads r's body (at most max_body bytes); on failure r->err_msg says
 * why.
 */
enum qerr api_body(struct request *r);
/*
 * Turns a model's refusal into r's error: its message, and as target
 * the dialect's word for the input (with ".member" for a parameter) or
 * the document's member.  Returns e.
 */
enum qerr api_refused(struct request *r, enum qerr e,
	      const struct refusal *why);
/*
 * DELETE of the job r->capture[0] names, by the model's one delete rule
 * (job_delete); how says what it did.
 */
enum qerr api_delete_job(struct request *r, enum job_deleted *how);
/* "no such <the dialect's job noun>" as r's message; returns e. */
enum qerr api_no_job(struct request *r, enum qerr e);
/*
 * Sends the file of job id with the download contract (SPEC section 7):
 * Q_NOTFOUND until it is completed, Q_GONE once expired.  With def_id,
 * a job of another definition is not found (Concur's URLs nest jobs in
 * their definition).
 */
enum qerr api_download(struct request *r, const char *def_id,
	      const char *id);

#endif
