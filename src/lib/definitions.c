/*
 * Definitions: what to extract and how (SPEC section 3).
 *
 * Record 'F' version 1 (key id): id, tenant, created, modified, doc (the
 * validated JSON document, without id and times).  The parsed form is
 * rebuilt from doc on every read, so validation lives in one place:
 * definition_parse().
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "quarry/config.h"
#include "quarry/jsonutil.h"
#include "quarry/model.h"
#include "quarry/rec.h"
#include "quarry/seams.h"
#include "quarry/sqltext.h"
#include "records.h"

#define DEF_V		1
#define MAX_ITEMS	256
#define MAX_ARG_LEN	4096
#define MAX_DESC_LEN	4000

static const char *const fmt_names[FMT_COUNT] = { "csv", "tsv", "json",
    "xml" };
static const char *const ptype_names[] = { "string", "int", "decimal",
    "date", "datetime" };
static const char *const op_names[] = { "=", "!=", "<", "<=", ">", ">=",
    "prefix" };

const char *
fmt_name(enum fmt f)
{
	return f < FMT_COUNT ? fmt_names[f] : "csv";
}

int
fmt_parse(const char *s, enum fmt *out)
{
	int i;

	for (i = 0; i < FMT_COUNT; i++)
		if (strcmp(s, fmt_names[i]) == 0) {
			*out = (enum fmt)i;
			return 0;
		}
	return -1;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
definition_free(struct definition *d)
{
	size_t i;

	free(d->name);
	free(d->description);
	free(d->dataset);
	free(d->command);
	free(d->database);
	free(d->query);
	free_strv(d->args, d->nargs);
	free_strv(d->columns, d->ncolumns);
	for (i = 0; i < d->nparams; i++)
		free(d->params[i].name);
	free(d->params);
	for (i = 0; i < d->nfilters; i++) {
		free(d->filters[i].column);
		free(d->filters[i].param);
	}
	free(d->filters);
	free(d->doc);
	memset(d, 0, sizeof(*d));
}

/* ---- parsing ---- */

struct perr {
	char	*field;
	size_t	 fieldlen;
	char	*err;
	size_t	 errlen;
};

static enum qerr
bad(struct perr *pe, const char *field, const char *why)
{
	snprintf(pe->field, pe->fieldlen, "%s", field);
	snprintf(pe->err, pe->errlen, "%s: %s", field, why);
	return Q_INVALID;
}

