/*
 * The export pipeline, stage 2: a definition's filters, compiled against
 * a source's columns with the job's parameters, select rows by typed
 * comparison (SPEC section 3).
 */
#include <stdlib.h>
#include <string.h>

#include "quarry/export.h"
#include "quarry/jsonutil.h"
#include "quarry/params.h"

void
filters_free(struct filter_set *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		free(fs->f[i].value);
	free(fs->f);
	fs->f = NULL;
	fs->n = 0;
}

/* Compiles d's filters against a source's columns (see export.h). */
enum qerr
filters_compile(const struct definition *d, char *const *columns,
    size_t ncolumns, const char *params, struct filter_set *out, char *err,
    size_t errlen)
{
	struct json_object	*o = NULL, *v;
	size_t			 i, c, p;
	enum qerr		 e;

	memset(out, 0, sizeof(*out));
	if (d->nfilters == 0)
		return Q_OK;
	if ((e = json_parse_strict(params, strlen(params), &o, err,
	    errlen)) != Q_OK)
		return e;
	if ((out->f = calloc(d->nfilters, sizeof(*out->f))) == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	for (i = 0; i < d->nfilters; i++) {
		v = json_object_object_get(o, d->filters[i].param);
		if (v == NULL)
			continue;
		for (c = 0; c < ncolumns; c++)
			if (strcmp(columns[c], d->filters[i].column) == 0)
				break;
		if (c == ncolumns) {
			snprintf(err, errlen, "filter column '%s' is not a "
			    "column of the source", d->filters[i].column);
			e = Q_INVALID;
			goto out;
		}
		for (p = 0; strcmp(d->params[p].name, d->filters[i].param);
		    p++)
			;
		out->f[out->n].col = c;
		out->f[out->n].op = d->filters[i].op;
		out->f[out->n].type = d->params[p].type;
		if ((out->f[out->n].value = strdup(json_object_get_string(v))) ==
		    NULL) {
			e = Q_NOMEM;
			goto out;
		}
		out->n++;
	}
	e = Q_OK;
out:
	json_object_put(o);
	if (e != Q_OK)
		filters_free(out);
	return e;
}

/* True if the row passes every compiled filter. */
int
filters_match(const struct filter_set *fs, const char *const *fields,
    const size_t *lens)
{
	const struct compiled_filter	*f;
	size_t				 i, vl;
	int				 c;

	for (i = 0; i < fs->n; i++) {
		f = &fs->f[i];
		if (f->op == OP_PREFIX) {
			vl = strlen(f->value);
			if (lens[f->col] < vl ||
			    memcmp(fields[f->col], f->value, vl) != 0)
				return 0;
			continue;
		}
		c = param_cmp(f->type, fields[f->col], lens[f->col], f->value);
		if (c == 2)
			return 0;
		switch (f->op) {
		case OP_EQ: if (c != 0) return 0; break;
		case OP_NE: if (c == 0) return 0; break;
		case OP_LT: if (c >= 0) return 0; break;
		case OP_LE: if (c > 0) return 0; break;
		case OP_GT: if (c <= 0) return 0; break;
		case OP_GE: if (c < 0) return 0; break;
		default: break;
		}
	}
	return 1;
}
