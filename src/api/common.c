/*
 * Lookups every dialect's handlers share: visibility (tenant, role,
 * ownership) is decided here, so a resource the caller may not see is
 * indistinguishable from a missing one.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "quarry/build.h"
#include "quarry/format.h"

/* Loads a definition of the caller's tenant (see api.h). */
enum qerr
api_definition(struct request *r, const char *id, struct definition *out)
{
	enum qerr e;

	memset(out, 0, sizeof(*out));
	if (id == NULL || !id_valid(id))
		return Q_NOTFOUND;
	if ((e = definition_get(r->store, id, out)) != Q_OK)
		return e;
	if (strcmp(out->tenant, r->tok.tenant) != 0) {
		definition_free(out);
		memset(out, 0, sizeof(*out));
		return Q_NOTFOUND;
	}
	return Q_OK;
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

/*
 * A download's file name: the definition's name made safe (letters,
 * digits, '-', '_', '.', and any UTF-8 letters; the rest become '_'),
 * the job's finish date and the format's extension.
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
	    fmt_extension(j->format));
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
	e = http_send_file(r, path, fmt_content_type(j->format), name);
	if (e == Q_NOTFOUND) {
		/* Completed in the store, but the file is gone from disk. */
		snprintf(r->err_msg, sizeof(r->err_msg), "the job's file is "
		    "missing");
		return Q_GONE;
	}
	return e;
}