/* A command name: a file name in the extractors directory (see model.h). */
int
command_name_valid(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

static int
param_name_valid(const char *s)
{
	size_t i;

	if (!islower((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= 64 || !(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

static enum qerr
get_string(struct json_object *o, const char *field, size_t maxlen,
    int required, char **out, struct perr *pe)
{
	const char *s;

	*out = NULL;
	if (o == NULL)
		return required ? bad(pe, field, "is required") : Q_OK;
	if (!json_object_is_type(o, json_type_string))
		return bad(pe, field, "must be a string");
	s = json_object_get_string(o);
	if ((size_t)json_object_get_string_len(o) != strlen(s))
		return bad(pe, field, "must not contain NUL");
	if (strlen(s) > maxlen)
		return bad(pe, field, "is too long");
	if (required && *s == '\0')
		return bad(pe, field, "must not be empty");
	if ((*out = strdup(s)) == NULL)
		return Q_NOMEM;
	return Q_OK;
}

static enum qerr
get_bool(struct json_object *o, const char *field, int *out,
    struct perr *pe)
{
	if (o == NULL)
		return Q_OK;
	if (!json_object_is_type(o, json_type_boolean))
		return bad(pe, field, "must be true or false");
	*out = json_object_get_boolean(o);
	return Q_OK;
}

static enum qerr
get_strv(struct json_object *o, const char *field, size_t maxlen,
    char ***out, size_t *n, struct perr *pe)
{
	char	 name[64];
	size_t	 i, len;
	enum qerr e;

	if (o == NULL)
		return Q_OK;
	if (!json_object_is_type(o, json_type_array))
		return bad(pe, field, "must be an array of strings");
	len = json_object_array_length(o);
	if (len > MAX_ITEMS)
		return bad(pe, field, "has too many items");
	if (len == 0)
		return Q_OK;
	if ((*out = calloc(len, sizeof(char *))) == NULL)
		return Q_NOMEM;
	for (i = 0; i < len; i++) {
		snprintf(name, sizeof(name), "%s[%zu]", field, i);
		e = get_string(json_object_array_get_idx(o, i), name, maxlen,
		    0, &(*out)[i], pe);
		if (e != Q_OK)
			return e;
		(*n)++;
	}
	return Q_OK;
}

static int
in_list(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static enum qerr
parse_source(struct json_object *o, struct definition *d, struct perr *pe)
{
	struct json_object	*ds, *cmd, *args, *db, *q;
	enum qerr		 e;

	if (o == NULL)
		return bad(pe, "source", "is required");
	if (!json_object_is_type(o, json_type_object))
		return bad(pe, "source", "must be an object");
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "dataset") && strcmp(key, "command") &&
		    strcmp(key, "args") && strcmp(key, "database") &&
		    strcmp(key, "query"))
			return bad(pe, "source", "has an unknown member");
	}
	ds = json_object_object_get(o, "dataset");
	cmd = json_object_object_get(o, "command");
	args = json_object_object_get(o, "args");
	db = json_object_object_get(o, "database");
	q = json_object_object_get(o, "query");
	if ((ds != NULL) + (cmd != NULL) + (db != NULL) != 1)
		return bad(pe, "source", "needs exactly one of dataset, "
		    "command and database");
	if (args != NULL && cmd == NULL)
		return bad(pe, "source.args", "only goes with command");
	if (q != NULL && db == NULL)
		return bad(pe, "source.query", "only goes with database");
	if (db != NULL) {
		if ((e = get_string(db, "source.database", DB_NAME_MAX, 1,
		    &d->database, pe)) != Q_OK)
			return e;
		if ((e = get_string(q, "source.query", SQL_QUERY_MAX, 1,
		    &d->query, pe)) != Q_OK)
			return e;
		return Q_OK;
	}
	if (ds != NULL) {
		if ((e = get_string(ds, "source.dataset", 32, 1, &d->dataset,
		    pe)) != Q_OK)
			return e;
		if (!name_valid(d->dataset))
			return bad(pe, "source.dataset", "is not a dataset "
			    "name (a-z, 0-9, '_', '-')");
		return Q_OK;
	}
	if ((e = get_string(cmd, "source.command", 64, 1, &d->command, pe)) !=
	    Q_OK)
		return e;
	if (!command_name_valid(d->command))
		return bad(pe, "source.command", "must be a file name in the "
		    "extractors directory, not a path");
	return get_strv(args, "source.args", MAX_ARG_LEN, &d->args, &d->nargs,
	    pe);
}

static enum qerr
parse_params(struct json_object *o, struct definition *d, struct perr *pe)
{
	struct json_object	*p, *v;
	char			 f[64];
	size_t			 i, j, len;
	int			 t;
	enum qerr		 e;

	if (o == NULL)
		return Q_OK;
	if (!json_object_is_type(o, json_type_array))
		return bad(pe, "parameters", "must be an array");
	if ((len = json_object_array_length(o)) > 64)
		return bad(pe, "parameters", "has too many items");
	if (len == 0)
		return Q_OK;
	if ((d->params = calloc(len, sizeof(*d->params))) == NULL)
		return Q_NOMEM;
	for (i = 0; i < len; i++) {
		p = json_object_array_get_idx(o, i);
		snprintf(f, sizeof(f), "parameters[%zu]", i);
		if (!json_object_is_type(p, json_type_object))
			return bad(pe, f, "must be an object");
		json_object_object_foreach(p, key, val) {
			(void)val;
			if (strcmp(key, "name") && strcmp(key, "type") &&
			    strcmp(key, "required"))
				return bad(pe, f, "has an unknown member");
		}
		snprintf(f, sizeof(f), "parameters[%zu].name", i);
		if ((e = get_string(json_object_object_get(p, "name"), f, 64,
		    1, &d->params[i].name, pe)) != Q_OK)
			return e;
		d->nparams++;
		if (!param_name_valid(d->params[i].name))
			return bad(pe, f, "must be a-z, 0-9 and '_', starting "
			    "with a letter");
		for (j = 0; j < i; j++)
			if (strcmp(d->params[j].name, d->params[i].name) == 0)
				return bad(pe, f, "is declared twice");
		snprintf(f, sizeof(f), "parameters[%zu].type", i);
		v = json_object_object_get(p, "type");
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    (t = in_list(json_object_get_string(v), ptype_names,
		    5)) < 0)
			return bad(pe, f, "must be one of string, int, "
			    "decimal, date, datetime");
		d->params[i].type = (enum ptype)t;
		snprintf(f, sizeof(f), "parameters[%zu].required", i);
		if ((e = get_bool(json_object_object_get(p, "required"), f,
		    &d->params[i].required, pe)) != Q_OK)
			return e;
	}
	return Q_OK;
}

static enum qerr
parse_filters(struct json_object *o, struct definition *d, struct perr *pe)
{
	struct json_object	*p, *v;
	char			 f[64];
	size_t			 i, j, len;
	int			 op;
	enum qerr		 e;

	if (o == NULL)
		return Q_OK;
	if (!json_object_is_type(o, json_type_array))
		return bad(pe, "filters", "must be an array");
	if ((len = json_object_array_length(o)) > 64)
		return bad(pe, "filters", "has too many items");
	if (len == 0)
		return Q_OK;
	if ((d->filters = calloc(len, sizeof(*d->filters))) == NULL)
		return Q_NOMEM;
	for (i = 0; i < len; i++) {
		p = json_object_array_get_idx(o, i);
		snprintf(f, sizeof(f), "filters[%zu]", i);
		if (!json_object_is_type(p, json_type_object))
			return bad(pe, f, "must be an object");
		json_object_object_foreach(p, key, val) {
			(void)val;
			if (strcmp(key, "column") && strcmp(key, "op") &&
			    strcmp(key, "parameter"))
				return bad(pe, f, "has an unknown member");
		}
		d->nfilters++;
		snprintf(f, sizeof(f), "filters[%zu].column", i);
		if ((e = get_string(json_object_object_get(p, "column"), f,
		    256, 1, &d->filters[i].column, pe)) != Q_OK)
			return e;
		snprintf(f, sizeof(f), "filters[%zu].op", i);
		v = json_object_object_get(p, "op");
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    (op = in_list(json_object_get_string(v), op_names, 7)) < 0)
			return bad(pe, f, "must be one of =, !=, <, <=, >, >=, "
			    "prefix");
		d->filters[i].op = (enum fop)op;
		snprintf(f, sizeof(f), "filters[%zu].parameter", i);
		if ((e = get_string(json_object_object_get(p, "parameter"), f,
		    64, 1, &d->filters[i].param, pe)) != Q_OK)
			return e;
		for (j = 0; j < d->nparams; j++)
			if (strcmp(d->params[j].name, d->filters[i].param) == 0)
				break;
		if (j == d->nparams)
			return bad(pe, f, "names no declared parameter");
	}
	return Q_OK;
}

static enum qerr
parse_formats(struct json_object *o, struct definition *d, struct perr *pe)
{
	struct json_object	*v;
	char			 f[32];
	size_t			 i, j, len;
	enum fmt		 fm;

	if (o == NULL) {
		d->formats[0] = FMT_CSV;
		d->nformats = 1;
		return Q_OK;
	}
	if (!json_object_is_type(o, json_type_array) ||
	    (len = json_object_array_length(o)) == 0)
		return bad(pe, "formats", "must be a non-empty array");
	if (len > FMT_COUNT)
		return bad(pe, "formats", "has too many items");
	for (i = 0; i < len; i++) {
		v = json_object_array_get_idx(o, i);
		snprintf(f, sizeof(f), "formats[%zu]", i);
		if (!json_object_is_type(v, json_type_string) ||
		    fmt_parse(json_object_get_string(v), &fm) != 0)
			return bad(pe, f, "must be one of csv, tsv, json, xml");
		for (j = 0; j < d->nformats; j++)
			if (d->formats[j] == fm)
				return bad(pe, f, "is listed twice");
		d->formats[d->nformats++] = fm;
	}
	return Q_OK;
}

static const char *const known_members[] = {
	"tenant", "name", "description", "source", "columns", "parameters",
	"filters", "formats", "approval", "retention", "rows_per_file",
	"formula_guard", "expire_after_download", "id"
};

/*
 * Validates the document o (which it takes) into d; a missing "tenant"
 * is tenant (NULL: required).
 */
static enum qerr
parse_object(struct json_object *o, const char *tenant, struct definition *d,
    struct perr *pe_)
{
	struct perr		 pe = *pe_;
	struct json_object	*v;
	char			*s = NULL;
	size_t			 i, j;
	int64_t			 n;
	long long		 secs;
	enum qerr		 e;

	memset(d, 0, sizeof(*d));
	pe.field[0] = '\0';
	if (!json_object_is_type(o, json_type_object)) {
		e = bad(&pe, "", "the definition must be a JSON object");
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (in_list(key, known_members, sizeof(known_members) /
		    sizeof(known_members[0])) < 0) {
			e = bad(&pe, key, "is not a member of a definition");
			goto out;
		}
	}
	if (tenant != NULL && tenant[0] != '\0' &&
	    !json_object_object_get_ex(o, "tenant", NULL))
		json_object_object_add(o, "tenant",
		    json_object_new_string(tenant));
	if ((e = get_string(json_object_object_get(o, "tenant"), "tenant", 32,
	    1, &s, &pe)) != Q_OK)
		goto out;
	if (!name_valid(s)) {
		e = bad(&pe, "tenant", "is not a tenant name (a-z, 0-9, '_', "
		    "'-')");
		goto out;
	}
	snprintf(d->tenant, sizeof(d->tenant), "%s", s);
	if ((e = get_string(json_object_object_get(o, "name"), "name",
	    NAME_MAX_LEN, 1, &d->name, &pe)) != Q_OK ||
	    (e = get_string(json_object_object_get(o, "description"),
	    "description", MAX_DESC_LEN, 0, &d->description, &pe)) != Q_OK ||
	    (e = parse_source(json_object_object_get(o, "source"), d, &pe)) !=
	    Q_OK ||
	    (e = get_strv(json_object_object_get(o, "columns"), "columns", 256,
	    &d->columns, &d->ncolumns, &pe)) != Q_OK ||
	    (e = parse_params(json_object_object_get(o, "parameters"), d,
	    &pe)) != Q_OK ||
	    (e = parse_filters(json_object_object_get(o, "filters"), d,
	    &pe)) != Q_OK ||
	    (e = parse_formats(json_object_object_get(o, "formats"), d,
	    &pe)) != Q_OK ||
	    (e = get_bool(json_object_object_get(o, "approval"), "approval",
	    &d->approval, &pe)) != Q_OK ||
	    (e = get_bool(json_object_object_get(o, "formula_guard"),
	    "formula_guard", &d->formula_guard, &pe)) != Q_OK ||
	    (e = get_bool(json_object_object_get(o, "expire_after_download"),
	    "expire_after_download", &d->expire_after_download, &pe)) != Q_OK)
		goto out;
	if (d->database != NULL && d->nfilters > 0) {
		e = bad(&pe, "filters", "do not apply to a SQL source: filter "
		    "in the query, with its parameters");
		goto out;
	}
	for (i = 0; i < d->ncolumns; i++) {
		if (d->columns[i][0] == '\0') {
			e = bad(&pe, "columns", "must not hold an empty name");
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(d->columns[i], d->columns[j]) == 0) {
				e = bad(&pe, "columns", "names a column twice");
				goto out;
			}
	}
	d->retention = 7 * 86400;
	if ((v = json_object_object_get(o, "retention")) != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    duration_parse(json_object_get_string(v), &secs) != 0 ||
		    secs <= 0) {
			e = bad(&pe, "retention", "must be a duration such as "
			    "\"12h\", \"7d\" or \"2w\"");
			goto out;
		}
		d->retention = secs;
	}
	if ((v = json_object_object_get(o, "rows_per_file")) != NULL) {
		if (!json_object_is_type(v, json_type_int) ||
		    (n = json_object_get_int64(v)) < 0) {
			e = bad(&pe, "rows_per_file", "must be a whole number "
			    ">= 0");
			goto out;
		}
		d->rows_per_file = (uint64_t)n;
	}
	json_object_object_del(o, "id");
	if ((d->doc = strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN))) == NULL)
		e = Q_NOMEM;
