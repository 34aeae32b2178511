/*
 * The dataset source: rows of an imported dataset, filtered, projected on
 * the definition's columns, written by a writer.
 */
#include <stdlib.h>
#include <string.h>

#include "quarry/build.h"
#include "quarry/format.h"
#include "quarry/params.h"
#include "quarry/source.h"

struct run {
	struct writer		*w;
	struct filter_set	*fs;
	size_t			*pick;		/* source index per output col */
	size_t			 nout;
	const char		**out;
	size_t			*outlen;
	progress_fn		 pf;
	void			*parg;
	int			 stopped;
};

static int
on_row(const char *const *fields, const size_t *lens, size_t n, void *arg)
{
	struct run	*r = arg;
	size_t		 i;

	(void)n;
	if (!filters_match(r->fs, fields, lens))
		return 0;
	for (i = 0; i < r->nout; i++) {
		r->out[i] = fields[r->pick[i]];
		r->outlen[i] = lens[r->pick[i]];
	}
	if (writer_row(r->w, r->out, r->outlen) != 0)
		return Q_IO;
	if ((r->w->rows & 4095) == 0 && r->pf != NULL &&
	    r->pf(r->parg, r->w->rows, r->w->bytes) != 0) {
		r->stopped = 1;
		return 1;
	}
	return 0;
}

/* Writes the rows of d's dataset through w (see source.h). */
enum qerr
source_dataset(struct store *s, const struct definition *d,
    const char *params, struct writer *w, enum fmt f, int fd, progress_fn pf,
    void *parg, struct build_result *res)
{
	struct dataset		 ds;
	struct filter_set	 fs;
	struct run		 r;
	char			**cols;
	size_t			 i, j;
	enum qerr		 e;

	memset(&r, 0, sizeof(r));
	memset(&fs, 0, sizeof(fs));
	if ((e = dataset_get(s, d->tenant, d->dataset, &ds)) != Q_OK) {
		snprintf(res->detail, sizeof(res->detail), e == Q_NOTFOUND ?
		    "dataset '%s' does not exist" : "reading dataset '%s' "
		    "failed", d->dataset);
		return e == Q_NOTFOUND ? Q_INVALID : e;
	}
	r.nout = d->ncolumns ? d->ncolumns : ds.ncolumns;
	cols = d->ncolumns ? d->columns : ds.columns;
	r.pick = calloc(r.nout ? r.nout : 1, sizeof(size_t));
	r.out = calloc(r.nout ? r.nout : 1, sizeof(char *));
	r.outlen = calloc(r.nout ? r.nout : 1, sizeof(size_t));
	if (r.pick == NULL || r.out == NULL || r.outlen == NULL) {
		e = Q_NOMEM;
		goto out;
	}
	for (i = 0; i < r.nout; i++) {
		for (j = 0; j < ds.ncolumns; j++)
			if (strcmp(cols[i], ds.columns[j]) == 0)
				break;
		if (j == ds.ncolumns) {
			snprintf(res->detail, sizeof(res->detail), "column "
			    "'%s' is not in dataset '%s'", cols[i], d->dataset);
			e = Q_INVALID;
			goto out;
		}
		r.pick[i] = j;
	}
	if ((e = filters_compile(d, ds.columns, ds.ncolumns, params, &fs,
	    res->detail, sizeof(res->detail))) != Q_OK)
		goto out;
	if (writer_begin(w, f, fd, cols, r.nout, d->formula_guard) != 0) {
		e = Q_IO;
		goto out;
	}
	r.w = w;
	r.fs = &fs;
	r.pf = pf;
	r.parg = parg;
	e = dataset_scan(s, &ds, on_row, &r);
	if (e == Q_OK && r.stopped)
		e = Q_STATE;
	else if (e == Q_OK && writer_end(w) != 0)
		e = Q_IO;
	else if (e == Q_RETRY) {
		snprintf(res->detail, sizeof(res->detail), "dataset '%s' "
		    "changed during the export", d->dataset);
		res->retry = 1;
	}
out:
	filters_free(&fs);
	free(r.pick);
	free(r.out);
	free(r.outlen);
	dataset_free(&ds);
	return e;
}
