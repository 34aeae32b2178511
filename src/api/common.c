/*
 * Lookups every dialect's handlers share: visibility (tenant, role,
 * ownership) is decided here, so a resource the caller may not see is
 * indistinguishable from a missing one.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "dialect/dialect.h"
#include "quarry/build.h"
#include "quarry/format.h"
#include "quarry/jsonutil.h"
#include "quarry/params.h"
#include "quarry/wake.h"

/* Loads a definition of the caller's tenant (see api.h). */
enum qerr
api_definition(struct request *r, const char *id, struct definition *out)
{
	enum qerr e = Q_NOTFOUND;

	memset(out, 0, sizeof(*out));
	if (id != NULL && id_valid(id) &&
	    (e = definition_get(r->store, id, out)) == Q_OK &&
	    strcmp(out->tenant, r->tok.tenant) != 0) {
		definition_free(out);
		memset(out, 0, sizeof(*out));
		e = Q_NOTFOUND;
	}
	if (e == Q_NOTFOUND)
		snprintf(r->err_msg, sizeof(r->err_msg), "no such definition");
	return e;
}

/* Loads a job the caller may see (see api.h). */
enum qerr
api_job(struct request *r, const char *def_id, const char *id,
    struct job *out)
{
	enum qerr e;

	memset(out, 0, sizeof(*out));
	if (id == NULL || !id_valid(id) ||
	    (def_id != NULL && !id_valid(def_id)))
		return Q_NOTFOUND;
	if ((e = job_get(r->store, id, out)) != Q_OK)
		return e;
	if (!http_may_see_job(r, out) ||
	    (def_id != NULL && strcmp(out->def_id, def_id) != 0)) {
		job_free(out);
		memset(out, 0, sizeof(*out));
		return Q_NOTFOUND;
	}
	return Q_OK;
}

/* A split build's file is a zip of its parts (see build_job_file). */
static int
file_is_zip(const struct job *j)
{
	size_t n = strlen(j->file);

	return n > 4 && strcmp(j->file + n - 4, ".zip") == 0;
}

/*
 * A download's file name: the definition's name made safe (letters,
 * digits, '-', '_', '.', and any UTF-8 letters; the rest become '_'),
 * the job's finish date and the format's extension ("zip" for a split
 * build's archive).
 */
static void
download_name(const struct definition *d, const struct job *j, char *out,
    size_t len)
{
	const unsigned char	*p;
	char			 day[RFC3339_LEN];
	size_t			 o = 0;

	for (p = (const unsigned char *)(d->name ? d->name : "export");
	    *p != '\0' && o + 1 < len && o < 120; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p >= 0x80)
			out[o++] = (char)*p;
		else if (o > 0 && out[o - 1] != '_')
			out[o++] = '_';
	}
	while (o > 0 && (out[o - 1] == '_' || out[o - 1] == '.'))
		o--;
	out[o] = '\0';
	time_rfc3339(j->finished ? j->finished : j->created, day);
	day[10] = '\0';
	snprintf(out + o, len - o, "%s%s.%s", o ? "-" : "export-", day,
	    file_is_zip(j) ? "zip" : fmt_extension(j->format));
}

/* Authenticates r and loads the job it names (see api.h). */
enum qerr
api_auth_job(struct request *r, const char *def_id, const char *id,
    struct job *out)
{
	enum qerr e;

	memset(out, 0, sizeof(*out));
	if ((e = http_auth(r)) != Q_OK)
		return e;
	if ((e = api_job(r, def_id, id, out)) != Q_OK)
		snprintf(r->err_msg, sizeof(r->err_msg), "no such %s",
		    r->dialect ? r->dialect->job_noun : "job");
	return e;
}

/* Answers a download of the job r names (see api.h). */
enum qerr
api_download(struct request *r, const char *def_id, const char *id)
{
	struct job	j;
	enum qerr	e;

	if ((e = api_auth_job(r, def_id, id, &j)) == Q_OK)
		e = api_send_job_file(r, &j);
	job_free(&j);
	return e;
}