out:
	free(s);
	json_object_put(o);
	if (e != Q_OK)
		definition_free(d);
	return e;
}

/* Parses and validates a definition document (see model.h). */
enum qerr
definition_parse(const char *json, size_t len, struct definition *d,
    char *field, size_t fieldlen, char *err, size_t errlen)
{
	struct perr		 pe = { field, fieldlen, err, errlen };
	struct json_object	*o = NULL;
	enum qerr		 e;

	memset(d, 0, sizeof(*d));
	field[0] = '\0';
	if ((e = json_parse_strict(json, len, &o, err, errlen)) != Q_OK)
		return e;
	return parse_object(o, NULL, d, &pe);
}

/* The same from a parsed document (see model.h). */
enum qerr
definition_from_json(struct json_object *doc, const char *tenant,
    struct definition *d, struct refusal *why)
{
	struct perr		 pe = { why->member, sizeof(why->member), why->msg,
				    sizeof(why->msg) };
	struct json_object	*o = NULL;

	memset(d, 0, sizeof(*d));
	why->input = IN_DOCUMENT;
	if (json_object_deep_copy(doc, &o, NULL) != 0)
		return Q_NOMEM;
	return parse_object(o, tenant, d, &pe);
}

/* ---- storage ---- */

static void
def_encode(struct buf *b, const struct definition *d)
{
	rec_begin(b, 'F', DEF_V);
	rec_str(b, d->id);
	rec_str(b, d->tenant);
	rec_u64(b, (uint64_t)d->created);
	rec_u64(b, (uint64_t)d->modified);
	rec_str(b, d->doc);
}

