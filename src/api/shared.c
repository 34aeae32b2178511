/*
 * What the dialects' handlers share: reading a body, turning a model's
 * refusal into the dialect's error, and the download.  Who may see what
 * is not decided here but in the model (every call takes r->who).
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "dialect/dialect.h"
#include "quarry/format.h"
#include "quarry/jsonutil.h"
#include "quarry/log.h"

/* Reads the body (see api.h). */
enum qerr
api_body(struct request *r)
{
	enum qerr e;

	if ((e = http_read_body(r)) == Q_OK)
		return Q_OK;
	if (e == Q_TOOBIG)
		snprintf(r->err_msg, sizeof(r->err_msg), "the body is larger "
		    "than %zu bytes", r->conf->max_body);
	else
		snprintf(r->err_msg, sizeof(r->err_msg), "the body could not "
		    "be read");
	return e;
}

/* Reads and parses a JSON body (see api.h). */
enum qerr
api_body_json(struct request *r, int required, struct json_object **out)
{
	char		err[256];
	enum qerr	e;

	*out = NULL;
	if ((e = api_body(r)) != Q_OK)
		return e;
	if (r->body.len == 0 && !required)
		return Q_OK;
	if (r->body.len == 0) {
		snprintf(r->err_msg, sizeof(r->err_msg), "a JSON body is "
		    "required");
		return Q_INVALID;
	}
	if ((e = json_parse_strict_at(r->body.data, r->body.len, out, err,
	    sizeof(err), r->err_target, sizeof(r->err_target))) != Q_OK) {
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", err);
		return e;
	}
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		snprintf(r->err_msg, sizeof(r->err_msg), "the body must be a "
		    "JSON object");
		return Q_INVALID;
	}
	return Q_OK;
}

/* A positive integer query parameter (see api.h). */
int
api_query_int(struct request *r, const char *name, long max, long def, long *out)
{
	char	 v[32], *end = v;
	long	 n;
	int	 rc;

	*out = def;
	if ((rc = http_query(r, name, v, sizeof(v))) == -1)
		return 0;
	n = rc == 0 ? strtol(v, &end, 10) : 0;
	if (rc != 0 || *v < '1' || *v > '9' || *end != '\0' || n > max) {
		snprintf(r->err_target, sizeof(r->err_target), "%s", name);
		snprintf(r->err_msg, sizeof(r->err_msg), "%s must be an "
		    "integer from 1 to %ld", name, max);
		return -1;
	}
	*out = n;
	return 0;
}

/* Turns a model's refusal into r's error (see api.h). */
enum qerr
api_refused(struct request *r, enum qerr e, const struct refusal *why)
{
	const char *word = NULL;

	if (why->msg[0] != '\0')
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", why->msg);
	if (r->dialect != NULL && why->input <= IN_DOCUMENT)
		word = r->dialect->input_word[why->input];
	if (why->input == IN_DOCUMENT)
		snprintf(r->err_target, sizeof(r->err_target), "%s",
		    why->member);
	else if (word != NULL)
		snprintf(r->err_target, sizeof(r->err_target), "%s%s%s", word,
		    why->member[0] ? "." : "", why->member);
	return e;
}

/* Sets "no such <job noun>" (see api.h). */
enum qerr
api_no_job(struct request *r, enum qerr e)
{
	snprintf(r->err_msg, sizeof(r->err_msg), "no such %s",
	    r->dialect ? r->dialect->job_noun : "job");
	return e;
}

/* Deletes the job r names (see api.h). */
enum qerr
api_delete_job(struct request *r, enum job_deleted *how)
{
	struct job	j;
	enum qerr	e;

	e = job_delete(r->store, &r->who, r->capture[0], &j, how);
	job_free(&j);
	return e == Q_NOTFOUND ? api_no_job(r, e) : e;
}

/* Sends a job's file (see api.h). */
/* The job of a download served whole, when its definition says so. */
struct downloaded {
	struct request		*r;
	const struct job_file	*f;
};

static void
expire_downloaded(void *arg)
{
	struct downloaded *d = arg;

	/* a failure leaves the job completed, to the retention sweep */
	if (job_downloaded(d->r->store, &d->r->who, d->f) != Q_OK)
		qlog(LOG_WARN, "job %s was downloaded but could not be "
		    "expired [id %s]", d->f->id, d->r->reqid);
}

enum qerr
api_download(struct request *r, const char *def_id, const char *id)
{
	struct job_file		f;
	struct downloaded	d = { r, &f };
	struct whole_hook	hook = { expire_downloaded, &d };
	enum qerr		e;

	e = job_file_open(r->store, &r->who, id, &f);
	if (def_id != NULL && f.def_id[0] != '\0' &&
	    strcmp(f.def_id, def_id) != 0)
		e = Q_NOTFOUND;		/* a job of another definition */
	else if (e == Q_OK)
		/* OSDI's expiry on download: served whole, the job expires */
		e = http_send_file(r, f.fd, f.path, f.zip ? "application/zip" :
		    fmt_content_type(f.format), f.name,
		    f.expire_after_download ? &hook : NULL);
	else if (f.why[0] != '\0')
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", f.why);
	if (e == Q_OK && r->file_bytes >= 0) {
		char detail[64];

		snprintf(detail, sizeof(detail), "bytes=%lld%s", r->file_bytes,
		    r->file_offloaded ? " (X-Sendfile)" : "");
		(void)audit_record(r->store, &r->who, "file.download", "job",
		    f.id, detail);
	}
	job_file_close(&f);
	if (e == Q_NOTFOUND && r->err_msg[0] == '\0')
		api_no_job(r, e);
	return e;
}