/* Sends a job's file (see api.h). */
enum qerr
api_send_job_file(struct request *r, const struct job *j)
{
	struct definition	 d;
	char			 path[PATH_MAX + 80], name[200];
	enum qerr		 e;

	if (j->state == JS_EXPIRED) {
		snprintf(r->err_msg, sizeof(r->err_msg), "the file of this "
		    "job has expired and was deleted");
		return Q_GONE;
	}
	if (j->state != JS_COMPLETED || j->file[0] == '\0') {
		snprintf(r->err_msg, sizeof(r->err_msg), "the job has no file "
		    "(it is %s)", job_state_name(j->state));
		return Q_NOTFOUND;
	}
	if (strchr(j->file, '/') != NULL || j->file[0] == '.' ||
	    files_path(r->conf, j->file, path, sizeof(path)) != 0)
		return Q_NOTFOUND;
	memset(&d, 0, sizeof(d));
	if ((e = definition_get(r->store, j->def_id, &d)) != Q_OK &&
	    e != Q_NOTFOUND)
		return e;
	download_name(&d, j, name, sizeof(name));
	definition_free(&d);
	e = http_send_file(r, path, file_is_zip(j) ? "application/zip" :
	    fmt_content_type(j->format), name);
	if (e == Q_NOTFOUND) {
		/* Completed in the store, but the file is gone from disk. */
		snprintf(r->err_msg, sizeof(r->err_msg), "the job's file is "
		    "missing");
		return Q_GONE;
	}
	return e;
}

/* Reads and parses a JSON body (see api.h). */
enum qerr
api_body_json(struct request *r, int required, struct json_object **out)
{
	char		err[256];
	enum qerr	e;

	*out = NULL;
	if ((e = http_read_body(r)) != Q_OK) {
		if (e == Q_TOOBIG)
			snprintf(r->err_msg, sizeof(r->err_msg), "the body is "
			    "larger than %zu bytes", r->conf->max_body);
		else
			snprintf(r->err_msg, sizeof(r->err_msg), "the body "
			    "could not be read");
		return e;
	}
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

/* Refuses callers without the admin role (see api.h). */
enum qerr
api_admin(struct request *r)
{
	if (r->tok.role == ROLE_ADMIN)
		return Q_OK;
	snprintf(r->err_msg, sizeof(r->err_msg), "this needs an admin token");
	return Q_FORBIDDEN;
}

/* Creates a job with checked parameters and format (see api.h). */
enum qerr
api_create_job(struct request *r, const struct definition *d,
    struct json_object *params, const char *format, const char *name,
    struct job *out, char existing[ID_LEN + 1])
{
	struct buf	 canon = BUF_INIT;
	char		 bad[96], err[256];
	enum fmt	 f = d->formats[0];
	size_t		 i;
	enum qerr	 e;

	memset(out, 0, sizeof(*out));
	existing[0] = '\0';
	if (format != NULL) {
		if (fmt_parse(format, &f) != 0)
			i = d->nformats;
		else
			for (i = 0; i < d->nformats && d->formats[i] != f; i++)
				continue;
		if (i == d->nformats) {
			snprintf(r->err_target, sizeof(r->err_target),
			    "format");
			snprintf(r->err_msg, sizeof(r->err_msg), "format '%.32s'"
			    " is not offered by this definition", format);
			return Q_INVALID;
		}
	}
	e = params_canonical(d, params, &canon, bad, sizeof(bad), err,
	    sizeof(err));
	if (e != Q_OK) {
		snprintf(r->err_target, sizeof(r->err_target), "parameters%s%s",
		    strcmp(bad, "parameters") && bad[0] ? "." : "",
		    strcmp(bad, "parameters") ? bad : "");
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", err);
		buf_free(&canon);
		return e;
	}
	e = job_create_named(r->store, d, r->tok.id, name, buf_str(&canon), f,
	    out, existing);
	buf_free(&canon);
	if (e == Q_OK)
		wake_scheduler(r->conf);
	return e;
}

struct visible {
	struct request	*r;
	unsigned	 states;	/* bit per job_state; 0 = all */
	job_cb		 cb;
	void		*arg;
};

static int
visible_job(const struct job *j, void *arg)
{
	struct visible *v = arg;

	if (!http_may_see_job(v->r, j))
		return 0;
	if (v->states != 0 && !(v->states & (1u << j->state)))
		return 0;
	return v->cb(j, v->arg);
}

/* Lists the jobs the caller may see, newest first (see api.h). */
enum qerr
api_list_jobs(struct request *r, const char *def_id, unsigned states,
    job_cb cb, void *arg)
{
	struct visible v = { r, states, cb, arg };

	if (def_id != NULL)
		return job_list_by_def(r->store, def_id, 0, visible_job, &v);
	return job_list(r->store, r->tok.tenant, visible_job, &v);
}