enum qerr
def_decode(const void *p, size_t n, struct definition *d)
{
	struct rec_reader	 r;
	char			 id[ID_LEN + 1], field[64], err[256];
	char			*doc;
	time_t			 created, modified;
	enum qerr		 e;

	memset(d, 0, sizeof(*d));
	rec_open(&r, p, n, 'F');
	if (r.version != DEF_V)
		return Q_STORE;
	rec_get_strn(&r, id, sizeof(id));
	rec_get_ref(&r, &(size_t){0});
	created = (time_t)rec_get_u64(&r);
	modified = (time_t)rec_get_u64(&r);
	if ((doc = rec_get_str(&r)) == NULL || r.err) {
		free(doc);
		return Q_STORE;
	}
	e = definition_parse(doc, strlen(doc), d, field, sizeof(field), err,
	    sizeof(err));
	free(doc);
	if (e != Q_OK)
		return e == Q_NOMEM ? e : Q_STORE;
	memcpy(d->id, id, sizeof(id));
	d->created = created;
	d->modified = modified;
	return Q_OK;
}

static void
tenant_key(struct buf *k, const char *tenant, const char *id)
{
	buf_reset(k);
	buf_adds(k, tenant);
	buf_addc(k, '\0');
	buf_adds(k, id);
}

/* Reads definition id in tx if who may see it; Q_NOTFOUND otherwise. */
static enum qerr
read_visible(struct stx *tx, const struct caller *who, const char *id,
    struct definition *d)
{
	struct buf	v = BUF_INIT;
	enum qerr	e;

