/*
 * The export pipeline, stage 1: the SQL source (docs/sources.md).  The
 * definition's query is checked against its configured database again
 * (the configuration may have changed since the definition was saved),
 * rendered with the driver's own placeholders, and run with the job's
 * parameters bound; the driver streams the rows through the pipe, each
 * value checked as UTF-8 text on the way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "quarry/export.h"
#include "quarry/sqltext.h"
#include "quarry/util.h"

/* The driver for d, or NULL (see export.h). */
const struct sql_driver *
sql_driver(enum db_driver d)
{
	switch (d) {
	case DB_SQLITE:		return &sql_driver_sqlite;
	case DB_POSTGRESQL:
	case DB_MYSQL:
	case DB_ODBC:
	case DB_NONE:		break;
	}
	return NULL;
}

/* Reads db's password file (see export.h). */
int
sql_password(const struct db_conf *db, char *out, size_t len, char *err,
    size_t errlen)
{
	FILE	*f;
	size_t	 n;

	out[0] = '\0';
	if (db->password_file[0] == '\0')
		return 0;
	if ((f = fopen(db->password_file, "r")) == NULL) {
		snprintf(err, errlen, "cannot read password_file %s: %s",
		    db->password_file, strerror(errno));
		return -1;
	}
	if (fgets(out, (int)len, f) == NULL)
		out[0] = '\0';
	fclose(f);
	n = strcspn(out, "\r\n");
	if (out[n] == '\0' && n == len - 1) {
		explicit_bzero(out, len);
		snprintf(err, errlen, "the password in %s is too long",
		    db->password_file);
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* What the driver's rows go through. */
struct sql_run {
	struct rowpipe			*p;
	const struct definition		*d;
	const char			*params;
	char				 what[96];
	char				*detail;
	size_t				 detaillen;
	uint64_t			 row;
	char				**names;
	size_t				 ncols;
};

static enum qerr
sink_begin(void *arg, char *const *names, size_t n)
{
	struct sql_run	*r = arg;
	size_t		 i;

	if ((r->names = calloc(n ? n : 1, sizeof(char *))) == NULL)
		return Q_NOMEM;
	for (i = 0; i < n; i++) {
		if (utf8_check(names[i], strlen(names[i])) !=
		    strlen(names[i])) {
			snprintf(r->detail, r->detaillen, "%s: result column "
			    "%zu has a name that is not UTF-8 text", r->what,
			    i + 1);
			return Q_INVALID;
		}
		if ((r->names[i] = strdup(names[i])) == NULL)
			return Q_NOMEM;
		r->ncols = i + 1;
	}
	r->p->typed = 1;
	return rowpipe_begin(r->p, r->d, names, n, r->params, r->what,
	    r->detail, r->detaillen);
}

static int
sink_row(void *arg, const char *const *fields, const size_t *lens,
    const enum vtype *types, size_t n)
{
	struct sql_run	*r = arg;
	size_t		 i;

	r->row++;
	for (i = 0; i < n; i++)
		if (fields[i] != NULL &&
		    utf8_check(fields[i], lens[i]) != lens[i]) {
			snprintf(r->detail, r->detaillen, "%s: row %llu, "
			    "column '%s' is not UTF-8 text", r->what,
			    (unsigned long long)r->row,
			    i < r->ncols ? r->names[i] : "?");
			return Q_INVALID;
		}
	r->p->types = types;
	return rowpipe_row(fields, lens, n, r->p);
}

static int
sink_tick(void *arg)
{
	struct sql_run *r = arg;

	return rowpipe_progress(r->p);
}

/*
 * The values to bind, in the order of the rendered query: for
 * postgresql one per distinct name (names), else one per placeholder.
 * A parameter the job did not give binds NULL.
 */
static enum qerr
bind_values(const struct definition *d, const struct sql_text *t,
    enum db_driver drv, struct json_object *given, const char **names,
    size_t *nnames, struct sql_value *v, size_t *nv)
{
	struct json_object	*o;
	size_t			 i, k;

	*nnames = 0;
	for (i = 0; i < t->nph; i++) {
		for (k = 0; k < *nnames; k++)
			if (strcmp(names[k], t->ph[i].name) == 0)
				break;
		if (k == *nnames)
			names[(*nnames)++] = t->ph[i].name;
	}
	*nv = 0;
	for (i = 0; i < (drv == DB_POSTGRESQL ? *nnames : t->nph); i++) {
		const char *name = drv == DB_POSTGRESQL ? names[i] :
		    t->ph[i].name;

		for (k = 0; k < d->nparams; k++)
			if (strcmp(d->params[k].name, name) == 0)
				break;
		if (k == d->nparams)
			return Q_INVALID;	/* definition_sql checked */
		v[*nv].type = d->params[k].type;
		v[*nv].s = NULL;
		if (given != NULL &&
		    json_object_object_get_ex(given, name, &o) &&
		    json_object_is_type(o, json_type_string))
			v[*nv].s = json_object_get_string(o);
		(*nv)++;
	}
	return Q_OK;
}

/* Runs d's query through p (see export.h). */
enum qerr
source_sql(const struct conf *c, const struct definition *d,
    const char *params, struct rowpipe *p, struct build_result *res)
{
	static struct sql_text	 t;
	static const char	*names[SQL_PLACEHOLDERS_MAX];
	static struct sql_value	 v[SQL_PLACEHOLDERS_MAX];
	const struct db_conf	*db;
	const struct sql_driver	*drv;
	struct sql_conn		*conn = NULL;
	struct sql_error	 err;
	struct sql_run		 run;
	struct sql_sink		 sink = { sink_begin, sink_row, sink_tick,
				    &run };
	struct json_object	*given = NULL;
	struct refusal		 why;
	struct buf		 sql = BUF_INIT;
	char			 password[512], perr[300];
	size_t			 nnames, nv;
	enum qerr		 e;

	memset(&err, 0, sizeof(err));
	memset(&run, 0, sizeof(run));
	if ((e = definition_sql(c, d, &db, &t, &why)) != Q_OK) {
		snprintf(res->detail, sizeof(res->detail), "%s", why.msg);
		return e;
	}
	if ((drv = sql_driver(db->driver)) == NULL) {
		snprintf(res->detail, sizeof(res->detail), "database '%s': "
		    "this build of Quarry has no %s driver", db->name,
		    db_driver_name(db->driver));
		return Q_INVALID;
	}
	if (params != NULL && params[0] != '\0' &&
	    (given = json_tokener_parse(params)) == NULL)
		return Q_NOMEM;
	if ((e = bind_values(d, &t, db->driver, given, names, &nnames, v,
	    &nv)) != Q_OK ||
	    (e = sql_render(d->query, &t, db->driver, names, nnames, &sql) ?
	    Q_NOMEM : Q_OK) != Q_OK)
		goto out;
	if (sql_password(db, password, sizeof(password), perr,
	    sizeof(perr)) != 0) {
		snprintf(res->detail, sizeof(res->detail), "database '%s': %s",
		    db->name, perr);
		e = Q_INVALID;
		goto out;
	}
	run.p = p;
	run.d = d;
	run.params = params;
	run.detail = res->detail;
	run.detaillen = sizeof(res->detail);
	snprintf(run.what, sizeof(run.what), "database '%s'", db->name);
	e = drv->connect(db, password, &conn, &err);
	explicit_bzero(password, sizeof(password));
	if (e == Q_OK)
		e = drv->query(conn, buf_str(&sql), v, nv, &sink, &err);
	if (conn != NULL)
		drv->close(conn);
	if (p->stopped)
		e = Q_CANCELLED;
	else if (e == Q_OK) {
		if (!p->begun)		/* a driver that saw no result */
			e = sink_begin(&run, NULL, 0);
		if (e == Q_OK)
			e = rowpipe_end(p);
	} else if (res->detail[0] == '\0') {
		if (err.timeout) {
			snprintf(res->detail, sizeof(res->detail), "database "
			    "'%s': the query ran past query_timeout (%llds)",
			    db->name, db->query_timeout);
			e = Q_TIMEOUT;
		} else if (err.msg[0] != '\0') {
			snprintf(res->detail, sizeof(res->detail), "database "
			    "'%s': %s", db->name, err.msg);
			if (err.transient)
				e = Q_TRANSIENT;
		}
	}
out:
	if (given != NULL)
		json_object_put(given);
	if (run.names != NULL) {
		size_t i;

		for (i = 0; i < run.ncols; i++)
			free(run.names[i]);
		free(run.names);
	}
	buf_free(&sql);
	return e;
}
