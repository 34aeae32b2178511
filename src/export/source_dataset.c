/*
 * The export pipeline, stage 1: the dataset source: rows of an imported dataset, through the row
 * pipeline (filters, column selection, writer, parts, progress).
 */
#include <stdio.h>
#include <string.h>

#include "quarry/export.h"
#include "quarry/export.h"

/* Writes the rows of d's dataset through p (see export.h). */
enum qerr
source_dataset(struct store *s, const struct definition *d,
    const char *params, struct rowpipe *p, struct build_result *res)
{
	struct dataset	 ds;
	char		 what[64];
	enum qerr	 e;

	if ((e = dataset_get(s, d->tenant, d->dataset, &ds)) != Q_OK) {
		snprintf(res->detail, sizeof(res->detail), e == Q_NOTFOUND ?
		    "dataset '%s' does not exist" : "reading dataset '%s' "
		    "failed", d->dataset);
		return e == Q_NOTFOUND ? Q_INVALID : e;
	}
	snprintf(what, sizeof(what), "dataset '%s'", d->dataset);
	if ((e = rowpipe_begin(p, d, ds.columns, ds.ncolumns, params, what,
	    res->detail, sizeof(res->detail))) != Q_OK)
		goto out;
	p->total = ds.nrows;		/* progress can be a share of it */
	e = dataset_scan(s, &ds, rowpipe_row, p);
	if (p->stopped)
		e = Q_CANCELLED;
	else if (e == Q_OK)
		e = rowpipe_end(p);
	else if (e == Q_RETRY) {
		snprintf(res->detail, sizeof(res->detail), "dataset '%s' "
		    "changed during the export", d->dataset);
		res->retry = 1;
	}
out:
	dataset_free(&ds);
	return e;
}