	memset(d, 0, sizeof(*d));
	if ((e = stx_get(tx, T_DEFS, id, ID_LEN, &v)) == Q_OK)
		e = def_decode(v.data, v.len, d);
	buf_free(&v);
	if (e == Q_OK && !caller_sees_tenant(who, d->tenant)) {
		definition_free(d);
		e = Q_NOTFOUND;
	}
	return e;
}

struct def_op {
	const struct caller	*who;
	const char		*id;
	struct definition	*d;	/* the one read, or the new one */
};

static enum qerr
tx_def_get(struct stx *tx, void *arg)
{
	struct def_op *op = arg;

	definition_free(op->d);
	return read_visible(tx, op->who, op->id, op->d);
}

/* Loads a definition who may see (see model.h). */
enum qerr
definition_get(struct store *s, const struct caller *who, const char *id,
    struct definition *out)
{
	struct def_op op = { who, id, out };

	memset(out, 0, sizeof(*out));
	if (id == NULL || !id_valid(id))
		return Q_NOTFOUND;
	return store_txn(s, tx_def_get, &op);
}

/* A SQL source's query against the configuration (see model.h). */
enum qerr
definition_sql(const struct conf *c, const struct definition *d,
    const struct db_conf **db, struct sql_text *t, struct refusal *why)
{
	char	err[200];
	size_t	i, k;

	why->input = IN_DOCUMENT;
	if ((*db = conf_database(c, d->database)) == NULL) {
		snprintf(why->member, sizeof(why->member), "source.database");
		snprintf(why->msg, sizeof(why->msg), "source.database: names "
		    "no database of the configuration");
		return Q_INVALID;
	}
	snprintf(why->member, sizeof(why->member), "source.query");
	if (sql_scan(d->query, strlen(d->query), (*db)->driver, t, err,
	    sizeof(err)) != 0) {
		snprintf(why->msg, sizeof(why->msg), "source.query: %s", err);
		return Q_INVALID;
	}
	for (i = 0; i < t->nph; i++) {
		for (k = 0; k < d->nparams; k++)
			if (strcmp(d->params[k].name, t->ph[i].name) == 0)
				break;
		if (k == d->nparams) {
			snprintf(why->msg, sizeof(why->msg), "source.query: "
			    ":%s names no declared parameter", t->ph[i].name);
			return Q_INVALID;
		}
	}
	why->member[0] = '\0';
	return Q_OK;
}

