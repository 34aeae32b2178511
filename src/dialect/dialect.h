/*
 * Dialects: how one API family spells resources and errors.  A dialect
 * renders model structs into its wire format and parses its request
 * bodies; it never touches the store.  Handlers (src/api) pick the
 * dialect's renderers; the HTTP layer uses the generic part below for
 * authentication and errors.  The handlers, one file per dialect, are in
 * src/api/.
 */
#ifndef QUARRY_DIALECT_H
#define QUARRY_DIALECT_H

#include <stddef.h>

#include "http/http.h"
#include "quarry/buf.h"
#include "quarry/model.h"

struct json_object;

struct dialect {
	const char	*name;
	const char	*mount;		/* URL prefix, no final '/' */
	/* 1: the mount and its routes match whatever the letters' case */
	int		 nocase;
	/*
	 * Copies the caller's token secret into out; 0 if one was given,
	 * -1 if none.
	 */
	int		(*credential)(const struct request *r, char *out,
			    size_t len);
	int		 bad_token_status;	/* unknown/expired/revoked */
	/* Renders r's error (status, r->err_*) into r->out. */
	void		(*error)(struct request *r, int status, enum qerr e);
	const char	*error_ctype;
	/* The dialect's word for a job state. */
	const char	*(*status_word)(enum job_state s);
	const char	*job_noun;	/* "job", "export job", "export" */
	/*
	 * How an error's target names the model's inputs (enum input, see
	 * struct refusal): the dialect's member for the definition asked
	 * of, the format, the parameters; NULL where the input is not in a
	 * body of this dialect.
	 */
	const char	*input_word[IN_DOCUMENT + 1];
};

extern const struct dialect dialect_concur;
extern const struct dialect dialect_graph;
extern const struct dialect dialect_goals_beta;
extern const struct dialect dialect_goals_v1;
extern const struct dialect dialect_osdi;

/* ---- Concur (concur.c) ---- */

#define CONCUR_NS "http://www.concursolutions.com/api/expense/extract/2010/02"
#define CONCUR_MOUNT "/api/expense/extract/v1.0"
#define CONCUR_CTYPE "application/xml"

/* The definition's URI: base + mount + "/" + id. */
void	 concur_def_uri(struct buf *b, const char *base, const char *def_id);
/* The job's URI: def URI + "/job/" + id. */
void	 concur_job_uri(struct buf *b, const char *base, const char *def_id,
	     const char *job_id);
/* <definitions> opening and closing, with a <definition> per call. */
void	 concur_definitions_begin(struct buf *b);
void	 concur_definition(struct buf *b, const char *base,
	     const struct definition *d, int top);
void	 concur_definitions_end(struct buf *b);
/* <jobs> with a <job> per call. */
void	 concur_jobs_begin(struct buf *b);
void	 concur_job(struct buf *b, const char *base, const struct job *j,
	     int top);
void	 concur_jobs_end(struct buf *b);

/*
 * Parses a POST job body: empty, or <definition><id>URI</id></definition>
 * in the Concur namespace or none.  Refuses any DOCTYPE or entity, never
 * fetches anything.  def_uri is "" when no id was given.  Q_INVALID with
 * err on a bad body.
 */
enum qerr concur_parse_job_request(const char *p, size_t n, char *def_uri,
	      size_t len, char *err, size_t errlen);

/* ---- Graph (graph.c) ---- */

#define GRAPH_MOUNT "/api/v1"
#define GRAPH_CTYPE "application/json"
/*
 * The Graph dialect's second mount: Microsoft Graph's goals export jobs
 * (issue 16), at its beta and v1.0 paths, matched whatever the case as
 * Graph does.  Its jobs are every job, shown as goalsExportJob.
 */
#define GOALS_BETA_MOUNT "/beta/employeeExperience/goals"
#define GOALS_V1_MOUNT "/v1.0/employeeExperience/goals"

/* The job as a goalsExportJob, under r's mount (r->dialect->mount). */
struct json_object *goals_job(const struct request *r, const struct job *j);


/* A signed download link of j for r's caller into b ("" if none). */
void	 graph_download_url(const struct request *r, const struct job *j,
	     struct buf *b);
/*
 * The job as Graph shows it: id, status, statusDetail, …, createdBy (its
 * owner's token id, with owner_name as displayName: NULL or "" for null;
 * createdBy is null for a job of the system, which has no owner).
 */
struct json_object *graph_job(const struct request *r, const struct job *j,
	     const char *owner_name);
/* The definition's document with id and its times. */
struct json_object *graph_definition(const struct definition *d);
/* Graph's word for a job state ("notStarted", "succeeded", …). */
const char *graph_status_word(enum job_state s);
/* An RFC 3339 time as a JSON string, or null for 0. */
struct json_object *json_time(time_t t);
/* Sends obj (taking it) as JSON with status. */
void	 json_send(struct request *r, int status, const char *ctype,
	     struct json_object *obj);

/* ---- OSDI (osdi.c) ---- */

#define OSDI_MOUNT "/osdi/v1"
#define OSDI_CTYPE "application/hal+json"
#define OSDI_CURIES "https://opensupporter.github.io/osdi-docs/{rel}"

/* An export: identifiers, dates, name, status, links, … */
struct json_object *osdi_export(const struct request *r, const struct job *j);
/* The curies link array. */
struct json_object *osdi_curies(void);
const char *osdi_status_word(enum job_state s);
/* Adds the headers every OSDI answer carries. */
void	 osdi_headers(struct request *r);

#endif
