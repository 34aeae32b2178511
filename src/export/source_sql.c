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
#include <time.h>

#include <json-c/json.h>

#include "quarry/export.h"
#include "quarry/sqltext.h"
#include "quarry/util.h"

/* The driver for d, or NULL (see export.h). */
/* An RFC 3339 time as "YYYY-MM-DD HH:MM:SS" in UTC (see export.h). */
int
sql_utc_text(const char *rfc3339, char out[32])
{
	time_t		t;
	struct tm	tm;

	if (time_parse_rfc3339(rfc3339, &t) != 0 || gmtime_r(&t, &tm) == NULL)
		return -1;
	return strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) > 0 ? 0 : -1;
}

const struct sql_driver *
sql_driver(enum db_driver d)
{
	switch (d) {
	case DB_SQLITE:		return &sql_driver_sqlite;
	case DB_POSTGRESQL:	return &sql_driver_pg;
	case DB_MYSQL:		return &sql_driver_mysql;
	case DB_ODBC:		return &sql_driver_odbc;
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

/* Checks, renders and binds d's query (see export.h). */
enum qerr
sql_plan(const struct conf *c, const struct definition *d, const char *params,
    struct sql_plan *pl, char *detail, size_t detaillen)
{
	struct refusal		 why;
	const char		*names[SQL_PLACEHOLDERS_MAX];
	size_t			 nnames;
	enum qerr		 e;

	memset(pl, 0, sizeof(*pl));
	if ((pl->t = malloc(sizeof(*pl->t))) == NULL)
		return Q_NOMEM;
	if ((e = definition_sql(c, d, &pl->db, pl->t, &why)) != Q_OK) {
		snprintf(detail, detaillen, "%s", why.msg);
		return e;
	}
	if ((pl->drv = sql_driver(pl->db->driver)) == NULL) {
		snprintf(detail, detaillen, "database '%s': this build of "
		    "Quarry has no %s driver", pl->db->name,
		    db_driver_name(pl->db->driver));
		return Q_INVALID;
	}
	if (params != NULL && params[0] != '\0' &&
	    (pl->given = json_tokener_parse(params)) == NULL)
		return Q_NOMEM;
	if ((e = bind_values(d, pl->t, pl->db->driver, pl->given, names,
	    &nnames, pl->v, &pl->nv)) != Q_OK)
		return e;
	if (sql_render(d->query, pl->t, pl->db->driver, names, nnames,
	    &pl->sql) != 0)
		return Q_NOMEM;
	return Q_OK;
}

void
sql_plan_free(struct sql_plan *pl)
{
	if (pl->given != NULL)
		json_object_put(pl->given);
	free(pl->t);
	buf_free(&pl->sql);
	memset(pl, 0, sizeof(*pl));
}

/* Connects to db with its password (see export.h). */
enum qerr
sql_connect(const struct db_conf *db, struct sql_conn **conn,
    struct sql_error *err)
{
	const struct sql_driver	*drv = sql_driver(db->driver);
	char			 password[512], perr[300];
	enum qerr		 e;

	*conn = NULL;
	if (drv == NULL) {
		snprintf(err->msg, sizeof(err->msg), "this build of Quarry has "
		    "no %s driver", db_driver_name(db->driver));
		return Q_INVALID;
	}
	if (sql_password(db, password, sizeof(password), perr,
	    sizeof(perr)) != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s", perr);
		return Q_INVALID;
	}
	e = drv->connect(db, password, conn, err);
	explicit_bzero(password, sizeof(password));
	if (e == Q_OK)
		return Q_OK;
	return err->transient ? Q_TRANSIENT : e;
}

/* Runs d's query through p (see export.h). */
enum qerr
source_sql(const struct conf *c, const struct definition *d,
    const char *params, struct rowpipe *p, struct build_result *res)
{
	struct sql_plan		 pl;
	struct sql_conn		*conn = NULL;
	struct sql_error	 err;
	struct sql_run		 run;
	struct sql_sink		 sink = { sink_begin, sink_row, sink_tick,
				    &run };
	enum qerr		 e;
	size_t			 i;

	memset(&err, 0, sizeof(err));
	memset(&run, 0, sizeof(run));
	if ((e = sql_plan(c, d, params, &pl, res->detail,
	    sizeof(res->detail))) != Q_OK)
		goto out;
	run.p = p;
	run.d = d;
	run.params = params;
	run.detail = res->detail;
	run.detaillen = sizeof(res->detail);
	snprintf(run.what, sizeof(run.what), "database '%s'", pl.db->name);
	e = sql_connect(pl.db, &conn, &err);
	if (e == Q_OK)
		e = pl.drv->query(conn, buf_str(&pl.sql), pl.v, pl.nv, &sink,
		    &err);
	if (conn != NULL)
		pl.drv->close(conn);
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
			    pl.db->name, pl.db->query_timeout);
			e = Q_TIMEOUT;
		} else if (err.msg[0] != '\0') {
			snprintf(res->detail, sizeof(res->detail), "database "
			    "'%s': %s", pl.db->name, err.msg);
			if (err.transient)
				e = Q_TRANSIENT;
		}
	}
out:
	sql_plan_free(&pl);
	for (i = 0; i < run.ncols; i++)
		free(run.names[i]);
	free(run.names);
	return e;
}