/*
 * The checks shared by create and replace: who is an admin, the
 * document (a missing tenant is who's) names a tenant who may see, and
 * a SQL source's query fits its configured database.
 */
static enum qerr
admit_document(const struct conf *c, const struct caller *who,
    struct json_object *doc, struct definition *d, struct refusal *why)
{
	static struct sql_text	 t;	/* large: not on the stack */
	const struct db_conf	*db;
	enum qerr		 e;

	if ((e = definition_from_json(doc, who->tenant, d, why)) != Q_OK)
		return e;
	if (d->database != NULL &&
	    (e = definition_sql(c, d, &db, &t, why)) != Q_OK) {
		definition_free(d);
		return e;
	}
	if (!caller_sees_tenant(who, d->tenant)) {
		definition_free(d);
		why->input = IN_DOCUMENT;
		snprintf(why->member, sizeof(why->member), "tenant");
		snprintf(why->msg, sizeof(why->msg), "tenant must be the "
		    "caller's own tenant");
		return Q_INVALID;
	}
	return Q_OK;
}

static enum qerr
tx_def_create(struct stx *tx, void *arg)
{
	struct def_op		*op = arg;
	struct definition	*d = op->d;
	struct buf		 v = BUF_INIT, k = BUF_INIT;
	enum qerr		 e;

	def_encode(&v, d);
	tenant_key(&k, d->tenant, d->id);
	if (v.oom || k.oom)
		e = Q_NOMEM;
	else if ((e = stx_put_new(tx, T_DEFS, d->id, ID_LEN, v.data, v.len)) ==
	    Q_OK &&
	    (e = stx_put_new(tx, T_DEFS_BY_TENANT, k.data, k.len, "", 0)) ==
	    Q_OK)
		e = audit_write(tx, op->who, "definition.create", "definition",
		    d->id, d->name);
	buf_free(&v);
	buf_free(&k);
	return e;
}

/* Creates a definition from a document (see model.h). */
enum qerr
definition_create(struct store *s, const struct caller *who,
    struct json_object *doc, struct definition *out, struct refusal *why)
{
	struct def_op	op = { who, NULL, out };
	enum qerr	e;

	memset(out, 0, sizeof(*out));
	memset(why, 0, sizeof(*why));
	if (!caller_is_admin(who))
		return Q_FORBIDDEN;
	if ((e = admit_document(store_conf(s), who, doc, out, why)) != Q_OK)
		return e;
	if ((e = id_new(out->id)) == Q_OK) {
		out->created = out->modified = q_seams.now();
		e = store_txn(s, tx_def_create, &op);
	}
	if (e != Q_OK)
		definition_free(out);
	return e;
}

static enum qerr
tx_def_replace(struct stx *tx, void *arg)
{
	struct def_op		*op = arg;
	struct definition	*d = op->d;
	struct definition	 old;
	struct buf		 v = BUF_INIT;
	enum qerr		 e;

	if ((e = read_visible(tx, op->who, op->id, &old)) != Q_OK)
		return e;
	if (strcmp(old.tenant, d->tenant) != 0)
		e = Q_NOTFOUND;		/* the document moves it: not there */
	d->created = old.created;
	definition_free(&old);
	if (e != Q_OK)
		return e;
	def_encode(&v, d);
	e = v.oom ? Q_NOMEM : stx_put(tx, T_DEFS, d->id, ID_LEN, v.data,
	    v.len);
	buf_free(&v);
	if (e == Q_OK)
		e = audit_write(tx, op->who, "definition.replace",
		    "definition", d->id, d->name);
	return e;
}

/* Replaces a definition by a document (see model.h). */
enum qerr
definition_replace(struct store *s, const struct caller *who, const char *id,
    struct json_object *doc, struct definition *out, struct refusal *why)
{
	struct def_op	op = { who, id, out };
	enum qerr	e;

	memset(out, 0, sizeof(*out));
	memset(why, 0, sizeof(*why));
	if (!caller_is_admin(who))
		return Q_FORBIDDEN;
	/* What who may not see answers 404 before its document is read. */
	if ((e = definition_get(s, who, id, out)) != Q_OK)
		return e;
	definition_free(out);
	if ((e = admit_document(store_conf(s), who, doc, out, why)) != Q_OK)
		return e;
	memcpy(out->id, id, sizeof(out->id));
	out->modified = q_seams.now();
	if ((e = store_txn(s, tx_def_replace, &op)) != Q_OK)
		definition_free(out);
	return e;
}

static int
found_any(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	*(int *)arg = 1;
	return VISIT_STOP;
}

static enum qerr
tx_def_delete(struct stx *tx, void *arg)
{
	struct def_op	*op = arg;
	struct buf	 k = BUF_INIT;
	int		 active = 0;
	enum qerr	 e;

	definition_free(op->d);
	if ((e = read_visible(tx, op->who, op->id, op->d)) != Q_OK)
		return e;
	tenant_key(&k, op->d->tenant, op->id);
	buf_addc(&k, '\0');
	if ((e = stx_scan(tx, T_ACTIVE, k.data, k.len, NULL, 0, found_any,
	    &active)) != Q_OK)
		goto out;
	if (active) {
		e = Q_EXISTS;
		goto out;
	}
	k.len--;
	if ((e = stx_del(tx, T_DEFS, op->id, ID_LEN)) == Q_OK &&
	    (e = stx_del(tx, T_DEFS_BY_TENANT, k.data, k.len)) == Q_OK)
		e = audit_write(tx, op->who, "definition.delete",
		    "definition", op->id, op->d->name);
out:
	buf_free(&k);
	return e;
}

/* Deletes a definition (see model.h). */
enum qerr
definition_delete(struct store *s, const struct caller *who, const char *id)
{
	struct definition	d;
	struct def_op		op = { who, id, &d };
	enum qerr		e;

	memset(&d, 0, sizeof(d));
	if (!caller_is_admin(who))
		return Q_FORBIDDEN;
	if (id == NULL || !id_valid(id))
		return Q_NOTFOUND;
	e = store_txn(s, tx_def_delete, &op);
	definition_free(&d);
	return e;
}

struct def_listing {
	struct stx		*tx;
	const struct caller	*who;
	definition_cb		 cb;
	void			*arg;
	size_t			 plen;
};

static int
scan_def_all(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	struct def_listing	*l = arg;
	struct definition	 d;
	int			 rc;

	(void)k;
	(void)kl;
	if (def_decode(v, vl, &d) != Q_OK)
		return Q_STORE;
	rc = caller_sees_tenant(l->who, d.tenant) ? l->cb(&d, l->arg) :
	    VISIT_NEXT;
	definition_free(&d);
	return rc;
}

static int
scan_def_tenant(const void *k, size_t kl, const void *v, size_t vl,
    void *arg)
{
	struct def_listing	*l = arg;
	struct buf		 rec = BUF_INIT;
	enum qerr		 e;
	int			 rc;

	(void)v;
	(void)vl;
	if (kl != l->plen + ID_LEN)
		return Q_STORE;
	e = stx_get(l->tx, T_DEFS, (const char *)k + l->plen, ID_LEN, &rec);
	rc = e == Q_OK ? scan_def_all(NULL, 0, rec.data, rec.len, l) : (int)e;
	buf_free(&rec);
	return rc;
}

struct def_list_args {
	const struct caller	*who;
	definition_cb		 cb;
	void			*arg;
};

static enum qerr
tx_def_list(struct stx *tx, void *arg)
{
	struct def_list_args	*a = arg;
	struct def_listing	 l = { tx, a->who, a->cb, a->arg, 0 };
	struct buf		 p = BUF_INIT;
	enum qerr		 e;

	if (a->who->tenant[0] == '\0')	/* the system, of every tenant */
		return stx_scan(tx, T_DEFS, "", 0, NULL, 0, scan_def_all, &l);
	buf_adds(&p, a->who->tenant);
	buf_addc(&p, '\0');
	l.plen = p.len;
	e = stx_scan(tx, T_DEFS_BY_TENANT, p.data, p.len, NULL, 0,
	    scan_def_tenant, &l);
	buf_free(&p);
	return e;
}

/* The definitions who may see (see model.h). */
enum qerr
definition_list(struct store *s, const struct caller *who, definition_cb cb,
    void *arg)
{
	struct def_list_args a = { who, cb, arg };

	if (who->kind == CALLER_NONE)
		return Q_OK;
	return store_txn(s, tx_def_list, &a);
}

/* The format of d called name (see model.h). */
int
definition_format(const struct definition *d, const char *name,
    enum fmt *out)
{
	enum fmt	f;
	size_t		i;

	if (name == NULL) {
		*out = d->formats[0];
		return 0;
	}
	if (fmt_parse(name, &f) != 0)
		return -1;
	for (i = 0; i < d->nformats; i++)
		if (d->formats[i] == f) {
			*out = f;
			return 0;
		}
	return -1;
}
